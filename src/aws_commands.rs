//! The commands that work on AWS: the console and `status`.

use std::sync::Arc;

use anyhow::Context;

use crate::app::Settings;
use crate::audit::Auditor;
use crate::cli::GlobalArgs;
use crate::config::{self, AwsSettings};
use crate::domain::Observation;
use crate::platform::Platform;
use crate::platform::aws::AwsPlatform;
use crate::runtime::RuntimeConfig;
use crate::shift::plan::Plan;
use crate::status;

/// Reads the config (flags override it), builds the clients and runs the preflight checks;
/// returns the platform, the config and what the preflight read.
pub async fn connect(
    global: &GlobalArgs,
) -> anyhow::Result<(AwsPlatform, config::Config, Observation)> {
    let overrides = AwsSettings {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let config = config::load(&global.config, &overrides)?;
    let read_only = global.read_only || config.read_only;
    let platform =
        AwsPlatform::connect(config.estate.clone(), read_only, global.break_lock).await?;
    let observation = platform.preflight().await.map_err(explain)?;
    Ok((platform, config, observation))
}

/// Adds the fix to errors whose cause an operator may not recognise.
fn explain(error: anyhow::Error) -> anyhow::Error {
    let text = format!("{error:#}");
    if text.contains("credentials") || text.contains("Credentials") {
        error.context(
            "no usable AWS credentials: set AWS_PROFILE or --profile, run `aws sso login`, or \
             export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    } else {
        error
    }
}

/// A headless traffic command's footing on AWS: the platform after its preflight, the
/// config's settings and the audit log.
pub async fn headless(
    global: &GlobalArgs,
) -> anyhow::Result<crate::headless::Headless<AwsPlatform>> {
    let (platform, config, observation) = connect(global).await?;
    let auditor = auditor(global, &platform).await?;
    Ok(crate::headless::Headless {
        platform: Arc::new(platform),
        observation,
        settings: crate::headless::HeadlessSettings {
            guard: config.guard,
            evidence: config.evidence,
            role_bake: config.role_bake,
            refresh: std::time::Duration::from_secs(global.refresh),
            clock_speed: 1.0,
            plan: config.plan.clone(),
            source: config.estate.source.clone(),
        },
        auditor,
    })
}

/// The audit log for this listener or rule, naming the caller AWS knows.
pub async fn auditor(global: &GlobalArgs, platform: &AwsPlatform) -> anyhow::Result<Auditor> {
    let path = global
        .audit_log
        .clone()
        .unwrap_or_else(crate::audit::default_audit_path);
    Auditor::new(
        &path,
        platform.actor().await,
        platform.estate().traffic.arn().to_string(),
    )
}

pub async fn status(global: &GlobalArgs, json: bool) -> anyhow::Result<String> {
    let (platform, _, observation) = connect(global).await?;
    let metrics = platform.metrics().await.context("reading CloudWatch")?;
    let report = status::report("aws", &observation, &metrics, platform.now());
    tracing::info!(calls = ?platform.call_counts(), "status");
    if json {
        serde_json::to_string_pretty(&report)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .context("writing JSON")
    } else {
        Ok(status::table(&report))
    }
}

pub async fn console(global: &GlobalArgs) -> anyhow::Result<()> {
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
    let result = crate::console::run(
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
    result
}
