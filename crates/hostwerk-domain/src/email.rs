//! E-mail addresses: a pragmatic parser for the addresses customers and staff type into forms.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("please enter an e-mail address like name@example.com")]
    Malformed,
    #[error("the e-mail address is too long (at most 254 characters)")]
    TooLong,
}

/// An e-mail address with a lower-cased domain part.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        if !local_ok {
            return Err(EmailError::Malformed);
        }
        let domain = crate::DomainName::parse(domain).map_err(|_| EmailError::Malformed)?;
        Ok(Self(format!("{local}@{}", domain.as_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or("")
    }

    /// The form used to compare addresses: all lower case.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The name of a mailbox, the part before the `@` of an address on a customer's domain: 1–64 characters,
/// ASCII letters (stored in lower case), digits and `. _ - +`, neither starting nor ending with a dot, no two
/// dots in a row. One rule for the menu, the API and the store (issue 17: `/ ' \` | $ {}` were let through).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MailboxName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxNameError {
    #[error("the mailbox name may use letters, digits and . _ - +")]
    Invalid,
}

impl MailboxName {
    pub fn parse(input: &str) -> Result<Self, MailboxNameError> {
        let s = input.trim().to_ascii_lowercase();
        let ok = !s.is_empty()
            && s.len() <= 64
            && !s.starts_with('.')
            && !s.ends_with('.')
            && !s.contains("..")
            && s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c));
        if ok {
            Ok(Self(s))
        } else {
            Err(MailboxNameError::Invalid)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The mailbox's address on `domain`.
    pub fn at(&self, domain: &crate::DomainName) -> EmailAddress {
        EmailAddress(format!("{}@{}", self.0, domain.as_str()))
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn mailbox_names_follow_the_documented_rule() {
        for ok in ["info", "Info", "a", "max.mustermann", "first_last", "sales-de", "user+tag", "0815"] {
            assert!(MailboxName::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(MailboxName::parse(" Info ").unwrap().as_str(), "info");
        let hostile = [
            "a/b", "a'b", "a\\b", "a`b", "a|b", "a$b", "a{b}", "a b", "a@b", "a;b", "a\"b", "a%b", "a*b", "a=b", "a?b",
            "a^b", "a~b", "a!b", "a#b", "a&b", "ä", ".a", "a.", "a..b", "", "../etc", "a\nb",
        ];
        for bad in hostile {
            assert_eq!(MailboxName::parse(bad), Err(MailboxNameError::Invalid), "{bad:?}");
        }
        assert!(MailboxName::parse(&"a".repeat(64)).is_ok());
        assert!(MailboxName::parse(&"a".repeat(65)).is_err());
    }

    proptest! {
        #[test]
        fn a_parsed_mailbox_name_is_a_valid_local_part(s in "\\PC{0,70}") {
            if let Ok(name) = MailboxName::parse(&s) {
                prop_assert!(name.as_str().chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_+".contains(c)));
                let domain = crate::DomainName::parse("example.de").unwrap();
                prop_assert_eq!(EmailAddress::parse(name.at(&domain).as_str()).unwrap(), name.at(&domain));
            }
        }
    }

    #[test]
    fn accepts_and_rejects() {
        assert_eq!(EmailAddress::parse(" Anna@Example.DE ").unwrap().as_str(), "Anna@example.de");
        for bad in [
            "",
            "anna",
            "@example.de",
            "anna@",
            "anna@localhost",
            "a b@example.de",
            "a..b@example.de",
            "anna@exa_mple.de",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = EmailAddress::parse(&s);
        }
    }
}
