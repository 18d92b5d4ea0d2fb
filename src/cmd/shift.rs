//! `shift --green PCT | --blue PCT` and `promote`, on any platform, through the guard.

use std::sync::Arc;

use anyhow::Context;

use super::headless::{
    Headless, Outcome, ShiftTarget, joined, record, record_noted, recorded, said, settle,
};
use crate::domain::{Failure, Weights, revision_warning};
use crate::platform::Platform;
use crate::shift::{ApplyDecision, GuardDecision, Shift, evidence, guard, roles};

/// `shift --green PCT | --blue PCT` and `promote`, through the guard.
pub async fn shift<P: Platform>(
    headless: &mut Headless<P>,
    target: ShiftTarget,
    force: bool,
) -> Result<Outcome, Failure> {
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
    let owner = headless
        .observation
        .writes_refused
        .clone()
        .or_else(|| headless.observation.driver.weights_owner());
    let refusal = if let Some(reason) = &owner {
        Some((None, format!("not written: {reason}")))
    } else {
        let evidence = evidence(
            &metrics,
            Some(&headless.observation),
            candidate,
            None,
            platform.now(),
            &settings.evidence,
        );
        let summary = evidence.summary();
        // Traffic toward an older build, or one the guard rejected, needs --force, as the
        // console asks first.
        let live = candidate.other();
        let build_warning = (target.share(candidate) > current.share(candidate))
            .then(|| {
                let read = &headless.observation;
                revision_warning(
                    &read.side(candidate).service,
                    &read.side(live).service,
                    &headless.auditor.rejections(),
                )
            })
            .flatten();
        let decision = guard::check(
            current,
            target,
            candidate,
            Some(&evidence),
            Some(&headless.observation),
            false,
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
            _ if build_warning.is_some() && !force => Some((
                Some(summary),
                format!(
                    "refused {current} → {target}: {}; pass --force to send it traffic all the \
                     same",
                    build_warning.clone().unwrap_or_default()
                ),
            )),
            GuardDecision::NeedsConfirm(_) | GuardDecision::Allow => {
                let mut machine = Shift::default();
                machine.observed(current);
                machine.stage(target);
                let ApplyDecision::Write(request) = machine.apply_confirmed(platform.now()) else {
                    return Err(anyhow::anyhow!(
                        "the shift machine would not write {current} → {target}"
                    )
                    .into());
                };
                let (outcome, notes) =
                    settle(&*platform, &mut headless.auditor, &mut machine, request).await;
                platform.release_lock().await;
                let result = outcome.map(|o| said(&o, &notes));
                let recorded = recorded(&result);
                let forced = build_warning.map(|w| format!("--force over: {w}"));
                record_noted(
                    &mut headless.auditor,
                    &*platform,
                    (action, current, target),
                    Some(summary),
                    &recorded,
                    joined(&notes)
                        .into_iter()
                        .chain(forced)
                        .reduce(|a, b| format!("{a}; {b}")),
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
