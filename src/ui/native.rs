//! An ECS-native deployment in the traffic box: where it is in ECS's lifecycle (a strip of the
//! stages, the ones left), the weight ECS asked for beside the one the rule holds and the share
//! the requests show, and the gate that waits — its countdown and what ECS does at timeout.

use ratatui::text::{Line, Span};

use super::theme;
use crate::app::AppState;
use crate::domain::{Color, GateAction, NativeService, Stage, Weights, format_age, percent};

/// The stage strip: passed stages dim, the current one marked, the rest plain. Narrower than
/// it needs, the passed stages go first (`…›`), so the current one and those left show.
pub fn strip(native: &NativeService, width: u16) -> Line<'static> {
    let Some(deployment) = &native.deployment else {
        return Line::styled(
            format!(
                "{} · no deployment yet: D deploys a new image",
                native.strategy
            ),
            theme::label(),
        );
    };
    let mut spans = vec![Span::styled(
        format!("ECS {} ", native.strategy),
        theme::label(),
    )];
    let current = deployment.stage();
    if !deployment.in_progress() {
        let style = if deployment.status == "SUCCESSFUL" {
            theme::ok()
        } else {
            theme::error()
        };
        spans.push(Span::styled(deployment.status.clone(), style));
        if let Some(reason) = deployment
            .rollback_reason
            .as_ref()
            .or(deployment.status_reason.as_ref())
        {
            spans.push(Span::styled(format!(": {reason}"), theme::label()));
        }
        return Line::from(spans);
    }
    let full: usize = Stage::ORDER
        .iter()
        .map(|s| short(*s).chars().count() + 1)
        .sum::<usize>()
        + 2
        + spans
            .iter()
            .map(|s| s.content.chars().count())
            .sum::<usize>();
    let first = match current {
        Some(now) if full > usize::from(width) => {
            spans.push(Span::styled("…›", theme::label()));
            Stage::ORDER.iter().position(|s| *s == now).unwrap_or(0)
        }
        _ => 0,
    };
    for (i, stage) in Stage::ORDER.into_iter().enumerate().skip(first) {
        if i > first {
            spans.push(Span::styled("›", theme::label()));
        }
        let style = match current {
            Some(now) if now == stage => theme::key(),
            Some(now) if stage < now => theme::label(),
            _ => theme::value(),
        };
        let word = short(stage);
        let word = if Some(stage) == current {
            format!("[{word}]")
        } else {
            word.to_string()
        };
        spans.push(Span::styled(word, style));
    }
    if current.is_none()
        && let Some(name) = &deployment.stage_name
    {
        spans.push(Span::styled(format!(" {name}"), theme::warning()));
    }
    Line::from(spans)
}

fn short(stage: Stage) -> &'static str {
    match stage {
        Stage::ReconcileService => "reconcile",
        Stage::PreScaleUp => "pre-scale",
        Stage::ScaleUp => "scale-up",
        Stage::PostScaleUp => "post-scale",
        Stage::TestTrafficShift => "test",
        Stage::PostTestTrafficShift => "post-test",
        Stage::PreProductionTrafficShift => "GATE",
        Stage::ProductionTrafficShift => "shift",
        Stage::PostProductionTrafficShift => "step-bake",
        Stage::BakeTime => "bake",
        Stage::CleanUp => "clean-up",
    }
}

/// Requested (ECS's snapshot), actual (the rule's forward) and observed (requests in the last
/// complete minute) share of the new revision.
pub fn weights(state: &AppState, native: &NativeService, current: Weights) -> Line<'static> {
    let candidate = native.candidate.unwrap_or(Color::Green);
    let requested = native
        .deployment
        .as_ref()
        .filter(|d| d.in_progress())
        .and_then(|d| d.requested_weight);
    let observed = state.metrics.as_ref().and_then(|m| {
        let newest = m.complete_until(state.now)?;
        let count = |color: Color| {
            m.side(color)
                .buckets
                .iter()
                .find(|b| b.start.plus(std::time::Duration::from_secs(60)) == newest)
                .map_or(0.0, |b| b.requests)
        };
        let (mine, theirs) = (count(candidate), count(candidate.other()));
        (mine + theirs > 0.0).then(|| mine / (mine + theirs) * 100.0)
    });
    let running = native.running().is_some();
    let mut spans = if running {
        vec![
            Span::styled(
                format!("{} new revision: requested ", candidate.name()),
                theme::label(),
            ),
            Span::styled(
                requested.map_or("—".into(), |r| format!("{}%", percent(r))),
                theme::value(),
            ),
            Span::styled(" · actual ", theme::label()),
        ]
    } else {
        // No deployment moving: the share of the revision the last one left, as it is.
        vec![Span::styled(
            format!("{} (no deployment running): actual ", candidate.name()),
            theme::label(),
        )]
    };
    spans.push(Span::styled(
        format!("{}%", current.percent_text(candidate)),
        theme::value(),
    ));
    spans.push(Span::styled(" · observed ", theme::label()));
    spans.push(Span::styled(
        observed.map_or("—".into(), |o| format!("{}%", percent(o))),
        theme::value(),
    ));
    spans.push(Span::styled(" of requests (last minute)", theme::label()));
    let differs = requested.is_some_and(|r| (r - f64::from(current.share(candidate))).abs() >= 1.0);
    if differs {
        spans.push(Span::styled("  ECS is moving it", theme::warning()));
    }
    Line::from(spans)
}

/// The gate, when one waits: its countdown and timeout action; else what ECS does now. Ends
/// with the autopilot's state when a plan runs.
pub fn gate(state: &AppState, native: &NativeService) -> Line<'static> {
    let mut spans = Vec::new();
    if let Some(step) = &state.steering {
        let spinner = theme::SPINNER[(state.ticks % theme::SPINNER.len() as u64) as usize];
        spans.push(Span::styled(format!("{spinner} "), theme::key()));
        spans.push(Span::styled(
            format!("{}…", step.describe()),
            theme::value(),
        ));
    } else if let Some((_, gate)) = native.awaiting() {
        spans.push(Span::styled(
            format!("GATE {} waits for you", gate.hook_id),
            theme::warning(),
        ));
        if let Some(expires) = gate.expires_at {
            let left = format_age(expires.since(state.now));
            let (then, style) = match gate.on_timeout {
                Some(GateAction::Continue) => (
                    "ECS CONTINUES by itself (an absent operator approves)",
                    theme::error(),
                ),
                Some(GateAction::Rollback) => ("ECS rolls back", theme::label()),
                None => ("ECS takes its timeout action", theme::label()),
            };
            spans.push(Span::styled(format!(" · in {left} "), theme::value()));
            spans.push(Span::styled(then, style));
        }
    } else if let Some(deployment) = native.running() {
        spans.push(Span::styled(
            format!("ECS at {}", deployment.stage_label()),
            theme::value(),
        ));
        if !native.gated {
            spans.push(Span::styled(
                " · no PAUSE gate: ECS goes on by itself (R still rolls back)",
                theme::warning(),
            ));
        }
    } else if !native.history.is_empty() {
        spans.push(Span::styled(
            format!("before: {}", native.history.join(" · ")),
            theme::label(),
        ));
    }
    // ECS's own rollback monitors, when the deployment has them.
    if let Some(deployment) = native.running() {
        for monitor in [&deployment.alarms, &deployment.circuit_breaker]
            .into_iter()
            .flatten()
        {
            let style = if monitor.contains("TRIGGERED") {
                theme::error()
            } else {
                theme::label()
            };
            spans.push(Span::styled(format!(" · {monitor}"), style));
        }
    }
    if let Some(plan) = &state.plan
        && plan.targets.is_empty()
    {
        spans.push(Span::styled(
            format!("   autopilot: {}", plan.state),
            theme::label(),
        ));
    }
    Line::from(spans)
}
