//! Keys inside a popup: prompts, the help, and the y/n questions.

use super::*;

pub(super) fn on_popup_key(
    state: &mut AppState,
    popup: Popup,
    key: KeyEvent,
    at: Instant,
) -> Vec<Command> {
    match popup {
        Popup::Help { scroll } => {
            let page = 10;
            let scroll = match key.code {
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?') | KeyCode::Char('q') => {
                    return Vec::new();
                }
                KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
                KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => scroll.saturating_add(page),
                KeyCode::PageUp => scroll.saturating_sub(page),
                KeyCode::Home | KeyCode::Char('g') => 0,
                _ => scroll,
            };
            // The view stops at the last page; past the help's length is nothing to show.
            let scroll = scroll.min(crate::app::help_lines());
            state.popup = Some(Popup::Help { scroll });
            Vec::new()
        }
        Popup::Prompt(mut prompt) => {
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => match prompt.submit() {
                    Ok(percent) => stage_typed(state, percent),
                    Err(_) => state.popup = Some(Popup::Prompt(prompt)),
                },
                _ => {
                    prompt.input.handle_event(&Event::Key(key));
                    prompt.revalidate();
                    state.popup = Some(Popup::Prompt(prompt));
                }
            }
            Vec::new()
        }
        Popup::Image(mut prompt) => {
            match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => match prompt.submit() {
                    // What held when the prompt opened may not hold any more.
                    Some(_) if refused(state, "deploy", None) => {}
                    Some(image) => match state.rollout_in_flight() {
                        Some(rolling) => {
                            state.popup =
                                Some(Popup::Confirm(Confirm::DeployOver { image, rolling }))
                        }
                        None => return deploy(state, image),
                    },
                    None => state.popup = Some(Popup::Image(prompt)),
                },
                _ => {
                    prompt.input.handle_event(&Event::Key(key));
                    prompt.error = None;
                    state.popup = Some(Popup::Image(prompt));
                }
            }
            Vec::new()
        }
        Popup::LogFilter(mut input) => {
            match key.code {
                KeyCode::Enter => {}
                KeyCode::Esc => state.log.set_filter(""),
                _ => {
                    input.handle_event(&Event::Key(key));
                    state.log.set_filter(input.value());
                    state.popup = Some(Popup::LogFilter(input));
                }
            }
            Vec::new()
        }
        // Asked once: q again quits; Space pauses the plan first and stays.
        Popup::Confirm(Confirm::Quit) if key.code == KeyCode::Char('q') => quit(state),
        Popup::Confirm(Confirm::Quit) if key.code == KeyCode::Char(' ') => {
            on_action(state, Action::PausePlan)
        }
        Popup::Confirm(Confirm::Quit)
            if matches!(key.code, KeyCode::Char('n' | 'N') | KeyCode::Esc) =>
        {
            state.flash(LogLevel::Info, "still here: cutover keeps watching");
            Vec::new()
        }
        Popup::Confirm(confirm) => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') if !answer_readable(state, at) => {
                state.flash(
                    LogLevel::Warn,
                    "that y came before the question could be read: read it, then answer",
                );
                state.popup = Some(Popup::Confirm(confirm));
                Vec::new()
            }
            KeyCode::Char('y') | KeyCode::Char('Y') => confirmed(state, confirm),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                state.flash(LogLevel::Info, "not applied: nothing was written");
                Vec::new()
            }
            _ => {
                state.popup = Some(Popup::Confirm(confirm));
                Vec::new()
            }
        },
    }
}

fn deploy(state: &mut AppState, image: String) -> Vec<Command> {
    let idle = idle_side(state).map_or("the idle side", |c| c.label());
    state.note(
        LogLevel::Info,
        LogSource::Operator,
        format!("deploy {image} to {idle}"),
    );
    state.deploy = Some((image.clone(), None));
    vec![Command::Deploy { image }]
}

/// Whether a key read at `at` came after the open question was on screen long enough to be
/// read: a "yes" typed ahead never answers it.
fn answer_readable(state: &AppState, at: Instant) -> bool {
    state
        .question_shown
        .is_some_and(|shown| at >= shown + ANSWER_DELAY)
}

pub(super) fn confirmed(state: &mut AppState, confirm: Confirm) -> Vec<Command> {
    let current = state.shift.current().unwrap_or(Weights::ALL_BLUE);
    // What the answer writes, for the one check of read-only and ownership first. A yes to
    // the revision question writes nothing itself: the action it leads to is checked as any
    // key is.
    let writes = match &confirm {
        Confirm::Revision { .. } | Confirm::Quit => None,
        Confirm::DeployOver { .. } => Some(("deploy", None)),
        Confirm::LargeJump { to, .. } => Some(("apply", Some(*to))),
        Confirm::Promote { to, .. } => Some(("promote", Some(Weights::all_to(*to)))),
        Confirm::ScaleIdle { .. } => Some(("scale idle", Some(current))),
        Confirm::Adopt { .. } => Some(("adopt", Some(current))),
        Confirm::ContinueGate { to, .. } => Some(("continue", Some(*to))),
    };
    if let Some((action, to)) = writes
        && refused(state, action, to)
    {
        return Vec::new();
    }
    match confirm {
        Confirm::Revision { toward, then, .. } => {
            let text = format!(
                "yes to traffic toward {}'s build despite the warning",
                toward.name()
            );
            state.note(LogLevel::Warn, LogSource::Operator, text);
            state.accept_revision(toward);
            // The action itself, with its own question if it has one.
            on_action(state, then)
        }
        Confirm::Quit => quit(state),
        Confirm::DeployOver { image, .. } => deploy(state, image),
        Confirm::ScaleIdle { side, .. } if !current.is_idle(side) => {
            let text = format!(
                "not scaled: {} carries {}% now; scale only a side that carries nothing",
                side.name(),
                current.percent_text(side)
            );
            state.flash(LogLevel::Warn, text);
            Vec::new()
        }
        Confirm::ScaleIdle { side, .. } => {
            let text = format!("scale {side} to 0 tasks");
            state.note(LogLevel::Info, LogSource::Operator, text);
            state.scaling = Some((side, 0));
            vec![Command::ScaleIdle { desired: 0 }]
        }
        Confirm::Adopt { live, revision } => {
            let text = format!("adopt {revision} on {live}");
            state.note(LogLevel::Info, LogSource::Operator, text);
            vec![Command::Adopt]
        }
        Confirm::ContinueGate { step, to, .. } => {
            super::gates::confirmed_continue(state, step, to, LogSource::Operator)
        }
        Confirm::LargeJump { .. } => apply_staged(state, true),
        Confirm::Promote { to, .. } => {
            // The evidence may have changed while the question was open: ask the guard again.
            if guard_refuses(state, Weights::all_to(to)) {
                return Vec::new();
            }
            let decision = state.shift.promote(to, state.now);
            on_apply_decision(state, decision)
        }
    }
}

/// A paste goes into the open prompt as text, its line breaks and control characters left
/// out, so it can never submit the prompt or answer a question; anywhere else it does nothing
/// and says so.
pub(super) fn on_paste(state: &mut AppState, text: &str) {
    state.mark_dirty();
    let insert = |input: &mut tui_input::Input| {
        for c in text.chars().filter(|c| !c.is_control()) {
            input.handle(tui_input::InputRequest::InsertChar(c));
        }
    };
    match state.popup.as_mut() {
        Some(Popup::Prompt(prompt)) => {
            insert(&mut prompt.input);
            prompt.revalidate();
        }
        Some(Popup::Image(prompt)) => insert(&mut prompt.input),
        Some(Popup::LogFilter(input)) => {
            insert(input);
            let filter = input.value().to_string();
            state.log.set_filter(&filter);
        }
        _ => state.flash(
            LogLevel::Warn,
            "a paste is typed only into a prompt (% or D): nothing was done",
        ),
    }
}
