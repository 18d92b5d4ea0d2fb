//! Command-line flags, parsed by clap into plain values.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::domain::{Color, parse_percent};
use crate::platform::sim::Scenario;

#[derive(Debug, Parser)]
#[command(
    name = "cutover",
    version,
    about = "A terminal console for blue/green deployments on Amazon ECS",
    long_about = "cutover shows the blue and the green ECS service side by side and moves \
production traffic between them by changing the weights of an ALB listener's forward action.\n\n\
Try it without AWS: `cutover demo`.",
    after_help = "Keys in the console: →/l ←/h stage 10 points to green / blue, % type the \
candidate's share, Enter apply, Esc drop, R roll back to the live side, P promote the candidate, \
a/Space/n plan, D deploy to the idle side, S scale the idle side down, A adopt, ? help, q quit.\n\n\
Exit codes: 0 done; 1 failed (AWS error, unreachable, estate not as configured); 2 bad input \
(flags, config); 3 refused by the guard (worse, stale, no evidence, an unhealthy candidate, a jump over \
the max step without --force, read-only, another owner); 4 the weights changed outside cutover \
(nothing written), another operator holds the lock, or the plan was paused; 5 the plan was rolled back by the guard; 6 a deploy was not ready in time; 7 ECS failed the \
rollout (circuit breaker); 8 a write's outcome is unknown (its answer was lost and nothing could \
be read back); 9 plan run held longer than --max-hold; 130 stopped by Ctrl-C, SIGTERM or SIGHUP (a write in flight is waited \
for and audited; the weights stay at the last applied step)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Record the console's screen to FILE as an asciicast v2 file (`asciinema play FILE`
    /// replays it); the decision record names it
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Commands>,
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Config file naming the listener or rule and both services (default: $CUTOVER_CONFIG,
    /// else ./cutover.toml, else $XDG_CONFIG_HOME/cutover/cutover.toml)
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// AWS profile (default: the standard credential chain)
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region, e.g. eu-west-1
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint instead (LocalStack, moto)
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Watch only: never change anything in AWS
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Take over another operator's live lock on the listener or rule, on purpose
    #[arg(long, global = true)]
    pub break_lock: bool,
    /// Seconds between reads of ECS and the load balancer
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 5,
          value_parser = refresh_seconds, allow_negative_numbers = true)]
    pub refresh: u64,
    /// Where every write attempt is recorded, one JSON line each (default:
    /// $XDG_STATE_HOME/cutover/audit.jsonl)
    #[arg(long, global = true, value_name = "PATH")]
    pub audit_log: Option<PathBuf>,
    /// Where the log goes (default: $XDG_STATE_HOME/cutover/cutover.log)
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Write cutover.toml from what AWS knows: both services, their target groups, and the
    /// listener or rule that forwards to both
    #[command(after_help = "Examples:\n  \
        cutover init --blue shop/shop-blue --green shop/shop-green\n  \
        cutover init --blue shop/shop-blue --green shop/shop-green --rule ARN --force\n  \
        cutover --profile prod --region eu-west-1 init --blue arn:aws:ecs:eu-west-1:123456789012:service/shop/shop-blue --green shop/shop-green\n\n\
        The file goes to --config PATH (default ./cutover.toml); `cutover status` reads it.")]
    Init(InitArgs),
    /// The console on the embedded simulator: no AWS account needed
    #[command(after_help = "Examples:\n  \
        cutover demo\n  \
        cutover demo --scenario bad-green --speed 10\n  \
        cutover demo plan run --scenario bad-green --speed 100   # exits 5: the guard rolled back")]
    Demo(DemoArgs),
    /// Every pair and ECS-native service of a fleet file in one list, on one API budget
    #[command(after_help = "Examples:\n  \
        cutover fleet --config fleet.toml\n  \
        cutover fleet --once            # the table once, for scripts\n  \
        cutover fleet --once --json")]
    Fleet(FleetArgs),
    /// Print one snapshot of both sides
    #[command(after_help = "Examples:\n  \
        cutover status\n  \
        cutover status --json | jq .weights")]
    Status {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Traffic(TrafficCommand),
    /// Set the idle side's desired count (never a side that carries traffic); keeps the service
    #[command(after_help = "Example:\n  cutover scale-idle --to 0")]
    ScaleIdle {
        /// Tasks to run on the idle side, e.g. 0 after the bake
        #[arg(long, value_name = "N", value_parser = task_count, allow_negative_numbers = true)]
        to: u32,
    },
    /// Roll the live side to the idle side's task definition (blue stays production)
    #[command(after_help = "Example:\n  cutover adopt --wait --timeout 900")]
    Adopt {
        /// Wait until the live side's rollout reaches a steady state
        #[arg(long)]
        wait: bool,
        /// How long --wait waits, in seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 600,
              value_parser = timeout_seconds, allow_negative_numbers = true)]
        timeout: u64,
        /// Adopt an idle build that is older than the live one, or that the guard rejected
        #[arg(long)]
        force: bool,
    },
    /// Deploy an image to the idle side (the one at 0%): a new task definition revision with
    /// only that image changed, the service updated and scaled to the live side's size
    #[command(after_help = "Examples:\n  \
        cutover deploy --image example/shop:1.6.0 --wait\n  \
        cutover deploy --image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:<64 hex> --container web")]
    Deploy {
        #[arg(long, value_name = "IMAGE")]
        image: String,
        /// The container to change, when the task definition has several
        #[arg(long, value_name = "NAME")]
        container: Option<String>,
        /// Wait until the idle side runs its full size with healthy targets ("ready to shift")
        #[arg(long)]
        wait: bool,
        /// How long --wait waits, in seconds
        #[arg(long, value_name = "SECONDS", default_value_t = 600,
              value_parser = timeout_seconds, allow_negative_numbers = true)]
        timeout: u64,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    #[command(after_help = "Examples:\n  \
        cutover completions bash > ~/.local/share/bash-completion/completions/cutover\n  \
        cutover completions zsh > ~/.zfunc/_cutover      # with fpath+=~/.zfunc\n  \
        cutover completions fish > ~/.config/fish/completions/cutover.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    #[command(after_help = "Example:\n  \
        cutover man > ~/.local/share/man/man1/cutover.1 && man cutover")]
    Man,
}

/// The commands that move traffic: on AWS, and in the demo on the simulator.
#[derive(Debug, Clone, Subcommand)]
pub enum TrafficCommand {
    /// Set one side's share of the traffic, through the same guard as the console
    #[command(after_help = "Examples:\n  \
        cutover shift --green 10\n  \
        cutover shift --blue 75 --force   # a jump over the max step, still guarded")]
    #[command(group(clap::ArgGroup::new("share").required(true).args(["green", "blue"])))]
    Shift {
        /// Green's share, 0 to 100
        #[arg(long, value_name = "PCT", value_parser = parse_share, allow_negative_numbers = true)]
        green: Option<u8>,
        /// Blue's share, 0 to 100 (the other way to say the same split)
        #[arg(long, value_name = "PCT", value_parser = parse_share, allow_negative_numbers = true)]
        blue: Option<u8>,
        /// Allow a jump larger than the max step, or traffic toward an older or a rejected
        /// build (never past a "worse" verdict)
        #[arg(long)]
        force: bool,
    },
    /// ECS-native: continue the deployment at its awaiting PAUSE gate, through the guard
    /// (exit 3 when no gate awaits or the guard refuses)
    #[command(
        after_help = "Example:\n  cutover continue   # ECS then shifts the next step and stops at the next gate"
    )]
    Continue,
    /// All traffic back to the live side, at once (never blocked by evidence)
    #[command(after_help = "Examples:\n  cutover rollback\n  cutover rollback --to blue")]
    Rollback {
        /// The side to send everything to, blue or green, when CloudWatch cannot tell which
        /// side was live
        #[arg(long, value_name = "SIDE", value_parser = parse_side)]
        to: Option<Color>,
    },
    /// All traffic to the candidate (green in the first cycle, blue once the roles swapped),
    /// through the guard
    #[command(after_help = "Example:\n  cutover promote --force")]
    Promote {
        /// Allow the jump beyond the max step, or traffic toward an older or a rejected build
        /// (never past a "worse" verdict)
        #[arg(long)]
        force: bool,
    },
    /// Run the configured plan without a terminal
    #[command(after_help = "Example:\n  cutover plan run")]
    Plan {
        #[command(subcommand)]
        command: PlanCommand,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum PlanCommand {
    /// Drive the plan to 100%, printing progress; exit 0 at 100%, 5 when the guard rolled back
    #[command(
        after_help = "Examples:\n  cutover plan run && echo promoted\n  cutover plan run --max-hold 30m"
    )]
    Run {
        /// End the run (exit 9) once the plan has held longer than this, waiting for
        /// evidence it can step on: 90s, 30m, 2h. The weights stay where they are
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        max_hold: Option<std::time::Duration>,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// A fleet file of every pair and ECS-native service of --cluster, and what was skipped
    #[arg(long, requires = "cluster", conflicts_with_all = ["service", "blue", "green", "rule", "listener"])]
    pub all: bool,
    /// With --all: the cluster whose services are read
    #[arg(long, value_name = "CLUSTER", requires = "all")]
    pub cluster: Option<String>,
    /// One ECS service that deploys itself (ECS-native BLUE_GREEN, LINEAR or CANARY):
    /// CLUSTER/SERVICE, or its ARN; its rule and groups come from its load balancer
    #[arg(long, value_name = "CLUSTER/SERVICE", conflicts_with_all = ["blue", "green", "rule", "listener", "blue_target_group", "green_target_group"])]
    pub service: Option<String>,
    /// The blue service: CLUSTER/SERVICE, or its ARN
    #[arg(long, value_name = "CLUSTER/SERVICE")]
    pub blue: Option<String>,
    /// The green service: CLUSTER/SERVICE, or its ARN
    #[arg(long, value_name = "CLUSTER/SERVICE")]
    pub green: Option<String>,
    /// The listener rule to write, when several forward to both target groups
    #[arg(long, value_name = "ARN", conflicts_with = "listener")]
    pub rule: Option<String>,
    /// The listener (its default action) to write, when several forward to both groups
    #[arg(long, value_name = "ARN")]
    pub listener: Option<String>,
    /// Blue's target group, when its service registers in several
    #[arg(long, value_name = "ARN")]
    pub blue_target_group: Option<String>,
    /// Green's target group, when its service registers in several
    #[arg(long, value_name = "ARN")]
    pub green_target_group: Option<String>,
    /// Overwrite the file if it exists
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// What the simulated world does
    #[arg(long, global = true, value_name = "NAME", default_value = "healthy", value_parser = ScenarioParser)]
    pub scenario: Scenario,
    /// Run simulated time N times faster (0.1 to 100)
    #[arg(long, global = true, value_name = "N", default_value_t = 1.0, value_parser = parse_speed,
          allow_negative_numbers = true)]
    pub speed: f64,
    /// Seed for the simulator's randomness: the same seed gives the same world
    #[arg(long, global = true, value_name = "N", default_value_t = 1, value_parser = seed,
          allow_negative_numbers = true)]
    pub seed: u64,
    /// Record the demo's screen to FILE as an asciicast v2 file (`asciinema play FILE`)
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// A headless command on the simulator instead of the console (`cutover demo plan run
    /// --scenario bad-green --speed 50` exits 5 and says why); green is deployed and healthy
    /// when it starts
    #[command(subcommand)]
    pub command: Option<DemoCommand>,
}

/// What `cutover demo` runs instead of the console.
#[derive(Debug, Clone, Subcommand)]
pub enum DemoCommand {
    #[command(flatten)]
    Traffic(TrafficCommand),
    /// A dozen simulated releases in one list: some healthy, one bad, one waiting at an ECS
    /// gate, one whose data is stale
    #[command(after_help = "Examples:\n  \
        cutover demo fleet --speed 10   # Enter opens a row's console, q there comes back\n  \
        cutover demo fleet --once")]
    Fleet(FleetArgs),
}

#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// Print the list once and exit, instead of the live view
    #[arg(long)]
    pub once: bool,
    /// With --once: JSON, one object a row
    #[arg(long, requires = "once")]
    pub json: bool,
}

/// A whole number from `min` to `max`, with a message that says what is wrong with it: a
/// negative number is a value (not a flag) that must be ≥ `min`.
fn whole_number(text: &str, min: u64, max: u64) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('-') && trimmed[1..].chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("must be ≥ {min}"));
    }
    let value: u64 = trimmed
        .parse()
        .map_err(|_| format!("'{trimmed}' is not a whole number: it must be ≥ {min}"))?;
    if !(min..=max).contains(&value) {
        return Err(format!("{value} is out of range: {min} to {max}"));
    }
    Ok(value)
}

fn refresh_seconds(text: &str) -> Result<u64, String> {
    whole_number(text, 1, 3600)
}

fn timeout_seconds(text: &str) -> Result<u64, String> {
    whole_number(text, 1, 24 * 3600)
}

/// `90s`, `30m`, `2h`, or seconds alone: from a second to a week.
fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.char_indices().last() {
        Some((at, 's')) => (&text[..at], 1),
        Some((at, 'm')) => (&text[..at], 60),
        Some((at, 'h')) => (&text[..at], 3600),
        _ => (text, 1),
    };
    let seconds = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|s| (1..=7 * 24 * 3600).contains(s))
        .ok_or_else(|| {
            format!("'{text}' is not a duration from 1s to 168h: give e.g. 90s, 30m or 2h")
        })?;
    Ok(std::time::Duration::from_secs(seconds))
}

fn task_count(text: &str) -> Result<u32, String> {
    whole_number(text, 0, 5000).map(|n| n as u32)
}

fn seed(text: &str) -> Result<u64, String> {
    whole_number(text, 0, u64::MAX)
}

fn parse_share(text: &str) -> Result<u8, String> {
    parse_percent(text).map_err(|e| e.to_string())
}

fn parse_side(text: &str) -> Result<Color, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "blue" => Ok(Color::Blue),
        "green" => Ok(Color::Green),
        _ => Err(format!("'{text}' is not a side: say blue or green")),
    }
}

/// `--scenario`: our message for a wrong name, and the names for shell completion (a plain
/// function parser would leave completion offering file names).
#[derive(Debug, Clone, Copy)]
struct ScenarioParser;

impl clap::builder::TypedValueParser for ScenarioParser {
    type Value = Scenario;

    fn parse_ref(
        &self,
        _command: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Scenario, clap::Error> {
        value.to_string_lossy().parse().map_err(|why: String| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, why + "\n")
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(Scenario::ALL.into_iter().map(|scenario| {
            clap::builder::PossibleValue::new(scenario.name()).help(scenario.describe())
        })))
    }
}

fn parse_speed(text: &str) -> Result<f64, String> {
    let speed: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number: try --speed 10"))?;
    if !(0.1..=100.0).contains(&speed) {
        return Err(format!("{speed} is out of range: --speed takes 0.1 to 100"));
    }
    Ok(speed)
}
