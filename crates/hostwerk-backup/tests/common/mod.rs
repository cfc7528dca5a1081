//! Helpers shared by the engine's integration tests: source trees, comparison, repositories.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hostwerk_backup::{InitOptions, LocalBackend, Repository};

pub const PASSWORD: &[u8] = b"correct horse";

pub fn init_repo(dir: &Path) -> Repository {
    Repository::init(Arc::new(LocalBackend::new(dir)), PASSWORD, InitOptions::default()).unwrap()
}

pub fn open_repo(dir: &Path) -> Repository {
    Repository::open(Arc::new(LocalBackend::new(dir)), PASSWORD).unwrap()
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A small webspace-like tree: PHP files, an upload, symlink, hardlink, empty folder, odd modes.
pub fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("site/wp-content/uploads")).unwrap();
    fs::create_dir_all(root.join("site/empty")).unwrap();
    for i in 0..20 {
        fs::write(root.join(format!("site/file{i}.php")), format!("<?php echo {i}; ?>\n").repeat(i + 1)).unwrap();
    }
    fs::write(root.join("site/wp-content/uploads/big.bin"), bytes(7, 3_000_000)).unwrap();
    fs::write(root.join("site/zero"), b"").unwrap();
    std::os::unix::fs::symlink("file1.php", root.join("site/link.php")).unwrap();
    fs::hard_link(root.join("site/file2.php"), root.join("site/hard.php")).unwrap();
    fs::set_permissions(root.join("site/file3.php"), std::os::unix::fs::PermissionsExt::from_mode(0o640)).unwrap();
    filetime::set_file_mtime(root.join("site/file4.php"), filetime::FileTime::from_unix_time(1_000_000_000, 5))
        .unwrap();
}

#[derive(Debug, PartialEq, Eq)]
pub enum Entry {
    File { content: Vec<u8>, mode: u32, mtime: (i64, i64) },
    Dir { mode: u32 },
    Link(PathBuf),
}

/// Everything a restore must reproduce, keyed by relative path (plus hard-link groups).
pub fn snapshot_fs(root: &Path) -> (BTreeMap<PathBuf, Entry>, Vec<Vec<PathBuf>>) {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, Vec<PathBuf>> = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Entry>, inodes: &mut BTreeMap<u64, Vec<PathBuf>>) {
        let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for n in names {
            let p = dir.join(&n);
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let m = fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                out.insert(rel, Entry::Link(fs::read_link(&p).unwrap()));
            } else if m.is_dir() {
                out.insert(rel, Entry::Dir { mode: m.mode() });
                walk(root, &p, out, inodes);
            } else {
                if m.nlink() > 1 {
                    inodes.entry(m.ino()).or_default().push(rel.clone());
                }
                out.insert(
                    rel,
                    Entry::File { content: fs::read(&p).unwrap(), mode: m.mode(), mtime: (m.mtime(), m.mtime_nsec()) },
                );
            }
        }
    }
    walk(root, root, &mut out, &mut inodes);
    (out, inodes.into_values().collect())
}
