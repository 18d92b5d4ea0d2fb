//! Who moves the traffic, and so what the operator may do about it.
//!
//! The console, the guard, plans and headless commands ask the driver rather than know which
//! kind of deployment they face:
//! - the **weighted pair**: two services, cutover writes the weights of the listener or rule;
//! - **ECS-native** (BLUE_GREEN, LINEAR, CANARY): one service, ECS writes the weights step by
//!   step; cutover answers its PAUSE gates (continue or roll back) and rolls back at any time.
//!
//! A CodeDeploy deployment has the same shape as ECS-native: the platform moves the weights,
//! the operator continues at a wait and stops with a rollback.

use std::fmt;

use super::{Color, GateAction, NativeDeployment, PauseGate, Stage};

#[derive(Debug, Clone, PartialEq, Default)]
pub enum Driver {
    /// cutover writes the weights between two services.
    #[default]
    WeightedPair,
    /// ECS moves the weights; cutover continues at gates and rolls back. Boxed: a pair's
    /// observation stays small.
    EcsNative(Box<NativeService>),
}

/// How ECS moves production traffic for a native service (its `deploymentConfiguration`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NativeStrategy {
    /// All at once after the test traffic stage.
    BlueGreen,
    /// `step` percent at a time.
    Linear { step: f64 },
    /// `percent` first, then the rest.
    Canary { percent: f64 },
}

impl fmt::Display for NativeStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeStrategy::BlueGreen => f.write_str("BLUE_GREEN"),
            NativeStrategy::Linear { step } => write!(f, "LINEAR {}%", percent(*step)),
            NativeStrategy::Canary { percent: p } => write!(f, "CANARY {}%", percent(*p)),
        }
    }
}

impl NativeStrategy {
    /// The new revision's share after the next step, from `share` (percent, 0–100).
    pub fn next_share(self, share: f64) -> f64 {
        let next = match self {
            NativeStrategy::BlueGreen => 100.0,
            NativeStrategy::Linear { step } => share + step,
            NativeStrategy::Canary { percent } if share < percent => percent,
            NativeStrategy::Canary { .. } => 100.0,
        };
        next.clamp(0.0, 100.0)
    }
}

/// A percentage as ECS takes it (tenths), without a trailing `.0`.
pub fn percent(value: f64) -> String {
    let tenths = (value * 10.0).round() / 10.0;
    if tenths.fract() == 0.0 {
        format!("{tenths:.0}")
    } else {
        format!("{tenths:.1}")
    }
}

/// An ECS service that deploys itself, as one poll read it.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeService {
    /// `cluster/service`.
    pub name: String,
    pub strategy: NativeStrategy,
    /// ECS's bake after the last step, in minutes (`bakeTimeInMinutes`).
    pub bake_minutes: u32,
    /// A PAUSE hook waits at PRE_PRODUCTION_TRAFFIC_SHIFT: the operator decides each step.
    pub gated: bool,
    /// The newest service deployment, if the service ever had one.
    pub deployment: Option<NativeDeployment>,
    /// The side (target group) the deployment's new revision registers in.
    pub candidate: Option<Color>,
    /// The deployments before the newest, newest first: `status` and when it began.
    pub history: Vec<String>,
}

/// The one write a driver that moves its own weights takes from the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateStep {
    /// Answer the awaiting gate `hook_id` of deployment `arn`: go on, or roll back.
    Answer {
        arn: String,
        hook_id: String,
        action: GateAction,
    },
    /// Roll back a deployment that waits at no gate (StopServiceDeployment ROLLBACK).
    Stop { arn: String },
}

impl GateStep {
    pub fn is_rollback(&self) -> bool {
        matches!(
            self,
            GateStep::Stop { .. }
                | GateStep::Answer {
                    action: GateAction::Rollback,
                    ..
                }
        )
    }

    /// For the log and the audit: "continue at gate h-3" / "roll back (stop …)".
    pub fn describe(&self) -> String {
        match self {
            GateStep::Answer {
                hook_id,
                action: GateAction::Continue,
                ..
            } => format!("continue at gate {hook_id}"),
            GateStep::Answer { hook_id, .. } => format!("roll back at gate {hook_id}"),
            GateStep::Stop { arn } => format!("roll back deployment {}", short(arn)),
        }
    }
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Where the how-to for a missing PAUSE hook points: the service's deployment configuration.
pub const ADD_PAUSE_HOOK: &str = "add a PAUSE lifecycle hook at PRE_PRODUCTION_TRAFFIC_SHIFT to the service's deploymentConfiguration: \"lifecycleHooks\":[{\"targetType\":\"PAUSE\",\"lifecycleStages\":[\"PRE_PRODUCTION_TRAFFIC_SHIFT\"],\"timeoutConfiguration\":{\"timeoutInMinutes\":60,\"action\":\"ROLLBACK\"}}] (aws ecs update-service --deployment-configuration, or DeploymentConfiguration.LifecycleHooks in CloudFormation)";

impl Driver {
    /// Why cutover must not write the weights itself, when another mover owns them.
    pub fn weights_owner(&self) -> Option<String> {
        match self {
            Driver::WeightedPair => None,
            Driver::EcsNative(native) => Some(format!(
                "ECS moves the weights of {} ({}): continue at its gate (c, cutover continue) or roll back (R, cutover rollback)",
                native.name, native.strategy
            )),
        }
    }

    pub fn native(&self) -> Option<&NativeService> {
        match self {
            Driver::EcsNative(native) => Some(native),
            Driver::WeightedPair => None,
        }
    }

    /// Drivers that gate their own steps answer `c`, `R` and the autopilot through
    /// [`GateStep`]s rather than weight writes.
    pub fn steps_by_gates(&self) -> bool {
        !matches!(self, Driver::WeightedPair)
    }
}

impl NativeService {
    /// The deployment still moving, if one is.
    pub fn running(&self) -> Option<&NativeDeployment> {
        self.deployment.as_ref().filter(|d| d.in_progress())
    }

    /// The side of the new revision while a deployment runs: the candidate, and the other
    /// side where a rollback goes.
    pub fn running_candidate(&self) -> Option<Color> {
        self.running().and(self.candidate)
    }

    /// The gate waiting for the operator now.
    pub fn awaiting(&self) -> Option<(&NativeDeployment, &PauseGate)> {
        let deployment = self.running()?;
        Some((deployment, deployment.awaiting_gate()?))
    }

    /// What `c` sends now, or why there is nothing to continue.
    pub fn continue_step(&self) -> Result<GateStep, String> {
        if let Some((deployment, gate)) = self.awaiting() {
            return Ok(GateStep::Answer {
                arn: deployment.arn.clone(),
                hook_id: gate.hook_id.clone(),
                action: GateAction::Continue,
            });
        }
        Err(match self.running() {
            None => "no ECS deployment is running: D deploys a new image".into(),
            Some(_) if !self.gated => format!(
                "{} has no PAUSE gate before its steps: ECS goes on by itself ({ADD_PAUSE_HOOK})",
                self.name
            ),
            Some(d) => format!("no gate waits: ECS is at {}", d.stage_label()),
        })
    }

    /// What `R` sends now: the awaiting gate answered ROLLBACK, else the deployment stopped
    /// with a rollback; or why there is nothing to roll back.
    pub fn rollback_step(&self) -> Result<GateStep, String> {
        if let Some((deployment, gate)) = self.awaiting() {
            return Ok(GateStep::Answer {
                arn: deployment.arn.clone(),
                hook_id: gate.hook_id.clone(),
                action: GateAction::Rollback,
            });
        }
        match self.running() {
            Some(deployment) => Ok(GateStep::Stop {
                arn: deployment.arn.clone(),
            }),
            None => Err("no ECS deployment is running: nothing to roll back".into()),
        }
    }

    /// The candidate's share ECS moves to when the awaiting gate is continued, from the share
    /// it has now.
    pub fn next_share(&self, now: u8) -> u8 {
        // ALB weights are whole: ECS's tenths land on the nearest.
        self.strategy.next_share(f64::from(now)).round() as u8
    }
}

impl NativeDeployment {
    /// "PRE_PRODUCTION_TRAFFIC_SHIFT" with the gate when one waits; the status once finished.
    pub fn stage_label(&self) -> String {
        if !self.in_progress() {
            return self.status.clone();
        }
        self.stage_name
            .clone()
            .unwrap_or_else(|| self.status.clone())
    }

    /// The stages still ahead (a linear deployment passes the production stages per step).
    pub fn stages_left(&self) -> &'static [Stage] {
        match self.stage() {
            Some(stage) if self.in_progress() => stage.after(),
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn native(strategy: NativeStrategy, gate: Option<bool>) -> NativeService {
        NativeService {
            name: "shop/web".into(),
            strategy,
            bake_minutes: 5,
            gated: true,
            deployment: Some(NativeDeployment {
                arn: "arn:aws:ecs:eu-west-1:1:service-deployment/shop/web/d1".into(),
                status: "IN_PROGRESS".into(),
                stage_name: Some("PRE_PRODUCTION_TRAFFIC_SHIFT".into()),
                gate: gate.map(|awaiting| PauseGate {
                    hook_id: "h-1".into(),
                    awaiting,
                    expires_at: None,
                    on_timeout: Some(GateAction::Rollback),
                }),
                requested_weight: Some(0.0),
                source_revision: None,
                target_revision: None,
                status_reason: None,
                rollback_reason: None,
                alarms: None,
                circuit_breaker: None,
            }),
            candidate: Some(Color::Green),
            history: Vec::new(),
        }
    }

    #[test]
    fn an_awaiting_gate_is_continued_or_rolled_back_by_its_hook() {
        let service = native(NativeStrategy::Linear { step: 20.0 }, Some(true));
        let arn = "arn:aws:ecs:eu-west-1:1:service-deployment/shop/web/d1".to_string();
        assert_eq!(
            service.continue_step(),
            Ok(GateStep::Answer {
                arn: arn.clone(),
                hook_id: "h-1".into(),
                action: GateAction::Continue
            })
        );
        let rollback = service.rollback_step().expect("a rollback");
        assert!(rollback.is_rollback());
        assert_eq!(rollback.describe(), "roll back at gate h-1");
    }

    #[test]
    fn without_an_awaiting_gate_a_rollback_stops_the_deployment() {
        let service = native(NativeStrategy::Linear { step: 20.0 }, Some(false));
        assert!(
            service
                .continue_step()
                .is_err_and(|why| why.contains("no gate waits"))
        );
        assert!(matches!(service.rollback_step(), Ok(GateStep::Stop { .. })));
        let mut finished = service;
        if let Some(d) = finished.deployment.as_mut() {
            d.status = "SUCCESSFUL".into();
        }
        assert!(finished.rollback_step().is_err());
        assert!(
            finished
                .continue_step()
                .is_err_and(|why| why.contains("D deploys"))
        );
    }

    #[test]
    fn an_ungated_service_says_how_to_add_the_gate() {
        let mut service = native(NativeStrategy::BlueGreen, None);
        service.gated = false;
        let why = service.continue_step().expect_err("nothing to continue");
        assert!(why.contains("PRE_PRODUCTION_TRAFFIC_SHIFT"), "{why}");
        assert!(why.contains("lifecycleHooks"), "{why}");
    }

    #[test]
    fn the_next_share_follows_the_strategy() {
        let linear = native(NativeStrategy::Linear { step: 20.0 }, Some(true));
        assert_eq!(
            [0, 20, 80, 100].map(|s| linear.next_share(s)),
            [20, 40, 100, 100]
        );
        let canary = native(NativeStrategy::Canary { percent: 10.0 }, Some(true));
        assert_eq!([0, 10].map(|s| canary.next_share(s)), [10, 100]);
        let all = native(NativeStrategy::BlueGreen, Some(true));
        assert_eq!(all.next_share(0), 100);
        assert_eq!(
            NativeStrategy::Linear { step: 12.5 }.to_string(),
            "LINEAR 12.5%"
        );
    }

    #[test]
    fn only_another_mover_refuses_weight_writes() {
        assert_eq!(Driver::WeightedPair.weights_owner(), None);
        let driver = Driver::EcsNative(Box::new(native(NativeStrategy::BlueGreen, None)));
        assert!(
            driver
                .weights_owner()
                .is_some_and(|w| w.contains("ECS moves the weights of shop/web"))
        );
        assert!(driver.steps_by_gates());
    }
}
