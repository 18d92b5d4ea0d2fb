use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::{
    Action, AppState, Confirm, HELP_NOTES, ImagePrompt, KEYMAP, PercentPrompt, Popup, bindings,
};
use crate::domain::{Color, Weights};
use crate::shift::Evidence;

pub fn render(state: &AppState, evidence: Option<&Evidence>, frame: &mut Frame, area: Rect) {
    match &state.popup {
        // The filter is typed in the event log's own title, over the log it filters.
        None | Some(Popup::LogFilter(_)) => {}
        Some(Popup::Help { scroll }) => help(state, evidence, *scroll, frame, area),
        Some(Popup::Prompt(prompt)) => percent_prompt(state, prompt, frame, area),
        Some(Popup::Image(prompt)) => image_prompt(state, prompt, frame, area),
        Some(Popup::Confirm(confirm)) => confirmation(state, confirm.clone(), frame, area),
    }
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

fn popup_block(title: &str) -> Block<'_> {
    Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme::key())
        .title(format!(" {title} "))
}

/// Generated from the keymap: the help cannot drift from what the keys do. Keys that would do
/// nothing now are dimmed and say so (pressing one says why).
fn help(state: &AppState, evidence: Option<&Evidence>, scroll: u16, frame: &mut Frame, area: Rect) {
    let lines = help_text(state, evidence);
    let width = lines.iter().map(|l| l.width() as u16).max().unwrap_or(40) + 4;
    let rect = centered(area, width, lines.len() as u16 + 2);
    let block = popup_block("keys");
    let visible = usize::from(block.inner(rect).height);
    let first = usize::from(scroll).min(lines.len().saturating_sub(visible));
    let above = first;
    let below = lines.len().saturating_sub(first + visible);
    // A cut help says so on its frame, with how much is out of sight and how to reach it.
    let block = match (above, below) {
        (0, 0) => block,
        _ => block.title_bottom(
            Line::from(format!(
                " {}{}↑/↓ scroll ",
                if above > 0 {
                    format!("↑ {above} more · ")
                } else {
                    String::new()
                },
                if below > 0 {
                    format!("↓ {below} more · ")
                } else {
                    String::new()
                },
            ))
            .style(theme::key()),
        ),
    };
    let inner = block.inner(rect);
    let cut: Vec<bool> = lines
        .iter()
        .skip(first)
        .take(visible)
        .map(|line| line.width() > usize::from(inner.width))
        .collect();
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).scroll((first as u16, 0)).block(block),
        rect,
    );
    // A line cut at a narrow terminal's edge ends in `…`, as everywhere else.
    let buf = frame.buffer_mut();
    for (y, _) in (inner.top()..inner.bottom())
        .zip(cut)
        .filter(|(_, cut)| *cut)
    {
        if inner.width > 0 {
            buf[(inner.right() - 1, y)].set_symbol("…");
        }
    }
}

/// Whether the help, open in `area`, shows less than all of it.
pub fn help_is_cut(area: Rect) -> bool {
    crate::app::help_lines() + 2 > area.height
}

/// Generated from the keymap: the help cannot drift from what the keys do. Keys that would do
/// nothing now are dimmed and say so (pressing one says why).
fn help_text(state: &AppState, evidence: Option<&Evidence>) -> Vec<Line<'static>> {
    let key_width = KEYMAP
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = bindings(state, evidence)
        .map(|(b, availability)| {
            let label = format!("  {:<key_width$}  ", b.label);
            let description = b.description_text(&state.settings);
            if availability.is_available() {
                Line::from(vec![
                    Span::styled(label, theme::key()),
                    Span::raw(description),
                ])
            } else {
                Line::from(vec![
                    Span::styled(label, theme::disabled()),
                    Span::styled(format!("{description} (not now)"), theme::disabled()),
                ])
            }
        })
        .collect();
    lines.push(Line::default());
    for note in HELP_NOTES {
        lines.push(Line::styled(format!("  {note}"), theme::label()));
    }
    lines
}

fn percent_prompt(state: &AppState, prompt: &PercentPrompt, frame: &mut Frame, area: Rect) {
    let candidate = state.candidate();
    let current = state
        .shift
        .current()
        .map_or(String::new(), |w| format!(" (now {}%)", w.share(candidate)));
    let error = prompt.error.as_ref().map(ToString::to_string);
    let title = format!("{}'s share, %", candidate.name());
    text_prompt(
        frame,
        area,
        TextPrompt {
            title: &title,
            question: format!("{}'s share, 0 to 100{current}:", capitalized(candidate)),
            input: &prompt.input,
            error: error.as_deref(),
            enter: "stage",
            width: 56,
        },
    );
}

fn image_prompt(state: &AppState, prompt: &ImagePrompt, frame: &mut Frame, area: Rect) {
    let idle = match state.shift.current().map(|w| (w.green(), w.blue())) {
        Some((0, _)) => "GREEN",
        Some((_, 0)) => "BLUE",
        _ => "the idle side",
    };
    text_prompt(
        frame,
        area,
        TextPrompt {
            title: "deploy",
            question: format!("Image to deploy to {idle} (it carries no traffic):"),
            input: &prompt.input,
            error: prompt.error.as_deref(),
            enter: "deploy",
            width: 72,
        },
    );
}

/// `Blue` / `Green`, to start a sentence.
fn capitalized(color: Color) -> &'static str {
    match color {
        Color::Blue => "Blue",
        Color::Green => "Green",
    }
}

struct TextPrompt<'a> {
    title: &'a str,
    question: String,
    input: &'a tui_input::Input,
    error: Option<&'a str>,
    /// What Enter does.
    enter: &'a str,
    width: u16,
}

/// `text` wrapped to `area`, the last line ending in `…` when more would not fit.
fn fitted(text: &str, area: Rect) -> Vec<Line<'static>> {
    let width = usize::from(area.width);
    let mut lines = super::event_log::wrap(text, width);
    if lines.len() > usize::from(area.height) {
        lines.truncate(usize::from(area.height));
        if let Some(last) = lines.last_mut() {
            let kept: String = last.chars().take(width.saturating_sub(1)).collect();
            *last = format!("{}…", kept.trim_end());
        }
    }
    lines.into_iter().map(Line::from).collect()
}

/// A one-line text field with a question above, the inline error below, and the keys.
fn text_prompt(frame: &mut Frame, area: Rect, prompt: TextPrompt<'_>) {
    let rect = centered(area, prompt.width, 7);
    frame.render_widget(Clear, rect);
    let block = popup_block(prompt.title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [question, input_row, feedback, help_row] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(prompt.question), question);
    let field_width = input_row.width.saturating_sub(2).max(1);
    let scroll = prompt.input.visual_scroll(field_width as usize);
    let field = Paragraph::new(Line::from(vec![
        Span::styled("> ", theme::key()),
        Span::styled(prompt.input.value().to_string(), theme::value()),
    ]))
    .scroll((0, scroll as u16));
    frame.render_widget(field, input_row);
    let cursor = prompt.input.visual_cursor().saturating_sub(scroll) as u16;
    frame.set_cursor_position(Position::new(input_row.x + 2 + cursor, input_row.y));
    if let Some(error) = prompt.error {
        let lines = fitted(&format!("✗ {error}"), feedback);
        frame.render_widget(Paragraph::new(lines).style(theme::error()), feedback);
    }
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("Enter", theme::key()),
            Span::raw(format!(" {} · ", prompt.enter)),
            Span::styled("Esc", theme::key()),
            Span::raw(" cancel · "),
            Span::styled("Ctrl-R", theme::key()),
            Span::raw(" roll back"),
        ])),
        help_row,
    );
}

fn confirmation(state: &AppState, confirm: Confirm, frame: &mut Frame, area: Rect) {
    let image = |side: Color| {
        state
            .observation
            .as_ref()
            .map(|o| o.side(side).service.image.clone())
            .unwrap_or_default()
    };
    let quitting = matches!(confirm, Confirm::Quit);
    let continuing = matches!(confirm, Confirm::ContinueGate { .. });
    let (title, text) = match confirm {
        Confirm::Quit => ("quit?", {
            let why = state
                .leaving_unwatched()
                .unwrap_or_else(|| "nothing is left unwatched".into());
            let mut letters = why.chars();
            let why: String = letters
                .next()
                .map(|first| first.to_uppercase().chain(letters).collect())
                .unwrap_or_default();
            format!("Quit and leave it unwatched? {why}.")
        }),
        Confirm::Revision {
            toward,
            warning,
            then,
        } => (
            "older or rejected build",
            match then {
                // Adopt moves no traffic: it puts the build on the live side.
                Action::Adopt => format!(
                    "{warning}. Put it on {}, the live side, anyway?",
                    toward.other().name()
                ),
                _ => format!(
                    "{warning}. {} toward {} anyway?",
                    match then {
                        Action::Promote => "Promote",
                        Action::StartPlan => "Run the plan",
                        _ => "Move traffic",
                    },
                    toward.name()
                ),
            },
        ),
        Confirm::LargeJump { from, to } => {
            let side = if to.green() > from.green() {
                Color::Green
            } else {
                Color::Blue
            };
            (
                "large jump",
                format!(
                    "Move {} from {}% to {}% in one step ({} points)? (blue/green {from} → {to})",
                    side.name(),
                    from.share(side),
                    to.share(side),
                    from.distance(to)
                ),
            )
        }
        Confirm::ContinueGate { step, from, to } => {
            let candidate = state.candidate();
            let timeout = state
                .observation
                .as_ref()
                .and_then(|o| o.driver.native())
                .and_then(|n| n.awaiting())
                .and_then(|(_, gate)| gate.on_timeout)
                .map(|action| match action {
                    crate::domain::GateAction::Continue => "ECS would continue by itself",
                    crate::domain::GateAction::Rollback => "ECS would roll back by itself",
                });
            (
                "continue at the gate",
                format!(
                    "{}: ECS shifts {} from {}% to {}% (blue/green {from} → {to}), bakes, and \
                     stops at the next gate{}. Continue?",
                    step.describe(),
                    candidate.name(),
                    from.share(candidate),
                    to.share(candidate),
                    timeout.map_or(String::new(), |t| format!(" (unanswered, {t})"))
                ),
            )
        }
        Confirm::Promote { from, to } => (
            "promote",
            format!(
                "Send ALL traffic to {}? (blue/green {from} → {})",
                to.name(),
                Weights::all_to(to)
            ),
        ),
        Confirm::DeployOver { image, rolling } => (
            "deploy over a deploy",
            format!(
                "{rolling} is still rolling out on the idle side. Deploy {image} over it? \
                 ECS replaces that rollout; its tasks stop."
            ),
        ),
        Confirm::ScaleIdle { side, desired } => {
            // Said as things are now: traffic may have moved since the question opened.
            let carried = state
                .shift
                .current()
                .filter(|w| w.permille(side) > 0)
                .map(|w| w.percent_text(side));
            let now = match carried {
                None => "It carries no traffic; the service stays.".to_string(),
                Some(percent) => format!("It carries {percent}% NOW: y is refused while it does."),
            };
            (
                "scale the idle side down",
                format!("Scale {side} from {desired} tasks to 0? {now}"),
            )
        }
        Confirm::Adopt { live, revision } => {
            let service = state
                .observation
                .as_ref()
                .map(|o| o.side(live).service.service.clone())
                .unwrap_or_default();
            let share = state
                .shift
                .current()
                .map_or("?".into(), |w| w.percent_text(live));
            (
                "adopt",
                format!(
                    "Roll {service} ({live}, carrying {share}% of traffic) from {} to {} \
                     ({revision}), the build the guard judged ok on {}? Its tasks are replaced.",
                    image(live),
                    image(live.other()),
                    live.other()
                ),
            )
        }
    };
    // Room for the text wrapped at the popup's width, the blank line and the keys.
    let width: u16 = 64;
    let text_lines = (text.chars().count() as u16).div_ceil(width - 6) + 1;
    let keys = if quitting {
        let plan = state.plan.as_ref().is_some_and(|p| p.is_active());
        let mut keys = vec![
            Span::styled("y", theme::key()),
            Span::raw(" quit · "),
            Span::styled("n", theme::key()),
            Span::raw("/"),
            Span::styled("Esc", theme::key()),
            Span::raw(" stay · "),
        ];
        if plan {
            keys.extend([
                Span::styled("Space", theme::key()),
                Span::raw(" pause first · "),
            ]);
        }
        keys.extend([Span::styled("R", theme::key()), Span::raw(" roll back")]);
        keys
    } else {
        vec![
            Span::styled("y", theme::key()),
            Span::raw(if continuing {
                " yes, continue · "
            } else {
                " yes, write it · "
            }),
            Span::styled("n", theme::key()),
            Span::raw("/"),
            Span::styled("Esc", theme::key()),
            Span::raw(" no"),
        ]
    };
    let lines = vec![Line::from(text), Line::default(), Line::from(keys)];
    let rect = centered(area, width, text_lines + 4);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(popup_block(title)),
        rect,
    );
}
