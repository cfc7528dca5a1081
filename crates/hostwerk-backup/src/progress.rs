//! Progress callbacks, so the CLI can draw a bar and a server can report to its web UI.

/// Receives progress of a backup or restore. All methods may be called from several threads.
pub trait Progress: Send + Sync {
    /// Total bytes expected (restore; backup does not know it in advance).
    fn set_total(&self, _bytes: u64) {}
    /// Bytes processed (read for backup, written for restore).
    fn add_bytes(&self, _n: u64) {}
    /// One more file done.
    fn add_file(&self) {}
    /// A source path could not be read (it is skipped).
    fn error(&self, _path: &str, _message: &str) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
