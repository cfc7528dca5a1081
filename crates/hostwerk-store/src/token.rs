//! Secret tokens (sessions, API, password reset): 256 random bits from the OS, stored only as SHA-256.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A freshly drawn token: the raw value goes to the user once, the hash to the database.
#[derive(Clone)]
pub struct NewToken {
    pub raw: String,
    pub hash: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// Draws a 256-bit token from the operating system's random generator.
pub fn new_token() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let raw = hex::encode(bytes);
    let hash = hash_token(&raw);
    NewToken { raw, hash }
}

/// Draws a 128-bit code from the operating system (a second factor's recovery code): 32 hex digits in four
/// groups of eight. Its stored form is [`hash_token`] of [`normalize_code`] of it.
pub fn new_recovery_code() -> NewToken {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex = hex::encode(bytes);
    let raw = format!("{}-{}-{}-{}", &hex[0..8], &hex[8..16], &hex[16..24], &hex[24..32]);
    let hash = hash_token(&normalize_code(&raw));
    NewToken { raw, hash }
}

/// A recovery code as typed, in the form that is hashed: lower case, without spaces and dashes.
pub fn normalize_code(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_lowercase).collect()
}

/// The stored form of a token.
pub fn hash_token(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.raw.len(), 64);
        assert_ne!(a.raw, b.raw);
        assert_eq!(hash_token(&a.raw), a.hash);
        assert!(!format!("{a:?}").contains(&a.raw));
    }

    #[test]
    fn recovery_codes_have_128_bits_and_hash_as_typed_loosely() {
        let c = new_recovery_code();
        assert_eq!(c.raw.len(), 35);
        assert_eq!(normalize_code(&c.raw).len(), 32);
        assert_eq!(hash_token(&normalize_code(&c.raw.to_uppercase().replace('-', " "))), c.hash);
        assert_ne!(new_recovery_code().raw, c.raw);
    }
}
