use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::theme;
use crate::app::AppState;
use crate::domain::LogSource;

/// The newest entries that fit, newest on top.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(format!(" EVENTS · {} · newest first ", state.log.len()));
    let rows = block.inner(area).height as usize;
    let lines: Vec<Line> = state
        .log
        .newest_first()
        .take(rows)
        .map(|entry| {
            let (who, who_style) = match entry.source {
                LogSource::Service(color) => (
                    color.label(),
                    ratatui::style::Style::new().fg(theme::side(color)),
                ),
                LogSource::Operator => ("YOU", theme::key()),
                LogSource::System => ("cutover", theme::label()),
            };
            Line::from(vec![
                Span::styled(entry.at.clock_utc(), theme::label()),
                Span::raw(" "),
                Span::styled(format!("{who:<7}"), who_style),
                Span::raw(" "),
                Span::styled(entry.text.clone(), theme::level(entry.level)),
            ])
        })
        .collect();
    let inner = block.inner(area);
    frame.render_widget(block, area);
    super::draw_lines(frame.buffer_mut(), inner, &lines);
}
