use std::fmt;
use std::str::FromStr;

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
    /// A share of API calls fail or are throttled.
    FlakyApi,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Healthy,
        Scenario::BadGreen,
        Scenario::SlowGreen,
        Scenario::FlakyApi,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Healthy => "healthy",
            Scenario::BadGreen => "bad-green",
            Scenario::SlowGreen => "slow-green",
            Scenario::FlakyApi => "flaky-api",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scenario::Healthy => "green comes up healthy and serves as well as blue",
            Scenario::BadGreen => "green's 5xx rate climbs to ~8% once it carries traffic",
            Scenario::SlowGreen => "green answers 3x slower than blue",
            Scenario::FlakyApi => "a quarter of API calls fail or are throttled",
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
