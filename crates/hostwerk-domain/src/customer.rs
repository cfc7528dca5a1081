//! Customers: the customer number (`K` + 7 digits), names and postal addresses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a customer number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerNumberError {
    #[error("a customer number is the letter K followed by 7 digits, e.g. K1000001")]
    Malformed,
}

/// A customer number such as `K1000001`: the letter `K` and exactly seven digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerNumber(u32);

impl CustomerNumber {
    /// The smallest number handed out (`K1000001`).
    pub const FIRST: CustomerNumber = CustomerNumber(1_000_001);

    /// Parses `K1234567` (surrounding spaces and a lower-case `k` are accepted).
    pub fn parse(input: &str) -> Result<Self, CustomerNumberError> {
        let s = input.trim();
        let digits = s.strip_prefix('K').or_else(|| s.strip_prefix('k')).ok_or(CustomerNumberError::Malformed)?;
        if digits.len() != 7 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CustomerNumberError::Malformed);
        }
        digits.parse::<u32>().map(CustomerNumber).map_err(|_| CustomerNumberError::Malformed)
    }

    /// Builds the number from its sequence value; `None` outside `K0000000..=K9999999`.
    pub fn from_sequence(value: u32) -> Option<Self> {
        (value <= 9_999_999).then_some(CustomerNumber(value))
    }

    /// The numeric part.
    pub fn sequence(self) -> u32 {
        self.0
    }

    /// The number that follows this one, if any.
    pub fn next(self) -> Option<Self> {
        Self::from_sequence(self.0 + 1)
    }
}

impl fmt::Display for CustomerNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "K{:07}", self.0)
    }
}

impl FromStr for CustomerNumber {
    type Err = CustomerNumberError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CustomerNumber {
    type Error = CustomerNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CustomerNumber> for String {
    fn from(n: CustomerNumber) -> String {
        n.to_string()
    }
}

/// Why a name or address field was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is too long (at most {max} characters)")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
    #[error("the country is written as its two-letter ISO 3166-1 code, such as DE, AT or CH")]
    UnknownCountry,
}

fn clean_text(field: &'static str, input: &str, max: usize) -> Result<String, ContactError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ContactError::Empty { field });
    }
    if trimmed.chars().count() > max {
        return Err(ContactError::TooLong { field, max });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ContactError::ControlCharacters { field });
    }
    Ok(trimmed.to_owned())
}

/// A customer's full name (person or company), 1–120 characters without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerName(String);

impl CustomerName {
    pub fn parse(input: &str) -> Result<Self, ContactError> {
        clean_text("name", input, 120).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A postal address: street with number, postal code, city and an ISO country code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostalAddress {
    pub street: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl PostalAddress {
    /// Parses the four parts; the country is an assigned two-letter ISO 3166-1 code such as `DE` (any case).
    pub fn parse(street: &str, postal_code: &str, city: &str, country: &str) -> Result<Self, ContactError> {
        let street = clean_text("street", street, 120)?;
        let postal_code = clean_text("postal code", postal_code, 16)?;
        let city = clean_text("city", city, 80)?;
        let country = clean_text("country", country, 2)?.to_ascii_uppercase();
        if isocountry::CountryCode::for_alpha2(&country).is_err() {
            return Err(ContactError::UnknownCountry);
        }
        Ok(Self { street, postal_code, city, country })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_displays() {
        let n = CustomerNumber::parse(" k1000001 ").unwrap();
        assert_eq!(n.to_string(), "K1000001");
        assert_eq!(n.next().unwrap().to_string(), "K1000002");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "K", "K123456", "K12345678", "1000001", "K10000a1", "X1000001", "K+100000", "K１000001"] {
            assert_eq!(CustomerNumber::parse(bad), Err(CustomerNumberError::Malformed), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(CustomerName::parse("  Anna  ").unwrap().as_str(), "Anna");
        assert!(CustomerName::parse("   ").is_err());
        assert!(CustomerName::parse(&"x".repeat(121)).is_err());
        assert!(CustomerName::parse("a\u{0}b").is_err());
        assert!(PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", "de").is_ok());
        assert!(PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", "D1").is_err());
        // Only assigned ISO 3166-1 codes (issue 16).
        for code in ["DE", "at", " ch ", "LU", "NL", "US"] {
            assert!(PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", code).is_ok(), "{code}");
        }
        for code in ["XX", "ZZ", "EU", "UK", "QQ"] {
            assert_eq!(
                PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", code),
                Err(ContactError::UnknownCountry),
                "{code}"
            );
        }
        assert_eq!(PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", "de").unwrap().country, "DE");
    }

    proptest! {
        #[test]
        fn roundtrip(n in 0u32..=9_999_999) {
            let number = CustomerNumber::from_sequence(n).unwrap();
            prop_assert_eq!(CustomerNumber::parse(&number.to_string()).unwrap(), number);
        }

        #[test]
        fn never_panics(s in ".*") {
            let _ = CustomerNumber::parse(&s);
        }
    }
}
