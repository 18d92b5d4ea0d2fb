//! `cutover init --all --cluster C`: a fleet file of every pair and ECS-native service a cluster
//! holds, and the list of what was skipped and why.
//!
//! A pair is two services of the cluster whose one target group each is named, with no third
//! group, by one forward action (a listener's default or a rule): the service with the greater
//! weight is blue. A service with `advancedConfiguration` on its load balancer is an ECS-native
//! `[[service]]`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::cli::GlobalArgs;
use crate::config::AwsSettings;
use crate::domain::Failure;
use crate::platform::aws::discover::{self, ServiceRef};
use crate::platform::aws::estate::TrafficTarget;
use crate::platform::aws::{ecs, elbv2, sdk_config};

/// One entry found, as the file writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Pair {
        name: String,
        traffic: TrafficTarget,
        cluster: String,
        blue: (String, String),
        green: (String, String),
    },
    Native(super::init_native::NativeFound),
}

pub async fn run(global: &GlobalArgs, path: &Path, cluster: &str) -> Result<String, Failure> {
    let aws = super::aws_overrides(global);
    let (sdk, region) = sdk_config(&aws, None, path).await?;
    let ecs_client = aws_sdk_ecs::Client::new(&sdk);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    let names = ecs::service_names(&ecs_client, cluster)
        .await
        .map_err(|e| bad_input(format!("--cluster {cluster}: {e}")))?;
    let mut services = BTreeMap::new();
    for chunk in names.chunks(10) {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        services.extend(
            ecs::describe_services(&ecs_client, cluster, &chunk)
                .await
                .map_err(|e| Failure::Failed(anyhow::anyhow!("reading {cluster}: {e}")))?,
        );
    }
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    // Natives first: their groups are theirs.
    let mut pairable: BTreeMap<String, String> = BTreeMap::new();
    for (name, service) in &services {
        let named = ServiceRef {
            cluster: cluster.to_string(),
            service: name.clone(),
        };
        if service
            .load_balancers()
            .iter()
            .any(|lb| lb.advanced_configuration().is_some())
        {
            match super::init_native::examine(&named, service) {
                Ok(native) => found.push(Found::Native(native)),
                Err(why) => skipped.push(format!("{name}: {:#}", why.error())),
            }
            continue;
        }
        match discover::groups_of(service).as_slice() {
            [] => skipped.push(format!("{name}: no target group")),
            [one] => {
                pairable.insert(one.clone(), name.clone());
            }
            many => skipped.push(format!(
                "{name}: registers in {} target groups; write its entry by hand",
                many.len()
            )),
        }
    }
    let groups: Vec<&str> = pairable.keys().map(String::as_str).collect();
    let balancers = if groups.is_empty() {
        HashMap::new()
    } else {
        elbv2::load_balancers_of(&elb, &groups)
            .await
            .map_err(|e| Failure::Failed(anyhow::anyhow!("reading the target groups: {e}")))?
    };
    let mut load_balancers: Vec<&String> = balancers.values().flatten().collect();
    load_balancers.sort();
    load_balancers.dedup();
    let mut paired: BTreeMap<String, String> = BTreeMap::new();
    for load_balancer in load_balancers {
        let routes = elbv2::routes(&elb, load_balancer)
            .await
            .map_err(|e| Failure::Failed(anyhow::anyhow!("reading {load_balancer}: {e}")))?;
        for route in routes {
            for forward in route.forwards() {
                let [(a, wa), (b, wb)] = forward.as_slice() else {
                    continue;
                };
                let (Some(sa), Some(sb)) = (pairable.get(a), pairable.get(b)) else {
                    continue;
                };
                if paired.contains_key(sa) || paired.contains_key(sb) {
                    continue;
                }
                let ((blue, blue_group), (green, green_group)) = if wa >= wb {
                    ((sa, a), (sb, b))
                } else {
                    ((sb, b), (sa, a))
                };
                let traffic = if route.is_default {
                    TrafficTarget::Listener(route.listener_arn.clone())
                } else {
                    TrafficTarget::Rule(route.rule_arn.clone())
                };
                let name = pair_name(blue, green);
                paired.insert(blue.clone(), name.clone());
                paired.insert(green.clone(), name.clone());
                found.push(Found::Pair {
                    name,
                    traffic,
                    cluster: cluster.to_string(),
                    blue: (blue.clone(), blue_group.clone()),
                    green: (green.clone(), green_group.clone()),
                });
            }
        }
    }
    for service in pairable.values() {
        if !paired.contains_key(service) {
            skipped.push(format!(
                "{service}: no forward action names its group with exactly one other service's"
            ));
        }
    }
    if found.is_empty() {
        return Err(bad_input(format!(
            "--cluster {cluster}: no pair and no ECS-native service found ({})",
            if skipped.is_empty() {
                "the cluster has no service".to_string()
            } else {
                skipped.join("; ")
            }
        )));
    }
    let text = fleet_text(&found, &aws, &region);
    super::init::write_loadable_fleet(path, &text)?;
    let mut out = format!("wrote {} with {} entries\n", path.display(), found.len());
    for entry in &found {
        out += &match entry {
            Found::Pair {
                name, blue, green, ..
            } => format!("  pair     {name}: {} / {}\n", blue.0, green.0),
            Found::Native(native) => {
                format!(
                    "  service  {} (ECS {})\n",
                    native.service.service, native.strategy
                )
            }
        };
    }
    for why in &skipped {
        out += &format!("  skipped  {why}\n");
    }
    out += "next: `cutover fleet` to watch them all\n";
    Ok(out)
}

/// `checkout` for checkout-blue and checkout-green; both names joined when they share little.
fn pair_name(blue: &str, green: &str) -> String {
    let common: String = blue
        .chars()
        .zip(green.chars())
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    let common = common.trim_end_matches(['-', '_', '.']);
    if common.chars().count() >= 3 {
        common.to_string()
    } else {
        format!("{blue}+{green}")
    }
}

fn fleet_text(found: &[Found], aws: &AwsSettings, region: &str) -> String {
    use super::init::quoted;
    let mut text = String::from(
        "# A fleet, written by `cutover init --all` from what AWS reported: every pair and\n\
         # ECS-native service of the cluster. `cutover fleet` watches them on one budget.\n\n",
    );
    text += &super::init::aws_section(aws, region);
    let traffic = |t: &TrafficTarget| match t {
        TrafficTarget::Listener(arn) => format!("listener_arn = {}\n", quoted(arn)),
        TrafficTarget::Rule(arn) => format!("rule_arn = {}\n", quoted(arn)),
    };
    for entry in found {
        match entry {
            Found::Pair {
                name,
                traffic: target,
                cluster,
                blue,
                green,
            } => {
                let side = |(service, group): &(String, String)| {
                    format!(
                        "{{ cluster = {}, service = {}, target_group_arn = {} }}",
                        quoted(cluster),
                        quoted(service),
                        quoted(group)
                    )
                };
                text += &format!(
                    "\n[[pair]]\nname = {}\n{}blue = {}\ngreen = {}\n",
                    quoted(name),
                    traffic(target),
                    side(blue),
                    side(green)
                );
            }
            Found::Native(native) => {
                for warning in &native.warnings {
                    text += &format!("\n# Warning: {warning}");
                }
                text += &format!(
                    "\n[[service]]\nname = {}\n{}cluster = {}\nservice = {}\ntarget_group_arn = {}\n\
                     alternate_target_group_arn = {}\n",
                    quoted(&native.service.service),
                    traffic(&native.traffic),
                    quoted(&native.service.cluster),
                    quoted(&native.service.service),
                    quoted(&native.primary),
                    quoted(&native.alternate)
                );
            }
        }
    }
    text
}

fn bad_input(message: String) -> Failure {
    Failure::BadInput(anyhow::anyhow!(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_named_after_what_its_services_share() {
        assert_eq!(pair_name("checkout-blue", "checkout-green"), "checkout");
        assert_eq!(pair_name("web", "api"), "web+api");
    }
}
