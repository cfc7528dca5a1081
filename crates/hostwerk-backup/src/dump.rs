//! `dump`: a file's content, or a folder as a tar stream, from a snapshot to a writer.

use std::io::Write;
use std::path::Path;

use crate::browse::{find_node, FileReader};
use crate::error::{Error, Result};
use crate::id::Id;
use crate::repo::Repository;
use crate::tree::{Node, NodeKind};

/// Writes the file at `path` (raw) or the folder at `path` (tar) of snapshot tree `root` to `out`.
pub fn dump(repo: &Repository, root: &Id, path: &Path, out: &mut dyn Write) -> Result<()> {
    let wrap = |e: std::io::Error| match e.into_inner() {
        Some(inner) => match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => Error::io("write", "<output>", std::io::Error::other(other)),
        },
        None => Error::io("write", "<output>", std::io::Error::other("write failed")),
    };
    match find_node(repo, root, path)? {
        Some(n) if n.kind == NodeKind::File => {
            std::io::copy(&mut FileReader::new(repo, &n), out).map_err(wrap)?;
        }
        Some(n) if n.kind == NodeKind::Dir => {
            let tree = repo.load_tree(&n.subtree.ok_or_else(|| Error::PathNotFound(path.display().to_string()))?)?;
            let name = n.os_name();
            let mut b = tar::Builder::new(out);
            append(repo, &mut b, Path::new(&name), &n).map_err(wrap)?;
            tar_tree(repo, &mut b, Path::new(&name), &tree)?;
            b.finish().map_err(wrap)?;
        }
        None => {
            let tree = repo.load_tree(root)?;
            let mut b = tar::Builder::new(out);
            tar_tree(repo, &mut b, Path::new(""), &tree)?;
            b.finish().map_err(wrap)?;
        }
        Some(_) => return Err(Error::Invalid(format!("{} is neither a file nor a folder", path.display()))),
    }
    Ok(())
}

fn tar_tree(
    repo: &Repository,
    b: &mut tar::Builder<&mut dyn Write>,
    dir: &Path,
    tree: &crate::tree::Tree,
) -> Result<()> {
    for n in &tree.nodes {
        let p = dir.join(n.os_name());
        append(repo, b, &p, n).map_err(|e| Error::io("write tar entry", &p, e))?;
        if let (NodeKind::Dir, Some(sub)) = (n.kind, n.subtree) {
            tar_tree(repo, b, &p, &repo.load_tree(&sub)?)?;
        }
    }
    Ok(())
}

fn append(repo: &Repository, b: &mut tar::Builder<&mut dyn Write>, p: &Path, n: &Node) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_mode(n.mode & 0o7777);
    h.set_uid(n.uid as u64);
    h.set_gid(n.gid as u64);
    h.set_mtime(n.mtime_ns.div_euclid(1_000_000_000).max(0) as u64);
    match n.kind {
        NodeKind::File => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_size(n.size);
            b.append_data(&mut h, p, FileReader::new(repo, n))
        }
        NodeKind::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            b.append_data(&mut h, p, std::io::empty())
        }
        NodeKind::Symlink => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            let target = n.os_link_target().unwrap_or_default();
            b.append_link(&mut h, p, target)
        }
        _ => Ok(()),
    }
}
