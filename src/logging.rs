//! The log file: everything the event log shows, and the details it leaves out.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tracing_appender::non_blocking::WorkerGuard;

/// `$XDG_STATE_HOME/cutover/cutover.log`, or beside the temp dir where there is no state dir.
pub fn default_log_path() -> PathBuf {
    dirs::state_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("cutover")
        .join("cutover.log")
}

/// Starts appending to `path`; keep the guard alive until exit so the last lines are written.
/// With `progress`, the event log's lines (what the console would show) also go to stdout.
pub fn init(path: &Path, progress: bool) -> anyhow::Result<WorkerGuard> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating the log directory {}", dir.display()))?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening the log file {}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("CUTOVER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let to_file = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(false)
        .with_filter(filter);
    let to_stdout = progress.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stdout)
            .with_ansi(false)
            .with_target(false)
            .with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("cutover::app::event_log", tracing::Level::INFO),
            )
    });
    tracing_subscriber::registry()
        .with(to_file)
        .with(to_stdout)
        .try_init()
        .map_err(|e| anyhow::anyhow!("starting the log: {e}"))?;
    Ok(guard)
}

/// One line to standard error, for the operator, that never fails the caller: a terminal
/// that went away (an SSH session dropped) makes `eprintln!` panic, and the cleanup after a
/// console — the write in flight, the lock, the decision record — must run all the same.
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The same for a command's result on standard output.
pub fn say_out(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}
