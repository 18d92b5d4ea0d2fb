use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color as Tint, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::theme;
use crate::app::AppState;
use crate::domain::format_age;
use crate::shift::checks::severity;
use crate::shift::{Check, Evidence, Verdict};

/// Borders and the verdict line: the least the box may shrink to, verdict and worst row shown.
pub const MIN_HEIGHT: u16 = 3;
/// How far the observed share may stray from the configured one before the title shows both.
const OBSERVED_SHARE_SHOWN_AFTER: f64 = 0.03;
const KIND_WIDTH: usize = 11;
const VERDICT_WIDTH: usize = 13;

/// The height the whole table wants: borders, the verdict line, one line per row.
pub fn wanted_height(evidence: Option<&Evidence>) -> u16 {
    let rows = evidence.map_or(0, |e| e.checks.len());
    MIN_HEIGHT + rows as u16
}

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

fn row_style(verdict: Verdict) -> Style {
    match verdict {
        Verdict::Ok => theme::ok(),
        Verdict::Insufficient => theme::warning(),
        Verdict::Worse | Verdict::Stale => theme::error(),
    }
}

fn title(state: &AppState, evidence: Option<&Evidence>) -> String {
    let candidate = state.candidate();
    let mut title = format!(
        " EVIDENCE · {} vs {} ",
        candidate.name(),
        candidate.other().name()
    );
    let Some(e) = evidence else {
        return title;
    };
    if e.from > e.to {
        // The split changed mid-minute: its first whole minute has not begun.
        title.push_str(&format!("· window opens {} ", e.from.clock_utc()));
    } else {
        title.push_str(&format!(
            "· since {} ({}) ",
            e.from.clock_utc(),
            format_age(e.to.since(e.from))
        ));
    }
    // Stickiness, other rules and clients can make the requests served differ from the split.
    let configured = state
        .shift
        .current()
        .map(|w| f64::from(w.permille(candidate)) / 1000.0);
    if let (Some(served), Some(set)) = (e.observed_share, configured)
        && (served - set).abs() > OBSERVED_SHARE_SHOWN_AFTER
    {
        title.push_str(&format!(
            "· {} served {}% of requests (split {}%) ",
            candidate.name(),
            crate::domain::fixed(served * 100.0, 0),
            crate::domain::fixed(set * 100.0, 0)
        ));
    }
    title
}

fn row_line(check: &Check) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!(" {:<KIND_WIDTH$}", check.kind.label()),
            theme::label(),
        ),
        Span::styled(
            format!("{:<VERDICT_WIDTH$}", check.verdict.to_string()),
            row_style(check.verdict),
        ),
        Span::raw(check.reason.clone()),
    ])
}

/// The candidate against the baseline since the last weight change: the verdict the guard acts
/// on, then one row per check. When the box is short, the worst rows come first; the verdict
/// line always names the row that decided it.
pub fn render(state: &AppState, evidence: Option<&Evidence>, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(title(state, evidence));
    let inner = block.inner(area);
    let Some(evidence) = evidence else {
        frame.render_widget(block, area);
        super::draw_lines(
            frame.buffer_mut(),
            inner,
            &[Line::styled("reading CloudWatch…", theme::label())],
        );
        return;
    };
    let room = usize::from(inner.height).saturating_sub(1);
    let mut rows: Vec<&Check> = evidence.checks.iter().collect();
    let cut = rows.len().saturating_sub(room);
    if cut > 0 {
        rows.sort_by_key(|c| std::cmp::Reverse(severity(c.verdict)));
        rows.truncate(room);
    }
    // Rows left out say so on the frame: the least severe went, and how many.
    let block = match cut {
        0 => block,
        n => block.title_bottom(
            Line::from(format!(
                " +{n} {} not shown ",
                if n == 1 { "row" } else { "rows" }
            ))
            .style(theme::warning()),
        ),
    };
    frame.render_widget(block, area);
    // After the guard's rollback the window starts again with nothing in it: the verdict that
    // made the rollback stays, with its time, until the next move or deploy.
    let (verdict, reason) = match &state.breach {
        Some((at, side, why))
            if evidence.verdict != Verdict::Worse && *side == evidence.candidate =>
        {
            (
                Verdict::Worse,
                format!("at {}, rolled back: {why}", at.clock_utc()),
            )
        }
        // Every row shown below: the verdict line sums them up rather than repeat one.
        _ if cut == 0 => (evidence.verdict, summary(evidence)),
        _ => (evidence.verdict, evidence.reason.clone()),
    };
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", verdict.to_string().to_uppercase()),
            verdict_style(verdict),
        ),
        Span::raw(" "),
        Span::raw(reason),
    ])];
    lines.extend(rows.into_iter().map(row_line));
    super::draw_lines_marking_cuts(frame.buffer_mut(), inner, &lines);
}

/// The verdict in a few words over the rows that decide it, which are shown below it. A worse
/// row is repeated: it is what the operator must read first.
fn summary(evidence: &Evidence) -> String {
    let (candidate, baseline) = (evidence.candidate.name(), evidence.candidate.other().name());
    let deciding = || {
        evidence
            .checks
            .iter()
            .filter(|c| c.verdict == evidence.verdict)
            .map(|c| c.kind.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match evidence.verdict {
        Verdict::Worse => evidence.reason.clone(),
        Verdict::Ok => format!(
            "{candidate} no worse than {baseline} on every check since {}",
            evidence.from.clock_utc()
        ),
        Verdict::Insufficient => {
            format!(
                "not enough yet to judge {candidate}: {} (below)",
                deciding()
            )
        }
        Verdict::Stale => format!("no fresh data: {} (below)", deciding()),
    }
}
