//! ELBv2: the weighted forward action of a listener or rule, and target health. Pure mapping
//! functions from SDK types to domain types, plus the calls that use them.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, Listener, Rule, TargetGroupTuple,
    TargetHealthDescription, TargetHealthStateEnum,
};

use super::errors::from_sdk;

/// The largest page ELBv2's Describe calls return (`PageSize` 1–400): the fewest calls.
const MAX_PAGE_SIZE: i32 = 400;
use super::estate::TrafficTarget;
use crate::domain::{TargetHealth, Weights};
use crate::platform::PlatformError;

/// Why a forward action cannot be read as a blue/green split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("{0} has no forward action")]
    NoForward(String),
    #[error("{owner} has {count} forward actions; cutover needs exactly one")]
    SeveralForwards { owner: String, count: usize },
    #[error(
        "[{color}] target_group_arn = \"{arn}\" is not in the forward action of {owner}: check the ARN, or add the group to the forward action (weight 0)"
    )]
    MissingGroup {
        arn: String,
        color: &'static str,
        owner: String,
    },
    #[error(
        "the forward action of {owner} sends traffic to target groups other than blue and green ({others}); cutover only moves traffic between two groups"
    )]
    OtherGroupsCarryTraffic { owner: String, others: String },
    #[error("the forward action of {owner} gives both blue and green weight 0")]
    NoWeight { owner: String },
}

fn is_forward(action: &Action) -> bool {
    action.r#type() == Some(&ActionTypeEnum::Forward)
}

/// The index of the one forward action among `actions`.
pub fn forward_index(owner: &str, actions: &[Action]) -> Result<usize, ForwardError> {
    let forwards: Vec<usize> = actions
        .iter()
        .enumerate()
        .filter(|(_, a)| is_forward(a))
        .map(|(i, _)| i)
        .collect();
    match forwards.as_slice() {
        [] => Err(ForwardError::NoForward(owner.into())),
        [one] => Ok(*one),
        many => Err(ForwardError::SeveralForwards {
            owner: owner.into(),
            count: many.len(),
        }),
    }
}

/// The (group, weight) pairs of a forward action; a plain `TargetGroupArn` forward is one group
/// with all the traffic.
fn groups(action: &Action) -> Vec<(String, i32)> {
    match action
        .forward_config()
        .map(ForwardActionConfig::target_groups)
    {
        Some(tuples) if !tuples.is_empty() => tuples
            .iter()
            .filter_map(|t| Some((t.target_group_arn()?.to_string(), t.weight().unwrap_or(1))))
            .collect(),
        _ => action
            .target_group_arn()
            .map(|arn| vec![(arn.to_string(), 1)])
            .unwrap_or_default(),
    }
}

/// The blue/green split of the forward action among `actions`.
pub fn weights_of(
    owner: &str,
    actions: &[Action],
    blue_arn: &str,
    green_arn: &str,
) -> Result<Weights, ForwardError> {
    let forward = &actions[forward_index(owner, actions)?];
    let groups = groups(forward);
    let weight = |arn: &str, color: &'static str| {
        groups
            .iter()
            .find(|(g, _)| g == arn)
            .map(|(_, w)| *w)
            .ok_or_else(|| ForwardError::MissingGroup {
                arn: arn.into(),
                color,
                owner: owner.into(),
            })
    };
    let blue = weight(blue_arn, "blue")?;
    let green = weight(green_arn, "green")?;
    let others: Vec<&str> = groups
        .iter()
        .filter(|(g, w)| g != blue_arn && g != green_arn && *w > 0)
        .map(|(g, _)| g.as_str())
        .collect();
    if !others.is_empty() {
        return Err(ForwardError::OtherGroupsCarryTraffic {
            owner: owner.into(),
            others: others.join(", "),
        });
    }
    let clamp = |w: i32| u16::try_from(w.max(0)).unwrap_or(u16::MAX);
    Weights::from_alb(clamp(blue), clamp(green)).ok_or(ForwardError::NoWeight {
        owner: owner.into(),
    })
}

/// `actions` with only the blue and green weights of the forward action changed: every other
/// action, every other target group and the stickiness config stay exactly as they were.
pub fn with_weights(
    owner: &str,
    actions: &[Action],
    blue_arn: &str,
    green_arn: &str,
    weights: Weights,
) -> Result<Vec<Action>, ForwardError> {
    let index = forward_index(owner, actions)?;
    let forward = &actions[index];
    let (blue_weight, green_weight) = weights.to_alb();
    let mut tuples: Vec<TargetGroupTuple> = groups(forward)
        .into_iter()
        .map(|(arn, weight)| {
            let weight = if arn == blue_arn {
                i32::from(blue_weight)
            } else if arn == green_arn {
                i32::from(green_weight)
            } else {
                weight
            };
            TargetGroupTuple::builder()
                .target_group_arn(arn)
                .weight(weight)
                .build()
        })
        .collect();
    for (arn, weight) in [(blue_arn, blue_weight), (green_arn, green_weight)] {
        if !tuples.iter().any(|t| t.target_group_arn() == Some(arn)) {
            tuples.push(
                TargetGroupTuple::builder()
                    .target_group_arn(arn)
                    .weight(i32::from(weight))
                    .build(),
            );
        }
    }
    let stickiness = forward
        .forward_config()
        .and_then(|f| f.target_group_stickiness_config())
        .cloned();
    let forward_config = ForwardActionConfig::builder()
        .set_target_groups(Some(tuples))
        .set_target_group_stickiness_config(stickiness)
        .build();
    // With several groups the config must not also name a single TargetGroupArn.
    let mut rebuilt = forward.clone();
    rebuilt.target_group_arn = None;
    rebuilt.forward_config = Some(forward_config);
    let mut out: Vec<Action> = actions.iter().map(keeping_client_secret).collect();
    out[index] = rebuilt;
    Ok(out)
}

/// An action as it can be sent back: Describe never returns an `authenticate-oidc` action's
/// client secret, and AWS refuses the action without one unless it says to keep the existing
/// secret. Every other field, `Order` included, stays as read.
fn keeping_client_secret(action: &Action) -> Action {
    let mut action = action.clone();
    if let Some(config) = action.authenticate_oidc_config.as_mut()
        && config.client_secret.is_none()
    {
        config.use_existing_client_secret = Some(true);
    }
    action
}

/// The stickiness duration of the forward action among `actions`, when stickiness is on.
pub fn stickiness_seconds(actions: &[Action]) -> Option<u32> {
    let forward = actions.iter().find(|a| is_forward(a))?;
    let config = forward.forward_config()?.target_group_stickiness_config()?;
    if config.enabled() != Some(true) {
        return None;
    }
    config
        .duration_seconds()
        .and_then(|s| u32::try_from(s).ok())
}

/// One listener default action or rule of the load balancer, as `DescribeRules` shows it.
#[derive(Debug, Clone)]
pub struct Route {
    pub rule_arn: String,
    pub listener_arn: String,
    /// `HTTP:80`.
    pub listener: String,
    pub is_default: bool,
    /// The rule's priority (`default` for the listener's default action).
    pub priority: String,
    pub actions: Vec<Action>,
}

impl Route {
    /// Whether any of its forward actions sends traffic (weight > 0) to `target_group_arn`.
    pub fn forwards_to(&self, target_group_arn: &str) -> bool {
        self.actions
            .iter()
            .filter(|a| is_forward(a))
            .flat_map(groups)
            .any(|(arn, weight)| arn == target_group_arn && weight > 0)
    }

    /// The (group, weight) pairs of each forward action, in order.
    pub fn forwards(&self) -> Vec<Vec<(String, i32)>> {
        self.actions
            .iter()
            .filter(|a| is_forward(a))
            .map(groups)
            .collect()
    }

    /// `listener HTTP:8080 (default action)`, `rule 20 on HTTP:80`.
    pub fn describe(&self) -> String {
        if self.is_default {
            format!("listener {} (default action)", self.listener)
        } else {
            format!("rule {} on {}", self.priority, self.listener)
        }
    }
}

/// The load balancers each target group is behind (`DescribeTargetGroups`, by ARN), every
/// page of the answer.
pub async fn load_balancers_of(
    client: &Client,
    target_group_arns: &[&str],
) -> Result<HashMap<String, Vec<String>>, PlatformError> {
    let mut found = HashMap::new();
    let mut pages = client
        .describe_target_groups()
        .set_target_group_arns(Some(
            target_group_arns.iter().map(|a| a.to_string()).collect(),
        ))
        .page_size(MAX_PAGE_SIZE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("DescribeTargetGroups", e))?;
        for group in page.target_groups() {
            if let Some(arn) = group.target_group_arn() {
                found.insert(arn.to_string(), group.load_balancer_arns().to_vec());
            }
        }
    }
    Ok(found)
}

/// Every rule of a listener, default rule included, every page (400 a page).
async fn rules_of(client: &Client, listener_arn: &str) -> Result<Vec<Rule>, PlatformError> {
    let mut rules = Vec::new();
    let mut pages = client
        .describe_rules()
        .listener_arn(listener_arn)
        .page_size(MAX_PAGE_SIZE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("DescribeRules", e))?;
        rules.extend(page.rules().iter().cloned());
    }
    Ok(rules)
}

/// Every listener of a load balancer, every page.
async fn listeners_on(
    client: &Client,
    load_balancer_arn: &str,
) -> Result<Vec<Listener>, PlatformError> {
    let mut listeners = Vec::new();
    let mut pages = client
        .describe_listeners()
        .load_balancer_arn(load_balancer_arn)
        .page_size(MAX_PAGE_SIZE)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("DescribeListeners", e))?;
        listeners.extend(page.listeners().iter().cloned());
    }
    Ok(listeners)
}

/// Every rule of a listener with its actions, by rule ARN: one DescribeRules a page of 400.
pub async fn rules_of_listener(
    client: &Client,
    listener_arn: &str,
) -> Result<HashMap<String, Vec<Action>>, PlatformError> {
    Ok(rules_of(client, listener_arn)
        .await?
        .into_iter()
        .filter_map(|rule| Some((rule.rule_arn()?.to_string(), rule.actions().to_vec())))
        .collect())
}

/// Every listener of a load balancer with its default actions, by listener ARN.
pub async fn listeners_of(
    client: &Client,
    load_balancer_arn: &str,
) -> Result<HashMap<String, Vec<Action>>, PlatformError> {
    Ok(listeners_on(client, load_balancer_arn)
        .await?
        .into_iter()
        .filter_map(|l| Some((l.listener_arn()?.to_string(), l.default_actions().to_vec())))
        .collect())
}

/// Every listener's rules (default actions included) on the load balancer, every page of
/// each: a shared ALB may hold more rules than one page (AWS answers `NextMarker`).
pub async fn routes(client: &Client, load_balancer_arn: &str) -> Result<Vec<Route>, PlatformError> {
    let mut routes = Vec::new();
    for listener in listeners_on(client, load_balancer_arn).await? {
        let Some(listener_arn) = listener.listener_arn() else {
            continue;
        };
        let name = format!(
            "{}:{}",
            listener.protocol().map_or("?", |p| p.as_str()),
            listener.port().unwrap_or_default()
        );
        for rule in rules_of(client, listener_arn).await? {
            routes.push(Route {
                rule_arn: rule.rule_arn().unwrap_or_default().to_string(),
                listener_arn: listener_arn.to_string(),
                listener: name.clone(),
                is_default: rule.is_default() == Some(true),
                priority: rule.priority().unwrap_or("?").to_string(),
                actions: rule.actions().to_vec(),
            });
        }
    }
    Ok(routes)
}

pub fn target_health(descriptions: &[TargetHealthDescription]) -> TargetHealth {
    let mut health = TargetHealth::default();
    for state in descriptions
        .iter()
        .filter_map(|d| d.target_health()?.state())
    {
        match state {
            TargetHealthStateEnum::Healthy => health.healthy += 1,
            TargetHealthStateEnum::Unhealthy | TargetHealthStateEnum::UnhealthyDraining => {
                health.unhealthy += 1
            }
            TargetHealthStateEnum::Initial => health.initial += 1,
            TargetHealthStateEnum::Draining => health.draining += 1,
            TargetHealthStateEnum::Unused => health.unused += 1,
            _ => health.unavailable += 1,
        }
    }
    health
}

/// The actions of the listener's default action list, or of the rule.
pub async fn read_actions(
    client: &Client,
    target: &TrafficTarget,
) -> Result<Vec<Action>, PlatformError> {
    match target {
        TrafficTarget::Listener(arn) => {
            let out = client
                .describe_listeners()
                .listener_arns(arn)
                .send()
                .await
                .map_err(|e| from_sdk("DescribeListeners", e))?;
            let listener = out.listeners().first().ok_or_else(|| PlatformError::Api {
                operation: "DescribeListeners".into(),
                code: None,
                message: format!("listener {arn} not found"),
            })?;
            Ok(listener.default_actions().to_vec())
        }
        TrafficTarget::Rule(arn) => {
            let out = client
                .describe_rules()
                .rule_arns(arn)
                .send()
                .await
                .map_err(|e| from_sdk("DescribeRules", e))?;
            let rule = out.rules().first().ok_or_else(|| PlatformError::Api {
                operation: "DescribeRules".into(),
                code: None,
                message: format!("rule {arn} not found"),
            })?;
            Ok(rule.actions().to_vec())
        }
    }
}

/// Writes the actions once: the SDK's own retries are off for this call. A retried write is a
/// copy cutover does not know about, which can land after a later write (a rollback) and
/// undo it; cutover retries itself, reading the weights before every attempt.
pub async fn write_actions(
    client: &Client,
    target: &TrafficTarget,
    actions: Vec<Action>,
) -> Result<(), PlatformError> {
    let once = || {
        aws_sdk_elasticloadbalancingv2::config::Builder::default()
            .retry_config(aws_config::retry::RetryConfig::disabled())
    };
    match target {
        TrafficTarget::Listener(arn) => client
            .modify_listener()
            .listener_arn(arn)
            .set_default_actions(Some(actions))
            .customize()
            .config_override(once())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("ModifyListener", e)),
        TrafficTarget::Rule(arn) => client
            .modify_rule()
            .rule_arn(arn)
            .set_actions(Some(actions))
            .customize()
            .config_override(once())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("ModifyRule", e)),
    }
}

pub async fn describe_target_health(
    client: &Client,
    target_group_arn: &str,
) -> Result<TargetHealth, PlatformError> {
    let out = client
        .describe_target_health()
        .target_group_arn(target_group_arn)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeTargetHealth", e))?;
    Ok(target_health(out.target_health_descriptions()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_elasticloadbalancingv2::types::{
        AuthenticateOidcActionConfig, TargetGroupStickinessConfig, TargetHealth as SdkHealth,
    };

    const BLUE: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/blue/1";
    const GREEN: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/green/2";
    const OTHER: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/other/3";

    fn tuple(arn: &str, weight: i32) -> TargetGroupTuple {
        TargetGroupTuple::builder()
            .target_group_arn(arn)
            .weight(weight)
            .build()
    }

    fn forward(tuples: Vec<TargetGroupTuple>, sticky: bool) -> Action {
        let stickiness = TargetGroupStickinessConfig::builder()
            .enabled(sticky)
            .duration_seconds(300)
            .build();
        Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .order(2)
            .forward_config(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(tuples))
                    .target_group_stickiness_config(stickiness)
                    .build(),
            )
            .build()
    }

    fn oidc() -> Action {
        Action::builder()
            .r#type(ActionTypeEnum::AuthenticateOidc)
            .order(1)
            .authenticate_oidc_config(
                AuthenticateOidcActionConfig::builder()
                    .issuer("https://idp.example.com")
                    .client_id("cutover")
                    .build(),
            )
            .build()
    }

    #[test]
    fn weights_read_as_percentages_of_the_two_groups() {
        let actions = [
            oidc(),
            forward(vec![tuple(BLUE, 90), tuple(GREEN, 10)], true),
        ];
        assert_eq!(
            weights_of("rule", &actions, BLUE, GREEN),
            Ok(Weights::with_green(10))
        );
        let scaled = [forward(vec![tuple(BLUE, 333), tuple(GREEN, 666)], false)];
        let exact = weights_of("rule", &scaled, BLUE, GREEN).expect("readable");
        assert_eq!((exact.green(), exact.to_string()), (67, "33.3/66.7".into()));
        let trickle = [forward(vec![tuple(BLUE, 999), tuple(GREEN, 1)], false)];
        let trickle = weights_of("rule", &trickle, BLUE, GREEN).expect("readable");
        assert_eq!(trickle.to_string(), "99.9/0.1", "never a rounded 0");
        assert!(!trickle.is_idle(crate::domain::Color::Green));
    }

    #[test]
    fn a_plain_forward_to_blue_is_all_blue_but_green_must_be_there() {
        let plain = Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(BLUE)
            .build();
        assert!(matches!(
            weights_of("listener", &[plain], BLUE, GREEN),
            Err(ForwardError::MissingGroup { color: "green", .. })
        ));
    }

    #[test]
    fn a_third_group_with_weight_is_refused_but_a_zero_weight_one_is_fine() {
        let busy = [forward(
            vec![tuple(BLUE, 50), tuple(GREEN, 25), tuple(OTHER, 25)],
            false,
        )];
        assert!(matches!(
            weights_of("rule", &busy, BLUE, GREEN),
            Err(ForwardError::OtherGroupsCarryTraffic { .. })
        ));
        let idle = [forward(
            vec![tuple(BLUE, 50), tuple(GREEN, 50), tuple(OTHER, 0)],
            false,
        )];
        assert_eq!(
            weights_of("rule", &idle, BLUE, GREEN),
            Ok(Weights::with_green(50))
        );
    }

    #[test]
    fn no_forward_or_no_weight_is_an_error() {
        assert!(matches!(
            weights_of("l", &[oidc()], BLUE, GREEN),
            Err(ForwardError::NoForward(_))
        ));
        let zero = [forward(vec![tuple(BLUE, 0), tuple(GREEN, 0)], false)];
        assert!(matches!(
            weights_of("l", &zero, BLUE, GREEN),
            Err(ForwardError::NoWeight { .. })
        ));
    }

    #[test]
    fn a_write_keeps_other_actions_groups_and_stickiness() {
        let actions = [
            oidc(),
            forward(
                vec![tuple(BLUE, 100), tuple(GREEN, 0), tuple(OTHER, 0)],
                true,
            ),
        ];
        let written =
            with_weights("rule", &actions, BLUE, GREEN, Weights::with_green(30)).expect("writable");
        let oidc = written[0]
            .authenticate_oidc_config()
            .expect("the authenticate action stays first");
        assert_eq!(
            (oidc.use_existing_client_secret(), oidc.client_secret()),
            (Some(true), None),
            "sent back without the secret Describe hides, asking AWS to keep it"
        );
        assert_eq!(written[0].order(), Some(1));
        assert_eq!(oidc.issuer(), Some("https://idp.example.com"));
        let config = written[1].forward_config().expect("forward config");
        let weights: Vec<(&str, Option<i32>)> = config
            .target_groups()
            .iter()
            .map(|t| (t.target_group_arn().unwrap_or_default(), t.weight()))
            .collect();
        assert_eq!(
            weights,
            [(BLUE, Some(70)), (GREEN, Some(30)), (OTHER, Some(0))]
        );
        let stickiness = config
            .target_group_stickiness_config()
            .expect("stickiness kept");
        assert_eq!(
            (stickiness.enabled(), stickiness.duration_seconds()),
            (Some(true), Some(300))
        );
        assert_eq!(written[1].order(), Some(2));
        assert_eq!(
            weights_of("rule", &written, BLUE, GREEN),
            Ok(Weights::with_green(30))
        );
    }

    #[test]
    fn target_states_are_counted() {
        let described: Vec<TargetHealthDescription> = [
            TargetHealthStateEnum::Healthy,
            TargetHealthStateEnum::Healthy,
            TargetHealthStateEnum::Initial,
            TargetHealthStateEnum::Draining,
            TargetHealthStateEnum::Unhealthy,
        ]
        .into_iter()
        .map(|s| {
            TargetHealthDescription::builder()
                .target_health(SdkHealth::builder().state(s).build())
                .build()
        })
        .collect();
        let health = target_health(&described);
        assert_eq!(
            (
                health.healthy,
                health.initial,
                health.draining,
                health.unhealthy
            ),
            (2, 1, 1, 1)
        );
    }
}
