//! Runs the console in the real terminal on any platform.

use std::sync::Arc;

use anyhow::Context;
use crossterm::event::EventStream;

use crate::app::{AppState, Settings};
use crate::audit::Auditor;
use crate::platform::Platform;
use crate::runtime::{self, RuntimeConfig};
use crate::shift::plan::Plan;
use crate::terminal::TerminalGuard;

/// Takes over the terminal, runs until the operator quits, and always gives the terminal back.
pub async fn run<P: Platform>(
    platform: Arc<P>,
    settings: Settings,
    config: RuntimeConfig,
    plan: Option<Plan>,
    mut audit: Option<Auditor>,
) -> anyhow::Result<()> {
    let mut state = AppState::new(platform.source(), settings, platform.now()).with_plan(plan);
    let mut guard = TerminalGuard::enter().context("setting up the terminal")?;
    let events = EventStream::new();
    // A signal ends the console like `q`: the write in flight is waited for and audited.
    let result = runtime::run_until(
        Arc::clone(&platform),
        &mut guard.terminal,
        events,
        &mut state,
        config,
        audit.as_mut(),
        termination(),
    )
    .await;
    drop(guard);
    if let Some(record) = audit.and_then(|a| a.write_decision_record(platform.now())) {
        tracing::info!("decision record: {}", record.display());
        eprintln!("cutover: decision record written to {}", record.display());
    }
    result
}

/// Completes on SIGTERM, SIGHUP or SIGINT, which end a run like `q` does, so the write in
/// flight is audited and the terminal restored. Where a signal cannot be listened for, it
/// never completes (and says so in the log).
pub async fn termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind)
            .map_err(|error| tracing::warn!("cannot listen for {name}: {error}"))
            .ok()
    };
    let mut term = listen(SignalKind::terminate(), "SIGTERM");
    let mut hangup = listen(SignalKind::hangup(), "SIGHUP");
    let mut interrupt = listen(SignalKind::interrupt(), "SIGINT");
    async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
        match signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => futures::future::pending().await,
        }
    }
    tokio::select! {
        () = next(&mut term) => {}
        () = next(&mut hangup) => {}
        () = next(&mut interrupt) => {}
    }
    tracing::info!("terminated by a signal");
}
