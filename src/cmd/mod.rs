//! The shell's commands, one file each: what the flags ask for, on AWS or on the simulator.
//! `headless.rs` holds what every headless command shares; `aws.rs` a command's footing on
//! AWS.

pub mod adopt;
pub mod aws;
pub mod console;
pub mod demo;
pub mod deploy;
pub mod fleet;
pub mod gate;
pub mod headless;
pub mod init;
pub mod init_fleet;
pub mod init_native;
pub mod plan;
pub mod rollback;
pub mod scale;
pub mod shift;
pub mod status;

use crate::cli::{Cli, Commands, DemoCommand, PlanCommand, TrafficCommand};
use crate::domain::{Color, Failure};
use crate::platform::Platform;
pub use headless::{Headless, Outcome, ShiftTarget};

/// The command the flags name, as the platform answers it.
pub async fn run(cli: &Cli) -> Result<Option<Outcome>, Failure> {
    let global = &cli.global;
    match &cli.command {
        Some(Commands::Demo(args)) => match &args.command {
            None => demo::run(global, args).await.map(|()| ended_by()),
            Some(DemoCommand::Fleet(fleet_args)) => fleet::demo(global, args, fleet_args)
                .await
                .map(|()| ended_by()),
            Some(DemoCommand::Traffic(command)) => {
                let headless = demo::headless(global, args).await?;
                on(headless, command).await.map(Some)
            }
        },
        Some(Commands::Fleet(fleet_args)) => {
            fleet::aws(global, fleet_args).await.map(|()| ended_by())
        }
        Some(Commands::Completions { shell }) => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut command, "cutover", &mut out);
            print!("{}", String::from_utf8_lossy(&out));
            Ok(None)
        }
        Some(Commands::Man) => {
            print!("{}", man_page()?);
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
/// The AWS settings the global flags give (`--profile`, `--region`, `--endpoint-url`), which
/// override a config file's `[aws]`.
pub(crate) fn aws_overrides(global: &crate::cli::GlobalArgs) -> crate::config::AwsSettings {
    crate::config::AwsSettings {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    }
}

pub fn runs_a_loop(cli: &Cli) -> bool {
    let plan_run = |command: &TrafficCommand| matches!(command, TrafficCommand::Plan { .. });
    let demo = |command: &DemoCommand| match command {
        DemoCommand::Traffic(command) => plan_run(command),
        DemoCommand::Fleet(args) => !args.once,
    };
    match &cli.command {
        None => true,
        Some(Commands::Fleet(args)) => !args.once,
        Some(Commands::Demo(args)) => args.command.as_ref().is_none_or(demo),
        Some(Commands::Traffic(command)) => plan_run(command),
        Some(_) => false,
    }
}

pub fn prints_progress(cli: &Cli) -> bool {
    let plan_run = |command: &TrafficCommand| matches!(command, TrafficCommand::Plan { .. });
    match &cli.command {
        Some(Commands::Demo(args)) => args
            .command
            .as_ref()
            .is_some_and(|c| matches!(c, DemoCommand::Traffic(c) if plan_run(c))),
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
        TrafficCommand::Continue => gate::continue_gate(headless).await,
        // A service that deploys itself rolls back through ECS.
        TrafficCommand::Rollback { to: _ } if headless.observation.driver.native().is_some() => {
            let native = headless.observation.driver.native().cloned();
            match native {
                Some(native) => gate::rollback(headless, &native).await,
                None => rollback::rollback(headless, None).await,
            }
        }
        TrafficCommand::Rollback { to } => rollback::rollback(headless, *to).await,
        TrafficCommand::Plan {
            command: PlanCommand::Run { max_hold },
        } => plan::plan_run(headless, *max_hold).await,
    }
}

/// One man page for the whole tool: clap's sections, the commands listed here (there are no
/// cutover-COMMAND(1) pages to point to), and where cutover reads and writes.
fn man_page() -> Result<String, Failure> {
    let command = <Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    let failed = |e: std::io::Error| Failure::Failed(anyhow::anyhow!("writing the man page: {e}"));
    man.render_title(&mut out).map_err(failed)?;
    man.render_name_section(&mut out).map_err(failed)?;
    man.render_synopsis_section(&mut out).map_err(failed)?;
    man.render_description_section(&mut out).map_err(failed)?;
    man.render_options_section(&mut out).map_err(failed)?;
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push_str(".SH COMMANDS\n");
    for sub in command.get_subcommands() {
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        text.push_str(&format!(
            ".TP\n\\fBcutover {}\\fR\n{}\n",
            sub.get_name(),
            roff_escape(&about)
        ));
    }
    text.push_str(concat!(
        ".PP\n`cutover COMMAND --help` shows a command's flags and examples.\n",
        ".SH FILES\n",
        ".TP\n\\fB./cutover.toml\\fR, \\fB$XDG_CONFIG_HOME/cutover/cutover.toml\\fR\n",
        "The config file (also \\fB--config\\fR, \\fB$CUTOVER_CONFIG\\fR); ",
        "\\fBcutover init\\fR writes one.\n",
        ".TP\n\\fB$XDG_STATE_HOME/cutover/audit.jsonl\\fR\n",
        "Every write attempt and its outcome, one JSON line each (\\fB--audit-log\\fR); ",
        "decision records are written beside it.\n",
        ".TP\n\\fB$XDG_STATE_HOME/cutover/cutover.log\\fR\n",
        "The log (\\fB--log-file\\fR).\n",
        ".SH ENVIRONMENT\n",
        ".TP\n\\fBCUTOVER_CONFIG\\fR\nThe config file, when \\fB--config\\fR is not given.\n",
        ".TP\n\\fBAWS_PROFILE\\fR, \\fBAWS_REGION\\fR, \\fBAWS_ACCESS_KEY_ID\\fR, ",
        "\\fBAWS_SECRET_ACCESS_KEY\\fR, \\fBAWS_SESSION_TOKEN\\fR\n",
        "The AWS credential chain and region, as every AWS tool reads them ",
        "(\\fB--profile\\fR and \\fB--region\\fR win).\n",
        ".TP\n\\fBXDG_CONFIG_HOME\\fR, \\fBXDG_STATE_HOME\\fR\n",
        "Where the config is looked for and the audit log and log go ",
        "(default ~/.config and ~/.local/state).\n",
        ".TP\n\\fBCUTOVER_LOG\\fR\nThe log's level and filter (default info; e.g. debug).\n",
    ));
    let mut rest = Vec::new();
    man.render_extra_section(&mut rest).map_err(failed)?;
    man.render_version_section(&mut rest).map_err(failed)?;
    text.push_str(&String::from_utf8_lossy(&rest));
    Ok(text)
}

/// Text safe in a roff paragraph: a leading `.` or `'` would be read as a request.
fn roff_escape(text: &str) -> String {
    let text = text.replace('\\', "\\\\");
    match text.chars().next() {
        Some('.' | '\'') => format!("\\&{text}"),
        _ => text,
    }
}
