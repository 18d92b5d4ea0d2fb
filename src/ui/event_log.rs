use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::theme;
use crate::app::{AppState, Popup};
use crate::domain::{LogEntry, LogSource};

/// Time, who, and a space before the text: continuation lines start under the text.
const PREFIX_WIDTH: usize = 8 + 1 + 7 + 1;

/// The entries the view lets through, from where it is scrolled to, newest on top; a long
/// entry wraps under its text instead of being cut.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(title(state));
    let inner = block.inner(area);
    let rows = usize::from(inner.height);
    let text_width = usize::from(inner.width)
        .saturating_sub(PREFIX_WIDTH)
        .max(10);
    let mut lines: Vec<Line> = Vec::with_capacity(rows);
    for entry in state.log.matching().skip(state.log.view().scroll) {
        if lines.len() >= rows {
            break;
        }
        lines.extend(entry_lines(entry, text_width));
    }
    // An entry cut at the bottom says it goes on.
    if lines.len() > rows {
        lines.truncate(rows);
        if let Some(last) = lines.last_mut() {
            last.push_span(Span::styled(" …", theme::label()));
        }
    }
    frame.render_widget(block, area);
    super::draw_lines(frame.buffer_mut(), inner, &lines);
}

/// The count, where the view stands, its filter, and the keys that move it.
fn title(state: &AppState) -> String {
    let view = state.log.view();
    let total = state.log.len();
    let matching = state.log.matching_count();
    let mut parts = vec![" EVENTS".to_string()];
    if let Some(Popup::LogFilter(input)) = &state.popup {
        parts.push(format!(
            "filter: {}▏ (Enter keeps, Esc clears, Ctrl-R rolls back)",
            input.value()
        ));
    } else if !view.filter.is_empty() {
        parts.push(format!("filter \"{}\" (/ edits)", view.filter));
    }
    if view.errors_only {
        parts.push("warnings and errors (e: all)".into());
    }
    parts.push(if matching == total {
        format!("{total}")
    } else {
        format!("{matching} of {total}")
    });
    parts.push(if view.scroll == 0 {
        "newest first · PgUp/g older · / filter · e errors ".into()
    } else {
        format!("{} newer above · PgDn/G newer ", view.scroll)
    });
    parts.join(" · ")
}

fn entry_lines(entry: &LogEntry, text_width: usize) -> Vec<Line<'static>> {
    let (who, who_style) = match entry.source {
        LogSource::Service(color) => (
            color.label(),
            ratatui::style::Style::new().fg(theme::side(color)),
        ),
        LogSource::Operator => ("YOU", theme::key()),
        LogSource::System => ("cutover", theme::label()),
    };
    let style = theme::level(entry.level);
    wrap(&entry.text, text_width)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            if i == 0 {
                Line::from(vec![
                    Span::styled(entry.at.clock_utc(), theme::label()),
                    Span::raw(" "),
                    Span::styled(format!("{who:<7}"), who_style),
                    Span::raw(" "),
                    Span::styled(piece, style),
                ])
            } else {
                Line::from(vec![
                    Span::raw(" ".repeat(PREFIX_WIDTH)),
                    Span::styled(piece, style),
                ])
            }
        })
        .collect()
}

/// `text` in lines of at most `width` characters, broken at spaces where it can be.
/// The words of `text` at its spaces, a number's thousands kept with it: `58 500` is one
/// word, never `58` at a line's end and `500` at the next one's start.
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for piece in text.split(' ') {
        let group = piece.len() >= 3
            && piece.chars().take(3).all(|c| c.is_ascii_digit())
            && !piece.chars().nth(3).is_some_and(|c| c.is_ascii_digit());
        match words.last_mut() {
            Some(last) if group && last.ends_with(|c: char| c.is_ascii_digit()) => {
                last.push(' ');
                last.push_str(piece);
            }
            _ => words.push(piece.to_string()),
        }
    }
    words
}

pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words(text) {
        let mut word = word;
        loop {
            let used = line.chars().count();
            let needed = word.chars().count() + usize::from(used > 0);
            if used + needed <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line: cut it.
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn a_number_is_never_split_at_its_thousands() {
        assert_eq!(
            wrap("blue served 1 058 500 requests", 16),
            ["blue served", "1 058 500", "requests"]
        );
        // Three digits after a number that are a word of their own are still a group:
        // the rule is about digits, and reads the same either way.
        assert_eq!(
            wrap("over 24 483 requests", 12),
            ["over 24 483", "requests"]
        );
    }

    #[test]
    fn long_text_wraps_at_spaces_and_cuts_only_words_longer_than_a_line() {
        assert_eq!(
            wrap("(service shop-green) registered 1 targets", 20),
            ["(service shop-green)", "registered 1 targets"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 10), [""]);
        let text = "plan step failed: ModifyRule: throttled, backing off";
        assert!(wrap(text, 12).iter().all(|l| l.chars().count() <= 12));
        assert_eq!(wrap(text, 12).join(" "), text);
    }
}
