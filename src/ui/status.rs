use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::AppState;

/// The flash message, or the polling errors that are still current.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let line = if let Some(flash) = &state.flash {
        Line::from(Span::styled(
            format!(" {}", flash.text),
            theme::level(flash.level),
        ))
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
