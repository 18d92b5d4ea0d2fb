use std::process::ExitCode;

use clap::Parser;

use cutover::cli::{Cli, Commands};
use cutover::logging;

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
            return ExitCode::from(2);
        }
    };

    let command = match cli.command {
        Some(Commands::Demo(args)) => args,
        Some(Commands::Status { .. })
        | Some(Commands::Shift { .. })
        | Some(Commands::Rollback)
        | Some(Commands::Promote)
        | Some(Commands::Deploy { .. })
        | None => {
            eprintln!(
                "cutover: working on AWS is not available in this version yet.\n  \
                 Try the console on the simulator: cutover demo"
            );
            return ExitCode::from(2);
        }
    };

    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cutover: starting the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cutover::demo::run(&cli.global, &command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("cutover: {error:#}\n  details in {}", log_path.display());
            ExitCode::FAILURE
        }
    }
}
