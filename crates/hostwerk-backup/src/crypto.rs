//! Keys and authenticated encryption: XChaCha20-Poly1305 for every stored byte, keyed BLAKE3 for blob ids.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::id::Id;

/// Length of the random nonce in front of every ciphertext.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag at the end of every ciphertext.
pub const TAG_LEN: usize = 16;
/// Bytes a ciphertext is longer than its plaintext.
pub const OVERHEAD: usize = NONCE_LEN + TAG_LEN;

/// The repository's master key: 64 random bytes, from which the encryption key,
/// the blob-id key and the chunker seed are derived.
#[derive(Clone)]
pub struct MasterKey {
    material: [u8; 64],
    cipher: XChaCha20Poly1305,
    id_key: [u8; 32],
    chunker_seed: u64,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// A new random master key.
    pub fn generate() -> MasterKey {
        let mut material = [0u8; 64];
        rand::rngs::OsRng.fill_bytes(&mut material);
        MasterKey::from_material(material)
    }

    /// Rebuilds the key from its 64 bytes of material.
    pub fn from_material(material: [u8; 64]) -> MasterKey {
        let enc = blake3::derive_key("hostwerk-backup v1 encryption key", &material);
        let id_key = blake3::derive_key("hostwerk-backup v1 blob id key", &material);
        let seed = blake3::derive_key("hostwerk-backup v1 chunker seed", &material);
        let mut s = [0u8; 8];
        s.copy_from_slice(&seed[..8]);
        MasterKey { material, cipher: XChaCha20Poly1305::new(&enc.into()), id_key, chunker_seed: u64::from_le_bytes(s) }
    }

    /// The 64 bytes of material (only to be wrapped into a key file).
    pub fn material(&self) -> &[u8; 64] {
        &self.material
    }

    /// The secret seed of the chunker's gear table (hides chunk boundaries from observers).
    pub fn chunker_seed(&self) -> u64 {
        self.chunker_seed
    }

    /// The id of a blob: BLAKE3 keyed with the id key over the plaintext.
    pub fn blob_id(&self, plaintext: &[u8]) -> Id {
        Id(*blake3::keyed_hash(&self.id_key, plaintext).as_bytes())
    }

    /// Encrypts `plain`, binding `aad`: returns nonce ‖ ciphertext ‖ tag.
    pub fn encrypt(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        seal(&self.cipher, plain, aad)
    }

    /// Decrypts what [`MasterKey::encrypt`] produced with the same `aad`; `None` if it is not authentic.
    pub fn decrypt(&self, data: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        open(&self.cipher, data, aad)
    }
}

/// Encrypts with a given cipher: nonce ‖ ciphertext ‖ tag.
pub(crate) fn seal(cipher: &XChaCha20Poly1305, plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::thread_rng().fill_bytes(&mut nonce);
    let ct = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad }).unwrap_or_default(); // cannot fail for inputs below 256 GiB
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Decrypts nonce ‖ ciphertext ‖ tag; `None` if too short or not authentic.
pub(crate) fn open(cipher: &XChaCha20Poly1305, data: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if data.len() < OVERHEAD {
        return None;
    }
    let (nonce, ct) = data.split_at(NONCE_LEN);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_tamper() {
        let k = MasterKey::generate();
        let c = k.encrypt(b"hello", b"aad");
        assert_eq!(k.decrypt(&c, b"aad").unwrap(), b"hello");
        assert!(k.decrypt(&c, b"other").is_none());
        let mut t = c.clone();
        t[30] ^= 1;
        assert!(k.decrypt(&t, b"aad").is_none());
        assert!(k.decrypt(&c[..c.len() - 1], b"aad").is_none());
        let k2 = MasterKey::from_material(*k.material());
        assert_eq!(k2.blob_id(b"x"), k.blob_id(b"x"));
        assert_ne!(MasterKey::generate().blob_id(b"x"), k.blob_id(b"x"));
    }
}
