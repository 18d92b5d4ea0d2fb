//! `cutover.toml` and the CLI flags that override it, validated into one `Config` before any
//! terminal setup or AWS call.

use std::path::{Path, PathBuf};

use std::time::Duration;

use serde::Deserialize;

pub mod fleet;

pub use crate::domain::ConfigError;
use crate::domain::{CustomMetric, MetricLimit, MetricSource};
pub use crate::platform::aws::estate::{AwsSettings, Estate, SideConfig, TrafficTarget};
use crate::shift::plan::{OnBreach, PlanSpec};
use crate::shift::{EvidenceSettings, GuardSettings};

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// What to watch and where AWS calls go: all the AWS platform needs.
    pub estate: Estate,
    /// `read_only = true`: watch only, like `--read-only`.
    pub read_only: bool,
    pub plan: Option<(PlanSpec, OnBreach)>,
    pub guard: GuardSettings,
    pub evidence: EvidenceSettings,
    /// How long the new live side carries everything before the other side is idle.
    pub role_bake: Duration,
    /// Scale the idle side to 0 once it is idle.
    pub scale_down_after_bake: bool,
    /// `[ui] label`: the environment's name in the header ("PROD").
    pub label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    read_only: Option<bool>,
    aws: Option<RawAws>,
    traffic: Option<RawTraffic>,
    blue: Option<RawSide>,
    green: Option<RawSide>,
    service: Option<RawService>,
    plan: Option<RawPlan>,
    guard: Option<RawGuard>,
    deploy: Option<RawDeploy>,
    ui: Option<RawUi>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUi {
    label: Option<String>,
}

/// A label is a badge in a one-line header: short, and plain text.
const MAX_LABEL_CHARS: usize = 24;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeploy {
    bake_seconds: Option<u64>,
    scale_down_after_bake: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    steps: Option<Vec<u8>>,
    bake_seconds: Option<u64>,
    linear: Option<RawLinear>,
    canary: Option<RawCanary>,
    on_breach: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLinear {
    step: u8,
    every_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCanary {
    percent: u8,
    bake_seconds: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    min_requests: Option<u32>,
    tolerance_points: Option<f64>,
    max_error_rate_percent: Option<f64>,
    max_step: Option<u8>,
    first_step: Option<u8>,
    max_latency_ratio: Option<f64>,
    min_latency_ms: Option<f64>,
    max_p99_ms: Option<f64>,
    alarms: Option<Vec<String>>,
    metric: Option<Vec<RawMetric>>,
}

/// One `[[guard.metric]]`: a metric (`namespace`, `metric`, `dimensions`, `stat`) or an
/// `expression`, and at least one of `max_ratio`, `max_increase`, `max`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetric {
    name: String,
    namespace: Option<String>,
    metric: Option<String>,
    dimensions: Option<std::collections::BTreeMap<String, String>>,
    stat: Option<String>,
    expression: Option<String>,
    max_ratio: Option<f64>,
    max_increase: Option<f64>,
    max: Option<f64>,
}

/// DescribeAlarms takes at most 100 names in one call.
const MAX_ALARMS: usize = 100;
/// CloudWatch's limits on what a query names (GetMetricData, DescribeAlarms API reference).
const MAX_NAME_CHARS: usize = 255;
const MAX_EXPRESSION_CHARS: usize = 2048;
const MAX_DIMENSIONS: usize = 30;

/// How long a step of a `steps` plan bakes when `bake_seconds` is not given.
const DEFAULT_BAKE: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAws {
    profile: Option<String>,
    region: Option<String>,
    endpoint_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTraffic {
    listener_arn: Option<String>,
    rule_arn: Option<String>,
}

/// `[service]`: an ECS service that deploys itself (ECS-native blue/green, linear, canary).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    cluster: Option<String>,
    name: Option<String>,
    target_group_arn: Option<String>,
    alternate_target_group_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSide {
    cluster: Option<String>,
    service: Option<String>,
    target_group_arn: Option<String>,
}

/// Reads and validates the config file, then lets flags override `[aws]`.
impl Config {
    /// The console's and the headless commands' settings, built once from the config and the
    /// flags that are not AWS's (`--refresh`, `--read-only`).
    pub fn settings(&self, refresh: Duration, read_only: bool) -> crate::app::Settings {
        crate::app::Settings {
            refresh,
            guard: self.guard,
            evidence: self.evidence.clone(),
            read_only: read_only || self.read_only,
            role_bake: self.role_bake,
            scale_down_after_bake: self.scale_down_after_bake,
            label: self.label.clone(),
            ..crate::app::Settings::default()
        }
    }
}

/// The variable that names the config file when --config does not.
pub const CONFIG_VARIABLE: &str = "CUTOVER_CONFIG";

/// Where a config file is looked for, in order: `--config`, `$CUTOVER_CONFIG`, `./cutover.toml`,
/// `$XDG_CONFIG_HOME/cutover/cutover.toml`. `variable` and `user_dir` are what the environment
/// gives (the shell passes them; tests their own).
pub fn locate(
    flag: Option<&Path>,
    variable: Option<&str>,
    user_dir: Option<&Path>,
) -> Result<PathBuf, ConfigError> {
    if let Some(path) = named(flag, variable) {
        return Ok(path);
    }
    let here = PathBuf::from("cutover.toml");
    let user = user_dir.map(|dir| dir.join("cutover").join("cutover.toml"));
    if here.exists() {
        return Ok(here);
    }
    if let Some(user) = user.as_ref().filter(|p| p.exists()) {
        return Ok(user.clone());
    }
    let looked = [
        Some("--config".to_string()),
        Some(format!("${CONFIG_VARIABLE}")),
        Some("./cutover.toml".to_string()),
        user.map(|p| p.display().to_string()),
    ];
    Err(ConfigError {
        path: here,
        position: None,
        message: format!(
            "no config file (looked at {}): write one with `cutover init --blue CLUSTER/SERVICE \
             --green CLUSTER/SERVICE`, or name it with --config PATH; `cutover demo` shows the \
             console without AWS",
            looked.into_iter().flatten().collect::<Vec<_>>().join(", ")
        ),
    })
}

/// The file the operator named: `--config`, else `$CUTOVER_CONFIG` (unless empty).
fn named(flag: Option<&Path>, variable: Option<&str>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| variable.filter(|v| !v.trim().is_empty()).map(PathBuf::from))
}

/// [`locate`] with this process's environment.
pub fn locate_here(flag: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let variable = std::env::var(CONFIG_VARIABLE).ok();
    locate(flag, variable.as_deref(), dirs::config_dir().as_deref())
}

/// Where `init` writes: `--config`, else `$CUTOVER_CONFIG`, else `./cutover.toml`.
pub fn init_target(flag: Option<&Path>) -> PathBuf {
    let variable = std::env::var(CONFIG_VARIABLE).ok();
    named(flag, variable.as_deref()).unwrap_or_else(|| PathBuf::from("cutover.toml"))
}

pub fn load(path: &Path, overrides: &AwsSettings) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        position: None,
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "no such file: write one (see the README, \"Use it on AWS\") or name it with --config PATH"
                .to_string()
        } else {
            format!("cannot read it: {e}")
        },
    })?;
    parse(path, &text, overrides)
}

pub fn parse(path: &Path, text: &str, overrides: &AwsSettings) -> Result<Config, ConfigError> {
    let error = |position, message: String| ConfigError {
        path: path.to_path_buf(),
        position,
        message,
    };
    if fleet::is_fleet(text) {
        return Err(error(
            None,
            "this file describes a fleet ([[pair]] / [[service]] entries): `cutover fleet` \
             watches it; the console and the other commands take one pair's or one service's \
             file"
                .into(),
        ));
    }
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let position = e.span().map(|span| line_column(text, span.start));
        error(position, e.message().trim().to_string())
    })?;

    let traffic = raw.traffic.ok_or_else(|| {
        error(
            None,
            "missing [traffic]: add listener_arn = \"…\" or rule_arn = \"…\"".into(),
        )
    })?;
    let traffic = traffic_target(
        traffic.listener_arn,
        traffic.rule_arn,
        "[traffic]",
        "traffic.",
    )
    .map_err(|m| error(None, m))?;
    let native = raw.service.is_some();
    let (blue, green) = match raw.service {
        Some(_) if raw.blue.is_some() || raw.green.is_some() => {
            return Err(error(
                None,
                "[service] and [blue]/[green] both given: keep [service] for one ECS service \
                 that deploys itself (ECS-native), or [blue] and [green] for two services"
                    .into(),
            ));
        }
        Some(service) => native_sides(service).map_err(|m| error(None, m))?,
        None => (
            side("blue", raw.blue).map_err(|m| error(None, m))?,
            side("green", raw.green).map_err(|m| error(None, m))?,
        ),
    };
    if !native && blue.target_group_arn == green.target_group_arn {
        return Err(error(
            None,
            "blue.target_group_arn and green.target_group_arn are the same: each side needs its own target group".into(),
        ));
    }
    if !native && (&blue.cluster, &blue.service) == (&green.cluster, &green.service) {
        return Err(error(
            None,
            "[blue] and [green] name the same service: each side needs its own".into(),
        ));
    }

    let file_aws = raw.aws.map_or_else(AwsSettings::default, |a| AwsSettings {
        profile: a.profile,
        region: a.region,
        endpoint_url: a.endpoint_url,
    });
    let region_key = if overrides.region.is_some() {
        "--region"
    } else {
        "[aws] region"
    };
    let aws = AwsSettings {
        profile: overrides.profile.clone().or(file_aws.profile),
        region: overrides.region.clone().or(file_aws.region),
        endpoint_url: overrides.endpoint_url.clone().or(file_aws.endpoint_url),
    };
    // A load balancer is reached only in its own region: another region answers "not found".
    if let (Some(region), Some(arn_region)) = (&aws.region, traffic.region())
        && region != arn_region
    {
        let key = match traffic {
            TrafficTarget::Listener(_) => "listener_arn",
            TrafficTarget::Rule(_) => "rule_arn",
        };
        return Err(error(
            None,
            format!(
                "{region_key} {region} does not match the region of [traffic] {key} \
                 ({arn_region}): the load balancer answers only in its own region; drop \
                 {region_key} or fix the ARN"
            ),
        ));
    }
    if let Some(url) = &aws.endpoint_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        return Err(error(
            None,
            format!(
                "endpoint_url '{url}' is not a URL: write it as http://host:port or https://host"
            ),
        ));
    }
    let plan = raw.plan.map(plan).transpose().map_err(|m| error(None, m))?;
    let (guard, evidence) = guard(raw.guard).map_err(|m| error(None, m))?;
    let role_bake = raw
        .deploy
        .as_ref()
        .and_then(|d| d.bake_seconds)
        .map_or(DEFAULT_BAKE, Duration::from_secs);
    let scale_down_after_bake = raw
        .deploy
        .as_ref()
        .and_then(|d| d.scale_down_after_bake)
        .unwrap_or(false);
    let label = raw.ui.and_then(|ui| ui.label);
    if let Some(label) = &label
        && (label.trim().is_empty()
            || label.chars().count() > MAX_LABEL_CHARS
            || label.chars().any(char::is_control))
    {
        return Err(error(
            None,
            format!(
                "[ui] label = \"{}\": give 1 to {MAX_LABEL_CHARS} characters of plain text, \
                 e.g. \"PROD\"",
                label.escape_debug()
            ),
        ));
    }
    Ok(Config {
        role_bake,
        scale_down_after_bake,
        label,
        estate: Estate {
            source: path.to_path_buf(),
            aws,
            traffic,
            blue,
            green,
            native,
            alarms: evidence.alarms.clone(),
            metrics: evidence.metrics.clone(),
        },
        read_only: raw.read_only.unwrap_or(false),
        plan,
        guard,
        evidence,
    })
}

fn plan(raw: RawPlan) -> Result<(PlanSpec, OnBreach), String> {
    let spec = match (raw.steps, raw.linear, raw.canary) {
        (Some(steps), None, None) => PlanSpec::Steps {
            steps,
            bake: raw.bake_seconds.map_or(DEFAULT_BAKE, Duration::from_secs),
        },
        (None, Some(linear), None) => PlanSpec::Linear {
            step: linear.step,
            every: Duration::from_secs(linear.every_seconds),
        },
        (None, None, Some(canary)) => PlanSpec::Canary {
            percent: canary.percent,
            bake: Duration::from_secs(canary.bake_seconds),
        },
        _ => {
            return Err(
                "[plan] needs exactly one of steps = [...], linear = { step, every_seconds } \
                        or canary = { percent, bake_seconds }"
                    .into(),
            );
        }
    };
    spec.targets().map_err(|e| format!("[plan]: {e}"))?;
    let on_breach = match raw.on_breach.as_deref() {
        None | Some("rollback") => OnBreach::Rollback,
        Some("pause") => OnBreach::Pause,
        Some(other) => {
            return Err(format!(
                "[plan] on_breach = \"{other}\" is not known: use \"rollback\" or \"pause\""
            ));
        }
    };
    Ok((spec, on_breach))
}

fn guard(raw: Option<RawGuard>) -> Result<(GuardSettings, EvidenceSettings), String> {
    let mut guard = GuardSettings::default();
    let mut evidence = EvidenceSettings::default();
    let Some(raw) = raw else {
        return Ok((guard, evidence));
    };
    if let Some(n) = raw.min_requests {
        if n == 0 {
            return Err("[guard] min_requests = 0: at least 1 request is needed to judge".into());
        }
        evidence.min_requests = n;
    }
    if let Some(points) = raw.tolerance_points {
        if !(0.0..=100.0).contains(&points) {
            return Err(format!(
                "[guard] tolerance_points = {points} is out of range: 0 to 100"
            ));
        }
        evidence.tolerance = points / 100.0;
    }
    if let Some(percent) = raw.max_error_rate_percent {
        if !(percent > 0.0 && percent <= 100.0) {
            return Err(format!(
                "[guard] max_error_rate_percent = {percent} is out of range: above 0, at most 100"
            ));
        }
        evidence.max_error_rate = percent / 100.0;
    }
    for (key, value, slot) in [
        ("max_step", raw.max_step, &mut guard.max_step),
        ("first_step", raw.first_step, &mut guard.first_step),
    ] {
        if let Some(points) = value {
            if points == 0 || points > 100 {
                return Err(format!(
                    "[guard] {key} = {points} is out of range: 1 to 100 points"
                ));
            }
            *slot = points;
        }
    }
    if let Some(ratio) = raw.max_latency_ratio {
        if !(ratio.is_finite() && ratio >= 1.0) {
            return Err(format!(
                "[guard] max_latency_ratio = {ratio} is out of range: 1 or more (1.5 = half again \
                 as slow as the live side)"
            ));
        }
        evidence.latency.max_ratio = ratio;
    }
    let milliseconds = |key: &str, value: Option<f64>| match value {
        Some(ms) if !(ms.is_finite() && ms >= 0.0) => Err(format!(
            "[guard] {key} = {ms} is out of range: 0 or more milliseconds"
        )),
        _ => Ok(value),
    };
    if let Some(ms) = milliseconds("min_latency_ms", raw.min_latency_ms)? {
        evidence.latency.min_ms = ms;
    }
    evidence.latency.max_p99_ms = milliseconds("max_p99_ms", raw.max_p99_ms)?;
    if let Some(alarms) = raw.alarms {
        if alarms.len() > MAX_ALARMS {
            return Err(format!(
                "[guard] alarms names {} alarms: at most {MAX_ALARMS} (one DescribeAlarms call)",
                alarms.len()
            ));
        }
        if let Some(bad) = alarms
            .iter()
            .find(|a| a.is_empty() || a.chars().count() > MAX_NAME_CHARS)
        {
            return Err(format!(
                "[guard] alarms: '{bad}' is not an alarm name: 1 to {MAX_NAME_CHARS} characters"
            ));
        }
        evidence.alarms = alarms;
    }
    if let Some(ms) = evidence.latency.max_p99_ms
        && ms <= 0.0
    {
        return Err(format!(
            "[guard] max_p99_ms = {ms} is out of range: above 0 milliseconds (a ceiling of 0 \
             refuses every build)"
        ));
    }
    if guard.first_step > guard.max_step {
        return Err(format!(
            "[guard] first_step = {} is over max_step = {}: the first step cannot be larger \
             than any step may be",
            guard.first_step, guard.max_step
        ));
    }
    for raw in raw.metric.unwrap_or_default() {
        let metric = metric(raw)?;
        if evidence.metrics.iter().any(|m| m.name == metric.name) {
            return Err(format!(
                "[[guard.metric]] '{}' is named twice: each row of the evidence needs its own name",
                metric.name
            ));
        }
        evidence.metrics.push(metric);
    }
    Ok((guard, evidence))
}

fn metric(raw: RawMetric) -> Result<CustomMetric, String> {
    let name = raw.name;
    let at = format!("[[guard.metric]] '{name}'");
    if name.trim().is_empty() {
        return Err("[[guard.metric]] name = \"\": give it a name to show in the evidence".into());
    }
    let source = match (raw.expression, raw.namespace, raw.metric) {
        (Some(expression), None, None) => {
            if expression.is_empty() || expression.chars().count() > MAX_EXPRESSION_CHARS {
                return Err(format!(
                    "{at}: expression must be 1 to {MAX_EXPRESSION_CHARS} characters"
                ));
            }
            if raw.dimensions.is_some() || raw.stat.is_some() {
                return Err(format!(
                    "{at}: dimensions and stat belong to a metric, not to an expression"
                ));
            }
            unknown_placeholder(&expression)
                .map_or(Ok(()), |bad| Err(placeholder_error(&at, "expression", bad)))?;
            MetricSource::Expression(expression)
        }
        (None, Some(namespace), Some(metric)) => {
            let dimensions: Vec<(String, String)> =
                raw.dimensions.unwrap_or_default().into_iter().collect();
            if namespace.is_empty()
                || namespace.starts_with(':')
                || namespace.len() > MAX_NAME_CHARS
            {
                return Err(format!(
                    "{at}: namespace '{namespace}' is not a CloudWatch namespace (1 to \
                     {MAX_NAME_CHARS} characters, not starting with ':')"
                ));
            }
            if metric.is_empty() || metric.len() > MAX_NAME_CHARS {
                return Err(format!(
                    "{at}: metric must be 1 to {MAX_NAME_CHARS} characters"
                ));
            }
            if dimensions.len() > MAX_DIMENSIONS {
                return Err(format!("{at}: at most {MAX_DIMENSIONS} dimensions"));
            }
            let stat = raw.stat.unwrap_or_else(|| "Average".into());
            if !is_statistic(&stat) {
                return Err(format!(
                    "{at}: stat = \"{stat}\" is not a CloudWatch statistic: SampleCount, \
                     Average, Sum, Minimum, Maximum, IQM, a percentile such as p99, or tm90, \
                     wm90, tc90, ts90, TM(10%:90%) and the like"
                ));
            }
            for (key, value) in &dimensions {
                unknown_placeholder(value).map_or(Ok(()), |bad| {
                    Err(placeholder_error(&at, &format!("dimension {key}"), bad))
                })?;
            }
            MetricSource::Metric {
                namespace,
                metric,
                dimensions,
                stat,
            }
        }
        _ => {
            return Err(format!(
                "{at} needs either expression = \"…\" or both namespace and metric"
            ));
        }
    };
    let mut limits = Vec::new();
    for (key, value, limit) in [
        (
            "max_ratio",
            raw.max_ratio,
            MetricLimit::Ratio as fn(f64) -> MetricLimit,
        ),
        ("max_increase", raw.max_increase, MetricLimit::Increase),
        ("max", raw.max, MetricLimit::Ceiling),
    ] {
        if let Some(value) = value {
            if !value.is_finite() || value < 0.0 || (key == "max_ratio" && value <= 0.0) {
                return Err(format!("{at}: {key} = {value} is out of range"));
            }
            limits.push(limit(value));
        }
    }
    if limits.is_empty() {
        return Err(format!(
            "{at} needs a limit: max_ratio (× the live side), max_increase (over the live \
             side) or max (a ceiling)"
        ));
    }
    Ok(CustomMetric {
        name,
        source,
        limits,
    })
}

/// Whether CloudWatch knows `stat`: the plain statistics, percentiles (`p99`, `p99.9`), and
/// the trimmed and winsorized family (`tm90`, `TM(10%:90%)`, `PR(:300)`), as the CloudWatch
/// User Guide's "Statistics definitions" lists them.
fn is_statistic(stat: &str) -> bool {
    const PLAIN: [&str; 6] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum", "IQM"];
    if PLAIN.contains(&stat) || stat == "p100" {
        return true;
    }
    let number = |text: &str| {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, "0"));
        (1..=2).contains(&whole.len())
            && whole.chars().all(|c| c.is_ascii_digit())
            && (1..=10).contains(&fraction.len())
            && fraction.chars().all(|c| c.is_ascii_digit())
    };
    let short = ["p", "tm", "wm", "tc", "ts"]
        .iter()
        .any(|prefix| stat.strip_prefix(prefix).is_some_and(number));
    let ranged = ["TM", "WM", "TC", "TS", "PR", "tm", "wm", "tc", "ts"]
        .iter()
        .any(|prefix| {
            stat.strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('('))
                .and_then(|rest| rest.strip_suffix(')'))
                .is_some_and(|range| range.contains(':') && !range.contains(['(', ')']))
        });
    short || ranged
}

/// The first `{word}` in `text` that is not one of cutover's placeholders, where one is.
fn unknown_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open..];
        let close = after.find('}')?;
        let candidate = &after[..=close];
        let word = &candidate[1..candidate.len() - 1];
        let looks_like_one =
            !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if looks_like_one && !crate::domain::PLACEHOLDERS.contains(&candidate) {
            return Some(candidate);
        }
        rest = &after[close + 1..];
    }
    None
}

fn placeholder_error(at: &str, key: &str, bad: &str) -> String {
    format!(
        "{at}: {key} uses {bad}, which is not a placeholder: use {}",
        crate::domain::PLACEHOLDERS.join(", ")
    )
}

fn side(name: &str, raw: Option<RawSide>) -> Result<SideConfig, String> {
    let raw =
        raw.ok_or_else(|| format!("missing [{name}]: add cluster, service and target_group_arn"))?;
    let field = |key: &str, value: Option<String>| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| format!("[{name}] needs {key}"))
    };
    let config = SideConfig {
        cluster: field("cluster", raw.cluster)?,
        service: field("service", raw.service)?,
        target_group_arn: field("target_group_arn", raw.target_group_arn)?,
    };
    check_arn(
        &format!("{name}.target_group_arn"),
        &config.target_group_arn,
        ":targetgroup/",
        "a target group ARN (…:targetgroup/<name>/<id>)",
    )?;
    Ok(config)
}

/// `[service]` as two sides: blue its primary target group, green its alternate.
fn native_sides(raw: RawService) -> Result<(SideConfig, SideConfig), String> {
    let field = |key: &str, value: Option<String>| {
        value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            format!("[service] needs {key} (cutover init --service CLUSTER/SERVICE writes it)")
        })
    };
    let cluster = field("cluster", raw.cluster)?;
    let service = field("name", raw.name)?;
    let primary = field("target_group_arn", raw.target_group_arn)?;
    let alternate = field("alternate_target_group_arn", raw.alternate_target_group_arn)?;
    for (key, arn) in [
        ("service.target_group_arn", &primary),
        ("service.alternate_target_group_arn", &alternate),
    ] {
        check_arn(
            key,
            arn,
            ":targetgroup/",
            "a target group ARN (…:targetgroup/<name>/<id>)",
        )?;
    }
    if primary == alternate {
        return Err(
            "[service] target_group_arn and alternate_target_group_arn are the same: \
                    ECS-native deployments need two groups (loadBalancers[].advancedConfiguration)"
                .into(),
        );
    }
    let side = |target_group_arn: String| SideConfig {
        cluster: cluster.clone(),
        service: service.clone(),
        target_group_arn,
    };
    Ok((side(primary), side(alternate)))
}

/// The listener or the rule of `at` (`[traffic]`, or a fleet entry): exactly one, each the
/// ARN it claims to be; `key` prefixes the key named in an error.
pub(crate) fn traffic_target(
    listener_arn: Option<String>,
    rule_arn: Option<String>,
    at: &str,
    key: &str,
) -> Result<TrafficTarget, String> {
    match (listener_arn, rule_arn) {
        (Some(_), Some(_)) => Err(format!(
            "{at} has both listener_arn and rule_arn: keep exactly one (the listener whose \
             default action forwards, or the rule that forwards)"
        )),
        (None, None) => Err(format!(
            "{at} needs listener_arn or rule_arn: the listener whose default action forwards to \
             both target groups, or the rule that does"
        )),
        (Some(arn), None) => {
            check_arn(
                &format!("{key}listener_arn"),
                &arn,
                ":listener/app/",
                "a listener ARN (…:listener/app/<lb>/<id>/<id>)",
            )?;
            Ok(TrafficTarget::Listener(arn))
        }
        (None, Some(arn)) => {
            check_arn(
                &format!("{key}rule_arn"),
                &arn,
                ":listener-rule/app/",
                "a listener rule ARN (…:listener-rule/app/<lb>/<id>/<id>/<id>)",
            )?;
            Ok(TrafficTarget::Rule(arn))
        }
    }
}

fn check_arn(key: &str, value: &str, marker: &str, wanted: &str) -> Result<(), String> {
    let is_elb_arn = value.starts_with("arn:") && value.contains(":elasticloadbalancing:");
    if is_elb_arn && value.contains(marker) {
        Ok(())
    } else {
        Err(format!("{key} = \"{value}\" is not {wanted}"))
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_looked_for_by_flag_variable_here_then_in_the_users_config_dir() {
        let flag = Path::new("/etc/flag.toml");
        assert_eq!(
            locate(Some(flag), Some("/var.toml"), None),
            Ok(flag.to_path_buf())
        );
        assert_eq!(
            locate(None, Some("/var.toml"), None),
            Ok(PathBuf::from("/var.toml"))
        );
        // (The crate's directory, where tests run, has no cutover.toml.)
        assert!(!Path::new("cutover.toml").exists());
        let home = std::env::temp_dir().join(format!("cutover-xdg-{}", std::process::id()));
        let user = home.join("cutover").join("cutover.toml");
        let _ = std::fs::remove_dir_all(&home);
        let error = locate(None, Some(""), Some(&home)).unwrap_err();
        assert!(
            error
                .message
                .contains("--config, $CUTOVER_CONFIG, ./cutover.toml")
                && error.message.contains(&user.display().to_string())
                && error.message.contains("cutover init"),
            "{}",
            error.message
        );
        std::fs::create_dir_all(user.parent().unwrap_or(&home)).expect("a config dir");
        std::fs::write(&user, "").expect("a config file");
        assert_eq!(locate(None, None, Some(&home)), Ok(user));
        let _ = std::fs::remove_dir_all(&home);
    }

    const LISTENER: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2";
    const RULE: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee";
    const BLUE_TG: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue/73e2d6bc24d8a067";
    const GREEN_TG: &str = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-green/2453ed029918f21f";

    fn config_text(traffic: &str) -> String {
        format!(
            "[aws]\nregion = \"eu-west-1\"\n\n[traffic]\n{traffic}\n\n[blue]\ncluster = \"shop-blue\"\nservice = \"shop-blue\"\ntarget_group_arn = \"{BLUE_TG}\"\n\n[green]\ncluster = \"shop-green\"\nservice = \"shop-green\"\ntarget_group_arn = \"{GREEN_TG}\"\n"
        )
    }

    fn parse_text(text: &str) -> Result<Config, ConfigError> {
        parse(Path::new("cutover.toml"), text, &AwsSettings::default())
    }

    #[test]
    fn a_listener_config_parses_with_dimensions() {
        let config =
            parse_text(&config_text(&format!("listener_arn = \"{LISTENER}\""))).expect("valid");
        assert_eq!(
            config.estate.traffic,
            TrafficTarget::Listener(LISTENER.into())
        );
        assert_eq!(
            config.estate.traffic.load_balancer_dimension().as_deref(),
            Some("app/shop/50dc6c495c0c9188")
        );
        assert_eq!(
            config.estate.blue.target_group_dimension(),
            "targetgroup/shop-blue/73e2d6bc24d8a067"
        );
        assert_eq!(config.estate.aws.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn a_rule_config_parses_with_the_same_load_balancer_dimension() {
        let config = parse_text(&config_text(&format!("rule_arn = \"{RULE}\""))).expect("valid");
        assert_eq!(
            config.estate.traffic.load_balancer_dimension().as_deref(),
            Some("app/shop/50dc6c495c0c9188")
        );
        assert_eq!(config.estate.traffic.region(), Some("eu-west-1"));
        assert_eq!(config.estate.traffic.account(), Some("123456789012"));
    }

    #[test]
    fn flags_override_the_file() {
        let overrides = AwsSettings {
            profile: Some("prod".into()),
            endpoint_url: Some("http://127.0.0.1:5000".into()),
            ..Default::default()
        };
        let text = config_text(&format!("listener_arn = \"{LISTENER}\""));
        let config = parse(Path::new("c.toml"), &text, &overrides).expect("valid");
        assert_eq!(config.estate.aws.profile.as_deref(), Some("prod"));
        assert_eq!(
            config.estate.aws.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );
    }

    #[test]
    fn a_region_other_than_the_load_balancers_is_refused_naming_where_it_came_from() {
        let overrides = AwsSettings {
            region: Some("us-east-1".into()),
            ..Default::default()
        };
        let text = config_text(&format!("listener_arn = \"{LISTENER}\""));
        let error = parse(Path::new("c.toml"), &text, &overrides).unwrap_err();
        assert!(
            error.message.starts_with(
                "--region us-east-1 does not match the region of [traffic] listener_arn (eu-west-1)"
            ),
            "{error}"
        );
        let in_file = text.replace("region = \"eu-west-1\"", "region = \"us-east-1\"");
        let error = parse_text(&in_file).unwrap_err();
        assert!(
            error.message.starts_with("[aws] region us-east-1"),
            "{error}"
        );
    }

    #[test]
    fn both_or_neither_traffic_arn_is_refused() {
        let both = parse_text(&config_text(&format!(
            "listener_arn = \"{LISTENER}\"\nrule_arn = \"{RULE}\""
        )))
        .unwrap_err();
        assert!(
            both.message.contains("both listener_arn and rule_arn"),
            "{both}"
        );
        let neither = parse_text(&config_text("")).unwrap_err();
        assert!(
            neither.message.contains("needs listener_arn or rule_arn"),
            "{neither}"
        );
    }

    #[test]
    fn an_arn_of_the_wrong_kind_is_named() {
        let err = parse_text(&config_text(&format!("listener_arn = \"{BLUE_TG}\""))).unwrap_err();
        assert!(err.to_string().contains("traffic.listener_arn = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-blue"), "{err}");
        assert!(err.to_string().contains("is not a listener ARN"), "{err}");
        let err = parse_text(&config_text(&format!("rule_arn = \"{LISTENER}\""))).unwrap_err();
        assert!(err.message.contains("is not a listener rule ARN"), "{err}");
    }

    #[test]
    fn garbled_toml_names_line_and_column() {
        let err = parse_text("[traffic]\nlistener_arn = \"unterminated\n").unwrap_err();
        assert_eq!(err.position.map(|p| p.0), Some(2), "{err}");
        assert!(err.to_string().starts_with("cutover.toml:2:"), "{err}");
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let text = config_text(&format!("listener_arn = \"{LISTENER}\"\nweight = 3"));
        let err = parse_text(&text).unwrap_err();
        assert!(err.message.contains("unknown field `weight`"), "{err}");
        assert!(err.position.is_some());
    }

    #[test]
    fn a_missing_side_or_key_is_named() {
        let text = config_text(&format!("listener_arn = \"{LISTENER}\""))
            .replace("service = \"shop-green\"\n", "");
        assert_eq!(
            parse_text(&text).unwrap_err().message,
            "[green] needs service"
        );
    }

    #[test]
    fn plans_and_guard_thresholds_parse() {
        let text = config_text(&format!("listener_arn = \"{LISTENER}\"")) + "read_only = false\n"; // a top-level key after a table belongs to that table
        assert!(
            parse_text(&text).is_err(),
            "read_only must stand before the first table"
        );
        let text = format!(
            "read_only = true\n{}\n[plan]\nsteps = [10, 50, 100]\nbake_seconds = 60\non_breach = \"pause\"\n\n[guard]\nmin_requests = 500\ntolerance_points = 1.0\nmax_error_rate_percent = 2\nmax_step = 50\n",
            config_text(&format!("listener_arn = \"{LISTENER}\""))
        );
        let config = parse_text(&text).expect("valid");
        assert!(config.read_only);
        assert_eq!(
            config.plan,
            Some((
                PlanSpec::Steps {
                    steps: vec![10, 50, 100],
                    bake: Duration::from_secs(60)
                },
                OnBreach::Pause
            ))
        );
        assert_eq!(config.evidence.min_requests, 500);
        assert_eq!(config.evidence.tolerance, 0.01);
        assert_eq!(config.evidence.max_error_rate, 0.02);
        assert_eq!(config.guard.max_step, 50);
        assert_eq!(config.guard.first_step, 10);
        assert_eq!(
            (config.role_bake, config.scale_down_after_bake),
            (Duration::from_secs(300), false)
        );
        let with_deploy =
            format!("{text}\n[deploy]\nbake_seconds = 600\nscale_down_after_bake = true\n");
        let config = parse_text(&with_deploy).expect("valid");
        assert_eq!(
            (config.role_bake, config.scale_down_after_bake),
            (Duration::from_secs(600), true)
        );
    }

    #[test]
    fn alarms_latency_limits_and_custom_metrics_parse() {
        let base = config_text(&format!("listener_arn = \"{LISTENER}\""));
        let config = parse_text(&format!(
            "{base}\n[guard]\nmax_latency_ratio = 2\nmin_latency_ms = 100\nmax_p99_ms = 900\n\
             alarms = [\"shop-5xx\"]\n\n[[guard.metric]]\nname = \"checkout errors\"\n\
             namespace = \"shop\"\nmetric = \"CheckoutErrors\"\n\
             dimensions = {{ ServiceName = \"{{service}}\" }}\nstat = \"Sum\"\nmax_ratio = 1.5\n\
             max = 50\n\n[[guard.metric]]\nname = \"queue\"\nexpression = \"SELECT 1\"\n\
             max_increase = 10\n"
        ))
        .expect("valid");
        let latency = config.evidence.latency;
        assert_eq!(
            (latency.max_ratio, latency.min_ms, latency.max_p99_ms),
            (2.0, 100.0, Some(900.0))
        );
        assert_eq!(config.evidence.alarms, ["shop-5xx"]);
        assert_eq!(
            config.estate.alarms,
            ["shop-5xx"],
            "the platform reads them"
        );
        let metrics = &config.evidence.metrics;
        assert_eq!(metrics.len(), 2);
        assert_eq!(
            metrics[0].limits,
            [MetricLimit::Ratio(1.5), MetricLimit::Ceiling(50.0)]
        );
        assert_eq!(
            metrics[0].source,
            MetricSource::Metric {
                namespace: "shop".into(),
                metric: "CheckoutErrors".into(),
                dimensions: vec![("ServiceName".into(), "{service}".into())],
                stat: "Sum".into(),
            }
        );
        assert_eq!(
            metrics[1].source,
            MetricSource::Expression("SELECT 1".into())
        );
        assert_eq!(config.estate.metrics, *metrics);
        let labelled = parse_text(&format!("{base}\n[ui]\nlabel = \"PROD\"\n")).expect("valid");
        assert_eq!(
            labelled
                .settings(Duration::from_secs(5), false)
                .label
                .as_deref(),
            Some("PROD")
        );
    }

    #[test]
    fn bad_plans_and_thresholds_are_named() {
        let base = config_text(&format!("listener_arn = \"{LISTENER}\""));
        for (extra, expected) in [
            (
                "[plan]\nsteps = [10, 5, 100]\n",
                "[plan]: plan steps must go up: 5 comes after 10",
            ),
            (
                "[plan]\nsteps = [10, 150]\n",
                "[plan]: plan step 150 is over 100",
            ),
            (
                "[plan]\nsteps = [10]\nlinear = { step = 10, every_seconds = 60 }\n",
                "[plan] needs exactly one of",
            ),
            (
                "[plan]\ncanary = { percent = 10, bake_seconds = 300 }\non_breach = \"panic\"\n",
                "on_breach = \"panic\" is not known",
            ),
            (
                "[guard]\nmax_error_rate_percent = 0\n",
                "max_error_rate_percent = 0 is out of range",
            ),
            ("[guard]\nmax_step = 0\n", "max_step = 0 is out of range"),
            (
                "[guard]\ntolerance_points = -1\n",
                "tolerance_points = -1 is out of range",
            ),
            (
                "[guard]\nmax_latency_ratio = 0.5\n",
                "max_latency_ratio = 0.5 is out of range",
            ),
            (
                "[guard]\nmin_latency_ms = -1\n",
                "min_latency_ms = -1 is out of range",
            ),
            ("[guard]\nalarms = [\"\"]\n", "'' is not an alarm name"),
            (
                "[[guard.metric]]\nname = \"q\"\nnamespace = \"shop\"\n",
                "[[guard.metric]] 'q' needs either expression",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nexpression = \"SEARCH()\"\n",
                "[[guard.metric]] 'q' needs a limit",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nexpression = \"x\"\nstat = \"Sum\"\nmax = 1\n",
                "dimensions and stat belong to a metric",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nnamespace = \":x\"\nmetric = \"m\"\nmax = 1\n",
                "namespace ':x' is not a CloudWatch namespace",
            ),
            (
                "[ui]\nlabel = \"\"\n",
                "[ui] label = \"\": give 1 to 24 characters",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nnamespace = \"shop\"\nmetric = \"m\"\nstat = \"Total\"\nmax = 1\n",
                "stat = \"Total\" is not a CloudWatch statistic",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nnamespace = \"shop\"\nmetric = \"m\"\ndimensions = { ServiceName = \"{servce}\" }\nmax = 1\n",
                "dimension ServiceName uses {servce}, which is not a placeholder",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nexpression = \"SELECT SUM(x) FROM s WHERE c = '{clster}'\"\nmax = 1\n",
                "expression uses {clster}, which is not a placeholder",
            ),
            (
                "[[guard.metric]]\nname = \"q\"\nexpression = \"x\"\nmax = 1\n\n[[guard.metric]]\nname = \"q\"\nexpression = \"y\"\nmax = 2\n",
                "[[guard.metric]] 'q' is named twice",
            ),
            (
                "[guard]\nfirst_step = 30\nmax_step = 20\n",
                "first_step = 30 is over max_step = 20",
            ),
            (
                "[guard]\nmax_p99_ms = 0\n",
                "max_p99_ms = 0 is out of range",
            ),
            (
                "[ui]\nlabel = \"PRODUCTION-EU-WEST-1-SHOP-CHECKOUT\"\n",
                "give 1 to 24 characters",
            ),
        ] {
            let err = parse_text(&format!("{base}\n{extra}")).expect_err(extra);
            assert!(err.message.contains(expected), "{extra}: {err}");
        }
    }

    #[test]
    fn statistics_cloudwatch_knows_are_taken_and_others_refused() {
        for stat in [
            "Sum",
            "Average",
            "p99",
            "p99.9",
            "p100",
            "IQM",
            "tm90",
            "TM(10%:90%)",
            "PR(:300)",
        ] {
            assert!(is_statistic(stat), "{stat}");
        }
        for stat in ["Total", "sum", "p", "p999", "p99.", "TM10", "avg", ""] {
            assert!(!is_statistic(stat), "{stat}");
        }
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../assets/cutover.example.toml");
        let config = parse_text(text).expect("the example parses");
        assert!(matches!(config.estate.traffic, TrafficTarget::Listener(_)));
        assert_eq!(config.estate.aws, AwsSettings::default());
    }

    #[test]
    fn a_missing_file_says_how_to_fix_it() {
        let err = load(
            Path::new("/nonexistent/cutover.toml"),
            &AwsSettings::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("no such file"), "{err}");
        assert!(err.to_string().contains("--config PATH"), "{err}");
    }
}
