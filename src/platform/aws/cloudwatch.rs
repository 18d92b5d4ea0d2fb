//! CloudWatch: every ALB metric of both sides and the operator's own metrics in one
//! `GetMetricData` call, the operator's alarms in one `DescribeAlarms` call.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, StateValue,
    StatusCode,
};

use super::errors::from_sdk;
use crate::domain::{
    AlarmState, AlarmStatus, Color, CustomMetric, CustomSeries, MetricBucket, MetricRow,
    MetricSource, MetricsSnapshot, Placeholders, SideMetrics, Timestamp,
};
use crate::platform::PlatformError;

const NAMESPACE: &str = "AWS/ApplicationELB";
const PERIOD_SECS: i32 = 60;
/// History fetched for the sparklines.
pub const HISTORY: Duration = Duration::from_secs(30 * 60);

/// What one query asks for; its id encodes it, so results map back without a lookup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Series {
    Requests,
    Errors,
    ConnErrors,
    LatencyAvg,
    LatencyP99,
}

impl Series {
    pub(super) const ALL: [Series; 5] = [
        Series::Requests,
        Series::Errors,
        Series::ConnErrors,
        Series::LatencyAvg,
        Series::LatencyP99,
    ];
    /// What a fleet's row reads of a group: three series, so 50 pairs' groups, their healthy
    /// hosts and one ELB 5xx per load balancer fit one call of at most 500 metrics a minute
    /// (about $0.24 an hour). Connection errors and the average are the console's.
    pub(super) const LEAN: [Series; 3] = [Series::Requests, Series::Errors, Series::LatencyP99];

    fn metric_and_stat(self) -> (&'static str, &'static str) {
        match self {
            Series::Requests => ("RequestCount", "Sum"),
            Series::Errors => ("HTTPCode_Target_5XX_Count", "Sum"),
            Series::ConnErrors => ("TargetConnectionErrorCount", "Sum"),
            Series::LatencyAvg => ("TargetResponseTime", "Average"),
            Series::LatencyP99 => ("TargetResponseTime", "p99"),
        }
    }

    /// The rows of the evidence this series feeds: requests are the denominator of them all.
    fn rows(self) -> &'static [MetricRow] {
        match self {
            Series::Requests => &[
                MetricRow::Errors,
                MetricRow::Latency,
                MetricRow::LoadBalancer,
            ],
            Series::Errors => &[MetricRow::Errors],
            Series::ConnErrors => &[MetricRow::LoadBalancer],
            Series::LatencyAvg | Series::LatencyP99 => &[MetricRow::Latency],
        }
    }

    fn id_part(self) -> &'static str {
        match self {
            Series::Requests => "requests",
            Series::Errors => "errors",
            Series::ConnErrors => "conn_errors",
            Series::LatencyAvg => "latency_avg",
            Series::LatencyP99 => "latency_p99",
        }
    }
}

pub(super) const ELB_5XX_ID: &str = "elb_5xx";

fn query_id(color: Color, series: Series) -> String {
    format!("{}_{}", color.label().to_lowercase(), series.id_part())
}

/// `custom3_green`: ids must match `^[a-z][a-zA-Z0-9_]*$`, so the metric's name is not in it.
fn custom_id(index: usize, color: Color) -> String {
    format!("custom{index}_{}", color.label().to_lowercase())
}

pub(super) fn query(
    id: String,
    metric: &str,
    stat: &str,
    dimensions: Vec<Dimension>,
) -> MetricDataQuery {
    namespaced_query(id, NAMESPACE, metric, stat, dimensions)
}

fn namespaced_query(
    id: String,
    namespace: &str,
    metric: &str,
    stat: &str,
    dimensions: Vec<Dimension>,
) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
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

pub(super) fn dimension(name: &str, value: &str) -> Dimension {
    Dimension::builder().name(name).value(value).build()
}

fn custom_query(id: String, source: &MetricSource) -> MetricDataQuery {
    match source {
        MetricSource::Metric {
            namespace,
            metric,
            dimensions,
            stat,
        } => namespaced_query(
            id,
            namespace,
            metric,
            stat,
            dimensions.iter().map(|(k, v)| dimension(k, v)).collect(),
        ),
        MetricSource::Expression(expression) => MetricDataQuery::builder()
            .id(id)
            .expression(expression)
            .period(PERIOD_SECS)
            .return_data(true)
            .build(),
    }
}

/// The queries of one refresh: five per target group, one for the load balancer, and one per
/// side for each custom metric, its placeholders filled with that side's names. Dimension
/// values are ARN suffixes (`sides` carries them so); full ARNs would silently match nothing.
pub fn queries(
    sides: &[(Color, Placeholders); 2],
    custom: &[CustomMetric],
) -> Vec<MetricDataQuery> {
    let mut queries = Vec::new();
    for (color, names) in sides {
        queries.extend(group_queries(*color, names, &Series::ALL));
    }
    queries.push(elb_5xx_query(ELB_5XX_ID.into(), &sides[0].1.load_balancer));
    for (index, metric) in custom.iter().enumerate() {
        for (color, names) in sides {
            queries.push(custom_query(
                custom_id(index, *color),
                &metric.source.filled(names),
            ));
        }
    }
    queries
}

/// One side's target-group series, by the ids `snapshot` folds.
pub(super) fn group_queries(
    color: Color,
    names: &Placeholders,
    series: &[Series],
) -> Vec<MetricDataQuery> {
    series
        .iter()
        .map(|series| {
            let (metric, stat) = series.metric_and_stat();
            query(
                query_id(color, *series),
                metric,
                stat,
                vec![
                    dimension("LoadBalancer", &names.load_balancer),
                    dimension("TargetGroup", &names.target_group),
                ],
            )
        })
        .collect()
}

/// The load balancer's own 5xx, which only it counts (no target group dimension).
pub(super) fn elb_5xx_query(id: String, load_balancer: &str) -> MetricDataQuery {
    query(
        id,
        "HTTPCode_ELB_5XX_Count",
        "Sum",
        vec![dimension("LoadBalancer", load_balancer)],
    )
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
/// `custom` names the custom metrics in the order their queries were made; `failed` holds the
/// queries whose own call failed (a Metrics Insights query is a call of its own), by id.
/// A series CloudWatch did not answer `Complete` makes its row stale, never zero.
pub fn snapshot(
    results: &[MetricDataResult],
    custom: &[String],
    failed: &BTreeMap<String, String>,
) -> MetricsSnapshot {
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
        let conn_errors = series(Series::ConnErrors);
        let latency = series(Series::LatencyAvg);
        let p99 = series(Series::LatencyP99);
        let buckets = series(Series::Requests)
            .into_iter()
            .filter(|(_, requests)| *requests > 0.0)
            .map(|(start, requests)| MetricBucket {
                start,
                requests,
                errors_5xx: errors.get(&start).copied().unwrap_or(0.0),
                target_conn_errors: conn_errors.get(&start).copied().unwrap_or(0.0),
                // TargetResponseTime is in seconds.
                latency_avg_ms: latency.get(&start).map(|s| s * 1000.0),
                latency_p99_ms: p99.get(&start).map(|s| s * 1000.0),
            })
            .collect();
        *match color {
            Color::Blue => &mut snapshot.blue,
            Color::Green => &mut snapshot.green,
        } = SideMetrics { buckets };
        for series in Series::ALL {
            let id = query_id(color, series);
            if let Some(problem) = series_problem(results, &id) {
                for row in series.rows() {
                    snapshot
                        .incomplete
                        .entry(*row)
                        .or_insert_with(|| format!("{id}: {problem}"));
                }
            }
        }
    }
    if let Some(problem) = series_problem(results, ELB_5XX_ID) {
        snapshot
            .incomplete
            .entry(MetricRow::LoadBalancer)
            .or_insert_with(|| format!("{ELB_5XX_ID}: {problem}"));
    }
    let mut elb: Vec<(Timestamp, f64)> = results
        .iter()
        .filter(|r| r.id() == Some(ELB_5XX_ID))
        .flat_map(points)
        .map(|(t, v)| (t.floor_minute(), v))
        .collect();
    elb.sort_by_key(|(t, _)| *t);
    snapshot.elb_5xx = elb;
    snapshot.custom = custom
        .iter()
        .enumerate()
        .map(|(index, name)| {
            let side = |color| -> Vec<(Timestamp, f64)> {
                let minutes: BTreeMap<Timestamp, f64> = results
                    .iter()
                    .filter(|r| r.id() == Some(custom_id(index, color).as_str()))
                    .flat_map(points)
                    .map(|(t, v)| (t.floor_minute(), v))
                    .collect();
                minutes.into_iter().collect()
            };
            let problem = Color::BOTH.into_iter().find_map(|color| {
                let id = custom_id(index, color);
                let problem = failed
                    .get(&id)
                    .cloned()
                    .or_else(|| series_problem(results, &id))?;
                Some(format!("{} side: {problem}", color.name()))
            });
            CustomSeries {
                name: name.clone(),
                blue: side(Color::Blue),
                green: side(Color::Green),
                problem,
            }
        })
        .collect();
    snapshot
}

/// What makes the series of query `id` unfit to judge by: several series under the one id (a
/// `SEARCH()` or `GROUP BY`), or an answer other than `Complete` on its last page
/// (`PartialData`, `InternalError`, `Forbidden`), with CloudWatch's own messages.
fn series_problem(results: &[MetricDataResult], id: &str) -> Option<String> {
    let of_id: Vec<&MetricDataResult> = results.iter().filter(|r| r.id() == Some(id)).collect();
    let labels: std::collections::BTreeSet<&str> =
        of_id.iter().map(|r| r.label().unwrap_or("")).collect();
    if labels.len() > 1 {
        let some: Vec<&str> = labels.iter().take(3).copied().collect();
        return Some(format!(
            "returns {} series ({}…), where one number per side is needed: wrap it in SUM() or \
             MAX()",
            labels.len(),
            some.join(", ")
        ));
    }
    let last = of_id.last()?;
    match last.status_code() {
        None | Some(StatusCode::Complete) => None,
        Some(status) => {
            let messages: Vec<String> = last
                .messages()
                .iter()
                .map(|m| {
                    [m.code(), m.value()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ")
                })
                .filter(|m| !m.is_empty())
                .collect();
            let said = if messages.is_empty() {
                String::new()
            } else {
                format!(" ({})", messages.join("; "))
            };
            Some(format!("CloudWatch answered {}{said}", status.as_str()))
        }
    }
}

/// Whether a query is a Metrics Insights `SELECT`: CloudWatch takes one such query per
/// `GetMetricData` request.
fn is_insights(query: &MetricDataQuery) -> bool {
    query.expression().is_some_and(|e| {
        e.trim_start()
            .get(..6)
            .is_some_and(|word| word.eq_ignore_ascii_case("SELECT"))
    })
}

/// What one refresh asks CloudWatch: the queries, the custom metrics' names in their order,
/// the alarms to read.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    pub queries: Vec<MetricDataQuery>,
    pub custom: Vec<String>,
    pub alarms: Vec<String>,
}

/// The states of the named alarms, metric and composite: one `DescribeAlarms` (a hundred names
/// fit one call; config refuses more). An alarm CloudWatch does not know is left out.
pub(super) async fn alarms(
    client: &Client,
    names: &[String],
) -> Result<Vec<AlarmStatus>, PlatformError> {
    let mut found = Vec::new();
    let mut next_token = None;
    loop {
        let out = client
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .alarm_types(AlarmType::MetricAlarm)
            .alarm_types(AlarmType::CompositeAlarm)
            .max_records(100)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| from_sdk("DescribeAlarms", e))?;
        let metric = out
            .metric_alarms()
            .iter()
            .map(|a| (a.alarm_name(), a.state_value()));
        let composite = out
            .composite_alarms()
            .iter()
            .map(|a| (a.alarm_name(), a.state_value()));
        for (name, state) in metric.chain(composite) {
            let state = match state {
                Some(StateValue::Alarm) => AlarmState::Alarm,
                Some(StateValue::Ok) => AlarmState::Ok,
                _ => AlarmState::InsufficientData,
            };
            if let Some(name) = name {
                found.push(AlarmStatus {
                    name: name.to_string(),
                    state,
                });
            }
        }
        next_token = out.next_token().map(str::to_string);
        if next_token.is_none() {
            return Ok(found);
        }
    }
}

/// One `GetMetricData` request of `queries`, every page of it.
pub(super) async fn get_metric_data(
    client: &Client,
    queries: Vec<MetricDataQuery>,
    (start, end): (Timestamp, Timestamp),
) -> Result<Vec<MetricDataResult>, PlatformError> {
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
        if next_token.is_none() {
            return Ok(results);
        }
    }
}

/// One refresh: the load balancer's series and every plain custom query in one
/// `GetMetricData`, each Metrics Insights query in a request of its own (CloudWatch allows one
/// a request), all at once; the alarms in one `DescribeAlarms`. The load balancer's call
/// failing fails the refresh; a custom query's call or the alarms failing make only their
/// own rows stale.
pub async fn fetch(
    client: &Client,
    watch: &Watch,
    now: Timestamp,
) -> Result<MetricsSnapshot, PlatformError> {
    let end = now.plus(Duration::from_secs(60)).floor_minute();
    let span = (
        Timestamp(end.0.saturating_sub(HISTORY.as_millis() as u64)),
        end,
    );
    let (insights, together): (Vec<MetricDataQuery>, Vec<MetricDataQuery>) =
        watch.queries.iter().cloned().partition(is_insights);
    let alone = futures::future::join_all(insights.into_iter().map(|query| async move {
        let id = query.id().unwrap_or_default().to_string();
        (id, get_metric_data(client, vec![query], span).await)
    }));
    let alarms = async {
        if watch.alarms.is_empty() {
            Ok(Vec::new())
        } else {
            alarms(client, &watch.alarms).await
        }
    };
    let (together, alone, alarms) =
        tokio::join!(get_metric_data(client, together, span), alone, alarms);
    let mut results = together?;
    let mut failed = BTreeMap::new();
    for (id, answer) in alone {
        match answer {
            Ok(answer) => results.extend(answer),
            Err(error) => {
                failed.insert(id, error.to_string());
            }
        }
    }
    let mut snapshot = snapshot(&results, &watch.custom, &failed);
    match alarms {
        Ok(alarms) => snapshot.alarms = alarms,
        Err(error) => {
            snapshot
                .incomplete
                .insert(MetricRow::Alarms, error.to_string());
        }
    }
    Ok(snapshot)
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

    fn names(color: Color) -> Placeholders {
        let side = color.label().to_lowercase();
        Placeholders {
            target_group: format!("targetgroup/{side}/1"),
            load_balancer: "app/shop/50dc6c495c0c9188".into(),
            service: format!("shop-{side}"),
            cluster: "prod".into(),
        }
    }

    #[test]
    fn one_query_per_series_with_suffix_dimensions_and_custom_metrics_per_side() {
        let custom = [
            CustomMetric {
                name: "checkout errors".into(),
                source: MetricSource::Metric {
                    namespace: "shop".into(),
                    metric: "CheckoutErrors".into(),
                    dimensions: vec![("ServiceName".into(), "{service}".into())],
                    stat: "Sum".into(),
                },
                limits: vec![],
            },
            CustomMetric {
                name: "queue".into(),
                source: MetricSource::Expression(
                    "SELECT MAX(Depth) FROM q WHERE s = '{service}'".into(),
                ),
                limits: vec![],
            },
        ];
        let q = queries(
            &[
                (Color::Blue, names(Color::Blue)),
                (Color::Green, names(Color::Green)),
            ],
            &custom,
        );
        assert_eq!(q.len(), 2 * 5 + 1 + 2 * 2);
        let ids: Vec<_> = q.iter().filter_map(|q| q.id()).collect();
        assert!(ids.contains(&"green_latency_p99") && ids.contains(&"blue_conn_errors"));
        let elb = q
            .iter()
            .find(|q| q.id() == Some("elb_5xx"))
            .and_then(|q| q.metric_stat())
            .and_then(|s| s.metric())
            .expect("metric");
        assert_eq!(
            elb.dimensions().len(),
            1,
            "ELB 5xx exists only per load balancer"
        );
        let green_custom = q
            .iter()
            .find(|q| q.id() == Some("custom0_green"))
            .and_then(|q| q.metric_stat())
            .and_then(|s| s.metric())
            .expect("custom metric");
        assert_eq!(green_custom.dimensions()[0].value(), Some("shop-green"));
        let expression = q
            .iter()
            .find(|q| q.id() == Some("custom1_blue"))
            .expect("expr");
        assert_eq!(
            expression.expression(),
            Some("SELECT MAX(Depth) FROM q WHERE s = 'shop-blue'")
        );
        assert_eq!(
            expression.period(),
            Some(60),
            "an expression needs its period"
        );
    }

    #[test]
    fn a_series_cloudwatch_did_not_answer_whole_makes_its_rows_stale_not_zero() {
        let failed = MetricDataResult::builder()
            .id("green_errors")
            .status_code(StatusCode::InternalError)
            .messages(
                aws_sdk_cloudwatch::types::MessageData::builder()
                    .code("InternalError")
                    .value("try again")
                    .build(),
            )
            .build();
        let results = [result("green_requests", &[(120, 300.0)]), failed];
        let snap = snapshot(&results, &[], &BTreeMap::new());
        let errors = snap.incomplete.get(&MetricRow::Errors).expect("errors row");
        assert!(
            errors.contains("green_errors") && errors.contains("InternalError: try again"),
            "{errors}"
        );
        assert!(
            !snap.incomplete.contains_key(&MetricRow::Latency),
            "the other rows stand"
        );
    }

    #[test]
    fn a_custom_query_with_several_series_or_a_failed_call_is_a_stale_row_with_the_fix() {
        let labelled = |label: &str| {
            MetricDataResult::builder()
                .id("custom0_green")
                .label(label)
                .status_code(StatusCode::Complete)
                .build()
        };
        let results = [labelled("a"), labelled("b")];
        let snap = snapshot(&results, &["queue".into()], &BTreeMap::new());
        let problem = snap.custom[0].problem.as_deref().expect("a problem");
        assert!(
            problem.contains("2 series") && problem.contains("SUM() or MAX()"),
            "{problem}"
        );
        let failed = BTreeMap::from([(
            "custom0_blue".to_string(),
            "GetMetricData: ValidationError: bad query".to_string(),
        )]);
        let snap = snapshot(&[], &["queue".into()], &failed);
        assert_eq!(
            snap.custom[0].problem.as_deref(),
            Some("blue side: GetMetricData: ValidationError: bad query")
        );
    }

    #[test]
    fn metrics_insights_queries_are_told_apart() {
        let expression = |text: &str| MetricDataQuery::builder().id("q").expression(text).build();
        assert!(is_insights(&expression("SELECT SUM(x) FROM s")));
        assert!(is_insights(&expression("  select max(x) from s")));
        assert!(!is_insights(&expression("SEARCH('{shop} x', 'Sum')")));
        assert!(!is_insights(&expression("m1 / m2")));
    }

    #[test]
    fn results_fold_into_buckets_with_latency_in_ms() {
        let results = [
            result("blue_requests", &[(120, 600.0), (60, 500.0)]),
            result("blue_errors", &[(120, 6.0)]),
            result("blue_latency_avg", &[(120, 0.081)]),
            result("green_requests", &[(120, 0.0)]),
            result("elb_5xx", &[(60, 2.0)]),
            result("blue_conn_errors", &[(120, 3.0)]),
            result("custom0_green", &[(120, 7.5), (60, 1.0)]),
        ];
        let snap = snapshot(&results, &["queue".to_string()], &BTreeMap::new());
        assert_eq!(snap.blue.buckets.len(), 2);
        let newest = snap.blue.newest().expect("a bucket");
        assert_eq!(newest.start, Timestamp::from_secs(120));
        assert_eq!(newest.errors_5xx, 6.0);
        assert_eq!(newest.target_conn_errors, 3.0);
        assert_eq!(snap.custom[0].name, "queue");
        assert_eq!(
            snap.custom[0].green,
            [
                (Timestamp::from_secs(60), 1.0),
                (Timestamp::from_secs(120), 7.5)
            ]
        );
        assert!(
            snap.custom[0].blue.is_empty(),
            "an expression that returns nothing"
        );
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
