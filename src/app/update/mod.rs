use std::time::Instant;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::backend::crossterm::EventHandler;

use super::availability::NOT_READ_YET;
use super::state::{UnansweredWrite, WriteGrounds};
use super::{
    ANSWER_DELAY, Action, AppState, Availability, Command, Confirm, ImagePrompt, LOG_PAGE, Msg,
    PercentPrompt, Popup, action_for, availability,
};
use std::time::Duration;

use crate::domain::{
    AuditEvent, AuditResult, Color, DeployReport, LogLevel, LogSource, MetricsSnapshot,
    Observation, PlatformError, ScaleReport, Timestamp, Weights,
};
use crate::shift::plan::{MAX_STEP_ATTEMPTS, PlanState, StepFailure};
use crate::shift::{
    ApplyDecision, GuardDecision, Meaning, RollbackDecision, WriteKind, WriteRequest, roles,
};

mod autopilot;
mod gates;

pub(crate) use gates::continue_availability;
mod keys;
mod polls;
mod popups;
mod services;
mod writes;

use keys::*;
use polls::*;
use popups::*;
use services::*;
use writes::*;

/// The whole behaviour of the console: a message in, the state changed, commands out.
pub fn update(state: &mut AppState, msg: Msg) -> Vec<Command> {
    let asked = state.question().cloned();
    let mut commands = handle(state, msg);
    // A new question (or none) has not been seen yet.
    if state.question() != asked.as_ref() {
        state.question_shown = None;
    }
    commands.extend(retry_rollback_if_due(state));
    if !state.quit {
        commands.extend(autopilot::drive(state));
    }
    if !state.quit {
        commands.extend(scale_down_after_bake(state));
    }
    if state.stop_when_plan_ends && plan_is_over(state) && !state.quit {
        state.quit = true;
        commands.push(Command::Quit);
    }
    // What the core decided to audit leaves with the other effects, in order.
    commands.extend(state.audit_outbox.drain(..).map(Command::Audit));
    commands
}

/// A rollback that failed for a passing reason goes again once its backoff is over.
fn retry_rollback_if_due(state: &mut AppState) -> Vec<Command> {
    let due = state.rollback_retry.is_some_and(|(at, _)| at <= state.now);
    if !due || state.shift.in_flight().is_some() || state.steering.is_some() {
        return Vec::new();
    }
    let reason = state.rollback_reason.clone();
    rollback_now(state, LogSource::System, reason)
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
    state.scaling = Some((idle, 0));
    state.note(
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
    over && state.shift.in_flight().is_none()
        && !state.shift.rollback_queued()
        && state.steering.is_none()
        && !state.steered_unread
}

fn handle(state: &mut AppState, msg: Msg) -> Vec<Command> {
    match msg {
        Msg::Key { key, now, at } => {
            state.now = now;
            on_key(state, key, at)
        }
        Msg::QuestionDrawn { at } => {
            if state.question().is_some() {
                state.question_shown.get_or_insert(at);
            }
            Vec::new()
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
            let commands = on_observed(state, started, result);
            let evidence = state.evidence();
            state.note_verdict(evidence.as_ref());
            commands
        }
        Msg::MetricsFetched { now, result } => {
            state.now = now;
            on_metrics(state, result);
            // Computed once for both: it walks every bucket of the window.
            let evidence = state.evidence();
            state.note_judged_build(evidence.as_ref());
            state.note_verdict(evidence.as_ref());
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
        Msg::Steered { now, step, result } => {
            state.now = now;
            gates::on_steered(state, step, result)
        }
        Msg::Resized => {
            state.mark_dirty();
            Vec::new()
        }
        Msg::Paste { text } => {
            popups::on_paste(state, &text);
            Vec::new()
        }
        Msg::Stop { now } => {
            state.now = now;
            state.note(LogLevel::Warn, LogSource::System, "stopping on a signal");
            quit(state)
        }
        Msg::WriteNoted { now, note } => {
            state.now = now;
            let verb = state.shift.in_flight().map_or("write", |w| w.kind.verb());
            let line = format!("{verb}: {note}");
            state.note(LogLevel::Warn, LogSource::System, line.clone());
            state.flash(LogLevel::Warn, line);
            state.write_notes.push(note);
            Vec::new()
        }
    }
}

/// How long a write whose answer was lost is watched for landing late.
const UNANSWERED_WRITE_WATCH: std::time::Duration = std::time::Duration::from_secs(120);

/// Rollbacks that failed for a passing reason (throttling, a 5xx, a timeout) before this many
/// attempts are tried again by themselves, backing off; past it, R tries again.
pub const MAX_ROLLBACK_ATTEMPTS: u32 = 8;
