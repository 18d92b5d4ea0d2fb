//! The terminal host: the console in the real terminal, on any platform. Raw mode and the
//! alternate screen are always given back.

use std::sync::Arc;

use anyhow::Context;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, EventStream};
use ratatui::DefaultTerminal;

use crate::app::{AppState, Settings};
use crate::audit::Auditor;
use crate::platform::Platform;
use crate::runtime::{self, RuntimeConfig};
use crate::shift::plan::Plan;

/// Restores the terminal when dropped: on quit, on error, and while a panic unwinds.
/// (`ratatui::try_init` also installs a panic hook that restores it before the message prints.)
pub struct TerminalGuard {
    pub terminal: DefaultTerminal,
}

impl TerminalGuard {
    pub fn enter() -> std::io::Result<Self> {
        let terminal = ratatui::try_init()?;
        // A paste arrives as one event, never as typed keys: pasted "60⏎⏎y" must not stage,
        // apply and confirm.
        crossterm::execute!(std::io::stdout(), EnableBracketedPaste)?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = crossterm::execute!(std::io::stdout(), DisableBracketedPaste);
        ratatui::restore();
    }
}

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
        crate::signals::termination(),
    )
    .await;
    drop(guard);
    if let Some(record) = audit.and_then(|a| a.write_decision_record(platform.now())) {
        tracing::info!("decision record: {}", record.display());
        eprintln!("cutover: decision record written to {}", record.display());
    }
    result
}
