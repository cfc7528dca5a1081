//! Safe file system steps inside a contract's folder: lexical normalising, walks that never follow a symbolic
//! link, private root-only work folders addressed through their file descriptor, recursive ownership.
//!
//! The customer owns the folders a restore works in and may rename or replace entries at any time. So nothing
//! below the allowed root is reached by a path that could pass a customer's symlink: folders are opened one
//! component at a time with `O_NOFOLLOW`, entries are renamed with `renameat` on those descriptors, and the
//! work folders (`.hostwerk-restore-…`, `.hostwerk-old-…`, mode 0700, owned by root) are used only through
//! `/proc/self/fd/N`, which names the folder that was created even if the customer renames it.

use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags, CWD};
use rustix::io::Errno;

use super::error::JobError;

/// Names of the work folders; entries with these prefixes are never restored over or deleted.
pub(crate) const WORK_PREFIX: &str = ".hostwerk-";

/// Resolves `.` and `..` lexically (never above `/`). The path must be absolute.
pub(crate) fn normalise(p: &Path) -> Result<PathBuf, JobError> {
    if !p.is_absolute() {
        return Err(JobError::Invalid(format!("{} is not an absolute path", p.display())));
    }
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(out)
}

/// `p` (normalised) relative to `root` (normalised); empty for the root itself.
pub(crate) fn relative_inside(root: &Path, p: &Path) -> Result<PathBuf, JobError> {
    let p = normalise(p)?;
    match p.strip_prefix(root) {
        Ok(rel) => Ok(rel.to_path_buf()),
        Err(_) => Err(JobError::OutsideRoot { path: p, root: root.to_path_buf() }),
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// A random suffix for work folder names.
pub(crate) fn random_suffix() -> String {
    let mut hex = hostwerk_backup::Id::random().to_hex();
    hex.truncate(16);
    hex
}

/// Metadata given to folders a restore has to create.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DirMeta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// The allowed root, open.
#[derive(Debug)]
pub(crate) struct Root {
    pub path: PathBuf,
    pub fd: OwnedFd,
}

impl Root {
    /// Opens the allowed root (itself trusted: it comes from the panel's configuration).
    pub fn open(path: &Path) -> Result<Root, JobError> {
        let path = normalise(path)?;
        if path == Path::new("/") {
            return Err(JobError::Invalid("the allowed root must not be /".into()));
        }
        let fd = rustix::fs::openat(CWD, &path, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| JobError::io("open folder", &path, e))?;
        Ok(Root { path, fd })
    }

    /// The root's own owner and mode.
    pub fn meta(&self) -> Result<DirMeta, JobError> {
        let st = rustix::fs::fstat(&self.fd).map_err(|e| JobError::io("stat", &self.path, e))?;
        Ok(DirMeta { mode: st.st_mode & 0o7777, uid: st.st_uid, gid: st.st_gid })
    }

    fn step(&self, dir: &OwnedFd, name: &OsStr, shown: &Path) -> Result<Option<OwnedFd>, JobError> {
        match rustix::fs::openat(dir, name, dir_flags(), Mode::empty()) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP) | Err(Errno::NOTDIR) => Err(JobError::UnsafePath { path: shown.to_path_buf() }),
            Err(e) => Err(JobError::io("open folder", shown, e)),
        }
    }

    /// Opens the folder `rel` below the root without following symlinks; `None` if a component is missing.
    pub fn open_dir(&self, rel: &Path) -> Result<Option<OwnedFd>, JobError> {
        let mut cur = self.fd.try_clone().map_err(|e| JobError::io("open folder", &self.path, e))?;
        let mut shown = self.path.clone();
        for c in rel.components() {
            let Component::Normal(name) = c else { continue };
            shown.push(name);
            match self.step(&cur, name, &shown)? {
                Some(fd) => cur = fd,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// Opens the folder `rel` below the root, creating missing folders with the metadata `meta` gives for their
    /// relative path. Returns the folder and the absolute paths created (outermost first).
    pub fn create_dirs(
        &self,
        rel: &Path,
        meta: &dyn Fn(&Path) -> DirMeta,
    ) -> Result<(OwnedFd, Vec<PathBuf>), JobError> {
        let mut cur = self.fd.try_clone().map_err(|e| JobError::io("open folder", &self.path, e))?;
        let mut shown = self.path.clone();
        let mut sub = PathBuf::new();
        let mut created = Vec::new();
        for c in rel.components() {
            let Component::Normal(name) = c else { continue };
            shown.push(name);
            sub.push(name);
            let next = match self.step(&cur, name, &shown)? {
                Some(fd) => fd,
                None => {
                    rustix::fs::mkdirat(&cur, name, Mode::from_raw_mode(0o700))
                        .map_err(|e| JobError::io("create folder", &shown, e))?;
                    created.push(shown.clone());
                    let fd = self
                        .step(&cur, name, &shown)?
                        .ok_or_else(|| JobError::io("open folder", &shown, Errno::NOENT))?;
                    let m = meta(&sub);
                    set_owner_mode(&fd, m, &shown)?;
                    fd
                }
            };
            cur = next;
        }
        Ok((cur, created))
    }

    /// Creates a private work folder (mode 0700, owned by the agent) directly in the root.
    pub fn work_dir(&self, kind: &str) -> Result<WorkDir, JobError> {
        let name = format!("{WORK_PREFIX}{kind}-{}", random_suffix());
        let shown = self.path.join(&name);
        rustix::fs::mkdirat(&self.fd, &name, Mode::from_raw_mode(0o700))
            .map_err(|e| JobError::io("create folder", &shown, e))?;
        let fd = rustix::fs::openat(&self.fd, &name, dir_flags(), Mode::empty())
            .map_err(|e| JobError::io("open folder", &shown, e))?;
        // A customer cannot have replaced it yet in a way that matters: check it is ours.
        let st = rustix::fs::fstat(&fd).map_err(|e| JobError::io("stat", &shown, e))?;
        if st.st_uid != rustix::process::geteuid().as_raw() || st.st_mode & 0o077 != 0 {
            return Err(JobError::UnsafePath { path: shown });
        }
        Ok(WorkDir { name, shown, fd })
    }
}

fn set_owner_mode(fd: &OwnedFd, m: DirMeta, shown: &Path) -> Result<(), JobError> {
    rustix::fs::fchown(fd, Some(rustix::fs::Uid::from_raw(m.uid)), Some(rustix::fs::Gid::from_raw(m.gid)))
        .map_err(|e| JobError::io("chown", shown, e))?;
    rustix::fs::fchmod(fd, Mode::from_raw_mode(m.mode & 0o7777)).map_err(|e| JobError::io("chmod", shown, e))
}

/// A private work folder in the root, used only through its descriptor.
#[derive(Debug)]
pub(crate) struct WorkDir {
    /// Its name in the root.
    pub name: String,
    /// Its path, for messages.
    pub shown: PathBuf,
    /// The open folder.
    pub fd: OwnedFd,
}

impl WorkDir {
    /// A path that reaches this very folder even if it was renamed.
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.fd.as_raw_fd()))
    }

    /// Removes the folder and everything in it; returns a warning if that fails.
    pub fn remove(self, root: &Root) -> Option<String> {
        let base = self.path();
        let mut problems = Vec::new();
        match std::fs::read_dir(&base) {
            Ok(rd) => {
                for e in rd.flatten() {
                    let p = e.path();
                    let r = match e.file_type() {
                        Ok(t) if t.is_dir() => std::fs::remove_dir_all(&p),
                        _ => std::fs::remove_file(&p),
                    };
                    if let Err(e) = r {
                        problems.push(format!("{}: {e}", p.display()));
                    }
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
        if let Err(e) = rustix::fs::unlinkat(&root.fd, &self.name, AtFlags::REMOVEDIR) {
            problems.push(e.to_string());
        }
        if problems.is_empty() {
            None
        } else {
            Some(format!("could not remove the work folder {}: {}", self.shown.display(), problems.join("; ")))
        }
    }
}

/// Whether `name` exists in the folder (without following a symlink).
pub(crate) fn exists_at(dir: impl AsFd, name: &OsStr, shown: &Path) -> Result<bool, JobError> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(_) => Ok(true),
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(JobError::io("stat", shown, e)),
    }
}

/// Whether `name` in the folder is absent (`Ok(true)`), an empty folder (`Ok(true)`) or anything else.
pub(crate) fn absent_or_empty_dir(dir: &OwnedFd, name: &OsStr, shown: &Path) -> Result<bool, JobError> {
    let fd = match rustix::fs::openat(dir, name, dir_flags(), Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(true),
        Err(Errno::LOOP) | Err(Errno::NOTDIR) => return Ok(false),
        Err(e) => return Err(JobError::io("open folder", shown, e)),
    };
    let dir = rustix::fs::Dir::read_from(&fd).map_err(|e| JobError::io("read folder", shown, e))?;
    for e in dir {
        let e = e.map_err(|e| JobError::io("read folder", shown, e))?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Renames `from_name` in `from` to `to_name` in `to`.
pub(crate) fn rename_at(
    from: impl AsFd,
    from_name: &OsStr,
    to: impl AsFd,
    to_name: &OsStr,
    shown: &Path,
) -> Result<(), JobError> {
    rustix::fs::renameat(from, from_name, to, to_name).map_err(|e| JobError::io("rename", shown, e))
}

/// Gives `path` and everything below it (never following symlinks) to `uid:gid`. Only for trees in a private
/// work folder, which no customer process can change.
pub(crate) fn chown_tree(path: &Path, uid: u32, gid: u32) -> Result<(), JobError> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(|e| JobError::io("chown", path, e))?;
    let m = std::fs::symlink_metadata(path).map_err(|e| JobError::io("stat", path, e))?;
    if m.is_dir() {
        for e in std::fs::read_dir(path).map_err(|e| JobError::io("read folder", path, e))? {
            let e = e.map_err(|e| JobError::io("read folder", path, e))?;
            chown_tree(&e.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// Mode and owner of a folder in a private work folder.
pub(crate) fn dir_meta(path: &Path) -> Option<DirMeta> {
    std::fs::symlink_metadata(path).ok().map(|m| DirMeta { mode: m.mode() & 0o7777, uid: m.uid(), gid: m.gid() })
}
