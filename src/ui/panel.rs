use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Padding, Paragraph, Sparkline};

use super::theme;
use crate::app::AppState;
use crate::domain::{Color, SideMetrics, Weights, format_count};
use crate::shift::{CheckKind, Evidence, Verdict};

/// Minutes summed for the rate and latency lines.
const WINDOW_MINUTES: u32 = 5;
const TEXT_LINES: u16 = 7;
/// The least height the 5xx sparkline stands for: 2%, in basis points.
const SPARKLINE_FLOOR_BP: u64 = 200;

/// Rows a panel takes: borders, text, and the sparkline (two rows when side by side).
pub fn height(wide: bool) -> u16 {
    2 + TEXT_LINES + sparkline_rows(wide)
}

fn sparkline_rows(wide: bool) -> u16 {
    if wide { 2 } else { 1 }
}

pub fn render(
    state: &AppState,
    evidence: Option<&Evidence>,
    color: Color,
    wide: bool,
    frame: &mut Frame,
    area: Rect,
) {
    let weights = state.shift.current();
    let title = Line::from(vec![
        Span::styled(format!(" {} ", color.label()), theme::side_title(color)),
        Span::raw(format!(" {} ", state.role(color))),
    ]);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(Style::new().fg(theme::side(color)))
        .padding(Padding::horizontal(1))
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let [text_area, spark_area] = Layout::vertical([
        Constraint::Length(TEXT_LINES),
        Constraint::Length(sparkline_rows(wide)),
    ])
    .areas(inner);
    super::draw_lines_marking_cuts(
        frame.buffer_mut(),
        text_area,
        &text_lines(state, evidence, color, weights),
    );
    render_sparkline(state, color, frame, spark_area);
}

fn text_lines(
    state: &AppState,
    evidence: Option<&Evidence>,
    color: Color,
    weights: Option<Weights>,
) -> Vec<Line<'static>> {
    let Some(side) = state.observation.as_ref().map(|o| o.side(color)) else {
        return vec![Line::styled(
            "reading ECS and the load balancer…",
            theme::label(),
        )];
    };
    let s = &side.service;
    let t = &side.targets;
    let share = weights.map(|w| w.percent_text(color));
    let metrics = state.metrics.as_ref().map(|m| m.side(color));
    let rollout_style = if s.rollout == crate::domain::RolloutState::Failed {
        theme::error()
    } else {
        theme::value()
    };
    vec![
        Line::from(vec![
            label("service "),
            Span::styled(s.service.clone(), theme::value()),
            label("  cluster "),
            Span::raw(s.cluster.clone()),
        ]),
        Line::from(vec![
            label("taskdef "),
            Span::styled(s.task_definition.clone(), theme::value()),
            label("  image "),
            Span::raw(s.image.clone()),
        ]),
        Line::from(
            [
                label("tasks   "),
                Span::raw("desired "),
                Span::styled(s.desired.to_string(), theme::value()),
                Span::raw(" · running "),
                Span::styled(s.running.to_string(), theme::value()),
                Span::raw(" · pending "),
                Span::styled(s.pending.to_string(), theme::value()),
            ]
            .into_iter()
            // ECS's failedTasks: tasks of the new deployment that did not start.
            .chain(
                (s.failed_tasks > 0)
                    .then(|| Span::styled(format!(" · failed {}", s.failed_tasks), theme::error())),
            )
            .chain([
                label("  rollout "),
                Span::styled(s.rollout.to_string(), rollout_style),
            ])
            .collect::<Vec<_>>(),
        ),
        Line::from(vec![
            label("targets "),
            Span::styled(
                format!("{} healthy", t.healthy),
                if t.healthy > 0 {
                    theme::ok()
                } else {
                    theme::value()
                },
            ),
            Span::raw(" · "),
            Span::styled(
                format!("{} unhealthy", t.unhealthy),
                if t.unhealthy > 0 {
                    theme::error()
                } else {
                    Style::new()
                },
            ),
            Span::raw(format!(
                " · {} initial · {} draining",
                t.initial, t.draining
            )),
        ]),
        traffic_line(
            share,
            metrics,
            state.metrics.as_ref().and_then(|m| m.newest_bucket()),
        ),
    ]
    .into_iter()
    .chain(errors_lines(state, evidence, color, metrics))
    .collect()
}

fn traffic_line(
    share: Option<String>,
    metrics: Option<&SideMetrics>,
    newest: Option<crate::domain::Timestamp>,
) -> Line<'static> {
    let share = share.map_or("–".to_string(), |p| format!("{p}%"));

    let rps = metrics
        .zip(newest)
        .map(|(m, newest)| m.requests_per_sec(newest))
        .map_or("– req/s".to_string(), |r| {
            format!("{} req/s", crate::domain::fixed(r, 0))
        });
    // CloudWatch publishes a minute after it ends: say which minute the rate is from.
    let minute = newest.map_or(String::new(), |start| {
        let end = start.plus(std::time::Duration::from_secs(60));
        format!(" ({}–{})", hh_mm(start), hh_mm(end))
    });
    Line::from(vec![
        label("traffic "),
        Span::styled(share, theme::value()),
        Span::raw(" of the split · "),
        Span::raw(rps),
        Span::styled(minute, theme::label()),
    ])
}

/// The 5xx rate over the window, and the latency: two lines, so a half-width panel shows p99.
fn errors_lines(
    state: &AppState,
    evidence: Option<&Evidence>,
    color: Color,
    metrics: Option<&SideMetrics>,
) -> Vec<Line<'static>> {
    let Some(m) = metrics else {
        return vec![Line::from(vec![
            label("5xx     "),
            Span::styled("reading CloudWatch…", theme::label()),
        ])];
    };
    let (window, to) = whole_minutes(state, m);
    let rate = window
        .error_rate
        .map_or("– (no requests)".to_string(), |r| {
            format!("{}%", crate::domain::fixed(r * 100.0, 2))
        });
    let rate_style = rate_style(window.error_rate);
    let latency = window.latency_avg_ms.map_or("–".to_string(), |l| {
        format!("{} ms", crate::domain::fixed(l, 0))
    });
    // The newest minute's p99, only while the side served in the window: an idle side's last
    // p99 is history.
    let p99 = m
        .newest()
        .filter(|_| window.latency_avg_ms.is_some())
        .and_then(|b| b.latency_p99_ms)
        .map_or(String::new(), |p| {
            format!(" · p99 {} ms", crate::domain::fixed(p, 0))
        });
    let latency_style = latency_style(evidence, color);
    vec![
        Line::from(vec![
            label("5xx     "),
            Span::styled(rate, rate_style),
            Span::raw(format!(
                " of {} req ({WINDOW_MINUTES} min{to})",
                format_count(window.requests)
            )),
        ]),
        Line::from(vec![
            label("latency "),
            Span::raw("avg "),
            Span::styled(latency, latency_style),
            Span::styled(p99, latency_style),
        ]),
    ]
}

/// The panel's window: whole minutes only, ending at the newest one published, so the count
/// does not swing with the clock; and its end, as the label says it (" to 22:14").
fn whole_minutes(state: &AppState, m: &SideMetrics) -> (crate::domain::WindowSummary, String) {
    let end = state
        .metrics
        .as_ref()
        .and_then(|all| all.complete_until(state.now));
    let window = end.map_or_else(
        || m.window(state.now, WINDOW_MINUTES),
        |end| m.window_to(end, WINDOW_MINUTES),
    );
    let to = end.map_or(String::new(), |end| format!(" to {}", hh_mm(end)));
    (window, to)
}

fn rate_style(rate: Option<f64>) -> Style {
    match rate {
        Some(r) if r >= 0.05 => theme::error(),
        Some(r) if r >= 0.01 => theme::warning(),
        _ => theme::value(),
    }
}

/// Latency is red where the guard finds it worse: the candidate, on its latency row.
fn latency_style(evidence: Option<&Evidence>, color: Color) -> Style {
    let worse = evidence.is_some_and(|e| {
        e.candidate == color
            && e.checks
                .iter()
                .any(|c| c.kind == CheckKind::Latency && c.verdict == Verdict::Worse)
    });
    if worse {
        theme::error()
    } else {
        theme::value()
    }
}

/// One line a side, for a terminal too short for the panels: role, share, targets, the 5xx
/// rate and p99 over the panels' window, then tasks and the build (cut first when narrow).
pub fn summary(state: &AppState, evidence: Option<&Evidence>, color: Color) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!(" {:<5} ", color.label()), theme::side_title(color)),
        Span::raw(format!(" {:<9}", state.role(color).to_string())),
    ];
    let share = state.shift.current().map(|w| w.percent_text(color));
    spans.push(Span::styled(
        format!("{:>4} ", share.map_or("–".into(), |p| format!("{p}%"))),
        theme::value(),
    ));
    let Some(side) = state.observation.as_ref().map(|o| o.side(color)) else {
        spans.push(label("reading ECS…"));
        return Line::from(spans);
    };
    let (s, t) = (&side.service, &side.targets);
    spans.push(Span::styled(
        format!("{} healthy", t.healthy),
        if t.healthy > 0 {
            theme::ok()
        } else {
            theme::error()
        },
    ));
    if let Some(m) = state.metrics.as_ref().map(|m| m.side(color)) {
        let (window, _) = whole_minutes(state, m);
        let rate = window.error_rate.map_or("–".to_string(), |r| {
            format!("{}%", crate::domain::fixed(r * 100.0, 2))
        });
        spans.push(Span::raw(" · 5xx "));
        spans.push(Span::styled(rate, rate_style(window.error_rate)));
        if let Some(p99) = m
            .newest()
            .filter(|_| window.latency_avg_ms.is_some())
            .and_then(|b| b.latency_p99_ms)
        {
            spans.push(Span::raw(" · p99 "));
            spans.push(Span::styled(
                format!("{p99:.0} ms"),
                latency_style(evidence, color),
            ));
        }
    }
    spans.push(Span::raw(format!(
        " · {}/{} tasks · {} {}",
        s.running, s.desired, s.task_definition, s.image
    )));
    Line::from(spans)
}

fn render_sparkline(state: &AppState, color: Color, frame: &mut Frame, area: Rect) {
    let [label_area, spark_area] =
        Layout::horizontal([Constraint::Length(8), Constraint::Fill(1)]).areas(area);
    let history = state
        .metrics
        .as_ref()
        .and_then(|m| Some((m.newest_bucket()?, m.side(color))))
        .map(|(newest, side)| side.error_rate_by_minute_bp(newest, spark_area.width as usize))
        .unwrap_or_default();
    // The ceiling is at least 2% so a healthy 0.3% shows as a low line, not as noise blown up
    // to full height; above it the sparkline scales, and the label says where the top is.
    let ceiling = history
        .iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(SPARKLINE_FLOOR_BP);
    let mut label_lines = vec![label("5xx/min").into()];
    if label_area.height > 1 {
        label_lines.push(Line::styled(
            format!("top {:.0}%", ceiling as f64 / 100.0),
            theme::label(),
        ));
    }
    frame.render_widget(Paragraph::new(label_lines), label_area);
    let sparkline = Sparkline::default()
        .data(history)
        .max(ceiling)
        .style(Style::new().fg(theme::side(color)));
    frame.render_widget(sparkline, spark_area);
}

/// `22:14`.
fn hh_mm(t: crate::domain::Timestamp) -> String {
    t.clock_utc().chars().take(5).collect()
}

fn label(text: &'static str) -> Span<'static> {
    Span::styled(text, theme::label())
}
