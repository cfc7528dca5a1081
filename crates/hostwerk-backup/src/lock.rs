//! Repository locks: shared for writers (run, forget, restore, check), exclusive for prune.
//!
//! A lock is an encrypted file under `locks/`. Acquire = write own lock, then list; back off if a
//! conflicting live lock exists. A lock is stale when older than [`STALE_AFTER`] without refresh, or
//! when it was made on this host by a process that no longer exists.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::backend::FileType;
use crate::envelope;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::repo::{hostname, Repository};

/// A lock not refreshed for this long is stale.
pub const STALE_AFTER: Duration = Duration::from_secs(30 * 60);
/// Live locks are rewritten this often.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5 * 60);

/// Content of a lock file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockInfo {
    /// Exclusive (prune) or shared.
    pub exclusive: bool,
    /// Host of the holder.
    pub hostname: String,
    /// Process id of the holder.
    pub pid: u32,
    /// When written or last refreshed.
    pub time: DateTime<Utc>,
}

impl LockInfo {
    fn is_stale(&self) -> bool {
        let age = Utc::now().signed_duration_since(self.time);
        if age.to_std().map(|a| a > STALE_AFTER).unwrap_or(false) {
            return true;
        }
        self.hostname == hostname() && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct Lock {
    repo_backend: Arc<dyn crate::backend::Backend>,
    name: Arc<Mutex<String>>,
    stop: Option<mpsc::Sender<()>>,
    refresher: Option<std::thread::JoinHandle<()>>,
}

fn write_lock(repo: &Repository, exclusive: bool) -> Result<String> {
    let info = LockInfo { exclusive, hostname: hostname(), pid: std::process::id(), time: Utc::now() };
    let plain = serde_json::to_vec(&info).unwrap_or_default();
    Ok(repo.put_sealed(FileType::Lock, "lock", &plain)?.to_hex())
}

/// Reads all locks; stale ones are deleted when `remove_stale`.
pub fn list_locks(repo: &Repository, remove_stale: bool) -> Result<Vec<(String, LockInfo)>> {
    let mut out = Vec::new();
    for (name, _) in repo.backend().list(FileType::Lock)? {
        let bytes = match repo.backend().get(FileType::Lock, &name) {
            Ok(b) => b,
            Err(Error::NotFound { .. }) => continue,
            Err(e) => return Err(e),
        };
        let info = envelope::open(repo.key(), "lock", &name, &bytes, false)
            .ok()
            .and_then(|p| serde_json::from_slice::<LockInfo>(&p).ok());
        match info {
            Some(i) if !i.is_stale() => out.push((name, i)),
            _ => {
                if remove_stale {
                    let _ = repo.backend().delete(FileType::Lock, &name);
                }
            }
        }
    }
    Ok(out)
}

impl Lock {
    /// Takes a shared lock (waits up to `wait` for an exclusive lock to go away).
    pub fn shared(repo: &Repository, wait: Duration) -> Result<Lock> {
        Self::acquire(repo, false, wait)
    }

    /// Takes the exclusive lock (waits up to `wait` for other locks to go away).
    pub fn exclusive(repo: &Repository, wait: Duration) -> Result<Lock> {
        Self::acquire(repo, true, wait)
    }

    fn acquire(repo: &Repository, exclusive: bool, wait: Duration) -> Result<Lock> {
        let start = std::time::Instant::now();
        loop {
            let name = write_lock(repo, exclusive)?;
            let conflict =
                list_locks(repo, exclusive)?.into_iter().find(|(n, i)| *n != name && (exclusive || i.exclusive));
            match conflict {
                None => {
                    let name = Arc::new(Mutex::new(name));
                    let (stop, stop_rx) = mpsc::channel();
                    let refresher = {
                        let name = name.clone();
                        let backend = repo.backend().clone();
                        let key = repo.key().clone();
                        std::thread::Builder::new()
                            .name("lock-refresh".into())
                            .spawn(move || refresh_loop(backend, key, exclusive, name, stop_rx))
                            .ok()
                    };
                    return Ok(Lock { repo_backend: repo.backend().clone(), name, stop: Some(stop), refresher });
                }
                Some((_, other)) => {
                    repo.backend().delete(FileType::Lock, &name)?;
                    if start.elapsed() >= wait {
                        return Err(Error::Locked(format!(
                            "{} lock held by pid {} on {} since {}",
                            if other.exclusive { "exclusive" } else { "shared" },
                            other.pid,
                            other.hostname,
                            other.time.to_rfc3339()
                        )));
                    }
                    let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 50..250);
                    std::thread::sleep(Duration::from_millis(jitter));
                }
            }
        }
    }
}

fn refresh_loop(
    backend: Arc<dyn crate::backend::Backend>,
    key: crate::crypto::MasterKey,
    exclusive: bool,
    name: Arc<Mutex<String>>,
    stop: mpsc::Receiver<()>,
) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(REFRESH_EVERY) {
        let info = LockInfo { exclusive, hostname: hostname(), pid: std::process::id(), time: Utc::now() };
        let bytes = envelope::seal(&key, "lock", &serde_json::to_vec(&info).unwrap_or_default());
        let new = Id::hash(&bytes).to_hex();
        if backend.put(FileType::Lock, &new, &bytes).is_ok() {
            if let Ok(mut n) = name.lock() {
                let old = std::mem::replace(&mut *n, new);
                let _ = backend.delete(FileType::Lock, &old);
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.refresher.take() {
            let _ = h.join();
        }
        if let Ok(n) = self.name.lock() {
            let _ = self.repo_backend.delete(FileType::Lock, &n);
        }
    }
}
