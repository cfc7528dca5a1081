//! The telephone password's rules (NIST SP 800-63B), the temporary phone PIN, and the lock-out that stops
//! callers from guessing: everything phone verification decides, without I/O.

pub use crate::password::{blocklist_len, is_common, AccountWords};
use crate::password::{own_word_in, OwnWord, PasswordError, PhonePassword};

/// How long a verified call may act for the customer.
pub const CALL_CONTEXT_SECS: i64 = 30 * 60;
/// How long a temporary phone PIN is valid.
pub const PIN_VALID_SECS: i64 = 2 * 60 * 60;
/// Consecutive failed checks after which checks for a customer are refused for a while.
pub const FAILURES_BEFORE_LOCK: u32 = 5;
/// The longest lock after failed checks.
pub const MAX_LOCK_SECS: i64 = 60 * 60;

/// Why a telephone password was refused. The messages say what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhonePasswordRejected {
    #[error("telephone password: {0}")]
    Length(#[from] PasswordError),
    #[error("the telephone password must not contain your customer number")]
    ContainsCustomerNumber,
    #[error("the telephone password must not contain your name")]
    ContainsName,
    #[error("the telephone password must not contain your e-mail address")]
    ContainsEmail,
    #[error("this telephone password is one of the most common passwords; please choose another one")]
    Common,
}

/// Parses a new telephone password: 8 to 128 characters, no composition rules, not on the blocklist, and
/// free of the customer number, the name (any part of four or more letters) and the e-mail address (or its
/// local part of four or more characters).
pub fn check_phone_password(
    candidate: &str,
    account: AccountWords<'_>,
) -> Result<PhonePassword, PhonePasswordRejected> {
    let password = PhonePassword::parse(candidate)?;
    match own_word_in(candidate, account) {
        Some(OwnWord::CustomerNumber) => return Err(PhonePasswordRejected::ContainsCustomerNumber),
        Some(OwnWord::Name) => return Err(PhonePasswordRejected::ContainsName),
        Some(OwnWord::Email) => return Err(PhonePasswordRejected::ContainsEmail),
        None => {}
    }
    if is_common(candidate) {
        return Err(PhonePasswordRejected::Common);
    }
    Ok(password)
}

/// How long checks for a customer are refused after `consecutive_failures` failed ones: nothing below
/// [`FAILURES_BEFORE_LOCK`], then one minute, doubling with every further failure, at most [`MAX_LOCK_SECS`].
pub fn lock_secs_after(consecutive_failures: u32) -> i64 {
    if consecutive_failures < FAILURES_BEFORE_LOCK {
        return 0;
    }
    let doublings = (consecutive_failures - FAILURES_BEFORE_LOCK).min(16);
    (60_i64 << doublings).min(MAX_LOCK_SECS)
}

/// Whether the customer should be told by e-mail after this failure: when a lock begins (the fifth
/// consecutive failure) and every fifth failure after that.
pub fn notify_after(consecutive_failures: u32) -> bool {
    consecutive_failures >= FAILURES_BEFORE_LOCK && consecutive_failures.is_multiple_of(FAILURES_BEFORE_LOCK)
}

/// A temporary phone PIN: nine digits, said in three groups. Digits are easy to read out on the phone.
#[derive(Clone, PartialEq, Eq)]
pub struct PhonePin(String);

impl PhonePin {
    /// Builds a PIN from nine random digits 0–9 (the caller draws them from the OS RNG).
    pub fn from_digits(digits: [u8; 9]) -> Self {
        Self(digits.iter().map(|d| char::from(b'0' + d % 10)).collect())
    }

    /// Reads a PIN as a caller says it: digits with any spaces or dashes in between. `None` if it is not
    /// nine digits.
    pub fn parse(input: &str) -> Option<Self> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        (digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(Self(digits))
    }

    /// The nine digits, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The PIN in groups of three, as shown once to the customer: `123 456 789`.
    pub fn grouped(&self) -> String {
        format!("{} {} {}", &self.0[0..3], &self.0[3..6], &self.0[6..9])
    }
}

impl std::fmt::Debug for PhonePin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhonePin(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ERIKA: AccountWords<'static> =
        AccountWords { customer_number: "K1000001", name: "Erika Mustermann", email: "erika@mustermann-shop.de" };

    #[test]
    fn blocklist_is_shipped_and_large() {
        assert!(blocklist_len() >= 3000, "{}", blocklist_len());
        assert!(is_common("password") && is_common("PASSWORD") && is_common(" passwort1 "));
        assert!(!is_common("2Dampfnudeln+Vanillesoss"));
    }

    #[test]
    fn rules_with_reasons() {
        assert!(check_phone_password("2Dampfnudeln+Vanillesoss", ERIKA).is_ok());
        assert!(check_phone_password("lauter kleine wörter", ERIKA).is_ok(), "no composition rules");
        assert!(check_phone_password(&"x".repeat(64), ERIKA).is_ok(), "64 characters are allowed");
        let cases = [
            ("kurz", PhonePasswordRejected::Length(PasswordError::TooShort { min: 8 })),
            ("abcK1000001", PhonePasswordRejected::ContainsCustomerNumber),
            ("meine1000001", PhonePasswordRejected::ContainsCustomerNumber),
            ("ErikaIstToll", PhonePasswordRejected::ContainsName),
            ("mustermann77", PhonePasswordRejected::ContainsName),
            ("erika@mustermann-shop.de", PhonePasswordRejected::ContainsName),
            ("password", PhonePasswordRejected::Common),
            ("Passwort123", PhonePasswordRejected::Common),
        ];
        for (input, want) in cases {
            assert_eq!(check_phone_password(input, ERIKA).unwrap_err(), want, "{input}");
        }
        let words = AccountWords { customer_number: "K1000002", name: "Li", email: "post@example.de" };
        assert_eq!(check_phone_password("post@example.de!", words).unwrap_err(), PhonePasswordRejected::ContainsEmail);
        assert_eq!(check_phone_password("meinpost-box", words).unwrap_err(), PhonePasswordRejected::ContainsEmail);
        assert!(check_phone_password("Li und Lo am See", words).is_ok(), "short name parts are not words");
        assert_eq!(
            PhonePasswordRejected::Common.to_string(),
            "this telephone password is one of the most common passwords; please choose another one"
        );
    }

    #[test]
    fn lock_grows_and_is_capped() {
        let secs: Vec<_> = (0..=12).map(lock_secs_after).collect();
        assert_eq!(secs, [0, 0, 0, 0, 0, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(lock_secs_after(u32::MAX), MAX_LOCK_SECS);
        assert!(!notify_after(4) && notify_after(5) && !notify_after(6) && notify_after(10));
    }

    #[test]
    fn pins() {
        let pin = PhonePin::from_digits([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(pin.grouped(), "123 456 789");
        assert_eq!(PhonePin::parse("123-456 789"), Some(pin.clone()));
        assert_eq!(PhonePin::parse("12345678"), None);
        assert_eq!(PhonePin::parse("12345678x"), None);
        assert_eq!(format!("{pin:?}"), "PhonePin(***)");
    }

    proptest! {
        #[test]
        fn lock_never_shrinks(n in 0u32..1000) {
            prop_assert!(lock_secs_after(n + 1) >= lock_secs_after(n));
            prop_assert!(lock_secs_after(n) <= MAX_LOCK_SECS);
        }

        #[test]
        fn pins_round_trip(digits in proptest::array::uniform9(0u8..10)) {
            let pin = PhonePin::from_digits(digits);
            prop_assert_eq!(PhonePin::parse(&pin.grouped()), Some(pin.clone()));
        }

        #[test]
        fn checking_never_panics(s in "\\PC{0,80}") {
            let _ = check_phone_password(&s, ERIKA);
        }
    }
}
