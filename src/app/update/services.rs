//! Service changes finished: deploy, scale, adopt.

use super::*;

pub(super) fn on_deployed(
    state: &mut AppState,
    result: Result<DeployReport, PlatformError>,
) -> Vec<Command> {
    let image = state
        .deploy
        .as_ref()
        .map_or("?", |(image, _)| image.as_str());
    let detail = result
        .as_ref()
        .ok()
        .map(|report| report.change_text(state.observation.as_ref(), image));
    let outcome = result.as_ref().map_err(Clone::clone).map(|report| {
        format!(
            "deployed to {}: {} → {}, {} tasks starting",
            report.idle, report.from, report.to, report.desired
        )
    });
    match result {
        Ok(report) => {
            if let Some((_, slot)) = state.deploy.as_mut() {
                *slot = Some(report);
            }
            state.breach = None;
            // A new revision deserves a new run of the plan.
            if let Some(plan) = state.plan.as_mut() {
                plan.rearm();
            }
        }
        Err(_) => state.deploy = None,
    }
    service_changed(
        state,
        "deploy",
        outcome,
        detail,
        "; the previous revision keeps serving",
    )
}

pub(super) fn on_scaled(
    state: &mut AppState,
    result: Result<ScaleReport, PlatformError>,
) -> Vec<Command> {
    if result.is_err() {
        state.scaling = None;
    }
    let detail = result
        .as_ref()
        .ok()
        .map(|report| report.change_text(state.observation.as_ref()));
    let outcome = result.map(|report| report.summary());
    service_changed(state, "scale idle", outcome, detail, "")
}

pub(super) fn on_adopted(
    state: &mut AppState,
    result: Result<DeployReport, PlatformError>,
) -> Vec<Command> {
    let detail = result
        .as_ref()
        .ok()
        .map(|report| report.adopt_text(state.observation.as_ref()));
    let outcome = result.map(|report| {
        format!(
            "adopted: {} rolls from {} to {}",
            report.idle, report.from, report.to
        )
    });
    service_changed(state, "adopt", outcome, detail, "")
}

/// A change to a service (deploy, scale, adopt) finished: say so, audit it, read again.
pub(super) fn service_changed(
    state: &mut AppState,
    action: &str,
    outcome: Result<String, PlatformError>,
    detail: Option<String>,
    failure_note: &str,
) -> Vec<Command> {
    state.mark_dirty();
    let weights = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    match outcome {
        Ok(text) => {
            state.note(LogLevel::Info, LogSource::System, text);
            audit(
                state,
                action,
                weights,
                weights,
                AuditResult::Applied,
                detail,
            );
            vec![Command::RefreshState]
        }
        Err(error) => {
            let text = format!("{action} failed: {error}{failure_note}");
            state.note(LogLevel::Error, LogSource::System, text.clone());
            state.flash(LogLevel::Error, text);
            let reason = Some(error.to_string());
            audit(state, action, weights, weights, AuditResult::Failed, reason);
            Vec::new()
        }
    }
}
