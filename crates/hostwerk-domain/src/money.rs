//! Money as integer euro cents: parsing, arithmetic without overflow, and display.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an amount was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount is written like 12.99 or 12,99 (at most two decimals)")]
    Malformed,
    #[error("the amount is too large")]
    Overflow,
    #[error("the amount must not be negative")]
    Negative,
}

/// An amount in euro cents. Arithmetic is checked; amounts never pass through floating point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    pub const fn new(cents: i64) -> Self {
        Cents(cents)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    /// Parses a non-negative euro amount: `12`, `12.5`, `12,99`, `1.234,56` is rejected (no grouping).
    pub fn parse_euros(input: &str) -> Result<Self, MoneyError> {
        let s = input.trim().trim_end_matches('€').trim();
        if s.starts_with('-') {
            return Err(MoneyError::Negative);
        }
        let (whole, frac) = match s.find([',', '.']) {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (s.contains([',', '.']) && frac.is_empty())
        {
            return Err(MoneyError::Malformed);
        }
        let euros: i64 = whole.parse().map_err(|_| MoneyError::Overflow)?;
        let cents: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| MoneyError::Malformed)? * 10,
            _ => frac.parse::<i64>().map_err(|_| MoneyError::Malformed)?,
        };
        euros.checked_mul(100).and_then(|c| c.checked_add(cents)).map(Cents).ok_or(MoneyError::Overflow)
    }

    pub fn checked_add(self, other: Cents) -> Option<Cents> {
        self.0.checked_add(other.0).map(Cents)
    }

    pub fn checked_sub(self, other: Cents) -> Option<Cents> {
        self.0.checked_sub(other.0).map(Cents)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Cents> {
        self.0.checked_mul(factor).map(Cents)
    }

    /// `12,99 €` (German) or `€12.99` (English).
    pub fn format(self, lang: crate::Language) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (euros, cents) = (abs / 100, abs % 100);
        match lang {
            crate::Language::De => format!("{sign}{},{cents:02} €", group(euros, '.')),
            crate::Language::En => format!("{sign}€{}.{cents:02}", group(euros, ',')),
        }
    }
}

fn group(mut n: u64, sep: char) -> String {
    let mut parts = Vec::new();
    loop {
        if n < 1000 {
            parts.push(n.to_string());
            break;
        }
        parts.push(format!("{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join(&sep.to_string())
}

impl fmt::Display for Cents {
    /// Plain machine form: `12.99`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Language;
    use proptest::prelude::*;

    #[test]
    fn parses() {
        assert_eq!(Cents::parse_euros("12,99").unwrap(), Cents(1299));
        assert_eq!(Cents::parse_euros("12.5").unwrap(), Cents(1250));
        assert_eq!(Cents::parse_euros("7 €").unwrap(), Cents(700));
        assert_eq!(Cents::parse_euros("0,05").unwrap(), Cents(5));
        for bad in ["", "abc", "1.234,56", "1,", ",5", "1.999", "1e3"] {
            assert!(Cents::parse_euros(bad).is_err(), "{bad}");
        }
        assert_eq!(Cents::parse_euros("-1"), Err(MoneyError::Negative));
        assert_eq!(Cents::parse_euros("99999999999999999999"), Err(MoneyError::Overflow));
    }

    #[test]
    fn formats() {
        assert_eq!(Cents(123456).format(Language::De), "1.234,56 €");
        assert_eq!(Cents(123456).format(Language::En), "€1,234.56");
        assert_eq!(Cents(5).format(Language::De), "0,05 €");
        assert_eq!(Cents(-250).to_string(), "-2.50");
    }

    proptest! {
        #[test]
        fn display_roundtrips(c in 0i64..1_000_000_000_000) {
            prop_assert_eq!(Cents::parse_euros(&Cents(c).to_string()).unwrap(), Cents(c));
        }

        #[test]
        fn parse_never_panics(s in ".*") {
            let _ = Cents::parse_euros(&s);
        }

        #[test]
        fn addition_is_exact(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            prop_assert_eq!(Cents(a).checked_add(Cents(b)).unwrap().get(), a + b);
            prop_assert_eq!(Cents(a).checked_add(Cents(b)).unwrap().checked_sub(Cents(b)).unwrap(), Cents(a));
        }
    }
}
