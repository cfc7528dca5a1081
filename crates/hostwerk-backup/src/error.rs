//! The error type of the backup engine: one variant per way an operation can fail.

use std::path::PathBuf;

use crate::id::Id;

/// Result alias of the backup engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the backup engine. Each message names the object or path concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No repository at the location.
    #[error("no repository at {0} (run `hostwerk backup init` first)")]
    RepoNotFound(String),
    /// `init` found an existing repository.
    #[error("a repository already exists at {0}")]
    RepoExists(String),
    /// The password opens no key file.
    #[error("wrong password: no key file of the repository can be opened with it")]
    WrongPassword,
    /// The repository was written by a newer format version.
    #[error("unsupported repository format version {0} (this build supports version 1)")]
    UnsupportedVersion(u32),
    /// A stored object fails its integrity or authenticity check, or cannot be decoded.
    #[error("corrupt {kind} {name}: {reason}")]
    Corrupt {
        /// What kind of object (pack, index, snapshot, blob, tree, key, config, lock).
        kind: &'static str,
        /// Its name (id) in the repository.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An object the repository should hold is missing.
    #[error("missing {kind} {name} in the repository")]
    NotFound {
        /// What kind of object.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// A blob is referenced but no index lists it.
    #[error("blob {0} is referenced but not in any index")]
    BlobNotIndexed(Id),
    /// Local file system error on a path outside the repository (source or restore target).
    #[error("{op} {path}: {source}", path = path.display())]
    Io {
        /// The operation that failed.
        op: &'static str,
        /// The path it failed on.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The storage backend failed.
    #[error("storage backend: {op} {name}: {message}")]
    Backend {
        /// The operation.
        op: &'static str,
        /// The object name.
        name: String,
        /// The backend's message.
        message: String,
    },
    /// No snapshot matches the given id prefix.
    #[error("no snapshot matches {0:?}")]
    SnapshotNotFound(String),
    /// More than one snapshot matches the given id prefix.
    #[error("snapshot id prefix {0:?} is ambiguous")]
    AmbiguousSnapshot(String),
    /// The path is not in the snapshot.
    #[error("path {0:?} is not in the snapshot")]
    PathNotFound(String),
    /// Another process holds a conflicting lock.
    #[error("repository is locked: {0}")]
    Locked(String),
    /// The caller passed something unusable.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Shorthand for [`Error::Corrupt`].
    pub fn corrupt(kind: &'static str, name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Corrupt { kind, name: name.into(), reason: reason.into() }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { op, path: path.into(), source }
    }
}
