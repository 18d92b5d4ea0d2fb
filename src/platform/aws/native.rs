//! ECS-native deployments read through the ECS API: the service's newest service deployment,
//! mapped to the domain's `NativeDeployment` (stages by name: the SDK's enum lacks
//! `PRE_PRODUCTION_TRAFFIC_SHIFT`).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{
    DeploymentLifecycleHookAction, DeploymentLifecycleHookStatus,
    DeploymentLifecycleHookTargetType, DeploymentStrategy, Service,
};

use super::errors::from_sdk;
use super::estate::Estate;
use crate::domain::{
    Color, Driver, GateAction, GateStep, NativeDeployment, NativeService, NativeStrategy,
    PauseGate, Timestamp,
};
use crate::platform::PlatformError;

/// How many earlier deployments the history shows.
pub const HISTORY: i32 = 4;

/// How a service deploys itself: its strategy, ECS's bake after the last step, and whether a
/// PAUSE hook waits at PRE_PRODUCTION_TRAFFIC_SHIFT. `None` for a rolling service.
pub fn configuration(service: &Service) -> Option<(NativeStrategy, u32, bool)> {
    let config = service.deployment_configuration()?;
    let strategy = match config.strategy()? {
        DeploymentStrategy::BlueGreen => NativeStrategy::BlueGreen,
        DeploymentStrategy::Linear => NativeStrategy::Linear {
            step: config
                .linear_configuration()
                .and_then(|l| l.step_percent())
                .unwrap_or(10.0),
        },
        DeploymentStrategy::Canary => NativeStrategy::Canary {
            percent: config
                .canary_configuration()
                .and_then(|c| c.canary_percent())
                .unwrap_or(5.0),
        },
        _ => return None,
    };
    let gated = config.lifecycle_hooks().iter().any(|hook| {
        hook.target_type() == Some(&DeploymentLifecycleHookTargetType::Pause)
            && hook
                .lifecycle_stages()
                .iter()
                .any(|s| s.as_str() == "PRE_PRODUCTION_TRAFFIC_SHIFT")
    });
    let bake = config
        .bake_time_in_minutes()
        .and_then(|m| u32::try_from(m).ok())
        .unwrap_or(0);
    Some((strategy, bake, gated))
}

/// A service revision as cutover needs it: the task definition it runs and the target group
/// its tasks register in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub task_definition: String,
    pub target_group: Option<String>,
}

/// Tasks of one revision in a deployment: requested, running, pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RevisionTasks {
    pub requested: u32,
    pub running: u32,
    pub pending: u32,
}

/// The newest deployment in full, the tasks of each of its revisions, and a line for each of
/// the few before it.
#[derive(Debug, Clone, Default)]
pub struct Recent {
    pub newest: Option<NativeDeployment>,
    pub tasks: HashMap<String, RevisionTasks>,
    pub history: Vec<String>,
}

/// The service's recent deployments: one ListServiceDeployments, one
/// DescribeServiceDeployments of the newest.
pub async fn recent(
    client: &Client,
    cluster: &str,
    service: &str,
) -> Result<Recent, PlatformError> {
    let listed = client
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .max_results(HISTORY + 1)
        .send()
        .await
        .map_err(|e| from_sdk("ListServiceDeployments", e))?;
    let summaries = listed.service_deployments();
    let Some(arn) = summaries.first().and_then(|d| d.service_deployment_arn()) else {
        return Ok(Recent::default());
    };
    let history = summaries
        .iter()
        .skip(1)
        .map(|d| {
            let id = d
                .service_deployment_arn()
                .and_then(|a| a.rsplit('/').next())
                .unwrap_or("?");
            let status = d.status().map_or("?", |s| s.as_str());
            format!("{id} {status}")
        })
        .collect();
    let described = client
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeServiceDeployments", e))?;
    let Some(found) = described.service_deployments().first() else {
        return Err(PlatformError::Api {
            operation: "DescribeServiceDeployments".into(),
            code: None,
            message: format!("deployment {arn} was listed but not described"),
        });
    };
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    let tasks = found
        .source_service_revisions()
        .iter()
        .chain(found.target_service_revision())
        .filter_map(|r| {
            Some((
                r.arn()?.to_string(),
                RevisionTasks {
                    requested: count(r.requested_task_count()),
                    running: count(r.running_task_count()),
                    pending: count(r.pending_task_count()),
                },
            ))
        })
        .collect();
    Ok(Recent {
        newest: Some(deployment(found)),
        tasks,
        history,
    })
}

/// Service revisions by ARN (at most 20 a call, as DescribeServiceRevisions takes them).
pub async fn revisions(
    client: &Client,
    arns: &[String],
) -> Result<HashMap<String, Revision>, PlatformError> {
    let mut found = HashMap::new();
    for chunk in arns.chunks(20) {
        let answer = client
            .describe_service_revisions()
            .set_service_revision_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| from_sdk("DescribeServiceRevisions", e))?;
        for revision in answer.service_revisions() {
            let Some(arn) = revision.service_revision_arn() else {
                continue;
            };
            let target_group = revision
                .resolved_configuration()
                .and_then(|c| c.load_balancers().first())
                .and_then(|lb| lb.target_group_arn())
                .map(String::from);
            found.insert(
                arn.to_string(),
                Revision {
                    task_definition: revision.task_definition().unwrap_or("?").to_string(),
                    target_group,
                },
            );
        }
    }
    Ok(found)
}

/// Which revision serves which side: its task definition ARN and its tasks.
pub type Sides = HashMap<Color, (String, RevisionTasks)>;

/// A service that deploys itself, as one poll reads it: its configuration, its newest
/// deployment and the few before, and which revision serves which side (its task definition
/// and tasks). Revisions are described once each (`known` keeps them).
pub async fn read(
    client: &Client,
    estate: &Estate,
    service: &Service,
    known_revisions: &Mutex<HashMap<String, Revision>>,
) -> Result<(Driver, Sides), PlatformError> {
    let blue = &estate.blue;
    let name = format!("{}/{}", blue.cluster, blue.service);
    let Some((strategy, bake_minutes, gated)) = configuration(service) else {
        return Err(PlatformError::Refused {
            reason: format!(
                "{name} does not deploy itself (its deploymentConfiguration.strategy is not \
                 BLUE_GREEN, LINEAR or CANARY): describe it as [blue] and [green], or set \
                 the strategy"
            ),
        });
    };
    let recent = recent(client, &blue.cluster, &blue.service).await?;
    let wanted: Vec<String> = {
        let known = known_revisions.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .tasks
            .keys()
            .filter(|arn| !known.contains_key(*arn))
            .cloned()
            .collect()
    };
    if !wanted.is_empty() {
        let found = revisions(client, &wanted).await?;
        known_revisions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(found);
    }
    let known = known_revisions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let color_of = |arn: &str| {
        let group = known.get(arn)?.target_group.as_deref()?;
        Color::BOTH
            .into_iter()
            .find(|c| estate.side(*c).target_group_arn == group)
    };
    let running = recent.newest.as_ref().is_some_and(|d| d.in_progress());
    let mut sides = HashMap::new();
    // While a deployment runs both revisions serve; after it, the one it left live.
    let serving: Vec<&String> = match &recent.newest {
        Some(d) if running => d.source_revision.iter().chain(&d.target_revision).collect(),
        Some(d) if d.status == "SUCCESSFUL" => d.target_revision.iter().collect(),
        Some(d) => d.source_revision.iter().collect(),
        None => Vec::new(),
    };
    for arn in serving {
        if let (Some(color), Some(revision), Some(tasks)) =
            (color_of(arn), known.get(arn), recent.tasks.get(arn))
        {
            sides.insert(color, (revision.task_definition.clone(), *tasks));
        }
    }
    let candidate = recent
        .newest
        .as_ref()
        .and_then(|d| d.target_revision.as_deref())
        .and_then(color_of);
    let driver = Driver::EcsNative(Box::new(NativeService {
        name,
        strategy,
        bake_minutes,
        gated,
        deployment: recent.newest,
        candidate,
        history: recent.history,
    }));
    Ok((driver, sides))
}

/// Sends a gate step: ContinueServiceDeployment at a gate, StopServiceDeployment ROLLBACK
/// otherwise. Sent once: ECS refuses a hook that no longer awaits, and a stop of a finished
/// deployment, so a retried copy cannot do harm, but the caller reads back instead.
pub async fn send(client: &Client, step: &GateStep) -> Result<(), PlatformError> {
    match step {
        GateStep::Answer {
            arn,
            hook_id,
            action,
        } => {
            let action = match action {
                GateAction::Continue => DeploymentLifecycleHookAction::Continue,
                GateAction::Rollback => DeploymentLifecycleHookAction::Rollback,
            };
            client
                .continue_service_deployment()
                .service_deployment_arn(arn)
                .hook_id(hook_id)
                .action(action)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| from_sdk("ContinueServiceDeployment", e))
        }
        GateStep::Stop { arn } => client
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(aws_sdk_ecs::types::StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| from_sdk("StopServiceDeployment", e)),
    }
}

/// The newest service deployment of `service`, described; `None` when it has never had one.
pub async fn newest(
    client: &Client,
    cluster: &str,
    service: &str,
) -> Result<Option<NativeDeployment>, PlatformError> {
    recent(client, cluster, service).await.map(|r| r.newest)
}

/// One service deployment in the domain's words.
pub fn deployment(d: &aws_sdk_ecs::types::ServiceDeployment) -> NativeDeployment {
    let gate = d.lifecycle_hook_details().first().map(|hook| PauseGate {
        hook_id: hook.hook_id().unwrap_or_default().to_string(),
        awaiting: hook.status() == Some(&DeploymentLifecycleHookStatus::AwaitingAction),
        expires_at: hook
            .expires_at()
            .and_then(|t| t.to_millis().ok())
            .and_then(|ms| u64::try_from(ms).ok())
            .map(Timestamp),
        on_timeout: hook.timeout_action().and_then(|a| match a {
            DeploymentLifecycleHookAction::Continue => Some(GateAction::Continue),
            DeploymentLifecycleHookAction::Rollback => Some(GateAction::Rollback),
            _ => None,
        }),
    });
    NativeDeployment {
        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
        status: d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        stage_name: d.lifecycle_stage().map(|s| s.as_str().to_string()),
        gate,
        requested_weight: d
            .target_service_revision()
            .and_then(|r| r.requested_production_traffic_weight()),
        source_revision: d
            .source_service_revisions()
            .first()
            .and_then(|r| r.arn())
            .map(String::from),
        target_revision: d
            .target_service_revision()
            .and_then(|r| r.arn())
            .map(String::from),
        status_reason: d.status_reason().map(String::from),
        rollback_reason: d.rollback().and_then(|r| r.reason()).map(String::from),
        alarms: d.alarms().filter(|a| !a.alarm_names().is_empty()).map(|a| {
            let status = a.status().map_or("?", |s| s.as_str());
            match a.triggered_alarm_names() {
                [] => format!("alarms {status}: {}", a.alarm_names().join(", ")),
                fired => format!("alarms {status}: {}", fired.join(", ")),
            }
        }),
        circuit_breaker: d.deployment_circuit_breaker().and_then(|c| {
            let status = c.status()?.as_str();
            (status != "DISABLED").then(|| {
                format!(
                    "circuit breaker {status}, {} of {} failed tasks",
                    c.failure_count(),
                    c.threshold()
                )
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::primitives::DateTime;
    use aws_sdk_ecs::types::{
        DeploymentLifecycleHookDetail, ServiceDeployment, ServiceDeploymentLifecycleStage,
        ServiceDeploymentStatus, ServiceRevisionSummary,
    };

    #[test]
    fn a_deployment_at_a_gate_reads_as_stage_gate_and_weight() {
        let answer = ServiceDeployment::builder()
            .service_deployment_arn("arn:aws:ecs:eu-west-1:1:service-deployment/c/s/abc")
            .status(ServiceDeploymentStatus::InProgress)
            // Not in the SDK's enum: kept by its name.
            .lifecycle_stage(ServiceDeploymentLifecycleStage::from(
                "PRE_PRODUCTION_TRAFFIC_SHIFT",
            ))
            .lifecycle_hook_details(
                DeploymentLifecycleHookDetail::builder()
                    .hook_id("h-7")
                    .status(DeploymentLifecycleHookStatus::AwaitingAction)
                    .expires_at(DateTime::from_secs(1_800_003_600))
                    .timeout_action(DeploymentLifecycleHookAction::Continue)
                    .build(),
            )
            .source_service_revisions(ServiceRevisionSummary::builder().arn("rev-old").build())
            .target_service_revision(
                ServiceRevisionSummary::builder()
                    .arn("rev-new")
                    .requested_production_traffic_weight(20.0)
                    .build(),
            )
            .build();
        let read = deployment(&answer);
        assert_eq!(
            (read.alarms.as_deref(), read.monitor_triggered()),
            (None, false)
        );
        assert_eq!(
            read.stage(),
            Some(crate::domain::Stage::PreProductionTrafficShift)
        );
        let gate = read.awaiting_gate().expect("a gate waits");
        assert_eq!(gate.hook_id, "h-7");
        assert_eq!(gate.on_timeout, Some(GateAction::Continue));
        assert_eq!(gate.expires_at, Some(Timestamp(1_800_003_600_000)));
        assert_eq!(read.requested_weight, Some(20.0));
        assert_eq!(
            (
                read.source_revision.as_deref(),
                read.target_revision.as_deref()
            ),
            (Some("rev-old"), Some("rev-new"))
        );
    }
}

#[cfg(test)]
mod monitors {
    use super::*;
    use aws_sdk_ecs::types::{
        ServiceDeployment, ServiceDeploymentAlarms, ServiceDeploymentCircuitBreaker,
        ServiceDeploymentRollbackMonitorsStatus,
    };

    #[test]
    fn ecs_own_alarms_and_circuit_breaker_are_read_and_a_trigger_is_seen() {
        let answer = ServiceDeployment::builder()
            .alarms(
                ServiceDeploymentAlarms::builder()
                    .status(ServiceDeploymentRollbackMonitorsStatus::Triggered)
                    .alarm_names("api-5xx")
                    .alarm_names("api-p99")
                    .triggered_alarm_names("api-5xx")
                    .build(),
            )
            .deployment_circuit_breaker(
                ServiceDeploymentCircuitBreaker::builder()
                    .status(ServiceDeploymentRollbackMonitorsStatus::Monitoring)
                    .failure_count(1)
                    .threshold(3)
                    .build(),
            )
            .build();
        let read = deployment(&answer);
        assert_eq!(read.alarms.as_deref(), Some("alarms TRIGGERED: api-5xx"));
        assert_eq!(
            read.circuit_breaker.as_deref(),
            Some("circuit breaker MONITORING, 1 of 3 failed tasks")
        );
        assert!(read.monitor_triggered());
    }
}
