//! What every headless command shares, whatever the platform: its footing (platform, what it
//! read, settings, audit log), how it ends (`Outcome`, with its exit code), one audit line per
//! attempt, and the shift machine driving a write to where it settles.

use std::path::PathBuf;
use std::sync::Arc;

use crate::app::Settings;
use crate::audit::Auditor;
use crate::domain::{AuditEvent, AuditResult, Color, Failure, Observation, PlatformError, Weights};
use crate::platform::Platform;
use crate::platform::read_only::ReadOnly;
use crate::shift::plan::{OnBreach, PlanSpec};
use crate::shift::{Shift, WriteKind, WriteOutcome, WriteRequest};

/// What a headless command works with, whatever the platform: the platform, what it read at
/// the start, the settings (built once from the config and the flags), the plan to run, and
/// the audit log.
pub struct Headless<P: Platform> {
    pub platform: Arc<P>,
    pub observation: Observation,
    pub settings: Settings,
    pub plan: Option<(PlanSpec, OnBreach)>,
    /// Where the settings came from, for a message that says what to add.
    pub source: PathBuf,
    pub auditor: Auditor,
}

impl<P: Platform> Headless<P> {
    /// The same footing on a platform that writes nothing (`--read-only`).
    pub fn read_only(self) -> Headless<ReadOnly<P>> {
        let mut observation = self.observation;
        observation.writes_refused = Some(crate::domain::READ_ONLY_REASON.into());
        Headless {
            platform: Arc::new(ReadOnly(self.platform)),
            observation,
            settings: self.settings,
            plan: self.plan,
            source: self.source,
            auditor: self.auditor,
        }
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
pub(super) fn record(
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

/// A service change (deploy, scale-idle, adopt) that did not happen: one audit line, then the
/// refusal as its outcome (another owner, read-only, the lock: exit 3 or 4), or anything else
/// as the failure it is, `doing` said first.
pub(super) fn not_done(
    auditor: &mut Auditor,
    platform: &impl Platform,
    (action, done, weights): (&str, &str, Weights),
    error: PlatformError,
    doing: &'static str,
) -> Result<Outcome, Failure> {
    let outcome = match &error {
        PlatformError::Refused { reason } => Outcome::Refused(format!("not {done}: {reason}")),
        locked @ PlatformError::Locked { .. } => {
            Outcome::ChangedOutside(format!("not {done}: {locked}"))
        }
        _ => Outcome::Interrupted(format!("{error:#}")),
    };
    record(auditor, platform, action, weights, weights, None, &outcome);
    match outcome {
        Outcome::Interrupted(_) => Err(Failure::from(error).context(doing)),
        refused => Ok(refused),
    }
}

/// [`record`], with a note for an applied write (a rollback that bypassed the lock).
pub(super) fn record_noted(
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
        rejected: None,
    });
}

/// Runs `request` and whatever the shift machine wants after it (a rollback retried over an
/// outside change, up to its limit); returns the last write's outcome and the platform's
/// notes on all of them (lock bypassed, answer lost).
pub(super) async fn settle(
    platform: &impl Platform,
    machine: &mut Shift,
    first: WriteRequest,
) -> (anyhow::Result<WriteOutcome>, Vec<String>) {
    let mut request = first;
    let mut notes = Vec::new();
    loop {
        let result = platform
            .write_weights(request.expected, request.target, request.kind.intent())
            .await
            .map(|report| {
                notes.extend(report.notes);
                report.weights
            });
        let Some(outcome) = machine.write_finished(result, platform.now()) else {
            return (
                Err(anyhow::anyhow!("no write was in flight to finish")),
                notes,
            );
        };
        match outcome.next {
            Some(next) => request = next,
            None => return (Ok(outcome), notes),
        }
    }
}

/// A finished write as the command's outcome.
pub(super) fn said(outcome: &WriteOutcome, notes: &[String]) -> Outcome {
    let from = outcome.finished.expected;
    let suffix = joined(notes).map_or(String::new(), |n| format!("; {n}"));
    match &outcome.result {
        Ok(read_back) if *read_back == outcome.finished.target => {
            let verb = if outcome.finished.kind == WriteKind::Rollback {
                "rolled back "
            } else {
                ""
            };
            Outcome::Done(format!(
                "{verb}{from} → {read_back} (blue/green), read back{suffix}"
            ))
        }
        Ok(read_back) => Outcome::Interrupted(format!(
            "wrote {} but read back {read_back}: check the weights",
            outcome.finished.target
        )),
        Err(error @ (PlatformError::Conflict { .. } | PlatformError::Locked { .. })) => {
            Outcome::ChangedOutside(error.to_string())
        }
        Err(PlatformError::Refused { reason }) => {
            Outcome::Refused(format!("not written: {reason}"))
        }
        Err(error) => Outcome::Interrupted(format!("writing the weights: {error}")),
    }
}

/// How an attempt is audited: a call that failed is `failed`.
pub(super) fn recorded(result: &anyhow::Result<Outcome>) -> Outcome {
    match result {
        Ok(outcome) => outcome.clone(),
        Err(error) => Outcome::Interrupted(format!("{error:#}")),
    }
}

pub(super) fn joined(notes: &[String]) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}
