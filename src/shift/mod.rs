//! The traffic-shift state machine: staged → applying → read back, rollback, promote.
//!
//! Pure and synchronous: time comes in as values, writes go out as requests.

pub mod checks;
pub mod evidence;
pub mod guard;
mod machine;
pub mod outcome;
pub mod plan;
pub mod roles;
pub mod stats;
pub mod sticky;

pub use checks::{Check, CheckKind};
pub use evidence::{Evidence, EvidenceSettings, LatencyLimits, SideEvidence, Verdict, evidence};
pub use guard::{GuardDecision, GuardSettings};
pub use machine::{ApplyDecision, RollbackDecision, Shift, WriteKind, WriteOutcome, WriteRequest};
pub use outcome::{Judgement, Meaning, judge};
pub use roles::Role;

/// The default size of one `→`/`←` nudge, in percentage points.
pub const STEP_POINTS: u8 = 10;
/// A jump larger than this asks for confirmation first.
pub const MAX_STEP_POINTS: u8 = 25;
