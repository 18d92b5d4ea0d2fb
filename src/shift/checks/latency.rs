//! The latency row: the candidate's p99 and average response time against the live side's over
//! the same window, as Argo Rollouts and Flagger judge a canary by default.

use super::{Check, CheckKind, Window};
use crate::shift::evidence::Verdict;

/// Thresholds of the latency row (config `[guard]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LatencyLimits {
    /// Worse above this many times the live side's value…
    pub max_ratio: f64,
    /// …and above this many milliseconds, so 10 ms against 20 ms is no alarm.
    pub min_ms: f64,
    /// Worse above this p99 whatever the live side does.
    pub max_p99_ms: Option<f64>,
}

impl Default for LatencyLimits {
    fn default() -> Self {
        LatencyLimits {
            max_ratio: 1.5,
            min_ms: 50.0,
            max_p99_ms: None,
        }
    }
}

fn ms(value: f64) -> String {
    format!("{} ms", crate::domain::fixed(value, 0))
}

/// `p99 120 ms · avg 80 ms`, or the p99 alone where the average was not read (the fleet's
/// list reads p99 only, to keep its metrics within one call a minute).
fn figures(p99: f64, avg: Option<f64>) -> String {
    match avg {
        Some(avg) => format!("p99 {} · avg {}", ms(p99), ms(avg)),
        None => format!("p99 {}", ms(p99)),
    }
}

pub fn check(window: &Window) -> Check {
    let row = |verdict, reason: String| Check::new(CheckKind::Latency, verdict, reason);
    if let Some(why) = window.too_little() {
        return row(Verdict::Insufficient, why);
    }
    let (cand_name, base_name) = window.names();
    let limits = &window.settings.latency;
    let Some(cand_p99) = window.cand.latency_p99_ms else {
        return row(
            Verdict::Insufficient,
            format!(
                "no response times for {cand_name} since {}",
                window.from.clock_utc()
            ),
        );
    };
    let cand_avg = window.cand.latency_avg_ms;
    if let Some(ceiling) = limits.max_p99_ms
        && cand_p99 > ceiling
    {
        return row(
            Verdict::Worse,
            format!(
                "{cand_name} p99 {} over the {} ceiling",
                ms(cand_p99),
                ms(ceiling)
            ),
        );
    }
    let Some(base_p99) = window.base.latency_p99_ms else {
        // Nothing to compare with (the live side served nothing): only the ceiling applies.
        return row(
            Verdict::Ok,
            format!(
                "{cand_name} {}; {base_name} served nothing to compare",
                figures(cand_p99, cand_avg)
            ),
        );
    };
    let base_avg = window.base.latency_avg_ms;
    let compared = match (cand_avg, base_avg) {
        (Some(cand_avg), Some(base_avg)) => format!(
            "{cand_name} p99 {} · avg {} vs {base_name} {} · {}",
            ms(cand_p99),
            ms(cand_avg),
            ms(base_p99),
            ms(base_avg)
        ),
        _ => format!(
            "{cand_name} p99 {} vs {base_name} {}",
            ms(cand_p99),
            ms(base_p99)
        ),
    };
    let too_slow =
        |cand: f64, base: f64| cand > limits.min_ms && base > 0.0 && cand > base * limits.max_ratio;
    let averages = cand_avg.zip(base_avg);
    let pairs = std::iter::once(("p99", cand_p99, base_p99))
        .chain(averages.map(|(cand, base)| ("avg", cand, base)));
    for (what, cand, base) in pairs {
        if too_slow(cand, base) {
            // What broke the limit first: a narrow screen cuts the end of the line.
            let detail = match averages {
                Some((cand_avg, base_avg)) => format!(
                    "p99 {} vs {} · avg {} vs {}",
                    ms(cand_p99),
                    ms(base_p99),
                    ms(cand_avg),
                    ms(base_avg)
                ),
                None => format!("p99 {} vs {}", ms(cand_p99), ms(base_p99)),
            };
            return row(
                Verdict::Worse,
                format!(
                    "{cand_name} {what} {:.1}× {base_name}'s, over {:.1}×: {detail}",
                    cand / base,
                    limits.max_ratio,
                ),
            );
        }
    }
    row(Verdict::Ok, compared)
}
