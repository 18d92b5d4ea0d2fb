//! The weights write's lifecycle: starting it, its outcome, retries, and its audit line.

use super::*;

/// All traffic to the baseline now (the plan, if any, has been told already).
pub(super) fn rollback_now(
    state: &mut AppState,
    by: LogSource,
    reason: Option<String>,
) -> Vec<Command> {
    // A driver that moves its own weights rolls back itself, when asked.
    if state
        .observation
        .as_ref()
        .is_some_and(|o| o.driver.steps_by_gates())
    {
        return super::gates::roll_back(state, by, reason);
    }
    let baseline = state.baseline();
    // A queued rollback keeps why it was asked for until it is written.
    state.rollback_reason = reason;
    match state.shift.rollback(baseline, state.now) {
        RollbackDecision::Write(request) => start_write(state, request, by),
        RollbackDecision::Queued => {
            state.note(
                LogLevel::Warn,
                LogSource::Operator,
                "rollback queued: runs as soon as the write in flight is read back",
            );
            Vec::new()
        }
        RollbackDecision::AlreadyThere => {
            let text = format!("{} already carries all traffic", baseline.name());
            state.flash(LogLevel::Info, text);
            Vec::new()
        }
        RollbackDecision::NotReadYet => {
            not_read_yet(state);
            Vec::new()
        }
    }
}

/// A write is starting: keeps the evidence as it stands now, and `reason`, for its audit line;
/// whatever the status line said before (a failure, a refusal) is over.
pub(super) fn remember_grounds(state: &mut AppState, reason: Option<String>) {
    let evidence = evidence_summary(state);
    state.write_grounds = Some(WriteGrounds { evidence, reason });
    state.flash = None;
}

/// Logs a write as `by`'s (the operator's keys, or cutover's plan) and hands it to the executor.
pub(super) fn start_write(
    state: &mut AppState,
    request: WriteRequest,
    by: LogSource,
) -> Vec<Command> {
    let reason = match request.kind {
        WriteKind::Rollback => state.rollback_reason.clone(),
        WriteKind::Apply | WriteKind::PlanStep | WriteKind::Promote => None,
    };
    remember_grounds(state, reason);
    let level = match request.kind {
        WriteKind::Rollback => LogLevel::Warn,
        WriteKind::Apply | WriteKind::PlanStep | WriteKind::Promote => LogLevel::Info,
    };
    state.log.push(
        state.now,
        level,
        by,
        format!(
            "{} {} → {} (blue/green)",
            request.kind.verb(),
            request.expected,
            request.target
        ),
    );
    written_ahead(state, request)
}

/// The write, with its audit line written ahead, in this order: a write whose attempt line
/// cannot be written is not made (a rollback excepted), and one that never gets an answer
/// leaves a trace. Every weights write leaves the core through here.
pub(super) fn written_ahead(state: &AppState, request: WriteRequest) -> Vec<Command> {
    let attempt = AuditEvent::attempt(
        state.now,
        request.kind.verb(),
        request.expected,
        request.target,
    );
    vec![Command::Audit(attempt), Command::Write(request)]
}

pub(super) fn on_write_finished(
    state: &mut AppState,
    result: Result<Weights, PlatformError>,
) -> Vec<Command> {
    state.mark_dirty();
    let now = state.now;
    let Some(outcome) = state.shift.write_finished(result, now) else {
        return Vec::new();
    };
    let weights_moved = match &outcome.result {
        Ok(read_back) => *read_back != outcome.finished.expected,
        Err(PlatformError::Conflict { .. }) => true,
        Err(_) => false,
    };
    if weights_moved {
        state.last_weight_change = Some(now);
        // A move after the guard's rollback starts a new judgement.
        if outcome.finished.kind != WriteKind::Rollback {
            state.breach = None;
        }
    }
    // A write whose answer was lost and that a re-read did not find applied may still land
    // (AWS can apply a change after the client gave up on it): watch for it for a while. A
    // later write that applied is the latest intent: the late copy must not undo it.
    state.unanswered_write = match (&outcome.result, state.unanswered_write) {
        (Err(error), _) if error.outcome_unknown() => Some(UnansweredWrite {
            target: outcome.finished.target,
            until: now.plus(UNANSWERED_WRITE_WATCH),
            superseded_by: None,
        }),
        (Ok(read_back), Some(earlier))
            if *read_back == outcome.finished.target && *read_back != earlier.target =>
        {
            Some(UnansweredWrite {
                superseded_by: Some((*read_back, outcome.finished.kind)),
                ..earlier
            })
        }
        (Ok(_), _) => None,
        (Err(_), earlier) => earlier,
    };
    match &outcome.result {
        Err(PlatformError::Locked { holder }) => state.locked_by = Some(holder.clone()),
        Ok(_) => state.locked_by = None,
        Err(_) => {}
    }
    // The newest fact about the weights: reads that started before it are older.
    if matches!(
        outcome.result,
        Ok(_) | Err(PlatformError::Conflict { .. } | PlatformError::ReadBackMismatch { .. })
    ) {
        state.weights_read_at = Some(now);
    }
    let judged = crate::shift::judge(&outcome.finished, &outcome.result);
    let finished = outcome.finished;
    // The line says what the write was decided on, not the evidence since its read-back.
    let grounds = state.write_grounds.take();
    let (evidence, why) = match grounds {
        Some(g) => (g.evidence, g.reason),
        None => (evidence_summary(state), None),
    };
    // What the platform said about the write (lock bypassed, answer lost) joins its reason.
    let why = why
        .into_iter()
        .chain(std::mem::take(&mut state.write_notes))
        .reduce(|a, b| format!("{a}; {b}"));
    record(
        state,
        finished.kind.verb(),
        (finished.expected, finished.target),
        judged.audit,
        judged.reason.clone().or(why),
        evidence,
    );
    if let Some(plan) = state.plan.as_mut() {
        match &outcome.result {
            Ok(read_back) => plan.step_finished(*read_back, finished.target, now),
            Err(PlatformError::Conflict { expected, actual }) => {
                plan.pause(format!("changed outside cutover: {expected} → {actual}"))
            }
            // Another operator's lock is theirs to give back, not a failure of this plan:
            // paused, as for a change made outside (plan run: exit 4, as the table says).
            Err(error @ PlatformError::Locked { .. }) => plan.pause(error.to_string()),
            Err(error) if plan.state == PlanState::Applying => {
                let failure = plan.step_failed(&error.to_string(), error.is_transient(), now);
                let line = match failure {
                    StepFailure::Retry { at, attempt } => format!(
                        "plan step attempt {attempt}/{MAX_STEP_ATTEMPTS} failed; trying again in {}",
                        crate::domain::format_age(at.since(now))
                    ),
                    StepFailure::Paused { attempts } => format!(
                        "plan paused after {attempts} attempt{}: a tries again",
                        if attempts == 1 { "" } else { "s" }
                    ),
                };
                state.note(LogLevel::Warn, LogSource::System, line);
            }
            Err(_) => {}
        }
    }
    state.note(judged.level, LogSource::System, judged.words.clone());
    match &outcome.result {
        Ok(read_back) if judged.meaning == Meaning::Applied => {
            let stickiness = state
                .observation
                .as_ref()
                .and_then(|o| o.stickiness_seconds);
            let left = read_back.idle_and_live().0;
            if let (WriteKind::Rollback, Some(seconds), Some(left)) =
                (outcome.finished.kind, stickiness, left)
            {
                let line = format!(
                    "sticky clients may reach {} for up to {seconds}s more (stickiness)",
                    left.name()
                );
                state.note(LogLevel::Warn, LogSource::System, line.clone());
                state.flash(LogLevel::Warn, format!("rolled back: {line}"));
            }
        }
        _ if judged.meaning == Meaning::Applied => {}
        _ => state.flash(judged.level, judged.words.clone()),
    }
    if finished.kind == WriteKind::Rollback {
        schedule_rollback_retry(state, &outcome.result);
    }
    let mut commands = Vec::new();
    if let Some(next) = outcome.next {
        commands.extend(start_write(state, next, LogSource::System));
    }
    commands.push(Command::RefreshState);
    commands
}

/// After a rollback's write finished: on a passing failure, when to try again.
pub(super) fn schedule_rollback_retry(
    state: &mut AppState,
    result: &Result<Weights, PlatformError>,
) {
    let now = state.now;
    let attempts = state.rollback_retry.map_or(0, |(_, n)| n) + 1;
    state.rollback_retry = match result {
        Err(error) if error.is_transient() && attempts < MAX_ROLLBACK_ATTEMPTS => {
            let at = now.plus(crate::shift::plan::retry_delay(attempts, now));
            let line = format!(
                "rollback attempt {attempts}/{MAX_ROLLBACK_ATTEMPTS} failed ({error}); trying \
                 again in {}",
                crate::domain::format_age(at.since(now))
            );
            state.note(LogLevel::Warn, LogSource::System, line.clone());
            state.flash(LogLevel::Error, line);
            Some((at, attempts))
        }
        Err(error) if error.is_transient() => {
            let line = format!("rollback failed {attempts} times ({error}): press R to try again");
            state.note(LogLevel::Error, LogSource::System, line.clone());
            state.flash(LogLevel::Error, line);
            None
        }
        _ => None,
    };
}

/// Records one write attempt for the audit log (the runtime writes it out).
pub(super) fn audit(
    state: &mut AppState,
    action: &str,
    from: Weights,
    to: Weights,
    result: AuditResult,
    reason: Option<String>,
) {
    let evidence = evidence_summary(state);
    record(state, action, (from, to), result, reason, evidence);
}

/// The verdict and its reason, as the audit line writes them.
pub(super) fn evidence_summary(state: &AppState) -> Option<String> {
    state.evidence().map(|e| e.summary())
}

pub(super) fn record(
    state: &mut AppState,
    action: &str,
    (from, to): (Weights, Weights),
    result: AuditResult,
    reason: Option<String>,
    evidence: Option<String>,
) {
    // The guard's rejection rides on the line of the rollback that carries it out.
    let rejected = if action == WriteKind::Rollback.verb() {
        state.rejection_pending.take()
    } else {
        None
    };
    state.audit_outbox.push(AuditEvent {
        at: state.now,
        action: action.to_string(),
        from,
        to,
        evidence,
        result,
        reason,
        rejected,
    });
}
