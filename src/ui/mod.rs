//! Views only: they borrow the state and draw. No I/O, no clock reads, no awaits.

mod event_log;
mod evidence;
pub mod fleet;
mod header;
mod hints;
mod native;
mod panel;
pub mod picker;
mod popup;
mod status;
mod theme;
mod traffic;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;

use crate::app::AppState;
use crate::domain::Color;

/// Below this the screen cannot show both sides and the traffic bar legibly.
pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;
/// The event log keeps at least this many lines when the evidence grows.
const LOG_MIN_LINES: u16 = 3;
/// From this width the two panels stand side by side; below it they stack.
pub const SIDE_BY_SIDE_WIDTH: u16 = 100;

/// Draws the console; true when an open question was drawn where it can be read (the
/// runtime tells the core, which takes answers only after that).
pub fn view(state: &AppState, frame: &mut Frame) -> bool {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(state, frame, area);
        return false;
    }
    let wide = area.width >= SIDE_BY_SIDE_WIDTH;
    let hint_lines = hints::height(area.width, &state.settings);
    // The evidence as of this frame, computed once for every part that shows it.
    let evidence = state.evidence();
    let banner = state.banner(evidence.as_ref());
    let banner_lines = u16::from(banner.is_some());
    let full_panels = if wide {
        panel::height(true)
    } else {
        2 * panel::height(false)
    };
    // Too short for the panels with the verdict and a few log lines: one line a side.
    let compact = area.height
        < 1 + banner_lines
            + full_panels
            + evidence::MIN_HEIGHT
            + traffic::HEIGHT
            + LOG_MIN_LINES
            + 1
            + hint_lines;
    let panels_height = if compact { 2 } else { full_panels };
    // The evidence takes what it wants up to what leaves the log three lines; never less than
    // its verdict line, which names the worst row.
    let fixed = 1 + banner_lines + panels_height + traffic::HEIGHT + 1 + hint_lines;
    let evidence_height = evidence::wanted_height(evidence.as_ref())
        .min(area.height.saturating_sub(fixed + LOG_MIN_LINES))
        .max(evidence::MIN_HEIGHT);
    let [
        header_area,
        banner_area,
        panels_area,
        evidence_area,
        traffic_area,
        log_area,
        status_area,
        hints_area,
    ] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_lines),
        Constraint::Length(panels_height),
        Constraint::Length(evidence_height),
        Constraint::Length(traffic::HEIGHT),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(hint_lines),
    ])
    .areas(area);

    header::render(state, frame, header_area);
    if let Some(text) = banner {
        let line = Line::styled(format!(" {text} "), theme::banner());
        let buf = frame.buffer_mut();
        buf.set_style(banner_area, theme::banner());
        draw_lines_marking_cuts(buf, banner_area, &[line]);
    }
    let shown = evidence.as_ref();
    if compact {
        let lines = [
            panel::summary(state, shown, Color::Blue),
            panel::summary(state, shown, Color::Green),
        ];
        draw_lines_marking_cuts(frame.buffer_mut(), panels_area, &lines);
    } else {
        let [blue_area, green_area] = if wide {
            Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(panels_area)
        } else {
            Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(panels_area)
        };
        panel::render(state, shown, Color::Blue, wide, frame, blue_area);
        panel::render(state, shown, Color::Green, wide, frame, green_area);
    }
    evidence::render(state, shown, frame, evidence_area);
    traffic::render(state, shown, frame, traffic_area);
    event_log::render(state, frame, log_area);
    status::render(state, frame, status_area);
    hints::render(state, shown, area, frame, hints_area);
    popup::render(state, shown, frame, area);
    state.question().is_some()
}

/// Writes lines top-down into `area`, cut at its width. Cheaper than a `Paragraph` where no
/// wrapping is wanted: no second styling pass over the area, no line composer (the event log
/// fills most of the screen, so this is most of a frame's cost).
fn draw_lines(buf: &mut ratatui::buffer::Buffer, area: Rect, lines: &[Line]) {
    for (line, y) in lines.iter().zip(area.top()..area.bottom()) {
        buf.set_line(area.x, y, line, area.width);
    }
}

/// [`draw_lines`], and a line cut at the edge ends in `…`: the number at the edge may be
/// incomplete, and the reader should know.
fn draw_lines_marking_cuts(buf: &mut ratatui::buffer::Buffer, area: Rect, lines: &[Line]) {
    draw_lines(buf, area, lines);
    for (line, y) in lines.iter().zip(area.top()..area.bottom()) {
        if area.width > 0 && line.width() > usize::from(area.width) {
            buf[(area.right() - 1, y)].set_symbol("…");
        }
    }
}

/// Below the minimum the console still says what matters most, top-down, each line cut with
/// `…`: what needs the operator now, the split, the verdict, and the keys that still work.
fn too_small(state: &AppState, frame: &mut Frame, area: Rect) {
    let evidence = state.evidence();
    let mut lines = Vec::new();
    // A plan keeps writing unseen: that is said first, with the keys that still work.
    if state.plan.as_ref().is_some_and(|p| p.is_active()) {
        lines.push(Line::styled(
            "A PLAN IS RUNNING and moves traffic: Space pauses it, R rolls back",
            theme::banner(),
        ));
    }
    if let Some(banner) = state.banner(evidence.as_ref()) {
        lines.push(Line::styled(banner, theme::banner()));
    }
    lines.push(match state.shift.current() {
        Some(w) => Line::styled(
            format!(
                "blue {}% · green {}%{}",
                w.percent_text(Color::Blue),
                w.percent_text(Color::Green),
                state
                    .shift
                    .in_flight()
                    .map_or(String::new(), |write| format!(
                        " → {} writing…",
                        write.target
                    ))
            ),
            theme::value(),
        ),
        None => Line::styled("weights: reading…", theme::label()),
    });
    if let Some(e) = &evidence {
        lines.push(Line::from(format!(
            "{} {}: {}",
            e.candidate.name(),
            e.verdict.to_string().to_uppercase(),
            e.reason
        )));
    }
    lines.push(Line::styled(
        format!(
            "terminal {}×{}: the console needs {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        ),
        theme::warning(),
    ));
    let rollback =
        crate::app::availability_judged(state, crate::app::Action::Rollback, evidence.as_ref());
    lines.push(Line::styled(
        if rollback.is_available() {
            "R rolls back · q quits · enlarge the window for the rest"
        } else {
            "q quits · enlarge the window for the rest"
        },
        theme::key(),
    ));
    draw_lines_marking_cuts(frame.buffer_mut(), area, &lines);
}
