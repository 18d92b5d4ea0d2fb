//! The 5xx row: the candidate's target 5xx rate against the live side's, with the uncertainty
//! of both, over the same window.

use super::{Check, CheckKind, Window, percent, points};
use crate::domain::format_count;
use crate::shift::evidence::{EvidenceSettings, Verdict};
use crate::shift::stats::{Z_95_ONE_SIDED, two_proportion_z, wilson_interval};

/// `7.0% ± 2.9`: a rate and the half-width of its 95% interval, in points.
pub fn rate_text(errors: f64, requests: f64) -> String {
    match wilson_interval(errors, requests) {
        Some((lo, hi)) => format!(
            "{} ± {}",
            percent(errors / requests),
            points((hi - lo) / 2.0)
        ),
        None => "no requests".into(),
    }
}

/// Whether `cand` errors of `cand_requests` are worse than the baseline's, and why: above the
/// ceiling, or above the baseline by more than the tolerance and significantly so.
pub fn compare(
    (cand_errors, cand_requests): (f64, f64),
    (base_errors, base_requests): (f64, f64),
    settings: &EvidenceSettings,
) -> (Verdict, Option<String>) {
    let cand_rate = if cand_requests > 0.0 {
        cand_errors / cand_requests
    } else {
        0.0
    };
    if cand_rate > settings.max_error_rate {
        return (
            Verdict::Worse,
            Some(format!(
                "above the {} ceiling",
                percent(settings.max_error_rate)
            )),
        );
    }
    let significantly_worse = base_requests > 0.0
        && cand_rate > base_errors / base_requests + settings.tolerance
        && two_proportion_z(cand_errors, cand_requests, base_errors, base_requests)
            .is_some_and(|z| z > Z_95_ONE_SIDED);
    if significantly_worse {
        (Verdict::Worse, Some("significantly worse".into()))
    } else {
        (Verdict::Ok, None)
    }
}

pub fn check(window: &Window) -> Check {
    let (cand, base) = (window.cand, window.base);
    let (cand_name, base_name) = window.names();
    let row = |verdict, reason: String| Check::new(CheckKind::Errors, verdict, reason);
    if cand.requests <= 0.0
        && base.requests <= 0.0
        && let Some(why) = window.too_little()
    {
        return row(Verdict::Insufficient, why);
    }
    if cand.requests < f64::from(window.settings.min_requests) {
        let at = if cand.requests > 0.0 {
            format!(" at {}", rate_text(cand.errors, cand.requests))
        } else {
            String::new()
        };
        return row(
            Verdict::Insufficient,
            format!(
                "{} requests on {cand_name}{at} since {}, {} needed ({base_name} {})",
                format_count(cand.requests),
                window.from.clock_utc(),
                window.settings.min_requests,
                rate_text(base.errors, base.requests)
            ),
        );
    }
    let compared = format!(
        "{cand_name} {} vs {base_name} {} over {} requests",
        rate_text(cand.errors, cand.requests),
        rate_text(base.errors, base.requests),
        format_count(cand.requests)
    );
    match compare(
        (cand.errors, cand.requests),
        (base.errors, base.requests),
        window.settings,
    ) {
        (verdict, Some(why)) => row(verdict, format!("{compared}: {why}")),
        (verdict, None) => row(verdict, compared),
    }
}
