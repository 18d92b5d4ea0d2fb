//! Stickiness: a client stuck to a target group keeps reaching it for the forward action's
//! stickiness duration after the group's weight went to 0, so weight 0 is not "no traffic"
//! yet. Pure: the metrics and the time come in as values.

use std::time::Duration;

use crate::domain::{Color, MetricsSnapshot, Timestamp};

/// Until when sticky clients may still reach `side`, if that is after `now`: the end of the
/// last minute CloudWatch shows it serving, plus the stickiness duration. `None` without
/// stickiness, without metrics, or once that time has passed.
pub fn reachable_until(
    metrics: Option<&MetricsSnapshot>,
    side: Color,
    stickiness_seconds: Option<u32>,
    now: Timestamp,
) -> Option<Timestamp> {
    let seconds = stickiness_seconds.filter(|s| *s > 0)?;
    let until = metrics?
        .side(side)
        .last_served()?
        .plus(Duration::from_secs(u64::from(seconds)));
    (until > now).then_some(until)
}

/// Why `side` must not be deployed over or scaled down yet, if sticky clients may still
/// reach it: `would` says what the change would do.
pub fn refusal(
    metrics: Option<&MetricsSnapshot>,
    side: Color,
    stickiness_seconds: Option<u32>,
    now: Timestamp,
    would: &str,
) -> Option<String> {
    let until = reachable_until(metrics, side, stickiness_seconds, now)?;
    Some(format!(
        "{side} served requests until a moment ago, and stickiness ({}s) keeps its clients \
         on it until {} UTC: {would} them; wait until then",
        stickiness_seconds.unwrap_or_default(),
        until.clock_utc()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{MetricBucket, SideMetrics};

    fn served_until_minute(minute: u64) -> MetricsSnapshot {
        let bucket = |m: u64| MetricBucket {
            start: Timestamp::from_secs(m * 60),
            requests: 100.0,
            errors_5xx: 0.0,
            target_conn_errors: 0.0,
            latency_avg_ms: Some(80.0),
            latency_p99_ms: None,
        };
        MetricsSnapshot {
            green: SideMetrics {
                buckets: (minute - 2..=minute).map(bucket).collect(),
            },
            ..MetricsSnapshot::default()
        }
    }

    #[test]
    fn a_side_that_served_within_the_stickiness_duration_is_still_reachable() {
        let metrics = served_until_minute(10); // the minute 10:00–11:00 had requests
        let at = |s: u64| Timestamp::from_secs(s);
        assert_eq!(
            reachable_until(Some(&metrics), Color::Green, Some(120), at(11 * 60 + 30)),
            Some(at(13 * 60)),
            "the end of the last minute with requests plus two minutes"
        );
        assert_eq!(
            reachable_until(Some(&metrics), Color::Green, Some(120), at(13 * 60)),
            None
        );
        assert_eq!(
            reachable_until(Some(&metrics), Color::Green, None, at(11 * 60)),
            None,
            "no stickiness, no lag"
        );
        assert_eq!(
            reachable_until(Some(&metrics), Color::Blue, Some(120), at(11 * 60)),
            None,
            "blue served nothing"
        );
        assert_eq!(reachable_until(None, Color::Green, Some(120), at(0)), None);
        let why = refusal(
            Some(&metrics),
            Color::Green,
            Some(120),
            at(660),
            "scaling would cut",
        );
        assert!(why.is_some_and(|w| w.contains("until 00:13:00 UTC")));
    }
}
