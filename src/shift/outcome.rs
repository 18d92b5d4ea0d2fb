//! What a finished weights write means: decided here once, for the console, every headless
//! command and `plan run`. The audit result, the words the operator reads and the way a
//! command ends all come from this one judgement, so they cannot disagree.

use crate::domain::{AuditResult, LogLevel, PlatformError, Weights};

use super::machine::WriteRequest;

/// What a write did, as far as anyone can know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// Read back at its target.
    Applied,
    /// Not written, on purpose: read-only, another owner, the lock, nothing to do.
    Refused,
    /// The weights were not what the write was based on, or became something else: another
    /// writer.
    ChangedOutside,
    /// Not applied: AWS refused it, or it failed and the weights read back unchanged.
    Failed,
    /// The answer was lost and nothing could be read back to tell: neither applied nor not
    /// applied is known until a later read.
    Unknown,
}

/// One write's judgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    pub meaning: Meaning,
    pub audit: AuditResult,
    /// Why, for the audit line (none for a plain applied write).
    pub reason: Option<String>,
    /// What the operator reads: `apply failed: …`, `rollback: read back 100/0`.
    pub words: String,
    pub level: LogLevel,
}

/// What `result` means for the write `finished`.
pub fn judge(finished: &WriteRequest, result: &Result<Weights, PlatformError>) -> Judgement {
    let verb = finished.kind.verb();
    let judgement = |meaning, audit, reason: Option<String>, words, level| Judgement {
        meaning,
        audit,
        reason,
        words,
        level,
    };
    // Read back elsewhere than written is the platform's ReadBackMismatch, whichever way it
    // was reported: one arm judges both.
    let elsewhere;
    let result = match result {
        Ok(read_back) if *read_back != finished.target => {
            elsewhere = Err(PlatformError::ReadBackMismatch {
                written: finished.target,
                read_back: *read_back,
            });
            &elsewhere
        }
        result => result,
    };
    match result {
        Ok(read_back) => judgement(
            Meaning::Applied,
            AuditResult::Applied,
            None,
            format!("{verb}: read back {read_back}"),
            LogLevel::Info,
        ),
        Err(error @ PlatformError::ReadBackMismatch { read_back, .. }) => judgement(
            Meaning::ChangedOutside,
            AuditResult::Failed,
            Some(format!("read back {read_back}: changed outside cutover")),
            format!("{verb}: {error}: changed outside cutover"),
            LogLevel::Error,
        ),
        Err(error @ PlatformError::Conflict { .. }) => judgement(
            Meaning::ChangedOutside,
            AuditResult::Refused,
            Some(error.to_string()),
            format!("{verb} failed: {error}"),
            LogLevel::Warn,
        ),
        Err(error @ (PlatformError::Locked { .. } | PlatformError::Refused { .. })) => {
            let meaning = if matches!(error, PlatformError::Locked { .. }) {
                Meaning::ChangedOutside
            } else {
                Meaning::Refused
            };
            judgement(
                meaning,
                AuditResult::Refused,
                Some(error.to_string()),
                format!("{verb} failed: {error}"),
                LogLevel::Error,
            )
        }
        Err(error @ PlatformError::OutcomeUnknown { .. }) => judgement(
            Meaning::Unknown,
            AuditResult::Unknown,
            Some(error.to_string()),
            format!("{verb}: {error}"),
            LogLevel::Error,
        ),
        Err(error) => judgement(
            Meaning::Failed,
            AuditResult::Failed,
            Some(error.to_string()),
            format!("{verb} failed: {error}"),
            LogLevel::Error,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::shift::WriteKind;

    fn request(kind: WriteKind) -> WriteRequest {
        WriteRequest {
            kind,
            expected: Weights::with_green(50),
            target: Weights::with_green(60),
            started: Timestamp(0),
        }
    }

    #[test]
    fn every_kind_of_ending_has_one_meaning_and_one_audit_result() {
        let apply = request(WriteKind::Apply);
        let cases: Vec<(Result<Weights, PlatformError>, Meaning, AuditResult)> = vec![
            (
                Ok(Weights::with_green(60)),
                Meaning::Applied,
                AuditResult::Applied,
            ),
            (
                Ok(Weights::with_green(70)),
                Meaning::ChangedOutside,
                AuditResult::Failed,
            ),
            (
                Err(PlatformError::Conflict {
                    expected: Weights::with_green(50),
                    actual: Weights::with_green(40),
                }),
                Meaning::ChangedOutside,
                AuditResult::Refused,
            ),
            (
                Err(PlatformError::Refused {
                    reason: "read-only".into(),
                }),
                Meaning::Refused,
                AuditResult::Refused,
            ),
            (
                Err(PlatformError::Throttled {
                    operation: "ModifyRule".into(),
                }),
                Meaning::Failed,
                AuditResult::Failed,
            ),
            (
                Err(PlatformError::OutcomeUnknown {
                    target: Weights::with_green(60),
                    error: "timed out".into(),
                }),
                Meaning::Unknown,
                AuditResult::Unknown,
            ),
        ];
        for (result, meaning, audit) in cases {
            let judged = judge(&apply, &result);
            assert_eq!(
                (judged.meaning, judged.audit),
                (meaning, audit),
                "{result:?}"
            );
            assert!(judged.words.starts_with("apply"), "{}", judged.words);
        }
    }

    #[test]
    fn an_unknown_outcome_is_never_called_failed() {
        let judged = judge(
            &request(WriteKind::Rollback),
            &Err(PlatformError::OutcomeUnknown {
                target: Weights::with_green(0),
                error: "ModifyRule: endpoint unreachable: timed out".into(),
            }),
        );
        assert!(!judged.words.contains("failed"), "{}", judged.words);
        assert!(judged.words.contains("outcome unknown"), "{}", judged.words);
    }
}
