//! What failed when talking to the platform, in words every layer shares.

use super::Weights;

/// What failed when talking to the platform. Cloneable text, so it can travel in a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("{operation}: throttled, backing off")]
    Throttled { operation: String },
    /// AWS (or the platform) said no: `code` is AWS's error code where it gave one
    /// (`AccessDenied`, `ClusterNotFoundException`).
    #[error("{operation}: {}", api_text(code.as_deref(), message))]
    Api {
        operation: String,
        code: Option<String>,
        message: String,
    },
    #[error("{operation}: endpoint unreachable: {message}")]
    Unreachable { operation: String, message: String },
    /// AWS answered with a server error (HTTP 5xx): it passes by itself, and a write may have
    /// been applied all the same.
    #[error("{operation}: AWS had an internal error: {message}")]
    ServerError { operation: String, message: String },
    /// Compare-and-set found weights other than the ones the write was based on.
    #[error("changed outside cutover: {expected} → {actual}; nothing written")]
    Conflict { expected: Weights, actual: Weights },
    /// Another operator holds the lock on the listener or rule.
    #[error("locked by {holder}: wait for it, or take it over with --break-lock")]
    Locked { holder: String },
    /// The platform will not write: read-only mode, or another owner of the traffic.
    #[error("not written: {reason}")]
    Refused { reason: String },
    #[error("wrote {written} but read back {read_back}")]
    ReadBackMismatch {
        written: Weights,
        read_back: Weights,
    },
    /// A write failed in a way that may have applied it (its answer lost), and the weights
    /// could not be read back to tell: neither applied nor not applied is known yet. The next
    /// read that succeeds resolves it.
    #[error(
        "outcome unknown: {error}; the weights could not be read back to tell whether {target} was applied"
    )]
    OutcomeUnknown { target: Weights, error: String },
}

impl PlatformError {
    /// Throttling, server errors and unreachable endpoints pass by themselves; the rest
    /// (AccessDenied, not found, validation, a lock, a conflict) needs a look.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PlatformError::Throttled { .. }
                | PlatformError::Unreachable { .. }
                | PlatformError::ServerError { .. }
                | PlatformError::OutcomeUnknown { .. }
        )
    }

    /// AWS answered the request with a refusal of its own (throttling, an error code in a 4xx
    /// answer): the request was not carried out. A lost answer, a 5xx or an answer that does
    /// not parse (no code) prove nothing.
    pub fn refused_by_aws(&self) -> bool {
        matches!(
            self,
            PlatformError::Throttled { .. } | PlatformError::Api { code: Some(_), .. }
        )
    }

    /// AWS's error code (`ClusterNotFoundException`, `AccessDenied`), where AWS gave one.
    pub fn aws_code(&self) -> Option<&str> {
        match self {
            PlatformError::Api { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// A write that failed like this may have been applied all the same, or may still be: the
    /// answer was lost (a timeout, a dropped connection, a server error after the change), or
    /// the read-back that would have told could not be made. AWS can apply a request after the
    /// client gave up on it, so such a write is watched for a while.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            PlatformError::Unreachable { .. }
                | PlatformError::ServerError { .. }
                | PlatformError::OutcomeUnknown { .. }
        )
    }
}

/// `AccessDenied: not authorized …`, or the message alone without a code, or the code alone
/// without a message.
fn api_text(code: Option<&str>, message: &str) -> String {
    match (code, message.is_empty()) {
        (Some(code), true) => code.to_string(),
        (Some(code), false) => format!("{code}: {message}"),
        (None, _) => message.to_string(),
    }
}
