//! `cutover fleet` and `cutover demo fleet`: every pair and native service of a fleet in one
//! list, read on one budget; `--once` prints it for scripts.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::app::fleet::{FleetRead, FleetState, Row};
use crate::cli::{DemoArgs, FleetArgs, GlobalArgs};
use crate::domain::{Failure, Weights, fixed};
use crate::platform::aws::fleet::AwsFleet;
use crate::platform::fleet::{FleetSource, SimFleet};
use crate::platform::sim::{Scenario, SimOptions, SimPlatform};
use crate::shift::EvidenceSettings;

/// How long the new live side carries everything before the other is idle (as a console).
const ROLE_BAKE: Duration = Duration::from_secs(300);

/// The demo's day: a dozen releases, each its own simulated world.
pub fn demo_fleet(speed: f64, seed: u64) -> SimFleet {
    let start = crate::platform::wall_clock();
    let entries = [
        ("checkout", Scenario::Healthy, Some(10)),
        ("cart", Scenario::Healthy, Some(50)),
        ("search", Scenario::NativeLinear, None),
        ("payments", Scenario::BadGreen, Some(10)),
        ("profile", Scenario::Healthy, Some(0)),
        ("catalog", Scenario::SlowGreen, Some(25)),
        ("inventory", Scenario::Healthy, Some(100)),
        ("reviews", Scenario::NativeCanary, None),
        ("recommendations", Scenario::FlakyApi, Some(25)),
        ("notifications", Scenario::Healthy, Some(50)),
        ("shipping", Scenario::AlarmGreen, Some(10)),
        ("auth", Scenario::Healthy, Some(0)),
    ];
    let entries = entries
        .into_iter()
        .enumerate()
        .map(|(i, (name, scenario, green))| {
            let options = SimOptions {
                scenario,
                speed,
                seed: seed.wrapping_add(i as u64),
                start,
                // One clock for the whole day: natives wait at their first gate, pairs have
                // run their split for a few minutes.
                warm_up: Duration::from_secs(8 * 60),
            };
            let platform = match green {
                Some(green) => SimPlatform::with_split(
                    options,
                    Duration::from_secs(150 + 20 * i as u64),
                    Weights::with_green(green),
                ),
                None => SimPlatform::new(options),
            };
            // One whose data stops coming: its endpoint went away.
            if name == "notifications" {
                platform.set_offline(true);
            }
            (name.to_string(), Arc::new(platform))
        })
        .collect();
    SimFleet { entries }
}

pub async fn demo(global: &GlobalArgs, args: &DemoArgs, fleet: &FleetArgs) -> Result<(), Failure> {
    let source = Arc::new(demo_fleet(args.speed, args.seed));
    let settings = super::demo::settings(global, args.speed);
    if fleet.once {
        print!("{}", once(&*source, &settings.evidence, fleet.json).await);
        return Ok(());
    }
    Err(anyhow::anyhow!("the live fleet view is not built yet: use --once").into())
}

pub async fn aws(global: &GlobalArgs, args: &FleetArgs) -> Result<(), Failure> {
    let overrides = crate::config::AwsSettings {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let path = crate::config::locate_here(global.config.as_deref())?;
    let fleet = crate::config::fleet::load(&path, &overrides)?;
    let entries = fleet
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.estate.clone()))
        .collect();
    let source = AwsFleet::connect(entries, &fleet.aws, &fleet.source).await?;
    if args.once {
        print!("{}", once(&source, &fleet.evidence, args.json).await);
        tracing::info!("API calls for the refresh: {:?}", source.call_counts());
        return Ok(());
    }
    Err(anyhow::anyhow!("the live fleet view is not built yet: use --once").into())
}

/// One refresh of every entry: the metrics first (target health comes with them), then the
/// states.
pub async fn read<S: FleetSource>(source: &S) -> Vec<FleetRead> {
    let metrics = source.metrics().await.unwrap_or_else(|error| {
        tracing::warn!("reading the fleet's metrics: {error}");
        BTreeMap::new()
    });
    let states = source.states().await;
    let now = source.now();
    states
        .into_iter()
        .map(|(name, observation)| FleetRead {
            metrics: metrics.get(&name).cloned(),
            observation: observation.map_err(|e| e.to_string()),
            name,
            read_at: now,
        })
        .collect()
}

/// The list once, as a table or JSON.
pub async fn once<S: FleetSource>(source: &S, settings: &EvidenceSettings, json: bool) -> String {
    let reads = read(source).await;
    let mut state = FleetState::default();
    state.refreshed(&reads, settings, ROLE_BAKE, source.now());
    if json {
        let rows: Vec<serde_json::Value> = state.rows.iter().map(row_json).collect();
        return format!(
            "{}\n",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    }
    table(&state.rows)
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".into(), |r| format!("{}%", fixed(r * 100.0, 2)))
}

/// A row for people: a mark when it needs the eye, and every column as wide as its widest.
pub fn table(rows: &[Row]) -> String {
    let header = [
        "",
        "name",
        "driver",
        "phase",
        "blue/green",
        "observed",
        "5xx cand/live",
        "p99 ratio",
        "healthy",
        "lock",
        "age",
        "needs",
    ];
    let mut lines = vec![header.map(String::from).to_vec()];
    for row in rows {
        lines.push(vec![
            if row.attention.is_some() { "!" } else { " " }.to_string(),
            row.name.clone(),
            row.driver.clone(),
            row.phase.clone(),
            row.weights.map_or("?".into(), |w| w.to_string()),
            row.observed.map_or("–".into(), |o| {
                format!("{}% {}", fixed(o, 1), row.candidate.name())
            }),
            format!("{} / {}", percent(row.candidate_5xx), percent(row.live_5xx)),
            row.latency_ratio
                .map_or("–".into(), |r| format!("{}×", fixed(r, 2))),
            row.healthy.map_or("?".into(), |(b, g)| format!("{b}/{g}")),
            row.lock.clone().unwrap_or_else(|| "–".into()),
            crate::domain::format_age(row.age),
            row.attention
                .as_ref()
                .map_or(String::new(), |(a, why)| format!("{a}: {why}")),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn row_json(row: &Row) -> serde_json::Value {
    serde_json::json!({
        "name": row.name,
        "needs": row.attention.as_ref().map(|(a, _)| a.to_string()),
        "why": row.attention.as_ref().map(|(_, why)| why.clone()),
        "driver": row.driver,
        "phase": row.phase,
        "weights": row.weights.map(|w| serde_json::json!({
            "blue": w.percent_json(crate::domain::Color::Blue),
            "green": w.percent_json(crate::domain::Color::Green),
        })),
        "candidate": row.candidate.name(),
        "observed_percent": row.observed,
        "verdict": row.verdict.map(|v| v.to_string()),
        "candidate_5xx_rate": row.candidate_5xx,
        "live_5xx_rate": row.live_5xx,
        "p99_ratio": row.latency_ratio,
        "healthy": row.healthy.map(|(b, g)| serde_json::json!({"blue": b, "green": g})),
        "lock": row.lock,
        "age_seconds": row.age.as_secs(),
    })
}
