//! `rollback [--to SIDE]`, on any platform: never blocked by evidence or by the lock.

use std::sync::Arc;

use super::headless::{Headless, Outcome, joined, record, record_noted, recorded, said, settle};
use crate::domain::{Color, Failure, PlatformError, Weights};
use crate::platform::Platform;
use crate::shift::{RollbackDecision, Shift, roles};

/// `rollback [--to SIDE]`: everything to the baseline, the side the metrics show carrying all
/// traffic for a whole bake last (see [`roles`]). Never blocked by evidence or by the lock.
pub async fn rollback<P: Platform>(
    headless: &mut Headless<P>,
    to: Option<Color>,
) -> Result<Outcome, Failure> {
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
            return Err(
                anyhow::anyhow!("the shift machine would not roll back from {current}").into(),
            );
        }
    };
    let (outcome, notes) = settle(&*platform, &mut headless.auditor, &mut machine, request).await;
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
