//! Secrets typed by people: the customer-menu (and staff) password and the telephone password.
//!
//! Both follow NIST SP 800-63B: a minimum length, no composition rules, not on the shipped blocklist of
//! common passwords, and free of the account's own words (customer number, name, e-mail address). Both are
//! only ever held long enough to hash them; `Debug` never prints them.

use std::collections::HashSet;
use std::fmt;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least {min} characters")]
    TooShort { min: usize },
    #[error("the password must have at most {max} characters")]
    TooLong { max: usize },
    #[error("the password must not consist of spaces only")]
    Blank,
    #[error("the password must not contain your customer number")]
    ContainsCustomerNumber,
    #[error("the password must not contain your name")]
    ContainsName,
    #[error("the password must not contain your e-mail address")]
    ContainsEmail,
    #[error("this password is one of the most common passwords; please choose another one")]
    Common,
}

/// What a password must not contain: the account's own data. An empty field is not checked (an order has
/// no customer number yet; a staff account has no e-mail address).
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountWords<'a> {
    pub customer_number: &'a str,
    pub name: &'a str,
    pub email: &'a str,
}

/// The shipped blocklist: Openwall's public-domain list of common passwords plus German ones.
fn blocklist() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        [include_str!("common_passwords.txt"), include_str!("common_passwords.de.txt")]
            .iter()
            .flat_map(|text| text.lines())
            .filter(|line| !line.starts_with("#!comment") && !line.trim().is_empty())
            .map(|line| line.trim().to_lowercase())
            .collect()
    })
}

/// How many distinct entries the blocklist has.
pub fn blocklist_len() -> usize {
    blocklist().len()
}

/// Whether `candidate` is on the blocklist (case-insensitive, surrounding spaces ignored).
pub fn is_common(candidate: &str) -> bool {
    blocklist().contains(&candidate.trim().to_lowercase())
}

/// Which of the account's own words a password contains, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OwnWord {
    CustomerNumber,
    Name,
    Email,
}

/// The account word `candidate` contains: the customer number (or its digits), any part of the name with four
/// or more letters, the e-mail address or its local part of four or more characters.
pub(crate) fn own_word_in(candidate: &str, account: AccountWords<'_>) -> Option<OwnWord> {
    let lower = candidate.to_lowercase();
    let number = account.customer_number.to_lowercase();
    let digits = number.trim_start_matches('k');
    if !number.is_empty() && (lower.contains(&number) || (digits.len() >= 4 && lower.contains(digits))) {
        return Some(OwnWord::CustomerNumber);
    }
    let name = account.name.to_lowercase();
    let mut name_parts = name.split(|c: char| !c.is_alphanumeric()).filter(|p| p.chars().count() >= 4);
    if name_parts.any(|part| lower.contains(part)) {
        return Some(OwnWord::Name);
    }
    let email = account.email.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if !email.is_empty() && (lower.contains(&email) || (local.chars().count() >= 4 && lower.contains(local))) {
        return Some(OwnWord::Email);
    }
    None
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

/// A customer-menu or staff password (NIST SP 800-63B): 10 to 128 characters, no composition rules, not on
/// the blocklist of common passwords, free of the account's own words — the same rules as the telephone
/// password ([`crate::phone::check_phone_password`]). Every place a password is chosen parses it here.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN: usize = 10;
    pub const MAX: usize = 128;

    /// Parses a new password for the account whose own words are `account`.
    pub fn parse(input: &str, account: AccountWords<'_>) -> Result<Self, PasswordError> {
        check_length(input, Self::MIN, Self::MAX)?;
        match own_word_in(input, account) {
            Some(OwnWord::CustomerNumber) => return Err(PasswordError::ContainsCustomerNumber),
            Some(OwnWord::Name) => return Err(PasswordError::ContainsName),
            Some(OwnWord::Email) => return Err(PasswordError::ContainsEmail),
            None => {}
        }
        if is_common(input) {
            return Err(PasswordError::Common);
        }
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

    const NONE: AccountWords<'static> = AccountWords { customer_number: "", name: "", email: "" };
    const ERIKA: AccountWords<'static> =
        AccountWords { customer_number: "K1000001", name: "Erika Mustermann", email: "erika@mustermann-shop.de" };

    #[test]
    fn lengths() {
        assert_eq!(Password::parse("short", NONE), Err(PasswordError::TooShort { min: 10 }));
        assert!(Password::parse("demo-password-1", NONE).is_ok());
        assert_eq!(Password::parse(&"x".repeat(129), NONE), Err(PasswordError::TooLong { max: 128 }));
        assert_eq!(Password::parse("          ", NONE), Err(PasswordError::Blank));
        assert_eq!(PhonePassword::parse("          "), Err(PasswordError::Blank));
        assert!(PhonePassword::parse("2Dampfnudeln+Vanillesoss").is_ok());
        assert_eq!(PhonePassword::parse("1234567"), Err(PasswordError::TooShort { min: 8 }));
        assert_eq!(format!("{:?}", PhonePassword::parse("geheim123").unwrap()), "PhonePassword(***)");
        assert_eq!(format!("{:?}", Password::parse("geheim-und-lang", NONE).unwrap()), "Password(***)");
    }

    #[test]
    fn the_menu_password_has_the_telephone_passwords_rules() {
        assert!(Password::parse("2Dampfnudeln+Vanillesoss", ERIKA).is_ok());
        assert!(Password::parse("lauter kleine wörter", ERIKA).is_ok(), "no composition rules");
        let cases = [
            ("passwort123", PasswordError::Common),
            ("Passwort123", PasswordError::Common),
            (" PASSWORD123 ", PasswordError::Common),
            ("1234567890", PasswordError::Common),
            ("abcK1000001xyz", PasswordError::ContainsCustomerNumber),
            ("meine-1000001", PasswordError::ContainsCustomerNumber),
            ("ErikaIstToll!", PasswordError::ContainsName),
            ("mustermann-77", PasswordError::ContainsName),
            ("erika@mustermann-shop.de", PasswordError::ContainsName),
        ];
        for (input, want) in &cases {
            assert_eq!(Password::parse(input, ERIKA), Err(want.clone()), "{input:?}");
        }
        for (input, _) in &cases[..4] {
            assert_eq!(Password::parse(input, NONE), Err(PasswordError::Common), "{input:?} without account words");
        }
        let words = AccountWords { customer_number: "", name: "Li", email: "post@example.de" };
        assert_eq!(Password::parse("meinpost-box-1", words), Err(PasswordError::ContainsEmail));
        assert!(Password::parse("Li und Lo am See", words).is_ok(), "short name parts are not words");
        assert_eq!(
            PasswordError::Common.to_string(),
            "this password is one of the most common passwords; please choose another one"
        );
    }
}
