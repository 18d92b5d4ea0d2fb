use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::AppState;
use crate::domain::format_age;

/// One line: what is watched, how old the data is, the time.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let clock = format!(" {} UTC ", state.now.clock_utc());
    let room = usize::from(area.width).saturating_sub(clock.len());
    let full = Line::from(spans(state, false));
    if full.width() <= room {
        let [left, right] =
            Layout::horizontal([Constraint::Fill(1), Constraint::Length(clock.len() as u16)])
                .areas(area);
        frame.render_widget(Paragraph::new(full), left);
        frame.render_widget(Paragraph::new(clock).style(theme::label()), right);
        return;
    }
    // Short of room the clock and the product's name go first: the label, where writes land
    // and how old the data is matter more. What still does not fit ends in an ellipsis.
    let short = Line::from(spans(state, true));
    super::draw_lines_marking_cuts(frame.buffer_mut(), area, &[short]);
}

/// The header's pieces; `compact` drops the words a narrow terminal has no room for.
fn spans(state: &AppState, compact: bool) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    if !compact {
        spans.push(Span::styled(" cutover ", theme::value()));
    }
    spans.push(Span::styled(
        format!(" {} ", state.source.kind),
        theme::badge(state.source.kind),
    ));
    spans.push(Span::raw(" "));
    if let Some(label) = &state.settings.label {
        spans.push(Span::styled(format!(" {label} "), theme::label_badge()));
        spans.push(Span::raw(" "));
    }
    if state.settings.read_only {
        spans.push(Span::styled(" READ-ONLY ", theme::alert_badge()));
        spans.push(Span::raw(" "));
    } else if state.writes_refused().is_some() {
        spans.push(Span::styled(" WATCH ONLY ", theme::alert_badge()));
        spans.push(Span::raw(" "));
    }
    // Another operator's lock, as the last poll read it: our writes would be refused.
    if let Some(holder) = &state.locked_by {
        let who = holder.split(" until ").next().unwrap_or(holder);
        spans.push(Span::styled(
            format!(" LOCKED by {who} "),
            theme::alert_badge(),
        ));
        spans.push(Span::raw(" "));
    }
    // Where writes land stays when the line is short: the account and region, at least.
    let place = if compact {
        state.source.place.clone()
    } else {
        state.source.detail.clone()
    };
    spans.push(Span::raw(place));
    spans.push(Span::styled(" │ ", theme::label()));
    spans.extend(state_age(state));
    spans.push(Span::styled(" │ ", theme::label()));
    spans.extend(metrics_age(state));
    if !compact {
        spans.push(Span::styled(" │ ", theme::label()));
        spans.push(Span::raw("mode "));
        let mode = match &state.plan {
            Some(plan) if plan.is_active() => "plan",
            _ => "manual",
        };
        spans.push(Span::styled(mode, theme::value()));
    }
    spans
}

fn state_age(state: &AppState) -> Vec<Span<'static>> {
    let mut spans = vec![Span::raw("state ")];
    match state.observed_at {
        Some(at) => spans.push(Span::raw(format!(
            "{} ago",
            format_age(state.now.since(at))
        ))),
        None => spans.push(Span::styled("reading…", theme::label())),
    }
    if state.state_is_stale() {
        spans.push(Span::styled(" STALE", theme::error()));
    }
    spans
}

fn metrics_age(state: &AppState) -> Vec<Span<'static>> {
    let newest = state.metrics.as_ref().and_then(|m| m.newest_bucket());
    match (state.metrics_at, newest) {
        (Some(_), Some(minute)) => {
            let end = minute.plus(std::time::Duration::from_secs(60));
            let age = state.now.since(end);
            let mut spans = vec![
                Span::raw("metrics to "),
                Span::raw(end.clock_utc()[..5].to_string()),
                Span::raw(format!(" ({} old)", format_age(age))),
            ];
            // As the evidence judges them: older than this, no row counts them as ok.
            if age > state.settings.evidence.stale_after {
                spans.push(Span::raw(" "));
                spans.push(Span::styled("STALE", theme::error()));
            }
            spans
        }
        (Some(_), None) => vec![Span::raw("metrics: no requests yet")],
        (None, _) => vec![
            Span::raw("metrics "),
            Span::styled("reading…", theme::label()),
        ],
    }
}
