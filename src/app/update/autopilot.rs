//! Drives the configured plan from `update`: on every message the plan may take its next step
//! (through the guard), hold, or roll back on a breach.

use super::*;
use crate::domain::{Color, LogLevel, LogSource, Rejection, Weights};
use crate::shift::plan::{PlanAction, PlanState};
use crate::shift::{ApplyDecision, GuardDecision, Verdict};

/// How often a plan that holds says again why: a run that waits is never silent for long.
const HOLD_REMINDER: std::time::Duration = std::time::Duration::from_secs(60);

/// What the plan does now, as commands; nothing while a write is in flight.
pub(super) fn drive(state: &mut AppState) -> Vec<Command> {
    // A driver that moves its own weights is steered at its gates.
    if state
        .observation
        .as_ref()
        .is_some_and(|o| o.driver.steps_by_gates())
    {
        return super::gates::drive(state);
    }
    let now = state.now;
    let Some(current) = state.shift.current() else {
        return Vec::new();
    };
    let active = state.plan.as_ref().is_some_and(|p| p.is_active());
    if !active || state.shift.in_flight().is_some() {
        return Vec::new();
    }
    let Some(candidate) = state.plan.as_ref().map(|p| p.side(state.candidate())) else {
        return Vec::new();
    };
    // Only a split that gives the candidate traffic can be made worse by it.
    let worse = state
        .evidence()
        .filter(|e| {
            e.verdict == Verdict::Worse && e.candidate == candidate && current.share(candidate) > 0
        })
        .map(|e| e.reason);
    let Some(plan) = state.plan.as_mut() else {
        return Vec::new();
    };
    match plan.poll(now, current, worse.as_deref()) {
        PlanAction::Nothing => Vec::new(),
        PlanAction::Rollback(reason) => {
            let why = breach(state, candidate, reason);
            rollback_now(state, LogSource::System, Some(why))
        }
        PlanAction::Step(target) => step(state, current, target, candidate),
    }
}

/// The plan found `candidate` worse: said, its build rejected (kept for the rollback's audit
/// line), the breach kept for the screen. Returns why the rollback is made.
pub(super) fn breach(state: &mut AppState, candidate: Color, reason: String) -> String {
    state.note(
        LogLevel::Error,
        LogSource::System,
        format!(
            "plan: {} is worse, rolling back: {reason}",
            candidate.name()
        ),
    );
    let why = format!("{} is worse: {reason}", candidate.name());
    if let Some(observation) = &state.observation {
        let build = &observation.side(candidate).service;
        let rejection = Rejection::of(build, state.now, &reason);
        state.rejections.push(rejection.clone());
        state.rejection_pending = Some(rejection);
    }
    state.breach = Some((state.now, candidate, reason));
    why
}

fn step(state: &mut AppState, current: Weights, target: Weights, candidate: Color) -> Vec<Command> {
    let now = state.now;
    if let Some(reason) = state.writes_refused().map(str::to_string) {
        if let Some(plan) = state.plan.as_mut() {
            plan.pause(format!("not written: {reason}"));
        }
        return Vec::new();
    }
    let decision = state.guard(current, target);
    let Some(plan) = state.plan.as_mut() else {
        return Vec::new();
    };
    match decision {
        GuardDecision::Refuse(why) => {
            let newly = !matches!(plan.state, PlanState::Holding { .. });
            plan.hold(why.clone());
            let before = format!("{}% {}", target.share(candidate), candidate.name());
            if newly {
                state.held_since = Some(now);
                state.hold_said_at = Some(now);
                audit(
                    state,
                    "plan step",
                    current,
                    target,
                    crate::domain::AuditResult::Refused,
                    Some(why.clone()),
                );
                state.note(
                    LogLevel::Info,
                    LogSource::System,
                    format!("plan holds before {before}: {why}"),
                );
            }
            let held = now.since(state.held_since.unwrap_or(now));
            if state
                .hold_said_at
                .is_none_or(|at| now.since(at) >= HOLD_REMINDER)
            {
                state.hold_said_at = Some(now);
                let line = format!(
                    "plan still holds before {before} (for {}): {why}",
                    crate::domain::format_age(held)
                );
                state.note(LogLevel::Info, LogSource::System, line);
            }
            if let Some(max) = state.max_hold
                && held > max
            {
                let line = format!(
                    "plan held before {before} for {}, longer than --max-hold {}: {why}",
                    crate::domain::format_age(held),
                    crate::domain::format_age(max)
                );
                state.note(LogLevel::Warn, LogSource::System, line.clone());
                state.held_too_long = Some(line.clone());
                if let Some(plan) = state.plan.as_mut() {
                    plan.pause(line);
                }
            }
            Vec::new()
        }
        // Plan steps were approved as a whole when the operator started the plan.
        GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => {
            state.held_since = None;
            state.hold_said_at = None;
            let Some(plan) = state.plan.as_mut() else {
                return Vec::new();
            };
            let (done, total) = plan.progress(current, candidate);
            plan.step_started();
            state.shift.stage(target);
            match state.shift.apply_plan_step(now) {
                ApplyDecision::Write(request) => {
                    state.note(
                        LogLevel::Info,
                        LogSource::System,
                        format!(
                            "plan step {}/{total}: {} → {} (blue/green)",
                            done + 1,
                            request.expected,
                            request.target
                        ),
                    );
                    remember_grounds(state, None);
                    written_ahead(state, request)
                }
                _ => {
                    if let Some(plan) = state.plan.as_mut() {
                        plan.hold("the step could not be staged");
                    }
                    Vec::new()
                }
            }
        }
    }
}
