use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color as Tint, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::theme;
use crate::app::AppState;
use crate::domain::format_age;
use crate::shift::{SideEvidence, Verdict};

pub const HEIGHT: u16 = 4;

fn verdict_style(verdict: Verdict) -> Style {
    let bg = match verdict {
        Verdict::Ok => Tint::Green,
        Verdict::Insufficient => Tint::Yellow,
        Verdict::Worse | Verdict::Stale => Tint::Red,
    };
    Style::new()
        .fg(Tint::Black)
        .bg(bg)
        .add_modifier(Modifier::BOLD)
}

fn latency(side: &SideEvidence) -> String {
    side.latency_avg_ms
        .map_or("–".into(), |l| format!("{l:.0} ms"))
}

/// The candidate against the baseline since the last weight change: the verdict the guard acts
/// on, in numbers.
pub fn render(state: &AppState, frame: &mut Frame, area: Rect) {
    let candidate = state.candidate();
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(format!(
            " EVIDENCE · {} vs {} ",
            candidate.name(),
            candidate.other().name()
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(evidence) = state.evidence() else {
        super::draw_lines(
            frame.buffer_mut(),
            inner,
            &[Line::styled("reading CloudWatch…", theme::label())],
        );
        return;
    };
    let settings = &state.settings.evidence;
    let lines = [
        Line::from(vec![
            Span::styled(
                format!(" {} ", evidence.verdict.to_string().to_uppercase()),
                verdict_style(evidence.verdict),
            ),
            Span::raw(" "),
            Span::raw(evidence.reason.clone()),
        ]),
        Line::from(vec![
            Span::styled("window ", theme::label()),
            Span::raw(format!(
                "since {} ({})",
                evidence.from.clock_utc(),
                format_age(evidence.to.since(evidence.from))
            )),
            Span::styled("  latency ", theme::label()),
            Span::raw(format!(
                "blue {} · green {}",
                latency(&evidence.blue),
                latency(&evidence.green)
            )),
            Span::styled("  needs ", theme::label()),
            Span::raw(format!(
                "≥{} {} requests · within {:.1} pt of {} · below {:.0}%",
                settings.min_requests,
                candidate.name(),
                settings.tolerance * 100.0,
                candidate.other().name(),
                settings.max_error_rate * 100.0
            )),
        ]),
    ];
    super::draw_lines(frame.buffer_mut(), inner, &lines);
}
