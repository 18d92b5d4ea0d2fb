//! What the core says about one write attempt, for the audit trail; the shell adds who and
//! where, and writes it out.

use serde::Serialize;

use super::{Rejection, Timestamp, Weights};

/// What the core says about one write attempt; the shell adds who and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub at: Timestamp,
    /// `apply`, `rollback`, `promote`, `plan step`.
    pub action: String,
    pub from: Weights,
    pub to: Weights,
    /// The evidence verdict and its reason when the attempt was made.
    pub evidence: Option<String>,
    pub result: AuditResult,
    pub reason: Option<String>,
    /// On a rollback the guard made: the build it rejected. Read back from the trail when a
    /// console starts, so a rejected build is never sent traffic again without a question.
    pub rejected: Option<Rejection>,
}

impl AuditEvent {
    /// The line written ahead of a weights write: what is about to be sent.
    pub fn attempt(at: Timestamp, action: &str, from: Weights, to: Weights) -> Self {
        AuditEvent {
            at,
            action: action.to_string(),
            from,
            to,
            evidence: None,
            result: AuditResult::Attempt,
            reason: None,
            rejected: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditResult {
    /// Written and flushed before the call, so that a process that dies before the answer
    /// leaves a trace: the line with the attempt's result follows it.
    Attempt,
    Applied,
    Refused,
    Failed,
    /// The write's answer was lost and the weights could not be read back to tell: a later
    /// line (`resolved`) says what the next successful read found.
    Unknown,
}
