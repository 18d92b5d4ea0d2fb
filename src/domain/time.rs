use std::fmt;
use std::time::Duration;

/// Milliseconds since the Unix epoch, in the platform's clock (simulated time in the demo).
///
/// The core never reads a clock: every message carries the `Timestamp` it happened at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub fn from_secs(secs: u64) -> Self {
        Timestamp(secs * 1000)
    }

    pub fn millis(self) -> u64 {
        self.0
    }

    pub fn plus(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(d.as_millis() as u64))
    }

    /// How long after `earlier` this is; zero when `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }

    /// `HH:MM:SS` in UTC: operators compare times across regions and log sources.
    pub fn clock_utc(self) -> String {
        let secs_of_day = (self.0 / 1000) % 86_400;
        format!(
            "{:02}:{:02}:{:02}",
            secs_of_day / 3600,
            (secs_of_day / 60) % 60,
            secs_of_day % 60
        )
    }

    /// The start of the minute this falls in: CloudWatch buckets are keyed by it.
    pub fn floor_minute(self) -> Timestamp {
        Timestamp(self.0 - self.0 % 60_000)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.clock_utc())
    }
}

/// A short human age: `4s`, `2m05s`, `1h03m`.
pub fn format_age(age: Duration) -> String {
    let s = age.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s / 60) % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_is_utc_hours_minutes_seconds() {
        // 2026-11-27T07:05:09Z
        let t = Timestamp::from_secs(1_795_763_109);
        assert_eq!(t.clock_utc(), "07:05:09");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(format_age(Duration::from_secs(4)), "4s");
        assert_eq!(format_age(Duration::from_secs(125)), "2m05s");
        assert_eq!(format_age(Duration::from_secs(3780)), "1h03m");
    }

    #[test]
    fn since_never_goes_negative() {
        assert_eq!(Timestamp(5).since(Timestamp(10)), Duration::ZERO);
    }
}
