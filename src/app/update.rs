use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::availability::NOT_READ_YET;
use super::state::WriteGrounds;
use super::{
    Action, AppState, Availability, Command, Confirm, ImagePrompt, Msg, PercentPrompt, Popup,
    action_for, availability,
};
use crate::domain::{
    AuditEvent, AuditResult, Color, DeployReport, LogLevel, LogSource, MetricsSnapshot,
    Observation, PlatformError, ScaleReport, Timestamp, Weights,
};
use crate::shift::plan::{MAX_STEP_ATTEMPTS, PlanState, StepFailure};
use crate::shift::{
    ApplyDecision, GuardDecision, RollbackDecision, WriteKind, WriteRequest, roles,
};

/// The whole behaviour of the console: a message in, the state changed, commands out.
pub fn update(state: &mut AppState, msg: Msg) -> Vec<Command> {
    let mut commands = handle(state, msg);
    commands.extend(retry_rollback_if_due(state));
    if !state.quit {
        commands.extend(super::autopilot::drive(state));
    }
    if !state.quit {
        commands.extend(scale_down_after_bake(state));
    }
    if state.stop_when_plan_ends && plan_is_over(state) && !state.quit {
        state.quit = true;
        commands.push(Command::Quit);
    }
    commands
}

/// How long a write whose answer was lost is watched for landing late.
const UNANSWERED_WRITE_WATCH: std::time::Duration = std::time::Duration::from_secs(120);

/// Rollbacks that failed for a passing reason (throttling, a 5xx, a timeout) before this many
/// attempts are tried again by themselves, backing off; past it, R tries again.
pub const MAX_ROLLBACK_ATTEMPTS: u32 = 8;

/// A rollback that failed for a passing reason goes again once its backoff is over.
fn retry_rollback_if_due(state: &mut AppState) -> Vec<Command> {
    let due = state.rollback_retry.is_some_and(|(at, _)| at <= state.now);
    if !due || state.shift.in_flight().is_some() {
        return Vec::new();
    }
    let reason = state.rollback_reason.clone();
    rollback_now(state, LogSource::System, reason)
}

/// After a rollback's write finished: on a passing failure, when to try again.
fn schedule_rollback_retry(state: &mut AppState, result: &Result<Weights, PlatformError>) {
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
            state
                .log
                .push(now, LogLevel::Warn, LogSource::System, line.clone());
            state.flash(LogLevel::Error, line);
            Some((at, attempts))
        }
        Err(error) if error.is_transient() => {
            let line = format!("rollback failed {attempts} times ({error}): press R to try again");
            state
                .log
                .push(now, LogLevel::Error, LogSource::System, line.clone());
            state.flash(LogLevel::Error, line);
            None
        }
        _ => None,
    };
}

/// With `scale_down_after_bake`, an idle side that still runs tasks is scaled to 0, once.
fn scale_down_after_bake(state: &mut AppState) -> Vec<Command> {
    if !state.settings.scale_down_after_bake || state.writes_refused().is_some() {
        return Vec::new();
    }
    let Some(idle) = idle_side(state) else {
        return Vec::new();
    };
    let runs = state
        .observation
        .as_ref()
        .is_some_and(|o| o.side(idle).service.desired > 0);
    if !state.baked_out(idle) || !runs || state.scaled_down == Some(idle) {
        return Vec::new();
    }
    state.scaled_down = Some(idle);
    let now = state.now;
    state.log.push(
        now,
        LogLevel::Info,
        LogSource::System,
        format!("{idle} is idle after the bake: scaling it to 0 (scale_down_after_bake)"),
    );
    vec![Command::ScaleIdle { desired: 0 }]
}

fn plan_is_over(state: &AppState) -> bool {
    let over = state.plan.as_ref().is_some_and(|p| {
        matches!(
            p.state,
            PlanState::Done | PlanState::RolledBack { .. } | PlanState::Paused { .. }
        )
    });
    over && state.shift.in_flight().is_none() && !state.shift.rollback_queued()
}

fn handle(state: &mut AppState, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key { key, now } => {
            state.now = now;
            on_key(state, key)
        }
        Msg::Tick { now } => {
            state.now = now;
            state.ticks += 1;
            if state.flash.as_ref().is_some_and(|f| f.until <= now) {
                state.flash = None;
            }
            // Ages on screen move with every tick.
            state.mark_dirty();
            Vec::new()
        }
        Msg::Observed {
            now,
            started,
            result,
        } => {
            state.now = now;
            on_observed(state, started, result);
            Vec::new()
        }
        Msg::MetricsFetched { now, result } => {
            state.now = now;
            on_metrics(state, result);
            Vec::new()
        }
        Msg::WriteFinished { now, result } => {
            state.now = now;
            on_write_finished(state, result)
        }
        Msg::Deployed { now, result } => {
            state.now = now;
            on_deployed(state, result)
        }
        Msg::Scaled { now, result } => {
            state.now = now;
            on_scaled(state, result)
        }
        Msg::Adopted { now, result } => {
            state.now = now;
            on_adopted(state, result)
        }
        Msg::Resized => {
            state.mark_dirty();
            Vec::new()
        }
        Msg::WriteNoted { now, note } => {
            state.now = now;
            let verb = state.shift.in_flight().map_or("write", |w| w.kind.verb());
            let line = format!("{verb}: {note}");
            state
                .log
                .push(now, LogLevel::Warn, LogSource::System, line.clone());
            state.flash(LogLevel::Warn, line);
            state.write_notes.push(note);
            Vec::new()
        }
    }
}

fn on_deployed(state: &mut AppState, result: Result<DeployReport, PlatformError>) -> Vec<Command> {
    let outcome = result.as_ref().map_err(Clone::clone).map(|report| {
        format!(
            "deployed to {}: {} → {}, {} tasks starting",
            report.idle, report.from, report.to, report.desired
        )
    });
    match result {
        Ok(report) => {
            if let Some((_, slot)) = state.deploy.as_mut() {
                *slot = Some(report);
            }
            // A new revision deserves a new run of the plan.
            if let Some(plan) = state.plan.as_mut() {
                plan.rearm();
            }
        }
        Err(_) => state.deploy = None,
    }
    service_changed(
        state,
        "deploy",
        outcome,
        "; the previous revision keeps serving",
    )
}

fn on_scaled(state: &mut AppState, result: Result<ScaleReport, PlatformError>) -> Vec<Command> {
    let outcome = result.map(|report| {
        format!(
            "scaled {} from {} to {} tasks",
            report.side, report.from, report.to
        )
    });
    service_changed(state, "scale idle", outcome, "")
}

fn on_adopted(state: &mut AppState, result: Result<DeployReport, PlatformError>) -> Vec<Command> {
    let outcome = result.map(|report| {
        format!(
            "adopted: {} rolls from {} to {}",
            report.idle, report.from, report.to
        )
    });
    service_changed(state, "adopt", outcome, "")
}

/// A change to a service (deploy, scale, adopt) finished: say so, audit it, read again.
fn service_changed(
    state: &mut AppState,
    action: &str,
    outcome: Result<String, PlatformError>,
    failure_note: &str,
) -> Vec<Command> {
    state.mark_dirty();
    let now = state.now;
    let weights = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    match outcome {
        Ok(text) => {
            state.log.push(now, LogLevel::Info, LogSource::System, text);
            audit(state, action, weights, weights, AuditResult::Applied, None);
            vec![Command::RefreshState]
        }
        Err(error) => {
            let text = format!("{action} failed: {error}{failure_note}");
            state
                .log
                .push(now, LogLevel::Error, LogSource::System, text.clone());
            state.flash(LogLevel::Error, text);
            let reason = Some(error.to_string());
            audit(state, action, weights, weights, AuditResult::Failed, reason);
            Vec::new()
        }
    }
}

/// The side a deploy goes to: the one carrying nothing.
fn idle_side(state: &AppState) -> Option<Color> {
    state.shift.current()?.idle_and_live().0
}

fn on_key(state: &mut AppState, key: KeyEvent) -> Vec<Command> {
    if !matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat) {
        return Vec::new();
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return quit(state);
    }
    if key.code == KeyCode::Char('R') && state.popup.is_some() {
        // Rollback is the panic button: it works over any popup (a percentage has no 'R').
        state.popup = None;
        state.mark_dirty();
        let target = Weights::all_to(state.baseline());
        if refused(state, "rollback", Some(target)) {
            return Vec::new();
        }
        return rollback(state);
    }
    match state.popup.take() {
        Some(popup) => {
            state.mark_dirty();
            on_popup_key(state, popup, key)
        }
        None => match action_for(&key) {
            Some(action) => {
                state.mark_dirty();
                on_action(state, action)
            }
            None => Vec::new(),
        },
    }
}

fn on_popup_key(state: &mut AppState, popup: Popup, key: KeyEvent) -> Vec<Command> {
    match popup {
        Popup::Help => {
            let closes = matches!(
                key.code,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?') | KeyCode::Char('q')
            );
            if !closes {
                state.popup = Some(Popup::Help);
            }
            Vec::new()
        }
        Popup::Prompt(mut prompt) => {
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => match prompt.submit() {
                    Ok(percent) => stage_typed(state, percent),
                    Err(_) => state.popup = Some(Popup::Prompt(prompt)),
                },
                _ => {
                    prompt.input.handle_event(&Event::Key(key));
                    prompt.revalidate();
                    state.popup = Some(Popup::Prompt(prompt));
                }
            }
            Vec::new()
        }
        Popup::Image(mut prompt) => {
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => match prompt.submit() {
                    // What held when the prompt opened may not hold any more.
                    Some(_) if refused(state, "deploy", None) => {}
                    Some(image) => {
                        let now = state.now;
                        let idle = idle_side(state).map_or("the idle side", |c| c.label());
                        state.log.push(
                            now,
                            LogLevel::Info,
                            LogSource::Operator,
                            format!("deploy {image} to {idle}"),
                        );
                        state.deploy = Some((image.clone(), None));
                        return vec![Command::Deploy { image }];
                    }
                    None => state.popup = Some(Popup::Image(prompt)),
                },
                _ => {
                    prompt.input.handle_event(&Event::Key(key));
                    prompt.error = None;
                    state.popup = Some(Popup::Image(prompt));
                }
            }
            Vec::new()
        }
        Popup::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => confirmed(state, confirm),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                state.flash(LogLevel::Info, "not applied: nothing was written");
                Vec::new()
            }
            _ => {
                state.popup = Some(Popup::Confirm(confirm));
                Vec::new()
            }
        },
    }
}

fn on_action(state: &mut AppState, action: Action) -> Vec<Command> {
    // One answer to "can this run now?" for dispatch, the hint bar and the help.
    match availability(state, action) {
        Availability::Available => {}
        Availability::WritesRefused(_) => {
            refused(state, action_name(action), action_target(state, action));
            return Vec::new();
        }
        Availability::Unavailable(why) => {
            let level = if why == NOT_READ_YET {
                LogLevel::Warn
            } else {
                LogLevel::Info
            };
            state.flash(level, why);
            return Vec::new();
        }
    }
    let step = i16::from(state.settings.step_points);
    match action {
        Action::StageUp => nudge(state, step),
        Action::StageDown => nudge(state, -step),
        Action::TypePercent => {
            state.popup = Some(Popup::Prompt(PercentPrompt::default()));
            Vec::new()
        }
        Action::Apply => apply_staged(state, false),
        Action::DropStaged => {
            if let Some(dropped) = state.shift.drop_staged() {
                state.flash(
                    LogLevel::Info,
                    format!("dropped the staged split {dropped}"),
                );
            }
            Vec::new()
        }
        Action::Rollback => rollback(state),
        Action::Promote => {
            let to = state.candidate();
            match state.shift.current() {
                None => not_read_yet(state),
                Some(from) if from == Weights::all_to(to) => state.flash(
                    LogLevel::Info,
                    format!("{} already carries all traffic", to.name()),
                ),
                Some(from) => {
                    if !guard_refuses(state, Weights::all_to(to)) {
                        state.popup = Some(Popup::Confirm(Confirm::Promote { from, to }));
                    }
                }
            }
            Vec::new()
        }
        Action::StartPlan => {
            let now = state.now;
            let candidate = state.candidate();
            let current = state.shift.current().unwrap_or(Weights::ALL_BLUE);
            if let Some(plan) = state.plan.as_mut() {
                let resumed = plan.state != PlanState::Ready && plan.state != PlanState::Done;
                if plan.start(now, candidate, current) {
                    let verb = if resumed { "resumed" } else { "started" };
                    let text = format!(
                        "plan {verb}: traffic moves to {}",
                        plan.side(candidate).name()
                    );
                    state
                        .log
                        .push(now, LogLevel::Info, LogSource::Operator, text);
                }
            }
            Vec::new()
        }
        Action::PausePlan => {
            let now = state.now;
            if let Some(plan) = state.plan.as_mut() {
                plan.pause("paused by the operator (a resumes)");
                state
                    .log
                    .push(now, LogLevel::Info, LogSource::Operator, "plan paused");
            }
            Vec::new()
        }
        Action::NextStep => {
            let now = state.now;
            if let Some(plan) = state.plan.as_mut() {
                plan.skip_bake(now);
            }
            Vec::new()
        }
        // What would stop these was said by `availability` above.
        Action::Deploy => {
            if let (Some(idle), Some(observation)) = (idle_side(state), &state.observation) {
                let current = observation.side(idle).service.image.clone();
                state.popup = Some(Popup::Image(ImagePrompt::new(&current)));
            }
            Vec::new()
        }
        Action::ScaleIdle => {
            if let (Some(side), Some(observation)) = (idle_side(state), &state.observation) {
                let desired = observation.side(side).service.desired;
                state.popup = Some(Popup::Confirm(Confirm::ScaleIdle { side, desired }));
            }
            Vec::new()
        }
        Action::Adopt => {
            let sides = state.shift.current().map(Weights::idle_and_live);
            if let (Some((Some(idle), Some(live))), Some(observation)) = (sides, &state.observation)
            {
                let revision = observation.side(idle).service.task_definition.clone();
                state.popup = Some(Popup::Confirm(Confirm::Adopt { live, revision }));
            }
            Vec::new()
        }
        Action::Help => {
            state.popup = Some(Popup::Help);
            Vec::new()
        }
        Action::Quit => quit(state),
    }
}

fn nudge(state: &mut AppState, delta: i16) -> Vec<Command> {
    if state.shift.nudge(delta).is_none() {
        not_read_yet(state);
    }
    Vec::new()
}

/// A typed percentage is the candidate's share: the side traffic moves to.
fn stage_typed(state: &mut AppState, percent: u8) {
    let candidate = state.candidate();
    match state.shift.stage(Weights::with_share(candidate, percent)) {
        None => not_read_yet(state),
        Some(_) if state.shift.staged().is_none() => state.flash(
            LogLevel::Info,
            format!("{} already carries {percent}%", candidate.name()),
        ),
        Some(w) => state.flash(
            LogLevel::Info,
            format!("staged {w} (blue/green): Enter applies, Esc drops"),
        ),
    }
}

fn confirmed(state: &mut AppState, confirm: Confirm) -> Vec<Command> {
    let current = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    let (action, to) = match &confirm {
        Confirm::LargeJump { to, .. } => ("apply", *to),
        Confirm::Promote { to, .. } => ("promote", Weights::all_to(*to)),
        Confirm::ScaleIdle { .. } => ("scale idle", current),
        Confirm::Adopt { .. } => ("adopt", current),
    };
    if refused(state, action, Some(to)) {
        return Vec::new();
    }
    match confirm {
        Confirm::ScaleIdle { side, .. } => {
            let now = state.now;
            let text = format!("scale {side} to 0 tasks");
            state
                .log
                .push(now, LogLevel::Info, LogSource::Operator, text);
            vec![Command::ScaleIdle { desired: 0 }]
        }
        Confirm::Adopt { live, revision } => {
            let now = state.now;
            let text = format!("adopt {revision} on {live}");
            state
                .log
                .push(now, LogLevel::Info, LogSource::Operator, text);
            vec![Command::Adopt]
        }
        Confirm::LargeJump { .. } => apply_staged(state, true),
        Confirm::Promote { to, .. } => {
            // The evidence may have changed while the question was open: ask the guard again.
            if guard_refuses(state, Weights::all_to(to)) {
                return Vec::new();
            }
            let decision = state.shift.promote(to, state.now);
            on_apply_decision(state, decision)
        }
    }
}

/// Applies the staged split if the guard lets it; `confirmed` when the operator already said
/// yes to a large jump.
fn apply_staged(state: &mut AppState, confirmed: bool) -> Vec<Command> {
    let (Some(current), Some(staged)) = (state.shift.current(), state.shift.staged()) else {
        let decision = state.shift.apply(u8::MAX, state.now);
        return on_apply_decision(state, decision);
    };
    if state.shift.in_flight().is_some() {
        return on_apply_decision(state, ApplyDecision::Busy);
    }
    match state.guard(current, staged) {
        GuardDecision::Refuse(why) => {
            guard_refused(state, "apply", current, staged, &why);
            Vec::new()
        }
        GuardDecision::NeedsConfirm(_) if !confirmed => {
            state.popup = Some(Popup::Confirm(Confirm::LargeJump {
                from: current,
                to: staged,
            }));
            Vec::new()
        }
        GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => {
            let decision = state.shift.apply_confirmed(state.now);
            on_apply_decision(state, decision)
        }
    }
}

/// Whether the guard refuses moving to `target` now (a jump needing confirmation is not a
/// refusal); says why if so.
fn guard_refuses(state: &mut AppState, target: Weights) -> bool {
    let Some(current) = state.shift.current() else {
        return false;
    };
    match state.guard(current, target) {
        GuardDecision::Refuse(why) => {
            guard_refused(state, "promote", current, target, &why);
            true
        }
        GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => false,
    }
}

fn guard_refused(state: &mut AppState, action: &str, from: Weights, to: Weights, why: &str) {
    audit(
        state,
        action,
        from,
        to,
        AuditResult::Refused,
        Some(why.to_string()),
    );
    let now = state.now;
    let text = format!("refused {from} → {to}: {why}");
    state
        .log
        .push(now, LogLevel::Warn, LogSource::System, text.clone());
    state.flash(LogLevel::Warn, text);
}

fn on_apply_decision(state: &mut AppState, decision: ApplyDecision) -> Vec<Command> {
    match decision {
        ApplyDecision::Write(request) => start_write(state, request, LogSource::Operator),
        ApplyDecision::NeedsConfirm { from, to } => {
            state.popup = Some(Popup::Confirm(Confirm::LargeJump { from, to }));
            Vec::new()
        }
        ApplyDecision::NothingStaged => {
            state.flash(LogLevel::Info, "nothing staged: stage with →/← or %");
            Vec::new()
        }
        ApplyDecision::Busy => {
            state.flash(
                LogLevel::Warn,
                "a write is in flight: apply again once it is read back",
            );
            Vec::new()
        }
        ApplyDecision::NotReadYet => {
            not_read_yet(state);
            Vec::new()
        }
    }
}

fn rollback(state: &mut AppState) -> Vec<Command> {
    if let Some(plan) = state.plan.as_mut() {
        plan.aborted("rolled back by the operator");
    }
    rollback_now(
        state,
        LogSource::Operator,
        Some("rolled back by the operator".into()),
    )
}

/// All traffic to the baseline now (the plan, if any, has been told already).
pub(super) fn rollback_now(
    state: &mut AppState,
    by: LogSource,
    reason: Option<String>,
) -> Vec<Command> {
    let baseline = state.baseline();
    // A queued rollback keeps why it was asked for until it is written.
    state.rollback_reason = reason;
    match state.shift.rollback(baseline, state.now) {
        RollbackDecision::Write(request) => start_write(state, request, by),
        RollbackDecision::Queued => {
            let now = state.now;
            state.log.push(
                now,
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

/// Keeps the evidence as it stands now, and `reason`, for the audit line of the write that is
/// starting.
pub(super) fn remember_grounds(state: &mut AppState, reason: Option<String>) {
    let evidence = evidence_summary(state);
    state.write_grounds = Some(WriteGrounds { evidence, reason });
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
    vec![Command::Write(request)]
}

fn on_write_finished(state: &mut AppState, result: Result<Weights, PlatformError>) -> Vec<Command> {
    state.mark_dirty();
    let now = state.now;
    let Some(outcome) = state.shift.write_finished(result, now) else {
        return Vec::new();
    };
    let verb = outcome.finished.kind.verb();
    let weights_moved = match &outcome.result {
        Ok(read_back) => *read_back != outcome.finished.expected,
        Err(PlatformError::Conflict { .. }) => true,
        Err(_) => false,
    };
    if weights_moved {
        state.last_weight_change = Some(now);
    }
    // A write whose answer was lost and that a re-read did not find applied may still land
    // (AWS can apply a change after the client gave up on it): watch for it for a while.
    state.unanswered_write = match &outcome.result {
        Err(error) if error.outcome_unknown() => {
            Some((outcome.finished.target, now.plus(UNANSWERED_WRITE_WATCH)))
        }
        _ => None,
    };
    // The newest fact about the weights: reads that started before it are older.
    if matches!(
        outcome.result,
        Ok(_) | Err(PlatformError::Conflict { .. } | PlatformError::ReadBackMismatch { .. })
    ) {
        state.weights_read_at = Some(now);
    }
    let (result, reason) = match &outcome.result {
        Ok(read_back) if *read_back == outcome.finished.target => (AuditResult::Applied, None),
        Ok(read_back) => (AuditResult::Failed, Some(format!("read back {read_back}"))),
        Err(
            error @ (PlatformError::Conflict { .. }
            | PlatformError::Locked { .. }
            | PlatformError::Refused { .. }),
        ) => (AuditResult::Refused, Some(error.to_string())),
        Err(error) => (AuditResult::Failed, Some(error.to_string())),
    };
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
        result,
        reason.or(why),
        evidence,
    );
    if let Some(plan) = state.plan.as_mut() {
        match &outcome.result {
            Ok(read_back) => plan.step_finished(*read_back, finished.target, now),
            Err(PlatformError::Conflict { expected, actual }) => {
                plan.pause(format!("changed outside cutover: {expected} → {actual}"))
            }
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
                state.log.push(now, LogLevel::Warn, LogSource::System, line);
            }
            Err(_) => {}
        }
    }
    match &outcome.result {
        Ok(read_back) if *read_back == outcome.finished.target => {
            state.log.push(
                now,
                LogLevel::Info,
                LogSource::System,
                format!("{verb}: read back {read_back}"),
            );
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
                state
                    .log
                    .push(now, LogLevel::Warn, LogSource::System, line.clone());
                state.flash(LogLevel::Warn, format!("rolled back: {line}"));
            }
        }
        Ok(read_back) => {
            let mismatch = PlatformError::ReadBackMismatch {
                written: outcome.finished.target,
                read_back: *read_back,
            };
            state.log.push(
                now,
                LogLevel::Error,
                LogSource::System,
                format!("{verb}: {mismatch}"),
            );
            state.flash(LogLevel::Error, mismatch.to_string());
        }
        Err(error) => {
            let level = if matches!(error, PlatformError::Conflict { .. }) {
                LogLevel::Warn
            } else {
                LogLevel::Error
            };
            state.log.push(
                now,
                level,
                LogSource::System,
                format!("{verb} failed: {error}"),
            );
            state.flash(level, format!("{verb} failed: {error}"));
        }
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

fn on_observed(
    state: &mut AppState,
    started: Timestamp,
    result: Result<Observation, PlatformError>,
) {
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
            state.observation = Some(observation);
            state.observed_at = Some(now);
        }
        Ok(observation) => {
            if state.state_error.take().is_some() {
                state.log.push(
                    now,
                    LogLevel::Info,
                    LogSource::System,
                    "state polling recovered",
                );
            }
            let before = state.shift.current();
            state.shift.observed(observation.weights);
            let late = state
                .unanswered_write
                .take_if(|(target, until)| *target == observation.weights && now <= *until);
            if let (Some((target, _)), Some(before)) = (late, before)
                && state.shift.in_flight().is_none()
                && before != target
            {
                // Our own write, whose answer was lost, landed after all: not an outside change.
                state.last_weight_change = Some(now);
                if let Some(plan) = state.plan.as_mut() {
                    plan.step_landed_late(target, now);
                }
                let line =
                    format!("the write whose answer was lost was applied after all: read {target}");
                state
                    .log
                    .push(now, LogLevel::Warn, LogSource::System, line.clone());
                state.flash(LogLevel::Warn, line);
                audit(
                    state,
                    "late apply",
                    before,
                    target,
                    AuditResult::Applied,
                    Some("the answer was lost; a later read found the write applied".into()),
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
                state.log.push(
                    now,
                    LogLevel::Warn,
                    LogSource::System,
                    format!(
                        "changed outside cutover: {before} → {}",
                        observation.weights
                    ),
                );
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
            state.observation = Some(observation);
            state.observed_at = Some(now);
        }
        Err(error) => note_poll_error(state, error, now, |s| &mut s.state_error),
    }
}

fn on_metrics(state: &mut AppState, result: Result<MetricsSnapshot, PlatformError>) {
    state.mark_dirty();
    let now = state.now;
    match result {
        Ok(metrics) => {
            if state.metrics_error.take().is_some() {
                state
                    .log
                    .push(now, LogLevel::Info, LogSource::System, "metrics recovered");
            }
            if let Some(side) = roles::settled(&metrics, state.settings.role_bake) {
                let before = state.settled_baseline.replace(side);
                if before.is_some_and(|b| b != side) {
                    let text = format!(
                        "roles swap: {side} has carried all traffic for the bake and is live; \
                         {} is idle and takes the next deploy",
                        side.other()
                    );
                    state.log.push(now, LogLevel::Info, LogSource::System, text);
                }
            }
            state.metrics = Some(metrics);
            state.metrics_at = Some(now);
        }
        Err(error) => note_poll_error(state, error, now, |s| &mut s.metrics_error),
    }
}

/// Logs a polling error once per streak, not once per poll.
fn note_poll_error(
    state: &mut AppState,
    error: PlatformError,
    now: Timestamp,
    slot: fn(&mut AppState) -> &mut Option<String>,
) {
    let text = error.to_string();
    if slot(state).as_deref() != Some(text.as_str()) {
        let level = if error.is_transient() {
            LogLevel::Warn
        } else {
            LogLevel::Error
        };
        state.log.push(now, level, LogSource::System, text.clone());
    }
    *slot(state) = Some(text);
}

/// Whether writes are refused here (another owner of the traffic, read-only); says why if so.
fn refused(state: &mut AppState, action: &str, to: Option<Weights>) -> bool {
    let Some(reason) = state.writes_refused().map(str::to_string) else {
        return false;
    };
    let from = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    audit(
        state,
        action,
        from,
        to.unwrap_or(from),
        AuditResult::Refused,
        Some(reason.clone()),
    );
    let now = state.now;
    state.log.push(
        now,
        LogLevel::Warn,
        LogSource::Operator,
        format!("not written: {reason}"),
    );
    state.flash(LogLevel::Warn, format!("not written: {reason}"));
    true
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
fn evidence_summary(state: &AppState) -> Option<String> {
    state
        .evidence()
        .map(|e| format!("{}: {}", e.verdict, e.reason))
}

fn record(
    state: &mut AppState,
    action: &str,
    (from, to): (Weights, Weights),
    result: AuditResult,
    reason: Option<String>,
    evidence: Option<String>,
) {
    state.audit_outbox.push(AuditEvent {
        at: state.now,
        action: action.to_string(),
        from,
        to,
        evidence,
        result,
        reason,
    });
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Apply => "apply",
        Action::Rollback => "rollback",
        Action::Promote => "promote",
        Action::StartPlan => "plan start",
        Action::NextStep => "plan step",
        Action::Deploy => "deploy",
        Action::ScaleIdle => "scale idle",
        Action::Adopt => "adopt",
        _ => "keys",
    }
}

fn action_target(state: &AppState, action: Action) -> Option<Weights> {
    match action {
        Action::Apply => state.shift.staged(),
        Action::Rollback => Some(Weights::all_to(state.baseline())),
        Action::Promote => Some(Weights::all_to(state.candidate())),
        _ => state.shift.current(),
    }
}

fn not_read_yet(state: &mut AppState) {
    state.flash(LogLevel::Warn, NOT_READ_YET);
}

fn quit(state: &mut AppState) -> Vec<Command> {
    state.quit = true;
    vec![Command::Quit]
}
