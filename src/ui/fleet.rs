//! The fleet list: a header with where the data comes from and the API budget spent, one row a
//! release (attention first), the filter, the keys.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::theme;
use crate::app::fleet::{Attention, FleetView, Row};
use crate::domain::{Color, Weights, fixed, format_age};

/// The account-level ELB budget: 10 calls a second refilled, shared by every ELB action.
pub const ELB_BUDGET_PER_SEC: f64 = 10.0;

pub fn view(view: &FleetView, frame: &mut Frame) {
    let [header, body, status, keys] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(Paragraph::new(header_lines(view)), header);
    list(view, frame, body);
    let asked = view.asking.as_ref().map(|(row, _)| {
        Line::from(vec![
            Span::styled(
                format!("Roll back {row}: all its traffic to the live side, at once? "),
                theme::warning(),
            ),
            Span::styled("y", theme::key()),
            Span::raw(" yes · "),
            Span::styled("n", theme::key()),
            Span::raw(" no"),
        ])
    });
    let status_line = match (&view.typing, &view.said) {
        _ if asked.is_some() => asked.unwrap_or_default(),
        (Some(typed), _) => Line::from(vec![
            Span::styled("filter: ", theme::label()),
            Span::styled(format!("{typed}▏"), theme::value()),
            Span::styled(
                "  (a name, or column:value — driver: phase: needs: verdict: lock:) Enter keeps · Esc clears",
                theme::label(),
            ),
        ]),
        (None, Some(said)) => Line::styled(said.clone(), theme::warning()),
        (None, None) if !view.fleet.filter.is_empty() => Line::styled(
            format!("filter {:?} · Esc clears it", view.fleet.filter),
            theme::label(),
        ),
        (None, None) => Line::default(),
    };
    frame.render_widget(Paragraph::new(status_line), status);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("↑/↓", theme::key()),
            Span::raw(" select  "),
            Span::styled("Enter", theme::key()),
            Span::raw(" open its console  "),
            Span::styled("R", theme::key()),
            Span::raw(" roll it back  "),
            Span::styled("/", theme::key()),
            Span::raw(" filter  "),
            Span::styled("q", theme::key()),
            Span::raw(" quit"),
        ])),
        keys,
    );
}

/// Two lines: where the rows stand (and how far behind the list is), then what reading them
/// spends of each budget.
fn header_lines(view: &FleetView) -> Vec<Line<'static>> {
    let mut spans = vec![
        Span::styled(" cutover fleet ", theme::banner()),
        Span::styled(format!(" {} ", view.source), theme::label()),
    ];
    let needs = view
        .fleet
        .rows
        .iter()
        .filter(|r| r.attention.is_some())
        .count();
    spans.push(Span::styled(
        format!("│ {} rows, {needs} need the eye ", view.fleet.rows.len()),
        if needs > 0 {
            theme::warning()
        } else {
            theme::label()
        },
    ));
    let age = |at: Option<crate::domain::Timestamp>| {
        at.map_or("never".to_string(), |at| {
            format!("{} ago", format_age(view.now.since(at)))
        })
    };
    spans.push(Span::styled(
        format!(
            "│ state {} · metrics {} ",
            age(view.read_at),
            age(view.metrics_at)
        ),
        theme::label(),
    ));
    let behind = view.fleet.behind();
    if behind > 0 {
        spans.push(Span::styled(
            format!(
                "│ behind on {behind} row{} ",
                if behind == 1 { "" } else { "s" }
            ),
            theme::warning(),
        ));
    }
    if let Some(backoff) = &view.backoff {
        spans.push(Span::styled(format!("│ {backoff} "), theme::warning()));
    }
    let mut budget = vec![Span::styled(" spends:", theme::label())];
    for (bucket, rate) in &view.rates {
        // CloudWatch is billed by the metric, said below, not by the call.
        if bucket == "CloudWatch" && view.metrics_a_read.is_some() {
            continue;
        }
        let text = if bucket == "ELB" {
            format!(
                " ELB {}/s of {}/s ",
                fixed(*rate, 1),
                fixed(ELB_BUDGET_PER_SEC, 0)
            )
        } else {
            format!(" {bucket} {}/s ", fixed(*rate, 2))
        };
        let style = if bucket == "ELB" && *rate > ELB_BUDGET_PER_SEC / 10.0 {
            theme::warning()
        } else {
            theme::label()
        };
        budget.push(Span::styled(text, style));
        budget.push(Span::styled("·", theme::label()));
    }
    if let Some(metrics) = view.metrics_a_read {
        // GetMetricData is billed per metric requested, and the list reads once a minute.
        let dollars_an_hour = metrics as f64 * 60.0 * GET_METRIC_DATA_DOLLARS_PER_METRIC;
        budget.push(Span::styled(
            format!(
                " CloudWatch {metrics} metrics a minute ≈ ${}/h ",
                fixed(dollars_an_hour, 2)
            ),
            theme::label(),
        ));
    }
    if budget.last().is_some_and(|s| s.content == "·") {
        budget.pop();
    }
    if budget.len() == 1 {
        budget.push(Span::styled(" no AWS calls (simulated)", theme::label()));
    }
    vec![Line::from(spans), Line::from(budget)]
}

/// CloudWatch's price for GetMetricData: $0.01 per 1,000 metrics requested.
const GET_METRIC_DATA_DOLLARS_PER_METRIC: f64 = 0.01 / 1000.0;

const COLUMNS: [(&str, u16); 9] = [
    ("", 2),
    ("name", 18),
    ("driver", 15),
    ("phase", 30),
    ("split", 18),
    ("obs", 6),
    ("5xx cand/live", 15),
    ("p99×", 6),
    ("healthy", 8),
];

/// Who holds a row's lock and how old its state is, where the list is wide enough to keep
/// `NEEDS_AT_LEAST` columns for why a row needs the eye.
const WIDE_COLUMNS: [(&str, u16); 2] = [("lock", 14), ("age", 6)];
const NEEDS_AT_LEAST: u16 = 40;

/// The columns for a list `width` wide: the fixed ones, lock and age if they fit, and why a
/// row needs the eye in the rest.
fn columns(width: u16) -> Vec<(&'static str, u16)> {
    let mut columns = COLUMNS.to_vec();
    let fixed: u16 = columns.iter().map(|(_, w)| w).sum();
    let wide: u16 = WIDE_COLUMNS.iter().map(|(_, w)| w).sum();
    if width >= fixed + wide + NEEDS_AT_LEAST {
        columns.extend(WIDE_COLUMNS);
    }
    let used: u16 = columns.iter().map(|(_, w)| w).sum();
    columns.push(("needs", width.saturating_sub(used).max(10)));
    columns
}

fn list(view: &FleetView, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(" RELEASES · attention first ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let columns = columns(inner.width);
    let mut lines = vec![Line::from(
        columns
            .iter()
            .map(|(name, width)| {
                Span::styled(
                    pad(name, *width),
                    theme::label().add_modifier(Modifier::BOLD),
                )
            })
            .collect::<Vec<_>>(),
    )];
    let shown: Vec<&Row> = view.fleet.shown().collect();
    let selected = view.fleet.selected.as_deref();
    // Keep the selected row on screen in a long list.
    let rows = usize::from(inner.height.saturating_sub(1));
    let at = shown
        .iter()
        .position(|r| Some(r.name.as_str()) == selected)
        .unwrap_or(0);
    let first = at.saturating_sub(rows.saturating_sub(1));
    for row in shown.iter().skip(first).take(rows) {
        lines.push(row_line(row, Some(row.name.as_str()) == selected, &columns));
    }
    if shown.is_empty() {
        lines.push(Line::styled(
            "no row matches the filter (Esc clears it)",
            theme::label(),
        ));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

fn pad(text: &str, width: u16) -> String {
    let width = usize::from(width);
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    if text.chars().count() >= width {
        cut.pop();
        cut.push('…');
    }
    format!("{cut:<width$}")
}

fn row_line(row: &Row, selected: bool, columns: &[(&str, u16)]) -> Line<'static> {
    let base = if selected {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    };
    let (mark, mark_style) = match row.attention.as_ref().map(|(a, _)| *a) {
        Some(Attention::GateWaits) => ("◆", theme::warning()),
        Some(Attention::Worse | Attention::RollingBack) => ("▲", theme::error()),
        Some(Attention::Stale) => ("?", theme::warning()),
        Some(_) => ("!", theme::warning()),
        None => (" ", theme::label()),
    };
    let rate = |r: Option<f64>| r.map_or("–".into(), |r| format!("{}%", fixed(r * 100.0, 2)));
    let needs = row
        .attention
        .as_ref()
        .map_or(String::new(), |(a, why)| format!("{a}: {why}"));
    let needs_style = match row.attention.as_ref().map(|(a, _)| *a) {
        Some(Attention::Worse | Attention::RollingBack) => theme::error(),
        Some(_) => theme::warning(),
        None => theme::label(),
    };
    let mut cells = vec![
        (mark.to_string(), mark_style),
        (row.name.clone(), theme::value()),
        (row.driver.clone(), theme::label()),
        (row.phase.clone(), Style::new()),
        (row.weights.map_or("?".into(), bar), Style::new()),
        (
            row.observed
                .map_or("–".into(), |o| format!("{}%", fixed(o, 0))),
            theme::label(),
        ),
        (
            format!("{} / {}", rate(row.candidate_5xx), rate(row.live_5xx)),
            Style::new(),
        ),
        (
            row.latency_ratio
                .map_or("–".into(), |r| format!("{}×", fixed(r, 2))),
            Style::new(),
        ),
        (
            row.healthy.map_or("?".into(), |(b, g)| format!("{b}/{g}")),
            Style::new(),
        ),
    ];
    if columns.len() > COLUMNS.len() + 1 {
        cells.push((
            row.lock.clone().unwrap_or_else(|| "–".into()),
            theme::label(),
        ));
        cells.push((format_age(row.age), theme::label()));
    }
    cells.push((needs, needs_style));
    Line::from(
        cells
            .into_iter()
            .zip(columns)
            .map(|((text, style), (_, width))| Span::styled(pad(&text, *width), base.patch(style)))
            .collect::<Vec<_>>(),
    )
}

/// The split as a ten-cell bar and its numbers: `██████▓▓▓▓ 60/40`.
fn bar(weights: Weights) -> String {
    let green = usize::from(weights.share(Color::Green))
        .div_ceil(10)
        .min(10);
    format!("{}{} {weights}", "█".repeat(10 - green), "▓".repeat(green))
}
