//! `deploy --image IMAGE [--container NAME] [--wait]`, on AWS; and what a deploy, a scale and
//! an adopt share: whether the idle side may be changed, and waiting for a rollout.

use std::time::Duration;

use super::aws::connect;
use super::headless::{Outcome, not_done, record_noted};
use crate::cli::GlobalArgs;
use crate::domain::{Failure, PlatformError};
use crate::platform::aws::AwsPlatform;
use crate::platform::aws::deploy::DeployFailure;
use crate::platform::{self, Platform};
use crate::shift::{roles, sticky};

/// `deploy --image IMAGE [--container NAME] [--wait]`.
pub async fn deploy(
    global: &GlobalArgs,
    image: &str,
    container: Option<&str>,
    wait: Option<std::time::Duration>,
) -> Result<Outcome, Failure> {
    let (platform, config, observation) = connect(global).await?;
    let mut auditor = super::aws::auditor(global, &platform).await?;
    let weights = observation.weights;
    // A bad image is bad input before anything else is asked of AWS.
    platform::aws::deploy::check_image(image)?;
    let busy = match &observation.writes_refused {
        Some(reason) => Some(reason.clone()),
        None => {
            let would = "a deploy now would replace";
            idle_side_busy(&platform, &observation, config.role_bake, would).await
        }
    };
    let deployed = match busy {
        Some(reason) => Err(DeployFailure::Platform(PlatformError::Refused { reason })),
        None => platform.deploy_image(image, container).await,
    };
    platform.release_lock().await;
    let report = match deployed {
        Ok(report) => report,
        // An image or container cutover cannot use: bad input, nothing asked of AWS.
        Err(DeployFailure::Input(input)) => return Err(input.into()),
        Err(DeployFailure::Platform(error)) => {
            let attempt = ("deploy", "deployed", weights);
            let failed = "deploy failed; the previous revision keeps serving";
            return not_done(&mut auditor, &platform, attempt, error, failed);
        }
    };
    let summary = format!(
        "deployed {image} to {}: {} → {}, {} tasks",
        report.idle, report.from, report.to, report.desired
    );
    record_noted(
        &mut auditor,
        &platform,
        ("deploy", weights, weights),
        None,
        &Outcome::Done(summary.clone()),
        Some(report.change_text(Some(&observation), image)),
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
pub(super) async fn idle_side_busy(
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

/// Polls until `report.idle` runs `report.to` in full with healthy targets and a completed
/// rollout, or the time is up.
pub(super) async fn wait_for_rollout(
    global: &GlobalArgs,
    platform: &AwsPlatform,
    report: &crate::platform::DeployReport,
    timeout: std::time::Duration,
    summary: &str,
    done: &str,
) -> Result<Outcome, Failure> {
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
