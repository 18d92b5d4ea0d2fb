//! The health row: a candidate that carries traffic with no healthy target is worse at once,
//! without waiting a minute or two for CloudWatch.

use super::{Check, CheckKind};
use crate::domain::{Color, Observation};
use crate::shift::evidence::Verdict;

pub fn check(observation: Option<&Observation>, candidate: Color) -> Check {
    let row = |verdict, reason: String| Check::new(CheckKind::Health, verdict, reason);
    let name = candidate.name();
    let Some(observation) = observation else {
        return row(
            Verdict::Insufficient,
            format!("{name}'s targets not read yet"),
        );
    };
    let side = observation.side(candidate);
    let share = format!("{}%", observation.weights.percent_text(candidate));
    let (healthy, total) = (side.targets.healthy, side.targets.total());
    match (!observation.weights.is_idle(candidate), healthy) {
        (true, 0) => row(
            Verdict::Worse,
            format!(
                "{name} carries {share} with no healthy target ({total} registered, {} running)",
                side.service.running
            ),
        ),
        (true, _) => row(
            Verdict::Ok,
            format!("{name} {healthy} of {total} targets healthy at {share}"),
        ),
        // Nothing to judge a side by that has no healthy target, and it may take no traffic.
        (false, 0) => row(
            Verdict::Insufficient,
            format!(
                "{name} has no healthy target yet ({total} registered, {} of {} tasks running)",
                side.service.running, side.service.desired
            ),
        ),
        (false, _) => row(
            Verdict::Ok,
            format!("{name} {healthy} of {total} targets healthy, no traffic yet"),
        ),
    }
}
