//! The keys an open popup answers to, for the hint bar: during a question only its answers, in
//! a text field only the field's keys. Each is listed only when pressing it now does what its
//! label says (`update::popups` is what acts on them).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::availability::availability_judged;
use super::keymap::Action;
use super::{AppState, Confirm, Popup};
use crate::shift::Evidence;

/// One key of an open popup, as the hint bar writes it and as a test presses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopupKey {
    pub label: &'static str,
    pub hint: &'static str,
    pub key: KeyEvent,
}

fn entry(label: &'static str, hint: &'static str, code: KeyCode) -> PopupKey {
    PopupKey {
        label,
        hint,
        key: KeyEvent::new(code, KeyModifiers::NONE),
    }
}

/// The keys the open popup takes, or `None` when no popup is open (the keymap's bar then).
pub fn popup_keys(state: &AppState, evidence: Option<&Evidence>) -> Option<Vec<PopupKey>> {
    let popup = state.popup.as_ref()?;
    let rollback = availability_judged(state, Action::Rollback, evidence).is_available();
    // In a field R is a letter: the rollback there is Ctrl-R.
    let ctrl_r = PopupKey {
        label: "Ctrl-R",
        hint: "rollback",
        key: KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL),
    };
    let r = entry("R", "rollback", KeyCode::Char('R'));
    let mut keys = Vec::new();
    match popup {
        // Scrolling is offered by the view, which alone knows whether the help is cut.
        Popup::Help { .. } => {
            keys.push(entry("Esc", "close", KeyCode::Esc));
            keys.extend(rollback.then_some(r));
        }
        Popup::Prompt(prompt) => {
            if crate::domain::parse_percent(prompt.input.value()).is_ok() {
                keys.push(entry("Enter", "stage", KeyCode::Enter));
            }
            keys.push(entry("Esc", "cancel", KeyCode::Esc));
            keys.extend(rollback.then_some(ctrl_r));
        }
        Popup::Image(prompt) => {
            if prompt.clone().submit().is_some() {
                keys.push(entry("Enter", "deploy", KeyCode::Enter));
            }
            keys.push(entry("Esc", "cancel", KeyCode::Esc));
            keys.extend(rollback.then_some(ctrl_r));
        }
        Popup::LogFilter(_) => {
            keys.push(entry("Enter", "keep the filter", KeyCode::Enter));
            keys.push(entry("Esc", "clear it", KeyCode::Esc));
            keys.extend(rollback.then_some(ctrl_r));
        }
        Popup::Confirm(Confirm::Quit) => {
            keys.push(entry("y", "quit", KeyCode::Char('y')));
            keys.push(entry("n/Esc", "stay", KeyCode::Esc));
            if state.plan.as_ref().is_some_and(|p| p.is_active()) {
                keys.push(entry("Space", "pause first", KeyCode::Char(' ')));
            }
            keys.extend(rollback.then_some(r));
        }
        Popup::Confirm(confirm) => {
            if yes_acts(state, confirm) {
                keys.push(entry("y", "yes", KeyCode::Char('y')));
            }
            keys.push(entry("n/Esc", "no", KeyCode::Esc));
            keys.extend(rollback.then_some(r));
        }
    }
    Some(keys)
}

/// Whether `y` would do what the question asks, as things stand now (the question stays open
/// while traffic and the lock move).
fn yes_acts(state: &AppState, confirm: &Confirm) -> bool {
    let writes = !matches!(confirm, Confirm::Revision { .. });
    if writes && state.writes_refused().is_some() {
        return false;
    }
    match confirm {
        Confirm::ScaleIdle { side, .. } => state.shift.current().is_some_and(|w| w.is_idle(*side)),
        Confirm::ContinueGate { step, .. } => state
            .observation
            .as_ref()
            .and_then(|o| o.driver.native())
            .and_then(|n| n.continue_step().ok())
            .is_some_and(|awaiting| awaiting == *step),
        _ => true,
    }
}
