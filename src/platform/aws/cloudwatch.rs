//! CloudWatch: every ALB metric of both sides in one `GetMetricData` call.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat};

use super::errors::from_sdk;
use crate::domain::{Color, MetricBucket, MetricsSnapshot, SideMetrics, Timestamp};
use crate::platform::PlatformError;

const NAMESPACE: &str = "AWS/ApplicationELB";
const PERIOD_SECS: i32 = 60;
/// History fetched for the sparklines.
pub const HISTORY: Duration = Duration::from_secs(30 * 60);

/// What one query asks for; its id encodes it, so results map back without a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Series {
    Requests,
    Errors,
    LatencyAvg,
    LatencyP99,
}

impl Series {
    const ALL: [Series; 4] = [
        Series::Requests,
        Series::Errors,
        Series::LatencyAvg,
        Series::LatencyP99,
    ];

    fn metric_and_stat(self) -> (&'static str, &'static str) {
        match self {
            Series::Requests => ("RequestCount", "Sum"),
            Series::Errors => ("HTTPCode_Target_5XX_Count", "Sum"),
            Series::LatencyAvg => ("TargetResponseTime", "Average"),
            Series::LatencyP99 => ("TargetResponseTime", "p99"),
        }
    }

    fn id_part(self) -> &'static str {
        match self {
            Series::Requests => "requests",
            Series::Errors => "errors",
            Series::LatencyAvg => "latency_avg",
            Series::LatencyP99 => "latency_p99",
        }
    }
}

const ELB_5XX_ID: &str = "elb_5xx";

fn query_id(color: Color, series: Series) -> String {
    format!("{}_{}", color.label().to_lowercase(), series.id_part())
}

fn query(id: String, metric: &str, stat: &str, dimensions: Vec<Dimension>) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(NAMESPACE)
                        .metric_name(metric)
                        .set_dimensions(Some(dimensions))
                        .build(),
                )
                .period(PERIOD_SECS)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

/// The nine queries of one refresh: four per target group, one for the load balancer.
/// Dimension values are ARN suffixes; full ARNs would silently match nothing.
pub fn queries(load_balancer: &str, target_groups: [(Color, String); 2]) -> Vec<MetricDataQuery> {
    let mut queries = Vec::new();
    for (color, target_group) in target_groups {
        for series in Series::ALL {
            let (metric, stat) = series.metric_and_stat();
            queries.push(query(
                query_id(color, series),
                metric,
                stat,
                vec![
                    dimension("LoadBalancer", load_balancer),
                    dimension("TargetGroup", &target_group),
                ],
            ));
        }
    }
    queries.push(query(
        ELB_5XX_ID.into(),
        "HTTPCode_ELB_5XX_Count",
        "Sum",
        vec![dimension("LoadBalancer", load_balancer)],
    ));
    queries
}

fn points(result: &MetricDataResult) -> impl Iterator<Item = (Timestamp, f64)> + '_ {
    result
        .timestamps()
        .iter()
        .zip(result.values())
        .filter_map(|(t, v)| Some((Timestamp(u64::try_from(t.to_millis().ok()?).ok()?), *v)))
}

/// Folds the query results into one-minute buckets per side. A minute without a
/// `RequestCount` datapoint had no requests and gets no bucket, as CloudWatch means it.
pub fn snapshot(results: &[MetricDataResult]) -> MetricsSnapshot {
    let mut snapshot = MetricsSnapshot::default();
    for color in Color::BOTH {
        let series = |s: Series| -> BTreeMap<Timestamp, f64> {
            results
                .iter()
                .filter(|r| r.id() == Some(query_id(color, s).as_str()))
                .flat_map(points)
                .map(|(t, v)| (t.floor_minute(), v))
                .collect()
        };
        let errors = series(Series::Errors);
        let latency = series(Series::LatencyAvg);
        let p99 = series(Series::LatencyP99);
        let buckets = series(Series::Requests)
            .into_iter()
            .filter(|(_, requests)| *requests > 0.0)
            .map(|(start, requests)| MetricBucket {
                start,
                requests,
                errors_5xx: errors.get(&start).copied().unwrap_or(0.0),
                // TargetResponseTime is in seconds.
                latency_avg_ms: latency.get(&start).map(|s| s * 1000.0),
                latency_p99_ms: p99.get(&start).map(|s| s * 1000.0),
            })
            .collect();
        *match color {
            Color::Blue => &mut snapshot.blue,
            Color::Green => &mut snapshot.green,
        } = SideMetrics { buckets };
    }
    let mut elb: Vec<(Timestamp, f64)> = results
        .iter()
        .filter(|r| r.id() == Some(ELB_5XX_ID))
        .flat_map(points)
        .map(|(t, v)| (t.floor_minute(), v))
        .collect();
    elb.sort_by_key(|(t, _)| *t);
    snapshot.elb_5xx = elb;
    snapshot
}

pub async fn fetch(
    client: &Client,
    queries: Vec<MetricDataQuery>,
    now: Timestamp,
) -> Result<MetricsSnapshot, PlatformError> {
    let end = now.plus(Duration::from_secs(60)).floor_minute();
    let start = Timestamp(end.0.saturating_sub(HISTORY.as_millis() as u64));
    let mut results = Vec::new();
    let mut next_token = None;
    loop {
        let out = client
            .get_metric_data()
            .set_metric_data_queries(Some(queries.clone()))
            .start_time(DateTime::from_millis(start.0 as i64))
            .end_time(DateTime::from_millis(end.0 as i64))
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| from_sdk("GetMetricData", e))?;
        results.extend(out.metric_data_results().iter().cloned());
        next_token = out.next_token().map(str::to_string);
        // Thirty minutes of nine series fit one page; a token means CloudWatch split it anyway.
        if next_token.is_none() {
            break;
        }
    }
    Ok(snapshot(&results))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(id: &str, points: &[(i64, f64)]) -> MetricDataResult {
        MetricDataResult::builder()
            .id(id)
            .set_timestamps(Some(
                points
                    .iter()
                    .map(|(t, _)| DateTime::from_secs(*t))
                    .collect(),
            ))
            .set_values(Some(points.iter().map(|(_, v)| *v).collect()))
            .build()
    }

    #[test]
    fn nine_queries_with_suffix_dimensions() {
        let q = queries(
            "app/shop/50dc6c495c0c9188",
            [
                (Color::Blue, "targetgroup/blue/1".into()),
                (Color::Green, "targetgroup/green/2".into()),
            ],
        );
        assert_eq!(q.len(), 9);
        let ids: Vec<_> = q.iter().filter_map(|q| q.id()).collect();
        assert!(ids.contains(&"green_latency_p99") && ids.contains(&"elb_5xx"));
        let elb = q
            .last()
            .and_then(|q| q.metric_stat())
            .and_then(|s| s.metric())
            .expect("metric");
        assert_eq!(
            elb.dimensions().len(),
            1,
            "ELB 5xx exists only per load balancer"
        );
    }

    #[test]
    fn results_fold_into_buckets_with_latency_in_ms() {
        let results = [
            result("blue_requests", &[(120, 600.0), (60, 500.0)]),
            result("blue_errors", &[(120, 6.0)]),
            result("blue_latency_avg", &[(120, 0.081)]),
            result("green_requests", &[(120, 0.0)]),
            result("elb_5xx", &[(60, 2.0)]),
        ];
        let snap = snapshot(&results);
        assert_eq!(snap.blue.buckets.len(), 2);
        let newest = snap.blue.newest().expect("a bucket");
        assert_eq!(newest.start, Timestamp::from_secs(120));
        assert_eq!(newest.errors_5xx, 6.0);
        assert_eq!(newest.latency_avg_ms.map(|l| l.round()), Some(81.0));
        assert_eq!(
            snap.blue.buckets[0].errors_5xx, 0.0,
            "no datapoint means no errors"
        );
        assert!(
            snap.green.buckets.is_empty(),
            "a minute with zero requests is no bucket"
        );
        assert_eq!(snap.elb_5xx, [(Timestamp::from_secs(60), 2.0)]);
    }
}
