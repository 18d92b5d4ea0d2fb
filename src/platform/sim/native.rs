//! ECS-native deployments in the simulated world: the lifecycle stages on the simulated clock,
//! a PAUSE gate with a fresh hook id before every production step, ECS writing the weights at
//! each step, its bake, and a rollback that puts all traffic back on the source revision.

use std::time::Duration;

use crate::domain::{
    Color, GateAction, GateStep, NativeDeployment, NativeService, NativeStrategy, PauseGate, Stage,
    Timestamp, Weights,
};

/// How long each stage before the first gate takes (ECS reconciles, scales up, shifts test
/// traffic), simulated.
const STAGE: Duration = Duration::from_secs(20);
/// How long ECS bakes each linear or canary step before the next gate.
const STEP_BAKE: Duration = Duration::from_secs(60);
/// How long a PAUSE gate waits before its timeout action.
const GATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The bake after the last step (`bakeTimeInMinutes`).
const FINAL_BAKE_MINUTES: u32 = 2;

#[derive(Debug, Clone)]
struct SimDeployment {
    id: u32,
    status: &'static str,
    stage: Stage,
    since: Timestamp,
    /// The candidate's share ECS asked for.
    share: f64,
    source: Color,
    gate: Option<PauseGate>,
    rollback_reason: Option<String>,
    status_reason: Option<String>,
}

#[derive(Debug)]
pub struct NativeSim {
    strategy: NativeStrategy,
    gated: bool,
    deployments: Vec<SimDeployment>,
    hooks: u32,
    /// The source side of a deployment that just succeeded: ECS scales its revision down.
    cleaned: Option<Color>,
}

const ARN_PREFIX: &str = "arn:aws:ecs:eu-west-1:123456789012:service-deployment/shop/shop/";

impl NativeSim {
    pub fn new(strategy: NativeStrategy) -> Self {
        NativeSim {
            strategy,
            gated: true,
            deployments: Vec::new(),
            hooks: 0,
            cleaned: None,
        }
    }

    /// A new deployment from `source` (carrying all traffic) to the other side.
    pub fn start(&mut self, source: Color, now: Timestamp) {
        let id = self.deployments.len() as u32 + 1;
        self.deployments.push(SimDeployment {
            id,
            status: "IN_PROGRESS",
            stage: Stage::ReconcileService,
            since: now,
            share: 0.0,
            source,
            gate: None,
            rollback_reason: None,
            status_reason: None,
        });
    }

    /// The side ECS's test listener sends test traffic to now: the new revision's, from
    /// TEST_TRAFFIC_SHIFT until the deployment ends.
    pub fn test_traffic(&self) -> Option<Color> {
        self.deployments
            .last()
            .filter(|d| d.status == "IN_PROGRESS" && d.stage >= Stage::TestTrafficShift)
            .map(|d| d.source.other())
    }

    /// The side whose revision ECS scales down now, once: the source of a deployment that
    /// succeeded.
    pub fn take_cleaned(&mut self) -> Option<Color> {
        self.cleaned.take()
    }

    /// Whether a deployment is still moving: a deploy waits for it to end.
    pub fn running(&self) -> bool {
        self.deployments
            .last()
            .is_some_and(|d| d.status == "IN_PROGRESS")
    }

    /// One simulated second: the stage moves on when its time is up; the weights ECS writes,
    /// when it writes them.
    pub fn step(&mut self, now: Timestamp) -> Option<Weights> {
        let strategy = self.strategy;
        let gated = self.gated;
        let next_hook = self.hooks + 1;
        let deployment = self.deployments.last_mut()?;
        if deployment.status != "IN_PROGRESS" {
            return None;
        }
        let elapsed = now.since(deployment.since);
        let mut hooked = false;
        let weights = match deployment.stage {
            Stage::PreProductionTrafficShift => {
                match &deployment.gate {
                    Some(gate) if gate.awaiting => {
                        if gate.expires_at.is_some_and(|at| at <= now) {
                            let on_timeout = gate.on_timeout;
                            deployment.gate = None;
                            if on_timeout == Some(GateAction::Rollback) {
                                return Some(roll_back(
                                    deployment,
                                    now,
                                    "the PAUSE gate timed out",
                                ));
                            }
                            advance(deployment, Stage::ProductionTrafficShift, now);
                        }
                    }
                    _ if !gated => advance(deployment, Stage::ProductionTrafficShift, now),
                    _ => {
                        deployment.gate = Some(PauseGate {
                            hook_id: format!("hook-{next_hook}"),
                            awaiting: true,
                            expires_at: Some(now.plus(GATE_TIMEOUT)),
                            on_timeout: Some(GateAction::Rollback),
                        });
                        hooked = true;
                    }
                }
                None
            }
            Stage::ProductionTrafficShift => {
                let share = strategy.next_share(deployment.share);
                deployment.share = share;
                advance(deployment, Stage::PostProductionTrafficShift, now);
                Some(split(deployment.source, share))
            }
            Stage::PostProductionTrafficShift if elapsed >= STEP_BAKE => {
                if deployment.share >= 100.0 {
                    advance(deployment, Stage::BakeTime, now);
                } else {
                    advance(deployment, Stage::PreProductionTrafficShift, now);
                }
                None
            }
            Stage::BakeTime
                if elapsed >= Duration::from_secs(u64::from(FINAL_BAKE_MINUTES) * 60) =>
            {
                advance(deployment, Stage::CleanUp, now);
                None
            }
            Stage::CleanUp if elapsed >= STAGE => {
                deployment.status = "SUCCESSFUL";
                self.cleaned = Some(deployment.source);
                None
            }
            stage if stage < Stage::PreProductionTrafficShift && elapsed >= STAGE => {
                let next = stage.after().first().copied().unwrap_or(Stage::CleanUp);
                advance(deployment, next, now);
                None
            }
            _ => None,
        };
        if hooked {
            self.hooks = next_hook;
        }
        weights
    }

    /// The operator's answer at a gate, or a stop: ECS's checks (the hook must await, the
    /// deployment must run), then what it does. The weights to set when it rolls back.
    pub fn answer(&mut self, step: &GateStep, now: Timestamp) -> Result<Option<Weights>, String> {
        let Some(deployment) = self.deployments.last_mut() else {
            return Err("ServiceDeploymentNotFoundException: no such deployment".into());
        };
        let arn = format!("{ARN_PREFIX}{}", deployment.id);
        let (asked, hook) = match step {
            GateStep::Answer { arn, hook_id, .. } => (arn, Some(hook_id)),
            GateStep::Stop { arn } => (arn, None),
        };
        if *asked != arn {
            return Err(format!(
                "ServiceDeploymentNotFoundException: {asked} is not the running deployment"
            ));
        }
        if deployment.status != "IN_PROGRESS" {
            return Err(format!(
                "ConflictException: the deployment is {}",
                deployment.status
            ));
        }
        match (step, &deployment.gate) {
            (GateStep::Stop { .. }, _) => Ok(Some(roll_back(
                deployment,
                now,
                "stopped by the operator (StopServiceDeployment ROLLBACK)",
            ))),
            (GateStep::Answer { action, .. }, Some(gate))
                if gate.awaiting && Some(&gate.hook_id) == hook =>
            {
                deployment.gate = None;
                match action {
                    GateAction::Continue => {
                        advance(deployment, Stage::ProductionTrafficShift, now);
                        Ok(None)
                    }
                    GateAction::Rollback => Ok(Some(roll_back(
                        deployment,
                        now,
                        "rolled back at a PAUSE gate by the operator",
                    ))),
                }
            }
            _ => Err(format!(
                "InvalidParameterException: hook {} is not awaiting action",
                hook.map_or("?", String::as_str)
            )),
        }
    }

    /// The service as a poll reads it.
    pub fn service(&self) -> NativeService {
        let newest = self.deployments.last();
        NativeService {
            name: "shop/shop".into(),
            strategy: self.strategy,
            bake_minutes: FINAL_BAKE_MINUTES,
            gated: self.gated,
            deployment: newest.map(|d| NativeDeployment {
                arn: format!("{ARN_PREFIX}{}", d.id),
                status: d.status.into(),
                stage_name: Some(d.stage.name().into()),
                gate: d.gate.clone(),
                requested_weight: Some(d.share),
                source_revision: None,
                target_revision: None,
                status_reason: d.status_reason.clone(),
                rollback_reason: d.rollback_reason.clone(),
                alarms: None,
                circuit_breaker: None,
            }),
            candidate: newest.map(|d| d.source.other()),
            history: self
                .deployments
                .iter()
                .rev()
                .skip(1)
                .take(3)
                .map(|d| format!("deployment {}: {}", d.id, d.status))
                .collect(),
        }
    }
}

fn advance(deployment: &mut SimDeployment, stage: Stage, now: Timestamp) {
    deployment.stage = stage;
    deployment.since = now;
}

fn roll_back(deployment: &mut SimDeployment, now: Timestamp, reason: &str) -> Weights {
    deployment.status = "ROLLBACK_SUCCESSFUL";
    deployment.gate = None;
    deployment.since = now;
    deployment.share = 0.0;
    deployment.rollback_reason = Some(reason.into());
    deployment.status_reason = Some(format!("rolled back: {reason}"));
    Weights::all_to(deployment.source)
}

fn split(source: Color, share: f64) -> Weights {
    let candidate = share.round().clamp(0.0, 100.0) as u8;
    Weights::with_share(source.other(), candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Timestamp {
        Timestamp::from_secs(1_800_000_000 + secs)
    }

    /// Steps the model second by second to `to`, returning the last weights ECS wrote.
    fn run(sim: &mut NativeSim, from: u64, to: u64) -> Option<Weights> {
        let mut written = None;
        for s in from..=to {
            if let Some(w) = sim.step(at(s)) {
                written = Some(w);
            }
        }
        written
    }

    #[test]
    fn a_linear_deployment_waits_at_a_fresh_gate_before_every_step() {
        let mut sim = NativeSim::new(NativeStrategy::Linear { step: 20.0 });
        sim.start(Color::Blue, at(0));
        assert_eq!(run(&mut sim, 1, 300), None, "no weight moves before a gate");
        let mut hooks = Vec::new();
        let mut t = 300;
        for expected in [20, 40, 60, 80, 100] {
            let service = sim.service();
            let step = service.continue_step().expect("a gate waits");
            if let GateStep::Answer { hook_id, .. } = &step {
                hooks.push(hook_id.clone());
            }
            assert_eq!(sim.answer(&step, at(t)), Ok(None));
            assert_eq!(
                sim.answer(&step, at(t))
                    .map_err(|e| e.contains("not awaiting")),
                Err(true),
                "a gate is answered once"
            );
            let written = run(&mut sim, t + 1, t + 100).expect("ECS writes the step");
            assert_eq!(written.share(Color::Green), expected);
            t += 100;
        }
        hooks.dedup();
        assert_eq!(hooks.len(), 5, "every gate has its own hook id");
        run(&mut sim, t, t + 400);
        assert_eq!(
            sim.service().deployment.map(|d| d.status),
            Some("SUCCESSFUL".into())
        );
    }

    #[test]
    fn a_rollback_at_a_gate_or_by_stop_puts_everything_back_on_the_source() {
        let mut sim = NativeSim::new(NativeStrategy::Canary { percent: 10.0 });
        sim.start(Color::Blue, at(0));
        run(&mut sim, 1, 300);
        let go = sim.service().continue_step().expect("a gate");
        sim.answer(&go, at(300)).expect("continued");
        let canary = run(&mut sim, 301, 310).expect("the canary step");
        assert_eq!(canary.share(Color::Green), 10);
        let stop = sim.service().rollback_step().expect("a stop");
        assert!(matches!(stop, GateStep::Stop { .. }));
        assert_eq!(sim.answer(&stop, at(311)), Ok(Some(Weights::ALL_BLUE)));
        assert!(
            sim.answer(&stop, at(312))
                .is_err_and(|e| e.starts_with("ConflictException"))
        );
        let read = sim.service();
        assert_eq!(
            read.deployment.map(|d| d.status),
            Some("ROLLBACK_SUCCESSFUL".into())
        );
    }

    #[test]
    fn an_unanswered_gate_takes_its_timeout_action() {
        let mut sim = NativeSim::new(NativeStrategy::BlueGreen);
        sim.start(Color::Green, at(0));
        run(&mut sim, 1, 300);
        assert!(sim.service().continue_step().is_ok());
        let rolled = run(&mut sim, 301, 300 + GATE_TIMEOUT.as_secs() + 1);
        assert_eq!(rolled, Some(Weights::all_to(Color::Green)));
        assert!(
            sim.service()
                .deployment
                .and_then(|d| d.rollback_reason)
                .is_some_and(|r| r.contains("timed out"))
        );
    }
}
