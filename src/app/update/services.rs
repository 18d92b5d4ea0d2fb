//! Service changes finished: deploy, scale, adopt.

use super::*;

/// `shop-green: example/shop:1.5.0 → example/shop:1.6.0, shop:8 → shop:9`: what a deploy or
/// an adopt changed, for its audit line; the service and its image as last read.
fn revision_change(state: &AppState, report: &DeployReport, image: Option<&str>) -> String {
    let service = state
        .observation
        .as_ref()
        .map(|o| &o.side(report.idle).service);
    report.change_text(
        service.map_or("?", |s| s.service.as_str()),
        service.map_or("?", |s| s.image.as_str()),
        image.unwrap_or("?"),
    )
}

pub(super) fn on_deployed(
    state: &mut AppState,
    result: Result<DeployReport, PlatformError>,
) -> Vec<Command> {
    let image = state.deploy.as_ref().map(|(image, _)| image.clone());
    let detail = result
        .as_ref()
        .ok()
        .map(|report| revision_change(state, report, image.as_deref()));
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
    let detail = result.as_ref().ok().map(|report| {
        let service = state
            .observation
            .as_ref()
            .map_or("?", |o| o.side(report.side).service.service.as_str());
        report.change_text(service)
    });
    let outcome = result.map(|report| {
        format!(
            "scaled {} from {} to {} tasks",
            report.side, report.from, report.to
        )
    });
    service_changed(state, "scale idle", outcome, detail, "")
}

pub(super) fn on_adopted(
    state: &mut AppState,
    result: Result<DeployReport, PlatformError>,
) -> Vec<Command> {
    // The live side takes the idle side's image.
    let detail = result.as_ref().ok().map(|report| {
        let image = state
            .observation
            .as_ref()
            .map(|o| o.side(report.idle.other()).service.image.clone());
        revision_change(state, report, image.as_deref())
    });
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
