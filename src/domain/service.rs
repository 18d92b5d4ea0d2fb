use std::fmt;

use super::{Color, Driver, TargetHealth, Timestamp, Weights};

/// The rollout state of a service's primary deployment, as ECS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
    Unknown(String),
}

impl fmt::Display for RolloutState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RolloutState::InProgress => f.write_str("IN_PROGRESS"),
            RolloutState::Completed => f.write_str("COMPLETED"),
            RolloutState::Failed => f.write_str("FAILED"),
            RolloutState::Unknown(s) => f.write_str(s),
        }
    }
}

/// One ECS service event ("(service shop-green) has reached a steady state.").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEvent {
    pub id: String,
    pub at: Timestamp,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub cluster: String,
    pub service: String,
    /// `family:revision`.
    pub task_definition: String,
    pub image: String,
    pub desired: u32,
    pub running: u32,
    /// The running tasks of the newest (primary) deployment: during a rolling deployment
    /// `running` counts the old revision's tasks too.
    pub primary_running: u32,
    pub pending: u32,
    pub rollout: RolloutState,
    /// Tasks of the primary deployment that failed to start (ECS's `failedTasks`).
    pub failed_tasks: u32,
    /// The service's deployments as ECS lists them (`deployments[]`, primary first): what a
    /// rollout cutover started became is decided from these, never from the service's own
    /// task definition, which ECS may still show as before right after an update.
    pub deployments: Vec<Deployment>,
    /// Newest first, as ECS returns them.
    pub events: Vec<ServiceEvent>,
}

/// One of a service's deployments: the revision it rolls out and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// `family:revision`.
    pub task_definition: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub rollout: RolloutState,
    pub failed_tasks: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SideObservation {
    pub service: ServiceStatus,
    pub targets: TargetHealth,
}

/// One read of everything that changes quickly: both services, their targets, the weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub blue: SideObservation,
    pub green: SideObservation,
    pub weights: Weights,
    /// Why cutover must not write the weights: another owner of the traffic (CodeDeploy, ECS
    /// native blue/green) or read-only mode. `None` when the operator may write.
    pub writes_refused: Option<String>,
    /// Other listeners and rules of the load balancer that forward to either group: their
    /// requests mix into the per-group metrics, and cutover does not move them.
    pub other_routes: Vec<String>,
    /// The forward action's stickiness duration, when stickiness is on: a client stuck to a
    /// group keeps reaching it that long after its weight went to 0.
    pub stickiness_seconds: Option<u32>,
    /// Another operator's live lock on the weights, as read with this observation
    /// (`alice@laptop pid 4242 until 10:15:00 UTC`): our writes would be refused.
    pub lock_holder: Option<String>,
    /// Who moves the traffic: cutover (a weighted pair) or ECS (a native deployment, read
    /// with this observation).
    pub driver: Driver,
}

impl Observation {
    pub fn side(&self, color: Color) -> &SideObservation {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }
}
