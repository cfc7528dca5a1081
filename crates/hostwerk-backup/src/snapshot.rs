//! Snapshots: the commit record of one backup run (time, host, paths, tags, root tree, summary, errors).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::Id;

/// A source path that could not be read; it is skipped and listed in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceError {
    /// The path.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// Counters of one backup run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackupSummary {
    /// Files not in the parent snapshot.
    pub files_new: u64,
    /// Files changed since the parent.
    pub files_changed: u64,
    /// Files taken from the parent without reading.
    pub files_unmodified: u64,
    /// Directories.
    pub dirs: u64,
    /// Files in the snapshot.
    pub total_files: u64,
    /// Bytes of all files in the snapshot.
    pub total_bytes: u64,
    /// Bytes read from the source.
    pub bytes_read: u64,
    /// New data blobs stored.
    pub data_blobs_added: u64,
    /// New tree blobs stored.
    pub tree_blobs_added: u64,
    /// Plaintext bytes of the new blobs.
    pub bytes_added: u64,
    /// Bytes of the new pack files.
    pub bytes_stored: u64,
    /// Pack files written.
    pub packs_written: u64,
    /// Wall time in seconds.
    pub duration_secs: f64,
}

/// A snapshot file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Format version (1).
    pub version: u32,
    /// When the backup started.
    pub time: DateTime<Utc>,
    /// Host the data came from.
    pub hostname: String,
    /// User who ran the backup.
    pub username: String,
    /// Source paths (absolute), or the stdin file name.
    pub paths: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Exclude patterns used.
    #[serde(default)]
    pub excludes: Vec<String>,
    /// Parent snapshot used for change detection.
    #[serde(default)]
    pub parent: Option<Id>,
    /// Root tree.
    pub tree: Id,
    /// Counters.
    pub summary: BackupSummary,
    /// Unreadable source paths (skipped).
    #[serde(default)]
    pub errors: Vec<SourceError>,
}

impl Snapshot {
    /// Serialized plaintext.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses snapshot plaintext.
    pub fn decode(b: &[u8], name: &str) -> Result<Snapshot> {
        let s: Snapshot = serde_json::from_slice(b).map_err(|e| Error::corrupt("snapshot", name, e.to_string()))?;
        if s.version != 1 {
            return Err(Error::UnsupportedVersion(s.version));
        }
        Ok(s)
    }

    /// Whether it carries the tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }
}

/// A snapshot with its id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnapshotInfo {
    /// Snapshot id.
    pub id: Id,
    /// Short id.
    pub short_id: String,
    /// The snapshot.
    #[serde(flatten)]
    pub snapshot: Snapshot,
}
