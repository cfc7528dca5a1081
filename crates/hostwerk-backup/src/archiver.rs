//! Backup: walk → read → chunk → hash → dedup → compress/encrypt → pack → store; then index, then snapshot.
//!
//! The calling thread walks the source and assembles trees; reader threads chunk and hash files;
//! packer threads compress, encrypt and write packs. All queues are bounded.
//!
//! # How the source is opened
//!
//! The backup often runs as root over trees that others can change while it runs (a customer's webspace), so
//! no entry is ever opened by its path:
//!
//! * Each source path is resolved once, at the start, lexically (`.` and `..` removed, as recorded in the
//!   snapshot). The descriptor chain starts at `/` (a plain open) and every folder below it, the folders
//!   above a source path included, is opened relative to its parent's descriptor with
//!   `O_NOFOLLOW | O_DIRECTORY`. A symbolic link among the folders above a source path is therefore not
//!   followed: that source path is skipped and listed in the snapshot's errors (give the real path instead).
//!   A source path that is itself a symbolic link is stored as a link, as any link below it.
//! * The walk lists a folder through the descriptor it opened (never by re-resolving its path) and takes
//!   each entry's metadata with `statat(AT_SYMLINK_NOFOLLOW)` relative to it. A reader thread later opens
//!   a file with `openat(folder, name, O_NOFOLLOW | O_NONBLOCK)`, a folder is opened with
//!   `O_NOFOLLOW | O_DIRECTORY`, and the open entry is checked with `fstat` against what the walk saw
//!   (device, inode, file type). A symbolic link now, or another file, is not read: the entry is skipped and
//!   listed in the errors as changed during backup. Symbolic links are stored as links, never followed.
//! * With [`BackupOptions::read_as`], a file or folder whose mode bits do not let that user read it (folders:
//!   read and search) is skipped and listed in the errors; see [`Reader`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver, Sender};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

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

/// A user whose permissions a backup reads with (see [`BackupOptions::read_as`]).
///
/// Only the mode bits are consulted, the way the kernel does for an unprivileged process: the owner bits if
/// `uid` owns the entry, else the group bits if the entry's group is one of `gids`, else the other bits.
/// uid 0 is not special (a root-owned 0600 file is readable by a `Reader` with uid 0, a file of another
/// user with mode 0600 is not). ACLs, capabilities and mount options are not consulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    /// The user.
    pub uid: u32,
    /// Its primary group and supplementary groups.
    pub gids: Vec<u32>,
}

impl Reader {
    /// Whether the mode bits of an entry (mode, owner, group) grant this user every bit of `need`
    /// (`4` read, `2` write, `1` execute/search; `5` to list a folder).
    pub fn allows(&self, mode: u32, uid: u32, gid: u32, need: u32) -> bool {
        let bits = if uid == self.uid {
            mode >> 6
        } else if self.gids.contains(&gid) {
            mode >> 3
        } else {
            mode
        } & 0o7;
        bits & need == need
    }

    #[allow(clippy::unnecessary_cast)]
    fn allows_stat(&self, st: &Stat, need: u32) -> bool {
        self.allows(st.st_mode as u32, st.st_uid as u32, st.st_gid as u32, need)
    }
}

/// Whose permissions a backup reads with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadAs {
    /// Every source path as this user.
    User(Reader),
    /// Each source path as the user given for it (paths compared after `.`/`..` are removed lexically, as in
    /// the snapshot); a source path without an entry is refused before anything is read.
    PerPath(Vec<(PathBuf, Reader)>),
}

/// A test hook, called with an entry's path just before it is opened (files by a reader thread, folders
/// by the walk).
pub type BeforeOpen = Arc<dyn Fn(&Path) + Send + Sync>;

/// What to back up and how to label it.
#[derive(Clone, Default)]
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
    /// Read only what this user could read (defence in depth for backups run as root over a customer's
    /// files): a file whose mode bits do not let the user read it, or a folder it may not read and search, is
    /// skipped and listed in the snapshot's errors, and so is a source path below a folder the user may not
    /// search. The check is made on the walk's `lstat` (before a parent snapshot's content is reused) and again
    /// on the `fstat` of the opened file. See [`Reader`] for what is consulted (mode bits only, no ACLs).
    /// `None`: no check (the process's own permissions apply).
    pub read_as: Option<ReadAs>,
    /// Test-only: called with each entry's path just before it is opened, to change the tree at exactly
    /// that moment.
    #[doc(hidden)]
    pub before_open: Option<BeforeOpen>,
}

impl std::fmt::Debug for BackupOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupOptions")
            .field("paths", &self.paths)
            .field("tags", &self.tags)
            .field("host", &self.host)
            .field("excludes", &self.excludes)
            .field("stdin_name", &self.stdin_name)
            .field("threads", &self.threads)
            .field("force", &self.force)
            .field("time", &self.time)
            .field("read_as", &self.read_as)
            .field("before_open", &self.before_open.as_ref().map(|_| "<hook>"))
            .finish()
    }
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
    /// The folder the walk listed the file in, and the file's name in it.
    dir: Arc<OwnedFd>,
    name: OsString,
    /// For messages and the test hook.
    path: PathBuf,
    /// What the walk saw (`statat` without following links).
    seen: Stat,
    reader: Option<Arc<Reader>>,
    reply: Sender<FileOutcome>,
}

enum FileOutcome {
    Done(Vec<Id>, u64),
    SourceError(String),
    Fatal(Error),
}

fn reader(saver: &Saver<'_>, jobs: Receiver<FileJob>, progress: &dyn Progress, before_open: Option<&BeforeOpen>) {
    for job in jobs {
        if let Some(hook) = before_open {
            hook(&job.path);
        }
        let opened = open_checked(&job.dir, &job.name, &job.seen).and_then(|(fd, st)| match &job.reader {
            Some(r) if !r.allows_stat(&st, 4) => Err(not_permitted(r, &st, "read")),
            _ => Ok(fd),
        });
        #[allow(clippy::unnecessary_cast)]
        let size = job.seen.st_size as u64;
        let outcome = match opened {
            Err(msg) => FileOutcome::SourceError(msg),
            Ok(fd) => match saver.save_stream(fs::File::from(fd), Some(size), progress) {
                Ok((ids, n)) => FileOutcome::Done(ids, n),
                Err(Ok(e)) => FileOutcome::SourceError(e.to_string()),
                Err(Err(e)) => FileOutcome::Fatal(e),
            },
        };
        progress.add_file();
        let _ = job.reply.send(outcome);
    }
}

/// `lstat` of `name` in an open folder.
fn stat_at(dir: &OwnedFd, name: &OsStr) -> std::io::Result<Stat> {
    Ok(rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?)
}

#[allow(clippy::unnecessary_cast)]
fn file_type(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode as u32)
}

fn changed(what: &str) -> String {
    format!("changed during backup ({what}); skipped, not followed")
}

#[allow(clippy::unnecessary_cast)]
fn not_permitted(r: &Reader, st: &Stat, what: &str) -> String {
    format!(
        "skipped: uid {} may not {what} it (mode {:04o}, owner {}:{})",
        r.uid,
        st.st_mode as u32 & 0o7777,
        st.st_uid,
        st.st_gid
    )
}

/// Opens the entry `name` of an open folder without following a symbolic link and checks that it is still
/// what the walk saw (`seen`: device, inode, file type): a regular file is opened for reading, a folder as
/// a folder. Anything else is the message for the snapshot's errors.
fn open_checked(dir: &OwnedFd, name: &OsStr, seen: &Stat) -> std::result::Result<(OwnedFd, Stat), String> {
    let want = file_type(seen);
    // O_NONBLOCK: a name swapped for a FIFO must not block the open (it is refused below).
    let mut flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    if want == FileType::Directory {
        flags |= OFlags::DIRECTORY;
    } else if want != FileType::RegularFile {
        return Err(format!("not a regular file or folder ({want:?})"));
    }
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::LOOP) => return Err(changed("it is now a symbolic link")),
        Err(Errno::NOTDIR) if want == FileType::Directory => return Err(changed("it is no longer a folder")),
        Err(e) => return Err(std::io::Error::from(e).to_string()),
    };
    let st = rustix::fs::fstat(&fd).map_err(|e| std::io::Error::from(e).to_string())?;
    if file_type(&st) != want {
        return Err(changed(&format!("it is now a {:?}", file_type(&st))));
    }
    if st.st_dev != seen.st_dev || st.st_ino != seen.st_ino {
        return Err(changed("it is now another file"));
    }
    if want == FileType::RegularFile {
        // Back to blocking reads (O_NONBLOCK has no effect on regular files, but leave nothing surprising).
        rustix::fs::fcntl_setfl(&fd, OFlags::empty()).map_err(|e| std::io::Error::from(e).to_string())?;
    }
    Ok((fd, st))
}

/// Lists an open folder through its descriptor (names sorted; `.` and `..` left out).
fn list_dir(dir: &OwnedFd) -> std::io::Result<(Vec<OsString>, Option<std::io::Error>)> {
    let mut names = Vec::new();
    let mut error = None;
    for e in rustix::fs::Dir::read_from(dir)? {
        match e {
            Ok(e) => {
                let n = e.file_name().to_bytes();
                if n != b"." && n != b".." {
                    names.push(OsStr::from_bytes(n).to_owned());
                }
            }
            Err(e) => error = Some(e.into()),
        }
    }
    names.sort();
    Ok((names, error))
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
    /// Readers of the source paths (with [`BackupOptions::read_as`]), and the one of the source path being walked.
    readers: HashMap<PathBuf, Arc<Reader>>,
    reader: Option<Arc<Reader>>,
    before_open: Option<BeforeOpen>,
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

    /// Whether the user of [`BackupOptions::read_as`] (if any) may `need` (mode bits) the entry; if not, the
    /// entry is listed in the errors.
    fn permitted(&mut self, path: &Path, st: &Stat, need: u32, what: &str) -> bool {
        match self.reader.clone() {
            Some(r) if !r.allows_stat(st, need) => {
                self.error(path, not_permitted(&r, st, what));
                false
            }
            _ => true,
        }
    }

    /// Opens the folder `name` of `dir` as the walk saw it (see [`open_checked`]); `None` if it is listed in
    /// the errors instead.
    fn open_dir(&mut self, dir: &OwnedFd, name: &OsStr, path: &Path, seen: &Stat) -> Option<Arc<OwnedFd>> {
        if let Some(hook) = &self.before_open {
            hook(path);
        }
        match open_checked(dir, name, seen) {
            Ok((fd, _)) => Some(Arc::new(fd)),
            Err(msg) => {
                self.error(path, msg);
                None
            }
        }
    }

    /// One entry `name` of the open folder `dir`, with the metadata `st` the walk took of it.
    fn entry(
        &mut self,
        dir: &Arc<OwnedFd>,
        path: PathBuf,
        name: &OsStr,
        st: &Stat,
        pnode: Option<&Node>,
    ) -> Result<Option<Pending>> {
        let mut node = Node::from_stat(name, st);
        match node.kind {
            NodeKind::File => {
                if !self.permitted(&path, st, 4, "read") {
                    return Ok(None);
                }
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
                let job = FileJob {
                    dir: dir.clone(),
                    name: name.to_owned(),
                    path: path.clone(),
                    seen: *st,
                    reader: self.reader.clone(),
                    reply: tx,
                };
                self.jobs.send(job).map_err(|_| Error::Invalid("file readers stopped".into()))?;
                Ok(Some(Pending::File(node, path, rx)))
            }
            NodeKind::Dir => {
                if !self.permitted(&path, st, 5, "list") {
                    return Ok(None);
                }
                let Some(fd) = self.open_dir(dir, name, &path, st) else {
                    return Ok(None);
                };
                let ptree = self.parent_subtree(pnode);
                Ok(self.walk_dir(&fd, &path, ptree)?.map(|h| {
                    self.summary.dirs += 1;
                    Pending::Dir(node, h)
                }))
            }
            NodeKind::Symlink => match rustix::fs::readlinkat(&**dir, name, Vec::new()) {
                Ok(t) => {
                    node.set_link_target(OsStr::from_bytes(t.as_bytes()));
                    Ok(Some(Pending::Done(node)))
                }
                Err(Errno::INVAL) => {
                    self.error(&path, changed("it is no longer a symbolic link"));
                    Ok(None)
                }
                Err(e) => {
                    self.error(&path, std::io::Error::from(e));
                    Ok(None)
                }
            },
            _ => Ok(Some(Pending::Done(node))),
        }
    }

    /// Walks the open folder `dir` (shown as `path`): lists it through its descriptor, takes each entry's
    /// metadata relative to it.
    fn walk_dir(&mut self, dir: &Arc<OwnedFd>, path: &Path, parent: Option<(Id, Tree)>) -> Result<Option<usize>> {
        let names = match list_dir(dir) {
            Ok((names, error)) => {
                if let Some(e) = error {
                    self.error(path, e);
                }
                names
            }
            Err(e) => {
                self.error(path, e);
                return Ok(None);
            }
        };
        let mut nodes = Vec::with_capacity(names.len());
        for name in names {
            let child = path.join(&name);
            if self.excluder.excluded(&child, &name) {
                continue;
            }
            let st = match stat_at(dir, &name) {
                Ok(st) => st,
                Err(e) => {
                    self.error(&child, e);
                    continue;
                }
            };
            let pnode = parent.as_ref().and_then(|(_, t)| t.find(&name));
            if let Some(p) = self.entry(dir, child, &name, &st, pnode)? {
                nodes.push(p);
            }
        }
        self.push_dir(nodes, parent).map(Some)
    }

    /// Walks the folders above the source paths (`trie`) from the open folder `dir` (shown as `path`);
    /// `above` holds the folders passed on the way (for the search permission of [`BackupOptions::read_as`]).
    fn walk_virtual(
        &mut self,
        dir: &Arc<OwnedFd>,
        path: &Path,
        trie: &Trie,
        parent: Option<(Id, Tree)>,
        above: &mut Vec<(PathBuf, Stat)>,
    ) -> Result<usize> {
        let mut nodes = Vec::new();
        for (name, child) in &trie.children {
            let cpath = path.join(name);
            let st = match stat_at(dir, name) {
                Ok(st) => st,
                Err(e) => {
                    self.error(&cpath, e);
                    continue;
                }
            };
            let pnode = parent.as_ref().and_then(|(_, t)| t.find(name));
            if child.leaf {
                self.reader = self.readers.get(&cpath).cloned();
                let denied = self.reader.clone().and_then(|r| {
                    above.iter().find(|(_, a)| !r.allows_stat(a, 1)).map(|(a, ast)| (r, a.clone(), *ast))
                });
                let p = match denied {
                    Some((r, a, ast)) => {
                        #[allow(clippy::unnecessary_cast)]
                        let msg = format!(
                            "skipped: uid {} may not search the folder {} above it (mode {:04o}, owner {}:{})",
                            r.uid,
                            a.display(),
                            ast.st_mode as u32 & 0o7777,
                            ast.st_uid,
                            ast.st_gid
                        );
                        self.error(&cpath, msg);
                        None
                    }
                    None => self.entry(dir, cpath, name, &st, pnode)?,
                };
                self.reader = None;
                nodes.extend(p);
            } else {
                if file_type(&st) != FileType::Directory {
                    self.error(
                        &cpath,
                        format!(
                            "is not a folder ({:?}) but above a source path: not followed, the source paths \
                             below it are skipped",
                            file_type(&st)
                        ),
                    );
                    continue;
                }
                let Some(fd) = self.open_dir(dir, name, &cpath, &st) else {
                    continue;
                };
                let node = Node::from_stat(name, &st);
                let ptree = self.parent_subtree(pnode);
                above.push((cpath.clone(), st));
                let h = self.walk_virtual(&fd, &cpath, child, ptree, above);
                above.pop();
                self.summary.dirs += 1;
                nodes.push(Pending::Dir(node, h?));
            }
        }
        self.push_dir(nodes, parent)
    }
}

/// Opens `/`, the start of every descriptor chain.
fn open_root() -> Result<(Arc<OwnedFd>, Stat)> {
    let fd = rustix::fs::open("/", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Error::io("open", "/", e.into()))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| Error::io("stat", "/", e.into()))?;
    Ok((Arc::new(fd), st))
}

/// Lists and lstat()s a source tree in the walker's order, only to warm the kernel's caches. Folders are
/// opened by descriptor without following links, like the walk; the source path itself is opened by path
/// (nothing is read from it).
fn prefetch(dir: &OwnedFd, path: &Path, ex: &Excluder, stop: &std::sync::atomic::AtomicBool) {
    let Ok((names, _)) = list_dir(dir) else { return };
    for name in names {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let child = path.join(&name);
        if ex.excluded(&child, &name) {
            continue;
        }
        if stat_at(dir, &name).is_ok_and(|st| file_type(&st) == FileType::Directory) {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            if let Ok(fd) = rustix::fs::openat(dir, &name, flags, Mode::empty()) {
                prefetch(&fd, &child, ex, stop);
            }
        }
    }
}

fn prefetch_source(path: &Path, ex: &Excluder, stop: &std::sync::atomic::AtomicBool) {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    if let Ok(fd) = rustix::fs::open(path, flags, Mode::empty()) {
        prefetch(&fd, path, ex, stop);
    }
}

fn current_user() -> String {
    std::env::var("USER").unwrap_or_else(|_| {
        use std::os::unix::fs::MetadataExt;
        fs::metadata("/proc/self").map(|m| format!("uid {}", m.uid())).unwrap_or_default()
    })
}

/// A source path made absolute, `.` and `..` removed lexically (symbolic links are not resolved).
fn normalized(p: &Path) -> Result<PathBuf> {
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
    Ok(norm)
}

/// Resolves source paths to absolute, normalized paths (sorted, deduplicated).
pub fn absolute_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let norm = normalized(p)?;
        fs::symlink_metadata(&norm).map_err(|e| Error::io("read source", &norm, e))?;
        out.push(norm);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The reader of each source path, from [`BackupOptions::read_as`].
fn readers_of(read_as: Option<&ReadAs>, paths: &[PathBuf]) -> Result<HashMap<PathBuf, Arc<Reader>>> {
    let mut out = HashMap::new();
    match read_as {
        None => {}
        Some(ReadAs::User(r)) => {
            let r = Arc::new(r.clone());
            out.extend(paths.iter().map(|p| (p.clone(), r.clone())));
        }
        Some(ReadAs::PerPath(list)) => {
            let mut given = HashMap::new();
            for (p, r) in list {
                given.insert(normalized(p)?, Arc::new(r.clone()));
            }
            for p in paths {
                let r = given.get(p).ok_or_else(|| {
                    Error::Invalid(format!("read_as names no user for the source path {}", p.display()))
                })?;
                out.insert(p.clone(), r.clone());
            }
        }
    }
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
    let read_as = readers_of(opts.read_as.as_ref(), &paths)?;
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
                let hook = opts.before_open.as_ref();
                s.spawn(move || reader(saver, rx, progress, hook))
            })
            .collect();
        drop(job_rx);
        if parent_tree.is_some() {
            // Incremental run: mostly metadata. Warm the inode cache ahead of the walker so that
            // cold-cache latency overlaps with the walker's work.
            let (paths, stop, ex) = (&paths, &prefetch_stop, &prefetch_excluder);
            s.spawn(move || {
                for p in paths {
                    prefetch_source(p, ex, stop);
                }
            });
        }

        let mut walker = Walker {
            saver: &saver,
            jobs: job_tx,
            readers: read_as,
            reader: None,
            before_open: opts.before_open.clone(),
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
                    let (root, root_stat) = open_root()?;
                    if trie.leaf {
                        // Backing up "/": walk it as a directory.
                        walker.reader = walker.readers.get(Path::new("/")).cloned();
                        if !walker.permitted(Path::new("/"), &root_stat, 5, "list") {
                            return Err(Error::Invalid("cannot read /: not permitted for read_as".into()));
                        }
                        let h = walker.walk_dir(&root, Path::new("/"), parent_tree)?;
                        h.ok_or_else(|| Error::Invalid("cannot read /".into()))?
                    } else {
                        walker.walk_virtual(
                            &root,
                            Path::new("/"),
                            &trie,
                            parent_tree,
                            &mut vec![("/".into(), root_stat)],
                        )?
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
