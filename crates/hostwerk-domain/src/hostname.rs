//! Domain names as customers register them (`example.de`), checked against the DNS label rules.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainNameError {
    #[error("a domain name looks like example.de: letters, digits and hyphens, separated by dots")]
    Malformed,
    #[error("the domain name is too long (at most 253 characters)")]
    TooLong,
}

/// A fully qualified domain name in lower case, with at least two labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(input: &str) -> Result<Self, DomainNameError> {
        let s = input.trim().trim_end_matches('.').to_ascii_lowercase();
        if s.len() > 253 {
            return Err(DomainNameError::TooLong);
        }
        let labels: Vec<&str> = s.split('.').collect();
        if labels.len() < 2 {
            return Err(DomainNameError::Malformed);
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        let tld = labels.last().copied().unwrap_or("");
        if !labels.iter().all(|l| label_ok(l)) || tld.len() < 2 || tld.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainNameError::Malformed);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DomainName {
    type Error = DomainNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DomainName> for String {
    fn from(d: DomainName) -> String {
        d.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(DomainName::parse("Beispiel-Shop.DE.").unwrap().as_str(), "beispiel-shop.de");
        assert!(DomainName::parse("xn--mller-kva.de").is_ok());
        for bad in ["", "de", "-a.de", "a-.de", "a..de", "a.d", "exa mple.de", "1.2.3.4", "a_b.de"] {
            assert!(DomainName::parse(bad).is_err(), "{bad}");
        }
    }
}
