//! ECS-native deployments read through the ECS API: the service's newest service deployment,
//! mapped to the domain's `NativeDeployment` (stages by name: the SDK's enum lacks
//! `PRE_PRODUCTION_TRAFFIC_SHIFT`).

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{DeploymentLifecycleHookAction, DeploymentLifecycleHookStatus};

use super::errors::from_sdk;
use crate::domain::{GateAction, NativeDeployment, PauseGate, Timestamp};
use crate::platform::PlatformError;

/// The newest service deployment of `service`, described; `None` when it has never had one.
pub async fn newest(
    client: &Client,
    cluster: &str,
    service: &str,
) -> Result<Option<NativeDeployment>, PlatformError> {
    let listed = client
        .list_service_deployments()
        .cluster(cluster)
        .service(service)
        .max_results(1)
        .send()
        .await
        .map_err(|e| from_sdk("ListServiceDeployments", e))?;
    let Some(arn) = listed
        .service_deployments()
        .first()
        .and_then(|d| d.service_deployment_arn())
    else {
        return Ok(None);
    };
    let described = client
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeServiceDeployments", e))?;
    Ok(described.service_deployments().first().map(deployment))
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
