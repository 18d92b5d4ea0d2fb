//! Keys on the main screen: one dispatch by the keymap and `availability`, and what each action does.

use super::*;

/// The side a deploy goes to: the one carrying nothing.
pub(super) fn idle_side(state: &AppState) -> Option<Color> {
    state.shift.current()?.idle_and_live().0
}

pub(super) fn on_key(state: &mut AppState, key: KeyEvent, at: Instant) -> Vec<Command> {
    if !matches!(key.kind, KeyEventKind::Press | KeyEventKind::Repeat) {
        return Vec::new();
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        // Asked once, like q: a second Ctrl-C quits.
        let asked = matches!(state.popup, Some(Popup::Confirm(Confirm::Quit)));
        state.popup = None;
        state.mark_dirty();
        return if asked {
            quit(state)
        } else {
            ask_before_quitting(state)
        };
    }
    if key.code == KeyCode::Char('z') && key.modifiers.contains(KeyModifiers::CONTROL) {
        // As in any terminal program; an open popup stays open for after `fg`.
        return vec![Command::Suspend];
    }
    // Rollback is the panic button: Ctrl-R works from anywhere, a text field included, and R
    // over any popup that takes no text. In a field R is a letter like any other: a filter or
    // an image reference may hold one, and typing must never write to production.
    let control_r = key.code == KeyCode::Char('r') && key.modifiers.contains(KeyModifiers::CONTROL);
    let takes_text = matches!(
        state.popup,
        Some(Popup::Prompt(_) | Popup::Image(_) | Popup::LogFilter(_))
    );
    let plain_r = key.code == KeyCode::Char('R') && state.popup.is_some() && !takes_text;
    if control_r || plain_r {
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
            on_popup_key(state, popup, key, at)
        }
        None => match action_for(&key) {
            // Opened from the fleet list, Esc with nothing staged goes back to it.
            Some(Action::DropStaged)
                if state.settings.back_to_list && state.shift.staged().is_none() =>
            {
                state.mark_dirty();
                on_action(state, Action::Quit)
            }
            Some(action) => {
                state.mark_dirty();
                on_action(state, action)
            }
            // A key that does nothing says so, rather than leave the operator guessing
            // (k9s habits: `:`, `j`, `k`).
            None => {
                if let KeyCode::Char(c) = key.code
                    && !key
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                {
                    state.flash(LogLevel::Info, format!("no key {c} — ? lists the keys"));
                }
                Vec::new()
            }
        },
    }
}

pub(super) fn on_action(state: &mut AppState, action: Action) -> Vec<Command> {
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
    // A line about an earlier key does not stay up over what this one does.
    state.flash = None;
    if asked_about_revision(state, action) {
        return Vec::new();
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
        Action::ContinueGate => super::gates::ask_to_continue(state),
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
            // A driver that gates its own steps needs no steps of ours: the plan answers its
            // gates, baking at each as a configured plan bakes its steps.
            if let Some(observation) = &state.observation
                && observation.driver.steps_by_gates()
            {
                let bake = state.plan.as_ref().map_or(GATE_BAKE, |p| p.bake);
                let under_way = state.plan.as_ref().is_some_and(|p| {
                    p.targets.is_empty() && matches!(p.state, PlanState::Paused { .. })
                });
                if !under_way {
                    state.plan = Some(crate::shift::plan::Plan::gates(bake));
                }
            }
            let current = state.shift.current().unwrap_or(Weights::ALL_BLUE);
            if let Some(plan) = state.plan.as_mut() {
                let resumed = plan.state != PlanState::Ready && plan.state != PlanState::Done;
                if plan.start(now, candidate, current) {
                    let verb = if resumed { "resumed" } else { "started" };
                    let text = format!(
                        "plan {verb}: traffic moves to {}",
                        plan.side(candidate).name()
                    );
                    state.note(LogLevel::Info, LogSource::Operator, text);
                }
            }
            Vec::new()
        }
        Action::PausePlan => {
            if let Some(plan) = state.plan.as_mut() {
                plan.pause("paused by the operator (a resumes)");
                state.note(LogLevel::Info, LogSource::Operator, "plan paused");
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
            // ECS-native: the service's image now, whichever group it serves from.
            let side = match state.observation.as_ref().map(|o| &o.driver) {
                Some(driver) if driver.steps_by_gates() => Some(state.baseline()),
                _ => idle_side(state),
            };
            if let (Some(idle), Some(observation)) = (side, &state.observation) {
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
        Action::LogOlder => scroll_log(state, LOG_PAGE as isize),
        Action::LogNewer => scroll_log(state, -(LOG_PAGE as isize)),
        Action::LogOldest => {
            state.log.scroll_to_oldest();
            Vec::new()
        }
        Action::LogNewest => {
            state.log.scroll_to_newest();
            Vec::new()
        }
        Action::LogFilter => {
            let current = state.log.view().filter.clone();
            state.popup = Some(Popup::LogFilter(tui_input::Input::new(current)));
            Vec::new()
        }
        Action::LogErrors => {
            state.log.toggle_errors_only();
            Vec::new()
        }
        Action::Help => {
            state.popup = Some(Popup::Help { scroll: 0 });
            Vec::new()
        }
        Action::Quit => ask_before_quitting(state),
    }
}

/// Traffic toward a build older than the live one, or one the guard rejected, asks first
/// (once for that build); true when it asked.
fn asked_about_revision(state: &mut AppState, action: Action) -> bool {
    let Some(current) = state.shift.current() else {
        return false;
    };
    let candidate = state.candidate();
    let (toward, from) = match action {
        Action::Apply => match state.shift.staged() {
            Some(staged) if staged.permille(candidate) > current.permille(candidate) => {
                (candidate, candidate.other())
            }
            _ => return false,
        },
        Action::Promote | Action::StartPlan => (candidate, candidate.other()),
        Action::Adopt => match current.idle_and_live() {
            (Some(idle), Some(live)) => (idle, live),
            _ => return false,
        },
        _ => return false,
    };
    let Some(warning) = state.revision_warning(toward, from) else {
        return false;
    };
    state.popup = Some(Popup::Confirm(Confirm::Revision {
        toward,
        warning,
        then: action,
    }));
    true
}

fn scroll_log(state: &mut AppState, delta: isize) -> Vec<Command> {
    state.log.scroll_by(delta);
    Vec::new()
}

pub(super) fn nudge(state: &mut AppState, delta: i16) -> Vec<Command> {
    if state.shift.nudge(delta).is_none() {
        not_read_yet(state);
    }
    Vec::new()
}

/// A typed percentage is the candidate's share: the side traffic moves to.
pub(super) fn stage_typed(state: &mut AppState, percent: u8) {
    let candidate = state.candidate();
    match state.shift.stage(Weights::with_share(candidate, percent)) {
        None => not_read_yet(state),
        Some(_) if state.shift.staged().is_none() => state.flash(
            LogLevel::Info,
            format!("{} already carries {percent}%", candidate.name()),
        ),
        // The status line says what is staged for as long as it is.
        Some(_) => state.mark_dirty(),
    }
}

/// Applies the staged split if the guard lets it; `confirmed` when the operator already said
/// yes to a large jump.
pub(super) fn apply_staged(state: &mut AppState, confirmed: bool) -> Vec<Command> {
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
pub(super) fn guard_refuses(state: &mut AppState, target: Weights) -> bool {
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

pub(super) fn guard_refused(
    state: &mut AppState,
    action: &str,
    from: Weights,
    to: Weights,
    why: &str,
) {
    audit(
        state,
        action,
        from,
        to,
        AuditResult::Refused,
        Some(why.to_string()),
    );
    let text = format!("refused {from} → {to}: {why}");
    state.note(LogLevel::Warn, LogSource::System, text.clone());
    state.flash(LogLevel::Warn, text);
}

pub(super) fn on_apply_decision(state: &mut AppState, decision: ApplyDecision) -> Vec<Command> {
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

/// How long the autopilot watches at an ECS gate before it continues, when no `[plan]` says
/// its bake.
const GATE_BAKE: std::time::Duration = std::time::Duration::from_secs(120);

pub(super) fn rollback(state: &mut AppState) -> Vec<Command> {
    if let Some(plan) = state.plan.as_mut() {
        plan.aborted("rolled back by the operator");
    }
    rollback_now(
        state,
        LogSource::Operator,
        Some("rolled back by the operator".into()),
    )
}

/// Whether writes are refused here (another owner of the traffic, read-only); says why if so.
pub(super) fn refused(state: &mut AppState, action: &str, to: Option<Weights>) -> bool {
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
    state.note(
        LogLevel::Warn,
        LogSource::Operator,
        format!("not written: {reason}"),
    );
    state.flash(LogLevel::Warn, format!("not written: {reason}"));
    true
}

pub(super) fn action_name(action: Action) -> &'static str {
    match action {
        Action::Apply => "apply",
        Action::Rollback => "rollback",
        Action::ContinueGate => "continue",
        Action::Promote => "promote",
        Action::StartPlan => "plan start",
        Action::NextStep => "plan step",
        Action::Deploy => "deploy",
        Action::ScaleIdle => "scale idle",
        Action::Adopt => "adopt",
        _ => "keys",
    }
}

pub(super) fn action_target(state: &AppState, action: Action) -> Option<Weights> {
    match action {
        Action::Apply => state.shift.staged(),
        Action::Rollback => Some(Weights::all_to(state.baseline())),
        Action::Promote => Some(Weights::all_to(state.candidate())),
        _ => state.shift.current(),
    }
}

pub(super) fn not_read_yet(state: &mut AppState) {
    state.flash(LogLevel::Warn, NOT_READ_YET);
}

/// `q`, Ctrl-C: quits at once, unless leaving would leave traffic unwatched — a plan running,
/// or both sides carrying traffic — on a console that may write: then it asks once what
/// quitting leaves behind, and the keys that make it safe first (Space, R).
pub(super) fn ask_before_quitting(state: &mut AppState) -> Vec<Command> {
    if state.leaving_unwatched().is_none() {
        return quit(state);
    }
    state.popup = Some(Popup::Confirm(Confirm::Quit));
    Vec::new()
}

pub(super) fn quit(state: &mut AppState) -> Vec<Command> {
    state.quit = true;
    vec![Command::Quit]
}
