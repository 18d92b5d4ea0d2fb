use std::fmt;

use super::Color;

/// The split of production traffic between the two target groups, in whole percentage points.
///
/// Only green's share is stored, so blue + green is 100 by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weights {
    green: u8,
}

/// The largest weight an ALB forward action accepts for one target group.
pub const ALB_MAX_WEIGHT: u16 = 999;

impl Weights {
    pub const ALL_BLUE: Weights = Weights { green: 0 };
    pub const ALL_GREEN: Weights = Weights { green: 100 };

    /// Green's share; values above 100 are clamped (callers validate user input first with
    /// [`parse_percent`]).
    pub fn with_green(green_percent: u8) -> Self {
        Weights {
            green: green_percent.min(100),
        }
    }

    pub fn green(self) -> u8 {
        self.green
    }

    pub fn blue(self) -> u8 {
        100 - self.green
    }

    /// `color`'s share.
    pub fn share(self, color: Color) -> u8 {
        match color {
            Color::Blue => self.blue(),
            Color::Green => self.green,
        }
    }

    /// The split that gives `color` this share; values above 100 are clamped.
    pub fn with_share(color: Color, percent: u8) -> Self {
        let percent = percent.min(100);
        match color {
            Color::Blue => Weights::with_green(100 - percent),
            Color::Green => Weights::with_green(percent),
        }
    }

    /// All traffic to `color`.
    pub fn all_to(color: Color) -> Self {
        Weights::with_share(color, 100)
    }

    /// Green's share moved by `delta` points, held inside 0..=100.
    pub fn nudged(self, delta: i16) -> Self {
        let green = i16::from(self.green).saturating_add(delta).clamp(0, 100);
        Weights::with_green(green as u8)
    }

    /// The distance in points between two splits.
    pub fn distance(self, other: Weights) -> u8 {
        self.green.abs_diff(other.green)
    }

    /// ALB target-group weights `(blue, green)`. Percentages are valid ALB weights as they are,
    /// and writing them unscaled keeps the listener readable in the AWS console.
    pub fn to_alb(self) -> (u16, u16) {
        (u16::from(self.blue()), u16::from(self.green))
    }

    /// The split that ALB weights produce, rounded to whole points. `None` when both are zero:
    /// such an action sends nothing to either group.
    pub fn from_alb(blue: u16, green: u16) -> Option<Self> {
        let total = u32::from(blue) + u32::from(green);
        if total == 0 {
            return None;
        }
        let green_pct = (u32::from(green) * 100 + total / 2) / total;
        Some(Weights::with_green(green_pct as u8))
    }
}

impl fmt::Display for Weights {
    /// `90/10`: blue first, as the panels stand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.blue(), self.green)
    }
}

/// Why a typed percentage was rejected; the text is shown inline under the prompt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PercentError {
    #[error("type a whole number from 0 to 100")]
    Empty,
    #[error("'{0}' is not a whole number: type 0 to 100")]
    NotANumber(String),
    #[error("{0} is out of range: a share is 0 to 100")]
    OutOfRange(i64),
}

/// Parses an operator's percentage (`"30"`, `" 30 "`, `"30%"`), accepting only 0..=100.
pub fn parse_percent(text: &str) -> Result<u8, PercentError> {
    let trimmed = text.trim();
    let digits = trimmed.strip_suffix('%').unwrap_or(trimmed).trim();
    if digits.is_empty() {
        return Err(PercentError::Empty);
    }
    let value: i64 = digits
        .parse()
        .map_err(|_| PercentError::NotANumber(trimmed.to_string()))?;
    if !(0..=100).contains(&value) {
        return Err(PercentError::OutOfRange(value));
    }
    Ok(value as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentages_accept_zero_to_hundred() {
        assert_eq!(parse_percent("0"), Ok(0));
        assert_eq!(parse_percent(" 30 "), Ok(30));
        assert_eq!(parse_percent("45%"), Ok(45));
        assert_eq!(parse_percent("100"), Ok(100));
    }

    #[test]
    fn percentages_reject_words_negatives_overflow_and_empty() {
        assert_eq!(parse_percent(""), Err(PercentError::Empty));
        assert_eq!(parse_percent("  "), Err(PercentError::Empty));
        assert_eq!(
            parse_percent("abc"),
            Err(PercentError::NotANumber("abc".into()))
        );
        assert_eq!(parse_percent("150"), Err(PercentError::OutOfRange(150)));
        assert_eq!(parse_percent("-5"), Err(PercentError::OutOfRange(-5)));
        assert_eq!(
            parse_percent("12.5"),
            Err(PercentError::NotANumber("12.5".into()))
        );
        assert!(matches!(
            parse_percent("99999999999999999999"),
            Err(PercentError::NotANumber(_))
        ));
    }

    #[test]
    fn alb_weights_round_to_points() {
        assert_eq!(Weights::from_alb(90, 10), Some(Weights::with_green(10)));
        assert_eq!(Weights::from_alb(0, 999), Some(Weights::ALL_GREEN));
        assert_eq!(Weights::from_alb(2, 1), Some(Weights::with_green(33)));
        assert_eq!(Weights::from_alb(0, 0), None);
    }

    #[test]
    fn shares_name_either_side() {
        let w = Weights::with_share(Color::Blue, 30);
        assert_eq!((w.share(Color::Blue), w.share(Color::Green)), (30, 70));
        assert_eq!(Weights::all_to(Color::Blue), Weights::ALL_BLUE);
        assert_eq!(Weights::all_to(Color::Green), Weights::ALL_GREEN);
        assert_eq!(Weights::with_share(Color::Blue, 200), Weights::ALL_BLUE);
    }

    #[test]
    fn display_puts_blue_first() {
        assert_eq!(Weights::with_green(30).to_string(), "70/30");
    }

    proptest! {
        #[test]
        fn shares_always_sum_to_hundred(g in any::<u8>(), delta in any::<i16>()) {
            let w = Weights::with_green(g).nudged(delta);
            prop_assert_eq!(u16::from(w.blue()) + u16::from(w.green()), 100);
        }

        #[test]
        fn alb_round_trip_is_exact(g in 0u8..=100) {
            let w = Weights::with_green(g);
            let (b, gr) = w.to_alb();
            prop_assert!(b <= ALB_MAX_WEIGHT && gr <= ALB_MAX_WEIGHT);
            prop_assert_eq!(Weights::from_alb(b, gr), Some(w));
        }

        #[test]
        fn parsed_percent_is_in_range(s in ".{0,8}") {
            if let Ok(p) = parse_percent(&s) {
                prop_assert!(p <= 100);
            }
        }
    }
}
