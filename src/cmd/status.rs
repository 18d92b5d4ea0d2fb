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
    pub elb_5xx_shared: u64,
    /// Why cutover would not write here (another owner of the traffic, read-only), if so.
    pub writes_refused: Option<String>,
    /// Other listeners and rules forwarding to either group: traffic cutover does not move,
    /// counted in the per-group metrics all the same.
    pub other_routes: Vec<String>,
    /// The forward action's stickiness duration, when stickiness is on.
    pub stickiness_seconds: Option<u32>,
    /// The guard's verdict on the candidate against the live side, and why.
    pub verdict: VerdictReport,
    /// Another operator's live lock on the weights (`alice@laptop pid 4242 until 10:15:00
    /// UTC`): writes from here would be refused.
    pub lock: Option<String>,
    /// Who moves the traffic: `weighted-pair` (cutover) or `ecs-native` (ECS, with its
    /// deployment).
    pub driver: DriverReport,
}

#[derive(Debug, Serialize)]
pub struct DriverReport {
    pub kind: &'static str,
    /// ECS-native: the service, its strategy, its gate and its newest deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native: Option<NativeReport>,
}

#[derive(Debug, Serialize)]
pub struct NativeReport {
    pub service: String,
    /// `LINEAR 20%`, `CANARY 10%`, `BLUE_GREEN`.
    pub strategy: String,
    /// A PAUSE hook waits at PRE_PRODUCTION_TRAFFIC_SHIFT: each step is the operator's.
    pub gated: bool,
    /// The side of the new revision: `blue` or `green`.
    pub candidate: Option<String>,
    pub deployment: Option<DeploymentReport>,
    /// The new revision's share: as ECS asked for it, as the rule holds it, as the requests
    /// of the newest whole minute show it.
    pub requested_weight: Option<f64>,
    pub actual_weight: f64,
    pub observed_weight: Option<f64>,
    /// The deployments before it, newest first.
    pub history: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct DeploymentReport {
    pub arn: String,
    pub status: String,
    pub stage: Option<String>,
    pub stages_left: Vec<&'static str>,
    pub hook: Option<HookReport>,
    pub source_revision: Option<String>,
    pub target_revision: Option<String>,
    pub status_reason: Option<String>,
    pub rollback_reason: Option<String>,
    /// ECS's own rollback monitors: its alarms and its circuit breaker, as it reports them.
    pub alarms: Option<String>,
    pub circuit_breaker: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct HookReport {
    pub id: String,
    pub awaiting: bool,
    pub expires_at: Option<String>,
    /// `CONTINUE` (an absent operator approves) or `ROLLBACK`.
    pub timeout_action: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct VerdictReport {
    /// `ok`, `insufficient`, `worse` or `stale`.
    pub verdict: String,
    pub reason: String,
    /// The side judged: `blue` or `green`.
    pub candidate: String,
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
    /// `live`, `candidate`, `rollback target` or `idle` (see the console's panels).
    pub role: String,
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
    /// Counts: CloudWatch sums them as floats, they are whole numbers.
    pub requests: u64,
    pub errors_5xx: u64,
    /// errors_5xx / requests; `null` without requests.
    pub error_rate: Option<f64>,
    pub latency_avg_ms: Option<f64>,
}

/// A count CloudWatch summed as a float, as the whole number it is.
fn count(sum: f64) -> u64 {
    if sum.is_finite() && sum > 0.0 {
        sum.round() as u64
    } else {
        0
    }
}

pub fn report(
    source: &'static str,
    observation: &Observation,
    metrics: &MetricsSnapshot,
    now: Timestamp,
    settings: &crate::app::Settings,
) -> StatusReport {
    // Whole minutes to the newest one published, as the console counts them.
    let end = metrics.complete_until(now);
    let weights = observation.weights;
    let native = observation.driver.native();
    // A service that deploys itself says which revision is new.
    let baseline = match native.and_then(|n| n.running_candidate()) {
        Some(candidate) => candidate.other(),
        None => crate::shift::roles::baseline(weights, Some(metrics), settings.role_bake),
    };
    let candidate = baseline.other();
    let judged = crate::shift::evidence(
        metrics,
        Some(observation),
        candidate,
        None,
        now,
        &settings.evidence,
    );
    let side = |color: Color| {
        let o = observation.side(color);
        let m: &SideMetrics = metrics.side(color);
        let window = end.map_or_else(
            || m.window(now, WINDOW_MINUTES),
            |end| m.window_to(end, WINDOW_MINUTES),
        );
        SideReport {
            role: crate::shift::roles::role(color, weights, baseline).to_string(),
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
                requests: count(window.requests),
                errors_5xx: count(window.errors_5xx),
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
        // Over the sides' window: counts side by side must be of the same minutes.
        elb_5xx_shared: count(end.map_or_else(
            || metrics.elb_5xx_in_window(now, WINDOW_MINUTES),
            |end| metrics.elb_5xx_to(end, WINDOW_MINUTES),
        )),
        writes_refused: observation.writes_refused.clone(),
        verdict: VerdictReport {
            verdict: judged.verdict.to_string(),
            reason: judged.reason.clone(),
            candidate: candidate.name().to_string(),
        },
        lock: observation.lock_holder.clone(),
        driver: DriverReport {
            kind: if native.is_some() {
                "ecs-native"
            } else {
                "weighted-pair"
            },
            native: native.map(|n| native_report(n, weights, metrics, now)),
        },
    }
}

fn native_report(
    native: &crate::domain::NativeService,
    weights: crate::domain::Weights,
    metrics: &MetricsSnapshot,
    now: Timestamp,
) -> NativeReport {
    let candidate = native.candidate.unwrap_or(Color::Green);
    let observed = metrics.complete_until(now).and_then(|end| {
        let count = |color: Color| {
            metrics
                .side(color)
                .buckets
                .iter()
                .find(|b| b.start.plus(std::time::Duration::from_secs(60)) == end)
                .map_or(0.0, |b| b.requests)
        };
        let (mine, all) = (count(candidate), count(Color::Blue) + count(Color::Green));
        (all > 0.0).then(|| (mine / all * 1000.0).round() / 10.0)
    });
    let deployment = native.deployment.as_ref().map(|d| DeploymentReport {
        arn: d.arn.clone(),
        status: d.status.clone(),
        stage: d.stage_name.clone(),
        stages_left: d.stages_left().iter().map(|s| s.name()).collect(),
        hook: d.gate.as_ref().map(|g| HookReport {
            id: g.hook_id.clone(),
            awaiting: g.awaiting && d.in_progress(),
            expires_at: g.expires_at.map(crate::audit::rfc3339),
            timeout_action: g.on_timeout.map(|a| match a {
                crate::domain::GateAction::Continue => "CONTINUE",
                crate::domain::GateAction::Rollback => "ROLLBACK",
            }),
        }),
        source_revision: d.source_revision.clone(),
        target_revision: d.target_revision.clone(),
        status_reason: d.status_reason.clone(),
        rollback_reason: d.rollback_reason.clone(),
        alarms: d.alarms.clone(),
        circuit_breaker: d.circuit_breaker.clone(),
    });
    NativeReport {
        service: native.name.clone(),
        strategy: native.strategy.to_string(),
        gated: native.gated,
        candidate: native.candidate.map(|c| c.name().to_string()),
        requested_weight: native.running().and_then(|d| d.requested_weight),
        actual_weight: f64::from(weights.permille(candidate)) / 10.0,
        observed_weight: observed,
        deployment,
        history: native.history.clone(),
    }
}

/// Rows as text columns, each as wide as its widest cell, two spaces apart; a column marked
/// in `right` is right-aligned (numbers), the others left.
pub(super) fn aligned(rows: &[Vec<String>], right: &[bool]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (cell, &width))| {
                if right.get(c).copied().unwrap_or(false) {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A compact table for people: columns as wide as what they hold.
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
    if let Some(native) = &report.driver.native {
        let at = native
            .deployment
            .as_ref()
            .map_or("no deployment yet".to_string(), |d| {
                let gate = d
                    .hook
                    .as_ref()
                    .filter(|h| h.awaiting)
                    .map_or(String::new(), |h| {
                        format!(
                            " · GATE {} waits (until {}, then {})",
                            h.id,
                            h.expires_at.as_deref().unwrap_or("?"),
                            h.timeout_action.unwrap_or("?")
                        )
                    });
                format!("{} {}{gate}", d.status, d.stage.as_deref().unwrap_or(""))
            });
        out += &format!(
            "driver   ECS {} on {} ({}): {at}\n",
            native.strategy,
            native.service,
            if native.gated {
                "gated"
            } else {
                "no PAUSE gate"
            }
        );
    }
    let header = [
        "side",
        "role",
        "service (cluster)",
        "taskdef",
        "image",
        "run/des (pend)",
        "rollout",
        "targets ok/bad/init",
        "5xx",
        "latency",
    ];
    let mut rows = vec![header.map(String::from).to_vec()];
    for (name, side) in [("blue", &report.blue), ("green", &report.green)] {
        let rate = side.metrics.error_rate.map_or("–".to_string(), |r| {
            format!("{}%", crate::domain::fixed(r * 100.0, 2))
        });
        let latency = side.metrics.latency_avg_ms.map_or("–".to_string(), |l| {
            format!("{} ms", crate::domain::fixed(l, 0))
        });
        rows.push(vec![
            name.to_string(),
            side.role.clone(),
            format!("{} ({})", side.service, side.cluster),
            side.task_definition.clone(),
            side.image.clone(),
            format!("{}/{} ({})", side.running, side.desired, side.pending),
            side.rollout.clone(),
            format!(
                "{}/{}/{}",
                side.targets.healthy, side.targets.unhealthy, side.targets.initial
            ),
            rate,
            latency,
        ]);
    }
    // Numbers right-aligned, words left.
    let right = [
        false, false, false, false, false, true, false, true, true, true,
    ];
    out += &aligned(&rows, &right);
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
        report.elb_5xx_shared
    ));
    out.push_str(&format!(
        "verdict  {} on {}: {}\n",
        report.verdict.verdict.to_uppercase(),
        report.verdict.candidate,
        report.verdict.reason
    ));
    if let Some(holder) = &report.lock {
        out.push_str(&format!(
            "LOCKED by {holder}: writes from here are refused until it ends (--break-lock takes it)\n"
        ));
    }
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
    // A fleet file: every row, on the fleet's budget.
    let path = crate::config::locate_here(global.config.as_deref())?;
    if std::fs::read_to_string(&path).is_ok_and(|text| crate::config::fleet::is_fleet(&text)) {
        return super::fleet::rows_once(global, json).await;
    }
    let (platform, config, observation) = connect(global).await?;
    let metrics = platform.metrics().await.context("reading CloudWatch")?;
    let settings = config.settings(
        std::time::Duration::from_secs(global.refresh),
        global.read_only,
    );
    let mut report = report("aws", &observation, &metrics, platform.now(), &settings);
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
