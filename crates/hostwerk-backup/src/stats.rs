//! `stats`: sizes and counts of the repository, and how much deduplication and compression save.

use serde::Serialize;

use crate::backend::FileType;
use crate::blob::BlobType;
use crate::error::Result;
use crate::repo::Repository;

/// Repository statistics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RepoStats {
    /// Snapshots.
    pub snapshots: usize,
    /// Pack files.
    pub packs: usize,
    /// Index files.
    pub index_files: usize,
    /// Bytes of all pack files.
    pub pack_bytes: u64,
    /// Unique data blobs.
    pub data_blobs: usize,
    /// Unique tree blobs.
    pub tree_blobs: usize,
    /// Plaintext bytes of all unique blobs.
    pub raw_bytes: u64,
    /// Stored (compressed, encrypted) bytes of all unique blobs.
    pub stored_bytes: u64,
    /// Sum of the file sizes of all snapshots (what restoring every snapshot would write).
    pub snapshot_bytes: u64,
    /// `snapshot_bytes / pack_bytes`: deduplication × compression.
    pub space_saving_factor: f64,
}

/// Computes repository statistics.
pub fn stats(repo: &Repository) -> Result<RepoStats> {
    let index = repo.index()?;
    let snaps = repo.snapshots()?;
    let mut s = RepoStats {
        snapshots: snaps.len(),
        packs: index.packs.len(),
        index_files: repo.backend().list(FileType::Index)?.len(),
        pack_bytes: repo.backend().list(FileType::Pack)?.iter().map(|(_, n)| n).sum(),
        snapshot_bytes: snaps.iter().map(|s| s.snapshot.summary.total_bytes).sum(),
        ..Default::default()
    };
    for loc in index.blobs.values() {
        match loc.kind {
            BlobType::Data => s.data_blobs += 1,
            BlobType::Tree => s.tree_blobs += 1,
        }
        s.raw_bytes += loc.raw_length as u64;
        s.stored_bytes += loc.length as u64;
    }
    if s.pack_bytes > 0 {
        s.space_saving_factor = s.snapshot_bytes as f64 / s.pack_bytes as f64;
    }
    Ok(s)
}
