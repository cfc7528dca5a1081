//! Password hashing with argon2id (m = 19 MiB, t = 2, p = 1), off the async threads.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashing failed (only on resource exhaustion).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

fn hasher() -> Argon2<'static> {
    // argon2 0.5's defaults are exactly OWASP's minimum for argon2id: m = 19456 KiB, t = 2, p = 1.
    Argon2::default()
}

/// Hashes a secret into a PHC string.
pub async fn hash_password(secret: &str) -> Result<String, HashError> {
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(secret.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| HashError(e.to_string()))
    })
    .await
    .map_err(|e| HashError(e.to_string()))?
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(b"no account has this password", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// Checks a secret against a stored hash. With no hash (unknown account) it verifies against a dummy
/// hash so that the answer takes as long as for a real account, then says no.
pub async fn verify_password(secret: &str, stored: Option<String>) -> bool {
    let secret = secret.to_owned();
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let hash = stored.unwrap_or_else(|| dummy_hash().to_owned());
        let ok =
            PasswordHash::new(&hash).map(|h| hasher().verify_password(secret.as_bytes(), &h).is_ok()).unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_owasp_params() {
        let h = hash_password("demo-password-1").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("demo-password-1", Some(h.clone())).await);
        assert!(!verify_password("demo-password-2", Some(h)).await);
        assert!(!verify_password("no account has this password", None).await);
    }
}
