use std::fmt;
use std::str::FromStr;

use super::service::Fault;

/// What the simulated world does once the demo starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scenario {
    /// Green comes up healthy and serves as well as blue.
    #[default]
    Healthy,
    /// Green's 5xx rate climbs to about 8% once it carries traffic.
    BadGreen,
    /// Green answers three times slower than blue.
    SlowGreen,
    /// Green's tasks crash and hang under load: its requests fail at the load balancer.
    CrashyGreen,
    /// Green's ALB metrics look fine, but the shop's checkout-error alarm fires.
    AlarmGreen,
    /// A share of API calls fail or are throttled.
    FlakyApi,
    /// One ECS service deploying itself LINEAR 20% at a time, a PAUSE gate before each step;
    /// the new revision is healthy.
    NativeLinear,
    /// ECS-native CANARY: 10% first, then the rest, a gate before each.
    NativeCanary,
    /// ECS-native LINEAR whose new revision fails once it carries traffic.
    NativeBad,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::Healthy,
        Scenario::BadGreen,
        Scenario::SlowGreen,
        Scenario::CrashyGreen,
        Scenario::AlarmGreen,
        Scenario::FlakyApi,
        Scenario::NativeLinear,
        Scenario::NativeCanary,
        Scenario::NativeBad,
    ];

    /// How ECS moves the weights in a native scenario; `None` for the weighted pair.
    pub fn native(self) -> Option<crate::domain::NativeStrategy> {
        use crate::domain::NativeStrategy;
        match self {
            Scenario::NativeLinear | Scenario::NativeBad => {
                Some(NativeStrategy::Linear { step: 20.0 })
            }
            Scenario::NativeCanary => Some(NativeStrategy::Canary { percent: 10.0 }),
            _ => None,
        }
    }

    /// How green's build fails once it carries traffic, in this scenario.
    pub fn green_fault(self) -> Option<Fault> {
        match self {
            Scenario::BadGreen | Scenario::NativeBad => Some(Fault::Errors),
            Scenario::SlowGreen => Some(Fault::Slow),
            Scenario::CrashyGreen => Some(Fault::Crashes),
            Scenario::AlarmGreen => Some(Fault::Alarm),
            Scenario::Healthy
            | Scenario::FlakyApi
            | Scenario::NativeLinear
            | Scenario::NativeCanary => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::BadGreen => "bad-green",
            Scenario::SlowGreen => "slow-green",
            Scenario::CrashyGreen => "crashy-green",
            Scenario::AlarmGreen => "alarm-green",
            Scenario::FlakyApi => "flaky-api",
            Scenario::NativeLinear => "native-linear",
            Scenario::NativeCanary => "native-canary",
            Scenario::NativeBad => "native-bad",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scenario::Healthy => "green comes up healthy and serves as well as blue",
            Scenario::BadGreen => {
                "green's 5xx rate climbs to ~8% once it carries traffic (the 5xx row stops it)"
            }
            Scenario::SlowGreen => "green answers 3x slower than blue (the latency row stops it)",
            Scenario::CrashyGreen => {
                "green's tasks crash under load: ~10% of its requests fail as ELB 502/504 and \
                 target connection errors, almost no target 5xx (the lb errors row stops it)"
            }
            Scenario::AlarmGreen => {
                "green's ALB metrics look fine, but the shop-checkout-errors alarm fires a \
                 minute after green carries traffic (the alarms row stops it)"
            }
            Scenario::FlakyApi => "a quarter of API calls fail or are throttled",
            Scenario::NativeLinear => {
                "one ECS service deploying itself LINEAR 20%: ECS moves the weights, a PAUSE gate \
                 waits before each of 5 steps (c continues, R rolls back)"
            }
            Scenario::NativeCanary => {
                "ECS-native CANARY: 10% after the first gate, the rest after the second"
            }
            Scenario::NativeBad => {
                "ECS-native LINEAR whose new revision fails: the guard refuses c once it carries \
                 traffic, and the autopilot rolls back"
            }
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Scenario::ALL.iter().map(|s| s.name()).collect();
                format!("unknown scenario '{s}': choose one of {}", names.join(", "))
            })
    }
}
