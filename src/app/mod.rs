//! The application core: state, messages, the pure `update`, and the one keymap table.

mod availability;
mod event_log;
pub mod fleet;
mod keymap;
mod msg;
pub mod picker;
mod popup;
mod popup_keys;
mod state;
mod update;

pub use crate::domain::READ_ONLY_REASON;
pub use crate::shift::Role;
pub use availability::{Availability, availability, availability_judged, bindings};
pub use event_log::{EventLog, LOG_PAGE, LogView};
pub use keymap::{Action, Binding, KEYMAP, KeySpec, action_for};
pub use msg::{Command, Msg};
pub use popup::{
    ANSWER_DELAY, Confirm, HELP_NOTES, ImagePrompt, PercentPrompt, Popup, help_lines, moving_tag,
};
pub use popup_keys::{PopupKey, popup_keys};
pub use state::{AppState, Flash, Settings, UnansweredWrite};
pub use update::{MAX_ROLLBACK_ATTEMPTS, update};
