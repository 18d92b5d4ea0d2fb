//! `continue` and `rollback` on a service that deploys itself (ECS-native): the awaiting gate
//! answered through the same guard as the console's `c`, a rollback never blocked. Any
//! platform: the demo's simulator has native scenarios.

use std::sync::Arc;

use anyhow::Context;

use super::headless::{Headless, Outcome, record};
use crate::domain::{AuditEvent, Failure, GateStep, NativeService, PlatformError, Weights};
use crate::platform::Platform;
use crate::shift::{GuardDecision, evidence, guard};

/// `continue`: the awaiting gate, continued once the guard allows the step ECS takes next.
/// Refused (exit 3) when no gate awaits, or when the guard refuses.
pub async fn continue_gate<P: Platform>(headless: &mut Headless<P>) -> Result<Outcome, Failure> {
    let platform = Arc::clone(&headless.platform);
    let current = headless.observation.weights;
    let refuse = |why: String| Outcome::Refused(format!("not continued: {why}"));
    if let Some(reason) = &headless.observation.writes_refused {
        let outcome = refuse(reason.clone());
        record(
            &mut headless.auditor,
            &*platform,
            "continue",
            current,
            current,
            None,
            &outcome,
        );
        return Ok(outcome);
    }
    let Some(native) = headless.observation.driver.native().cloned() else {
        return Ok(refuse(
            "continue answers an ECS-native deployment's gate: this estate is a weighted pair \
             (cutover shift moves it)"
                .into(),
        ));
    };
    let step = match native.continue_step() {
        Ok(step) => step,
        Err(why) => return Ok(refuse(why)),
    };
    let candidate = candidate(&native, current);
    let target = Weights::with_share(candidate, native.next_share(current.share(candidate)));
    let metrics = platform.metrics().await.context("reading the metrics")?;
    let evidence = evidence(
        &metrics,
        Some(&headless.observation),
        candidate,
        None,
        platform.now(),
        &headless.settings.evidence,
    );
    let summary = evidence.summary();
    let settings = headless
        .settings
        .guard
        .for_platform_step(target.share(candidate));
    let decision = guard::check(
        current,
        target,
        candidate,
        Some(&evidence),
        Some(&headless.observation),
        false,
        &settings,
    );
    if let GuardDecision::Refuse(why) = decision {
        let outcome = refuse(format!(
            "{} would take {} from {}% to {}%: {why}",
            step.describe(),
            candidate.name(),
            current.share(candidate),
            target.share(candidate)
        ));
        record(
            &mut headless.auditor,
            &*platform,
            "continue",
            current,
            target,
            Some(summary),
            &outcome,
        );
        return Ok(outcome);
    }
    let done = format!(
        "{}: ECS shifts {} to {}%, bakes, and stops at the next gate",
        step.describe(),
        candidate.name(),
        target.share(candidate)
    );
    steer(headless, step, (current, target), Some(summary), done).await
}

/// `rollback` on a service that deploys itself: the awaiting gate answered ROLLBACK, else the
/// running deployment stopped with a rollback. Never refused by evidence or the lock.
pub async fn rollback<P: Platform>(
    headless: &mut Headless<P>,
    native: &NativeService,
) -> Result<Outcome, Failure> {
    let current = headless.observation.weights;
    let step = match native.rollback_step() {
        Ok(step) => step,
        Err(why) => return Ok(Outcome::Done(format!("{why}: nothing written"))),
    };
    let live = candidate(native, current).other();
    let done = format!(
        "{}: ECS puts all traffic back on {}",
        step.describe(),
        live.name()
    );
    steer(headless, step, (current, Weights::all_to(live)), None, done).await
}

/// The side of the deployment's new revision (green when ECS does not say).
fn candidate(native: &NativeService, current: Weights) -> crate::domain::Color {
    native
        .candidate
        .or_else(|| current.idle_and_live().0)
        .unwrap_or(crate::domain::Color::Green)
}

/// Audited ahead, sent once, the deployment read back by the platform.
async fn steer<P: Platform>(
    headless: &mut Headless<P>,
    step: GateStep,
    (from, to): (Weights, Weights),
    evidence: Option<String>,
    done: String,
) -> Result<Outcome, Failure> {
    let platform = Arc::clone(&headless.platform);
    let action = if step.is_rollback() {
        "rollback"
    } else {
        "continue"
    };
    let attempt = AuditEvent::attempt(platform.now(), action, from, to);
    if let Err(why) = headless.auditor.record(attempt)
        && !step.is_rollback()
    {
        return Err(anyhow::anyhow!(
            "the audit log cannot be written ({why}): nothing is sent to AWS without it; name a \
             file with --audit-log PATH"
        )
        .into());
    }
    let result = platform.steer(step).await;
    platform.release_lock().await;
    let outcome = match result {
        Ok(_) => Outcome::Done(done),
        Err(PlatformError::Refused { reason }) => Outcome::Refused(format!("not sent: {reason}")),
        Err(locked @ PlatformError::Locked { .. }) => {
            Outcome::ChangedOutside(format!("not sent: {locked}"))
        }
        // The gate no longer awaits, or the deployment is over: nothing to answer.
        Err(error)
            if matches!(
                error.aws_code(),
                Some("InvalidParameterException" | "ConflictException")
            ) =>
        {
            Outcome::Refused(format!("ECS refused it: {error}"))
        }
        Err(error) => Outcome::Failed(format!("{error:#}")),
    };
    record(
        &mut headless.auditor,
        &*platform,
        action,
        from,
        to,
        evidence,
        &outcome,
    );
    Ok(outcome)
}
