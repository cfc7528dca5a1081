//! Pack files: magic header, encrypted blobs, encrypted blob directory, directory length.
//!
//! Layout: `HWBPACK1` ‖ blob₀ ‖ … ‖ blobₙ ‖ E(directory) ‖ u32 LE length of E(directory).
//! A pack's name is the BLAKE3 hash of all its bytes, so any flipped or missing byte is detectable.

use crate::blob::{BlobType, SealedBlob};
use crate::crypto::MasterKey;
use crate::error::{Error, Result};
use crate::id::Id;

/// First 8 bytes of every pack.
pub const MAGIC: &[u8; 8] = b"HWBPACK1";
/// Encoded size of one directory or index entry.
pub const ENTRY_LEN: usize = 46;
const DIR_AAD: &[u8] = b"hostwerk-backup/v1/pack-directory";

/// Where a blob lies in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackEntry {
    /// Blob type.
    pub kind: BlobType,
    /// Blob id.
    pub id: Id,
    /// Whether stored compressed.
    pub compressed: bool,
    /// Offset of the sealed blob in the pack.
    pub offset: u32,
    /// Length of the sealed blob.
    pub length: u32,
    /// Plaintext length.
    pub raw_length: u32,
}

impl PackEntry {
    /// Appends the 46-byte encoding.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind.to_byte());
        out.push(u8::from(self.compressed));
        out.extend_from_slice(&self.id.0);
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.length.to_le_bytes());
        out.extend_from_slice(&self.raw_length.to_le_bytes());
    }

    /// Decodes one entry from exactly [`ENTRY_LEN`] bytes.
    pub fn decode(b: &[u8]) -> Option<PackEntry> {
        if b.len() != ENTRY_LEN {
            return None;
        }
        let kind = BlobType::from_byte(b[0])?;
        let compressed = match b[1] {
            0 => false,
            1 => true,
            _ => return None,
        };
        let mut id = [0u8; 32];
        id.copy_from_slice(&b[2..34]);
        let u = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(PackEntry { kind, id: Id(id), compressed, offset: u(34), length: u(38), raw_length: u(42) })
    }
}

/// Accumulates sealed blobs into one pack in memory.
#[derive(Debug)]
pub struct PackWriter {
    buf: Vec<u8>,
    entries: Vec<PackEntry>,
}

impl Default for PackWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// A finished pack ready to store.
#[derive(Debug)]
pub struct FinishedPack {
    /// Its name (hash of `bytes`).
    pub id: Id,
    /// The whole file.
    pub bytes: Vec<u8>,
    /// Its blobs.
    pub entries: Vec<PackEntry>,
}

impl PackWriter {
    /// An empty pack.
    pub fn new() -> Self {
        PackWriter { buf: MAGIC.to_vec(), entries: Vec::new() }
    }

    /// Appends a sealed blob.
    pub fn add(&mut self, blob: &SealedBlob) {
        self.add_raw(blob.kind, blob.id, blob.compressed, blob.raw_length, &blob.data);
    }

    /// Appends already sealed bytes (used when repacking).
    pub fn add_raw(&mut self, kind: BlobType, id: Id, compressed: bool, raw_length: u32, data: &[u8]) {
        self.entries.push(PackEntry {
            kind,
            id,
            compressed,
            offset: self.buf.len() as u32,
            length: data.len() as u32,
            raw_length,
        });
        self.buf.extend_from_slice(data);
    }

    /// Bytes so far.
    pub fn size(&self) -> usize {
        self.buf.len()
    }

    /// Whether no blob was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// An empty pack with room for `capacity` bytes (avoids reallocation while filling).
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(MAGIC);
        PackWriter { buf, entries: Vec::new() }
    }

    /// Seals the directory and returns the pack.
    pub fn finish(mut self, key: &MasterKey) -> FinishedPack {
        let mut dir = Vec::with_capacity(4 + self.entries.len() * ENTRY_LEN);
        dir.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            e.encode(&mut dir);
        }
        let sealed = key.encrypt(&dir, DIR_AAD);
        self.buf.extend_from_slice(&sealed);
        self.buf.extend_from_slice(&(sealed.len() as u32).to_le_bytes());
        FinishedPack { id: Id::hash(&self.buf), bytes: self.buf, entries: self.entries }
    }
}

/// Decodes a plaintext directory (`u32 count ‖ entries`) and checks each entry lies within `data_end`.
pub fn decode_directory(plain: &[u8], data_end: u64, name: &str) -> Result<Vec<PackEntry>> {
    let bad = |r: &str| Error::corrupt("pack", name, r.to_string());
    if plain.len() < 4 {
        return Err(bad("directory too short"));
    }
    let count = u32::from_le_bytes([plain[0], plain[1], plain[2], plain[3]]) as usize;
    if plain.len() != 4 + count.saturating_mul(ENTRY_LEN) {
        return Err(bad("directory length does not match its entry count"));
    }
    let mut out = Vec::with_capacity(count);
    for chunk in plain[4..].chunks_exact(ENTRY_LEN) {
        let e = PackEntry::decode(chunk).ok_or_else(|| bad("bad directory entry"))?;
        if (e.offset as u64) < MAGIC.len() as u64 || e.offset as u64 + e.length as u64 > data_end {
            return Err(bad("directory entry points outside the pack"));
        }
        out.push(e);
    }
    Ok(out)
}

/// Parses a whole pack file: checks magic, its name (hash) and decrypts its directory.
pub fn parse_pack(key: &MasterKey, name: &str, bytes: &[u8]) -> Result<Vec<PackEntry>> {
    if Id::hash(bytes).to_hex() != name {
        return Err(Error::corrupt("pack", name, "content does not match its name (hash)"));
    }
    parse_pack_unverified(key, name, bytes)
}

/// Like [`parse_pack`] without the hash check (fuzzing, salvage).
pub fn parse_pack_unverified(key: &MasterKey, name: &str, bytes: &[u8]) -> Result<Vec<PackEntry>> {
    let bad = |r: &str| Error::corrupt("pack", name, r.to_string());
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(bad("missing pack header"));
    }
    let n = bytes.len();
    let dlen = u32::from_le_bytes([bytes[n - 4], bytes[n - 3], bytes[n - 2], bytes[n - 1]]) as usize;
    if dlen > n - 4 - MAGIC.len() {
        return Err(bad("directory length out of range"));
    }
    let dstart = n - 4 - dlen;
    let plain = key.decrypt(&bytes[dstart..n - 4], DIR_AAD).ok_or_else(|| bad("directory authentication failed"))?;
    decode_directory(&plain, dstart as u64, name)
}

/// Writes a pack straight to a temporary file (so packs being filled cost no memory), hashing as it goes.
#[derive(Debug)]
pub struct PackFileWriter {
    file: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
    hasher: blake3::Hasher,
    size: usize,
    entries: Vec<PackEntry>,
}

/// A finished pack in a temporary file.
#[derive(Debug)]
pub struct FinishedPackFile {
    /// Its name (hash of its bytes).
    pub id: Id,
    /// Where it is.
    pub path: std::path::PathBuf,
    /// Its size.
    pub size: u64,
    /// Its blobs.
    pub entries: Vec<PackEntry>,
}

impl PackFileWriter {
    /// Starts a pack in a new file in `dir`.
    pub fn create(dir: &std::path::Path) -> Result<Self> {
        let path = dir.join(format!("pack-{}.tmp", Id::random().short()));
        let file = std::fs::File::create(&path).map_err(|e| Error::io("create temporary pack", &path, e))?;
        let mut w = PackFileWriter {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            path,
            hasher: blake3::Hasher::new(),
            size: 0,
            entries: Vec::new(),
        };
        w.write(MAGIC)?;
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        std::io::Write::write_all(&mut self.file, b).map_err(|e| Error::io("write temporary pack", &self.path, e))?;
        self.hasher.update(b);
        self.size += b.len();
        Ok(())
    }

    /// Appends a sealed blob.
    pub fn add(&mut self, blob: &SealedBlob) -> Result<()> {
        self.entries.push(PackEntry {
            kind: blob.kind,
            id: blob.id,
            compressed: blob.compressed,
            offset: self.size as u32,
            length: blob.data.len() as u32,
            raw_length: blob.raw_length,
        });
        self.write(&blob.data)
    }

    /// Bytes so far.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Seals the directory, flushes and syncs the file.
    pub fn finish(mut self, key: &MasterKey) -> Result<FinishedPackFile> {
        let mut dir = Vec::with_capacity(4 + self.entries.len() * ENTRY_LEN);
        dir.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for e in &self.entries {
            e.encode(&mut dir);
        }
        let sealed = key.encrypt(&dir, DIR_AAD);
        self.write(&sealed)?;
        self.write(&(sealed.len() as u32).to_le_bytes())?;
        let path = self.path.clone();
        let file = self.file.into_inner().map_err(|e| Error::io("write temporary pack", &path, e.into_error()))?;
        file.sync_data().map_err(|e| Error::io("sync temporary pack", &path, e))?;
        Ok(FinishedPackFile {
            id: Id(*self.hasher.finalize().as_bytes()),
            path,
            size: self.size as u64,
            entries: self.entries,
        })
    }
}
