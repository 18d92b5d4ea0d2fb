use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::AppState;

/// The flash message, a deploy's progress, or the polling errors that are still current.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let line = if let Some(flash) = &state.flash {
        Line::from(Span::styled(
            format!(" {}", flash.text),
            theme::level(flash.level),
        ))
    } else if let Some(staged) = state
        .shift
        .staged()
        .filter(|_| state.shift.in_flight().is_none())
    {
        Line::from(Span::styled(
            format!(" staged {staged} (blue/green): Enter applies, Esc drops"),
            theme::value(),
        ))
    } else if let Some(progress) = deploy_progress(state) {
        progress
    } else if let Some(offer) = idle_offer(state) {
        offer
    } else {
        let errors: Vec<String> = [
            state.state_error.as_ref().map(|e| format!("state: {e}")),
            state
                .metrics_error
                .as_ref()
                .map(|e| format!("metrics: {e}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if let (true, Some(reason)) = (errors.is_empty(), state.writes_refused()) {
            Line::from(Span::styled(
                format!(" watch only: {reason}"),
                theme::warning(),
            ))
        } else if errors.is_empty() {
            Line::default()
        } else {
            Line::from(Span::styled(
                format!(
                    " {} (retrying with backoff; showing the last data read)",
                    errors.join(" · ")
                ),
                theme::warning(),
            ))
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// An idle side that still runs tasks: say that `S` scales it down.
fn idle_offer(state: &AppState) -> Option<Line<'static>> {
    let observation = state.observation.as_ref()?;
    let side = crate::domain::Color::BOTH
        .into_iter()
        .find(|c| state.baked_out(*c))?;
    let desired = observation.side(side).service.desired;
    // S is offered only where it acts: never on a service whose revisions ECS scales.
    let offered = crate::app::availability(state, crate::app::Action::ScaleIdle).is_available();
    (desired > 0 && offered).then(|| {
        Line::from(Span::styled(
            format!(" {side} is idle with {desired} tasks: S scales it to 0 (the service stays)"),
            theme::label(),
        ))
    })
}

/// Where the deploy asked for in this session stands, from what the platform last read.
fn deploy_progress(state: &AppState) -> Option<Line<'static>> {
    let (image, report) = state.deploy.as_ref()?;
    let Some(report) = report else {
        return Some(Line::from(Span::styled(
            format!(" deploying {image}: registering a new revision…"),
            theme::value(),
        )));
    };
    let side = state.observation.as_ref()?.side(report.idle);
    let running = side.service.primary_running;
    let healthy = side.targets.healthy;
    Some(if state.deploy_ready(report) {
        Line::from(Span::styled(
            format!(
                " {} is ready to shift: {} runs {running}/{} tasks, {healthy} healthy targets",
                report.idle, report.to, report.desired
            ),
            theme::ok(),
        ))
    } else {
        Line::from(Span::styled(
            format!(
                " deploying {image} to {} ({}): {running}/{} new tasks running · {} pending · \
                 targets {healthy} healthy, {} initial",
                report.idle, report.to, report.desired, side.service.pending, side.targets.initial
            ),
            theme::warning(),
        ))
    })
}
