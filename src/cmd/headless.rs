//! What every headless command shares, whatever the platform: its footing (platform, what it
//! read, settings, audit log), how it ends (`Outcome`, with its exit code), one audit line per
//! attempt, and the shift machine driving a write to where it settles.

use std::path::PathBuf;
use std::sync::Arc;

use crate::app::Settings;
use crate::audit::Auditor;
use crate::domain::{
    AuditEvent, AuditResult, Color, ConfigError, Failure, Observation, PlatformError, Weights,
};
use crate::platform::Platform;
use crate::platform::read_only::ReadOnly;
use crate::shift::plan::{OnBreach, PlanSpec};
use crate::shift::{
    Meaning, RollbackDecision, Shift, WriteKind, WriteOutcome, WriteRequest, judge,
};

/// Rollback attempts a headless command makes when they fail for a passing reason: the
/// console's number, so the incident command is as persistent as the key.
pub const MAX_ROLLBACK_ATTEMPTS: u32 = crate::app::MAX_ROLLBACK_ATTEMPTS;

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
    /// The write was not applied: AWS refused it or could not be reached, and the weights
    /// read back unchanged.
    Failed(String),
    /// The write's answer was lost and the weights could not be read back to tell whether it
    /// was applied.
    Unknown(String),
    /// `plan run --max-hold`: the plan held longer than that; the weights stay where they are.
    HeldTooLong(String),
    /// Stopped by a signal (SIGINT, SIGTERM, SIGHUP), and only that.
    Interrupted(String),
}

/// `Outcome::Unknown`'s exit code: neither done nor failed is known.
pub const EXIT_UNKNOWN: u8 = 8;

impl Outcome {
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done(_) => 0,
            Outcome::Refused(_) => 3,
            Outcome::ChangedOutside(_) => 4,
            Outcome::RolledBack(_) => 5,
            Outcome::NotReady(_) => 6,
            Outcome::RolloutFailed(_) => 7,
            Outcome::Failed(_) => 1,
            Outcome::Unknown(_) => EXIT_UNKNOWN,
            Outcome::HeldTooLong(_) => 9,
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
            | Outcome::Failed(m)
            | Outcome::Unknown(m)
            | Outcome::HeldTooLong(m)
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
        _ => Outcome::Failed(format!("{error:#}")),
    };
    record(auditor, platform, action, weights, weights, None, &outcome);
    match outcome {
        Outcome::Failed(_) => Err(Failure::from(error).context(doing)),
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
        Outcome::Unknown(_) => AuditResult::Unknown,
        Outcome::RolledBack(_)
        | Outcome::NotReady(_)
        | Outcome::RolloutFailed(_)
        | Outcome::Failed(_)
        | Outcome::HeldTooLong(_)
        | Outcome::Interrupted(_) => AuditResult::Failed,
    };
    let reason = if result == AuditResult::Applied {
        note
    } else {
        Some(outcome.message().to_string())
    };
    // A line that cannot be written is logged by the auditor; the call it records is over.
    let _ = auditor.record(AuditEvent {
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
/// outside change, up to its limit); a rollback that fails for a passing reason is tried
/// again with backoff, as the console does, up to [`MAX_ROLLBACK_ATTEMPTS`]. A write whose
/// answer was lost is watched for [`LATE_WRITE_WATCH`] before the command ends, since AWS
/// can still apply it. Returns the last write's outcome and the platform's notes on all of
/// them (lock bypassed, answer lost).
pub(super) async fn settle(
    platform: &impl Platform,
    auditor: &mut Auditor,
    machine: &mut Shift,
    first: WriteRequest,
) -> (Result<WriteOutcome, Failure>, Vec<String>) {
    let mut request = first;
    let mut notes = Vec::new();
    let mut attempts = 1;
    loop {
        // Written ahead: no attempt goes out unaudited (a rollback excepted: nothing blocks
        // it), and one whose answer never comes leaves a trace for the next start.
        let attempt = AuditEvent::attempt(
            platform.now(),
            request.kind.verb(),
            request.expected,
            request.target,
        );
        if let Err(why) = auditor.record(attempt) {
            if request.kind != WriteKind::Rollback {
                let failure = ConfigError {
                    path: auditor.path().to_path_buf(),
                    position: None,
                    message: format!(
                        "the audit log cannot be written ({why}): nothing is written to AWS \
                         without it; name a file with --audit-log PATH"
                    ),
                };
                return (Err(failure.into()), notes);
            }
            notes.push(format!("written without its audit line: {why}"));
        }
        let result = platform
            .write_weights(request.expected, request.target, request.kind.intent())
            .await
            .map(|report| {
                notes.extend(report.notes);
                report.weights
            });
        // A rollback tried again needs no watch: a late copy of it lands where the next
        // attempt goes, and that attempt reads the weights first.
        let retry = match &result {
            Err(error) if request.kind == WriteKind::Rollback && error.is_transient() => {
                (attempts < MAX_ROLLBACK_ATTEMPTS).then(|| error.clone())
            }
            _ => None,
        };
        let result = match result {
            Err(error) if retry.is_none() && error.outcome_unknown() => {
                watch_for_late_landing(platform, &request, error, &mut notes).await
            }
            result => result,
        };
        let Some(outcome) = machine.write_finished(result, platform.now()) else {
            return (
                Err(anyhow::anyhow!("no write was in flight to finish").into()),
                notes,
            );
        };
        if let Some(error) = retry {
            let wait = crate::shift::plan::retry_delay(attempts, platform.now());
            crate::logging::say(&format!(
                "cutover: rollback attempt {attempts}/{MAX_ROLLBACK_ATTEMPTS} failed ({error}); \
                 trying again in {}s",
                wait.as_secs()
            ));
            tokio::time::sleep(wait).await;
            attempts += 1;
            match read_again(platform, machine, request, platform.now()).await {
                Again::Write(next) => {
                    request = next;
                    continue;
                }
                // At the target already (a late copy of an attempt, or another writer):
                // the rollback is done, whatever the failed attempt said.
                Again::There(weights) => {
                    notes.push(format!(
                        "found at {weights} when reading before the next attempt"
                    ));
                    let done = WriteOutcome {
                        result: Ok(weights),
                        ..outcome
                    };
                    return (Ok(done), notes);
                }
                Again::Unreadable => return (Ok(outcome), notes),
            }
        }
        match outcome.next {
            Some(next) => request = next,
            None => return (Ok(outcome), notes),
        }
    }
}

/// What reading before a rollback's next attempt found.
enum Again {
    /// The rollback again, from the weights as they are now.
    Write(WriteRequest),
    /// The weights are at the rollback's target already.
    There(Weights),
    /// Nothing to base another attempt on.
    Unreadable,
}

/// The rollback again, from the weights as they are now (compare-and-set against a fresh
/// read, never against what the failed attempt was based on).
async fn read_again(
    platform: &impl Platform,
    machine: &mut Shift,
    failed: WriteRequest,
    now: crate::domain::Timestamp,
) -> Again {
    // The write itself reads first: a read that fails here is said by the attempt.
    let Some(weights) = platform.weights().await.ok().or(machine.current()) else {
        return Again::Unreadable;
    };
    machine.observed(weights);
    let Some(baseline) = failed.target.idle_and_live().1 else {
        return Again::Unreadable;
    };
    match machine.rollback(baseline, now) {
        RollbackDecision::Write(request) => Again::Write(request),
        RollbackDecision::AlreadyThere => Again::There(weights),
        RollbackDecision::Queued | RollbackDecision::NotReadYet => Again::Unreadable,
    }
}

/// A write whose answer was lost, read back where it was based on (or not read back at all):
/// AWS may still apply it. Reads the weights every [`LATE_WRITE_POLL`] for
/// [`LATE_WRITE_WATCH`]: its target showing up is the write applied late; other weights are
/// another writer; still where they were, it was not applied. A command never exits with
/// such a write behind it unsaid.
async fn watch_for_late_landing(
    platform: &impl Platform,
    request: &WriteRequest,
    error: PlatformError,
    notes: &mut Vec<String>,
) -> Result<Weights, PlatformError> {
    crate::logging::say(&format!(
        "cutover: {error}: watching the weights for {}s in case AWS applies it late",
        LATE_WRITE_WATCH.as_secs()
    ));
    let deadline = tokio::time::Instant::now() + LATE_WRITE_WATCH;
    let mut last_read = None;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(LATE_WRITE_POLL).await;
        match platform.weights().await {
            Ok(now) if now == request.target => {
                notes.push(format!(
                    "answer lost ({error}); applied late: read back {now}"
                ));
                return Ok(now);
            }
            Ok(now) if now != request.expected => {
                return Err(PlatformError::Conflict {
                    expected: request.expected,
                    actual: now,
                });
            }
            Ok(now) => last_read = Some(now),
            Err(read_error) => {
                tracing::warn!("watching for a late write: {read_error}");
            }
        }
    }
    match (last_read, error) {
        (Some(_), PlatformError::OutcomeUnknown { target, error }) => Err(PlatformError::Api {
            operation: "writing the weights".into(),
            code: None,
            message: format!(
                "not applied: {error}; the weights stayed where they were for {}s after \
                 (not {target})",
                LATE_WRITE_WATCH.as_secs()
            ),
        }),
        (Some(_), error) => Err(error),
        (None, PlatformError::OutcomeUnknown { target, error }) => {
            Err(PlatformError::OutcomeUnknown { target, error })
        }
        (None, error) => Err(PlatformError::OutcomeUnknown {
            target: request.target,
            error: error.to_string(),
        }),
    }
}

/// How long a headless command watches for a write whose answer was lost: longer than one
/// attempt of the AWS client, so a request AWS held past it has landed or never will.
pub const LATE_WRITE_WATCH: std::time::Duration = std::time::Duration::from_secs(20);
const LATE_WRITE_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// A finished write as the command's outcome: the one judgement of [`judge`], in the words a
/// pipeline reads.
pub(super) fn said(outcome: &WriteOutcome, notes: &[String]) -> Outcome {
    let from = outcome.finished.expected;
    let suffix = joined(notes).map_or(String::new(), |n| format!("; {n}"));
    let judged = judge(&outcome.finished, &outcome.result);
    match (judged.meaning, &outcome.result) {
        (Meaning::Applied, Ok(read_back)) => {
            let verb = if outcome.finished.kind == WriteKind::Rollback {
                "rolled back "
            } else {
                ""
            };
            Outcome::Done(format!(
                "{verb}{from} → {read_back} (blue/green), read back{suffix}"
            ))
        }
        (Meaning::Applied, Err(_)) => Outcome::Done(judged.words),
        (Meaning::ChangedOutside, _) => Outcome::ChangedOutside(judged.words),
        (Meaning::Refused, _) => Outcome::Refused(judged.words),
        (Meaning::Failed, _) => Outcome::Failed(judged.words),
        (Meaning::Unknown, _) => Outcome::Unknown(format!(
            "{}: check the weights before anything else writes",
            judged.words
        )),
    }
}

/// How an attempt is audited: a call that failed is `failed`.
pub(super) fn recorded(result: &Result<Outcome, Failure>) -> Outcome {
    match result {
        Ok(outcome) => outcome.clone(),
        Err(failure) => Outcome::Failed(format!("{:#}", failure.error())),
    }
}

pub(super) fn joined(notes: &[String]) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}
