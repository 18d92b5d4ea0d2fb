//! `shift`, `promote`, `rollback` and `plan run` on any platform: the shift machine decides
//! each write and what follows it (a rollback retried over an outside change), the guard
//! judges every increase, and every attempt is audited once.

use std::sync::Arc;

use anyhow::Context;

use super::{Headless, Outcome, ShiftTarget, record, record_noted};
use crate::app::{AppState, Settings};
use crate::domain::{Color, ConfigError, PlatformError, Weights, WriteIntent};
use crate::platform::Platform;
use crate::runtime::{self, NoScreen, RuntimeConfig};
use crate::shift::plan::{Plan, PlanState};
use crate::shift::{
    ApplyDecision, GuardDecision, RollbackDecision, Shift, WriteKind, WriteOutcome, WriteRequest,
    evidence, guard, roles,
};

/// `shift --green PCT | --blue PCT` and `promote`, through the guard.
pub async fn shift<P: Platform>(
    headless: &mut Headless<P>,
    target: ShiftTarget,
    force: bool,
) -> anyhow::Result<Outcome> {
    let platform = Arc::clone(&headless.platform);
    let current = headless.observation.weights;
    let settings = &headless.settings;
    let metrics = platform.metrics().await.context("reading the metrics")?;
    let candidate = roles::candidate(current, Some(&metrics), settings.role_bake);
    let (action, target) = match target {
        ShiftTarget::Share(color, percent) => ("shift", Weights::with_share(color, percent)),
        ShiftTarget::Promote => ("promote", Weights::all_to(candidate)),
    };
    if current == target {
        return Ok(Outcome::Done(format!(
            "already at {current} (blue/green): nothing written"
        )));
    }
    let refusal = if let Some(reason) = &headless.observation.writes_refused {
        Some((None, format!("not written: {reason}")))
    } else {
        let evidence = evidence(
            &metrics,
            candidate,
            None,
            platform.now(),
            &settings.evidence,
        );
        let summary = format!("{}: {}", evidence.verdict, evidence.reason);
        let decision = guard::check(
            current,
            target,
            candidate,
            Some(&evidence),
            Some(headless.observation.side(candidate)),
            &settings.guard,
        );
        match decision {
            GuardDecision::Refuse(why) => Some((
                Some(summary),
                format!("refused {current} → {target}: {why}"),
            )),
            GuardDecision::NeedsConfirm(why) if !force => Some((
                Some(summary),
                format!("refused {current} → {target}: {why}; pass --force to allow it"),
            )),
            GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => {
                let mut machine = Shift::default();
                machine.observed(current);
                machine.stage(target);
                let ApplyDecision::Write(request) = machine.apply_confirmed(platform.now()) else {
                    anyhow::bail!("the shift machine would not write {current} → {target}");
                };
                let (outcome, notes) = settle(&*platform, &mut machine, request).await;
                platform.release_lock().await;
                let result = outcome.map(|o| said(&o, &notes));
                let recorded = recorded(&result);
                record_noted(
                    &mut headless.auditor,
                    &*platform,
                    (action, current, target),
                    Some(summary),
                    &recorded,
                    joined(&notes),
                );
                return result;
            }
        }
    };
    let (evidence, why) = refusal.unwrap_or_default();
    let outcome = Outcome::Refused(why);
    record(
        &mut headless.auditor,
        &*platform,
        action,
        current,
        target,
        evidence,
        &outcome,
    );
    Ok(outcome)
}

/// `rollback [--to SIDE]`: everything to the baseline, the side the metrics show carrying all
/// traffic for a whole bake last (see [`roles`]). Never blocked by evidence or by the lock.
pub async fn rollback<P: Platform>(
    headless: &mut Headless<P>,
    to: Option<Color>,
) -> anyhow::Result<Outcome> {
    let platform = Arc::clone(&headless.platform);
    let current = headless.observation.weights;
    let bake = headless.settings.role_bake;
    let baseline = match (&headless.observation.writes_refused, to) {
        (Some(reason), _) => Err(format!("not written: {reason}")),
        (None, Some(side)) => Ok(side),
        (None, None) => rollback_side(&*platform, current, bake)
            .await
            .ok_or_else(|| {
                format!(
                    "not written: cannot tell which side to roll back to from {current} \
                     (blue/green): the metrics show no side carrying all traffic for a whole \
                     bake ({}s); say --to blue or --to green",
                    bake.as_secs()
                )
            }),
    };
    let baseline = match baseline {
        Ok(side) => side,
        Err(why) => {
            let outcome = Outcome::Refused(why);
            let target = to.map_or(current, Weights::all_to);
            let auditor = &mut headless.auditor;
            record(
                auditor, &*platform, "rollback", current, target, None, &outcome,
            );
            return Ok(outcome);
        }
    };
    let target = Weights::all_to(baseline);
    let mut machine = Shift::default();
    machine.observed(current);
    let request = match machine.rollback(baseline, platform.now()) {
        RollbackDecision::Write(request) => request,
        RollbackDecision::AlreadyThere => {
            return Ok(Outcome::Done(format!(
                "{} carries all traffic ({current}): nothing written",
                baseline.name()
            )));
        }
        RollbackDecision::Queued | RollbackDecision::NotReadYet => {
            anyhow::bail!("the shift machine would not roll back from {current}")
        }
    };
    let (outcome, notes) = settle(&*platform, &mut machine, request).await;
    platform.release_lock().await;
    let result = outcome.map(|o| match o.result {
        // The machine retried the rollback over every outside change it met: still another
        // writer after that.
        Err(PlatformError::Conflict { actual, .. }) => Outcome::ChangedOutside(format!(
            "the weights kept changing under the rollback (last seen {actual}): someone else \
             is writing"
        )),
        _ => said(&o, &notes),
    });
    let result = result.map(|outcome| match outcome {
        Outcome::Done(done) => Outcome::Done(match headless.observation.stickiness_seconds {
            Some(seconds) => format!(
                "{done}; sticky clients may reach {} for up to {seconds}s more",
                baseline.other().name()
            ),
            None => done,
        }),
        other => other,
    });
    let recorded = recorded(&result);
    record_noted(
        &mut headless.auditor,
        &*platform,
        ("rollback", current, target),
        None,
        &recorded,
        joined(&notes),
    );
    result
}

/// The side a rollback goes to: the baseline the metrics show; without one, the side that
/// already carries everything (nothing to do); during a split, unknown.
async fn rollback_side(
    platform: &impl Platform,
    current: Weights,
    bake: std::time::Duration,
) -> Option<Color> {
    match platform.metrics().await {
        Ok(metrics) => roles::settled(&metrics, bake),
        Err(error) => {
            tracing::warn!("reading the metrics for the rollback's side: {error}");
            None
        }
    }
    .or(current.idle_and_live().1)
}

/// Runs `request` and whatever the shift machine wants after it (a rollback retried over an
/// outside change, up to its limit); returns the last write's outcome and the platform's
/// notes on all of them (lock bypassed, answer lost).
async fn settle(
    platform: &impl Platform,
    machine: &mut Shift,
    first: WriteRequest,
) -> (anyhow::Result<WriteOutcome>, Vec<String>) {
    let mut request = first;
    let mut notes = Vec::new();
    loop {
        let intent = match request.kind {
            WriteKind::Rollback => WriteIntent::Rollback,
            WriteKind::Apply | WriteKind::PlanStep | WriteKind::Promote => WriteIntent::Move,
        };
        let result = platform
            .write_weights(request.expected, request.target, intent)
            .await
            .map(|report| {
                notes.extend(report.notes);
                report.weights
            });
        let Some(outcome) = machine.write_finished(result, platform.now()) else {
            return (
                Err(anyhow::anyhow!("no write was in flight to finish")),
                notes,
            );
        };
        match outcome.next {
            Some(next) => request = next,
            None => return (Ok(outcome), notes),
        }
    }
}

/// A finished write as the command's outcome.
fn said(outcome: &WriteOutcome, notes: &[String]) -> Outcome {
    let from = outcome.finished.expected;
    let suffix = joined(notes).map_or(String::new(), |n| format!("; {n}"));
    match &outcome.result {
        Ok(read_back) if *read_back == outcome.finished.target => {
            let verb = if outcome.finished.kind == WriteKind::Rollback {
                "rolled back "
            } else {
                ""
            };
            Outcome::Done(format!(
                "{verb}{from} → {read_back} (blue/green), read back{suffix}"
            ))
        }
        Ok(read_back) => Outcome::Interrupted(format!(
            "wrote {} but read back {read_back}: check the weights",
            outcome.finished.target
        )),
        Err(error @ (PlatformError::Conflict { .. } | PlatformError::Locked { .. })) => {
            Outcome::ChangedOutside(error.to_string())
        }
        Err(PlatformError::Refused { reason }) => {
            Outcome::Refused(format!("not written: {reason}"))
        }
        Err(error) => Outcome::Interrupted(format!("writing the weights: {error}")),
    }
}

/// How an attempt is audited: a call that failed is `failed`.
fn recorded(result: &anyhow::Result<Outcome>) -> Outcome {
    match result {
        Ok(outcome) => outcome.clone(),
        Err(error) => Outcome::Interrupted(format!("{error:#}")),
    }
}

fn joined(notes: &[String]) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// `plan run`: the console's runtime and plan without a screen; progress goes to the log
/// (and stdout, see `logging`). Ctrl-C, SIGTERM and SIGHUP stop it like a quit: the step in
/// flight is waited for and audited, then the lock is released.
pub async fn plan_run<P: Platform>(headless: &mut Headless<P>) -> anyhow::Result<Outcome> {
    let platform = Arc::clone(&headless.platform);
    let settings = headless.settings.clone();
    let Some((spec, on_breach)) = &settings.plan else {
        return Err(ConfigError {
            path: settings.source.clone(),
            position: None,
            message: "no [plan]: add one (see assets/cutover.example.toml) to use plan run".into(),
        }
        .into());
    };
    let mut plan = Plan::new(spec, *on_breach)?;
    // The plan moves traffic to the candidate as of now: the metrics say which side that is.
    let current = headless.observation.weights;
    let metrics = platform.metrics().await.context("reading the metrics")?;
    let candidate = roles::candidate(current, Some(&metrics), settings.role_bake);
    plan.start(platform.now(), candidate, current);
    let app_settings = Settings {
        refresh: settings.refresh,
        guard: settings.guard,
        evidence: settings.evidence,
        role_bake: settings.role_bake,
        clock_speed: settings.clock_speed,
        ..Settings::default()
    };
    let mut state =
        AppState::new(platform.source(), app_settings, platform.now()).with_plan(Some(plan));
    state.stop_when_plan_ends = true;
    // The runtime counts real time: a clock N times faster is polled N times as often.
    let runtime = RuntimeConfig {
        refresh: app_settings.refresh.div_f64(settings.clock_speed),
        metrics_refresh: app_settings.metrics_refresh.div_f64(settings.clock_speed),
        ..RuntimeConfig::default()
    };
    let run = runtime::run_until(
        Arc::clone(&platform),
        &mut NoScreen,
        futures::stream::pending(),
        &mut state,
        runtime,
        Some(&mut headless.auditor),
        crate::signals::termination(),
    )
    .await;
    platform.release_lock().await;
    run?;
    let at = state
        .shift
        .current()
        .map_or("unknown".to_string(), |w| w.to_string());
    let plan = state.plan.as_ref();
    Ok(match plan.map(|p| &p.state) {
        _ if crate::signals::stop_asked() => {
            Outcome::Interrupted(format!("stopped: the weights stay at {at} (blue/green)"))
        }
        Some(PlanState::Done) => {
            let side = plan.and_then(|p| p.toward).unwrap_or(Color::Green);
            Outcome::Done(format!("plan done: {} carries all traffic", side.name()))
        }
        Some(PlanState::RolledBack { reason }) => {
            Outcome::RolledBack(format!("the guard rolled back to {at}: {reason}"))
        }
        // A step the platform refused, or one that kept failing: the work failed (exit 1).
        Some(PlanState::Paused { .. }) if plan.is_some_and(|p| p.failed.is_some()) => {
            let why = plan.and_then(|p| p.failed.clone()).unwrap_or_default();
            anyhow::bail!("plan stopped at {at} (blue/green): {why}");
        }
        Some(PlanState::Paused { reason, .. }) => {
            Outcome::ChangedOutside(format!("plan paused at {at}: {reason}"))
        }
        _ => Outcome::Interrupted(format!("the plan stopped at {at}")),
    })
}
