//! An ECS-native deployment (BLUE_GREEN, LINEAR, CANARY) as cutover reads it: where it is in
//! ECS's lifecycle, the PAUSE gate that waits for an operator, and the weight ECS asked for.
//! ECS moves the weights itself; cutover continues at gates and rolls back.

use super::Timestamp;

/// ECS's lifecycle stages in the order a deployment walks them. Cutover keeps its own list:
/// the SDK's enum lacks `PRE_PRODUCTION_TRAFFIC_SHIFT`, so stages are matched by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    ReconcileService,
    PreScaleUp,
    ScaleUp,
    PostScaleUp,
    TestTrafficShift,
    PostTestTrafficShift,
    PreProductionTrafficShift,
    ProductionTrafficShift,
    PostProductionTrafficShift,
    BakeTime,
    CleanUp,
}

impl Stage {
    pub const ORDER: [Stage; 11] = [
        Stage::ReconcileService,
        Stage::PreScaleUp,
        Stage::ScaleUp,
        Stage::PostScaleUp,
        Stage::TestTrafficShift,
        Stage::PostTestTrafficShift,
        Stage::PreProductionTrafficShift,
        Stage::ProductionTrafficShift,
        Stage::PostProductionTrafficShift,
        Stage::BakeTime,
        Stage::CleanUp,
    ];

    /// ECS's name for the stage (`PRE_PRODUCTION_TRAFFIC_SHIFT`).
    pub fn name(self) -> &'static str {
        match self {
            Stage::ReconcileService => "RECONCILE_SERVICE",
            Stage::PreScaleUp => "PRE_SCALE_UP",
            Stage::ScaleUp => "SCALE_UP",
            Stage::PostScaleUp => "POST_SCALE_UP",
            Stage::TestTrafficShift => "TEST_TRAFFIC_SHIFT",
            Stage::PostTestTrafficShift => "POST_TEST_TRAFFIC_SHIFT",
            Stage::PreProductionTrafficShift => "PRE_PRODUCTION_TRAFFIC_SHIFT",
            Stage::ProductionTrafficShift => "PRODUCTION_TRAFFIC_SHIFT",
            Stage::PostProductionTrafficShift => "POST_PRODUCTION_TRAFFIC_SHIFT",
            Stage::BakeTime => "BAKE_TIME",
            Stage::CleanUp => "CLEAN_UP",
        }
    }

    /// The stage ECS names `name`, if cutover knows it.
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ORDER.into_iter().find(|s| s.name() == name)
    }

    /// The stages after this one, in order (a linear or canary deployment passes the two
    /// production stages once a step).
    pub fn after(self) -> &'static [Stage] {
        let at = Stage::ORDER.iter().position(|s| *s == self).unwrap_or(0);
        &Stage::ORDER[at + 1..]
    }
}

/// What ECS does at a PAUSE gate: go on, or roll back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateAction {
    Continue,
    Rollback,
}

/// A PAUSE lifecycle hook as a deployment reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseGate {
    /// New for every gate: a continue names the gate it answers.
    pub hook_id: String,
    /// Waiting for `ContinueServiceDeployment` now (else running, succeeded, timed out…).
    pub awaiting: bool,
    pub expires_at: Option<Timestamp>,
    /// What ECS does when nobody answers by `expires_at`. `Continue` means an absent operator
    /// approves: the screen says so in red.
    pub on_timeout: Option<GateAction>,
}

/// One service deployment, as DescribeServiceDeployments answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeDeployment {
    pub arn: String,
    /// ECS's status (`IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, …), as it says it.
    pub status: String,
    /// ECS's stage as it names it; `stage()` for the ones cutover knows.
    pub stage_name: Option<String>,
    pub gate: Option<PauseGate>,
    /// The production weight ECS asked for the new revision, in percent (a snapshot: the
    /// rule's forward holds the actual one).
    pub requested_weight: Option<f64>,
    pub source_revision: Option<String>,
    pub target_revision: Option<String>,
    pub status_reason: Option<String>,
    pub rollback_reason: Option<String>,
    /// ECS's own rollback monitors, as it reports them: its CloudWatch alarms
    /// ("alarms TRIGGERED: api-5xx") and its circuit breaker ("circuit breaker MONITORING,
    /// 1 of 3 failed tasks"); `None` where the deployment has none.
    pub alarms: Option<String>,
    pub circuit_breaker: Option<String>,
}

impl NativeDeployment {
    /// Whether one of ECS's own monitors has fired: ECS rolls back by itself.
    pub fn monitor_triggered(&self) -> bool {
        [&self.alarms, &self.circuit_breaker]
            .into_iter()
            .flatten()
            .any(|m| m.contains("TRIGGERED"))
    }
}

impl NativeDeployment {
    pub fn stage(&self) -> Option<Stage> {
        self.stage_name.as_deref().and_then(Stage::parse)
    }

    /// Still moving (or waiting at a gate): a continue or a rollback can act on it.
    pub fn in_progress(&self) -> bool {
        matches!(self.status.as_str(), "PENDING" | "IN_PROGRESS")
    }

    /// The gate waiting for the operator now, if one is.
    pub fn awaiting_gate(&self) -> Option<&PauseGate> {
        self.gate
            .as_ref()
            .filter(|g| g.awaiting && self.in_progress())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_known_by_ecs_names_in_ecs_order() {
        for stage in Stage::ORDER {
            assert_eq!(Stage::parse(stage.name()), Some(stage));
        }
        assert_eq!(Stage::parse("SOMETHING_NEW"), None);
        assert_eq!(
            Stage::PostTestTrafficShift.after()[..2],
            [
                Stage::PreProductionTrafficShift,
                Stage::ProductionTrafficShift
            ]
        );
        assert!(Stage::CleanUp.after().is_empty());
        assert!(Stage::ScaleUp < Stage::BakeTime);
    }

    #[test]
    fn only_an_awaiting_gate_of_a_running_deployment_takes_an_answer() {
        let gate = PauseGate {
            hook_id: "h1".into(),
            awaiting: true,
            expires_at: None,
            on_timeout: Some(GateAction::Rollback),
        };
        let mut deployment = NativeDeployment {
            arn: "arn".into(),
            status: "IN_PROGRESS".into(),
            stage_name: Some("PRE_PRODUCTION_TRAFFIC_SHIFT".into()),
            gate: Some(gate),
            requested_weight: Some(0.0),
            source_revision: None,
            target_revision: None,
            status_reason: None,
            rollback_reason: None,
            alarms: None,
            circuit_breaker: None,
        };
        assert_eq!(deployment.stage(), Some(Stage::PreProductionTrafficShift));
        assert!(deployment.awaiting_gate().is_some());
        deployment.status = "ROLLBACK_SUCCESSFUL".into();
        assert!(deployment.awaiting_gate().is_none());
    }
}
