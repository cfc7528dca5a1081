//! The panel's access to the webservers' backup repositories (from `[[backup.repositories]]`): opened once and
//! kept, read on blocking threads — folder listings of a snapshot, downloads (a file, or a folder as tar.gz),
//! and the retention maintenance (forget + prune) that only the panel's maintenance credentials may run.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hostwerk_backup::tree::NodeKind;
use hostwerk_backup::{Id, Repository};

use crate::config::RepositoryConfig;

/// Why a repository could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("no backup repository is configured for the webserver {0}")]
    NotConfigured(String),
    #[error("cannot read {path}: {source}")]
    Secret { path: String, source: std::io::Error },
    #[error("the path does not exist in this backup")]
    PathNotFound,
    #[error("backup repository: {0}")]
    Engine(#[from] hostwerk_backup::Error),
    #[error("the repository task ended unexpectedly")]
    Join,
}

/// One entry of a folder in a snapshot.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirEntry {
    pub name: String,
    pub is_dir: bool,
    pub is_file: bool,
    pub size: u64,
    pub mtime: chrono::DateTime<chrono::Utc>,
}

/// The opened repositories, by webserver name.
#[derive(Debug, Default)]
pub struct Repos {
    configs: HashMap<String, RepositoryConfig>,
    open: Mutex<HashMap<String, Arc<Repository>>>,
}

impl From<hostwerk_backup::AccessError> for RepoError {
    fn from(e: hostwerk_backup::AccessError) -> Self {
        match e {
            hostwerk_backup::AccessError::Secret { path, source } => RepoError::Secret { path, source },
            hostwerk_backup::AccessError::Engine(e) => RepoError::Engine(e),
        }
    }
}

/// Opens the repository of `cfg`, creating it when `create` and it does not exist yet.
pub fn open_repository(cfg: &RepositoryConfig, create: bool) -> Result<Repository, RepoError> {
    Ok(cfg.access().open(create)?)
}

impl Repos {
    pub fn new(configs: &[RepositoryConfig]) -> Self {
        Self {
            configs: configs.iter().map(|c| (c.webserver.clone(), c.clone())).collect(),
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Webservers with a configured repository.
    pub fn webservers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.configs.keys().cloned().collect();
        v.sort();
        v
    }

    /// The open repository of a webserver (opened, or created for local folders, on first use).
    pub fn get(&self, webserver: &str) -> Result<Arc<Repository>, RepoError> {
        if let Some(r) = self.open.lock().map_err(|_| RepoError::Join)?.get(webserver) {
            return Ok(r.clone());
        }
        let cfg = self.configs.get(webserver).ok_or_else(|| RepoError::NotConfigured(webserver.to_owned()))?;
        let access = cfg.access();
        let repo = Arc::new(access.open(access.is_local())?);
        self.open.lock().map_err(|_| RepoError::Join)?.insert(webserver.to_owned(), repo.clone());
        Ok(repo)
    }

    /// Forgets the cached index of a webserver's repository (new packs arrived).
    pub fn refresh(&self, webserver: &str) {
        if let Ok(open) = self.open.lock() {
            if let Some(r) = open.get(webserver) {
                r.invalidate_index();
            }
        }
    }
}

/// Runs `f` with the webserver's repository on a blocking thread; retries once with a fresh index (an agent
/// may have added packs since the index was read).
pub async fn with_repo<T: Send + 'static>(
    repos: Arc<Repos>,
    webserver: String,
    f: impl Fn(&Repository) -> Result<T, RepoError> + Send + 'static,
) -> Result<T, RepoError> {
    tokio::task::spawn_blocking(move || {
        let repo = repos.get(&webserver)?;
        match f(&repo) {
            Err(RepoError::Engine(_)) => {
                repo.invalidate_index();
                f(&repo)
            }
            other => other,
        }
    })
    .await
    .map_err(|_| RepoError::Join)?
}

fn tree_of(repo: &Repository, snapshot: &str) -> Result<Id, RepoError> {
    Ok(repo.find_snapshot(snapshot)?.snapshot.tree)
}

/// The entries of the folder `path` (absolute, as backed up) in a snapshot, folders first, by name.
pub fn list_dir(repo: &Repository, snapshot: &str, path: &Path) -> Result<Vec<DirEntry>, RepoError> {
    let root = tree_of(repo, snapshot)?;
    let node = find_node_or_none(repo, &root, path)?.ok_or(RepoError::PathNotFound)?;
    let Some(subtree) = node.subtree.filter(|_| node.kind == NodeKind::Dir) else {
        return Err(RepoError::PathNotFound);
    };
    let tree = repo.load_tree(&subtree)?;
    let mut out: Vec<DirEntry> = tree
        .nodes
        .iter()
        .map(|n| DirEntry {
            name: n.os_name().to_string_lossy().into_owned(),
            is_dir: n.kind == NodeKind::Dir,
            is_file: n.kind == NodeKind::File,
            size: n.size,
            mtime: chrono::DateTime::from_timestamp(
                n.mtime_ns.div_euclid(1_000_000_000),
                u32::try_from(n.mtime_ns.rem_euclid(1_000_000_000)).unwrap_or(0),
            )
            .unwrap_or_default(),
        })
        .filter(|e| !e.name.starts_with(".hostwerk-"))
        .collect();
    out.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// What `path` is in a snapshot (`None`: absent).
pub fn kind_of(repo: &Repository, snapshot: &str, path: &Path) -> Result<Option<NodeKind>, RepoError> {
    let root = tree_of(repo, snapshot)?;
    Ok(find_node_or_none(repo, &root, path)?.map(|n| n.kind))
}

/// Writes a file's content, or a folder as a gzip-compressed tar, to `out`.
pub fn download(repo: &Repository, snapshot: &str, path: &Path, out: &mut dyn Write) -> Result<(), RepoError> {
    let root = tree_of(repo, snapshot)?;
    let node = find_node_or_none(repo, &root, path)?.ok_or(RepoError::PathNotFound)?;
    if node.kind == NodeKind::Dir {
        let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
        hostwerk_backup::dump(repo, &root, path, &mut gz)?;
        gz.finish().map_err(|e| hostwerk_backup::Error::io("write", "<download>", e))?;
    } else {
        hostwerk_backup::dump(repo, &root, path, out)?;
    }
    Ok(())
}

/// A writer that sends what is written as chunks to an async response body.
#[derive(Debug)]
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>) -> Self {
        Self { tx, buf: Vec::with_capacity(64 * 1024) }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(64 * 1024)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::other("the client went away"))
    }

    /// Ends the body with an error (the client sees a broken download, never a complete-looking one).
    pub fn fail(self, message: String) {
        let _ = self.tx.blocking_send(Err(std::io::Error::other(message)));
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

// ---------------------------------------------------------------- added for the backups pages

/// `hostwerk_backup::browse::find_node`, with a path that is not in the snapshot as `None` (the engine answers
/// `Error::PathNotFound`), as `list_dir`, `kind_of` and `download` expect: a missing path is the customer's
/// mistake (404/422), not an engine failure (500), and is not retried with a fresh index.
fn find_node_or_none(
    repo: &Repository,
    root: &Id,
    path: &Path,
) -> Result<Option<hostwerk_backup::tree::Node>, hostwerk_backup::Error> {
    match hostwerk_backup::browse::find_node(repo, root, path) {
        Err(hostwerk_backup::Error::PathNotFound(_)) => Ok(None),
        other => other,
    }
}
