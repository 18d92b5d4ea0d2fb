use std::process::ExitCode;

use clap::Parser;

use cutover::cli::{Cli, Commands};
use cutover::config::ConfigError;
use cutover::logging;

/// Exit codes: 0 done; 1 the work failed (AWS, terminal); 2 bad input (flags, config).
const EXIT_FAILED: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log_path = cli
        .global
        .log_file
        .clone()
        .unwrap_or_else(logging::default_log_path);
    let _log_guard = match logging::init(&log_path) {
        Ok(guard) => guard,
        Err(error) => {
            eprintln!("cutover: {error:#}\n  choose another place with --log-file PATH");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if matches!(
        cli.command,
        Some(
            Commands::Shift { .. }
                | Commands::Rollback
                | Commands::Promote
                | Commands::Deploy { .. }
        )
    ) {
        eprintln!(
            "cutover: headless writes (shift, rollback, promote, deploy) are not available in this \
             version yet.\n  Use the console: cutover --config cutover.toml"
        );
        return ExitCode::from(EXIT_BAD_INPUT);
    }

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cutover: starting the async runtime: {error}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let global = &cli.global;
    let result = runtime.block_on(async {
        match &cli.command {
            Some(Commands::Demo(args)) => cutover::demo::run(global, args).await,
            Some(Commands::Status { json }) => {
                let text = cutover::aws_commands::status(global, *json).await?;
                print!("{text}");
                Ok(())
            }
            _ => cutover::aws_commands::console(global).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("cutover: {error:#}");
            if error.downcast_ref::<ConfigError>().is_some() {
                return ExitCode::from(EXIT_BAD_INPUT);
            }
            eprintln!("  details in {}", log_path.display());
            ExitCode::from(EXIT_FAILED)
        }
    }
}
