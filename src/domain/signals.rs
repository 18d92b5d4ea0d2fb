//! What the guard reads besides the load balancer's own metrics: the operator's CloudWatch
//! alarms (`[guard] alarms`) and metrics (`[[guard.metric]]`), as configured and as read.

use super::Timestamp;

/// A CloudWatch alarm's state, as `DescribeAlarms` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    /// CloudWatch's own word for the state, as operators know it from the console.
    pub fn as_aws(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    pub fn from_aws(value: &str) -> Option<Self> {
        match value {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }
}

/// One configured alarm as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
}

/// Where a custom metric's values come from, per side: the strings may hold the placeholders
/// `{target_group}`, `{load_balancer}`, `{service}` and `{cluster}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricSource {
    Metric {
        namespace: String,
        metric: String,
        dimensions: Vec<(String, String)>,
        stat: String,
    },
    /// Metric math or a Metrics Insights query that stands alone (SEARCH, SELECT …).
    Expression(String),
}

/// The values that fill a custom metric's placeholders for one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholders {
    pub target_group: String,
    pub load_balancer: String,
    pub service: String,
    pub cluster: String,
}

pub const PLACEHOLDERS: [&str; 4] = [
    "{target_group}",
    "{load_balancer}",
    "{service}",
    "{cluster}",
];

impl Placeholders {
    pub fn fill(&self, text: &str) -> String {
        text.replace("{target_group}", &self.target_group)
            .replace("{load_balancer}", &self.load_balancer)
            .replace("{service}", &self.service)
            .replace("{cluster}", &self.cluster)
    }
}

impl MetricSource {
    /// The source for one side, its placeholders filled.
    pub fn filled(&self, values: &Placeholders) -> MetricSource {
        match self {
            MetricSource::Metric {
                namespace,
                metric,
                dimensions,
                stat,
            } => MetricSource::Metric {
                namespace: values.fill(namespace),
                metric: values.fill(metric),
                dimensions: dimensions
                    .iter()
                    .map(|(k, v)| (values.fill(k), values.fill(v)))
                    .collect(),
                stat: stat.clone(),
            },
            MetricSource::Expression(e) => MetricSource::Expression(values.fill(e)),
        }
    }
}

/// When a custom metric counts against the candidate; several may be set, any one is enough.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricLimit {
    /// Worse above this many times the live side's value (`max_ratio`).
    Ratio(f64),
    /// Worse above the live side's value plus this much (`max_increase`).
    Increase(f64),
    /// Worse above this value, whatever the live side does (`max`).
    Ceiling(f64),
}

/// One `[[guard.metric]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMetric {
    pub name: String,
    pub source: MetricSource,
    pub limits: Vec<MetricLimit>,
}

/// A custom metric's one-minute values per side, as read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomSeries {
    pub name: String,
    pub blue: Vec<(Timestamp, f64)>,
    pub green: Vec<(Timestamp, f64)>,
    /// Why these values cannot be judged by: CloudWatch answered the query with an error,
    /// or only part of the data (`PartialData`, `InternalError`, `Forbidden`), or an
    /// expression returned several series where one number per side is needed. The row is
    /// then stale with this reason; the other rows stand.
    pub problem: Option<String>,
}

impl CustomSeries {
    pub fn side(&self, color: super::Color) -> &[(Timestamp, f64)] {
        match color {
            super::Color::Blue => &self.blue,
            super::Color::Green => &self.green,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_every_string_of_the_source() {
        let source = MetricSource::Metric {
            namespace: "shop".into(),
            metric: "CheckoutErrors".into(),
            dimensions: vec![
                ("ServiceName".into(), "{service}".into()),
                ("ClusterName".into(), "{cluster}".into()),
            ],
            stat: "Sum".into(),
        };
        let values = Placeholders {
            target_group: "targetgroup/g/1".into(),
            load_balancer: "app/shop/2".into(),
            service: "shop-green".into(),
            cluster: "prod".into(),
        };
        let MetricSource::Metric { dimensions, .. } = source.filled(&values) else {
            panic!("a metric stays a metric");
        };
        assert_eq!(dimensions[0].1, "shop-green");
        assert_eq!(dimensions[1].1, "prod");
        assert_eq!(
            MetricSource::Expression("SUM({load_balancer}|{target_group})".into()).filled(&values),
            MetricSource::Expression("SUM(app/shop/2|targetgroup/g/1)".into())
        );
        assert_eq!(AlarmState::from_aws("ALARM"), Some(AlarmState::Alarm));
        assert_eq!(AlarmState::InsufficientData.as_aws(), "INSUFFICIENT_DATA");
    }
}
