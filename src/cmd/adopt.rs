//! `adopt [--wait]`, on AWS: the live side takes the idle side's revision.

use super::aws::connect;
use super::deploy::wait_for_rollout;
use super::headless::{Outcome, not_done, record_noted};
use crate::cli::GlobalArgs;
use crate::domain::{Failure, PlatformError, revision_warning};
use crate::platform::Platform;

/// `adopt [--wait]`: the live side takes the idle side's revision.
pub async fn adopt(
    global: &GlobalArgs,
    wait: Option<std::time::Duration>,
    force: bool,
) -> Result<Outcome, Failure> {
    let (platform, _, observation) = connect(global).await?;
    let mut auditor = super::aws::auditor(global, &platform).await?;
    let weights = observation.weights;
    // The live side taking an older build, or one the guard rejected, needs --force, as the
    // console asks first.
    let build_warning = match weights.idle_and_live() {
        (Some(idle), Some(live)) => revision_warning(
            &observation.side(idle).service,
            &observation.side(live).service,
            &auditor.rejections(),
        ),
        _ => None,
    };
    let result = match (&observation.writes_refused, build_warning) {
        (Some(reason), _) => Err(PlatformError::Refused {
            reason: reason.clone(),
        }),
        (None, Some(warning)) if !force => Err(PlatformError::Refused {
            reason: format!("{warning}; pass --force to adopt it all the same"),
        }),
        (None, _) => platform.adopt().await,
    };
    platform.release_lock().await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            let attempt = ("adopt", "adopted", weights);
            return not_done(&mut auditor, &platform, attempt, error, "adopting");
        }
    };
    let summary = format!(
        "{} rolls from {} to {}",
        report.idle, report.from, report.to
    );
    record_noted(
        &mut auditor,
        &platform,
        ("adopt", weights, weights),
        None,
        &Outcome::Done(summary.clone()),
        Some(report.adopt_text(Some(&observation))),
    );
    match wait {
        None => Ok(Outcome::Done(format!(
            "{summary} (--wait waits for the rollout)"
        ))),
        Some(timeout) => {
            let waited = (&platform, &mut auditor);
            wait_for_rollout(
                global,
                waited,
                ("adopt", &report),
                timeout,
                &summary,
                "steady",
            )
            .await
        }
    }
}
