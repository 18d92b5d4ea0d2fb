//! ECS: services (batched per cluster), task definitions (cached per ARN), ownership.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{DeploymentControllerType, DeploymentRolloutState, Service};

use super::errors::from_sdk;
use crate::domain::{Deployment, RolloutState, ServiceEvent, ServiceStatus, Timestamp};
use crate::platform::PlatformError;

/// `family:revision` and the image of a task definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionSummary {
    pub family_revision: String,
    pub image: String,
}

fn primary_deployment(service: &Service) -> Option<&aws_sdk_ecs::types::Deployment> {
    service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
}

/// ECS's rollout state in the domain's words; `None` where ECS reports none.
fn rollout(state: Option<&DeploymentRolloutState>) -> Option<RolloutState> {
    Some(match state? {
        DeploymentRolloutState::Completed => RolloutState::Completed,
        DeploymentRolloutState::InProgress => RolloutState::InProgress,
        DeploymentRolloutState::Failed => RolloutState::Failed,
        other => RolloutState::Unknown(other.as_str().to_string()),
    })
}

pub fn rollout_state(service: &Service) -> RolloutState {
    match rollout(primary_deployment(service).and_then(|d| d.rollout_state())) {
        Some(state) => state,
        // Older services report no rollout state: one deployment means nothing is rolling.
        None if service.deployments().len() <= 1 => RolloutState::Completed,
        None => RolloutState::InProgress,
    }
}

pub fn service_status(
    cluster: &str,
    service: &Service,
    task_definition: Option<&TaskDefinitionSummary>,
) -> ServiceStatus {
    let count = |n: i32| u32::try_from(n).unwrap_or(0);
    ServiceStatus {
        cluster: cluster.to_string(),
        service: service.service_name().unwrap_or_default().to_string(),
        task_definition: task_definition.map_or_else(
            || short_task_definition(service.task_definition().unwrap_or("?")),
            |t| t.family_revision.clone(),
        ),
        image: task_definition.map_or_else(|| "?".to_string(), |t| t.image.clone()),
        desired: count(service.desired_count()),
        running: count(service.running_count()),
        primary_running: count(
            primary_deployment(service).map_or(service.running_count(), |d| d.running_count()),
        ),
        pending: count(service.pending_count()),
        rollout: rollout_state(service),
        failed_tasks: count(primary_deployment(service).map_or(0, |d| d.failed_tasks())),
        deployments: service
            .deployments()
            .iter()
            .map(|d| Deployment {
                task_definition: short_task_definition(d.task_definition().unwrap_or("?")),
                status: d.status().unwrap_or("?").to_string(),
                rollout: rollout(d.rollout_state())
                    .unwrap_or_else(|| RolloutState::Unknown(String::new())),
                failed_tasks: count(d.failed_tasks()),
            })
            .collect(),
        events: service
            .events()
            .iter()
            .map(|e| ServiceEvent {
                id: e.id().unwrap_or_default().to_string(),
                at: e
                    .created_at()
                    .and_then(|t| t.to_millis().ok())
                    .map_or(Timestamp(0), |ms| Timestamp(ms.max(0) as u64)),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

/// `family:revision` from a task definition ARN.
fn short_task_definition(arn: &str) -> String {
    arn.rsplit_once('/')
        .map_or(arn, |(_, tail)| tail)
        .to_string()
}

/// Who else moves this service's traffic, if anyone: writing weights by hand would fight it.
pub fn traffic_owner(service: &Service) -> Option<String> {
    let name = service.service_name().unwrap_or("?");
    if let Some(owner) = controller_owner(service) {
        return Some(owner);
    }
    if service
        .load_balancers()
        .iter()
        .any(|lb| lb.advanced_configuration().is_some())
    {
        return Some(format!(
            "ECS blue/green owns the traffic (service {name} has an advancedConfiguration on its load balancer)"
        ));
    }
    None
}

/// Another deployment controller than ECS's own: CodeDeploy or an external tool owns the
/// deployments, and with them the traffic.
pub fn controller_owner(service: &Service) -> Option<String> {
    let name = service.service_name().unwrap_or("?");
    let controller = service.deployment_controller().map(|c| c.r#type());
    if controller == Some(&DeploymentControllerType::CodeDeploy) {
        return Some(format!(
            "CodeDeploy owns the traffic (service {name} uses the CODE_DEPLOY deployment controller)"
        ));
    }
    if controller == Some(&DeploymentControllerType::External) {
        return Some(format!(
            "another tool owns the deployments (service {name} uses the EXTERNAL deployment controller)"
        ));
    }
    None
}

/// Whether the service's tasks register in the group: its load balancer's group, or the
/// alternate one an ECS-native deployment uses.
/// Who else owns an estate's traffic: for a service that deploys itself only another
/// deployment controller (ECS's own blue/green is the driver cutover steers), for a pair any
/// owner of either service.
pub fn owner_of(native: bool, blue: &Service, green: &Service) -> Option<String> {
    if native {
        controller_owner(blue)
    } else {
        traffic_owner(blue).or_else(|| traffic_owner(green))
    }
}

/// Task definitions' `family:revision` and image, described once per ARN: revisions never
/// change.
#[derive(Debug, Default)]
pub struct TaskDefinitions(Mutex<HashMap<String, TaskDefinitionSummary>>);

impl TaskDefinitions {
    pub async fn get(
        &self,
        client: &Client,
        arn: &str,
    ) -> Result<TaskDefinitionSummary, PlatformError> {
        if let Some(known) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(arn) {
            return Ok(known.clone());
        }
        let summary = describe_task_definition(client, arn).await?;
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(arn.to_string(), summary.clone());
        Ok(summary)
    }
}

/// One side's service as the screen shows it. `revision`: for a service that deploys itself,
/// the revision whose tasks register in this side's group (its task definition and tasks),
/// else the service's own.
pub async fn side_status(
    client: &Client,
    known: &TaskDefinitions,
    cluster: &str,
    service: &Service,
    revision: Option<&(String, super::native::RevisionTasks)>,
) -> Result<ServiceStatus, PlatformError> {
    let arn = revision
        .map(|(arn, _)| arn.as_str())
        .or(service.task_definition());
    let task_definition = match arn {
        Some(arn) => Some(known.get(client, arn).await?),
        None => None,
    };
    let mut status = service_status(cluster, service, task_definition.as_ref());
    if let Some((_, tasks)) = revision {
        status.desired = tasks.requested;
        status.running = tasks.running;
        status.primary_running = tasks.running;
        status.pending = tasks.pending;
    }
    Ok(status)
}

pub fn is_attached_to(service: &Service, target_group_arn: &str) -> bool {
    service.load_balancers().iter().any(|lb| {
        lb.target_group_arn() == Some(target_group_arn)
            || lb
                .advanced_configuration()
                .is_some_and(|a| a.alternate_target_group_arn() == Some(target_group_arn))
    })
}

/// The name an ECS ARN ends in: `…:cluster/shop` → `shop`, `…:service/shop/shop-blue` →
/// `shop-blue`.
fn name_of(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

/// Every cluster's name (`ListClusters`, 100 a page).
pub async fn cluster_names(client: &Client) -> Result<Vec<String>, PlatformError> {
    let mut names = Vec::new();
    let mut pages = client
        .list_clusters()
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("ListClusters", e))?;
        names.extend(page.cluster_arns().iter().map(|a| name_of(a)));
    }
    names.sort();
    Ok(names)
}

/// Every service's name in `cluster` (`ListServices`, 100 a page).
pub async fn service_names(client: &Client, cluster: &str) -> Result<Vec<String>, PlatformError> {
    let mut names = Vec::new();
    let mut pages = client
        .list_services()
        .cluster(cluster)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| from_sdk("ListServices", e))?;
        names.extend(page.service_arns().iter().map(|a| name_of(a)));
    }
    names.sort();
    Ok(names)
}

/// Describes the named services of one cluster in one call; a missing one is an error naming it.
pub async fn describe_services(
    client: &Client,
    cluster: &str,
    names: &[&str],
) -> Result<HashMap<String, Service>, PlatformError> {
    let out = client
        .describe_services()
        .cluster(cluster)
        .set_services(Some(names.iter().map(|n| n.to_string()).collect()))
        .send()
        .await
        .map_err(|e| from_sdk("DescribeServices", e))?;
    let mut found = HashMap::new();
    for service in out.services() {
        if service.status() == Some("INACTIVE") {
            continue;
        }
        if let Some(name) = service.service_name() {
            found.insert(name.to_string(), service.clone());
        }
    }
    for name in names {
        if !found.contains_key(*name) {
            return Err(PlatformError::Api {
                operation: "DescribeServices".into(),
                // What ECS says in the answer's `failures` for a service it does not have.
                code: Some("MISSING".into()),
                message: format!(
                    "service '{name}' not found in cluster '{cluster}' (or it is inactive)"
                ),
            });
        }
    }
    Ok(found)
}

pub async fn describe_task_definition(
    client: &Client,
    arn: &str,
) -> Result<TaskDefinitionSummary, PlatformError> {
    let out = client
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeTaskDefinition", e))?;
    let definition = out.task_definition();
    let family_revision = definition
        .map(|d| format!("{}:{}", d.family().unwrap_or("?"), d.revision()))
        .unwrap_or_else(|| short_task_definition(arn));
    let images: Vec<&str> = definition
        .map(|d| {
            d.container_definitions()
                .iter()
                .filter_map(|c| c.image())
                .collect()
        })
        .unwrap_or_default();
    Ok(TaskDefinitionSummary {
        family_revision,
        image: match images.as_slice() {
            [] => "?".to_string(),
            [one] => one.to_string(),
            [first, rest @ ..] => format!("{first} (+{} more)", rest.len()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::primitives::DateTime;
    use aws_sdk_ecs::types::{
        AdvancedConfiguration, Deployment, DeploymentController, LoadBalancer,
        ServiceEvent as SdkEvent,
    };

    fn service() -> aws_sdk_ecs::types::builders::ServiceBuilder {
        Service::builder()
            .service_name("shop-green")
            .task_definition("arn:aws:ecs:eu-west-1:1:task-definition/shop:8")
            .desired_count(4)
            .running_count(3)
            .pending_count(1)
    }

    #[test]
    fn a_service_maps_to_its_status() {
        let svc = service()
            .deployments(
                Deployment::builder()
                    .status("PRIMARY")
                    .running_count(1)
                    .rollout_state(DeploymentRolloutState::InProgress)
                    .build(),
            )
            .deployments(
                Deployment::builder()
                    .status("ACTIVE")
                    .running_count(2)
                    .build(),
            )
            .events(
                SdkEvent::builder()
                    .id("e1")
                    .created_at(DateTime::from_secs(1_795_763_100))
                    .message("(service shop-green) has reached a steady state.")
                    .build(),
            )
            .build();
        let summary = TaskDefinitionSummary {
            family_revision: "shop:8".into(),
            image: "example/shop:1.5.0".into(),
        };
        let status = service_status("shop-green", &svc, Some(&summary));
        assert_eq!((status.desired, status.running, status.pending), (4, 3, 1));
        assert_eq!(status.primary_running, 1, "the new revision's tasks only");
        assert_eq!(status.rollout, RolloutState::InProgress);
        assert_eq!(status.task_definition, "shop:8");
        assert_eq!(status.events[0].at, Timestamp::from_secs(1_795_763_100));
    }

    #[test]
    fn without_a_described_task_definition_the_arn_tail_is_shown() {
        let status = service_status("c", &service().build(), None);
        assert_eq!(status.task_definition, "shop:8");
        assert_eq!(status.rollout, RolloutState::Completed);
    }

    #[test]
    fn codedeploy_and_ecs_blue_green_own_the_traffic() {
        let codedeploy = service()
            .deployment_controller(
                DeploymentController::builder()
                    .r#type(DeploymentControllerType::CodeDeploy)
                    .build()
                    .expect("type is set"),
            )
            .build();
        assert!(traffic_owner(&codedeploy).is_some_and(|o| o.contains("CODE_DEPLOY")));
        let native = service()
            .load_balancers(
                LoadBalancer::builder()
                    .target_group_arn("tg")
                    .advanced_configuration(
                        AdvancedConfiguration::builder()
                            .alternate_target_group_arn("tg2")
                            .production_listener_rule("rule")
                            .build(),
                    )
                    .build(),
            )
            .build();
        assert!(traffic_owner(&native).is_some_and(|o| o.contains("advancedConfiguration")));
        assert_eq!(traffic_owner(&service().build()), None);
    }
}
