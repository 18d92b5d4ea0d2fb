//! ELBv2: the weighted forward action of a listener or rule, and target health. Pure mapping
//! functions from SDK types to domain types, plus the calls that use them.

use aws_sdk_elasticloadbalancingv2::Client;
use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple, TargetHealthDescription,
    TargetHealthStateEnum,
};

use super::errors::from_sdk;
use crate::config::TrafficTarget;
use crate::domain::{TargetHealth, Weights};
use crate::platform::PlatformError;

/// Why a forward action cannot be read as a blue/green split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForwardError {
    #[error("{0} has no forward action")]
    NoForward(String),
    #[error("{owner} has {count} forward actions; cutover needs exactly one")]
    SeveralForwards { owner: String, count: usize },
    #[error("target group {arn} ({color}) is not in the forward action of {owner}")]
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
    let mut out = actions.to_vec();
    out[index] = rebuilt;
    Ok(out)
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
                message: format!("rule {arn} not found"),
            })?;
            Ok(rule.actions().to_vec())
        }
    }
}

pub async fn write_actions(
    client: &Client,
    target: &TrafficTarget,
    actions: Vec<Action>,
) -> Result<(), PlatformError> {
    match target {
        TrafficTarget::Listener(arn) => client
            .modify_listener()
            .listener_arn(arn)
            .set_default_actions(Some(actions))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("ModifyListener", e)),
        TrafficTarget::Rule(arn) => client
            .modify_rule()
            .rule_arn(arn)
            .set_actions(Some(actions))
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
        assert_eq!(
            weights_of("rule", &scaled, BLUE, GREEN),
            Ok(Weights::with_green(67))
        );
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
        assert_eq!(
            written[0], actions[0],
            "the authenticate action is untouched"
        );
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
