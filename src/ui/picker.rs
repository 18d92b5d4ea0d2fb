//! The chooser `cutover init` shows: a title, the filter as typed, the items it lets through.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::theme;
use crate::app::picker::Picker;

pub fn view(picker: &Picker, frame: &mut Frame) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(format!(" cutover init · {} ", picker.title));
    let area = block.inner(frame.area());
    frame.render_widget(block, frame.area());
    let [filter_row, keys_row, list_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    let visible = picker.visible();
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("filter: ", theme::label()),
            Span::styled(format!("{}▏", picker.filter.value()), theme::value()),
            Span::styled(
                format!("  {} of {}", visible.len(), picker.items.len()),
                theme::label(),
            ),
        ])),
        filter_row,
    );
    frame.render_widget(
        Paragraph::new(Line::styled(
            if picker.esc_goes_back {
                "type to filter · ↑/↓ move · Enter chooses · Esc back · Ctrl-C cancels"
            } else {
                "type to filter · ↑/↓ move · Enter chooses · Esc cancels"
            },
            theme::label(),
        )),
        keys_row,
    );
    // Keep the selected item on screen in a long list.
    let rows = usize::from(list_area.height);
    let first = picker.selected.saturating_sub(rows.saturating_sub(1));
    let lines: Vec<Line> = visible
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, (_, item))| {
            if i == picker.selected {
                Line::styled(format!("› {item}"), theme::key())
            } else {
                Line::raw(format!("  {item}"))
            }
        })
        .collect();
    super::draw_lines_marking_cuts(frame.buffer_mut(), list_area, &lines);
}
