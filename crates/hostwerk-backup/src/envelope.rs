//! Encrypted whole-file objects (index, snapshot, lock): version byte ‖ nonce ‖ ciphertext ‖ tag.

use crate::crypto::MasterKey;
use crate::error::{Error, Result};
use crate::id::Id;

const VERSION: u8 = 1;

/// Encrypts `plain` as a file of the given kind (the kind is bound as associated data).
pub fn seal(key: &MasterKey, kind: &'static str, plain: &[u8]) -> Vec<u8> {
    let mut out = vec![VERSION];
    out.extend_from_slice(&key.encrypt(plain, &aad(kind)));
    out
}

fn aad(kind: &str) -> Vec<u8> {
    format!("hostwerk-backup/v1/{kind}").into_bytes()
}

/// Decrypts a file of the given kind; when `verify_name` the name must be the hash of the bytes.
pub fn open(key: &MasterKey, kind: &'static str, name: &str, bytes: &[u8], verify_name: bool) -> Result<Vec<u8>> {
    if verify_name && Id::hash(bytes).to_hex() != name {
        return Err(Error::corrupt(kind, name, "content does not match its name (hash)"));
    }
    match bytes.first() {
        Some(&VERSION) => {}
        Some(v) => return Err(Error::corrupt(kind, name, format!("unknown version {v}"))),
        None => return Err(Error::corrupt(kind, name, "empty file")),
    }
    key.decrypt(&bytes[1..], &aad(kind)).ok_or_else(|| Error::corrupt(kind, name, "authentication failed"))
}
