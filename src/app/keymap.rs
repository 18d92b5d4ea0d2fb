use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key does in the main screen (popups read their own few keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StageUp,
    StageDown,
    TypePercent,
    Apply,
    DropStaged,
    Rollback,
    /// Continue an ECS-native deployment at its awaiting gate.
    ContinueGate,
    Promote,
    StartPlan,
    PausePlan,
    NextStep,
    Deploy,
    ScaleIdle,
    Adopt,
    /// The event log: a page older, a page newer, the oldest, the newest; a text filter;
    /// warnings and errors only.
    LogOlder,
    LogNewer,
    LogOldest,
    LogNewest,
    LogFilter,
    LogErrors,
    Help,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(c: char) -> KeySpec {
    KeySpec {
        code: KeyCode::Char(c),
        ctrl: false,
    }
}

const fn code(code: KeyCode) -> KeySpec {
    KeySpec { code, ctrl: false }
}

/// One binding: it dispatches keys, and the same entry writes the hint bar and the help popup,
/// so they cannot disagree.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [KeySpec],
    /// How the keys are written for people: `→/l`.
    pub label: &'static str,
    pub action: Action,
    /// A few words for the hint bar; `{step}` and `{max_step}` stand for the settings. Empty
    /// for keys the bar leaves to the help and the box they act on (the event log's).
    pub hint: &'static str,
    /// A sentence for the help popup, with the same stand-ins.
    pub description: &'static str,
    /// Whether the action changes the weights in AWS.
    pub writes: bool,
}

impl Binding {
    /// The hint, with the numbers the settings give.
    pub fn hint_text(&self, settings: &super::Settings) -> String {
        with_settings(self.hint, settings)
    }

    /// The help sentence, with the numbers the settings give.
    pub fn description_text(&self, settings: &super::Settings) -> String {
        with_settings(self.description, settings)
    }
}

fn with_settings(text: &str, settings: &super::Settings) -> String {
    let quit = if settings.back_to_list {
        "back to the list (Esc too)"
    } else {
        "quit"
    };
    text.replace("{step}", &settings.step_points.to_string())
        .replace("{max_step}", &settings.guard.max_step.to_string())
        .replace("{quit}", quit)
}

/// The keymap of the console. Mutations that act at once are on Shift+letter (`R`, `P`), so a
/// stray lowercase key never writes.
pub const KEYMAP: &[Binding] = &[
    Binding {
        keys: &[code(KeyCode::Right), key('l')],
        label: "→/l",
        action: Action::StageUp,
        hint: "green +{step}",
        description: "stage {step} points more to green (right)",
        writes: false,
    },
    Binding {
        keys: &[code(KeyCode::Left), key('h')],
        label: "←/h",
        action: Action::StageDown,
        hint: "blue +{step}",
        description: "stage {step} points more to blue (left)",
        writes: false,
    },
    Binding {
        keys: &[key('%')],
        label: "%",
        action: Action::TypePercent,
        hint: "type %",
        description: "type the candidate's share (0–100) and stage it",
        writes: false,
    },
    Binding {
        keys: &[code(KeyCode::Enter)],
        label: "Enter",
        action: Action::Apply,
        hint: "apply",
        description: "apply the staged split (asks y/n for a jump over {max_step} points)",
        writes: true,
    },
    Binding {
        keys: &[code(KeyCode::Esc)],
        label: "Esc",
        action: Action::DropStaged,
        hint: "drop",
        description: "drop the staged split",
        writes: false,
    },
    Binding {
        keys: &[key('R')],
        label: "R",
        action: Action::Rollback,
        hint: "rollback",
        description: "roll back: all traffic to the live side, at once (works over any popup)",
        writes: true,
    },
    Binding {
        keys: &[key('c')],
        label: "c",
        action: Action::ContinueGate,
        hint: "continue",
        description: "ECS-native: continue at the awaiting gate, after y (guarded like an increase)",
        writes: true,
    },
    Binding {
        keys: &[key('P')],
        label: "P",
        action: Action::Promote,
        hint: "promote",
        description: "promote: all traffic to the candidate, after y in a confirmation",
        writes: true,
    },
    Binding {
        keys: &[key('a')],
        label: "a",
        action: Action::StartPlan,
        hint: "plan",
        description: "start the plan, resume it, or run it again for the next cycle",
        writes: true,
    },
    Binding {
        keys: &[key(' ')],
        label: "Space",
        action: Action::PausePlan,
        hint: "pause",
        description: "pause the plan (R aborts it and rolls back)",
        writes: false,
    },
    Binding {
        keys: &[key('n')],
        label: "n",
        action: Action::NextStep,
        hint: "next step",
        description: "the plan's next step now instead of after the bake (still guarded)",
        writes: true,
    },
    Binding {
        keys: &[key('D')],
        label: "D",
        action: Action::Deploy,
        hint: "deploy",
        description: "deploy a new image to the idle side (the one at 0%)",
        writes: true,
    },
    Binding {
        keys: &[key('S')],
        label: "S",
        action: Action::ScaleIdle,
        hint: "scale idle",
        description: "scale the idle side to 0 tasks, after y (never a side with traffic)",
        writes: true,
    },
    Binding {
        keys: &[key('A')],
        label: "A",
        action: Action::Adopt,
        hint: "adopt",
        description: "roll the live side to the idle side's revision, after y",
        writes: true,
    },
    Binding {
        keys: &[code(KeyCode::PageUp)],
        label: "PgUp",
        action: Action::LogOlder,
        hint: "",
        description: "event log: a page back (older)",
        writes: false,
    },
    Binding {
        keys: &[code(KeyCode::PageDown)],
        label: "PgDn",
        action: Action::LogNewer,
        hint: "",
        description: "event log: a page forward (newer)",
        writes: false,
    },
    Binding {
        keys: &[key('g')],
        label: "g",
        action: Action::LogOldest,
        hint: "",
        description: "event log: the oldest entry",
        writes: false,
    },
    Binding {
        keys: &[key('G')],
        label: "G",
        action: Action::LogNewest,
        hint: "",
        description: "event log: back to the newest, following new entries",
        writes: false,
    },
    Binding {
        keys: &[key('/')],
        label: "/",
        action: Action::LogFilter,
        hint: "",
        description: "event log: show only entries containing a text (Esc clears it)",
        writes: false,
    },
    Binding {
        keys: &[key('e')],
        label: "e",
        action: Action::LogErrors,
        hint: "",
        description: "event log: warnings and errors only, or everything again",
        writes: false,
    },
    Binding {
        keys: &[key('?')],
        label: "?",
        action: Action::Help,
        hint: "help",
        description: "show this help",
        writes: false,
    },
    Binding {
        keys: &[
            key('q'),
            KeySpec {
                code: KeyCode::Char('c'),
                ctrl: true,
            },
        ],
        label: "q/Ctrl-C",
        action: Action::Quit,
        hint: "{quit}",
        description: "{quit}; the weights stay as they are in AWS",
        writes: false,
    },
];

impl KeySpec {
    fn matches(&self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        // Terminals report `R` as Char('R') with or without SHIFT: compare the character only.
        self.code == event.code && self.ctrl == ctrl
    }
}

pub fn action_for(event: &KeyEvent) -> Option<Action> {
    KEYMAP
        .iter()
        .find(|b| b.keys.iter().any(|k| k.matches(event)))
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn every_action_has_exactly_one_binding() {
        let actions = [
            Action::StageUp,
            Action::StageDown,
            Action::TypePercent,
            Action::Apply,
            Action::DropStaged,
            Action::Rollback,
            Action::ContinueGate,
            Action::Promote,
            Action::StartPlan,
            Action::PausePlan,
            Action::NextStep,
            Action::Deploy,
            Action::ScaleIdle,
            Action::Adopt,
            Action::LogOlder,
            Action::LogNewer,
            Action::LogOldest,
            Action::LogNewest,
            Action::LogFilter,
            Action::LogErrors,
            Action::Help,
            Action::Quit,
        ];
        for action in actions {
            assert_eq!(
                KEYMAP.iter().filter(|b| b.action == action).count(),
                1,
                "{action:?}"
            );
        }
    }

    #[test]
    fn keys_dispatch_as_the_table_says() {
        assert_eq!(
            action_for(&press(KeyCode::Right, KeyModifiers::NONE)),
            Some(Action::StageUp)
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('h'), KeyModifiers::NONE)),
            Some(Action::StageDown)
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('R'), KeyModifiers::SHIFT)),
            Some(Action::Rollback)
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('r'), KeyModifiers::NONE)),
            None,
            "lowercase r never writes"
        );
        assert_eq!(
            action_for(&press(KeyCode::Char('c'), KeyModifiers::NONE)),
            Some(Action::ContinueGate)
        );
    }
}
