//! Trees: the serialized listing of one directory (JSON, sorted by name), stored as a blob.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::Id;

/// Kind of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link.
    Symlink,
    /// Named pipe.
    Fifo,
    /// Device, socket or anything else (metadata only).
    Other,
}

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Name (lossy UTF-8 if the real name is not UTF-8).
    pub name: String,
    /// The raw name in hex when it is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_raw: Option<String>,
    /// Entry kind.
    #[serde(rename = "type")]
    pub kind: NodeKind,
    /// Permission bits (and type bits) as in `st_mode`.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// Status change time, ns since the epoch (change detection only).
    pub ctime_ns: i64,
    /// Inode number (change detection and hardlinks).
    pub inode: u64,
    /// Device (hardlinks).
    pub dev: u64,
    /// Link count.
    pub nlink: u64,
    /// File size in bytes.
    pub size: u64,
    /// Data blobs of a file, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<Id>,
    /// Tree of a directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtree: Option<Id>,
    /// Target of a symlink (lossy UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
    /// The raw symlink target in hex when it is not valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target_raw: Option<String>,
}

fn split_name(name: &OsStr) -> (String, Option<String>) {
    match name.to_str() {
        Some(s) => (s.to_string(), None),
        None => (name.to_string_lossy().into_owned(), Some(hex::encode(name.as_bytes()))),
    }
}

fn join_name(name: &str, raw: &Option<String>) -> OsString {
    match raw.as_ref().and_then(|r| hex::decode(r).ok()) {
        Some(b) => OsString::from_vec(b),
        None => OsString::from(name),
    }
}

impl Node {
    /// A node from `lstat` metadata (content, subtree and link target filled in later).
    pub fn from_metadata(name: &OsStr, m: &std::fs::Metadata) -> Node {
        let ft = m.file_type();
        let kind = if ft.is_file() {
            NodeKind::File
        } else if ft.is_dir() {
            NodeKind::Dir
        } else if ft.is_symlink() {
            NodeKind::Symlink
        } else if std::os::unix::fs::FileTypeExt::is_fifo(&ft) {
            NodeKind::Fifo
        } else {
            NodeKind::Other
        };
        let (name, name_raw) = split_name(name);
        Node {
            name,
            name_raw,
            kind,
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            mtime_ns: m.mtime() * 1_000_000_000 + m.mtime_nsec(),
            ctime_ns: m.ctime() * 1_000_000_000 + m.ctime_nsec(),
            inode: m.ino(),
            dev: m.dev(),
            nlink: m.nlink(),
            size: if ft.is_file() { m.len() } else { 0 },
            content: Vec::new(),
            subtree: None,
            link_target: None,
            link_target_raw: None,
        }
    }

    /// A node from a `stat` taken without following symbolic links (`statat` with `AT_SYMLINK_NOFOLLOW`, or
    /// `fstat` of an open entry): the same fields as [`Node::from_metadata`].
    // The field types of `struct stat` differ between architectures: the casts are no-ops on some.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    pub fn from_stat(name: &OsStr, st: &rustix::fs::Stat) -> Node {
        use rustix::fs::FileType;
        let kind = match FileType::from_raw_mode(st.st_mode as u32) {
            FileType::RegularFile => NodeKind::File,
            FileType::Directory => NodeKind::Dir,
            FileType::Symlink => NodeKind::Symlink,
            FileType::Fifo => NodeKind::Fifo,
            _ => NodeKind::Other,
        };
        let (name, name_raw) = split_name(name);
        let ns = |secs: i64, nsec: i64| secs * 1_000_000_000 + nsec;
        Node {
            name,
            name_raw,
            kind,
            mode: st.st_mode as u32,
            uid: st.st_uid as u32,
            gid: st.st_gid as u32,
            mtime_ns: ns(st.st_mtime as i64, st.st_mtime_nsec as i64),
            ctime_ns: ns(st.st_ctime as i64, st.st_ctime_nsec as i64),
            inode: st.st_ino as u64,
            dev: st.st_dev as u64,
            nlink: st.st_nlink as u64,
            size: if kind == NodeKind::File { st.st_size as u64 } else { 0 },
            content: Vec::new(),
            subtree: None,
            link_target: None,
            link_target_raw: None,
        }
    }

    /// The real file name.
    pub fn os_name(&self) -> OsString {
        join_name(&self.name, &self.name_raw)
    }

    /// Sets the symlink target.
    pub fn set_link_target(&mut self, target: &OsStr) {
        let (t, raw) = split_name(target);
        self.link_target = Some(t);
        self.link_target_raw = raw;
    }

    /// The real symlink target.
    pub fn os_link_target(&self) -> Option<OsString> {
        self.link_target.as_ref().map(|t| join_name(t, &self.link_target_raw))
    }

    /// Whether a file is unchanged compared with the same file in the parent snapshot.
    pub fn unchanged_from(&self, parent: &Node) -> bool {
        parent.kind == NodeKind::File
            && self.kind == NodeKind::File
            && parent.size == self.size
            && parent.mtime_ns == self.mtime_ns
            && parent.ctime_ns == self.ctime_ns
            && parent.inode == self.inode
            && (self.size == 0 || !parent.content.is_empty())
    }
}

/// A directory listing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// Entries sorted by raw name bytes.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// Serialized form (the blob plaintext).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a tree blob.
    pub fn decode(b: &[u8], id: &Id) -> Result<Tree> {
        serde_json::from_slice(b).map_err(|e| Error::corrupt("tree", id.to_hex(), e.to_string()))
    }

    /// Finds an entry by name.
    pub fn find(&self, name: &OsStr) -> Option<&Node> {
        self.nodes.binary_search_by(|n| n.os_name().as_bytes().cmp(name.as_bytes())).ok().map(|i| &self.nodes[i])
    }
}
