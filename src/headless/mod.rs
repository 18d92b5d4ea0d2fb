//! Headless commands for pipelines and scripts, through the same core as the console: the
//! shift machine, the guard, compare-and-set, the audit log. The traffic commands (`shift`,
//! `promote`, `rollback`, `plan run`) run on any platform, so the demo has them too; the
//! service changes (`deploy`, `scale-idle`, `adopt`) are AWS's.

mod services;
mod traffic;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use services::{adopt, deploy, scale_idle};
pub use traffic::{plan_run, rollback, shift};

use crate::audit::Auditor;
use crate::cli::{PlanCommand, TrafficCommand};
use crate::domain::{AuditEvent, AuditResult, Color, Observation, Weights};
use crate::platform::Platform;
use crate::shift::plan::{OnBreach, PlanSpec};
use crate::shift::{EvidenceSettings, GuardSettings};

/// What a headless command works with, whatever the platform: the platform, what it read at
/// the start, the settings, and the audit log.
pub struct Headless<P: Platform> {
    pub platform: Arc<P>,
    pub observation: Observation,
    pub settings: HeadlessSettings,
    pub auditor: Auditor,
}

/// The settings a headless command takes from the config (or the demo's own).
#[derive(Debug, Clone)]
pub struct HeadlessSettings {
    pub guard: GuardSettings,
    pub evidence: EvidenceSettings,
    pub role_bake: Duration,
    /// How often `plan run` reads the state, in the platform's time.
    pub refresh: Duration,
    /// How many times faster than real time the platform's clock runs (the demo's `--speed`).
    pub clock_speed: f64,
    pub plan: Option<(PlanSpec, OnBreach)>,
    /// Where the settings came from, for a message that says what to add.
    pub source: PathBuf,
}

/// Runs one traffic command, on whatever platform `headless` has.
pub async fn run<P: Platform>(
    headless: &mut Headless<P>,
    command: &TrafficCommand,
) -> anyhow::Result<Outcome> {
    match command {
        TrafficCommand::Shift { green, blue, force } => {
            let target = match (green, blue) {
                (Some(green), _) => ShiftTarget::Share(Color::Green, *green),
                (None, Some(blue)) => ShiftTarget::Share(Color::Blue, *blue),
                (None, None) => anyhow::bail!("shift needs --green PCT or --blue PCT"),
            };
            shift(headless, target, *force).await
        }
        TrafficCommand::Promote { force } => shift(headless, ShiftTarget::Promote, *force).await,
        TrafficCommand::Rollback { to } => rollback(headless, *to).await,
        TrafficCommand::Plan {
            command: PlanCommand::Run,
        } => plan_run(headless).await,
    }
}

/// How a headless command ended; each has its exit code (see `--help`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done(String),
    Refused(String),
    ChangedOutside(String),
    RolledBack(String),
    /// `deploy --wait` ran out of time before the idle side was ready.
    NotReady(String),
    /// `deploy --wait` / `adopt --wait`: ECS failed the rollout (the circuit breaker tripped,
    /// and rolled back where configured).
    RolloutFailed(String),
    Interrupted(String),
}

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done(_) => 0,
            Outcome::Refused(_) => 3,
            Outcome::ChangedOutside(_) => 4,
            Outcome::RolledBack(_) => 5,
            Outcome::NotReady(_) => 6,
            Outcome::RolloutFailed(_) => 7,
            Outcome::Interrupted(_) => 130,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            Outcome::Done(m)
            | Outcome::Refused(m)
            | Outcome::ChangedOutside(m)
            | Outcome::RolledBack(m)
            | Outcome::NotReady(m)
            | Outcome::RolloutFailed(m)
            | Outcome::Interrupted(m) => m,
        }
    }
}

/// What `shift` and `promote` move to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShiftTarget {
    /// `shift --green PCT` / `shift --blue PCT`.
    Share(Color, u8),
    /// `promote`: everything to the candidate.
    Promote,
}

/// One audit line for a headless attempt. A failed call is recorded as `failed`.
fn record(
    auditor: &mut Auditor,
    platform: &impl Platform,
    action: &str,
    from: Weights,
    to: Weights,
    evidence: Option<String>,
    outcome: &Outcome,
) {
    record_noted(
        auditor,
        platform,
        (action, from, to),
        evidence,
        outcome,
        None,
    );
}

/// [`record`], with a note for an applied write (a rollback that bypassed the lock).
fn record_noted(
    auditor: &mut Auditor,
    platform: &impl Platform,
    (action, from, to): (&str, Weights, Weights),
    evidence: Option<String>,
    outcome: &Outcome,
    note: Option<String>,
) {
    let result = match outcome {
        Outcome::Done(_) => AuditResult::Applied,
        Outcome::Refused(_) | Outcome::ChangedOutside(_) => AuditResult::Refused,
        Outcome::RolledBack(_)
        | Outcome::NotReady(_)
        | Outcome::RolloutFailed(_)
        | Outcome::Interrupted(_) => AuditResult::Failed,
    };
    let reason = if result == AuditResult::Applied {
        note
    } else {
        Some(outcome.message().to_string())
    };
    auditor.record(AuditEvent {
        at: platform.now(),
        action: action.to_string(),
        from,
        to,
        evidence,
        result,
        reason,
    });
}
