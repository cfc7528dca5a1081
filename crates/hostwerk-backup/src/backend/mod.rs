//! Storage backends: where the repository's files live (a local directory now; a repository server or S3 later).

#[cfg(feature = "http")]
pub mod http;
pub mod local;
#[cfg(feature = "s3")]
pub mod s3;

use std::sync::Arc;

use crate::error::Result;

/// The kinds of files in a repository; each backend maps them to its own layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// The single `config` file.
    Config,
    /// Key files (`keys/`).
    Key,
    /// Pack files (`data/xx/`).
    Pack,
    /// Index files (`index/`).
    Index,
    /// Snapshot files (`snapshots/`).
    Snapshot,
    /// Lock files (`locks/`).
    Lock,
}

impl FileType {
    /// The name used in messages.
    pub fn kind(self) -> &'static str {
        match self {
            FileType::Config => "config",
            FileType::Key => "key",
            FileType::Pack => "pack",
            FileType::Index => "index",
            FileType::Snapshot => "snapshot",
            FileType::Lock => "lock",
        }
    }
}

/// A place to store repository files. Files are written once and never modified
/// (only created and deleted); `put` must be atomic: a reader sees the whole file or none.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// Human-readable location for messages.
    fn location(&self) -> String;
    /// Whether the repository's config file exists.
    fn exists(&self) -> Result<bool>;
    /// Prepares an empty repository layout.
    fn create(&self) -> Result<()>;
    /// Stores a whole file atomically.
    fn put(&self, t: FileType, name: &str, data: &[u8]) -> Result<()>;
    /// Reads a whole file. A missing file is [`crate::Error::NotFound`].
    fn get(&self, t: FileType, name: &str) -> Result<Vec<u8>>;
    /// Reads `len` bytes at `offset`; a short file is [`crate::Error::Corrupt`].
    fn get_range(&self, t: FileType, name: &str, offset: u64, len: usize) -> Result<Vec<u8>>;
    /// Lists names and sizes of all files of a type.
    fn list(&self, t: FileType) -> Result<Vec<(String, u64)>>;
    /// Deletes a file; deleting a missing file is not an error.
    fn delete(&self, t: FileType, name: &str) -> Result<()>;
    /// A local folder for temporary files that [`Backend::put_file`] can move cheaply (same file system).
    fn temp_dir(&self) -> Option<std::path::PathBuf> {
        None
    }
    /// Stores a complete local file (already synced) under `name` and removes the local file.
    fn put_file(&self, t: FileType, name: &str, path: &std::path::Path) -> Result<()> {
        let data = std::fs::read(path).map_err(|e| crate::Error::io("read temporary file", path, e))?;
        self.put(t, name, &data)?;
        let _ = std::fs::remove_file(path);
        Ok(())
    }
    /// Removes leftovers of interrupted writes (only called under the exclusive lock).
    fn cleanup_partial(&self) -> Result<usize> {
        Ok(0)
    }
}

/// Opens a backend from a location: a local folder (`/path`, `local:/path`); when built with
/// the `s3` feature, `s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]`; when built with the `http` feature, a
/// repository server, `rest:http[s]://HOST[:PORT]/REPO` (token from `$HOSTWERK_REPO_TOKEN`, optional CA
/// certificate PEM file from `$HOSTWERK_REPO_CACERT`).
pub fn open_location(loc: &str) -> Result<Arc<dyn Backend>> {
    if let Some(rest) = loc.strip_prefix("local:") {
        return Ok(Arc::new(local::LocalBackend::new(rest)));
    }
    if loc.starts_with("s3:") {
        #[cfg(feature = "s3")]
        {
            let cfg = s3::S3Config::from_location(loc)?;
            return Ok(Arc::new(s3::S3Backend::new(&cfg)?));
        }
        #[cfg(not(feature = "s3"))]
        return Err(crate::Error::Invalid(format!(
            "repository location {loc:?}: this build has no S3 support (build with --features hostwerk-backup/s3)"
        )));
    }
    if let Some(url) = loc.strip_prefix("rest:") {
        #[cfg(feature = "http")]
        {
            let token = std::env::var("HOSTWERK_REPO_TOKEN").ok();
            let ca = match std::env::var_os("HOSTWERK_REPO_CACERT").filter(|p| !p.is_empty()) {
                Some(p) => Some(std::fs::read(&p).map_err(|e| crate::Error::io("read CA certificate", p, e))?),
                None => None,
            };
            return Ok(Arc::new(http::HttpBackend::new(url, token, ca.as_deref())?));
        }
        #[cfg(not(feature = "http"))]
        {
            let _ = url;
            return Err(crate::Error::Invalid(format!(
                "repository location {loc:?}: this build has no repository-server support \
                 (build with --features hostwerk-backup/http)"
            )));
        }
    }
    if loc.contains("://") {
        return Err(crate::Error::Invalid(format!(
            "repository location {loc:?}: unknown scheme \
             (use a folder, s3:http[s]://HOST/BUCKET[/PREFIX] or rest:http[s]://HOST[:PORT]/REPO)"
        )));
    }
    Ok(Arc::new(local::LocalBackend::new(loc)))
}
