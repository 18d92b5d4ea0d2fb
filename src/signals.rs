//! The signals that end a run: SIGTERM, SIGHUP and SIGINT (Ctrl-C outside the console's raw
//! mode). Each ends a run like `q` does: the write in flight is waited for and audited, the
//! lock released, the terminal restored.

use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{Signal, SignalKind, signal};

static STOP_ASKED: AtomicBool = AtomicBool::new(false);

/// Whether a signal asked this process to stop: long waits (`deploy --wait`) end early.
pub fn stop_asked() -> bool {
    STOP_ASKED.load(Ordering::SeqCst)
}

/// Completes on SIGTERM, SIGHUP or SIGINT. Where a signal cannot be listened for, it never
/// completes (and says so in the log).
pub async fn termination() {
    let listen = |kind: SignalKind, name: &str| {
        signal(kind)
            .map_err(|error| tracing::warn!("cannot listen for {name}: {error}"))
            .ok()
    };
    let term = listen(SignalKind::terminate(), "SIGTERM");
    let hangup = listen(SignalKind::hangup(), "SIGHUP");
    let interrupt = listen(SignalKind::interrupt(), "SIGINT");
    let next = |signal: Option<Signal>| {
        Box::pin(async move {
            match signal {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => futures::future::pending().await,
            }
        })
    };
    // Whichever comes first.
    futures::future::select_all([next(term), next(hangup), next(interrupt)]).await;
    STOP_ASKED.store(true, Ordering::SeqCst);
    tracing::info!("stopping on a signal");
}

/// SIGTSTP as a stream of requests to suspend; `None` where it cannot be listened for (then
/// it keeps its usual meaning: the process stops with the terminal as it is).
pub fn suspensions() -> Option<Signal> {
    signal(SignalKind::from_raw(rustix::process::Signal::TSTP.as_raw()))
        .map_err(|error| tracing::warn!("cannot listen for SIGTSTP: {error}"))
        .ok()
}
