//! `scale-idle --to N`, on AWS: the idle side only.

use super::aws::connect;
use super::deploy::idle_side_busy;
use super::headless::{Outcome, not_done, record_noted};
use crate::cli::GlobalArgs;
use crate::domain::{Color, Failure, PlatformError};
use crate::platform::Platform;

/// `scale-idle --to N`.
pub async fn scale_idle(global: &GlobalArgs, desired: u32) -> Result<Outcome, Failure> {
    let (platform, config, observation) = connect(global).await?;
    let mut auditor = super::aws::auditor(global, &platform).await?;
    let weights = observation.weights;
    let fewer = Color::BOTH
        .iter()
        .any(|c| weights.share(*c) == 0 && desired < observation.side(*c).service.desired);
    let refusal = if let Some(reason) = &observation.writes_refused {
        Some(reason.clone())
    } else if fewer {
        idle_side_busy(
            &platform,
            &observation,
            config.role_bake,
            "scaling it down would stop",
        )
        .await
    } else {
        None
    };
    let result = match refusal {
        Some(reason) => Err(PlatformError::Refused { reason }),
        None => platform.scale_idle(desired).await,
    };
    platform.release_lock().await;
    let report = match result {
        Ok(report) => report,
        Err(error) => {
            let attempt = ("scale idle", "scaled", weights);
            return not_done(
                &mut auditor,
                &platform,
                attempt,
                error,
                "scaling the idle side",
            );
        }
    };
    let outcome = Outcome::Done(report.summary());
    record_noted(
        &mut auditor,
        &platform,
        ("scale idle", weights, weights),
        None,
        &outcome,
        Some(report.change_text(Some(&observation))),
    );
    Ok(outcome)
}
