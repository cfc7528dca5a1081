//! Index files (which blob is in which pack) and the in-memory master index built from all of them.
//!
//! Plaintext layout: `HWBIDX01` ‖ u32 pack count ‖ per pack: id(32) ‖ u64 pack size ‖ u32 blob count ‖ entries(46 each).

use std::collections::HashMap;

use crate::blob::BlobType;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::pack::{PackEntry, ENTRY_LEN};

const MAGIC: &[u8; 8] = b"HWBIDX01";

/// One pack as listed by an index file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPack {
    /// Pack name.
    pub id: Id,
    /// Pack file size in bytes.
    pub size: u64,
    /// Its blobs.
    pub entries: Vec<PackEntry>,
}

/// Encodes the plaintext of an index file.
pub fn encode_index(packs: &[IndexPack]) -> Vec<u8> {
    let blobs: usize = packs.iter().map(|p| p.entries.len()).sum();
    let mut out = Vec::with_capacity(12 + packs.len() * 44 + blobs * ENTRY_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(packs.len() as u32).to_le_bytes());
    for p in packs {
        out.extend_from_slice(&p.id.0);
        out.extend_from_slice(&p.size.to_le_bytes());
        out.extend_from_slice(&(p.entries.len() as u32).to_le_bytes());
        for e in &p.entries {
            e.encode(&mut out);
        }
    }
    out
}

/// Decodes the plaintext of an index file.
pub fn decode_index(b: &[u8], name: &str) -> Result<Vec<IndexPack>> {
    let bad = |r: &str| Error::corrupt("index", name, r.to_string());
    let mut r = Reader { b, pos: 0 };
    if r.take(8).ok_or_else(|| bad("too short"))? != MAGIC {
        return Err(bad("bad magic"));
    }
    let n = r.u32().ok_or_else(|| bad("truncated"))?;
    let mut packs = Vec::new();
    for _ in 0..n {
        let id = r.take(32).ok_or_else(|| bad("truncated"))?;
        let size = r.u64().ok_or_else(|| bad("truncated"))?;
        let count = r.u32().ok_or_else(|| bad("truncated"))? as usize;
        let mut entries = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let e = r.take(ENTRY_LEN).ok_or_else(|| bad("truncated"))?;
            let e = PackEntry::decode(e).ok_or_else(|| bad("bad entry"))?;
            if e.offset as u64 + e.length as u64 > size {
                return Err(bad("entry points outside its pack"));
            }
            entries.push(e);
        }
        let mut pid = [0u8; 32];
        pid.copy_from_slice(id);
        packs.push(IndexPack { id: Id(pid), size, entries });
    }
    if r.pos != b.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(packs)
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Some(u64::from_le_bytes(a))
    }
}

/// Where a blob is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobLocation {
    /// Position of the pack in [`MasterIndex::packs`].
    pub pack: u32,
    /// Blob type.
    pub kind: BlobType,
    /// Stored compressed.
    pub compressed: bool,
    /// Offset in the pack.
    pub offset: u32,
    /// Stored length.
    pub length: u32,
    /// Plaintext length.
    pub raw_length: u32,
}

/// All index files merged: blob id → location. The first location seen wins.
#[derive(Debug, Default)]
pub struct MasterIndex {
    /// Packs (id, size).
    pub packs: Vec<(Id, u64)>,
    pack_pos: HashMap<Id, u32>,
    /// Blobs.
    pub blobs: HashMap<Id, BlobLocation>,
    /// The index files merged into this.
    pub files: Vec<Id>,
    /// Number of blob entries that were duplicates of another location.
    pub duplicates: usize,
}

impl MasterIndex {
    /// Adds the packs of one index file.
    pub fn add(&mut self, packs: Vec<IndexPack>) {
        for p in packs {
            let pos = match self.pack_pos.get(&p.id) {
                Some(&pos) => pos,
                None => {
                    let pos = self.packs.len() as u32;
                    self.packs.push((p.id, p.size));
                    self.pack_pos.insert(p.id, pos);
                    pos
                }
            };
            for e in p.entries {
                let loc = BlobLocation {
                    pack: pos,
                    kind: e.kind,
                    compressed: e.compressed,
                    offset: e.offset,
                    length: e.length,
                    raw_length: e.raw_length,
                };
                match self.blobs.entry(e.id) {
                    std::collections::hash_map::Entry::Occupied(o) => {
                        if o.get().pack != pos || o.get().offset != e.offset {
                            self.duplicates += 1;
                        }
                    }
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(loc);
                    }
                }
            }
        }
    }

    /// Location of a blob.
    pub fn get(&self, id: &Id) -> Option<&BlobLocation> {
        self.blobs.get(id)
    }

    /// Name of the pack at a position.
    pub fn pack_id(&self, pos: u32) -> Id {
        self.packs[pos as usize].0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_roundtrip() {
        let p = IndexPack {
            id: Id::hash(b"p"),
            size: 1000,
            entries: vec![PackEntry {
                kind: BlobType::Tree,
                id: Id::hash(b"b"),
                compressed: true,
                offset: 8,
                length: 100,
                raw_length: 300,
            }],
        };
        let enc = encode_index(std::slice::from_ref(&p));
        assert_eq!(decode_index(&enc, "x").unwrap(), vec![p]);
        for cut in 0..enc.len() {
            assert!(decode_index(&enc[..cut], "x").is_err());
        }
    }
}
