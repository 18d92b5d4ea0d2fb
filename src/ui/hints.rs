use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::theme;
use crate::app::{AppState, KEYMAP, Popup, Settings, bindings, popup_keys};
use crate::shift::Evidence;

/// The width every hint takes when all of them show.
fn hint_width(settings: &Settings) -> usize {
    KEYMAP
        .iter()
        .filter(|b| !b.hint.is_empty())
        .map(|b| b.label.chars().count() + 1 + b.hint_text(settings).chars().count() + 2)
        .sum()
}

/// One row when every hint fits, two otherwise (fixed, so the screen does not jump as keys
/// come and go).
pub fn height(width: u16, settings: &Settings) -> u16 {
    if hint_width(settings) <= usize::from(width) {
        1
    } else {
        2
    }
}

/// Generated from the keymap, the same table that dispatches the keys, showing only the keys
/// that would do something now (see `app::availability`). Wraps between bindings, never
/// inside one.
/// While a popup is open the bar lists only the keys it answers to: a question's answers, a
/// field's keys.
pub fn render(
    state: &AppState,
    evidence: Option<&Evidence>,
    screen: Rect,
    frame: &mut Frame,
    area: Rect,
) {
    let hints: Vec<(&str, String)> = match popup_keys(state, evidence) {
        Some(keys) => {
            let mut hints: Vec<(&str, String)> = keys
                .into_iter()
                .map(|k| (k.label, k.hint.to_string()))
                .collect();
            if matches!(state.popup, Some(Popup::Help { .. })) && super::popup::help_is_cut(screen)
            {
                hints.insert(1, ("↑/↓", "scroll".into()));
            }
            hints
        }
        None => bindings(state, evidence)
            .filter(|(binding, availability)| {
                availability.is_available() && !binding.hint.is_empty()
            })
            .map(|(binding, _)| (binding.label, binding.hint_text(&state.settings)))
            .collect(),
    };
    let mut lines: Vec<Line> = vec![Line::default()];
    let mut used = 0usize;
    for (label, hint) in hints {
        let text = format!(" {hint}  ");
        let width = label.chars().count() + text.chars().count();
        if used > 0 && used + width > usize::from(area.width) {
            lines.push(Line::default());
            used = 0;
        }
        if let Some(line) = lines.last_mut() {
            line.push_span(Span::styled(label.to_string(), theme::key()));
            line.push_span(Span::raw(text));
        }
        used += width;
    }
    frame.render_widget(Paragraph::new(lines), area);
}
