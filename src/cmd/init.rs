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
    if let (true, Some(cluster)) = (args.all, &args.cluster) {
        return super::init_fleet::run(global, path, cluster).await;
    }
    if let Some(service) = &args.service {
        let rest = EXAMPLE.find(OPTIONAL_FROM).map_or("", |at| &EXAMPLE[at..]);
        let written = super::init_native::run(global, path, service, rest).await?;
        return Ok(format!("{written}\n{}", status_on(global, path).await));
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
    let aws = super::aws_overrides(global);
    let (sdk, region) = sdk_config(&aws, None, path).await?;
    let mut picks = ServicePicks::new(&sdk, &region, blue, green);
    // Esc in a later list (a target group, the rule) returns to the last service picked.
    let (found, chosen) = loop {
        let (blue, green) = picks.run().await?;
        match find_traffic(&sdk, &region, &blue, &green, args, interactive).await {
            Err(failure) if went_back(&failure) && picks.forget_last() => continue,
            Err(failure) if went_back(&failure) => return Err(cancelled()),
            other => break other?,
        }
    };
    let text = config_text(&found, &chosen, &aws, &region);
    write_loadable(path, &text)?;
    let status = status_on(global, path).await;
    Ok(format!("{}\n{status}", summary(path, &found, &chosen)))
}

/// Writes the config, once the same parser every command uses has read it back.
pub(super) fn write_loadable(path: &Path, text: &str) -> Result<(), Failure> {
    crate::config::parse(path, text, &AwsSettings::default())
        .map_err(|e| Failure::Failed(anyhow::anyhow!("the file init wrote does not load: {e}")))?;
    std::fs::write(path, text).map_err(|e| {
        bad_input(format!(
            "cannot write {}: {e} — name another place with --config PATH",
            path.display()
        ))
    })
}

/// Writes a fleet file, once the fleet's parser has read it back.
pub(super) fn write_loadable_fleet(path: &Path, text: &str) -> Result<(), Failure> {
    crate::config::fleet::parse(path, text, &AwsSettings::default())
        .map_err(|e| Failure::Failed(anyhow::anyhow!("the file init wrote does not load: {e}")))?;
    std::fs::write(path, text).map_err(|e| {
        bad_input(format!(
            "cannot write {}: {e} — name another place with --config PATH",
            path.display()
        ))
    })
}

/// The file at work at once: `status` reads it as every command will.
async fn status_on(global: &GlobalArgs, path: &Path) -> String {
    let reading = GlobalArgs {
        config: Some(path.to_path_buf()),
        ..global.clone()
    };
    match super::status::run(&reading, false).await {
        Ok(table) => table,
        Err(failure) => format!(
            "status on it failed: {:#}\n(the file is written; fix what this says and run \
             `cutover status`)\n",
            failure.error()
        ),
    }
}

/// The target groups and the listener or rule that forwards to both: asked in a terminal
/// where there are several, else chosen by the flags.
async fn find_traffic(
    sdk: &aws_config::SdkConfig,
    region: &str,
    blue: &ServiceRef,
    green: &ServiceRef,
    args: &InitArgs,
    interactive: bool,
) -> Result<(Discovery, Candidate), Failure> {
    let ask = |title: &str, items: &[String]| choose_from(Picker::new(title, items.to_vec()));
    let choices = Choices {
        blue_target_group: args.blue_target_group.clone(),
        green_target_group: args.green_target_group.clone(),
        ask: interactive.then_some(&ask as discover::Ask),
    };
    let found = discover::discover(sdk, region, blue, green, &choices).await?;
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
    Ok((found, chosen))
}

/// In a terminal: a cluster from the account's, then the services not named by flags. Green's
/// list (or blue's, when green is named) holds every cluster's services, the other side's
/// cluster first: the two services may live in two clusters. Esc goes back one list and keeps
/// what was chosen before it; each list is read from AWS once.
struct ServicePicks<'a> {
    ecs: aws_sdk_ecs::Client,
    region: &'a str,
    given_blue: bool,
    given_green: bool,
    cluster: Option<String>,
    blue: Option<ServiceRef>,
    green: Option<ServiceRef>,
    clusters: Option<Vec<String>>,
    services: std::collections::BTreeMap<String, Vec<String>>,
}

impl<'a> ServicePicks<'a> {
    fn new(
        sdk: &aws_config::SdkConfig,
        region: &'a str,
        blue: Option<ServiceRef>,
        green: Option<ServiceRef>,
    ) -> Self {
        ServicePicks {
            ecs: aws_sdk_ecs::Client::new(sdk),
            region,
            given_blue: blue.is_some(),
            given_green: green.is_some(),
            cluster: None,
            blue,
            green,
            clusters: None,
            services: Default::default(),
        }
    }

    fn read_failure(&self, what: &str, e: crate::domain::PlatformError) -> Failure {
        Failure::Failed(
            anyhow::Error::new(e).context(format!("listing the {what} in {}", self.region)),
        )
    }

    async fn clusters(&mut self) -> Result<Vec<String>, Failure> {
        if let Some(clusters) = &self.clusters {
            return Ok(clusters.clone());
        }
        let clusters = ecs::cluster_names(&self.ecs)
            .await
            .map_err(|e| self.read_failure("clusters", e))?;
        self.clusters = Some(clusters.clone());
        Ok(clusters)
    }

    async fn services(&mut self, cluster: &str) -> Result<Vec<String>, Failure> {
        if let Some(services) = self.services.get(cluster) {
            return Ok(services.clone());
        }
        let services = ecs::service_names(&self.ecs, cluster)
            .await
            .map_err(|e| self.read_failure("services", e))?;
        self.services.insert(cluster.to_string(), services.clone());
        Ok(services)
    }

    /// Every service but `other`, `other`'s cluster first.
    async fn all_but(&mut self, other: &ServiceRef) -> Result<Vec<ServiceRef>, Failure> {
        let mut clusters = self.clusters().await?;
        clusters.sort_by_key(|c| *c != other.cluster);
        let mut all = Vec::new();
        for cluster in clusters {
            for service in self.services(&cluster).await? {
                let candidate = ServiceRef {
                    cluster: cluster.clone(),
                    service,
                };
                if candidate != *other {
                    all.push(candidate);
                }
            }
        }
        Ok(all)
    }

    /// The lists still to answer, from where the operator is; both services once chosen.
    async fn run(&mut self) -> Result<(ServiceRef, ServiceRef), Failure> {
        let mut empty: Option<String> = None;
        loop {
            match (self.blue.clone(), self.green.clone()) {
                (Some(blue), Some(green)) => return Ok((blue, green)),
                (None, None) => match self.cluster.clone() {
                    None => {
                        let clusters = self.clusters().await?;
                        if clusters.is_empty() {
                            return Err(bad_input(format!(
                                "no ECS cluster in {}: check --region and --profile",
                                self.region
                            )));
                        }
                        let title = match empty.take() {
                            Some(c) => format!(
                                "the cluster of the two services ({c} has no service: another)"
                            ),
                            None => "the cluster of the two services".to_string(),
                        };
                        let index =
                            ask(Picker::new(title, clusters.clone()))?.ok_or_else(cancelled)?;
                        self.cluster = Some(clusters[index].clone());
                    }
                    Some(cluster) => {
                        let services = self.services(&cluster).await?;
                        if services.is_empty() {
                            empty = Some(cluster);
                            self.cluster = None;
                            continue;
                        }
                        let title =
                            format!("BLUE: the service serving production now in {cluster}");
                        match ask(Picker::new(title, services.clone()).after_another())? {
                            Some(index) => {
                                self.blue = Some(ServiceRef {
                                    cluster,
                                    service: services[index].clone(),
                                })
                            }
                            None => self.cluster = None,
                        }
                    }
                },
                (Some(blue), None) => {
                    let title =
                        format!("GREEN: the service the next build goes to (blue is {blue})");
                    let back = !self.given_blue;
                    self.green = self.pick_other(title, &blue, back).await?;
                    if self.green.is_none() {
                        self.blue = None;
                    }
                }
                (None, Some(green)) => {
                    let title =
                        format!("BLUE: the service serving production now (green is {green})");
                    self.blue = self.pick_other(title, &green, false).await?;
                }
            }
        }
    }

    /// A service from every cluster but `other`; `None` when Esc went back (`back`), else Esc
    /// cancels.
    async fn pick_other(
        &mut self,
        title: String,
        other: &ServiceRef,
        back: bool,
    ) -> Result<Option<ServiceRef>, Failure> {
        let all = self.all_but(other).await?;
        if all.is_empty() {
            return Err(bad_input(format!(
                "no other service in {}: name both with --blue and --green",
                self.region
            )));
        }
        let items = all.iter().map(ToString::to_string).collect();
        let picker = Picker::new(title, items);
        let picker = if back { picker.after_another() } else { picker };
        Ok(match ask(picker)? {
            Some(index) => Some(all[index].clone()),
            None if back => None,
            None => return Err(cancelled()),
        })
    }

    /// Back from a list after the services: forgets the last service picked (not one named by
    /// a flag). False when there is none to forget.
    fn forget_last(&mut self) -> bool {
        if !self.given_green {
            self.green = None;
            true
        } else if !self.given_blue {
            self.blue = None;
            true
        } else {
            false
        }
    }
}

/// The picker in the terminal: an index, or `None` when Esc went back.
fn ask(picker: Picker) -> Result<Option<usize>, Failure> {
    use crate::app::picker::Picked;
    match crate::terminal::pick(picker).map_err(Failure::Failed)? {
        Picked::Chosen(index) => Ok(Some(index)),
        Picked::Back => Ok(None),
        Picked::Cancelled | Picked::Open => Err(cancelled()),
    }
}

/// Esc in a list after the services: back to the last service list.
#[derive(Debug)]
struct WentBack;

impl std::fmt::Display for WentBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("went back to the service lists")
    }
}

impl std::error::Error for WentBack {}

fn went_back(failure: &Failure) -> bool {
    failure.error().downcast_ref::<WentBack>().is_some()
}

/// A list after the services (a target group, the rule): Esc returns to the service lists.
fn choose_from(picker: Picker) -> Result<usize, Failure> {
    ask(picker.after_another())?.ok_or_else(|| Failure::BadInput(anyhow::Error::new(WentBack)))
}

fn cancelled() -> Failure {
    bad_input("cancelled: nothing written".into())
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
/// The `[aws]` section of a written config: the profile, the region, the endpoint.
pub(super) fn aws_section(aws: &AwsSettings, region: &str) -> String {
    let mut text = String::from(
        "# Flags (--profile, --region, --endpoint-url) override what is written here.\n[aws]\n",
    );
    text += &match &aws.profile {
        Some(profile) => format!("profile = {}\n", quoted(profile)),
        None => "# profile = \"prod\"\n".into(),
    };
    text += &format!("region = {}\n", quoted(region));
    if let Some(url) = &aws.endpoint_url {
        text += &format!("endpoint_url = {}\n", quoted(url));
    }
    text
}

pub(super) fn quoted(text: &str) -> String {
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
        "# cutover.toml, written by `cutover init` from what AWS reported: what cutover watches\n\
         # and moves. The optional settings (plan, guard, metrics) follow, commented out, each\n\
         # with what it does.\n\n",
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
    text += &aws_section(aws, region);
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
