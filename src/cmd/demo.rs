//! `cutover demo`: the console on the embedded simulator.

use crate::platform::wall_clock;
use std::sync::Arc;
use std::time::Duration;

use super::headless::Headless;
use crate::app::Settings;
use crate::audit::Auditor;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::domain::Failure;
use crate::platform::Platform;
use crate::platform::read_only::ReadOnly;
use crate::platform::sim::CHECKOUT_ALARM;
use crate::platform::sim::{SimOptions, SimPlatform};
use crate::runtime::RuntimeConfig;
use crate::shift::plan::{OnBreach, Plan, PlanSpec};

/// The demo's settings, in simulated time: the defaults, the flags, the clock's speed, and
/// the simulated shop's own alarm in `[guard] alarms`, as an operator would list theirs.
pub fn settings(global: &GlobalArgs, speed: f64) -> Settings {
    let mut settings = Settings {
        refresh: Duration::from_secs(global.refresh),
        read_only: global.read_only,
        clock_speed: speed,
        ..Settings::default()
    };
    settings.evidence.alarms = vec![CHECKOUT_ALARM.to_string()];
    settings
}

/// The demo's plan: four steps, two simulated minutes of bake each (enough for a full minute
/// of evidence after every change), rolling back on a breach.
pub fn demo_plan() -> Plan {
    let spec = PlanSpec::Steps {
        steps: vec![10, 25, 50, 100],
        bake: Duration::from_secs(120),
    };
    Plan::new(&spec, OnBreach::Rollback).unwrap_or_else(|_| Plan {
        // The steps above are valid; even so, a demo plan is never worth a panic.
        targets: vec![100],
        bake: Duration::from_secs(120),
        on_breach: OnBreach::Rollback,
        state: crate::shift::plan::PlanState::Ready,
        toward: None,
        attempts: 0,
        failed: None,
    })
}

/// Where the demo's audit lines go: a log of their own, never a real estate's.
pub(super) fn demo_auditor(global: &GlobalArgs) -> Result<Auditor, Failure> {
    let audit_path = global
        .audit_log
        .clone()
        .unwrap_or_else(|| crate::audit::default_audit_path().with_file_name("demo-audit.jsonl"));
    Ok(Auditor::new(
        &audit_path,
        format!("{} (demo)", crate::platform::whoami::local_actor()),
        "demo: simulated listener rule".into(),
    )?
    .for_demo())
}

/// How long the simulated world runs before a headless demo command: green deployed, its
/// targets healthy, carrying nothing yet.
pub const HEADLESS_WARM_UP: Duration = Duration::from_secs(5 * 60);

/// A headless traffic command's footing on the simulator: the world warmed up, the demo's
/// plan, the demo's audit log.
pub async fn headless(
    global: &GlobalArgs,
    args: &DemoArgs,
) -> Result<Headless<SimPlatform>, Failure> {
    let platform = SimPlatform::new(SimOptions {
        scenario: args.scenario,
        speed: args.speed,
        seed: args.seed,
        start: wall_clock(),
        warm_up: HEADLESS_WARM_UP,
    });
    let observation = platform
        .observe()
        .await
        .map_err(|e| anyhow::anyhow!("reading the simulated world: {e}"))?;
    let plan = demo_plan();
    Ok(Headless {
        platform: Arc::new(platform),
        observation,
        settings: settings(global, args.speed),
        plan: Some((
            PlanSpec::Steps {
                steps: plan.targets.clone(),
                bake: plan.bake,
            },
            plan.on_breach,
        )),
        source: "the demo".into(),
        auditor: demo_auditor(global)?,
    })
}

pub async fn run(global: &GlobalArgs, args: &DemoArgs) -> Result<(), Failure> {
    let start = wall_clock();
    let platform = Arc::new(SimPlatform::new(SimOptions {
        scenario: args.scenario,
        speed: args.speed,
        seed: args.seed,
        start,
        warm_up: Duration::ZERO,
    }));
    let settings = settings(global, args.speed);
    let runtime = RuntimeConfig::for_settings(&settings);
    let auditor = demo_auditor(global)?;
    let (plan, auditor) = (Some(demo_plan()), Some(auditor));
    let record = args.record.as_deref();
    if settings.read_only {
        let watched = Arc::new(ReadOnly(platform));
        Ok(crate::terminal::run(watched, settings, runtime, plan, auditor, record).await?)
    } else {
        Ok(crate::terminal::run(platform, settings, runtime, plan, auditor, record).await?)
    }
}
