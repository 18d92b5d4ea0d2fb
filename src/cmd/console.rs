//! `cutover` with no command: the console on AWS.

use std::sync::Arc;
use std::time::Duration;

use super::aws::{auditor, connect};
use crate::cli::GlobalArgs;
use crate::domain::Failure;
use crate::platform::Platform;
use crate::platform::read_only::ReadOnly;
use crate::runtime::RuntimeConfig;
use crate::shift::plan::Plan;

pub async fn run(global: &GlobalArgs, record: Option<&std::path::Path>) -> Result<(), Failure> {
    let (platform, config, _) = connect(global).await?;
    let platform = Arc::new(platform);
    let settings = config.settings(Duration::from_secs(global.refresh), global.read_only);
    let plan = match &config.plan {
        Some((spec, on_breach)) => Some(Plan::new(spec, *on_breach)?),
        None => None,
    };
    let runtime = RuntimeConfig::for_settings(&settings);
    let started = std::time::Instant::now();
    let auditor = auditor(global, &platform).await?;
    let auditor = Some(auditor);
    let result = if settings.read_only {
        let watched = Arc::new(ReadOnly(Arc::clone(&platform)));
        crate::terminal::run(watched, settings, runtime, plan, auditor, record).await
    } else {
        crate::terminal::run(
            Arc::clone(&platform),
            settings,
            runtime,
            plan,
            auditor,
            record,
        )
        .await
    };
    if platform.release_lock().await {
        crate::logging::say("cutover: the lock on the listener or rule is given back");
    }
    tracing::info!(
        seconds = started.elapsed().as_secs(),
        calls = ?platform.call_counts(),
        "AWS calls made while the console ran"
    );
    Ok(result?)
}
