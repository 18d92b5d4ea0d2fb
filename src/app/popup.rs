use tui_input::Input;

use crate::domain::{PercentError, Weights, parse_percent};

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

/// A y/n question that must be answered before a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    LargeJump { from: Weights, to: Weights },
    Promote { from: Weights },
}

#[derive(Debug, Clone)]
pub enum Popup {
    Help,
    Prompt(PercentPrompt),
    Confirm(Confirm),
}
