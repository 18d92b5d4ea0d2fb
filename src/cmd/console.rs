//! `cutover` with no command: the console on AWS.

use crate::domain::Failure;
use std::sync::Arc;

use super::aws::{auditor, connect};
use crate::app::Settings;
use crate::cli::GlobalArgs;
use crate::platform::Platform;
use crate::runtime::RuntimeConfig;
use crate::shift::plan::Plan;

pub async fn run(global: &GlobalArgs) -> Result<(), Failure> {
    let (platform, config, _) = connect(global).await?;
    let platform = Arc::new(platform);
    let settings = Settings {
        refresh: std::time::Duration::from_secs(global.refresh),
        guard: config.guard,
        evidence: config.evidence,
        read_only: global.read_only || config.read_only,
        role_bake: config.role_bake,
        scale_down_after_bake: config.scale_down_after_bake,
        ..Settings::default()
    };
    let plan = match &config.plan {
        Some((spec, on_breach)) => Some(Plan::new(spec, *on_breach)?),
        None => None,
    };
    let runtime = RuntimeConfig {
        refresh: settings.refresh,
        metrics_refresh: settings.metrics_refresh,
        ..RuntimeConfig::default()
    };
    let started = std::time::Instant::now();
    let auditor = auditor(global, &platform).await?;
    let result = crate::terminal::run(
        Arc::clone(&platform),
        settings,
        runtime,
        plan,
        Some(auditor),
    )
    .await;
    platform.release_lock().await;
    tracing::info!(
        seconds = started.elapsed().as_secs(),
        calls = ?platform.call_counts(),
        "AWS calls made while the console ran"
    );
    Ok(result?)
}
