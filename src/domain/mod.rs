//! Plain domain types: no I/O, no clock, std only.

mod audit_event;
mod color;
mod config_error;
mod driver;
mod health;
mod image;
mod log;
mod metrics;
mod native;
mod platform_error;
mod reports;
mod revision;
mod service;
mod signals;
mod source;
mod time;
mod weights;

pub use audit_event::{AuditEvent, AuditResult};
pub use color::Color;
pub use config_error::{ConfigError, Failure};
pub use driver::{ADD_PAUSE_HOOK, Driver, GateStep, NativeService, NativeStrategy, percent};
pub use health::TargetHealth;
pub use image::image_problem;
pub use log::{LogEntry, LogLevel, LogSource};
pub use metrics::{
    MetricBucket, MetricRow, MetricsSnapshot, SideMetrics, WindowSummary, fixed, format_count,
};
pub use native::{GateAction, NativeDeployment, PauseGate, Stage};
pub use platform_error::PlatformError;
pub use reports::{DeployReport, ScaleReport, WriteIntent, WriteReport};
pub use revision::{Rejection, revision_number, revision_warning};
pub use service::{
    Deployment, Observation, RolloutState, ServiceEvent, ServiceStatus, SideObservation,
};
pub use signals::{
    AlarmState, AlarmStatus, CustomMetric, CustomSeries, MetricLimit, MetricSource, PLACEHOLDERS,
    Placeholders,
};
pub use source::{READ_ONLY_REASON, SourceInfo, SourceKind};
pub use time::{Timestamp, format_age};
pub use weights::{ALB_MAX_WEIGHT, PercentError, Weights, parse_percent};
