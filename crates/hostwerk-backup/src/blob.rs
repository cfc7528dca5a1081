//! Blobs: chunks of file content and serialized trees, the unit of deduplication.

use crate::crypto::MasterKey;
use crate::error::{Error, Result};
use crate::id::Id;

/// What a blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobType {
    /// A chunk of file content.
    Data,
    /// A serialized directory tree.
    Tree,
}

impl BlobType {
    /// Encoding in pack directories and index files.
    pub fn to_byte(self) -> u8 {
        match self {
            BlobType::Data => 0,
            BlobType::Tree => 1,
        }
    }

    /// Decoding; `None` for unknown values.
    pub fn from_byte(b: u8) -> Option<BlobType> {
        match b {
            0 => Some(BlobType::Data),
            1 => Some(BlobType::Tree),
            _ => None,
        }
    }
}

thread_local! {
    /// One zstd decompression context per thread (creating one per blob is costly).
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        std::cell::RefCell::new(zstd::bulk::Decompressor::new().ok());
}

/// Plaintext lengths up to this are decompressed into a buffer allocated up front (every data chunk
/// fits); a longer claimed length (large trees, or a corrupt length field) makes the buffer grow with
/// the real output instead, so a length field alone can never allocate gigabytes.
const PREALLOC_LIMIT: usize = 16 << 20;

fn decompress(payload: &[u8], raw_length: usize) -> std::io::Result<Vec<u8>> {
    if raw_length <= PREALLOC_LIMIT {
        return DECOMPRESSOR.with(|d| match d.borrow_mut().as_mut() {
            Some(d) => d.decompress(payload, raw_length),
            None => zstd::bulk::decompress(payload, raw_length),
        });
    }
    use std::io::Read;
    let mut out = Vec::with_capacity(payload.len().saturating_mul(4).min(PREALLOC_LIMIT));
    // One byte more than claimed, so an overlong output is seen (and rejected by the length check).
    zstd::stream::read::Decoder::with_buffer(payload)?.take(raw_length as u64 + 1).read_to_end(&mut out)?;
    Ok(out)
}

/// zstd level for blobs.
pub const ZSTD_LEVEL: i32 = 3;

fn aad(kind: BlobType, id: &Id) -> [u8; 56] {
    let mut a = [0u8; 56];
    a[..23].copy_from_slice(b"hostwerk-backup/v1/blob");
    a[23] = kind.to_byte();
    a[24..].copy_from_slice(&id.0);
    a
}

/// A blob ready to be appended to a pack.
#[derive(Debug)]
pub struct SealedBlob {
    /// Its type.
    pub kind: BlobType,
    /// Its id (keyed hash of the plaintext).
    pub id: Id,
    /// Plaintext length.
    pub raw_length: u32,
    /// Whether the stored bytes are zstd-compressed.
    pub compressed: bool,
    /// nonce ‖ ciphertext ‖ tag.
    pub data: Vec<u8>,
}

/// Compresses (if that shrinks it) and encrypts a blob whose id is already known.
pub fn seal_blob(key: &MasterKey, kind: BlobType, id: Id, plain: &[u8]) -> SealedBlob {
    let compressed = zstd::bulk::compress(plain, ZSTD_LEVEL).ok();
    seal_compressed(key, kind, id, plain, compressed)
}

fn seal_compressed(key: &MasterKey, kind: BlobType, id: Id, plain: &[u8], compressed: Option<Vec<u8>>) -> SealedBlob {
    let compressed = compressed.filter(|c| c.len() < plain.len());
    let (payload, is_compressed) = match &compressed {
        Some(c) => (c.as_slice(), true),
        None => (plain, false),
    };
    SealedBlob {
        kind,
        id,
        raw_length: plain.len() as u32,
        compressed: is_compressed,
        data: key.encrypt(payload, &aad(kind, &id)),
    }
}

/// Seals blobs with a reusable zstd context (one per worker thread).
pub struct Sealer {
    compressor: Option<zstd::bulk::Compressor<'static>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Default for Sealer {
    fn default() -> Self {
        Sealer { compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL).ok() }
    }
}

impl Sealer {
    /// Like [`seal_blob`], reusing this sealer's compression context.
    pub fn seal(&mut self, key: &MasterKey, kind: BlobType, id: Id, plain: &[u8]) -> SealedBlob {
        let compressed = match self.compressor.as_mut() {
            Some(c) => c.compress(plain).ok(),
            None => zstd::bulk::compress(plain, ZSTD_LEVEL).ok(),
        };
        seal_compressed(key, kind, id, plain, compressed)
    }
}

/// Decrypts, decompresses and verifies a stored blob against its id.
pub fn open_blob(
    key: &MasterKey,
    kind: BlobType,
    id: &Id,
    compressed: bool,
    raw_length: u32,
    data: &[u8],
) -> Result<Vec<u8>> {
    let payload = key
        .decrypt(data, &aad(kind, id))
        .ok_or_else(|| Error::corrupt("blob", id.to_hex(), "authentication failed"))?;
    let plain = if compressed {
        decompress(&payload, raw_length as usize)
            .map_err(|e| Error::corrupt("blob", id.to_hex(), format!("zstd: {e}")))?
    } else {
        payload
    };
    if plain.len() != raw_length as usize || key.blob_id(&plain) != *id {
        return Err(Error::corrupt("blob", id.to_hex(), "content does not match its id"));
    }
    Ok(plain)
}
