//! The estate as the AWS platform sees it: the listener or rule, both sides' cluster, service
//! and target group, and where calls go.

use std::path::PathBuf;

use super::arn;
use crate::domain::Color;

/// Where AWS calls go; every field falls back to the standard AWS chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The listener whose default action forwards, or the rule that forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrafficTarget {
    Listener(String),
    Rule(String),
}

impl TrafficTarget {
    pub fn arn(&self) -> &str {
        match self {
            TrafficTarget::Listener(arn) | TrafficTarget::Rule(arn) => arn,
        }
    }

    /// `app/<name>/<id>`: the `LoadBalancer` dimension of the ALB's CloudWatch metrics.
    pub fn load_balancer_dimension(&self) -> Option<String> {
        arn::load_balancer_dimension(self.arn())
    }

    /// The load balancer's ARN: `arn:…:loadbalancer/app/<name>/<id>`.
    pub fn load_balancer_arn(&self) -> Option<String> {
        arn::load_balancer_arn(self.arn())
    }

    /// The listener a rule belongs to (a listener is its own).
    pub fn listener_arn(&self) -> String {
        match self {
            TrafficTarget::Listener(arn) => arn.clone(),
            TrafficTarget::Rule(rule) => arn::listener_of_rule(rule),
        }
    }

    /// The account named in the ARN, for the header.
    pub fn account(&self) -> Option<&str> {
        arn::account(self.arn())
    }

    /// The region named in the ARN, used when no region is configured.
    pub fn region(&self) -> Option<&str> {
        arn::region(self.arn())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideConfig {
    pub cluster: String,
    pub service: String,
    pub target_group_arn: String,
}

impl SideConfig {
    /// `targetgroup/<name>/<id>`: the `TargetGroup` dimension of CloudWatch metrics.
    pub fn target_group_dimension(&self) -> String {
        arn::resource(&self.target_group_arn).to_string()
    }
}

/// What cutover watches and moves, and where its AWS calls go: the part of the config the
/// AWS platform needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Estate {
    /// The config file it was read from, for messages that name a key.
    pub source: PathBuf,
    pub aws: AwsSettings,
    pub traffic: TrafficTarget,
    pub blue: SideConfig,
    pub green: SideConfig,
    /// `[service]`: one ECS service that deploys itself (BLUE_GREEN, LINEAR, CANARY); blue is
    /// its primary target group, green its alternate, and ECS writes the weights.
    pub native: bool,
    /// `[guard] alarms`: read with every metrics refresh.
    pub alarms: Vec<String>,
    /// `[[guard.metric]]`: queried per side with every metrics refresh.
    pub metrics: Vec<crate::domain::CustomMetric>,
}

impl Estate {
    pub fn side(&self, color: Color) -> &SideConfig {
        match color {
            Color::Blue => &self.blue,
            Color::Green => &self.green,
        }
    }
}
