//! Restore: recreate a snapshot (or parts of it) in a target folder; pack-wise parallel content writes.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use crossbeam_channel::bounded;
use serde::Serialize;

use crate::backend::FileType;
use crate::blob::open_blob;
use crate::browse::path_names;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::index::BlobLocation;
use crate::lock::Lock;
use crate::progress::Progress;
use crate::repo::Repository;
use crate::snapshot::SourceError;
use crate::tree::{Node, NodeKind, Tree};

/// What to restore where.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Folder to restore into (created if missing).
    pub target: PathBuf,
    /// Snapshot paths to restore (all when empty).
    pub includes: Vec<PathBuf>,
    /// Worker threads (default: available parallelism).
    pub threads: Option<usize>,
}

/// What a restore did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RestoreSummary {
    /// Files written.
    pub files: u64,
    /// Folders created.
    pub dirs: u64,
    /// Symlinks created.
    pub symlinks: u64,
    /// Hard links created.
    pub hardlinks: u64,
    /// Content bytes written.
    pub bytes: u64,
    /// Things that could not be restored exactly (e.g. device nodes, ownership).
    pub warnings: Vec<SourceError>,
    /// Wall time in seconds.
    pub duration_secs: f64,
}

struct Plan {
    /// Files with content; `true` = single-blob file created, written and finished by a worker.
    files: Vec<(PathBuf, Node, bool)>,
    links: Vec<(PathBuf, Node)>,
    dirs: Vec<(PathBuf, Node)>,
    blobs: HashMap<Id, Vec<(usize, u64)>>,
    hardlinks: HashMap<(u64, u64), PathBuf>,
    includes: Vec<Vec<OsString>>,
    summary: RestoreSummary,
}

fn safe_name(n: &Node) -> Result<OsString> {
    let name = n.os_name();
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') || b.contains(&0) {
        return Err(Error::corrupt("tree", n.name.clone(), "unsafe file name"));
    }
    Ok(name)
}

impl Plan {
    /// 0 = skip, 1 = on the way to an include (create, descend), 2 = selected.
    fn selection(&self, names: &[OsString]) -> u8 {
        if self.includes.is_empty() {
            return 2;
        }
        let mut best = 0;
        for inc in &self.includes {
            if names.len() >= inc.len() && names[..inc.len()] == inc[..] {
                return 2;
            }
            if inc.len() > names.len() && inc[..names.len()] == names[..] {
                best = 1;
            }
        }
        best
    }

    fn walk(&mut self, repo: &Repository, tree: &Tree, dir: &Path, names: &mut Vec<OsString>) -> Result<()> {
        for n in &tree.nodes {
            let name = safe_name(n)?;
            names.push(name.clone());
            let sel = self.selection(names);
            let path = dir.join(&name);
            if sel > 0 {
                self.node(repo, n, &path, names, sel)?;
            }
            names.pop();
        }
        Ok(())
    }

    fn node(&mut self, repo: &Repository, n: &Node, path: &Path, names: &mut Vec<OsString>, sel: u8) -> Result<()> {
        let io = |op, e| Error::io(op, path, e);
        match n.kind {
            NodeKind::Dir => {
                match fs::symlink_metadata(path) {
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        fs::remove_file(path).map_err(|e| io("replace", e))?;
                        fs::create_dir(path).map_err(|e| io("create folder", e))?;
                    }
                    Err(_) => fs::create_dir(path).map_err(|e| io("create folder", e))?,
                }
                self.summary.dirs += 1;
                self.dirs.push((path.to_path_buf(), n.clone()));
                if let Some(sub) = n.subtree {
                    let t = repo.load_tree(&sub)?;
                    self.walk(repo, &t, path, names)?;
                }
            }
            _ if sel < 2 => {}
            NodeKind::File => {
                if n.nlink > 1 {
                    if let Some(first) = self.hardlinks.get(&(n.dev, n.inode)) {
                        let _ = fs::remove_file(path);
                        if fs::hard_link(first, path).is_ok() {
                            self.summary.hardlinks += 1;
                            return Ok(());
                        }
                    } else {
                        self.hardlinks.insert((n.dev, n.inode), path.to_path_buf());
                    }
                }
                let idx = self.files.len();
                let deferred = n.content.len() == 1 && n.nlink <= 1;
                if !deferred {
                    if fs::symlink_metadata(path).is_ok_and(|m| !m.is_file()) {
                        let _ = fs::remove_dir_all(path);
                    }
                    let _ = fs::remove_file(path); // break old hard links
                    let f = fs::File::create(path).map_err(|e| io("create file", e))?;
                    f.set_len(n.size).map_err(|e| io("size file", e))?;
                }
                let mut off = 0u64;
                let index = repo.index()?;
                for id in &n.content {
                    let loc = index.get(id).ok_or(Error::BlobNotIndexed(*id))?;
                    self.blobs.entry(*id).or_default().push((idx, off));
                    off += loc.raw_length as u64;
                }
                self.summary.files += 1;
                self.summary.bytes += n.size;
                self.files.push((path.to_path_buf(), n.clone(), deferred));
            }
            NodeKind::Symlink => {
                let _ = fs::remove_file(path);
                let target = n.os_link_target().unwrap_or_default();
                std::os::unix::fs::symlink(&target, path).map_err(|e| io("create symlink", e))?;
                self.summary.symlinks += 1;
                self.links.push((path.to_path_buf(), n.clone()));
            }
            _ => self.summary.warnings.push(SourceError {
                path: path.display().to_string(),
                message: "special file (fifo, device or socket) not restored".into(),
            }),
        }
        Ok(())
    }
}

fn is_root() -> bool {
    fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

fn mtime(n: &Node) -> filetime::FileTime {
    filetime::FileTime::from_unix_time(
        n.mtime_ns.div_euclid(1_000_000_000),
        n.mtime_ns.rem_euclid(1_000_000_000) as u32,
    )
}

/// Creates a single-blob file with its content and metadata in one go (in a worker thread).
fn write_whole_file(
    path: &Path,
    n: &Node,
    content: &[u8],
    root_user: bool,
    warnings: &Mutex<Vec<(PathBuf, std::io::Error)>>,
) -> Result<()> {
    let _ = fs::remove_file(path); // break old hard links
    let mut f = match fs::File::create(path) {
        Ok(f) => f,
        Err(_) if path.is_dir() => {
            fs::remove_dir_all(path).map_err(|e| Error::io("replace", path, e))?;
            fs::File::create(path).map_err(|e| Error::io("create file", path, e))?
        }
        Err(e) => return Err(Error::io("create file", path, e)),
    };
    std::io::Write::write_all(&mut f, content).map_err(|e| Error::io("write", path, e))?;
    if root_user {
        if let Err(e) = std::os::unix::fs::fchown(&f, Some(n.uid), Some(n.gid)) {
            if let Ok(mut w) = warnings.lock() {
                w.push((path.to_path_buf(), e));
            }
        }
    }
    f.set_permissions(fs::Permissions::from_mode(n.mode & 0o7777)).map_err(|e| Error::io("chmod", path, e))?;
    filetime::set_file_handle_times(&f, None, Some(mtime(n))).map_err(|e| Error::io("set mtime", path, e))?;
    Ok(())
}

/// Restores the tree `root` of a snapshot according to `opts`.
pub fn restore(repo: &Repository, root: &Id, opts: &RestoreOptions, progress: &dyn Progress) -> Result<RestoreSummary> {
    let start = Instant::now();
    let _lock = Lock::shared(repo, std::time::Duration::from_secs(30))?;
    let index = repo.index()?;
    fs::create_dir_all(&opts.target).map_err(|e| Error::io("create folder", &opts.target, e))?;
    let mut plan = Plan {
        files: Vec::new(),
        links: Vec::new(),
        dirs: Vec::new(),
        blobs: HashMap::new(),
        hardlinks: HashMap::new(),
        includes: opts.includes.iter().map(|p| path_names(p)).collect(),
        summary: RestoreSummary::default(),
    };
    let tree = repo.load_tree(root)?;
    plan.walk(repo, &tree, &opts.target, &mut Vec::new())?;
    if !plan.includes.is_empty() && plan.summary.files + plan.summary.dirs + plan.summary.symlinks == 0 {
        return Err(Error::PathNotFound(
            opts.includes.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
        ));
    }
    progress.set_total(plan.summary.bytes);

    // Group blobs by pack.
    let mut by_pack: HashMap<u32, Vec<(Id, BlobLocation)>> = HashMap::new();
    for id in plan.blobs.keys() {
        let loc = *index.get(id).ok_or(Error::BlobNotIndexed(*id))?;
        by_pack.entry(loc.pack).or_default().push((*id, loc));
    }
    let threads =
        opts.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)).max(1);
    let written = AtomicU64::new(0);
    let root_user = is_root();
    let warnings: Mutex<Vec<(PathBuf, std::io::Error)>> = Mutex::new(Vec::new());
    let (tx, rx) = bounded::<(u32, Vec<(Id, BlobLocation)>)>(threads * 2);
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let (plan, index, written, warnings) = (&plan, &index, &written, &warnings);
                s.spawn(move || -> Result<()> {
                    for (pack, mut blobs) in rx {
                        blobs.sort_by_key(|(_, l)| l.offset);
                        let name = index.pack_id(pack).to_hex();
                        // Read the pack in windows of consecutive blobs, so a worker holds a few MiB, not a pack.
                        for window in read_windows(&blobs) {
                            let first = window.first().map(|(_, l)| l.offset as u64).unwrap_or(0);
                            let end = window.iter().map(|(_, l)| l.offset as u64 + l.length as u64).max().unwrap_or(0);
                            let data =
                                repo.backend().get_range(FileType::Pack, &name, first, (end - first) as usize)?;
                            for (id, l) in window {
                                let s = (l.offset as u64 - first) as usize;
                                let raw = &data[s..s + l.length as usize];
                                let plain = open_blob(repo.key(), l.kind, id, l.compressed, l.raw_length, raw)
                                    .map_err(|e| match e {
                                        Error::Corrupt { reason, .. } => {
                                            Error::corrupt("blob", format!("{id} in pack {name}"), reason)
                                        }
                                        e => e,
                                    })?;
                                for &(fi, off) in plan.blobs.get(id).map(Vec::as_slice).unwrap_or(&[]) {
                                    let (path, node, deferred) = &plan.files[fi];
                                    if *deferred {
                                        write_whole_file(path, node, &plain, root_user, warnings)?;
                                        progress.add_file();
                                    } else {
                                        let f = fs::OpenOptions::new()
                                            .write(true)
                                            .open(path)
                                            .map_err(|e| Error::io("open", path, e))?;
                                        f.write_all_at(&plain, off).map_err(|e| Error::io("write", path, e))?;
                                    }
                                    written.fetch_add(plain.len() as u64, Ordering::Relaxed);
                                    progress.add_bytes(plain.len() as u64);
                                }
                            }
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        drop(rx);
        for job in by_pack {
            if tx.send(job).is_err() {
                break;
            }
        }
        drop(tx);
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(Error::Invalid("restore worker panicked".into()))))
            .collect()
    });
    for r in results {
        r?;
    }

    // Metadata: files and symlinks, then folders deepest first (so their mtimes stick).
    let mut warn = warnings.into_inner().unwrap_or_default();
    for (path, n, _) in plan.files.iter().filter(|f| !f.2) {
        if root_user {
            if let Err(e) = std::os::unix::fs::lchown(path, Some(n.uid), Some(n.gid)) {
                warn.push((path.clone(), e));
            }
        }
        fs::set_permissions(path, fs::Permissions::from_mode(n.mode & 0o7777))
            .map_err(|e| Error::io("chmod", path, e))?;
        filetime::set_file_mtime(path, mtime(n)).map_err(|e| Error::io("set mtime", path, e))?;
        progress.add_file();
    }
    for (path, n) in &plan.links {
        if root_user {
            if let Err(e) = std::os::unix::fs::lchown(path, Some(n.uid), Some(n.gid)) {
                warn.push((path.clone(), e));
            }
        }
        filetime::set_symlink_file_times(path, mtime(n), mtime(n)).map_err(|e| Error::io("set mtime", path, e))?;
    }
    for (path, n) in plan.dirs.iter().rev() {
        if root_user {
            if let Err(e) = std::os::unix::fs::lchown(path, Some(n.uid), Some(n.gid)) {
                warn.push((path.clone(), e));
            }
        }
        fs::set_permissions(path, fs::Permissions::from_mode(n.mode & 0o7777))
            .map_err(|e| Error::io("chmod", path, e))?;
        filetime::set_file_mtime(path, mtime(n)).map_err(|e| Error::io("set mtime", path, e))?;
    }
    let mut summary = plan.summary;
    for (p, e) in warn {
        summary
            .warnings
            .push(SourceError { path: p.display().to_string(), message: format!("ownership not restored: {e}") });
    }
    summary.duration_secs = start.elapsed().as_secs_f64();
    Ok(summary)
}

/// How many bytes of a pack one restore read spans at most (a single larger blob is read alone).
const READ_WINDOW: u64 = 4 * 1024 * 1024;

/// Splits blobs sorted by offset into runs whose byte span stays within [`READ_WINDOW`].
fn read_windows(blobs: &[(Id, BlobLocation)]) -> Vec<&[(Id, BlobLocation)]> {
    let mut windows = Vec::new();
    let mut start = 0;
    for i in 1..=blobs.len() {
        let split = match blobs.get(i) {
            None => true,
            Some((_, next)) => {
                let first = blobs[start].1.offset as u64;
                next.offset as u64 + next.length as u64 - first > READ_WINDOW
            }
        };
        if split {
            windows.push(&blobs[start..i]);
            start = i;
        }
    }
    windows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::BlobType;

    #[test]
    fn read_windows_stay_small_and_cover_every_blob_in_order() {
        let mib = 1024 * 1024;
        let blob = |n: u8, offset: u32, length: u32| {
            let loc =
                BlobLocation { pack: 0, kind: BlobType::Data, compressed: false, offset, length, raw_length: length };
            (Id([n; 32]), loc)
        };
        // 1 + 1 + 1 MiB fit one window; the 5 MiB blob is read alone; the last two share one.
        let blobs = [
            blob(1, 0, mib),
            blob(2, mib, mib),
            blob(3, 2 * mib, mib),
            blob(4, 3 * mib, 5 * mib),
            blob(5, 8 * mib, mib),
            blob(6, 9 * mib, 2 * mib),
        ];
        let windows = read_windows(&blobs);
        let sizes: Vec<_> = windows.iter().map(|w| w.len()).collect();
        assert_eq!(sizes, [3, 1, 2]);
        let ids: Vec<_> = windows.iter().flat_map(|w| w.iter().map(|(id, _)| id.0[0])).collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
        assert!(read_windows(&[]).is_empty());
    }
}
