//! The local-directory backend: one file per object, written to `tmp/` and renamed into place.

use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{Backend, FileType};
use crate::error::{Error, Result};
use crate::id::Id;

/// A repository in a local directory.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
}

impl LocalBackend {
    /// A backend rooted at `root` (which need not exist before `create`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBackend { root: root.into() }
    }

    fn dir(&self, t: FileType) -> PathBuf {
        self.root.join(match t {
            FileType::Config => "",
            FileType::Key => "keys",
            FileType::Pack => "data",
            FileType::Index => "index",
            FileType::Snapshot => "snapshots",
            FileType::Lock => "locks",
        })
    }

    fn path(&self, t: FileType, name: &str) -> PathBuf {
        match t {
            FileType::Config => self.root.join("config"),
            FileType::Pack => self.dir(t).join(name.get(..2).unwrap_or("00")).join(name),
            _ => self.dir(t).join(name),
        }
    }

    /// Opens a stored file for reading (for a caller that streams it instead of reading it whole).
    pub fn open_file(&self, t: FileType, name: &str) -> Result<fs::File> {
        fs::File::open(self.path(t, name)).map_err(|e| self.err("open", t, name, e))
    }

    fn err(&self, op: &'static str, t: FileType, name: &str, e: std::io::Error) -> Error {
        if e.kind() == ErrorKind::NotFound {
            return Error::NotFound { kind: t.kind(), name: name.into() };
        }
        Error::Backend { op, name: self.path(t, name).display().to_string(), message: e.to_string() }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains('/')
}

fn list_dir(dir: &Path, out: &mut Vec<(String, u64)>) -> std::io::Result<()> {
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in rd {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata()?;
        if meta.is_file() && valid_name(&name) {
            out.push((name, meta.len()));
        }
    }
    Ok(())
}

impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn exists(&self) -> Result<bool> {
        Ok(self.root.join("config").is_file())
    }

    fn create(&self) -> Result<()> {
        for d in ["keys", "data", "index", "snapshots", "locks", "tmp"] {
            let p = self.root.join(d);
            fs::create_dir_all(&p).map_err(|e| Error::io("create directory", &p, e))?;
        }
        Ok(())
    }

    fn put(&self, t: FileType, name: &str, data: &[u8]) -> Result<()> {
        let dest = self.path(t, name);
        let tmpdir = self.root.join("tmp");
        let tmp = tmpdir.join(format!("{}.tmp", Id::random().short()));
        let write = || -> std::io::Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_data()?;
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(&tmp, &dest)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            self.err("write", t, name, e)
        })
    }

    fn temp_dir(&self) -> Option<PathBuf> {
        Some(self.root.join("tmp"))
    }

    fn put_file(&self, t: FileType, name: &str, path: &Path) -> Result<()> {
        let dest = self.path(t, name);
        let mv = || -> std::io::Result<()> {
            if let Some(parent) = dest.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::rename(path, &dest)
        };
        mv().map_err(|e| {
            let _ = fs::remove_file(path);
            self.err("write", t, name, e)
        })
    }

    fn get(&self, t: FileType, name: &str) -> Result<Vec<u8>> {
        fs::read(self.path(t, name)).map_err(|e| self.err("read", t, name, e))
    }

    fn get_range(&self, t: FileType, name: &str, offset: u64, len: usize) -> Result<Vec<u8>> {
        let f = self.open_file(t, name)?;
        // Nothing is allocated for a part the file does not have (a length from a request or a corrupt index
        // could be anything up to usize::MAX).
        let size = f.metadata().map_err(|e| self.err("stat", t, name, e))?.len();
        let end = offset.checked_add(len as u64);
        if end.is_none_or(|end| end > size) {
            return Err(Error::corrupt(
                t.kind(),
                name,
                format!("file has {size} bytes, {len} asked for from offset {offset}"),
            ));
        }
        let mut buf = vec![0u8; len];
        f.read_exact_at(&mut buf, offset).map_err(|e| {
            if e.kind() == ErrorKind::UnexpectedEof {
                Error::corrupt(t.kind(), name, format!("file is shorter than {} bytes", offset + len as u64))
            } else {
                self.err("read", t, name, e)
            }
        })?;
        Ok(buf)
    }

    fn list(&self, t: FileType) -> Result<Vec<(String, u64)>> {
        let mut out = Vec::new();
        let dir = self.dir(t);
        let res = if t == FileType::Pack {
            (|| -> std::io::Result<()> {
                let rd = match fs::read_dir(&dir) {
                    Ok(rd) => rd,
                    Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                };
                for sub in rd {
                    let sub = sub?;
                    if sub.file_type()?.is_dir() {
                        list_dir(&sub.path(), &mut out)?;
                    }
                }
                Ok(())
            })()
        } else if t == FileType::Config {
            return Ok(match fs::metadata(self.root.join("config")) {
                Ok(m) => vec![("config".into(), m.len())],
                Err(_) => vec![],
            });
        } else {
            list_dir(&dir, &mut out)
        };
        res.map_err(|e| Error::Backend { op: "list", name: dir.display().to_string(), message: e.to_string() })?;
        out.sort();
        Ok(out)
    }

    fn delete(&self, t: FileType, name: &str) -> Result<()> {
        match fs::remove_file(self.path(t, name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err("delete", t, name, e)),
        }
    }

    fn cleanup_partial(&self) -> Result<usize> {
        let mut n = 0;
        let dir = self.root.join("tmp");
        let mut files = Vec::new();
        let _ = list_dir(&dir, &mut files);
        for (name, _) in files {
            if fs::remove_file(dir.join(&name)).is_ok() {
                n += 1;
            }
        }
        Ok(n)
    }
}
