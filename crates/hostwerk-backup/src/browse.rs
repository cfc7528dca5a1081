//! Snapshot browsing: resolve a path inside a snapshot, list entries, read file contents.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::id::Id;
use crate::repo::Repository;
use crate::tree::{Node, NodeKind, Tree};

/// Splits a snapshot path ("/srv/www/a") into names.
pub fn path_names(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            _ => None,
        })
        .collect()
}

/// Finds the node at `path` below tree `root`; `None` for the root itself.
pub fn find_node(repo: &Repository, root: &Id, path: &Path) -> Result<Option<Node>> {
    let names = path_names(path);
    let mut tree = repo.load_tree(root)?;
    let mut found = None;
    for (i, name) in names.iter().enumerate() {
        let node = tree.find(name).cloned().ok_or_else(|| Error::PathNotFound(path.display().to_string()))?;
        if i + 1 < names.len() {
            let sub = node
                .subtree
                .filter(|_| node.kind == NodeKind::Dir)
                .ok_or_else(|| Error::PathNotFound(path.display().to_string()))?;
            tree = repo.load_tree(&sub)?;
        }
        found = Some(node);
    }
    Ok(found)
}

/// One entry as listed by `ls`.
#[derive(Debug, Clone, Serialize)]
pub struct LsEntry {
    /// Path inside the snapshot.
    pub path: String,
    /// Kind.
    #[serde(rename = "type")]
    pub kind: NodeKind,
    /// Size (files).
    pub size: u64,
    /// Mode bits.
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Modification time (RFC 3339).
    pub mtime: String,
    /// Symlink target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

fn entry(path: &Path, n: &Node) -> LsEntry {
    let secs = n.mtime_ns.div_euclid(1_000_000_000);
    let nanos = n.mtime_ns.rem_euclid(1_000_000_000) as u32;
    LsEntry {
        path: path.display().to_string(),
        kind: n.kind,
        size: n.size,
        mode: n.mode,
        uid: n.uid,
        gid: n.gid,
        mtime: chrono::DateTime::from_timestamp(secs, nanos).map(|t| t.to_rfc3339()).unwrap_or_default(),
        link_target: n.link_target.clone(),
    }
}

/// Lists everything at and below `path` in the snapshot tree `root`, depth first.
pub fn ls(repo: &Repository, root: &Id, path: &Path) -> Result<Vec<LsEntry>> {
    let mut out = Vec::new();
    let base = PathBuf::from("/").join(path.strip_prefix("/").unwrap_or(path));
    match find_node(repo, root, path)? {
        None => walk(repo, &repo.load_tree(root)?, &PathBuf::from("/"), &mut |p, n| out.push(entry(p, n)))?,
        Some(n) => {
            out.push(entry(&base, &n));
            if let (NodeKind::Dir, Some(sub)) = (n.kind, n.subtree) {
                walk(repo, &repo.load_tree(&sub)?, &base, &mut |p, n| out.push(entry(p, n)))?;
            }
        }
    }
    Ok(out)
}

/// Calls `f` for every node below `tree` (pre-order), with its path.
pub fn walk(repo: &Repository, tree: &Tree, dir: &Path, f: &mut dyn FnMut(&Path, &Node)) -> Result<()> {
    for n in &tree.nodes {
        let p = dir.join(n.os_name());
        f(&p, n);
        if let (NodeKind::Dir, Some(sub)) = (n.kind, n.subtree) {
            walk(repo, &repo.load_tree(&sub)?, &p, f)?;
        }
    }
    Ok(())
}

/// Reads a file's content blob by blob.
#[derive(Debug)]
pub struct FileReader<'a> {
    repo: &'a Repository,
    content: Vec<Id>,
    next: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl<'a> FileReader<'a> {
    /// A reader over the content of a file node.
    pub fn new(repo: &'a Repository, node: &Node) -> FileReader<'a> {
        FileReader { repo, content: node.content.clone(), next: 0, buf: Vec::new(), pos: 0 }
    }
}

impl Read for FileReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.buf.len() {
            let Some(id) = self.content.get(self.next) else {
                return Ok(0);
            };
            self.next += 1;
            self.buf = self.repo.read_blob(id).map_err(std::io::Error::other)?;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
