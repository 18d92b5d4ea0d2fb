//! A fleet file: many pairs and ECS-native services in one file, watched by `cutover fleet` on
//! one API budget. Each `[[pair]]` and `[[service]]` entry is validated like a console's
//! file, and every error names the entry and the key.
//!
//! ```toml
//! [aws]
//! region = "eu-west-1"
//!
//! [[pair]]
//! name = "checkout"
//! rule_arn = "arn:aws:elasticloadbalancing:…:listener-rule/app/shop/…"
//! blue = { cluster = "shop", service = "checkout-blue", target_group_arn = "…" }
//! green = { cluster = "shop", service = "checkout-green", target_group_arn = "…" }
//!
//! [[service]]
//! name = "search"
//! rule_arn = "arn:aws:elasticloadbalancing:…:listener-rule/app/shop/…"
//! cluster = "shop"
//! service = "search"
//! target_group_arn = "…"
//! alternate_target_group_arn = "…"
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{
    AwsSettings, ConfigError, Estate, RawAws, RawGuard, RawService, RawSide, guard, line_column,
    native_sides, side, traffic_target,
};
use crate::shift::{EvidenceSettings, GuardSettings};

/// A row's name: short enough for a column, plain text.
const MAX_NAME_CHARS: usize = 40;
/// More rows than this is not "at a glance", and not one budget.
pub const MAX_ENTRIES: usize = 200;

/// What `cutover fleet` watches.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    pub source: PathBuf,
    pub aws: AwsSettings,
    pub entries: Vec<FleetEntry>,
    pub guard: GuardSettings,
    pub evidence: EvidenceSettings,
    pub read_only: bool,
}

/// One row: its name, and the estate a console for it would watch.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetEntry {
    pub name: String,
    pub estate: Estate,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFleet {
    read_only: Option<bool>,
    aws: Option<RawAws>,
    guard: Option<RawGuard>,
    #[serde(default)]
    pair: Vec<RawPair>,
    #[serde(default)]
    service: Vec<RawNative>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPair {
    name: Option<String>,
    listener_arn: Option<String>,
    rule_arn: Option<String>,
    blue: Option<RawSide>,
    green: Option<RawSide>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNative {
    name: Option<String>,
    listener_arn: Option<String>,
    rule_arn: Option<String>,
    cluster: Option<String>,
    service: Option<String>,
    target_group_arn: Option<String>,
    alternate_target_group_arn: Option<String>,
}

/// Whether `text` is a fleet file (it has `[[pair]]` or `[[service]]` entries).
pub fn is_fleet(text: &str) -> bool {
    let Ok(value) = text.parse::<toml::Table>() else {
        return false;
    };
    value.get("pair").is_some_and(toml::Value::is_array)
        || value.get("service").is_some_and(toml::Value::is_array)
}

pub fn load(path: &Path, overrides: &AwsSettings) -> Result<Fleet, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        position: None,
        message: format!("cannot read it: {e}"),
    })?;
    parse(path, &text, overrides)
}

pub fn parse(path: &Path, text: &str, overrides: &AwsSettings) -> Result<Fleet, ConfigError> {
    let error = |message: String| ConfigError {
        path: path.to_path_buf(),
        position: None,
        message,
    };
    let raw: RawFleet = toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        position: e.span().map(|span| line_column(text, span.start)),
        message: e.message().trim().to_string(),
    })?;
    let file_aws = raw.aws.map_or_else(AwsSettings::default, |a| AwsSettings {
        profile: a.profile,
        region: a.region,
        endpoint_url: a.endpoint_url,
    });
    let aws = AwsSettings {
        profile: overrides.profile.clone().or(file_aws.profile),
        region: overrides.region.clone().or(file_aws.region),
        endpoint_url: overrides.endpoint_url.clone().or(file_aws.endpoint_url),
    };
    let (guard, evidence) = guard(raw.guard).map_err(&error)?;
    let count = raw.pair.len() + raw.service.len();
    if count == 0 {
        return Err(error(
            "a fleet needs at least one [[pair]] or [[service]] entry, each with a name".into(),
        ));
    }
    if count > MAX_ENTRIES {
        return Err(error(format!(
            "{count} entries: a fleet holds at most {MAX_ENTRIES}; split it into several files"
        )));
    }
    let estate = |traffic, blue, green, native| Estate {
        source: path.to_path_buf(),
        aws: aws.clone(),
        traffic,
        blue,
        green,
        native,
        alarms: evidence.alarms.clone(),
        metrics: evidence.metrics.clone(),
    };
    let mut entries = Vec::new();
    let mut names = BTreeSet::new();
    for (index, pair) in raw.pair.into_iter().enumerate() {
        let at = entry_name("pair", index, pair.name.as_deref());
        let name = row_name(&at, pair.name).map_err(&error)?;
        let traffic = traffic_target(pair.listener_arn, pair.rule_arn, &at, "")
            .map_err(|m| error(format!("{at}: {m}")))?;
        let blue = side("blue", pair.blue).map_err(|m| error(format!("{at}: {m}")))?;
        let green = side("green", pair.green).map_err(|m| error(format!("{at}: {m}")))?;
        if blue.target_group_arn == green.target_group_arn
            || (&blue.cluster, &blue.service) == (&green.cluster, &green.service)
        {
            return Err(error(format!(
                "{at}: blue and green name the same service or target group: each side needs \
                 its own (one service that deploys itself is a [[service]] entry)"
            )));
        }
        if !names.insert(name.clone()) {
            return Err(error(format!(
                "{at}: the name is used twice: each row needs its own"
            )));
        }
        entries.push(FleetEntry {
            name,
            estate: estate(traffic, blue, green, false),
        });
    }
    for (index, native) in raw.service.into_iter().enumerate() {
        let at = entry_name("service", index, native.name.as_deref());
        let name = row_name(&at, native.name).map_err(&error)?;
        let traffic = traffic_target(native.listener_arn, native.rule_arn, &at, "")
            .map_err(|m| error(format!("{at}: {m}")))?;
        let (blue, green) = native_sides(RawService {
            cluster: native.cluster,
            name: native.service,
            target_group_arn: native.target_group_arn,
            alternate_target_group_arn: native.alternate_target_group_arn,
        })
        .map_err(|m| {
            error(format!(
                "{at}: {}",
                m.replace("[service] needs name", "[service] needs service")
            ))
        })?;
        if !names.insert(name.clone()) {
            return Err(error(format!(
                "{at}: the name is used twice: each row needs its own"
            )));
        }
        entries.push(FleetEntry {
            name,
            estate: estate(traffic, blue, green, true),
        });
    }
    Ok(Fleet {
        source: path.to_path_buf(),
        aws,
        entries,
        guard,
        evidence,
        read_only: raw.read_only.unwrap_or(false),
    })
}

/// How an error names an entry: `[[pair]] "checkout"`, or its place when it has no name.
fn entry_name(kind: &str, index: usize, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("[[{kind}]] {name:?}"),
        None => format!("[[{kind}]] number {}", index + 1),
    }
}

fn row_name(at: &str, name: Option<String>) -> Result<String, String> {
    let name = name.ok_or_else(|| format!("{at} needs a name (name = \"checkout\")"))?;
    if name.trim().is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(format!(
            "{at}: name = {name:?}: give 1 to {MAX_NAME_CHARS} characters of plain text"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/shop/1/2/3";
    const LISTENER: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/shop/1/2";

    fn group(name: &str) -> String {
        format!("arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/{name}/9")
    }

    fn pair(name: &str, traffic: &str) -> String {
        format!(
            "[[pair]]\nname = \"{name}\"\n{traffic}\nblue = {{ cluster = \"shop\", service = \
             \"{name}-blue\", target_group_arn = \"{}\" }}\ngreen = {{ cluster = \"shop\", \
             service = \"{name}-green\", target_group_arn = \"{}\" }}\n",
            group(&format!("{name}-blue")),
            group(&format!("{name}-green"))
        )
    }

    fn native(name: &str) -> String {
        format!(
            "[[service]]\nname = \"{name}\"\nrule_arn = \"{RULE}\"\ncluster = \"shop\"\nservice \
             = \"{name}\"\ntarget_group_arn = \"{}\"\nalternate_target_group_arn = \"{}\"\n",
            group(&format!("{name}-a")),
            group(&format!("{name}-b"))
        )
    }

    fn parsed(text: &str) -> Result<Fleet, String> {
        parse(Path::new("fleet.toml"), text, &AwsSettings::default()).map_err(|e| e.message)
    }

    #[test]
    fn pairs_and_native_services_become_rows_with_their_estates() {
        let text = format!(
            "[aws]\nregion = \"eu-west-1\"\n\n{}\n{}\n{}",
            pair("checkout", &format!("rule_arn = \"{RULE}\"")),
            pair("cart", &format!("listener_arn = \"{LISTENER}\"")),
            native("search")
        );
        assert!(is_fleet(&text));
        let fleet = parsed(&text).expect("a fleet");
        let names: Vec<&str> = fleet.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["checkout", "cart", "search"]);
        let search = &fleet.entries[2].estate;
        assert!(search.native);
        assert_eq!(search.blue.service, "search");
        assert_eq!(search.green.target_group_arn, group("search-b"));
        assert_eq!(fleet.entries[1].estate.traffic.arn(), LISTENER);
        assert_eq!(fleet.aws.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn every_error_names_the_entry_and_the_key() {
        let no_name = pair("x", &format!("rule_arn = \"{RULE}\"")).replace("name = \"x\"\n", "");
        for (text, wanted) in [
            (String::new(), "at least one [[pair]] or [[service]]"),
            (no_name, "[[pair]] number 1 needs a name"),
            (
                pair("checkout", "rule_arn = \"nope\""),
                "[[pair]] \"checkout\": rule_arn = \"nope\" is not a listener rule ARN",
            ),
            (
                pair(
                    "checkout",
                    &format!("rule_arn = \"{RULE}\"\nlistener_arn = \"{LISTENER}\""),
                ),
                "[[pair]] \"checkout\" has both listener_arn and rule_arn",
            ),
            (
                format!(
                    "{}{}",
                    pair("dup", &format!("rule_arn = \"{RULE}\"")),
                    native("dup")
                ),
                "[[service]] \"dup\": the name is used twice",
            ),
            (
                native("search").replace("service = \"search\"\n", ""),
                "[[service]] \"search\": [service] needs service",
            ),
        ] {
            let error = parsed(&text).expect_err(wanted);
            assert!(error.contains(wanted), "{wanted:?} in {error:?}");
        }
        assert!(!is_fleet(
            "[traffic]\nrule_arn = \"x\"\n[service]\ncluster = \"c\"\n"
        ));
    }
}
