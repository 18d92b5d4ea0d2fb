//! Headless writes for pipelines and scripts: `shift`, `rollback`, `promote` and `plan run`,
//! through the same guard, compare-and-set and read-back as the console.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::{AppState, Settings};
use crate::audit::{AuditEvent, AuditResult, Auditor};
use crate::aws_commands::connect;
use crate::cli::GlobalArgs;
use crate::config::ConfigError;
use crate::domain::{Color, Weights};
use crate::platform::aws::AwsPlatform;
use crate::platform::{Platform, PlatformError, WriteIntent};
use crate::runtime::{self, RuntimeConfig};
use crate::shift::plan::{Plan, PlanState};
use crate::shift::{GuardDecision, evidence, guard, roles, sticky};

/// How a headless command ended; each has its exit code (see `--help`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done(String),
    Refused(String),
    ChangedOutside(String),
    RolledBack(String),
    /// `deploy --wait` ran out of time before the idle side was ready.
    NotReady(String),
    /// `deploy --wait` / `adopt --wait`: ECS failed the rollout (the circuit breaker tripped,
    /// and rolled back where configured).
    RolloutFailed(String),
    Interrupted(String),
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done(_) => 0,
            Outcome::Refused(_) => 3,
            Outcome::ChangedOutside(_) => 4,
            Outcome::RolledBack(_) => 5,
            Outcome::NotReady(_) => 6,
            Outcome::RolloutFailed(_) => 7,
            Outcome::Interrupted(_) => 130,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Outcome::Done(m)
            | Outcome::Refused(m)
            | Outcome::ChangedOutside(m)
            | Outcome::RolledBack(m)
            | Outcome::NotReady(m)
            | Outcome::RolloutFailed(m)
            | Outcome::Interrupted(m) => m,
        }
    }
}

/// How often a rollback is retried when the weights keep changing under it.
const ROLLBACK_ATTEMPTS: usize = 3;

/// What `shift` and `promote` move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftTarget {
    /// `shift --green PCT` / `shift --blue PCT`.
    Share(Color, u8),
    /// `promote`: everything to the candidate.
    Promote,
}

/// `shift --green PCT | --blue PCT` and `promote`, through the guard.
pub async fn shift(
    global: &GlobalArgs,
    target: ShiftTarget,
    force: bool,
) -> anyhow::Result<Outcome> {
    let (platform, config, observation) = connect(global).await?;
    let current = observation.weights;
    let metrics = platform.metrics().await.context("reading CloudWatch")?;
    let candidate = roles::candidate(current, Some(&metrics), config.role_bake);
    let (action, target) = match target {
        ShiftTarget::Share(color, percent) => ("shift", Weights::with_share(color, percent)),
        ShiftTarget::Promote => ("promote", Weights::all_to(candidate)),
    };
    let mut auditor = crate::aws_commands::auditor(global, &platform).await?;
    let mut notes = None;
    let (summary, outcome) = if let Some(reason) = &observation.writes_refused {
        (None, Ok(Outcome::Refused(format!("not written: {reason}"))))
    } else if current == target {
        return Ok(Outcome::Done(format!(
            "already at {current} (blue/green): nothing written"
        )));
    } else {
        let evidence = evidence(&metrics, candidate, None, platform.now(), &config.evidence);
        let summary = Some(format!("{}: {}", evidence.verdict, evidence.reason));
        let refusal = match guard::check(
            current,
            target,
            candidate,
            Some(&evidence),
            Some(observation.side(candidate)),
            &config.guard,
        ) {
            GuardDecision::Refuse(why) => Some(format!("refused {current} → {target}: {why}")),
            GuardDecision::NeedsConfirm(why) if !force => Some(format!(
                "refused {current} → {target}: {why}; pass --force to allow it"
            )),
            GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => None,
        };
        let outcome = match refusal {
            Some(why) => Ok(Outcome::Refused(why)),
            None => {
                let (written, noted) = write(&platform, current, target).await;
                platform.release_lock().await;
                notes = noted;
                written
            }
        };
        (summary, outcome)
    };
    // A failed call is recorded as failed, then reported as the error it is.
    let recorded = match &outcome {
        Ok(outcome) => outcome.clone(),
        Err(error) => Outcome::Interrupted(format!("{error:#}")),
    };
    record_noted(
        &mut auditor,
        &platform,
        (action, current, target),
        summary,
        &recorded,
        notes,
    );
    outcome
}

/// `rollback [--to SIDE]`: everything to the baseline, the side CloudWatch shows carrying all
/// traffic for a whole bake last (see [`roles`]).
pub async fn rollback(global: &GlobalArgs, to: Option<Color>) -> anyhow::Result<Outcome> {
    let (platform, config, observation) = connect(global).await?;
    let mut auditor = crate::aws_commands::auditor(global, &platform).await?;
    let current = observation.weights;
    let baseline = match (&observation.writes_refused, to) {
        (Some(reason), _) => Err(format!("not written: {reason}")),
        (None, Some(side)) => Ok(side),
        (None, None) => rollback_side(&platform, current, config.role_bake)
            .await
            .ok_or_else(|| {
                format!(
                    "not written: cannot tell which side to roll back to from {current} \
                 (blue/green): CloudWatch shows no side carrying all traffic for a whole bake \
                 ({}s); say --to blue or --to green",
                    config.role_bake.as_secs()
                )
            }),
    };
    let (target, outcome) = match baseline {
        Err(why) => (
            to.map_or(current, Weights::all_to),
            Ok((Outcome::Refused(why), None)),
        ),
        Ok(baseline) => {
            let target = Weights::all_to(baseline);
            if current == target {
                return Ok(Outcome::Done(format!(
                    "{} carries all traffic ({current}): nothing written",
                    baseline.name()
                )));
            }
            let (outcome, bypassed) =
                rollback_from(&platform, current, baseline, observation.stickiness_seconds).await;
            platform.release_lock().await;
            (target, outcome.map(|o| (o, bypassed)))
        }
    };
    let (recorded, bypassed) = match &outcome {
        Ok((outcome, bypassed)) => (outcome.clone(), bypassed.clone()),
        Err(error) => (Outcome::Interrupted(format!("{error:#}")), None),
    };
    record_noted(
        &mut auditor,
        &platform,
        ("rollback", current, target),
        None,
        &recorded,
        bypassed,
    );
    outcome.map(|(o, _)| o)
}

/// The side a rollback goes to: the baseline CloudWatch shows; without one, the side that
/// already carries everything (nothing to do); during a split, unknown.
async fn rollback_side(platform: &AwsPlatform, current: Weights, bake: Duration) -> Option<Color> {
    match platform.metrics().await {
        Ok(metrics) => roles::settled(&metrics, bake),
        Err(error) => {
            tracing::warn!("reading CloudWatch for the rollback's side: {error}");
            None
        }
    }
    .or(current.idle_and_live().1)
}

/// One audit line for a headless attempt. A failed call is recorded as `failed`.
fn record(
    auditor: &mut Auditor,
    platform: &AwsPlatform,
    action: &str,
    from: Weights,
    to: Weights,
    evidence: Option<String>,
    outcome: &Outcome,
) {
    record_noted(
        auditor,
        platform,
        (action, from, to),
        evidence,
        outcome,
        None,
    );
}

/// [`record`], with a note for an applied write (a rollback that bypassed the lock).
fn record_noted(
    auditor: &mut Auditor,
    platform: &AwsPlatform,
    (action, from, to): (&str, Weights, Weights),
    evidence: Option<String>,
    outcome: &Outcome,
    note: Option<String>,
) {
    let result = match outcome {
        Outcome::Done(_) => AuditResult::Applied,
        Outcome::Refused(_) | Outcome::ChangedOutside(_) => AuditResult::Refused,
        Outcome::RolledBack(_)
        | Outcome::NotReady(_)
        | Outcome::RolloutFailed(_)
        | Outcome::Interrupted(_) => AuditResult::Failed,
    };
    let reason = if result == AuditResult::Applied {
        note
    } else {
        Some(outcome.message().to_string())
    };
    auditor.record(AuditEvent {
        at: platform.now(),
        action: action.to_string(),
        from,
        to,
        evidence,
        result,
        reason,
    });
}

/// `deploy --image IMAGE [--container NAME] [--wait]`.
pub async fn deploy(
    global: &GlobalArgs,
    image: &str,
    container: Option<&str>,
    wait: Option<std::time::Duration>,
) -> anyhow::Result<Outcome> {
    let (platform, config, observation) = connect(global).await?;
    let mut auditor = crate::aws_commands::auditor(global, &platform).await?;
    let weights = observation.weights;
    let deployed = match idle_side_busy(
        &platform,
        &observation,
        config.role_bake,
        "a deploy now would replace",
    )
    .await
    {
        Some(reason) => Err(anyhow::Error::new(PlatformError::Refused { reason })),
        None => platform.deploy_image(image, container).await,
    };
    platform.release_lock().await;
    let report = match deployed {
        Ok(report) => report,
        Err(error) => {
            let outcome = match error.downcast_ref::<PlatformError>() {
                Some(PlatformError::Refused { reason }) => {
                    Outcome::Refused(format!("not deployed: {reason}"))
                }
                Some(locked @ PlatformError::Locked { .. }) => {
                    Outcome::ChangedOutside(format!("not deployed: {locked}"))
                }
                _ => Outcome::Interrupted(format!("{error:#}")),
            };
            record(
                &mut auditor,
                &platform,
                "deploy",
                weights,
                weights,
                None,
                &outcome,
            );
            return match outcome {
                Outcome::Interrupted(_) => {
                    Err(error.context("deploy failed; the previous revision keeps serving"))
                }
                refused => Ok(refused),
            };
        }
    };
    let summary = format!(
        "deployed {image} to {}: {} → {}, {} tasks",
        report.idle, report.from, report.to, report.desired
    );
    record(
        &mut auditor,
        &platform,
        "deploy",
        weights,
        weights,
        None,
        &Outcome::Done(summary.clone()),
    );
    let Some(timeout) = wait else {
        return Ok(Outcome::Done(format!(
            "{summary}; the rollout runs (--wait waits for it)"
        )));
    };
    wait_for_rollout(
        global,
        &platform,
        &report,
        timeout,
        &summary,
        "ready to shift",
    )
    .await
}

/// Why the side at 0% must stay as it is: it is the rollback target (CloudWatch shows the
/// other side has not yet carried everything for a whole bake), or sticky clients may still
/// reach it. `None` when it is free, or when CloudWatch cannot be read (the platform's own
/// refusals still apply).
async fn idle_side_busy(
    platform: &AwsPlatform,
    observation: &crate::domain::Observation,
    bake: Duration,
    would: &str,
) -> Option<String> {
    let weights = observation.weights;
    let metrics = match platform.metrics().await {
        Ok(metrics) => metrics,
        Err(error) => {
            tracing::warn!("reading CloudWatch for the idle side's role: {error}");
            return None;
        }
    };
    let baseline = roles::baseline(weights, Some(&metrics), bake);
    if weights.is_idle(baseline) {
        return Some(format!(
            "{baseline} is the rollback target until {} has carried all traffic for the bake \
             ({}s): {would} what rollback returns to",
            baseline.other().name(),
            bake.as_secs()
        ));
    }
    let idle = weights.idle_and_live().0?;
    sticky::refusal(
        Some(&metrics),
        idle,
        observation.stickiness_seconds,
        platform.now(),
        would,
    )
}

/// `scale-idle --to N`.
pub async fn scale_idle(global: &GlobalArgs, desired: u32) -> anyhow::Result<Outcome> {
    let (platform, config, observation) = connect(global).await?;
    let mut auditor = crate::aws_commands::auditor(global, &platform).await?;
    let weights = observation.weights;
    let fewer = Color::BOTH
        .iter()
        .any(|c| weights.share(*c) == 0 && desired < observation.side(*c).service.desired);
    let refusal = if fewer {
        idle_side_busy(
            &platform,
            &observation,
            config.role_bake,
            "scaling it down would stop",
        )
        .await
    } else {
        None
    };
    let result = match refusal {
        Some(reason) => Err(PlatformError::Refused { reason }),
        None => platform.scale_idle(desired).await,
    };
    platform.release_lock().await;
    let outcome = match result {
        Ok(report) => Outcome::Done(format!(
            "scaled {} from {} to {} tasks",
            report.side, report.from, report.to
        )),
        Err(PlatformError::Refused { reason }) => Outcome::Refused(format!("not scaled: {reason}")),
        Err(locked @ PlatformError::Locked { .. }) => {
            Outcome::ChangedOutside(format!("not scaled: {locked}"))
        }
        Err(error) => return Err(error).context("scaling the idle side"),
    };
    record(
        &mut auditor,
        &platform,
        "scale idle",
        weights,
        weights,
        None,
        &outcome,
    );
    Ok(outcome)
}

/// `adopt [--wait]`: the live side takes the idle side's revision.
pub async fn adopt(
    global: &GlobalArgs,
    wait: Option<std::time::Duration>,
) -> anyhow::Result<Outcome> {
    let (platform, _, observation) = connect(global).await?;
    let mut auditor = crate::aws_commands::auditor(global, &platform).await?;
    let weights = observation.weights;
    let result = platform.adopt().await;
    platform.release_lock().await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            let outcome = match error {
                PlatformError::Refused { reason } => {
                    Outcome::Refused(format!("not adopted: {reason}"))
                }
                locked @ PlatformError::Locked { .. } => {
                    Outcome::ChangedOutside(format!("not adopted: {locked}"))
                }
                other => return Err(other).context("adopting"),
            };
            record(
                &mut auditor,
                &platform,
                "adopt",
                weights,
                weights,
                None,
                &outcome,
            );
            return Ok(outcome);
        }
    };
    let summary = format!(
        "{} rolls from {} to {}",
        report.idle, report.from, report.to
    );
    record(
        &mut auditor,
        &platform,
        "adopt",
        weights,
        weights,
        None,
        &Outcome::Done(summary.clone()),
    );
    match wait {
        None => Ok(Outcome::Done(format!(
            "{summary} (--wait waits for the rollout)"
        ))),
        Some(timeout) => {
            wait_for_rollout(global, &platform, &report, timeout, &summary, "steady").await
        }
    }
}

/// Polls until `report.idle` runs `report.to` in full with healthy targets and a completed
/// rollout, or the time is up.
async fn wait_for_rollout(
    global: &GlobalArgs,
    platform: &AwsPlatform,
    report: &crate::platform::DeployReport,
    timeout: std::time::Duration,
    summary: &str,
    done: &str,
) -> anyhow::Result<Outcome> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(observation) = platform.observe().await {
            let side = observation.side(report.idle);
            if let Some(why) = rollout_failure(&side.service, report) {
                return Ok(Outcome::RolloutFailed(format!("{summary}; {why}")));
            }
            let ready = side.service.task_definition == report.to
                && side.service.rollout == crate::domain::RolloutState::Completed
                && side.service.primary_running >= report.desired
                && side.targets.healthy >= report.desired;
            if ready {
                return Ok(Outcome::Done(format!("{summary}; {done}")));
            }
        }
        if crate::signals::stop_asked() {
            return Ok(Outcome::Interrupted(format!(
                "{summary}; stopped waiting on a signal (the rollout goes on)"
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Outcome::NotReady(format!(
                "{summary}; not {done} after {}s",
                timeout.as_secs()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_secs(global.refresh)).await;
    }
}

/// Rolls back to `baseline`, retrying when the weights change under it; never stopped by the
/// lock (see [`Platform::write_weights`]). Returns the outcome and the platform's notes (lock
/// bypassed, answer lost) for the audit line.
/// Why a rollout cutover started has ended without reaching `report.to`, if it has: ECS marked
/// it FAILED, or the service runs another revision again (the circuit breaker rolled it back).
fn rollout_failure(
    service: &crate::domain::ServiceStatus,
    report: &crate::platform::DeployReport,
) -> Option<String> {
    let failed = match service.failed_tasks {
        0 => String::new(),
        n => format!(" ({n} tasks failed to start)"),
    };
    if service.task_definition != report.to {
        return Some(format!(
            "the rollout of {} failed{failed}: {} is back on {}, the revision it ran before \
             (ECS's deployment circuit breaker rolled it back)",
            report.to, report.idle, service.task_definition
        ));
    }
    (service.rollout == crate::domain::RolloutState::Failed).then(|| {
        format!(
            "the rollout of {} to {} failed{failed}: ECS marked it FAILED",
            report.to, report.idle
        )
    })
}

async fn rollback_from(
    platform: &AwsPlatform,
    mut current: Weights,
    baseline: Color,
    stickiness_seconds: Option<u32>,
) -> (anyhow::Result<Outcome>, Option<String>) {
    let target = Weights::all_to(baseline);
    for _ in 0..ROLLBACK_ATTEMPTS {
        if current == target {
            let done = format!("{} carries all traffic ({current})", baseline.name());
            return (Ok(Outcome::Done(done)), None);
        }
        match platform
            .write_weights(current, target, WriteIntent::Rollback)
            .await
        {
            Ok(report) => {
                let (bypassed, notes) = said_with(report.notes);
                let sticky = stickiness_seconds.map_or(String::new(), |seconds| {
                    format!(
                        "; sticky clients may reach {} for up to {seconds}s more",
                        baseline.other().name()
                    )
                });
                let done = format!(
                    "rolled back {current} → {} (blue/green), read back{bypassed}{sticky}",
                    report.weights
                );
                return (Ok(Outcome::Done(done)), notes);
            }
            // A rollback means all to the baseline whatever the split is now: go again.
            Err(PlatformError::Conflict { actual, .. }) => current = actual,
            Err(PlatformError::Refused { reason }) => {
                return (Ok(Outcome::Refused(format!("not written: {reason}"))), None);
            }
            Err(error) => return (Err(error).context("rolling back"), None),
        }
    }
    let outcome = Outcome::ChangedOutside(format!(
        "the weights kept changing under the rollback (last seen {current}): someone else is writing"
    ));
    (Ok(outcome), None)
}

/// The platform's notes on a write (lock bypassed, answer lost): as the end of the command's
/// message (`; …`), and joined for its audit line.
fn said_with(notes: Vec<String>) -> (String, Option<String>) {
    if notes.is_empty() {
        return (String::new(), None);
    }
    let joined = notes.join("; ");
    (format!("; {joined}"), Some(joined))
}

async fn write(
    platform: &impl Platform,
    current: Weights,
    target: Weights,
) -> (anyhow::Result<Outcome>, Option<String>) {
    match platform
        .write_weights(current, target, WriteIntent::Move)
        .await
    {
        Ok(report) => {
            let (suffix, notes) = said_with(report.notes);
            let done = format!(
                "{current} → {} (blue/green), read back{suffix}",
                report.weights
            );
            (Ok(Outcome::Done(done)), notes)
        }
        Err(error @ (PlatformError::Conflict { .. } | PlatformError::Locked { .. })) => {
            (Ok(Outcome::ChangedOutside(error.to_string())), None)
        }
        Err(PlatformError::Refused { reason }) => {
            (Ok(Outcome::Refused(format!("not written: {reason}"))), None)
        }
        Err(error) => (Err(error).context("writing the weights"), None),
    }
}

/// `plan run`: the console's plan machine without a terminal; progress goes to the log (and
/// stdout, see `logging`).
pub async fn plan_run(global: &GlobalArgs) -> anyhow::Result<Outcome> {
    let (platform, config, observation) = connect(global).await?;
    let Some((spec, on_breach)) = &config.plan else {
        return Err(ConfigError {
            path: config.estate.source.clone(),
            position: None,
            message: "no [plan]: add one (see assets/cutover.example.toml) to use plan run".into(),
        }
        .into());
    };
    let mut plan = Plan::new(spec, *on_breach)?;
    // The plan moves traffic to the candidate as of now: CloudWatch says which side that is.
    let metrics = platform.metrics().await.context("reading CloudWatch")?;
    let candidate = roles::candidate(observation.weights, Some(&metrics), config.role_bake);
    plan.start(platform.now(), candidate, observation.weights);
    let platform = Arc::new(platform);
    let settings = Settings {
        refresh: std::time::Duration::from_secs(global.refresh),
        guard: config.guard,
        evidence: config.evidence,
        role_bake: config.role_bake,
        ..Settings::default()
    };
    let mut state =
        AppState::new(platform.source(), settings, platform.now()).with_plan(Some(plan));
    state.stop_when_plan_ends = true;
    // The same runtime as the console, drawing into a screen nobody looks at.
    let mut screen = Terminal::new(TestBackend::new(100, 40)).context("an off-screen buffer")?;
    let config = RuntimeConfig {
        refresh: settings.refresh,
        metrics_refresh: settings.metrics_refresh,
        ..RuntimeConfig::default()
    };
    let mut auditor = crate::aws_commands::auditor(global, &platform).await?;
    // Ctrl-C, SIGTERM and SIGHUP stop the plan like a quit: the step in flight is waited for
    // and audited, then the lock is released.
    let run = runtime::run_until(
        Arc::clone(&platform),
        &mut screen,
        futures::stream::pending(),
        &mut state,
        config,
        Some(&mut auditor),
        crate::signals::termination(),
    )
    .await;
    platform.release_lock().await;
    run?;
    let interrupted = crate::signals::stop_asked();
    let at = state
        .shift
        .current()
        .map_or("unknown".to_string(), |w| w.to_string());
    Ok(match state.plan.as_ref().map(|p| &p.state) {
        _ if interrupted => {
            Outcome::Interrupted(format!("stopped: the weights stay at {at} (blue/green)"))
        }
        Some(PlanState::Done) => {
            let side = state
                .plan
                .as_ref()
                .and_then(|p| p.toward)
                .unwrap_or(Color::Green);
            Outcome::Done(format!("plan done: {} carries all traffic", side.name()))
        }
        Some(PlanState::RolledBack { reason }) => {
            Outcome::RolledBack(format!("the guard rolled back to {at}: {reason}"))
        }
        // A step AWS refused, or one that kept failing: the work failed (exit 1), audited.
        Some(PlanState::Paused { .. })
            if state.plan.as_ref().is_some_and(|p| p.failed.is_some()) =>
        {
            let why = state
                .plan
                .as_ref()
                .and_then(|p| p.failed.clone())
                .unwrap_or_default();
            anyhow::bail!("plan stopped at {at} (blue/green): {why}");
        }
        Some(PlanState::Paused { reason, .. }) => {
            Outcome::ChangedOutside(format!("plan paused at {at}: {reason}"))
        }
        _ => Outcome::Interrupted(format!("the plan stopped at {at}")),
    })
}
