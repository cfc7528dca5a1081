//! Secrets typed by people: the customer-menu password and the telephone password.
//!
//! Both are only ever held long enough to hash them; `Debug` never prints them.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {min} characters")]
    TooShort { min: usize },
    #[error("the password must have at most {max} characters")]
    TooLong { max: usize },
    #[error("the password must not consist of spaces only")]
    Blank,
}

fn check_length(input: &str, min: usize, max: usize) -> Result<(), PasswordError> {
    let n = input.chars().count();
    if input.trim().is_empty() && n > 0 {
        return Err(PasswordError::Blank);
    }
    if n < min {
        return Err(PasswordError::TooShort { min });
    }
    if n > max {
        return Err(PasswordError::TooLong { max });
    }
    Ok(())
}

/// A customer-menu or staff password: 10 to 128 characters, no composition rules (NIST SP 800-63B).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 128;

    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        check_length(input, Self::MIN, Self::MAX)?;
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The telephone password ("Telefonpasswort") phone support asks for: 8 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct PhonePassword(String);

impl PhonePassword {
    pub const MIN: usize = 8;
    pub const MAX: usize = 128;

    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        check_length(input, Self::MIN, Self::MAX)?;
        Ok(Self(input.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PhonePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PhonePassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(Password::parse("short"), Err(PasswordError::TooShort { min: 10 }));
        assert!(Password::parse("demo-password-1").is_ok());
        assert_eq!(Password::parse(&"x".repeat(129)), Err(PasswordError::TooLong { max: 128 }));
        assert_eq!(PhonePassword::parse("          "), Err(PasswordError::Blank));
        assert!(PhonePassword::parse("2Dampfnudeln+Vanillesoss").is_ok());
        assert_eq!(PhonePassword::parse("1234567"), Err(PasswordError::TooShort { min: 8 }));
        assert_eq!(format!("{:?}", PhonePassword::parse("geheim123").unwrap()), "PhonePassword(***)");
    }
}
