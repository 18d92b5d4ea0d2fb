use std::fmt;

use super::Color;

/// The split of production traffic between the two target groups, exactly as the ALB holds it.
///
/// The ALB's own weights (0–999 each, never both 0) are kept, so 999:1 stays 0.1% and a side is
/// idle only at weight exactly 0. Splits cutover writes are whole percentages (`with_green`);
/// two weight pairs with the same ratio are the same split.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    blue: u16,
    green: u16,
}

/// The largest weight an ALB forward action accepts for one target group.
pub const ALB_MAX_WEIGHT: u16 = 999;

impl PartialEq for Weights {
    fn eq(&self, other: &Self) -> bool {
        u32::from(self.blue) * u32::from(other.green)
            == u32::from(other.blue) * u32::from(self.green)
    }
}

impl Eq for Weights {}

impl std::hash::Hash for Weights {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let divisor = gcd(self.blue, self.green).max(1);
        (self.blue / divisor, self.green / divisor).hash(state);
    }
}

fn gcd(a: u16, b: u16) -> u16 {
    if b == 0 { a } else { gcd(b, a % b) }
}

impl Weights {
    pub const ALL_BLUE: Weights = Weights {
        blue: 100,
        green: 0,
    };
    pub const ALL_GREEN: Weights = Weights {
        blue: 0,
        green: 100,
    };

    /// Green's share in whole points; values above 100 are clamped (callers validate user
    /// input first with [`parse_percent`]).
    pub fn with_green(green_percent: u8) -> Self {
        let green = green_percent.min(100);
        Weights {
            blue: u16::from(100 - green),
            green: u16::from(green),
        }
    }

    /// `color`'s share in tenths of a point, rounded, but never 0 for a side with weight nor
    /// 1000 for a side beside one with weight. The two sides add up to 1000.
    pub fn permille(self, color: Color) -> u16 {
        let green = self.green_permille();
        match color {
            Color::Green => green,
            Color::Blue => 1000 - green,
        }
    }

    fn green_permille(self) -> u16 {
        let total = u32::from(self.blue) + u32::from(self.green);
        if self.green == 0 {
            return 0;
        }
        if self.blue == 0 {
            return 1000;
        }
        let rounded = (u32::from(self.green) * 1000 + total / 2) / total;
        (rounded as u16).clamp(1, 999)
    }

    /// `color`'s share in whole points, for the guard, plans and nudges: rounded, but a side
    /// with any weight is never 0 and a side beside one with weight never 100.
    pub fn share(self, color: Color) -> u8 {
        let green = match self.green_permille() {
            0 => 0,
            1000 => 100,
            permille => (((permille + 5) / 10) as u8).clamp(1, 99),
        };
        match color {
            Color::Green => green,
            Color::Blue => 100 - green,
        }
    }

    pub fn green(self) -> u8 {
        self.share(Color::Green)
    }

    pub fn blue(self) -> u8 {
        self.share(Color::Blue)
    }

    /// `color`'s share as people read it: `10`, `0.1`, `99.9` (no `%`).
    pub fn percent_text(self, color: Color) -> String {
        let permille = self.permille(color);
        if permille.is_multiple_of(10) {
            (permille / 10).to_string()
        } else {
            format!("{}.{}", permille / 10, permille % 10)
        }
    }

    /// `color`'s share as a JSON number: a whole number where it is one, else one decimal.
    pub fn percent_json(self, color: Color) -> serde_json::Value {
        let permille = self.permille(color);
        if permille.is_multiple_of(10) {
            serde_json::Value::from(permille / 10)
        } else {
            serde_json::Value::from(f64::from(permille) / 10.0)
        }
    }

    /// The ALB weight of `color`'s target group, as read or as written.
    pub fn alb(self, color: Color) -> u16 {
        match color {
            Color::Blue => self.blue,
            Color::Green => self.green,
        }
    }

    /// Idle means weight exactly 0 (a 999:1 side still gets requests).
    pub fn is_idle(self, color: Color) -> bool {
        self.alb(color) == 0
    }

    /// The split that gives `color` this share; values above 100 are clamped.
    pub fn with_share(color: Color, percent: u8) -> Self {
        let percent = percent.min(100);
        match color {
            Color::Blue => Weights::with_green(100 - percent),
            Color::Green => Weights::with_green(percent),
        }
    }

    /// The side at 0% and the side at 100%, if the split has them. Idle means weight exactly
    /// 0: a side at 999:1 still gets requests.
    pub fn idle_and_live(self) -> (Option<Color>, Option<Color>) {
        if self.is_idle(Color::Green) {
            (Some(Color::Green), Some(Color::Blue))
        } else if self.is_idle(Color::Blue) {
            (Some(Color::Blue), Some(Color::Green))
        } else {
            (None, None)
        }
    }

    /// All traffic to `color`.
    pub fn all_to(color: Color) -> Self {
        Weights::with_share(color, 100)
    }

    /// Green's share moved by `delta` points, held inside 0..=100.
    pub fn nudged(self, delta: i16) -> Self {
        let green = i16::from(self.green()).saturating_add(delta).clamp(0, 100);
        Weights::with_green(green as u8)
    }

    /// The distance in points between two splits.
    pub fn distance(self, other: Weights) -> u8 {
        self.green().abs_diff(other.green())
    }

    /// ALB target-group weights `(blue, green)`: as read, or for a whole-point split the
    /// percentages themselves (valid ALB weights, and readable in the AWS console).
    pub fn to_alb(self) -> (u16, u16) {
        (self.blue, self.green)
    }

    /// The split that ALB weights produce, exactly. `None` when both are zero (such an action
    /// sends nothing to either group) or either is above the ALB's 999.
    pub fn from_alb(blue: u16, green: u16) -> Option<Self> {
        if blue == 0 && green == 0 || blue > ALB_MAX_WEIGHT || green > ALB_MAX_WEIGHT {
            return None;
        }
        Some(Weights { blue, green })
    }
}

impl fmt::Display for Weights {
    /// `90/10`, `99.9/0.1`: blue first, as the panels stand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}",
            self.percent_text(Color::Blue),
            self.percent_text(Color::Green)
        )
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
    fn alb_weights_are_kept_exactly() {
        assert_eq!(Weights::from_alb(90, 10), Some(Weights::with_green(10)));
        assert_eq!(Weights::from_alb(900, 100), Some(Weights::with_green(10)));
        assert_eq!(Weights::from_alb(0, 999), Some(Weights::ALL_GREEN));
        assert_eq!(Weights::from_alb(0, 0), None);
        assert_eq!(Weights::from_alb(1000, 1), None);
        let third = Weights::from_alb(2, 1).expect("valid");
        assert_eq!(
            (third.green(), third.to_string()),
            (33, "66.7/33.3".to_string())
        );
    }

    #[test]
    fn a_side_with_weight_one_is_not_idle() {
        let w = Weights::from_alb(999, 1).expect("valid");
        assert_eq!(w.to_string(), "99.9/0.1");
        assert_eq!((w.blue(), w.green()), (99, 1), "never rounded to 0 or 100");
        assert!(!w.is_idle(Color::Green) && !w.is_idle(Color::Blue));
        assert_ne!(w, Weights::ALL_BLUE);
        assert_eq!(w.percent_json(Color::Green), serde_json::json!(0.1));
        assert_eq!(w.percent_json(Color::Blue), serde_json::json!(99.9));
        assert_eq!(
            Weights::with_green(10).percent_json(Color::Green),
            serde_json::json!(10)
        );
        let other = Weights::from_alb(1, 999).expect("valid");
        assert_eq!(
            (other.to_string(), other.blue()),
            ("0.1/99.9".to_string(), 1)
        );
        assert_eq!(
            Weights::from_alb(0, 5).map(|w| w.is_idle(Color::Blue)),
            Some(true)
        );
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
        fn any_alb_pair_keeps_a_side_with_weight_off_zero(b in 0u16..=999, g in 0u16..=999) {
            if let Some(w) = Weights::from_alb(b, g) {
                prop_assert_eq!(w.is_idle(Color::Blue), w.blue() == 0);
                prop_assert_eq!(w.is_idle(Color::Green), w.green() == 0);
                prop_assert_eq!(u16::from(w.blue()) + u16::from(w.green()), 100);
                prop_assert_eq!(w.permille(Color::Blue) + w.permille(Color::Green), 1000);
            }
        }

        #[test]
        fn parsed_percent_is_in_range(s in ".{0,8}") {
            if let Ok(p) = parse_percent(&s) {
                prop_assert!(p <= 100);
            }
        }
    }
}
