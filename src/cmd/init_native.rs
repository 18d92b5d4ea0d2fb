//! `cutover init --service CLUSTER/SERVICE`: the config for one ECS service that deploys
//! itself (ECS-native BLUE_GREEN, LINEAR, CANARY), from its load balancer's
//! `advancedConfiguration`: the production rule, the primary and the alternate target group.
//! What would make cutover less useful there is said, in the file and on the terminal: a rule
//! with non-forward actions, no PAUSE gate, a gate that continues by itself at its timeout.

use std::path::Path;

use aws_sdk_ecs::types::{DeploymentLifecycleHookAction, Service};

use super::init::quoted;
use crate::cli::GlobalArgs;
use crate::config::AwsSettings;
use crate::domain::{ADD_PAUSE_HOOK, Failure};
use crate::platform::aws::discover::ServiceRef;
use crate::platform::aws::estate::TrafficTarget;
use crate::platform::aws::{ecs, elbv2, native, sdk_config};

/// What `init --service` found on the service.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeFound {
    pub service: ServiceRef,
    pub strategy: String,
    pub traffic: TrafficTarget,
    pub primary: String,
    pub alternate: String,
    /// What the operator should know before relying on cutover here.
    pub warnings: Vec<String>,
}

/// Reads the service and its rule, writes the file, returns what to print.
pub async fn run(
    global: &GlobalArgs,
    path: &Path,
    service: &str,
    example_rest: &str,
) -> Result<String, Failure> {
    let wanted = ServiceRef::parse(service).map_err(|why| bad_input(format!("--service {why}")))?;
    let aws = super::aws_overrides(global);
    let (sdk, region) = sdk_config(&aws, None, path).await?;
    let ecs_client = aws_sdk_ecs::Client::new(&sdk);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&sdk);
    let mut services = ecs::describe_services(&ecs_client, &wanted.cluster, &[&wanted.service])
        .await
        .map_err(|e| bad_input(format!("--service {wanted}: {e}")))?;
    let Some(described) = services.remove(&wanted.service) else {
        return Err(bad_input(format!("--service {wanted}: not found")));
    };
    let mut found = examine(&wanted, &described)?;
    match elbv2::read_actions(&elb, &found.traffic).await {
        Ok(actions) => {
            let others: Vec<&str> = actions
                .iter()
                .map(|a| a.r#type().map_or("?", |t| t.as_str()))
                .filter(|t| *t != "forward")
                .collect();
            if !others.is_empty() {
                found.warnings.push(format!(
                    "the production rule has actions besides forward ({}): ECS-native \
                     deployments fail on such a rule before any traffic moves; move them to \
                     another rule",
                    others.join(", ")
                ));
            }
        }
        Err(error) => found.warnings.push(format!(
            "the production rule could not be read ({error}): check that it only forwards"
        )),
    }
    let text = config_text(&found, &aws, &region, example_rest);
    super::init::write_loadable(path, &text)?;
    let mut out = format!(
        "wrote {}\n  service  {} (ECS {}), ECS moves the weights\n  traffic  {}\n  blue     \
         primary group {}\n  green    alternate group {}\n",
        path.display(),
        found.service,
        found.strategy,
        found.traffic.arn(),
        found.primary,
        found.alternate
    );
    for warning in &found.warnings {
        out += &format!("  warning: {warning}\n");
    }
    out += "next: `cutover` to watch it; at a gate `c` continues and `R` rolls back\n";
    Ok(out)
}

/// The service's ECS-native shape, or why it is not one cutover can drive.
pub fn examine(wanted: &ServiceRef, service: &Service) -> Result<NativeFound, Failure> {
    let balancer = service
        .load_balancers()
        .iter()
        .find(|lb| lb.advanced_configuration().is_some());
    let Some((balancer, advanced)) =
        balancer.and_then(|lb| Some((lb, lb.advanced_configuration()?)))
    else {
        return Err(bad_input(format!(
            "--service {wanted} has no advancedConfiguration on its load balancer: it does not \
             deploy itself (ECS-native blue/green); for two services behind weights use --blue \
             and --green"
        )));
    };
    let Some((strategy, _, gated)) = native::configuration(service) else {
        return Err(bad_input(format!(
            "--service {wanted}: its deploymentConfiguration.strategy is not BLUE_GREEN, LINEAR \
             or CANARY: set the strategy first (aws ecs update-service --deployment-configuration \
             strategy=LINEAR,...)"
        )));
    };
    let rule = advanced.production_listener_rule().unwrap_or_default();
    let traffic = if rule.contains(":listener-rule/") {
        TrafficTarget::Rule(rule.to_string())
    } else {
        TrafficTarget::Listener(rule.to_string())
    };
    let (Some(primary), Some(alternate)) = (
        balancer.target_group_arn(),
        advanced.alternate_target_group_arn(),
    ) else {
        return Err(bad_input(format!(
            "--service {wanted}: its load balancer names no target group or no alternate one"
        )));
    };
    let mut warnings = Vec::new();
    if !gated {
        warnings.push(format!(
            "no PAUSE gate before production traffic: cutover can watch and roll back but not \
             gate the steps; {ADD_PAUSE_HOOK}"
        ));
    }
    let continues = service
        .deployment_configuration()
        .map(|c| c.lifecycle_hooks())
        .unwrap_or_default()
        .iter()
        .filter_map(|h| h.timeout_configuration()?.action())
        .any(|a| *a == DeploymentLifecycleHookAction::Continue);
    if continues {
        warnings.push(
            "a PAUSE gate's timeout action is CONTINUE: when nobody answers in time, ECS goes on \
             as if an operator had approved; ROLLBACK is the safe choice"
                .into(),
        );
    }
    Ok(NativeFound {
        service: wanted.clone(),
        strategy: strategy.to_string(),
        traffic,
        primary: primary.to_string(),
        alternate: alternate.to_string(),
        warnings,
    })
}

/// The file: what was found, its warnings as comments, then the example's optional sections.
pub fn config_text(
    found: &NativeFound,
    aws: &AwsSettings,
    region: &str,
    example_rest: &str,
) -> String {
    let mut text = String::from(
        "# cutover.toml, written by `cutover init --service` from what AWS reported: one ECS\n\
         # service that deploys itself. ECS moves the weights; cutover continues at its gates\n\
         # and rolls back.\n\n",
    );
    for warning in &found.warnings {
        text += &format!("# Warning: {warning}\n");
    }
    if !found.warnings.is_empty() {
        text += "\n";
    }
    text += &super::init::aws_section(aws, region);
    text += "\n# The production listener rule ECS writes (advancedConfiguration).\n[traffic]\n";
    text += &match &found.traffic {
        TrafficTarget::Listener(arn) => format!("listener_arn = {}\n", quoted(arn)),
        TrafficTarget::Rule(arn) => format!("rule_arn = {}\n", quoted(arn)),
    };
    text += &format!(
        "\n# ECS {}: blue is the service's primary target group, green its alternate.\n\
         [service]\ncluster = {}\nname = {}\ntarget_group_arn = {}\nalternate_target_group_arn = {}\n",
        found.strategy,
        quoted(&found.service.cluster),
        quoted(&found.service.service),
        quoted(&found.primary),
        quoted(&found.alternate)
    );
    if !example_rest.is_empty() {
        text += "\n";
        text += example_rest;
    }
    text
}

fn bad_input(message: String) -> Failure {
    Failure::BadInput(anyhow::anyhow!(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{
        AdvancedConfiguration, DeploymentConfiguration, DeploymentLifecycleHook,
        DeploymentLifecycleHookStage, DeploymentLifecycleHookTargetType,
        DeploymentLifecycleHookTimeoutConfiguration, DeploymentStrategy, LinearConfiguration,
        LoadBalancer,
    };

    const RULE: &str = "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/a/1/2/3";

    fn service(hook: Option<(&str, DeploymentLifecycleHookAction)>) -> Service {
        let mut config = DeploymentConfiguration::builder()
            .strategy(DeploymentStrategy::Linear)
            .linear_configuration(LinearConfiguration::builder().step_percent(20.0).build());
        if let Some((stage, action)) = hook {
            config = config.lifecycle_hooks(
                DeploymentLifecycleHook::builder()
                    .target_type(DeploymentLifecycleHookTargetType::Pause)
                    .lifecycle_stages(DeploymentLifecycleHookStage::from(stage))
                    .timeout_configuration(
                        DeploymentLifecycleHookTimeoutConfiguration::builder()
                            .timeout_in_minutes(60)
                            .action(action)
                            .build(),
                    )
                    .build(),
            );
        }
        Service::builder()
            .service_name("web")
            .load_balancers(
                LoadBalancer::builder()
                    .target_group_arn("tg-primary")
                    .advanced_configuration(
                        AdvancedConfiguration::builder()
                            .alternate_target_group_arn("tg-alternate")
                            .production_listener_rule(RULE)
                            .build(),
                    )
                    .build(),
            )
            .deployment_configuration(config.build())
            .build()
    }

    fn web() -> ServiceRef {
        ServiceRef::parse("shop/web").expect("a service")
    }

    #[test]
    fn a_gated_linear_service_gives_its_rule_and_both_groups_without_a_warning() {
        let found = examine(
            &web(),
            &service(Some((
                "PRE_PRODUCTION_TRAFFIC_SHIFT",
                DeploymentLifecycleHookAction::Rollback,
            ))),
        )
        .expect("a native service");
        assert_eq!(found.traffic, TrafficTarget::Rule(RULE.into()));
        assert_eq!(
            (found.primary.as_str(), found.alternate.as_str()),
            ("tg-primary", "tg-alternate")
        );
        assert_eq!(found.strategy, "LINEAR 20%");
        assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    }

    #[test]
    fn no_gate_and_a_gate_that_continues_by_itself_are_warned_about() {
        let ungated = examine(&web(), &service(None)).expect("a native service");
        assert!(
            ungated.warnings[0].contains("no PAUSE gate")
                && ungated.warnings[0].contains("lifecycleHooks"),
            "{:?}",
            ungated.warnings
        );
        let continues = examine(
            &web(),
            &service(Some((
                "PRE_PRODUCTION_TRAFFIC_SHIFT",
                DeploymentLifecycleHookAction::Continue,
            ))),
        )
        .expect("a native service");
        assert!(
            continues
                .warnings
                .iter()
                .any(|w| w.contains("timeout action is CONTINUE")),
            "{:?}",
            continues.warnings
        );
    }
}
