//! `plan run`, on any platform: the console's runtime and plan without a screen.

use std::sync::Arc;

use anyhow::Context;

use super::headless::{Headless, Outcome};
use crate::app::{AppState, Command, Msg, update};
use crate::domain::{Color, ConfigError, Failure, revision_warning};
use crate::platform::Platform;
use crate::runtime::{self, NoScreen, RuntimeConfig};

/// How long the plan watches at each ECS gate before it continues, when no `[plan]` says.
const GATE_BAKE: std::time::Duration = std::time::Duration::from_secs(120);

/// How long `plan run` keeps reading the metrics at its start while AWS throttles.
const START_PATIENCE: std::time::Duration = std::time::Duration::from_secs(45);
use crate::shift::plan::{Plan, PlanState};
use crate::shift::roles;

/// `plan run`: the console's runtime and plan without a screen; progress goes to the log
/// (and stdout, see `logging`). Ctrl-C, SIGTERM and SIGHUP stop it like a quit: the step in
/// flight is waited for and audited, then the lock is released.
pub async fn plan_run<P: Platform>(
    headless: &mut Headless<P>,
    max_hold: Option<std::time::Duration>,
) -> Result<Outcome, Failure> {
    let platform = Arc::clone(&headless.platform);
    let settings = headless.settings.clone();
    let native = headless.observation.driver.native().cloned();
    let configured = headless.plan.as_ref();
    let plan = match (&native, configured) {
        // A service that deploys itself: the plan answers its gates, baking at each.
        (Some(_), spec) => Some(Plan::gates(spec.map_or(GATE_BAKE, |(spec, _)| spec.bake()))),
        (None, Some((spec, on_breach))) => Some(Plan::new(spec, *on_breach)?),
        (None, None) => None,
    };
    let Some(mut plan) = plan else {
        return Err(ConfigError {
            path: headless.source.clone(),
            position: None,
            message: "no [plan]: add one to use plan run (the file `cutover init` writes has one, commented out)".into(),
        }
        .into());
    };
    // The plan moves traffic to the candidate as of now: the metrics say which side that is.
    let current = headless.observation.weights;
    let metrics =
        crate::platform::patience::retry_busy(START_PATIENCE, "reading the metrics", || {
            platform.metrics()
        })
        .await
        .context("reading the metrics")?;
    let candidate = native
        .as_ref()
        .and_then(|n| n.candidate)
        .unwrap_or_else(|| roles::candidate(current, Some(&metrics), settings.role_bake));
    if let Some(why) = native
        .as_ref()
        .and_then(|n| n.continue_step().err())
        .filter(|_| {
            native
                .as_ref()
                .is_some_and(|n| n.running().is_none() || !n.gated)
        })
    {
        platform.release_lock().await;
        return Ok(Outcome::Refused(format!("not started: {why}")));
    }
    plan.start(platform.now(), candidate, current);
    let runtime = RuntimeConfig::for_settings(&settings);
    let mut state =
        AppState::new(platform.source(), settings, platform.now()).with_plan(Some(plan));
    state.stop_when_plan_ends = true;
    state.max_hold = max_hold;
    // The metrics read to find the candidate are the plan's first evidence: its first step
    // is judged on them, not refused for "no metrics read yet" before the first poll answers.
    // Before any weights are read the core decides nothing but what it logs and audits.
    let now = platform.now();
    for command in update(
        &mut state,
        Msg::MetricsFetched {
            now,
            result: Ok(metrics),
        },
    ) {
        match command {
            Command::Audit(event) => {
                let _ = headless.auditor.record(event);
            }
            other => {
                return Err(anyhow::anyhow!(
                    "the plan asked for {other:?} before any weights were read"
                )
                .into());
            }
        }
    }
    // Nobody is there to answer "older or rejected build?": such a plan is not started.
    state.rejections = headless.auditor.rejections();
    let read = &headless.observation;
    let (toward, live) = (read.side(candidate), read.side(candidate.other()));
    if let Some(warning) = revision_warning(&toward.service, &live.service, &state.rejections) {
        platform.release_lock().await;
        return Ok(Outcome::Refused(format!(
            "not started: {warning}; run the plan from the console, which asks"
        )));
    }
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
        _ if state.held_too_long.is_some() => Outcome::HeldTooLong(format!(
            "{}; the weights stay at {at} (blue/green)",
            state.held_too_long.clone().unwrap_or_default()
        )),
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
            return Err(anyhow::anyhow!("plan stopped at {at} (blue/green): {why}").into());
        }
        Some(PlanState::Paused { reason, .. }) => {
            Outcome::ChangedOutside(format!("plan paused at {at}: {reason}"))
        }
        _ => Outcome::Failed(format!("the plan stopped at {at}")),
    })
}
