//! Plain domain types: no I/O, no clock, std only.

mod color;
mod health;
mod log;
mod metrics;
mod service;
mod time;
mod weights;

pub use color::Color;
pub use health::TargetHealth;
pub use log::{LogEntry, LogLevel, LogSource};
pub use metrics::{MetricBucket, MetricsSnapshot, SideMetrics, WindowSummary, format_count};
pub use service::{Observation, RolloutState, ServiceEvent, ServiceStatus, SideObservation};
pub use time::{Timestamp, format_age};
pub use weights::{ALB_MAX_WEIGHT, PercentError, Weights, parse_percent};
