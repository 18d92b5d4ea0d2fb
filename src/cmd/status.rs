//! `cutover status`: one snapshot of both sides, as JSON or a compact table.

use anyhow::Context;
use serde::Serialize;

use super::aws::connect;
use crate::cli::GlobalArgs;
use crate::domain::{Color, Failure, MetricsSnapshot, Observation, SideMetrics, Timestamp};
use crate::platform::Platform;

/// Minutes of metrics summed for the snapshot.
pub const WINDOW_MINUTES: u32 = 5;

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub source: &'static str,
    /// The config file read.
    pub config: Option<String>,
    pub weights: WeightsReport,
    pub blue: SideReport,
    pub green: SideReport,
    /// `HTTPCode_ELB_5XX_Count` over the window: the load balancer's own, blamed on neither side.
    pub elb_5xx_shared: f64,
    /// Why cutover would not write here (another owner of the traffic, read-only), if so.
    pub writes_refused: Option<String>,
    /// Other listeners and rules forwarding to either group: traffic cutover does not move,
    /// counted in the per-group metrics all the same.
    pub other_routes: Vec<String>,
    /// The forward action's stickiness duration, when stickiness is on.
    pub stickiness_seconds: Option<u32>,
}

/// Percentages of the two groups, exact (`99.9`/`0.1` for ALB weights 999:1), and the ALB's
/// own weights beside them.
#[derive(Debug, Serialize)]
pub struct WeightsReport {
    pub blue: serde_json::Value,
    pub green: serde_json::Value,
    pub alb: AlbWeights,
}

#[derive(Debug, Serialize)]
pub struct AlbWeights {
    pub blue: u16,
    pub green: u16,
}

#[derive(Debug, Serialize)]
pub struct SideReport {
    pub cluster: String,
    pub service: String,
    pub task_definition: String,
    pub image: String,
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub rollout: String,
    pub targets: TargetsReport,
    pub metrics: MetricsReport,
}

#[derive(Debug, Serialize)]
pub struct TargetsReport {
    pub healthy: u32,
    pub unhealthy: u32,
    pub initial: u32,
    pub draining: u32,
}

#[derive(Debug, Serialize)]
pub struct MetricsReport {
    pub window_minutes: u32,
    /// The end of the window (RFC 3339): the newest whole minute CloudWatch published; the
    /// window is the `window_minutes` whole minutes before it.
    pub window_end: Option<String>,
    pub requests: f64,
    pub errors_5xx: f64,
    /// errors_5xx / requests; `null` without requests.
    pub error_rate: Option<f64>,
    pub latency_avg_ms: Option<f64>,
}

pub fn report(
    source: &'static str,
    observation: &Observation,
    metrics: &MetricsSnapshot,
    now: Timestamp,
) -> StatusReport {
    // Whole minutes to the newest one published, as the console counts them.
    let end = metrics.complete_until(now);
    let side = |color: Color| {
        let o = observation.side(color);
        let m: &SideMetrics = metrics.side(color);
        let window = end.map_or_else(
            || m.window(now, WINDOW_MINUTES),
            |end| m.window_to(end, WINDOW_MINUTES),
        );
        SideReport {
            cluster: o.service.cluster.clone(),
            service: o.service.service.clone(),
            task_definition: o.service.task_definition.clone(),
            image: o.service.image.clone(),
            desired: o.service.desired,
            running: o.service.running,
            pending: o.service.pending,
            rollout: o.service.rollout.to_string(),
            targets: TargetsReport {
                healthy: o.targets.healthy,
                unhealthy: o.targets.unhealthy,
                initial: o.targets.initial,
                draining: o.targets.draining,
            },
            metrics: MetricsReport {
                window_minutes: WINDOW_MINUTES,
                window_end: end.map(crate::audit::rfc3339),
                requests: window.requests,
                errors_5xx: window.errors_5xx,
                error_rate: window.error_rate,
                latency_avg_ms: window.latency_avg_ms,
            },
        }
    };
    StatusReport {
        source,
        config: None,
        weights: WeightsReport {
            blue: observation.weights.percent_json(Color::Blue),
            green: observation.weights.percent_json(Color::Green),
            alb: AlbWeights {
                blue: observation.weights.alb(Color::Blue),
                green: observation.weights.alb(Color::Green),
            },
        },
        other_routes: observation.other_routes.clone(),
        stickiness_seconds: observation.stickiness_seconds,
        blue: side(Color::Blue),
        green: side(Color::Green),
        // `+ 0.0`: the -0.0 of an empty float sum is written 0.0 in JSON too.
        elb_5xx_shared: metrics.elb_5xx_in_window(now, WINDOW_MINUTES) + 0.0,
        writes_refused: observation.writes_refused.clone(),
    }
}

/// A compact table for people.
pub fn table(report: &StatusReport) -> String {
    let mut out = report
        .config
        .as_ref()
        .map_or(String::new(), |path| format!("config   {path}\n"));
    out += &format!(
        "weights  blue {}%  green {}%  (ALB weights {}:{})\n",
        report.weights.blue,
        report.weights.green,
        report.weights.alb.blue,
        report.weights.alb.green
    );
    out.push_str(&format!(
        "{:<6} {:<22} {:<14} {:<28} {:>13} {:<11} {:>17} {:>9} {:>10}\n",
        "side",
        "service (cluster)",
        "taskdef",
        "image",
        "run/des (pend)",
        "rollout",
        "targets ok/bad/init",
        "5xx",
        "latency"
    ));
    for (name, side) in [("blue", &report.blue), ("green", &report.green)] {
        let rate = side.metrics.error_rate.map_or("–".to_string(), |r| {
            format!("{}%", crate::domain::fixed(r * 100.0, 2))
        });
        let latency = side.metrics.latency_avg_ms.map_or("–".to_string(), |l| {
            format!("{} ms", crate::domain::fixed(l, 0))
        });
        out.push_str(&format!(
            "{:<6} {:<22} {:<14} {:<28} {:>13} {:<11} {:>17} {:>9} {:>10}\n",
            name,
            format!("{} ({})", side.service, side.cluster),
            side.task_definition,
            side.image,
            format!("{}/{} ({})", side.running, side.desired, side.pending),
            side.rollout,
            format!(
                "{}/{}/{}",
                side.targets.healthy, side.targets.unhealthy, side.targets.initial
            ),
            rate,
            latency
        ));
    }
    out.push_str(&format!(
        "5xx and latency over the {WINDOW_MINUTES} whole minutes to {}; ELB 5xx (shared): {}\n",
        report
            .blue
            .metrics
            .window_end
            .as_deref()
            .map_or("now".to_string(), |end| end
                .get(11..16)
                .unwrap_or(end)
                .to_string()),
        crate::domain::fixed(report.elb_5xx_shared, 0)
    ));
    for route in &report.other_routes {
        out.push_str(&format!(
            "not moved by cutover: {route} (its requests count in the metrics above)\n"
        ));
    }
    if let Some(reason) = &report.writes_refused {
        out.push_str(&format!("watch only: {reason}\n"));
    }
    out
}

pub async fn run(global: &GlobalArgs, json: bool) -> Result<String, Failure> {
    let (platform, config, observation) = connect(global).await?;
    let metrics = platform.metrics().await.context("reading CloudWatch")?;
    let mut report = report("aws", &observation, &metrics, platform.now());
    report.config = Some(config.estate.source.display().to_string());
    tracing::info!(calls = ?platform.call_counts(), "status");
    if json {
        let mut text = serde_json::to_string_pretty(&report).context("writing JSON")?;
        text.push('\n');
        Ok(text)
    } else {
        Ok(table(&report))
    }
}
