//! SDK errors as `PlatformError`s: throttling and unreachable endpoints are transient, the rest
//! carries AWS's code and message.

use aws_sdk_ecs::config::http::HttpResponse;
use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::platform::PlatformError;

const THROTTLING_CODES: [&str; 5] = [
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
];

pub fn from_sdk<E>(operation: &str, error: SdkError<E, HttpResponse>) -> PlatformError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    tracing::debug!(operation, "{}", DisplayErrorContext(&error));
    let code = error.code().map(str::to_string);
    let message = error.message().map(str::to_string);
    match &error {
        SdkError::TimeoutError(_) => PlatformError::Unreachable {
            operation: operation.into(),
            message: "timed out".into(),
        },
        SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
            PlatformError::Unreachable {
                operation: operation.into(),
                message: causes(&error),
            }
        }
        _ if code
            .as_deref()
            .is_some_and(|c| THROTTLING_CODES.contains(&c)) =>
        {
            PlatformError::Throttled {
                operation: operation.into(),
            }
        }
        _ if error
            .raw_response()
            .is_some_and(|raw| raw.status().is_server_error()) =>
        {
            PlatformError::ServerError {
                operation: operation.into(),
                message: match (code, message) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => code,
                    (None, message) => message.unwrap_or_else(|| causes(&error)),
                },
            }
        }
        _ => PlatformError::Api {
            operation: operation.into(),
            message: match (&code, message) {
                (_, Some(message)) => message,
                (Some(_), None) => String::new(),
                (None, None) => match error.raw_response() {
                    Some(raw) => format!("HTTP {} without an AWS error", raw.status().as_u16()),
                    None => causes(&error),
                },
            },
            code,
        },
    }
}

/// The messages of an error and its sources, joined: the SDK's own Display of a dispatch
/// failure says little ("dispatch failure"), the sources say what failed ("no credentials").
fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
