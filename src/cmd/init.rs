//! `cutover init`: a config file from what AWS already knows (see `platform::aws::discover`).

use std::io::IsTerminal;
use std::path::Path;

use crate::app::picker::Picker;
use crate::cli::{GlobalArgs, InitArgs};
use crate::config::AwsSettings;
use crate::domain::{Color, Failure};
use crate::platform::aws::discover::{self, Candidate, Choices, Discovery, ServiceRef};
use crate::platform::aws::estate::TrafficTarget;
use crate::platform::aws::{ecs, sdk_config};

/// The example's optional sections, commented out, follow what `init` found.
const EXAMPLE: &str = include_str!("../../assets/cutover.example.toml");
const OPTIONAL_FROM: &str = "# Optional: a plan";

/// Finds the estate, writes the file, and returns what to print.
pub async fn run(global: &GlobalArgs, args: &InitArgs) -> Result<String, Failure> {
    let target = crate::config::init_target(global.config.as_deref());
    let path = target.as_path();
    if path.exists() && !args.force {
        return Err(bad_input(format!(
            "{} exists: --force overwrites it, or --config PATH writes another file",
            path.display()
        )));
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let named = |flag: &str, text: &Option<String>| {
        text.as_deref()
            .map(|text| ServiceRef::parse(text).map_err(|why| bad_input(format!("--{flag} {why}"))))
            .transpose()
    };
    let (blue, green) = (named("blue", &args.blue)?, named("green", &args.green)?);
    if let (Some(blue), Some(green)) = (&blue, &green)
        && blue == green
    {
        return Err(bad_input(format!(
            "--blue and --green both name {blue}: blue and green are two services, one for each \
             side"
        )));
    }
    if (blue.is_none() || green.is_none()) && !interactive {
        return Err(bad_input(
            "init needs both services: --blue CLUSTER/SERVICE --green CLUSTER/SERVICE \
             (e.g. --blue shop/shop-blue --green shop/shop-green); in a terminal it lets you \
             pick them from lists"
                .into(),
        ));
    }
    let aws = AwsSettings {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let (sdk, region) = sdk_config(&aws, None, path).await?;
    let (blue, green) = match (blue, green) {
        (Some(blue), Some(green)) => (blue, green),
        (blue, green) => pick_services(&sdk, &region, blue, green).await?,
    };
    let ask = |title: &str, items: &[String]| choose_from(Picker::new(title, items.to_vec()));
    let choices = Choices {
        blue_target_group: args.blue_target_group.clone(),
        green_target_group: args.green_target_group.clone(),
        ask: interactive.then_some(&ask as discover::Ask),
    };
    let found = discover::discover(&sdk, &region, &blue, &green, &choices).await?;
    let flagged = args.rule.is_some() || args.listener.is_some();
    let chosen = if interactive && !flagged && found.candidates.len() > 1 {
        let items = found
            .candidates
            .iter()
            .map(|c| format!("{} ({}) {}", c.describe, c.weights, c.target.arn()))
            .collect();
        let title = "which listener or rule moves the traffic? (several forward to both groups)";
        let index = choose_from(Picker::new(title, items))?;
        found.candidates[index].clone()
    } else {
        discover::choose(
            &found.candidates,
            args.rule.as_deref(),
            args.listener.as_deref(),
        )
        .map_err(|why| {
            let unasked = if flagged || interactive {
                ""
            } else {
                "\n(not asked: no terminal to ask in)"
            };
            bad_input(format!("{why}{unasked}"))
        })?
    };
    let text = config_text(&found, &chosen, &aws, &region);
    // What is written must load: the same parser every command uses reads it back.
    crate::config::parse(path, &text, &AwsSettings::default())
        .map_err(|e| Failure::Failed(anyhow::anyhow!("the file init wrote does not load: {e}")))?;
    std::fs::write(path, &text).map_err(|e| {
        bad_input(format!(
            "cannot write {}: {e} — name another place with --config PATH",
            path.display()
        ))
    })?;
    // The file at work at once: status reads it as every command will.
    let reading = GlobalArgs {
        config: Some(path.to_path_buf()),
        ..global.clone()
    };
    let status = match super::status::run(&reading, false).await {
        Ok(table) => table,
        Err(failure) => format!(
            "status on it failed: {:#}\n(the file is written; fix what this says and run \
             `cutover status`)\n",
            failure.error()
        ),
    };
    Ok(format!("{}\n{status}", summary(path, &found, &chosen)))
}

/// In a terminal: a cluster from the account's, then the services not named by flags from its
/// list (green's without the one chosen for blue).
async fn pick_services(
    sdk: &aws_config::SdkConfig,
    region: &str,
    blue: Option<ServiceRef>,
    green: Option<ServiceRef>,
) -> Result<(ServiceRef, ServiceRef), Failure> {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let read = |what: &str, e: crate::domain::PlatformError| {
        Failure::Failed(anyhow::Error::new(e).context(format!("listing the {what} in {region}")))
    };
    let cluster = match blue.as_ref().or(green.as_ref()) {
        Some(given) => given.cluster.clone(),
        None => {
            let clusters = ecs::cluster_names(&ecs)
                .await
                .map_err(|e| read("clusters", e))?;
            if clusters.is_empty() {
                return Err(bad_input(format!(
                    "no ECS cluster in {region}: check --region and --profile"
                )));
            }
            let index = choose_from(Picker::new(
                "the cluster of the two services",
                clusters.clone(),
            ))?;
            clusters[index].clone()
        }
    };
    let services = ecs::service_names(&ecs, &cluster)
        .await
        .map_err(|e| read("services", e))?;
    let pick = |title: &str, without: Option<&ServiceRef>| -> Result<ServiceRef, Failure> {
        let items: Vec<String> = services
            .iter()
            .filter(|s| without.is_none_or(|w| w.service != **s))
            .cloned()
            .collect();
        if items.is_empty() {
            return Err(bad_input(format!(
                "no service to choose in cluster {cluster}: name them with --blue and --green"
            )));
        }
        let index = choose_from(Picker::new(format!("{title} in {cluster}"), items.clone()))?;
        Ok(ServiceRef {
            cluster: cluster.clone(),
            service: items[index].clone(),
        })
    };
    let blue = match blue {
        Some(blue) => blue,
        None => pick("BLUE: the service serving production now", green.as_ref())?,
    };
    let green = match green {
        Some(green) => green,
        None => pick("GREEN: the service the next build goes to", Some(&blue))?,
    };
    Ok((blue, green))
}

/// The picker in the terminal; cancelled, nothing is written.
fn choose_from(picker: Picker) -> Result<usize, Failure> {
    crate::terminal::pick(picker)
        .map_err(Failure::Failed)?
        .ok_or_else(|| bad_input("cancelled: nothing written".into()))
}

fn bad_input(message: String) -> Failure {
    Failure::BadInput(anyhow::anyhow!(message))
}

/// What was found and written, and what to run next.
fn summary(path: &Path, found: &Discovery, chosen: &Candidate) -> String {
    let mut out = format!(
        "wrote {}\n  traffic  {} ({}, blue/green weights {})\n",
        path.display(),
        chosen.describe,
        chosen.target.arn(),
        chosen.weights
    );
    for color in Color::BOTH {
        let side = found.side(color);
        out += &format!(
            "  {:<7}  {} → {}\n",
            color.name(),
            side.service,
            side.target_group_arn
        );
        if let Some(owner) = &side.watch_only {
            out += &format!("           watch only: {owner}; cutover will show it and not write\n");
        }
    }
    let others = found.candidates.len() - 1;
    if others > 0 {
        out += &format!(
            "  ({others} other listener or rule also forwards to both; --rule/--listener picks)\n"
        );
    }
    let config = if path == Path::new("cutover.toml") {
        String::new()
    } else {
        format!(" --config {}", path.display())
    };
    out += &format!("next: cutover{config} status, then cutover{config}\n");
    out
}

/// TOML's own quoting for a string value.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// The config file: what was found, commented like the example, then the example's optional
/// sections.
pub fn config_text(
    found: &Discovery,
    chosen: &Candidate,
    aws: &AwsSettings,
    region: &str,
) -> String {
    let mut text = String::from(
        "# cutover.toml, written by `cutover init` from what AWS reported. What cutover watches\n\
         # and moves; every setting is explained in assets/cutover.example.toml.\n\n",
    );
    let watch_only: Vec<&str> = Color::BOTH
        .iter()
        .filter_map(|c| found.side(*c).watch_only.as_deref())
        .collect();
    if !watch_only.is_empty() {
        text += &format!(
            "# Watch only for now: {}. cutover shows it and refuses to write.\n\n",
            watch_only.join("; ")
        );
    }
    text += "# Flags (--profile, --region, --endpoint-url) override what is written here.\n[aws]\n";
    text += &match &aws.profile {
        Some(profile) => format!("profile = {}\n", quoted(profile)),
        None => "# profile = \"prod\"\n".into(),
    };
    text += &format!("region = {}\n", quoted(region));
    if let Some(url) = &aws.endpoint_url {
        text += &format!("endpoint_url = {}\n", quoted(url));
    }
    text += &format!(
        "\n# The {} of the load balancer, forwarding to both groups (blue/green\n\
         # weights {} when init read it). cutover changes only those two weights.\n[traffic]\n",
        chosen.describe, chosen.weights
    );
    text += &match &chosen.target {
        TrafficTarget::Listener(arn) => format!("listener_arn = {}\n", quoted(arn)),
        TrafficTarget::Rule(arn) => format!("rule_arn = {}\n", quoted(arn)),
    };
    for color in Color::BOTH {
        let side = found.side(color);
        text += &format!(
            "\n[{}]\ncluster = {}\nservice = {}\ntarget_group_arn = {}\n",
            color.name(),
            quoted(&side.service.cluster),
            quoted(&side.service.service),
            quoted(&side.target_group_arn)
        );
    }
    if let Some(start) = EXAMPLE.find(OPTIONAL_FROM) {
        text += "\n";
        text += &EXAMPLE[start..];
    }
    text
}
