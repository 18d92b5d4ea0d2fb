//! Deploying a new image to the idle side: a new revision of its task definition with only one
//! container's image changed, then the service updated to it and scaled to the live side's size.

use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{ContainerDefinition, Tag, TaskDefinition, TaskDefinitionField};

use super::errors::from_sdk;
use crate::platform::PlatformError;

/// Why a deploy cannot even be asked for; each says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    #[error("the image is empty: give one, e.g. --image example/shop:1.6.0")]
    EmptyImage,
    /// Why the reference is not one a deploy can use (see `domain::image_problem`).
    #[error("{0}")]
    NotAnImage(String),
    #[error("the task definition {family} has no container '{name}': it has {names}")]
    NoSuchContainer {
        family: String,
        name: String,
        names: String,
    },
    #[error(
        "the task definition {family} has several containers ({names}): name one with --container"
    )]
    WhichContainer { family: String, names: String },
}

impl From<DeployError> for crate::domain::Failure {
    fn from(error: DeployError) -> Self {
        crate::domain::Failure::BadInput(error.into())
    }
}

/// Why a deploy did not happen: an image or container cutover cannot use, or what the
/// platform said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployFailure {
    #[error(transparent)]
    Input(#[from] DeployError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

pub fn check_image(image: &str) -> Result<(), DeployError> {
    if image.trim().is_empty() {
        return Err(DeployError::EmptyImage);
    }
    match crate::domain::image_problem(image) {
        Some(problem) => Err(DeployError::NotAnImage(problem)),
        None => Ok(()),
    }
}

/// The container definitions of `definition` with `image` in the chosen container and
/// everything else exactly as it was.
pub fn with_image(
    definition: &TaskDefinition,
    container: Option<&str>,
    image: &str,
) -> Result<Vec<ContainerDefinition>, DeployError> {
    check_image(image)?;
    let containers = definition.container_definitions();
    let family = definition.family().unwrap_or("?").to_string();
    let names = || {
        containers
            .iter()
            .filter_map(|c| c.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let index = match container {
        Some(name) => containers
            .iter()
            .position(|c| c.name() == Some(name))
            .ok_or_else(|| DeployError::NoSuchContainer {
                family: family.clone(),
                name: name.to_string(),
                names: names(),
            })?,
        None if containers.len() == 1 => 0,
        None => {
            return Err(DeployError::WhichContainer {
                family,
                names: names(),
            });
        }
    };
    let mut out = containers.to_vec();
    out[index].image = Some(image.to_string());
    Ok(out)
}

/// The current definition with its tags (`DescribeTaskDefinition` leaves them out unless asked).
pub async fn describe(
    client: &Client,
    arn: &str,
) -> Result<(TaskDefinition, Vec<Tag>), PlatformError> {
    let out = client
        .describe_task_definition()
        .task_definition(arn)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
        .map_err(|e| from_sdk("DescribeTaskDefinition", e))?;
    let definition = out
        .task_definition()
        .cloned()
        .ok_or_else(|| PlatformError::Api {
            operation: "DescribeTaskDefinition".into(),
            code: None,
            message: format!("{arn} has no definition"),
        })?;
    Ok((definition, out.tags().to_vec()))
}

/// Registers a new revision: every field of `definition` that registration takes, the
/// read-only ones (revision, status, registeredAt, compatibilities, requiresAttributes, ARN)
/// left out, and `containers` in place of its containers. Returns the new revision's ARN.
pub async fn register(
    client: &Client,
    definition: &TaskDefinition,
    containers: Vec<ContainerDefinition>,
    tags: Vec<Tag>,
) -> Result<String, PlatformError> {
    let d = definition.clone();
    let out = client
        .register_task_definition()
        .set_family(d.family)
        .set_task_role_arn(d.task_role_arn)
        .set_execution_role_arn(d.execution_role_arn)
        .set_network_mode(d.network_mode)
        .set_container_definitions(Some(containers))
        .set_volumes(d.volumes)
        .set_placement_constraints(d.placement_constraints)
        .set_requires_compatibilities(d.requires_compatibilities)
        .set_cpu(d.cpu)
        .set_memory(d.memory)
        .set_tags((!tags.is_empty()).then_some(tags))
        .set_pid_mode(d.pid_mode)
        .set_ipc_mode(d.ipc_mode)
        .set_proxy_configuration(d.proxy_configuration)
        .set_ephemeral_storage(d.ephemeral_storage)
        .set_runtime_platform(d.runtime_platform)
        .set_enable_fault_injection(d.enable_fault_injection)
        .send()
        .await
        .map_err(|e| from_sdk("RegisterTaskDefinition", e))?;
    out.task_definition()
        .and_then(|t| t.task_definition_arn())
        .map(str::to_string)
        .ok_or_else(|| PlatformError::Api {
            operation: "RegisterTaskDefinition".into(),
            code: None,
            message: "no ARN came back".into(),
        })
}

/// Points the service at `task_definition` and asks for `desired` tasks.
pub async fn update_service(
    client: &Client,
    cluster: &str,
    service: &str,
    task_definition: &str,
    desired: i32,
) -> Result<(), PlatformError> {
    client
        .update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(task_definition)
        .desired_count(desired)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| from_sdk("UpdateService", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, image: &str) -> ContainerDefinition {
        ContainerDefinition::builder()
            .name(name)
            .image(image)
            .memory(512)
            .essential(true)
            .build()
    }

    fn definition(containers: Vec<ContainerDefinition>) -> TaskDefinition {
        TaskDefinition::builder()
            .family("shop")
            .revision(8)
            .cpu("256")
            .set_container_definitions(Some(containers))
            .build()
    }

    #[test]
    fn only_the_chosen_containers_image_changes() {
        let d = definition(vec![
            container("web", "example/shop:1.5.0"),
            container("envoy", "envoy:1.30"),
        ]);
        let out = with_image(&d, Some("web"), "example/shop:1.6.0").expect("valid");
        assert_eq!(out[0].image(), Some("example/shop:1.6.0"));
        assert_eq!(
            out[1],
            d.container_definitions()[1],
            "the sidecar is untouched"
        );
        let mut expected = d.container_definitions()[0].clone();
        expected.image = Some("example/shop:1.6.0".into());
        assert_eq!(
            out[0], expected,
            "every other field of the container is kept"
        );
    }

    #[test]
    fn a_single_container_needs_no_name() {
        let d = definition(vec![container("web", "a:1")]);
        assert_eq!(
            with_image(&d, None, "a:2").expect("valid")[0].image(),
            Some("a:2")
        );
    }

    #[test]
    fn bad_requests_say_how_to_fix_them() {
        let d = definition(vec![container("web", "a:1"), container("envoy", "e:1")]);
        assert_eq!(
            with_image(&d, None, "a:2"),
            Err(DeployError::WhichContainer {
                family: "shop".into(),
                names: "web, envoy".into()
            })
        );
        assert_eq!(
            with_image(&d, Some("api"), "a:2").map_err(|e| e.to_string()),
            Err("the task definition shop has no container 'api': it has web, envoy".into())
        );
        assert_eq!(
            with_image(&d, Some("web"), " "),
            Err(DeployError::EmptyImage)
        );
        assert!(matches!(
            with_image(&d, Some("web"), "a :2"),
            Err(DeployError::NotAnImage(why)) if why.contains("is not an image reference")
        ));
    }
}
