//! A command's footing on AWS: the config read (flags override it), the clients built, the
//! preflight run, the audit log opened.

use std::sync::Arc;
use std::time::Duration;

use super::headless::Headless;
use crate::audit::Auditor;
use crate::cli::GlobalArgs;
use crate::config;
use crate::domain::{Failure, Observation};
use crate::platform::Platform;
use crate::platform::aws::AwsPlatform;

/// Reads the config (flags override it), builds the clients and runs the preflight checks;
/// returns the platform, the config and what the preflight read.
pub async fn connect(
    global: &GlobalArgs,
) -> Result<(AwsPlatform, config::Config, Observation), Failure> {
    let overrides = super::aws_overrides(global);
    let path = config::locate_here(global.config.as_deref())?;
    let config = config::load(&path, &overrides)?;
    let platform = AwsPlatform::connect(config.estate.clone(), global.break_lock).await?;
    let mut observation = platform.preflight().await.map_err(explain)?;
    // Read-only, for the commands that write to AWS directly (deploy, scale, adopt); the
    // others run on `ReadOnly`, which says the same.
    if global.read_only || config.read_only {
        observation.writes_refused = Some(crate::domain::READ_ONLY_REASON.into());
    }
    Ok((platform, config, observation))
}

/// Adds the fix to a failure whose cause an operator may not recognise: the SDK says only
/// that it found no credentials. (A hint on the message; the exit code is the failure's.)
fn explain(failure: Failure) -> Failure {
    let text = format!("{:#}", failure.error());
    if text.contains("credentials") || text.contains("Credentials") {
        failure.context(
            "no usable AWS credentials: set AWS_PROFILE or --profile, run `aws sso login`, or \
             export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        )
    } else {
        failure
    }
}

/// A headless traffic command's footing on AWS: the platform after its preflight, the
/// config's settings and the audit log.
pub async fn headless(global: &GlobalArgs) -> Result<Headless<AwsPlatform>, Failure> {
    let (platform, config, observation) = connect(global).await?;
    let auditor = auditor(global, &platform).await?;
    Ok(Headless {
        platform: Arc::new(platform),
        observation,
        settings: config.settings(Duration::from_secs(global.refresh), global.read_only),
        plan: config.plan.clone(),
        source: config.estate.source.clone(),
        auditor,
    })
}

/// The audit log for this listener or rule, naming the caller AWS knows.
pub async fn auditor(global: &GlobalArgs, platform: &AwsPlatform) -> Result<Auditor, Failure> {
    let path = global
        .audit_log
        .clone()
        .unwrap_or_else(crate::audit::default_audit_path);
    let mut auditor = Auditor::new(
        &path,
        platform.actor().await,
        platform.estate().traffic.arn().to_string(),
    )?;
    // A process that ended between a write and its answer (a crash, kill -9) left an attempt
    // with no result: the weights read now say what became of it, before anything else writes.
    if let Some(attempt) = auditor.unanswered_attempt() {
        match platform.weights().await {
            Ok(now) => {
                let words = auditor.resolve_unanswered(&attempt, now, platform.now());
                tracing::warn!("{words}");
                eprintln!("cutover: {words}");
            }
            Err(error) => {
                tracing::warn!(
                    "an earlier attempt has no result, and reading the weights failed: {error}"
                );
            }
        }
    }
    Ok(auditor)
}
