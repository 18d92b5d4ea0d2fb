//! Which side is live and which is the candidate, from the weights and CloudWatch alone: no
//! stored state, so a restart or a second operator sees the same roles.
//!
//! The baseline is the side that last carried all the traffic for a whole bake: a rollback
//! returns to it, and the guard, the evidence and plans judge the other side (the candidate)
//! against it. When the candidate has carried everything for the bake, it becomes the baseline:
//! the roles swap, and the next cycle shifts traffic the other way.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::domain::{Color, MetricsSnapshot, Weights};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Live,
    Candidate,
    RollbackTarget,
    Idle,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Live => "live",
            Role::Candidate => "candidate",
            Role::RollbackTarget => "rollback target",
            Role::Idle => "idle",
        })
    }
}

/// The side a rollback returns to. Without a whole bake of one side alone in the metrics' history
/// (no metrics yet, a quiet service, a split older than the history): the side with all the
/// traffic, and during a split blue, the first cycle's live side.
pub fn baseline(weights: Weights, metrics: Option<&MetricsSnapshot>, bake: Duration) -> Color {
    metrics
        .and_then(|m| settled(m, bake))
        .unwrap_or(fallback(weights))
}

/// The baseline when nothing better is known: the side with all the traffic, and during a
/// split blue.
pub fn fallback(weights: Weights) -> Color {
    if weights.green() == 100 {
        Color::Green
    } else {
        Color::Blue
    }
}

/// The side traffic is being moved to: the other side of the baseline.
pub fn candidate(weights: Weights, metrics: Option<&MetricsSnapshot>, bake: Duration) -> Color {
    baseline(weights, metrics, bake).other()
}

/// The role `color` plays, given the baseline. The baseline is live, or the rollback target
/// while the candidate carries everything but has not yet for the whole bake; the candidate is
/// idle at 0%.
pub fn role(color: Color, weights: Weights, base: Color) -> Role {
    let share = weights.share(color);
    if color == base {
        if share == 0 {
            Role::RollbackTarget
        } else {
            Role::Live
        }
    } else {
        match share {
            0 => Role::Idle,
            100 => Role::Live,
            _ => Role::Candidate,
        }
    }
}

/// The side of the newest stretch of at least `bake` in which one side served every request.
/// Minutes without a request on either side neither break nor extend a stretch: CloudWatch
/// leaves them out for quiet services.
pub fn settled(metrics: &MetricsSnapshot, bake: Duration) -> Option<Color> {
    let mut minutes: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for bucket in &metrics.blue.buckets {
        minutes.entry(bucket.start.0).or_default().0 += bucket.requests;
    }
    for bucket in &metrics.green.buckets {
        minutes.entry(bucket.start.0).or_default().1 += bucket.requests;
    }
    let bake_ms = bake.as_millis() as u64;
    // (side, end of its newest minute)
    let mut stretch: Option<(Color, u64)> = None;
    for (&start, &(blue, green)) in minutes.iter().rev() {
        let alone = match (blue > 0.0, green > 0.0) {
            (true, false) => Some(Color::Blue),
            (false, true) => Some(Color::Green),
            (true, true) => None,
            (false, false) => continue,
        };
        stretch = match (alone, stretch) {
            (Some(side), Some((current, end))) if side == current => Some((side, end)),
            (Some(side), _) => Some((side, start + 60_000)),
            (None, _) => None,
        };
        if let Some((side, end)) = stretch
            && end - start >= bake_ms
        {
            return Some(side);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MetricBucket, SideMetrics, Timestamp};

    const BAKE: Duration = Duration::from_secs(5 * 60);

    /// Thirty minutes of history: `shares(minute)` gives (blue, green) requests of each.
    fn history(shares: impl Fn(u64) -> (f64, f64)) -> MetricsSnapshot {
        let side = |pick: fn((f64, f64)) -> f64| SideMetrics {
            buckets: (0..30)
                .map(|minute| MetricBucket {
                    start: Timestamp(minute * 60_000),
                    requests: pick(shares(minute)),
                    errors_5xx: 0.0,
                    target_conn_errors: 0.0,
                    latency_avg_ms: None,
                    latency_p99_ms: None,
                })
                .collect(),
        };
        MetricsSnapshot {
            blue: side(|s| s.0),
            green: side(|s| s.1),
            ..MetricsSnapshot::default()
        }
    }

    fn w(green: u8) -> Weights {
        Weights::with_green(green)
    }

    #[test]
    fn the_first_cycle_moves_traffic_to_green() {
        let blue_only = history(|_| (200.0, 0.0));
        assert_eq!(candidate(w(0), Some(&blue_only), BAKE), Color::Green);
        assert_eq!(
            role(Color::Green, w(0), baseline(w(0), Some(&blue_only), BAKE)),
            Role::Idle
        );
        // Mid-shift, green now has the larger share but blue is what a rollback returns to.
        let split = history(|m| if m < 25 { (200.0, 0.0) } else { (80.0, 120.0) });
        assert_eq!(baseline(w(60), Some(&split), BAKE), Color::Blue);
        assert_eq!(
            role(Color::Green, w(60), baseline(w(60), Some(&split), BAKE)),
            Role::Candidate
        );
        assert_eq!(
            role(Color::Blue, w(60), baseline(w(60), Some(&split), BAKE)),
            Role::Live
        );
    }

    #[test]
    fn a_promoted_side_is_live_and_the_old_one_the_rollback_target_until_the_bake() {
        let promoted = |minutes_alone: u64| {
            history(move |m| {
                if m + minutes_alone < 30 {
                    (200.0, 0.0)
                } else {
                    (0.0, 200.0)
                }
            })
        };
        let early = promoted(3);
        assert_eq!(baseline(w(100), Some(&early), BAKE), Color::Blue);
        assert_eq!(
            role(Color::Green, w(100), baseline(w(100), Some(&early), BAKE)),
            Role::Live
        );
        assert_eq!(
            role(Color::Blue, w(100), baseline(w(100), Some(&early), BAKE)),
            Role::RollbackTarget
        );
        let baked = promoted(5);
        assert_eq!(baseline(w(100), Some(&baked), BAKE), Color::Green);
        assert_eq!(
            role(Color::Blue, w(100), baseline(w(100), Some(&baked), BAKE)),
            Role::Idle
        );
        // The second cycle: traffic moves back to blue, which is now the candidate.
        assert_eq!(candidate(w(90), Some(&baked), BAKE), Color::Blue);
    }

    #[test]
    fn quiet_minutes_neither_break_nor_extend_a_stretch() {
        let gappy = history(|m| match m {
            _ if m < 20 => (200.0, 50.0),
            _ if m % 2 == 0 => (0.0, 0.0),
            _ => (0.0, 200.0),
        });
        // Green alone from minute 21 to the end of 29: nine minutes, over the bake.
        assert_eq!(baseline(w(100), Some(&gappy), BAKE), Color::Green);
        let short = history(|m| if m < 27 { (200.0, 50.0) } else { (0.0, 200.0) });
        assert_eq!(settled(&short, BAKE), None);
    }

    #[test]
    fn without_history_the_side_with_all_traffic_or_blue_is_the_baseline() {
        assert_eq!(baseline(w(0), None, BAKE), Color::Blue);
        assert_eq!(baseline(w(70), None, BAKE), Color::Blue);
        assert_eq!(baseline(w(100), None, BAKE), Color::Green);
        let silent = history(|_| (0.0, 0.0));
        assert_eq!(baseline(w(100), Some(&silent), BAKE), Color::Green);
        assert_eq!(
            role(Color::Blue, w(100), baseline(w(100), Some(&silent), BAKE)),
            Role::Idle
        );
    }
}
