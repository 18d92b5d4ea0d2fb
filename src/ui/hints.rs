use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

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

/// Generated from the keymap, the same table that dispatches the keys.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let busy = state.shift.in_flight().is_some();
    let mut spans = Vec::new();
    for binding in KEYMAP {
        // While a write runs only rollback can write: the others would be refused.
        let greyed = busy && binding.writes && binding.action != crate::app::Action::Rollback;
        let (key_style, text_style) = if greyed {
            (theme::disabled(), theme::disabled())
        } else {
            (theme::key(), ratatui::style::Style::new())
        };
        spans.push(Span::styled(binding.label, key_style));
        spans.push(Span::styled(format!(" {}  ", binding.hint), text_style));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).wrap(Wrap { trim: true }),
        area,
    );
}
