//! Reads that must not give up at the first throttle: AWS's token buckets are shared with
//! every other tool of the account, so a read that fails for a passing reason (throttling, a
//! 5xx, an endpoint that does not answer) is tried again, backing off, for a while.

use std::future::Future;
use std::time::Duration;

use crate::domain::PlatformError;

/// The first wait; each one after doubles, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(250);
const MAX_WAIT: Duration = Duration::from_secs(8);

/// Calls `call` until it succeeds, fails for a reason that will not pass by itself, or
/// `within` is over; the last error then. Each wait is said in the log ("backing off"), with
/// `what` naming the read.
pub async fn retry_transient<T, F, Fut>(
    within: Duration,
    what: &str,
    call: F,
) -> Result<T, PlatformError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PlatformError>>,
{
    retry_while(within, what, PlatformError::is_transient, call).await
}

/// [`retry_transient`] for AWS saying "not now" (throttling, a 5xx) only: an endpoint that
/// does not answer at all has had the AWS client's own attempts already, and a command's
/// first read should say so rather than wait on it again.
pub async fn retry_busy<T, F, Fut>(
    within: Duration,
    what: &str,
    call: F,
) -> Result<T, PlatformError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PlatformError>>,
{
    let busy = |e: &PlatformError| {
        matches!(
            e,
            PlatformError::Throttled { .. } | PlatformError::ServerError { .. }
        )
    };
    retry_while(within, what, busy, call).await
}

async fn retry_while<T, F, Fut>(
    within: Duration,
    what: &str,
    again: impl Fn(&PlatformError) -> bool,
    mut call: F,
) -> Result<T, PlatformError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, PlatformError>>,
{
    let deadline = tokio::time::Instant::now() + within;
    let mut attempt: u32 = 0;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let now = tokio::time::Instant::now();
        if !again(&error) || now >= deadline {
            return Err(error);
        }
        let wait = FIRST_WAIT
            .saturating_mul(1 << attempt.min(6))
            .min(MAX_WAIT)
            .min(deadline - now);
        attempt += 1;
        tracing::warn!("{what}: {error}; backing off, again in {wait:?}");
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn throttled() -> PlatformError {
        PlatformError::Throttled {
            operation: "DescribeServices".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_passing_failure_is_tried_again_until_it_passes() {
        let calls = AtomicU32::new(0);
        let result = retry_transient(Duration::from_secs(30), "reading", || async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0..=2 => Err(throttled()),
                _ => Ok("read"),
            }
        })
        .await;
        assert_eq!(result, Ok("read"));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_that_will_not_pass_is_not_tried_again_and_time_runs_out() {
        let calls = AtomicU32::new(0);
        let denied = PlatformError::Api {
            operation: "DescribeServices".into(),
            code: Some("AccessDenied".into()),
            message: "no".into(),
        };
        let result: Result<(), _> = retry_transient(Duration::from_secs(30), "reading", || {
            calls.fetch_add(1, Ordering::SeqCst);
            let denied = denied.clone();
            async move { Err(denied) }
        })
        .await;
        assert_eq!(result, Err(denied));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        let started = tokio::time::Instant::now();
        let result: Result<(), _> = retry_busy(Duration::from_secs(20), "reading", || async {
            Err(throttled())
        })
        .await;
        assert_eq!(result, Err(throttled()));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(20) && took < Duration::from_secs(21),
            "{took:?}"
        );
        // An endpoint that does not answer is no "not now": a first read says so at once.
        let unreachable = PlatformError::Unreachable {
            operation: "DescribeServices".into(),
            message: "timed out".into(),
        };
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_busy(Duration::from_secs(20), "reading", || {
            calls.fetch_add(1, Ordering::SeqCst);
            let unreachable = unreachable.clone();
            async move { Err(unreachable) }
        })
        .await;
        assert_eq!(result, Err(unreachable));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
