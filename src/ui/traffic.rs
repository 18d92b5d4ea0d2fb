use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph, Widget};

use super::theme;
use crate::app::AppState;
use crate::domain::{Color, Weights};
use crate::shift::plan::PlanState;
use crate::shift::{Evidence, Shift};

pub const HEIGHT: u16 = 6;
const LABEL_WIDTH: u16 = 11;
const BLUE_CELL: &str = "█";
/// A different glyph as well as a different colour, so the split reads without colour too.
const GREEN_CELL: &str = "▓";

pub fn render(state: &AppState, evidence: Option<&Evidence>, frame: &mut Frame, area: Rect) {
    let native = state.observation.as_ref().and_then(|o| o.driver.native());
    let title = if native.is_some() {
        " TRAFFIC · forward action, moved by ECS "
    } else {
        " TRAFFIC · forward action "
    };
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 4 {
        return;
    }
    let bar_row = Rect { height: 1, ..inner };
    let marker_row = Rect {
        y: inner.y + 1,
        height: 1,
        ..inner
    };
    let status_row = Rect {
        y: inner.y + 2,
        height: 1,
        ..inner
    };
    let plan_row = Rect {
        y: inner.y + 3,
        height: 1,
        ..inner
    };
    match state.shift.current() {
        Some(current) => {
            SplitBar { weights: current }.render(bar_row, frame.buffer_mut());
            if let Some(staged) = state.shift.staged() {
                render_marker(staged, state.candidate(), marker_row, frame.buffer_mut());
            }
        }
        None => frame.render_widget(
            Paragraph::new(Span::styled(
                "reading the listener's forward action…",
                theme::label(),
            )),
            bar_row,
        ),
    }
    let buf = frame.buffer_mut();
    // A driver that moves its own weights: its stages, its weights and its gate instead of
    // the staged marker, the write status and the plan's steps.
    if let (Some(native), Some(current)) = (native, state.shift.current()) {
        let lines = [
            (marker_row, super::native::strip(native, marker_row.width)),
            (status_row, super::native::weights(state, native, current)),
            (plan_row, super::native::gate(state, native)),
        ];
        for (row, line) in lines {
            super::draw_lines_marking_cuts(buf, row, &[line]);
        }
        return;
    }
    super::draw_lines_marking_cuts(buf, status_row, &[status_line(state)]);
    super::draw_lines_marking_cuts(buf, plan_row, &[plan_line(state, evidence)]);
}

/// The plan: its steps with the current one marked, its state, and the countdown.
fn plan_line(state: &AppState, evidence: Option<&Evidence>) -> Line<'static> {
    let Some(plan) = &state.plan else {
        return Line::styled("no plan configured: move traffic by hand", theme::label());
    };
    let current = state
        .shift
        .current()
        .unwrap_or(crate::domain::Weights::ALL_BLUE);
    let toward = plan.side(state.candidate());
    let (done, total) = plan.progress(current, toward);
    let mut spans = vec![Span::styled(
        format!("plan → {} ", toward.name()),
        theme::label(),
    )];
    for (i, target) in plan.targets.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" → ", theme::label()));
        }
        let style = if *target <= current.share(toward) {
            theme::value()
        } else {
            theme::label()
        };
        spans.push(Span::styled(format!("{target}%"), style));
    }
    spans.push(Span::raw(format!("  step {done}/{total}  ")));
    let (text, style) = match &plan.state {
        PlanState::Ready => ready(state, evidence, plan, current, toward),
        PlanState::Baking { next_at } => {
            let next = plan
                .next_target(current, toward)
                .map_or(100, |w| w.share(toward));
            (
                format!(
                    "baking: {next}% in {} (n: now, Space: pause)",
                    crate::domain::format_age(next_at.since(state.now))
                ),
                theme::ok(),
            )
        }
        PlanState::Applying => ("applying the step".to_string(), theme::value()),
        PlanState::Holding { reason } => (format!("holding: {reason}"), theme::warning()),
        PlanState::Retrying {
            next_at,
            attempt,
            reason,
        } => (
            format!(
                "step failed (attempt {attempt}/{}): {reason}; trying again in {}",
                crate::shift::plan::MAX_STEP_ATTEMPTS,
                crate::domain::format_age(next_at.since(state.now))
            ),
            theme::warning(),
        ),
        PlanState::Paused { reason, .. } => (format!("PAUSED: {reason}"), theme::warning()),
        // Done, then moved back (R in the bake, or someone else): say what holds now.
        PlanState::Done if current.permille(toward) < 1000 => (
            format!(
                "done earlier, since moved: {} carries {}% now, not all traffic",
                toward.name(),
                current.percent_text(toward)
            ),
            theme::warning(),
        ),
        PlanState::Done if current.share(state.candidate()) == 0 => (
            format!(
                "done: {} carries all traffic · D deploys a new build to {}",
                toward.name(),
                state.candidate().name()
            ),
            theme::ok(),
        ),
        PlanState::Done => (
            format!("done: {} carries all traffic", toward.name()),
            theme::ok(),
        ),
        PlanState::RolledBack { reason } => (format!("ROLLED BACK: {reason}"), theme::error()),
        PlanState::Waiting { reason } => (format!("waiting: {reason}"), theme::value()),
    };
    spans.push(Span::styled(text, style));
    Line::from(spans)
}

/// A plan that has not started: whether `a` would start it, and what its first step waits for
/// if the guard would not let it go now.
fn ready(
    state: &AppState,
    evidence: Option<&Evidence>,
    plan: &crate::shift::plan::Plan,
    current: Weights,
    toward: Color,
) -> (String, Style) {
    let start = crate::app::availability_judged(state, crate::app::Action::StartPlan, evidence);
    if let Some(why) = start.reason() {
        return (format!("not ready: {why}"), theme::warning());
    }
    let next = plan.next_target(current, toward);
    let waits = next.and_then(|to| match state.guard_judged(current, to, evidence) {
        crate::shift::GuardDecision::Refuse(why) => Some((to.share(toward), why)),
        _ => None,
    });
    match waits {
        Some((share, why)) => (
            format!("ready: a starts it; its step to {share}% waits: {why}"),
            theme::warning(),
        ),
        None => ("ready: a starts it".to_string(), theme::label()),
    }
}

/// The current split as a two-part bar, both shares written out.
pub struct SplitBar {
    pub weights: Weights,
}

impl Widget for SplitBar {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width <= 2 * LABEL_WIDTH {
            return;
        }
        let bar_width = area.width - 2 * LABEL_WIDTH;
        let blue_cells = cells(bar_width, self.weights.permille(Color::Blue));
        // `BLUE  75% `, `BLUE 99.9% `: exact, within the label's eleven cells.
        let blue_label = format!("BLUE {:>3}% ", self.weights.percent_text(Color::Blue));
        let green_label = format!(" {:>3}% GREEN", self.weights.percent_text(Color::Green));
        let bold = |c: Color| Style::new().fg(theme::side(c)).add_modifier(Modifier::BOLD);
        buf.set_string(area.x, area.y, &blue_label, bold(Color::Blue));
        for i in 0..bar_width {
            let (glyph, color) = if i < blue_cells {
                (BLUE_CELL, Color::Blue)
            } else {
                (GREEN_CELL, Color::Green)
            };
            buf.set_string(
                area.x + LABEL_WIDTH + i,
                area.y,
                glyph,
                Style::new().fg(theme::side(color)),
            );
        }
        buf.set_string(
            area.x + LABEL_WIDTH + bar_width,
            area.y,
            &green_label,
            bold(Color::Green),
        );
    }
}

/// Cells of the bar that a share fills, rounded to the nearest cell.
fn cells(bar_width: u16, permille: u16) -> u16 {
    ((u32::from(bar_width) * u32::from(permille) + 500) / 1000) as u16
}

/// A `▲` under the bar where the staged split would put the boundary.
fn render_marker(staged: Weights, candidate: Color, row: Rect, buf: &mut Buffer) {
    if row.width <= 2 * LABEL_WIDTH {
        return;
    }
    let bar_width = row.width - 2 * LABEL_WIDTH;
    let at =
        row.x + LABEL_WIDTH + cells(bar_width, staged.permille(Color::Blue)).min(bar_width - 1);
    // Named by the side the operator moves traffic to (blue in a second cycle).
    let text = format!("▲ staged {} {}%", candidate.name(), staged.share(candidate));
    let style = Style::new()
        .fg(ratatui::style::Color::Yellow)
        .add_modifier(Modifier::BOLD);
    let len = text.chars().count() as u16;
    if at + len <= row.x + row.width {
        buf.set_string(at, row.y, &text, style);
    } else {
        // Near the right edge the words go to the left of the marker.
        let text = format!("staged {} {}% ▲", candidate.name(), staged.share(candidate));
        buf.set_string((at + 1).saturating_sub(len).max(row.x), row.y, &text, style);
    }
}

fn status_line(state: &AppState) -> Line<'static> {
    let shift: &Shift = &state.shift;
    let mut spans = Vec::new();
    if let Some(write) = shift.in_flight() {
        let spinner = theme::SPINNER[(state.ticks % theme::SPINNER.len() as u64) as usize];
        spans.push(Span::styled(format!("{spinner} "), theme::key()));
        spans.push(Span::styled(
            format!(
                "{} {} → {} (blue/green)…",
                write.kind.in_progress(),
                write.expected,
                write.target
            ),
            theme::value(),
        ));
        if shift.rollback_queued() {
            spans.push(Span::styled("  rollback queued next", theme::warning()));
        }
    } else if let Some(staged) = shift.staged() {
        spans.push(Span::styled(format!("staged {staged}"), theme::warning()));
        spans.push(Span::raw(" (blue/green): "));
        spans.push(Span::styled("Enter", theme::key()));
        spans.push(Span::raw(" applies · "));
        spans.push(Span::styled("Esc", theme::key()));
        spans.push(Span::raw(" drops"));
    } else if let Some(current) = shift.current() {
        spans.push(Span::styled(format!("{current}"), theme::value()));
        spans.push(Span::raw(" (blue/green), as read from the load balancer"));
    }
    if let Some(shared) = state
        .metrics
        .as_ref()
        .map(|m| m.elb_5xx_in_window(state.now, 5))
    {
        let style = if shared > 0.0 {
            theme::warning()
        } else {
            theme::label()
        };
        spans.push(Span::styled(
            format!("   ELB 5xx, shared: {} in 5 min", shared.round() as u64),
            style,
        ));
    }
    // Traffic cutover does not move, mixed into the per-group numbers.
    if let Some(routes) = state
        .observation
        .as_ref()
        .map(|o| &o.other_routes)
        .filter(|r| !r.is_empty())
    {
        spans.push(Span::styled(
            format!(
                "   also routed, not moved by cutover: {}",
                routes.join(", ")
            ),
            theme::warning(),
        ));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_writes_both_shares_and_fills_by_share() {
        let area = Rect::new(0, 0, 42, 1);
        let mut buf = Buffer::empty(area);
        SplitBar {
            weights: Weights::with_green(25),
        }
        .render(area, &mut buf);
        let text: String = (0..area.width).map(|x| buf[(x, 0)].symbol()).collect();
        assert_eq!(
            text,
            format!("BLUE  75%  {}{}  25% GREEN", "█".repeat(15), "▓".repeat(5))
        );
        assert_eq!(buf[(LABEL_WIDTH, 0)].fg, theme::side(Color::Blue));
        assert_eq!(buf[(LABEL_WIDTH + 19, 0)].fg, theme::side(Color::Green));
    }
}
