//! Poll results: the state (services, targets, weights) and the metrics.

use super::*;

pub(super) fn on_observed(
    state: &mut AppState,
    started: Timestamp,
    result: Result<Observation, PlatformError>,
) -> Vec<Command> {
    let mut commands = Vec::new();
    state.mark_dirty();
    let now = state.now;
    match result {
        // A read that started before the latest write was read back may hold the weights from
        // before that write: its services are news, its weights are not.
        Ok(mut observation)
            if state.weights_read_at.is_some_and(|at| started < at)
                && state.shift.current().is_some() =>
        {
            if let Some(current) = state.shift.current() {
                observation.weights = current;
            }
            for color in Color::BOTH {
                state
                    .log
                    .service_events(color, &observation.side(color).service.events);
            }
            settle_scaling(state, &observation);
            note_lock(state, &observation);
            state.observation = Some(observation);
            state.observed_at = Some(now);
        }
        Ok(observation) => {
            if state.state_error.take().is_some() {
                state.note(LogLevel::Info, LogSource::System, "state polling recovered");
            }
            let before = state.shift.current();
            state.shift.observed(observation.weights);
            state.steered_unread = false;
            let late = state.unanswered_write.take_if(|unanswered| {
                unanswered.target == observation.weights && now <= unanswered.until
            });
            if let (Some(late), Some(before)) = (late, before)
                && state.shift.in_flight().is_none()
                && before != late.target
            {
                // Our own write, whose answer was lost, landed after all: not an outside change.
                commands.extend(landed_late(state, late, before));
            } else if let Some(before) = before
                && before != observation.weights
                && observation.driver.steps_by_gates()
            {
                // The driver moves its own weights: ECS's step, expected, not an outside change.
                state.last_weight_change = Some(now);
                let by = observation
                    .driver
                    .native()
                    .map_or("the platform", |_| "ECS");
                state.note(
                    LogLevel::Info,
                    LogSource::System,
                    format!("{by} moved the weights: {before} → {}", observation.weights),
                );
            } else if let Some(before) = before
                && state.shift.in_flight().is_none()
                && before != observation.weights
            {
                state.last_weight_change = Some(now);
                if let Some(plan) = state.plan.as_mut() {
                    plan.pause(format!(
                        "changed outside cutover: {before} → {}",
                        observation.weights
                    ));
                }
                state.note(
                    LogLevel::Warn,
                    LogSource::System,
                    format!(
                        "changed outside cutover: {before} → {}",
                        observation.weights
                    ),
                );
                // More traffic on the candidate than anyone here decided: a banner until the
                // evidence has judged the new split.
                let candidate = state.candidate();
                if observation.weights.permille(candidate) > before.permille(candidate) {
                    state.outside_change = Some((now, before, observation.weights));
                }
            }
            for color in Color::BOTH {
                state
                    .log
                    .service_events(color, &observation.side(color).service.events);
            }
            // Once the deployed side carries traffic, its deploy is history: the evidence and
            // the plan speak for it from then on.
            let deployed_side = state
                .deploy
                .as_ref()
                .and_then(|(_, r)| r.as_ref())
                .map(|r| r.idle);
            if deployed_side.is_some_and(|side| observation.weights.share(side) > 0) {
                state.deploy = None;
            }
            settle_scaling(state, &observation);
            note_lock(state, &observation);
            state.observation = Some(observation);
            state.observed_at = Some(now);
        }
        Err(error) => note_poll_error(state, error, |s| &mut s.state_error),
    }
    commands
}

/// A write of ours whose answer was lost has landed, `before` → its target. With no later
/// intent it is simply applied late. After a later write that applied (a rollback above all),
/// it is a stale copy undoing that intent: the latest intent is put back at once.
fn landed_late(state: &mut AppState, late: UnansweredWrite, before: Weights) -> Vec<Command> {
    let now = state.now;
    state.last_weight_change = Some(now);
    let Some((intent, kind)) = late.superseded_by else {
        if let Some(plan) = state.plan.as_mut() {
            plan.step_landed_late(late.target, now);
        }
        let target = late.target;
        let line = format!("the write whose answer was lost was applied after all: read {target}");
        state.note(LogLevel::Warn, LogSource::System, line.clone());
        state.flash(LogLevel::Warn, line);
        audit(
            state,
            "late apply",
            before,
            target,
            AuditResult::Applied,
            Some("the answer was lost; a later read found the write applied".into()),
        );
        return Vec::new();
    };
    let target = late.target;
    let line = format!(
        "a late copy of our earlier write to {target} landed after the {} to {intent}: putting \
         {intent} back",
        kind.verb()
    );
    state.note(LogLevel::Error, LogSource::System, line.clone());
    state.flash(LogLevel::Error, line);
    audit(
        state,
        "late copy",
        before,
        target,
        AuditResult::Applied,
        Some(format!(
            "an earlier write whose answer was lost landed after the {} to {intent}",
            kind.verb()
        )),
    );
    if kind == WriteKind::Rollback {
        state.rollback_reason = Some(format!(
            "putting back the rollback a late copy of {target} undid"
        ));
    }
    match state.shift.restore(intent, kind, now) {
        Some(request) => start_write(state, request, LogSource::System),
        None => Vec::new(),
    }
}

/// Another operator's lock as this poll read it: taken and given up are events.
fn note_lock(state: &mut AppState, observation: &Observation) {
    if state.locked_by == observation.lock_holder {
        return;
    }
    match &observation.lock_holder {
        Some(holder) => state.note(
            LogLevel::Warn,
            LogSource::System,
            format!("{holder} holds the lock: writes from here are refused, R still rolls back"),
        ),
        None => state.note(LogLevel::Info, LogSource::System, "the lock is free again"),
    }
    state.locked_by = observation.lock_holder.clone();
}

/// A scale asked for is over for the guard once a read shows its desired count (the tasks
/// still stopping show as desired below running, which the guard refuses by itself).
fn settle_scaling(state: &mut AppState, observation: &Observation) {
    if let Some((side, desired)) = state.scaling
        && observation.side(side).service.desired == desired
    {
        state.scaling = None;
    }
}

pub(super) fn on_metrics(state: &mut AppState, result: Result<MetricsSnapshot, PlatformError>) {
    state.mark_dirty();
    let now = state.now;
    match result {
        Ok(metrics) => {
            if state.metrics_error.take().is_some() {
                state.note(LogLevel::Info, LogSource::System, "metrics recovered");
            }
            if let Some(side) = roles::settled(&metrics, state.settings.role_bake) {
                let before = state.settled_baseline.replace(side);
                if before.is_some_and(|b| b != side) {
                    let text = format!(
                        "roles swap: {side} has carried all traffic for the bake and is live; \
                         {} is idle and takes the next deploy",
                        side.other()
                    );
                    state.note(LogLevel::Info, LogSource::System, text);
                }
            }
            state.metrics = Some(metrics);
            state.metrics_at = Some(now);
        }
        Err(error) => note_poll_error(state, error, |s| &mut s.metrics_error),
    }
}

/// Logs a polling error once per streak, not once per poll.
pub(super) fn note_poll_error(
    state: &mut AppState,
    error: PlatformError,
    slot: fn(&mut AppState) -> &mut Option<String>,
) {
    let text = error.to_string();
    if slot(state).as_deref() != Some(text.as_str()) {
        let level = if error.is_transient() {
            LogLevel::Warn
        } else {
            LogLevel::Error
        };
        state.note(level, LogSource::System, text.clone());
    }
    *slot(state) = Some(text);
}
