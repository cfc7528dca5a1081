//! Key files: the master key wrapped by a key derived from the password with Argon2id.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::crypto::{open, seal, MasterKey};
use crate::error::{Error, Result};

/// Argon2id memory cost in KiB (19 MiB, the OWASP minimum for Argon2id).
pub const DEFAULT_M_COST_KIB: u32 = 19 * 1024;
/// Argon2id passes.
pub const DEFAULT_T_COST: u32 = 2;
/// Argon2id lanes.
pub const DEFAULT_P_COST: u32 = 1;

const AAD: &[u8] = b"hostwerk-backup/v1/key";

/// A key file as stored under `keys/` (JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyFile {
    /// Format version (1).
    pub version: u32,
    /// Always "argon2id".
    pub kdf: String,
    /// Argon2 memory cost in KiB.
    pub m_cost_kib: u32,
    /// Argon2 passes.
    pub t_cost: u32,
    /// Argon2 lanes.
    pub p_cost: u32,
    /// Random salt, hex.
    pub salt: String,
    /// When the key was made (RFC 3339).
    pub created: String,
    /// Host that made it.
    pub hostname: String,
    /// nonce ‖ XChaCha20-Poly1305(master key material) ‖ tag, hex.
    pub data: String,
}

fn wrapping_cipher(password: &[u8], salt: &[u8], m: u32, t: u32, p: u32) -> Result<XChaCha20Poly1305> {
    if m < DEFAULT_M_COST_KIB || t < DEFAULT_T_COST || p == 0 || p > 16 || m > 4 * 1024 * 1024 {
        return Err(Error::corrupt("key", "", "key derivation parameters out of range"));
    }
    let params =
        Params::new(m, t, p, Some(32)).map_err(|e| Error::corrupt("key", "", format!("argon2 parameters: {e}")))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password, salt, &mut out)
        .map_err(|e| Error::corrupt("key", "", format!("argon2: {e}")))?;
    Ok(XChaCha20Poly1305::new(&out.into()))
}

impl KeyFile {
    /// Wraps `key` under `password` with the default Argon2id costs.
    pub fn create(key: &MasterKey, password: &[u8], hostname: &str) -> Result<KeyFile> {
        let mut salt = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        let (m, t, p) = (DEFAULT_M_COST_KIB, DEFAULT_T_COST, DEFAULT_P_COST);
        let cipher = wrapping_cipher(password, &salt, m, t, p)?;
        Ok(KeyFile {
            version: 1,
            kdf: "argon2id".into(),
            m_cost_kib: m,
            t_cost: t,
            p_cost: p,
            salt: hex::encode(salt),
            created: chrono::Utc::now().to_rfc3339(),
            hostname: hostname.into(),
            data: hex::encode(seal(&cipher, key.material(), AAD)),
        })
    }

    /// Parses a key file's bytes.
    pub fn decode(bytes: &[u8], name: &str) -> Result<KeyFile> {
        let kf: KeyFile =
            serde_json::from_slice(bytes).map_err(|e| Error::corrupt("key", name, format!("not a key file: {e}")))?;
        if kf.version != 1 || kf.kdf != "argon2id" {
            return Err(Error::corrupt("key", name, "unknown key file version or kdf"));
        }
        Ok(kf)
    }

    /// Unwraps the master key; `Ok(None)` if the password does not fit.
    pub fn open(&self, password: &[u8], name: &str) -> Result<Option<MasterKey>> {
        let salt = hex::decode(&self.salt).map_err(|_| Error::corrupt("key", name, "bad salt"))?;
        let data = hex::decode(&self.data).map_err(|_| Error::corrupt("key", name, "bad data"))?;
        let cipher =
            wrapping_cipher(password, &salt, self.m_cost_kib, self.t_cost, self.p_cost).map_err(|e| match e {
                Error::Corrupt { kind, reason, .. } => Error::Corrupt { kind, name: name.into(), reason },
                e => e,
            })?;
        let Some(material) = open(&cipher, &data, AAD) else {
            return Ok(None);
        };
        let material: [u8; 64] =
            material.try_into().map_err(|_| Error::corrupt("key", name, "master key has wrong length"))?;
        Ok(Some(MasterKey::from_material(material)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_unwrap() {
        let k = MasterKey::generate();
        let kf = KeyFile::create(&k, b"secret", "h").unwrap();
        let bytes = serde_json::to_vec(&kf).unwrap();
        let kf = KeyFile::decode(&bytes, "x").unwrap();
        assert!(kf.open(b"wrong", "x").unwrap().is_none());
        let k2 = kf.open(b"secret", "x").unwrap().unwrap();
        assert_eq!(k2.material(), k.material());
    }
}
