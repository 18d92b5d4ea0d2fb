use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::{AppState, KEYMAP};

fn hint_width() -> usize {
    KEYMAP
        .iter()
        .map(|b| b.label.chars().count() + 1 + b.hint.chars().count() + 2)
        .sum()
}

/// One row when every hint fits, two otherwise.
pub fn height(width: u16) -> u16 {
    if hint_width() <= usize::from(width) {
        1
    } else {
        2
    }
}

/// Generated from the keymap, the same table that dispatches the keys. Wraps between bindings,
/// never inside one.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let busy = state.shift.in_flight().is_some();
    let refused = state.writes_refused().is_some();
    let mut lines: Vec<Line> = vec![Line::default()];
    let mut used = 0usize;
    for binding in KEYMAP {
        // While a write runs only rollback can write: the others would be refused.
        let greyed =
            binding.writes && (refused || (busy && binding.action != crate::app::Action::Rollback));
        let (key_style, text_style) = if greyed {
            (theme::disabled(), theme::disabled())
        } else {
            (theme::key(), ratatui::style::Style::new())
        };
        let text = format!(" {}  ", binding.hint);
        let width = binding.label.chars().count() + text.chars().count();
        if used > 0 && used + width > usize::from(area.width) {
            lines.push(Line::default());
            used = 0;
        }
        if let Some(line) = lines.last_mut() {
            line.push_span(Span::styled(binding.label, key_style));
            line.push_span(Span::styled(text, text_style));
        }
        used += width;
    }
    frame.render_widget(Paragraph::new(lines), area);
}
