//! `deploy --image IMAGE [--container NAME] [--wait]`, on AWS; and what a deploy, a scale and
//! an adopt share: whether the idle side may be changed, and waiting for a rollout.

use std::time::Duration;

use super::aws::connect;
use super::headless::{Outcome, not_done, record_noted};
use crate::audit::Auditor;
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
    let native = observation.driver.native();
    let busy = match (&observation.writes_refused, native) {
        (Some(reason), _) => Some(reason.clone()),
        // ECS-native: ECS keeps the old revision until its deployment ends; only a running
        // deployment stands in the way.
        (None, Some(native)) => native.running().map(|d| {
            format!(
                "an ECS deployment is running ({}): continue it to the end or roll it back first",
                d.stage_label()
            )
        }),
        (None, None) => {
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
    if native.is_some() {
        return Ok(Outcome::Done(format!(
            "{summary}; ECS starts a deployment and waits at its first gate: cutover continue, \
             or the console's c"
        )));
    }
    let Some(timeout) = wait else {
        return Ok(Outcome::Done(format!(
            "{summary}; the rollout runs (--wait waits for it)"
        )));
    };
    wait_for_rollout(
        global,
        (&platform, &mut auditor),
        ("deploy", &report),
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
/// rollout, or the time is up. What became of the rollout is read from the service's
/// deployments (see [`rollout_failure`]); a rollout ECS failed or rolled back gets an audit
/// line of its own, `action` named, after the one that recorded the change.
pub(super) async fn wait_for_rollout(
    global: &GlobalArgs,
    (platform, auditor): (&AwsPlatform, &mut Auditor),
    (action, report): (&str, &crate::platform::DeployReport),
    timeout: std::time::Duration,
    summary: &str,
    done: &str,
) -> Result<Outcome, Failure> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut seen = false;
    loop {
        if let Ok(observation) = platform.observe().await {
            let side = observation.side(report.idle);
            if let Some(why) = rollout_failure(&side.service, report, &mut seen) {
                let outcome = Outcome::RolloutFailed(format!("{summary}; {why}"));
                let weights = observation.weights;
                record_noted(
                    auditor,
                    platform,
                    (action, weights, weights),
                    None,
                    &outcome,
                    None,
                );
                return Ok(outcome);
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

/// Why a rollout cutover started has ended without reaching `report.to`, if it has, as the
/// service's `deployments[]` tell it: the deployment of `report.to` is `FAILED` (and, when a
/// deployment of another revision is primary, ECS's circuit breaker rolled it back), or it
/// was seen and is gone (ECS replaced it). Right after `UpdateService` ECS may not list the
/// new deployment yet (it is eventually consistent): not seen yet is not a failure. `seen`
/// carries from one read to the next.
pub fn rollout_failure(
    service: &crate::domain::ServiceStatus,
    report: &crate::platform::DeployReport,
    seen: &mut bool,
) -> Option<String> {
    let primary = service
        .deployments
        .iter()
        .find(|d| d.status == "PRIMARY" && d.task_definition != report.to);
    let rolled_back = |to: &str| {
        format!(
            "{} is back on {to}: ECS's deployment circuit breaker rolled it back",
            report.idle
        )
    };
    match service
        .deployments
        .iter()
        .find(|d| d.task_definition == report.to)
    {
        Some(ours) if ours.rollout == crate::domain::RolloutState::Failed => {
            let failed = match ours.failed_tasks {
                0 => String::new(),
                n => format!(" ({n} tasks failed to start)"),
            };
            let then = primary.map_or_else(String::new, |p| {
                format!("; {}", rolled_back(&p.task_definition))
            });
            Some(format!(
                "the rollout of {} to {} failed{failed}: ECS marked it FAILED{then}",
                report.to, report.idle
            ))
        }
        Some(_) => {
            *seen = true;
            None
        }
        None if *seen => Some(format!(
            "the deployment of {} is gone from {}{}",
            report.to,
            report.idle,
            primary.map_or_else(String::new, |p| format!(
                "; {}",
                rolled_back(&p.task_definition)
            ))
        )),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Color, Deployment, RolloutState, ServiceStatus, Weights};
    use crate::platform::DeployReport;

    fn deployment(task_definition: &str, status: &str, rollout: RolloutState) -> Deployment {
        Deployment {
            task_definition: task_definition.into(),
            status: status.into(),
            rollout,
            failed_tasks: 0,
        }
    }

    fn service(task_definition: &str, deployments: Vec<Deployment>) -> ServiceStatus {
        ServiceStatus {
            cluster: "shop".into(),
            service: "shop-green".into(),
            task_definition: task_definition.into(),
            image: "example/shop:1.6.0".into(),
            desired: 4,
            running: 4,
            primary_running: 4,
            pending: 0,
            rollout: RolloutState::InProgress,
            failed_tasks: 0,
            deployments,
            events: Vec::new(),
        }
    }

    fn report() -> DeployReport {
        DeployReport {
            idle: Color::Green,
            from: "shop:8".into(),
            to: "shop:9".into(),
            desired: 4,
            weights: Weights::ALL_BLUE,
        }
    }

    #[test]
    fn a_rollout_not_listed_yet_is_waited_for_not_called_rolled_back() {
        let mut seen = false;
        // Right after UpdateService ECS may still show the old revision alone.
        let stale = service(
            "shop:8",
            vec![deployment("shop:8", "PRIMARY", RolloutState::Completed)],
        );
        assert_eq!(rollout_failure(&stale, &report(), &mut seen), None);
        let rolling = service(
            "shop:9",
            vec![
                deployment("shop:9", "PRIMARY", RolloutState::InProgress),
                deployment("shop:8", "ACTIVE", RolloutState::Completed),
            ],
        );
        assert_eq!(rollout_failure(&rolling, &report(), &mut seen), None);
        assert!(seen);
        // Seen, then gone, with the old revision primary again: rolled back.
        let why = rollout_failure(&stale, &report(), &mut seen).expect("rolled back");
        assert!(
            why.contains("shop:9 is gone") && why.contains("back on shop:8"),
            "{why}"
        );
    }

    #[test]
    fn a_failed_deployment_under_a_new_primary_is_the_circuit_breakers_rollback() {
        let mut seen = false;
        let mut failed = deployment("shop:9", "ACTIVE", RolloutState::Failed);
        failed.failed_tasks = 3;
        let rolled_back = service(
            "shop:8",
            vec![
                deployment("shop:8", "PRIMARY", RolloutState::InProgress),
                failed,
            ],
        );
        let why = rollout_failure(&rolled_back, &report(), &mut seen).expect("failed");
        assert!(
            why.contains("ECS marked it FAILED")
                && why.contains("(3 tasks failed to start)")
                && why.contains("GREEN is back on shop:8"),
            "{why}"
        );
    }
}
