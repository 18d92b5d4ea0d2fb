//! `cutover init`: what a config file names, found the way an operator would find it with the
//! console open: each service's target group (its `loadBalancers`), the load balancer both
//! groups are behind, and the listener default action or rule that forwards to both.

use std::collections::HashMap;

use aws_sdk_ecs::types::Service;

use super::START_PATIENCE;
use super::ecs;
use super::elbv2::{self, Route};
use super::estate::TrafficTarget;
use crate::domain::{Color, Failure};
use crate::platform::patience::retry_busy;

/// A service as the operator names it: `CLUSTER/SERVICE`, or its ARN
/// (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/SERVICE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
}

impl ServiceRef {
    pub fn parse(text: &str) -> Result<ServiceRef, String> {
        let path = match text.strip_prefix("arn:") {
            Some(_) => {
                let resource = text.splitn(6, ':').nth(5).unwrap_or_default();
                resource.strip_prefix("service/").ok_or_else(|| {
                    format!(
                        "{text:?} is not an ECS service ARN (arn:aws:ecs:…:service/CLUSTER/SERVICE)"
                    )
                })?
            }
            None => text,
        };
        match path.split('/').collect::<Vec<_>>().as_slice() {
            [cluster, service] if !cluster.is_empty() && !service.is_empty() => Ok(ServiceRef {
                cluster: cluster.to_string(),
                service: service.to_string(),
            }),
            [_] if text.starts_with("arn:") => Err(format!(
                "{text:?} is an old-format service ARN without its cluster: write CLUSTER/SERVICE"
            )),
            _ => Err(format!(
                "{text:?}: write CLUSTER/SERVICE (e.g. shop/shop-blue) or the service's ARN"
            )),
        }
    }
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.cluster, self.service)
    }
}

/// One side as found: its service, the target group it registers tasks in, and who else
/// moves its traffic (another deployment controller), if anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSide {
    pub service: ServiceRef,
    pub target_group_arn: String,
    pub watch_only: Option<String>,
}

/// A listener default action or rule whose forward action names both groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub target: TrafficTarget,
    /// `rule 10 on HTTP:80`, `listener HTTP:80 (default action)`.
    pub describe: String,
    /// `100/0` (blue/green ALB weights as they stand).
    pub weights: String,
}

impl Candidate {
    /// The flag that picks this one: `--rule ARN` or `--listener ARN`.
    pub fn flag(&self) -> String {
        match &self.target {
            TrafficTarget::Rule(arn) => format!("--rule {arn}"),
            TrafficTarget::Listener(arn) => format!("--listener {arn}"),
        }
    }
}

/// Everything `init` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub blue: FoundSide,
    pub green: FoundSide,
    pub load_balancer_arn: String,
    pub candidates: Vec<Candidate>,
}

impl Discovery {
    pub fn side(&self, color: Color) -> &FoundSide {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }
}

/// The target groups a service registers its tasks in (its `loadBalancers`).
pub fn groups_of(service: &Service) -> Vec<String> {
    service
        .load_balancers()
        .iter()
        .filter_map(|lb| lb.target_group_arn().map(str::to_string))
        .collect()
}

/// The target group a service registers its tasks in: its one group, or the one `chosen`
/// among several.
pub fn target_group_of(
    color: Color,
    named: &ServiceRef,
    groups: &[String],
    chosen: Option<&str>,
) -> Result<String, String> {
    let flag = format!("--{}-target-group", color.name());
    match (groups, chosen) {
        ([], _) => Err(format!(
            "{color} service {named} has no target group (its loadBalancers is empty): cutover \
             moves traffic between the target groups two services register in; attach one to \
             the service (a new deployment with loadBalancers) and run init again"
        )),
        (_, Some(chosen)) if groups.iter().any(|g| g == chosen) => Ok(chosen.to_string()),
        (_, Some(chosen)) => Err(format!(
            "{flag} {chosen}: {named} does not use it; it uses {}",
            groups.join(", ")
        )),
        ([one], None) => Ok(one.to_string()),
        (many, None) => Err(format!(
            "{color} service {named} registers in {} target groups: {}; pick one with {flag} ARN",
            many.len(),
            many.join(", ")
        )),
    }
}

/// The load balancer both groups are behind.
pub fn shared_load_balancer(
    blue: &str,
    green: &str,
    load_balancers: &HashMap<String, Vec<String>>,
) -> Result<String, String> {
    let of = |group: &str| load_balancers.get(group).cloned().unwrap_or_default();
    let (on_blue, on_green) = (of(blue), of(green));
    for (color, group, lbs) in [
        (Color::Blue, blue, &on_blue),
        (Color::Green, green, &on_green),
    ] {
        if lbs.is_empty() {
            return Err(format!(
                "{color}'s target group {group} is behind no load balancer: add it to a \
                 listener or rule of the ALB that serves the app"
            ));
        }
    }
    on_blue
        .iter()
        .find(|lb| on_green.contains(lb))
        .cloned()
        .ok_or_else(|| {
            format!(
                "the two target groups are behind different load balancers (blue's: {}; \
                 green's: {}): cutover moves the weights of one forward action, so both groups \
                 must be behind the same ALB, in one listener default action or rule",
                on_blue.join(", "),
                on_green.join(", ")
            )
        })
}

/// The routes whose forward action names both groups (weights may be 0) and no third one.
pub fn candidates(routes: &[Route], blue: &str, green: &str) -> Result<Vec<Candidate>, String> {
    let mut found = Vec::new();
    let mut misfits = Vec::new();
    for route in routes {
        for forward in route.forwards() {
            let weight = |group: &str| forward.iter().find(|(g, _)| g == group).map(|(_, w)| *w);
            let (Some(b), Some(g)) = (weight(blue), weight(green)) else {
                continue;
            };
            if forward.len() > 2 {
                let others: Vec<&str> = forward
                    .iter()
                    .map(|(group, _)| group.as_str())
                    .filter(|group| *group != blue && *group != green)
                    .collect();
                misfits.push(format!(
                    "{} forwards to both and also to {}: cutover moves traffic between two \
                     groups only; take the third out of that forward action",
                    route.describe(),
                    others.join(", ")
                ));
                continue;
            }
            found.push(Candidate {
                target: if route.is_default {
                    TrafficTarget::Listener(route.listener_arn.clone())
                } else {
                    TrafficTarget::Rule(route.rule_arn.clone())
                },
                describe: route.describe(),
                weights: format!("{b}/{g}"),
            });
        }
    }
    if found.is_empty() {
        if !misfits.is_empty() {
            return Err(misfits.join("; "));
        }
        let either: Vec<String> = routes
            .iter()
            .filter(|r| r.forwards_to(blue) || r.forwards_to(green))
            .map(|r| {
                let to = if r.forwards_to(blue) { "blue" } else { "green" };
                format!("{} forwards to {to} only", r.describe())
            })
            .collect();
        let seen = if either.is_empty() {
            "no listener or rule forwards to either".to_string()
        } else {
            either.join("; ")
        };
        return Err(format!(
            "no listener default action or rule of the load balancer forwards to both target \
             groups ({seen}): give the listener or rule that serves the app one forward action \
             with both groups, e.g. blue 100 and green 0, then run init again"
        ));
    }
    Ok(found)
}

/// The candidate to write: the one found, or the one `--rule` / `--listener` names.
pub fn choose(
    found: &[Candidate],
    rule: Option<&str>,
    listener: Option<&str>,
) -> Result<Candidate, String> {
    let wanted = rule
        .map(|arn| TrafficTarget::Rule(arn.to_string()))
        .or_else(|| listener.map(|arn| TrafficTarget::Listener(arn.to_string())));
    let listing = || {
        found
            .iter()
            .map(|c| format!("  {} ({}): {}", c.describe, c.weights, c.flag()))
            .collect::<Vec<_>>()
            .join("\n")
    };
    match (wanted, found) {
        (Some(wanted), _) => found
            .iter()
            .find(|c| c.target == wanted)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "{} does not forward to both groups; these do:\n{}",
                    wanted.arn(),
                    listing()
                )
            }),
        (None, [one]) => Ok(one.clone()),
        (None, _) => Err(format!(
            "{} listeners or rules forward to both groups; pick one:\n{}",
            found.len(),
            listing()
        )),
    }
}

/// Asks the operator to choose one of `items` under `title`; the index chosen.
pub type Ask<'a> = &'a dyn Fn(&str, &[String]) -> Result<usize, Failure>;

/// What the flags name besides the two services, and, in a terminal, how to ask for what
/// they do not.
#[derive(Default)]
pub struct Choices<'a> {
    pub blue_target_group: Option<String>,
    pub green_target_group: Option<String>,
    pub ask: Option<Ask<'a>>,
}

/// Reads both services, their target groups and the load balancer's listeners and rules.
/// A name AWS does not know is bad input (exit 2); an estate that does not fit is a failure
/// that says what was found and what to change (exit 1).
pub async fn discover(
    sdk: &aws_config::SdkConfig,
    region: &str,
    blue: &ServiceRef,
    green: &ServiceRef,
    choices: &Choices<'_>,
) -> Result<Discovery, Failure> {
    let ecs_client = aws_sdk_ecs::Client::new(sdk);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(sdk);
    let misfit = |message: String| Failure::Failed(anyhow::anyhow!(message));
    let mut sides = Vec::new();
    for (color, named, chosen) in [
        (Color::Blue, blue, choices.blue_target_group.as_deref()),
        (Color::Green, green, choices.green_target_group.as_deref()),
    ] {
        let names = [named.service.as_str()];
        let found = retry_busy(START_PATIENCE, "reading the service", || {
            ecs::describe_services(&ecs_client, &named.cluster, &names)
        })
        .await
        .map_err(|error| {
            // Throttling or an endpoint that does not answer is AWS's state, not the flag's.
            if error.is_transient() {
                return Failure::Failed(anyhow::anyhow!(
                    "--{} {named}: {error}; AWS still did not answer after backing off for up \
                     to {}s — try again later",
                    color.name(),
                    START_PATIENCE.as_secs()
                ));
            }
            Failure::BadInput(anyhow::anyhow!(
                "--{} {named}: {error} — check the cluster and service names, or the region \
                 ({region})",
                color.name()
            ))
        })?;
        let Some(service) = found.get(&named.service) else {
            return Err(Failure::BadInput(anyhow::anyhow!(
                "--{} {named}: no such service in {region}",
                color.name()
            )));
        };
        let groups = groups_of(service);
        let asked = match (chosen, choices.ask) {
            (None, Some(ask)) if groups.len() > 1 => {
                let title = format!("{color}'s target group ({named} registers in several)");
                Some(groups[ask(&title, &groups)?].clone())
            }
            _ => None,
        };
        let chosen = chosen.or(asked.as_deref());
        let group = target_group_of(color, named, &groups, chosen).map_err(misfit)?;
        sides.push(FoundSide {
            service: named.clone(),
            target_group_arn: group,
            watch_only: ecs::traffic_owner(service),
        });
    }
    let (blue, green) = (sides.remove(0), sides.remove(0));
    if blue.target_group_arn == green.target_group_arn {
        return Err(misfit(format!(
            "both services register in the same target group {}: blue and green need one each",
            blue.target_group_arn
        )));
    }
    let groups = [
        blue.target_group_arn.as_str(),
        green.target_group_arn.as_str(),
    ];
    let load_balancers = retry_busy(START_PATIENCE, "reading the target groups", || {
        elbv2::load_balancers_of(&elb, &groups)
    })
    .await
    .map_err(|e| Failure::Failed(anyhow::Error::new(e).context("reading the target groups")))?;
    let load_balancer_arn =
        shared_load_balancer(groups[0], groups[1], &load_balancers).map_err(misfit)?;
    let routes = retry_busy(START_PATIENCE, "reading the listeners and rules", || {
        elbv2::routes(&elb, &load_balancer_arn)
    })
    .await
    .map_err(|e| {
        Failure::Failed(anyhow::Error::new(e).context("reading the load balancer's listeners"))
    })?;
    let candidates = candidates(&routes, groups[0], groups[1]).map_err(misfit)?;
    Ok(Discovery {
        blue,
        green,
        load_balancer_arn,
        candidates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_named_by_cluster_and_name_or_by_its_arn() {
        let expected = ServiceRef {
            cluster: "shop".into(),
            service: "shop-blue".into(),
        };
        assert_eq!(ServiceRef::parse("shop/shop-blue"), Ok(expected.clone()));
        assert_eq!(
            ServiceRef::parse("arn:aws:ecs:eu-west-1:123456789012:service/shop/shop-blue"),
            Ok(expected)
        );
        for bad in [
            "shop-blue",
            "shop/",
            "a/b/c",
            "arn:aws:ecs:eu-west-1:123456789012:service/shop-blue",
            "arn:aws:ecs:eu-west-1:123456789012:cluster/shop",
        ] {
            assert!(ServiceRef::parse(bad).is_err(), "{bad}");
        }
    }

    fn service_with(groups: &[&str]) -> Service {
        let mut builder = Service::builder().service_name("shop-blue");
        for g in groups {
            builder = builder.load_balancers(
                aws_sdk_ecs::types::LoadBalancer::builder()
                    .target_group_arn(*g)
                    .build(),
            );
        }
        builder.build()
    }

    #[test]
    fn a_services_target_group_is_its_one_or_the_one_chosen() {
        let named = ServiceRef::parse("shop/shop-blue").unwrap_or_else(|e| panic!("{e}"));
        let one = groups_of(&service_with(&["tg-a"]));
        assert_eq!(
            target_group_of(Color::Blue, &named, &one, None),
            Ok("tg-a".into())
        );
        let none = groups_of(&service_with(&[]));
        let error = target_group_of(Color::Blue, &named, &none, None).unwrap_err();
        assert!(error.contains("has no target group"), "{error}");
        let two = groups_of(&service_with(&["tg-a", "tg-b"]));
        let error = target_group_of(Color::Blue, &named, &two, None).unwrap_err();
        assert!(
            error.contains("tg-a, tg-b") && error.contains("--blue-target-group"),
            "{error}"
        );
        assert_eq!(
            target_group_of(Color::Blue, &named, &two, Some("tg-b")),
            Ok("tg-b".into())
        );
    }

    #[test]
    fn both_groups_must_be_behind_one_load_balancer() {
        let lbs: HashMap<String, Vec<String>> = [
            ("b".to_string(), vec!["lb-1".to_string()]),
            (
                "g".to_string(),
                vec!["lb-2".to_string(), "lb-1".to_string()],
            ),
            ("x".to_string(), vec!["lb-2".to_string()]),
        ]
        .into();
        assert_eq!(shared_load_balancer("b", "g", &lbs), Ok("lb-1".into()));
        let error = shared_load_balancer("b", "x", &lbs).unwrap_err();
        assert!(error.contains("different load balancers"), "{error}");
        let error = shared_load_balancer("b", "none", &lbs).unwrap_err();
        assert!(error.contains("behind no load balancer"), "{error}");
    }
}
