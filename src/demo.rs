//! `cutover demo`: the console on the embedded simulator.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::app::Settings;
use crate::audit::Auditor;
use crate::cli::{DemoArgs, GlobalArgs};
use crate::domain::Timestamp;
use crate::platform::sim::{SimOptions, SimPlatform};
use crate::runtime::RuntimeConfig;
use crate::shift::plan::{OnBreach, Plan, PlanSpec};

/// Settings in simulated time, and the runtime's intervals in real time: at `--speed N` the
/// pollers run N times as often, so the screen keeps pace with the simulated world.
pub fn configs(global: &GlobalArgs, speed: f64) -> (Settings, RuntimeConfig) {
    let settings = Settings {
        refresh: Duration::from_secs(global.refresh),
        read_only: global.read_only,
        clock_speed: speed,
        ..Settings::default()
    };
    let runtime = RuntimeConfig {
        refresh: settings.refresh.div_f64(speed),
        metrics_refresh: settings.metrics_refresh.div_f64(speed),
        ..RuntimeConfig::default()
    };
    (settings, runtime)
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

pub async fn run(global: &GlobalArgs, args: &DemoArgs) -> anyhow::Result<()> {
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| Timestamp(d.as_millis() as u64))
        .unwrap_or_default();
    let platform = Arc::new(SimPlatform::new(SimOptions {
        scenario: args.scenario,
        speed: args.speed,
        seed: args.seed,
        start,
        read_only: global.read_only,
    }));
    let (settings, runtime) = configs(global, args.speed);
    // The demo's writes are not a real estate's: they go to a log of their own.
    let audit_path = global
        .audit_log
        .clone()
        .unwrap_or_else(|| crate::audit::default_audit_path().with_file_name("demo-audit.jsonl"));
    let auditor = Auditor::new(
        &audit_path,
        format!("{} (demo)", crate::platform::whoami::local_actor()),
        "demo: simulated listener rule".into(),
    )?;
    crate::console::run(
        platform,
        settings,
        runtime,
        Some(demo_plan()),
        Some(auditor),
    )
    .await
}
