//! Backup: walk → read → chunk → hash → dedup → compress/encrypt → pack → store; then index, then snapshot.
//!
//! The calling thread walks the source and assembles trees; reader threads chunk and hash files;
//! packer threads compress, encrypt and write packs. All queues are bounded.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver, Sender};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::blob::BlobType;
use crate::chunker::chunk_stream;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::index::{IndexPack, MasterIndex};
use crate::lock::Lock;
use crate::pack::PackFileWriter;
use crate::progress::Progress;
use crate::repo::{hostname, Repository};
use crate::snapshot::{BackupSummary, Snapshot, SnapshotInfo, SourceError};
use crate::tree::{Node, NodeKind, Tree};

/// What to back up and how to label it.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// Source paths (files or directories).
    pub paths: Vec<PathBuf>,
    /// Tags for the snapshot.
    pub tags: Vec<String>,
    /// Host name to record (default: this machine's).
    pub host: Option<String>,
    /// Glob patterns to exclude; without `/` they match a name, with `/` the absolute path.
    pub excludes: Vec<String>,
    /// Store standard input (given to [`backup`]) as one file of this name instead of `paths`.
    pub stdin_name: Option<String>,
    /// Threads for reading and for packing (default: available parallelism).
    pub threads: Option<usize>,
    /// Do not use a parent snapshot (read every file).
    pub force: bool,
    /// Record this time instead of now (imports, and simulations of many nights as in `bench/`).
    pub time: Option<chrono::DateTime<chrono::Utc>>,
}

/// Result of a backup.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupResult {
    /// The new snapshot.
    #[serde(flatten)]
    pub snapshot: SnapshotInfo,
}

const MAX_PENDING_DIRS: usize = 256;
const INDEX_EVERY_PACKS: usize = 64;

/// A blob on its way to a pack writer.
type BlobMsg = (BlobType, Id, Vec<u8>);

/// Shared by everything that stores blobs during one backup.
struct Saver<'a> {
    repo: &'a Repository,
    index: Arc<MasterIndex>,
    new: Mutex<HashSet<Id>>,
    blob_tx: std::sync::RwLock<Option<Sender<BlobMsg>>>,
    bytes_read: AtomicU64,
    data_blobs: AtomicU64,
    tree_blobs: AtomicU64,
    bytes_added: AtomicU64,
}

impl Saver<'_> {
    fn known(&self, id: &Id) -> bool {
        self.index.get(id).is_some() || self.new.lock().map(|s| s.contains(id)).unwrap_or(false)
    }

    /// Marks a blob as stored by us; true if nobody stored it before.
    fn claim(&self, id: Id) -> bool {
        self.index.get(&id).is_none() && self.new.lock().map(|mut s| s.insert(id)).unwrap_or(false)
    }

    fn save_blob(&self, kind: BlobType, id: Id, data: Vec<u8>) -> Result<()> {
        if self.claim(id) {
            match kind {
                BlobType::Data => self.data_blobs.fetch_add(1, Ordering::Relaxed),
                BlobType::Tree => self.tree_blobs.fetch_add(1, Ordering::Relaxed),
            };
            self.bytes_added.fetch_add(data.len() as u64, Ordering::Relaxed);
            let tx = self.blob_tx.read().map_err(|_| Error::Invalid("poisoned".into()))?;
            tx.as_ref()
                .ok_or_else(|| Error::Invalid("pack writers closed".into()))?
                .send((kind, id, data))
                .map_err(|_| Error::Invalid("pack writer stopped".into()))?;
        }
        Ok(())
    }

    /// Chunks and stores a stream; returns content ids and bytes read. `Err(Ok(e))` is a source
    /// read error (skip the file), `Err(Err(e))` a repository error (abort).
    fn save_stream(
        &self,
        reader: impl Read,
        size_hint: Option<u64>,
        progress: &dyn Progress,
    ) -> std::result::Result<(Vec<Id>, u64), std::result::Result<std::io::Error, Error>> {
        let key = self.repo.key();
        let mut ids = Vec::new();
        let n = chunk_stream(
            &self.repo.config().chunker,
            key.chunker_seed(),
            reader,
            size_hint,
            |chunk| {
                let id = key.blob_id(&chunk);
                let len = chunk.len() as u64;
                self.save_blob(BlobType::Data, id, chunk).map_err(Err)?;
                self.bytes_read.fetch_add(len, Ordering::Relaxed);
                progress.add_bytes(len);
                ids.push(id);
                Ok(())
            },
            Ok,
        )?;
        Ok((ids, n))
    }
}

/// Fills one pack at a time (shared by the packer threads), stores full packs, writes index files.
struct PackSink<'a> {
    repo: &'a Repository,
    /// The pack being filled with data blobs, and the one with tree blobs (kept apart so that
    /// reading trees touches few, small packs).
    current: [Mutex<Option<PackFileWriter>>; 2],
    /// Where packs are written before they are stored.
    temp_dir: PathBuf,
    pending: Mutex<Vec<IndexPack>>,
    bytes_stored: AtomicU64,
    packs_written: AtomicU64,
}

impl PackSink<'_> {
    fn add(&self, blob: &crate::blob::SealedBlob) -> Result<()> {
        let full = {
            let slot = &self.current[usize::from(blob.kind == BlobType::Tree)];
            let mut w = slot.lock().map_err(|_| Error::Invalid("poisoned".into()))?;
            if w.is_none() {
                *w = Some(PackFileWriter::create(&self.temp_dir)?);
            }
            let pack = w.as_mut().ok_or_else(|| Error::Invalid("no pack".into()))?;
            pack.add(blob)?;
            if pack.size() >= self.repo.config().pack_size as usize {
                w.take()
            } else {
                None
            }
        };
        match full {
            Some(w) => self.store(w),
            None => Ok(()),
        }
    }

    fn finish_pack(&self) -> Result<()> {
        for slot in &self.current {
            let w = slot.lock().map_err(|_| Error::Invalid("poisoned".into()))?.take();
            if let Some(w) = w {
                self.store(w)?;
            }
        }
        Ok(())
    }

    fn store(&self, w: PackFileWriter) -> Result<()> {
        let fp = w.finish(self.repo.key())?;
        self.repo.backend().put_file(crate::backend::FileType::Pack, &fp.id.to_hex(), &fp.path)?;
        self.bytes_stored.fetch_add(fp.size, Ordering::Relaxed);
        self.packs_written.fetch_add(1, Ordering::Relaxed);
        let to_write = {
            let mut p = self.pending.lock().map_err(|_| Error::Invalid("poisoned".into()))?;
            p.push(IndexPack { id: fp.id, size: fp.size, entries: fp.entries });
            if p.len() >= INDEX_EVERY_PACKS {
                std::mem::take(&mut *p)
            } else {
                Vec::new()
            }
        };
        if !to_write.is_empty() {
            self.repo.write_index(&to_write)?;
        }
        Ok(())
    }

    fn flush_index(&self) -> Result<()> {
        let rest = std::mem::take(&mut *self.pending.lock().map_err(|_| Error::Invalid("poisoned".into()))?);
        if !rest.is_empty() {
            self.repo.write_index(&rest)?;
        }
        Ok(())
    }
}

fn packer(repo: &Repository, sink: &PackSink<'_>, rx: Receiver<BlobMsg>) -> Result<()> {
    let mut sealer = crate::blob::Sealer::default();
    for (kind, id, data) in rx {
        let sealed = sealer.seal(repo.key(), kind, id, &data);
        drop(data);
        sink.add(&sealed)?;
    }
    Ok(())
}

struct FileJob {
    path: PathBuf,
    size: u64,
    reply: Sender<FileOutcome>,
}

enum FileOutcome {
    Done(Vec<Id>, u64),
    SourceError(String),
    Fatal(Error),
}

fn reader(saver: &Saver<'_>, jobs: Receiver<FileJob>, progress: &dyn Progress) {
    for job in jobs {
        let outcome = match fs::File::open(&job.path) {
            Err(e) => FileOutcome::SourceError(e.to_string()),
            Ok(f) => match saver.save_stream(f, Some(job.size), progress) {
                Ok((ids, n)) => FileOutcome::Done(ids, n),
                Err(Ok(e)) => FileOutcome::SourceError(e.to_string()),
                Err(Err(e)) => FileOutcome::Fatal(e),
            },
        };
        progress.add_file();
        let _ = job.reply.send(outcome);
    }
}

struct Excluder {
    names: GlobSet,
    paths: GlobSet,
}

impl Excluder {
    fn new(patterns: &[String]) -> Result<Excluder> {
        let mut names = GlobSetBuilder::new();
        let mut paths = GlobSetBuilder::new();
        for p in patterns {
            let g = GlobBuilder::new(p)
                .literal_separator(true)
                .build()
                .map_err(|e| Error::Invalid(format!("bad exclude pattern {p:?}: {e}")))?;
            if p.contains('/') {
                paths.add(g);
            } else {
                names.add(g);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| Error::Invalid(format!("exclude patterns: {e}")));
        Ok(Excluder { names: build(names)?, paths: build(paths)? })
    }

    fn excluded(&self, path: &Path, name: &OsStr) -> bool {
        self.names.is_match(name) || self.paths.is_match(path)
    }
}

enum Pending {
    Done(Node),
    File(Node, PathBuf, Receiver<FileOutcome>),
    Dir(Node, usize),
}

struct PendingDir {
    handle: usize,
    nodes: Vec<Pending>,
    /// The same folder in the parent snapshot: if nothing changed, its tree is reused as is.
    parent: Option<(Id, Tree)>,
}

#[derive(Default)]
struct Trie {
    leaf: bool,
    children: BTreeMap<OsString, Trie>,
}

struct Walker<'s, 'r> {
    saver: &'s Saver<'r>,
    jobs: Sender<FileJob>,
    excluder: Excluder,
    queue: VecDeque<PendingDir>,
    results: HashMap<usize, Id>,
    next_handle: usize,
    summary: BackupSummary,
    errors: Vec<SourceError>,
    progress: &'s dyn Progress,
}

impl Walker<'_, '_> {
    fn error(&mut self, path: &Path, e: impl std::fmt::Display) {
        let path = path.display().to_string();
        let message = e.to_string();
        self.progress.error(&path, &message);
        self.errors.push(SourceError { path, message });
    }

    fn parent_subtree(&mut self, pnode: Option<&Node>) -> Option<(Id, Tree)> {
        let id = pnode.filter(|n| n.kind == NodeKind::Dir)?.subtree?;
        self.saver.repo.load_tree(&id).ok().map(|t| (id, t))
    }

    fn push_dir(&mut self, nodes: Vec<Pending>, parent: Option<(Id, Tree)>) -> Result<usize> {
        let handle = self.next_handle;
        self.next_handle += 1;
        self.queue.push_back(PendingDir { handle, nodes, parent });
        while self.queue.len() > MAX_PENDING_DIRS {
            self.finalize_front()?;
        }
        Ok(handle)
    }

    fn finalize_front(&mut self) -> Result<()> {
        let Some(pd) = self.queue.pop_front() else {
            return Ok(());
        };
        let mut tree = Tree::default();
        for p in pd.nodes {
            match p {
                Pending::Done(n) => tree.nodes.push(n),
                Pending::File(mut n, path, rx) => match rx.recv() {
                    Ok(FileOutcome::Done(ids, read)) => {
                        n.content = ids;
                        n.size = read;
                        tree.nodes.push(n);
                    }
                    Ok(FileOutcome::SourceError(msg)) => self.error(&path, msg),
                    Ok(FileOutcome::Fatal(e)) => return Err(e),
                    Err(_) => return Err(Error::Invalid("file reader stopped".into())),
                },
                Pending::Dir(mut n, h) => {
                    n.subtree = self.results.remove(&h);
                    tree.nodes.push(n);
                }
            }
        }
        // An unchanged folder (same entries, same metadata, same subtrees) keeps the parent's tree id:
        // no serialization, no hashing, nothing stored.
        let reused = pd.parent.filter(|(id, t)| t.nodes == tree.nodes && self.saver.known(id)).map(|(id, _)| id);
        let id = match reused {
            Some(id) => id,
            None => {
                let bytes = tree.encode();
                let id = self.saver.repo.key().blob_id(&bytes);
                self.saver.save_blob(BlobType::Tree, id, bytes)?;
                id
            }
        };
        self.results.insert(pd.handle, id);
        Ok(())
    }

    fn entry(
        &mut self,
        path: PathBuf,
        name: &OsStr,
        meta: &fs::Metadata,
        pnode: Option<&Node>,
    ) -> Result<Option<Pending>> {
        let mut node = Node::from_metadata(name, meta);
        match node.kind {
            NodeKind::File => {
                self.summary.total_files += 1;
                self.summary.total_bytes += node.size;
                if let Some(p) =
                    pnode.filter(|p| node.unchanged_from(p) && p.content.iter().all(|id| self.saver.known(id)))
                {
                    node.content = p.content.clone();
                    self.summary.files_unmodified += 1;
                    self.progress.add_bytes(node.size);
                    self.progress.add_file();
                    return Ok(Some(Pending::Done(node)));
                }
                if pnode.is_some_and(|p| p.kind == NodeKind::File) {
                    self.summary.files_changed += 1;
                } else {
                    self.summary.files_new += 1;
                }
                let (tx, rx) = bounded(1);
                self.jobs
                    .send(FileJob { path: path.clone(), size: node.size, reply: tx })
                    .map_err(|_| Error::Invalid("file readers stopped".into()))?;
                Ok(Some(Pending::File(node, path, rx)))
            }
            NodeKind::Dir => {
                let ptree = self.parent_subtree(pnode);
                Ok(self.walk_dir(&path, ptree)?.map(|h| {
                    self.summary.dirs += 1;
                    Pending::Dir(node, h)
                }))
            }
            NodeKind::Symlink => match fs::read_link(&path) {
                Ok(t) => {
                    node.set_link_target(t.as_os_str());
                    Ok(Some(Pending::Done(node)))
                }
                Err(e) => {
                    self.error(&path, e);
                    Ok(None)
                }
            },
            _ => Ok(Some(Pending::Done(node))),
        }
    }

    fn walk_dir(&mut self, dir: &Path, parent: Option<(Id, Tree)>) -> Result<Option<usize>> {
        let rd = match fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) => {
                self.error(dir, e);
                return Ok(None);
            }
        };
        let mut entries = Vec::new();
        for e in rd {
            match e {
                Ok(e) => entries.push((e.file_name(), e)),
                Err(e) => self.error(dir, e),
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut nodes = Vec::with_capacity(entries.len());
        for (name, entry) in entries {
            let path = dir.join(&name);
            if self.excluder.excluded(&path, &name) {
                continue;
            }
            // lstat relative to the open directory (no path walk).
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) => {
                    self.error(&path, e);
                    continue;
                }
            };
            let pnode = parent.as_ref().and_then(|(_, t)| t.find(&name));
            if let Some(p) = self.entry(path, &name, &meta, pnode)? {
                nodes.push(p);
            }
        }
        self.push_dir(nodes, parent).map(Some)
    }

    fn walk_virtual(&mut self, dir: &Path, trie: &Trie, parent: Option<(Id, Tree)>) -> Result<usize> {
        let mut nodes = Vec::new();
        for (name, child) in &trie.children {
            let path = dir.join(name);
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    self.error(&path, e);
                    continue;
                }
            };
            let pnode = parent.as_ref().and_then(|(_, t)| t.find(name));
            if child.leaf {
                if let Some(p) = self.entry(path, name, &meta, pnode)? {
                    nodes.push(p);
                }
            } else {
                let node = Node::from_metadata(name, &meta);
                let ptree = self.parent_subtree(pnode);
                let h = self.walk_virtual(&path, child, ptree)?;
                self.summary.dirs += 1;
                nodes.push(Pending::Dir(node, h));
            }
        }
        self.push_dir(nodes, parent)
    }
}

/// Lists and lstat()s a source tree in the walker's order, only to warm the kernel's caches.
fn prefetch(dir: &Path, ex: &Excluder, stop: &std::sync::atomic::AtomicBool) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| (e.file_name(), e)).collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, e) in entries {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let path = dir.join(&name);
        if ex.excluded(&path, &name) {
            continue;
        }
        if e.metadata().is_ok_and(|m| m.is_dir()) {
            prefetch(&path, ex, stop);
        }
    }
}

fn current_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| {
        use std::os::unix::fs::MetadataExt;
        fs::metadata("/proc/self").map(|m| format!("uid {}", m.uid())).unwrap_or_default()
    })
}

/// Resolves source paths to absolute, normalized paths (sorted, deduplicated).
pub fn absolute_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let abs = std::path::absolute(p).map_err(|e| Error::io("resolve", p, e))?;
        let mut norm = PathBuf::new();
        for c in abs.components() {
            match c {
                std::path::Component::ParentDir => {
                    norm.pop();
                }
                std::path::Component::CurDir => {}
                c => norm.push(c),
            }
        }
        fs::symlink_metadata(&norm).map_err(|e| Error::io("read source", &norm, e))?;
        out.push(norm);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Runs a backup and commits a snapshot. `stdin` is read when `opts.stdin_name` is set.
pub fn backup(
    repo: &Repository,
    opts: &BackupOptions,
    stdin: Option<&mut dyn Read>,
    progress: &dyn Progress,
) -> Result<BackupResult> {
    let start = Instant::now();
    let time = opts.time.unwrap_or_else(chrono::Utc::now);
    let _lock = Lock::shared(repo, std::time::Duration::from_secs(30))?;
    let host = opts.host.clone().unwrap_or_else(hostname);
    let (paths, display_paths): (Vec<PathBuf>, Vec<String>) = match &opts.stdin_name {
        Some(name) => {
            if name.is_empty() || name.contains('/') {
                return Err(Error::Invalid(format!("--stdin-name {name:?} must be a plain file name")));
            }
            (vec![], vec![format!("/{name}")])
        }
        None => {
            if opts.paths.is_empty() {
                return Err(Error::Invalid("no source paths given".into()));
            }
            let p = absolute_paths(&opts.paths)?;
            let d = p.iter().map(|p| p.display().to_string()).collect();
            (p, d)
        }
    };
    let excluder = Excluder::new(&opts.excludes)?;
    let index = repo.index()?;

    // Parent: the latest snapshot of the same host and paths.
    let parent = if opts.force || opts.stdin_name.is_some() {
        None
    } else {
        repo.snapshots()?.into_iter().rev().find(|s| s.snapshot.hostname == host && s.snapshot.paths == display_paths)
    };
    let parent_tree = match &parent {
        Some(p) => repo.load_tree(&p.snapshot.tree).ok().map(|t| (p.snapshot.tree, t)),
        None => None,
    };

    let threads =
        opts.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)).max(1);
    let (blob_tx, blob_rx) = bounded::<BlobMsg>(threads);
    let (job_tx, job_rx) = bounded::<FileJob>(threads * 16);
    let saver = Saver {
        repo,
        index,
        new: Mutex::new(HashSet::new()),
        blob_tx: std::sync::RwLock::new(Some(blob_tx)),
        bytes_read: AtomicU64::new(0),
        data_blobs: AtomicU64::new(0),
        tree_blobs: AtomicU64::new(0),
        bytes_added: AtomicU64::new(0),
    };
    let sink = PackSink {
        repo,
        current: [Mutex::new(None), Mutex::new(None)],
        temp_dir: repo.backend().temp_dir().unwrap_or_else(std::env::temp_dir),
        pending: Mutex::new(Vec::new()),
        bytes_stored: AtomicU64::new(0),
        packs_written: AtomicU64::new(0),
    };
    fs::create_dir_all(&sink.temp_dir).map_err(|e| Error::io("create folder", &sink.temp_dir, e))?;
    let prefetch_stop = std::sync::atomic::AtomicBool::new(false);
    let prefetch_excluder = Excluder::new(&opts.excludes)?;

    let (walk_result, packer_results) = std::thread::scope(|s| {
        let packers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = blob_rx.clone();
                let sink = &sink;
                s.spawn(move || packer(repo, sink, rx))
            })
            .collect();
        drop(blob_rx);
        let readers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = job_rx.clone();
                let saver = &saver;
                s.spawn(move || reader(saver, rx, progress))
            })
            .collect();
        drop(job_rx);
        if parent_tree.is_some() {
            // Incremental run: mostly metadata. Warm the inode cache ahead of the walker so that
            // cold-cache latency overlaps with the walker's work.
            let (paths, stop, ex) = (&paths, &prefetch_stop, &prefetch_excluder);
            s.spawn(move || {
                for p in paths {
                    prefetch(p, ex, stop);
                }
            });
        }

        let mut walker = Walker {
            saver: &saver,
            jobs: job_tx,
            excluder,
            queue: VecDeque::new(),
            results: HashMap::new(),
            next_handle: 0,
            summary: BackupSummary::default(),
            errors: Vec::new(),
            progress,
        };
        let walk = (|| -> Result<Id> {
            let root = match (&opts.stdin_name, stdin) {
                (Some(name), Some(input)) => {
                    let (ids, n) = saver.save_stream(input, None, progress).map_err(|e| match e {
                        Ok(e) => Error::io("read", "<stdin>", e),
                        Err(e) => e,
                    })?;
                    use std::os::unix::fs::MetadataExt;
                    let me = fs::metadata("/proc/self").ok();
                    let now = chrono::Utc::now();
                    let node = Node {
                        name: name.clone(),
                        name_raw: None,
                        kind: NodeKind::File,
                        mode: 0o100600,
                        uid: me.as_ref().map(|m| m.uid()).unwrap_or(0),
                        gid: me.as_ref().map(|m| m.gid()).unwrap_or(0),
                        mtime_ns: now.timestamp_nanos_opt().unwrap_or(0),
                        ctime_ns: now.timestamp_nanos_opt().unwrap_or(0),
                        inode: 0,
                        dev: 0,
                        nlink: 1,
                        size: n,
                        content: ids,
                        subtree: None,
                        link_target: None,
                        link_target_raw: None,
                    };
                    walker.summary.total_files = 1;
                    walker.summary.total_bytes = n;
                    walker.summary.files_new = 1;
                    walker.push_dir(vec![Pending::Done(node)], None)?
                }
                (Some(_), None) => return Err(Error::Invalid("--stdin-name given but no input".into())),
                (None, _) => {
                    let mut trie = Trie::default();
                    for p in &paths {
                        let mut t = &mut trie;
                        for c in p.components().skip(1) {
                            t = t.children.entry(c.as_os_str().to_owned()).or_default();
                        }
                        t.leaf = true;
                    }
                    if trie.leaf {
                        // Backing up "/": walk it as a directory.
                        let h = walker.walk_dir(Path::new("/"), parent_tree)?;
                        h.ok_or_else(|| Error::Invalid("cannot read /".into()))?
                    } else {
                        walker.walk_virtual(Path::new("/"), &trie, parent_tree)?
                    }
                }
            };
            while !walker.queue.is_empty() {
                walker.finalize_front()?;
            }
            walker.results.get(&root).copied().ok_or_else(|| Error::Invalid("root tree missing".into()))
        })();
        prefetch_stop.store(true, Ordering::Relaxed);
        let summary = std::mem::take(&mut walker.summary);
        let errors = std::mem::take(&mut walker.errors);
        drop(walker); // closes the job queue
        for r in readers {
            let _ = r.join();
        }
        // Close the blob queue: the saver's sender is the last one.
        if let Ok(mut tx) = saver.blob_tx.write() {
            tx.take();
        }
        let packer_results: Vec<Result<()>> = packers
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::Invalid("pack writer panicked".into()))))
            .collect();
        (walk.map(|root| (root, summary, errors)), packer_results)
    });
    for r in packer_results {
        r?;
    }
    let (root, mut summary, errors) = walk_result?;
    sink.finish_pack()?;
    sink.flush_index()?;

    summary.bytes_read = saver.bytes_read.load(Ordering::Relaxed);
    summary.data_blobs_added = saver.data_blobs.load(Ordering::Relaxed);
    summary.tree_blobs_added = saver.tree_blobs.load(Ordering::Relaxed);
    summary.bytes_added = saver.bytes_added.load(Ordering::Relaxed);
    summary.bytes_stored = sink.bytes_stored.load(Ordering::Relaxed);
    summary.packs_written = sink.packs_written.load(Ordering::Relaxed);
    summary.duration_secs = start.elapsed().as_secs_f64();
    let snapshot = Snapshot {
        version: 1,
        time,
        hostname: host,
        username: current_user(),
        paths: display_paths,
        tags: opts.tags.clone(),
        excludes: opts.excludes.clone(),
        parent: parent.map(|p| p.id),
        tree: root,
        summary,
        errors,
    };
    repo.invalidate_index();
    let id = repo.write_snapshot(&snapshot)?;
    Ok(BackupResult { snapshot: SnapshotInfo { id, short_id: id.short(), snapshot } })
}
