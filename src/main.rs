use std::process::ExitCode;

use clap::Parser;

use cutover::cli::Cli;
use cutover::cmd::{self, Outcome};
use cutover::domain::Failure;
use cutover::logging;
use cutover::runtime::{self, QUIT_WAIT};

/// Exit codes (also in `--help`): 0 done; 1 the work failed (AWS, terminal); 2 bad input
/// (flags, config); 3..5 and 130 from headless writes, see `Outcome::exit_code`.
const EXIT_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_path = cli
        .global
        .log_file
        .clone()
        .unwrap_or_else(logging::default_log_path);
    // `plan run` prints its progress as it goes; everything else keeps stdout for its result.
    let progress = cmd::prints_progress(&cli);
    let _log_guard = match logging::init(&log_path, progress) {
        Ok(guard) => guard,
        Err(error) => {
            cutover::logging::say(&format!(
                "cutover: {error:#}\n  choose another place with --log-file PATH"
            ));
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            cutover::logging::say(&format!("cutover: starting the async runtime: {error}"));
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let result: Result<Option<Outcome>, Failure> = runtime.block_on(async {
        let command = cmd::run(&cli);
        // The console and plan run take signals in their own loop; a headless command that is
        // sent one finishes the call in flight (its answer audited, the lock released), then
        // stops with 130.
        if cmd::runs_a_loop(&cli) {
            return command.await;
        }
        let waited = runtime::until_signalled(command, QUIT_WAIT, || {
            cutover::logging::say(&format!(
                "cutover: stopping: waiting up to {}s for the call in flight",
                QUIT_WAIT.as_secs()
            ));
        })
        .await;
        match waited {
            Ok(result) if !cutover::signals::stop_asked() => result,
            finished => {
                let how = match finished {
                    Ok(Ok(Some(outcome))) => outcome.message().to_string(),
                    Ok(Ok(None)) => "done".to_string(),
                    Ok(Err(failure)) => format!("{:#}", failure.error()),
                    Err(()) => "no answer in time: check the weights".to_string(),
                };
                Ok(Some(Outcome::Interrupted(format!(
                    "stopped by a signal: {how}"
                ))))
            }
        }
    });
    finish(result, &log_path)
}

/// The one place a command's end becomes an exit code: an outcome says its own, a failure's
/// kind is in its type.
fn finish(result: Result<Option<Outcome>, Failure>, log_path: &std::path::Path) -> ExitCode {
    match result {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(outcome)) => {
            tracing::info!(code = outcome.exit_code(), "{}", outcome.message());
            if outcome.exit_code() == 0 {
                cutover::logging::say_out(outcome.message());
            } else {
                cutover::logging::say(&format!("cutover: {}", outcome.message()));
            }
            ExitCode::from(outcome.exit_code())
        }
        Err(failure) => {
            let error = failure.error();
            tracing::error!("{error:#}");
            cutover::logging::say(&format!("cutover: {error:#}"));
            if let Failure::Failed(_) = failure {
                cutover::logging::say(&format!("  details in {}", log_path.display()));
            }
            ExitCode::from(failure.exit_code())
        }
    }
}
