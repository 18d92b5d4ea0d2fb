//! The shell's commands, one file each: what the flags ask for, on AWS or on the simulator.
//! `headless.rs` holds what every headless command shares; `aws.rs` a command's footing on
//! AWS.

pub mod adopt;
pub mod aws;
pub mod console;
pub mod demo;
pub mod deploy;
pub mod headless;
pub mod init;
pub mod plan;
pub mod rollback;
pub mod scale;
pub mod shift;
pub mod status;

use crate::cli::{Cli, Commands, PlanCommand, TrafficCommand};
use crate::domain::{Color, Failure};
use crate::platform::Platform;
pub use headless::{Headless, Outcome, ShiftTarget};

/// The command the flags name, as the platform answers it.
pub async fn run(cli: &Cli) -> Result<Option<Outcome>, Failure> {
    let global = &cli.global;
    match &cli.command {
        Some(Commands::Demo(args)) => match &args.command {
            None => demo::run(global, args).await.map(|()| ended_by()),
            Some(command) => {
                let headless = demo::headless(global, args).await?;
                on(headless, command).await.map(Some)
            }
        },
        Some(Commands::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut command, "cutover", &mut out);
            print!("{}", String::from_utf8_lossy(&out));
            Ok(None)
        }
        Some(Commands::Man) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| Failure::Failed(anyhow::anyhow!("writing the man page: {e}")))?;
            print!("{}", String::from_utf8_lossy(&out));
            Ok(None)
        }
        Some(Commands::Init(args)) => {
            print!("{}", init::run(global, args).await?);
            Ok(None)
        }
        Some(Commands::Status { json }) => {
            let text = status::run(global, *json).await?;
            print!("{text}");
            Ok(None)
        }
        Some(Commands::Traffic(command)) => {
            let headless = aws::headless(global).await?;
            on(headless, command).await.map(Some)
        }
        Some(Commands::ScaleIdle { to }) => scale::scale_idle(global, *to).await.map(Some),
        Some(Commands::Adopt {
            wait,
            timeout,
            force,
        }) => adopt::adopt(
            global,
            wait.then(|| std::time::Duration::from_secs(*timeout)),
            *force,
        )
        .await
        .map(Some),
        Some(Commands::Deploy {
            image,
            container,
            wait,
            timeout,
        }) => deploy::deploy(
            global,
            image,
            container.as_deref(),
            wait.then(|| std::time::Duration::from_secs(*timeout)),
        )
        .await
        .map(Some),
        None => console::run(global, cli.record.as_deref())
            .await
            .map(|()| ended_by()),
    }
}

/// How a console ended: `q` or Ctrl-C typed in it is the operator's own quit (0); a signal
/// from outside (SIGTERM, SIGHUP, `kill -INT`) is a stop (130), as for every command.
fn ended_by() -> Option<Outcome> {
    crate::signals::stop_asked()
        .then(|| Outcome::Interrupted("stopped by a signal; the terminal is restored".into()))
}

/// The commands that take signals in their own loop (the console, `plan run`): a signal ends
/// them like `q`. `plan run` also prints its progress as it goes.
pub fn runs_a_loop(cli: &Cli) -> bool {
    let plan_run = |command: &TrafficCommand| matches!(command, TrafficCommand::Plan { .. });
    match &cli.command {
        None => true,
        Some(Commands::Demo(args)) => args.command.as_ref().is_none_or(plan_run),
        Some(Commands::Traffic(command)) => plan_run(command),
        Some(_) => false,
    }
}

pub fn prints_progress(cli: &Cli) -> bool {
    let plan_run = |command: &TrafficCommand| matches!(command, TrafficCommand::Plan { .. });
    match &cli.command {
        Some(Commands::Demo(args)) => args.command.as_ref().is_some_and(plan_run),
        Some(Commands::Traffic(command)) => plan_run(command),
        _ => false,
    }
}

/// Runs one traffic command on `headless`'s platform, or on a read-only view of it.
async fn on<P: Platform>(
    mut headless: Headless<P>,
    command: &TrafficCommand,
) -> Result<Outcome, Failure> {
    if headless.settings.read_only {
        traffic(&mut headless.read_only(), command).await
    } else {
        traffic(&mut headless, command).await
    }
}

/// Runs one traffic command, on whatever platform `headless` has.
pub async fn traffic<P: Platform>(
    headless: &mut Headless<P>,
    command: &TrafficCommand,
) -> Result<Outcome, Failure> {
    match command {
        TrafficCommand::Shift { green, blue, force } => {
            let target = match (green, blue) {
                (Some(green), _) => ShiftTarget::Share(Color::Green, *green),
                (None, Some(blue)) => ShiftTarget::Share(Color::Blue, *blue),
                (None, None) => {
                    let usage = anyhow::anyhow!("shift needs --green PCT or --blue PCT");
                    return Err(Failure::BadInput(usage));
                }
            };
            shift::shift(headless, target, *force).await
        }
        TrafficCommand::Promote { force } => {
            shift::shift(headless, ShiftTarget::Promote, *force).await
        }
        TrafficCommand::Rollback { to } => rollback::rollback(headless, *to).await,
        TrafficCommand::Plan {
            command: PlanCommand::Run { max_hold },
        } => plan::plan_run(headless, *max_hold).await,
    }
}
