//! A driver that moves its own weights (ECS-native): the operator and the plan answer its
//! gates. `c` continues through the guard like an increase, `R` rolls back at any time (at a
//! gate, or by stopping the deployment), and the autopilot continues at each gate once the
//! evidence is ok after a bake, or rolls back on worse. Every step is audited ahead, sent once
//! and read back: the driver the platform answers with replaces the one on screen.

use super::*;
use crate::domain::{GateStep, NativeService};
use crate::shift::Verdict;

/// The native service as the last poll read it, if the estate is one.
pub(super) fn native(state: &AppState) -> Option<&NativeService> {
    state.observation.as_ref()?.driver.native()
}

/// The split ECS moves to when the awaiting gate is continued.
pub(super) fn continue_target(state: &AppState) -> Option<Weights> {
    let native = native(state)?;
    let current = state.shift.current()?;
    let candidate = state.candidate();
    Some(Weights::with_share(
        candidate,
        native.next_share(current.share(candidate)),
    ))
}

/// `c`: the question, with what ECS does next; the guard was asked by `availability`.
pub(super) fn ask_to_continue(state: &mut AppState) -> Vec<Command> {
    let (Some(native), Some(to), Some(from)) =
        (native(state), continue_target(state), state.shift.current())
    else {
        return Vec::new();
    };
    let Ok(step) = native.continue_step() else {
        return Vec::new();
    };
    state.popup = Some(Popup::Confirm(Confirm::ContinueGate { step, from, to }));
    Vec::new()
}

/// A yes to the continue question: the guard once more (the evidence moved while it was
/// open), then the step.
pub(super) fn confirmed_continue(
    state: &mut AppState,
    step: GateStep,
    to: Weights,
    by: LogSource,
) -> Vec<Command> {
    if guard_refuses(state, to) {
        return Vec::new();
    }
    // The gate may have moved on while the question was open.
    let now_awaiting = native(state).and_then(|n| n.continue_step().ok());
    if now_awaiting.as_ref() != Some(&step) {
        state.flash(
            LogLevel::Warn,
            "not continued: that gate no longer waits (ECS moved on, or it timed out)",
        );
        return Vec::new();
    }
    send(state, step, to, by, None)
}

/// Rolls back through the driver: the awaiting gate answered ROLLBACK, else the deployment
/// stopped with a rollback. Never refused by the guard, the lock or another step: one in
/// flight gets it queued behind.
pub(super) fn roll_back(
    state: &mut AppState,
    by: LogSource,
    reason: Option<String>,
) -> Vec<Command> {
    if state.steering.as_ref().is_some_and(GateStep::is_rollback) {
        state.flash(
            LogLevel::Info,
            "a rollback is in flight: wait for ECS's answer",
        );
        return Vec::new();
    }
    if state.steering.is_some() {
        if !state.rollback_after_steer {
            state.rollback_after_steer = true;
            state.rollback_reason = reason;
            state.note(
                LogLevel::Warn,
                LogSource::Operator,
                "rollback queued: runs as soon as the step in flight is answered",
            );
        }
        return Vec::new();
    }
    let Some(native) = native(state) else {
        return Vec::new();
    };
    match native.rollback_step() {
        Ok(step) => {
            let to = Weights::all_to(state.baseline());
            send(state, step, to, by, reason)
        }
        Err(why) => {
            state.flash(LogLevel::Info, why);
            Vec::new()
        }
    }
}

fn send(
    state: &mut AppState,
    step: GateStep,
    to: Weights,
    by: LogSource,
    reason: Option<String>,
) -> Vec<Command> {
    let from = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    let action = verb(&step);
    let level = if step.is_rollback() {
        LogLevel::Warn
    } else {
        LogLevel::Info
    };
    let expect = if step.is_rollback() {
        format!("ECS puts all traffic back on {}", state.baseline().name())
    } else {
        format!(
            "ECS shifts {} to {}%",
            state.candidate().name(),
            to.share(state.candidate())
        )
    };
    state.note(level, by, format!("{}: {expect}", step.describe()));
    remember_grounds(state, reason.or_else(|| Some(step.describe())));
    state.steering = Some(step.clone());
    state.steer_target = Some(to);
    state.mark_dirty();
    vec![
        Command::Audit(AuditEvent::attempt(state.now, action, from, to)),
        Command::Steer(step),
    ]
}

fn verb(step: &GateStep) -> &'static str {
    if step.is_rollback() {
        WriteKind::Rollback.verb()
    } else {
        "continue"
    }
}

/// The platform answered a step: the driver it read back is the truth from now on.
pub(super) fn on_steered(
    state: &mut AppState,
    step: GateStep,
    result: Result<crate::domain::Driver, PlatformError>,
) -> Vec<Command> {
    state.steering = None;
    state.steered_unread = true;
    let to = state.steer_target.take().unwrap_or(Weights::ALL_BLUE);
    let from = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    let grounds = state.write_grounds.take();
    let (evidence, reason) = grounds.map_or((None, None), |g| (g.evidence, g.reason));
    let action = verb(&step);
    // A rollback that failed for a passing reason goes again by itself, as a weights
    // rollback does.
    let failure = result.as_ref().err().cloned();
    match result {
        Ok(driver) => {
            if let Some(observation) = state.observation.as_mut() {
                observation.driver = driver;
            }
            record(
                state,
                action,
                (from, to),
                AuditResult::Applied,
                reason,
                evidence,
            );
            let text = format!("{}: ECS took it", step.describe());
            state.flash(LogLevel::Info, text.clone());
            state.note(LogLevel::Info, LogSource::System, text);
            if step.is_rollback()
                && let Some(plan) = state.plan.as_mut()
                && plan.is_active()
            {
                plan.aborted("rolled back");
            }
        }
        Err(error) => {
            let text = format!("{} failed: {error}", step.describe());
            record(
                state,
                action,
                (from, to),
                AuditResult::Failed,
                Some(error.to_string()),
                evidence,
            );
            state.note(LogLevel::Error, LogSource::System, text.clone());
            state.flash(LogLevel::Error, text);
            if !step.is_rollback()
                && let Some(plan) = state.plan.as_mut()
            {
                plan.hold(format!("the continue failed: {error}"));
            }
        }
    }
    if step.is_rollback() {
        schedule_rollback_retry(state, &failure.map_or(Ok(from), Err));
    }
    let mut commands = vec![Command::RefreshState];
    if std::mem::take(&mut state.rollback_after_steer) {
        let reason = state.rollback_reason.take();
        commands.extend(roll_back(state, LogSource::Operator, reason));
    }
    commands
}

/// The autopilot at gates: rolls back once the candidate carrying traffic is judged worse;
/// at an awaiting gate, continues once the gate has waited the plan's bake and the guard
/// allows the next step; otherwise says what it waits for.
pub(super) fn drive(state: &mut AppState) -> Vec<Command> {
    let now = state.now;
    let active = state.plan.as_ref().is_some_and(|p| p.is_active());
    if !active || state.steering.is_some() {
        return Vec::new();
    }
    let Some(native) = native(state).cloned() else {
        return Vec::new();
    };
    let (Some(current), candidate) = (state.shift.current(), state.candidate()) else {
        return Vec::new();
    };
    let _ = current;
    let Some(deployment) = native.deployment.clone() else {
        return Vec::new();
    };
    if !deployment.in_progress() {
        if let Some(plan) = state.plan.as_mut() {
            if deployment.status == "SUCCESSFUL" {
                plan.finished();
                state.note(
                    LogLevel::Info,
                    LogSource::System,
                    "plan done: ECS finished the deployment",
                );
            } else {
                let why = format!("the deployment ended {}", deployment.status);
                plan.aborted(why.clone());
                state.note(
                    LogLevel::Warn,
                    LogSource::System,
                    format!("plan over: {why}"),
                );
            }
        }
        return Vec::new();
    }
    // ECS's test listener reaches the new revision before production does: a verdict of
    // worse counts at any share.
    let worse = state
        .evidence()
        .filter(|e| e.verdict == Verdict::Worse && e.candidate == candidate)
        .map(|e| e.reason);
    if let Some(reason) = worse {
        if let Some(plan) = state.plan.as_mut() {
            plan.rolled_back(reason.clone());
        }
        let why = super::autopilot::breach(state, candidate, reason);
        return roll_back(state, LogSource::System, Some(why));
    }
    let Ok(step) = native.continue_step() else {
        let waits = match deployment.stage() {
            Some(stage) => format!("ECS is at {}", stage.name()),
            None => "ECS's next stage".into(),
        };
        if let Some(plan) = state.plan.as_mut() {
            plan.wait(format!("waits for the next gate: {waits}"));
        }
        return Vec::new();
    };
    let GateStep::Answer { hook_id, .. } = &step else {
        return Vec::new();
    };
    let since = match &state.gate_seen {
        Some((seen, since)) if seen == hook_id => *since,
        _ => {
            state.gate_seen = Some((hook_id.clone(), now));
            now
        }
    };
    let bake = state.plan.as_ref().map_or(Duration::ZERO, |p| p.bake);
    if now.since(since) < bake {
        let left = bake.saturating_sub(now.since(since));
        if let Some(plan) = state.plan.as_mut() {
            plan.wait(format!(
                "continues at gate {hook_id} in {} (bake)",
                crate::domain::format_age(left)
            ));
        }
        return Vec::new();
    }
    let Some(to) = continue_target(state) else {
        return Vec::new();
    };
    match state.guard(current, to) {
        GuardDecision::Refuse(why) => {
            let newly = state.plan.as_ref().is_some_and(|p| !p.holds_for(&why));
            if let Some(plan) = state.plan.as_mut() {
                plan.hold(why.clone());
            }
            if newly {
                state.note(
                    LogLevel::Info,
                    LogSource::System,
                    format!("plan holds at gate {hook_id}: {why}"),
                );
            }
            Vec::new()
        }
        GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => {
            if let Some(plan) = state.plan.as_mut() {
                plan.step_started();
            }
            send(state, step, to, LogSource::System, None)
        }
    }
}

/// What `c` would send, for availability: the step and the split ECS moves to, or why not.
pub(crate) fn continue_availability(
    state: &AppState,
    evidence: Option<&crate::shift::Evidence>,
) -> Result<(), String> {
    let native = native(state).ok_or(
        "c continues an ECS-native deployment at a gate: cutover writes this pair's weights itself",
    )?;
    if state.steering.is_some() {
        return Err("a step is in flight: wait for ECS's answer".into());
    }
    native.continue_step()?;
    let (Some(current), Some(to)) = (state.shift.current(), continue_target(state)) else {
        return Err(super::super::availability::NOT_READ_YET.into());
    };
    match state.guard_judged(current, to, evidence) {
        GuardDecision::Refuse(why) => Err(format!("continue is refused: {why}")),
        _ => Ok(()),
    }
}
