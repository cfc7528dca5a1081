//! Staff accounts of the provider: login names and roles.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a staff member may do. Higher roles include the rights of lower ones where a page says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StaffRole {
    /// Customer service ("Kundenservice").
    Support,
    /// Management ("Geschäftsleitung").
    Management,
    /// Operators: staff accounts, tariff catalog, nodes, outbox.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("the role must be support, management or admin")]
    UnknownRole,
    #[error("a staff login is 2–32 characters: lower-case letters, digits, '.', '-' or '_', starting with a letter")]
    MalformedLogin,
}

impl StaffRole {
    pub const ALL: [StaffRole; 3] = [StaffRole::Support, StaffRole::Management, StaffRole::Admin];

    pub fn parse(input: &str) -> Result<Self, StaffError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "support" => Ok(Self::Support),
            "management" => Ok(Self::Management),
            "admin" => Ok(Self::Admin),
            _ => Err(StaffError::UnknownRole),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Support => "support",
            Self::Management => "management",
            Self::Admin => "admin",
        }
    }

    /// Whether this role may manage staff, tariffs, nodes and see the outbox and audit log.
    pub fn is_admin(self) -> bool {
        self == Self::Admin
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff login name such as `support` or `anna.m`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StaffLogin(String);

impl StaffLogin {
    pub fn parse(input: &str) -> Result<Self, StaffError> {
        let s = input.trim();
        let ok = (2..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(StaffError::MalformedLogin)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StaffLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(StaffRole::parse("Management").unwrap(), StaffRole::Management);
        assert!(StaffRole::parse("root").is_err());
        assert!(StaffLogin::parse("chef").is_ok());
        for bad in ["", "a", "Chef", "1chef", "chef!", &"a".repeat(33)] {
            assert!(StaffLogin::parse(bad).is_err(), "{bad}");
        }
    }
}
