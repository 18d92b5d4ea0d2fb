use tui_input::Input;

use crate::domain::{Color, PercentError, Weights, image_problem, parse_percent};

/// The typed-percentage prompt. Validated as the operator types.
#[derive(Debug, Clone, Default)]
pub struct PercentPrompt {
    pub input: Input,
    pub error: Option<PercentError>,
}

impl PercentPrompt {
    /// Validates what is typed so far; an empty field is not an error until Enter.
    pub fn revalidate(&mut self) {
        let value = self.input.value();
        self.error = if value.trim().is_empty() {
            None
        } else {
            parse_percent(value).err()
        };
    }

    pub fn submit(&mut self) -> Result<u8, PercentError> {
        let result = parse_percent(self.input.value());
        self.error = result.as_ref().err().cloned();
        result
    }
}

/// The image to deploy, prefilled with the idle side's current one.
#[derive(Debug, Clone, Default)]
pub struct ImagePrompt {
    pub input: Input,
    pub error: Option<String>,
    /// The image the idle side runs, prefilled: Enter on it unchanged deploys nothing.
    pub prefilled: String,
    /// A moving tag warned about: Enter again on the same text deploys it.
    pub warned: Option<String>,
}

impl ImagePrompt {
    pub fn new(current: &str) -> Self {
        ImagePrompt {
            input: Input::new(current.to_string()),
            error: None,
            prefilled: current.to_string(),
            warned: None,
        }
    }

    /// The image if it is one a deploy can use (see [`image_problem`]) and not the one the
    /// idle side runs already.
    pub fn submit(&mut self) -> Option<String> {
        let value = self.input.value().trim();
        self.error = if value.is_empty() {
            Some("type an image, e.g. example/shop:1.6.0".into())
        } else if value == self.prefilled {
            Some(format!(
                "the idle side runs {value} already: type the new image (Ctrl-U clears)"
            ))
        } else if let Some(why) = image_problem(value) {
            Some(why)
        } else if moving_tag(value) && self.warned.as_deref() != Some(value) {
            self.warned = Some(value.to_string());
            Some(format!(
                "{value} names a moving tag: what it is may change, and a rollback to it may not \
                 bring this build back. Enter again deploys it; a version tag or @sha256 digest \
                 is safer"
            ))
        } else {
            None
        };
        self.error.is_none().then(|| value.to_string())
    }
}

/// An image reference whose build can change under the same name: no tag, or `:latest`
/// (a digest pins it whatever the tag).
pub fn moving_tag(image: &str) -> bool {
    if image.contains('@') {
        return false;
    }
    // The tag follows the last `:` after the last `/` (a registry's `host:port/` is not one).
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.rsplit_once(':') {
        None => true,
        Some((_, tag)) => tag == "latest",
    }
}

/// What the help says under the keys.
pub const HELP_NOTES: &[&str] = &[
    "In a prompt: Enter stages, Esc cancels. In a question: y does it, n or Esc does not.",
    "Ctrl-R rolls back from anywhere, a text field included (there R is a letter).",
    "Ctrl-Z suspends (fg resumes). ↑/↓ scroll this help; Esc, ? or q closes it.",
];

/// The help's lines: a key a line, a blank line, the notes.
pub fn help_lines() -> u16 {
    (super::KEYMAP.len() + 1 + HELP_NOTES.len()) as u16
}

/// A y/n question that must be answered before a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    LargeJump {
        from: Weights,
        to: Weights,
    },
    /// All traffic to the candidate, `to`.
    Promote {
        from: Weights,
        to: Color,
    },
    /// Scale the idle side to zero tasks.
    ScaleIdle {
        side: Color,
        desired: u32,
    },
    /// Put the idle side's revision on the live side.
    Adopt {
        live: Color,
        revision: String,
    },
    /// A deploy while another still rolls out on the idle side: `image` replaces `rolling`.
    DeployOver {
        image: String,
        rolling: String,
    },
    /// Traffic toward a build older than the live one, or one the guard rejected: `then` runs
    /// (with its own question, if it has one) after a yes.
    Revision {
        toward: Color,
        warning: String,
        then: crate::app::Action,
    },
    /// Continue an ECS-native deployment at its awaiting gate: ECS moves `from` to `to`.
    ContinueGate {
        step: crate::domain::GateStep,
        from: Weights,
        to: Weights,
    },
    /// Quitting would leave a split, or a running plan, with nobody watching: asked once.
    Quit,
}

/// How long after a question is drawn a "yes" still counts as typed before it: nobody reads
/// a question and answers it faster, so a key that soon was typed ahead (or pasted by a
/// terminal without bracketed paste) and must not answer it.
pub const ANSWER_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

#[derive(Debug, Clone)]
pub enum Popup {
    /// The keys, scrolled down `scroll` lines (the view stops at the last page).
    Help {
        scroll: u16,
    },
    Prompt(PercentPrompt),
    Image(ImagePrompt),
    Confirm(Confirm),
    /// The event log's filter, applied as it is typed.
    LogFilter(Input),
}
