//! `check`: verify index files, pack presence, snapshots and trees; with `read_data` every byte of every pack.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::backend::FileType;
use crate::blob::open_blob;
use crate::error::Result;
use crate::id::Id;
use crate::index::MasterIndex;
use crate::lock::Lock;
use crate::pack::parse_pack;
use crate::repo::Repository;
use crate::tree::NodeKind;

/// Outcome of a check. The repository is sound when `errors` is empty.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// Problems that lose or endanger data.
    pub errors: Vec<String>,
    /// Harmless leftovers (e.g. packs of interrupted runs, which prune removes).
    pub warnings: Vec<String>,
    /// Snapshots checked.
    pub snapshots: usize,
    /// Trees checked.
    pub trees: usize,
    /// Index files checked.
    pub index_files: usize,
    /// Pack files present.
    pub packs: usize,
    /// Pack files read completely (`read_data`).
    pub packs_read: usize,
    /// Blobs decrypted and verified (`read_data`).
    pub blobs_read: usize,
}

impl CheckReport {
    /// Whether no error was found.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks the repository; `read_data` also reads and verifies every pack.
pub fn check(repo: &Repository, read_data: bool) -> Result<CheckReport> {
    let _lock = Lock::shared(repo, std::time::Duration::from_secs(30))?;
    let mut r = CheckReport::default();

    // Index files: hash, authenticity, structure.
    let mut mi = MasterIndex::default();
    let mut indexed: HashMap<Id, (u64, Vec<crate::pack::PackEntry>)> = HashMap::new();
    for (name, _) in repo.backend().list(FileType::Index)? {
        r.index_files += 1;
        match repo.read_index_file(&name) {
            Ok(packs) => {
                for p in &packs {
                    indexed.entry(p.id).or_insert_with(|| (p.size, p.entries.clone()));
                }
                mi.add(packs);
            }
            Err(e) => r.errors.push(e.to_string()),
        }
    }

    // Packs: every indexed pack present with the right size.
    let files: HashMap<String, u64> = repo.backend().list(FileType::Pack)?.into_iter().collect();
    r.packs = files.len();
    for (id, (size, _)) in &indexed {
        match files.get(&id.to_hex()) {
            None => r.errors.push(format!("pack {id} is listed in the index but missing")),
            Some(s) if s != size => {
                r.errors.push(format!("pack {id} has {s} bytes but the index says {size} (truncated or damaged)"))
            }
            _ => {}
        }
    }
    for name in files.keys() {
        if name.parse::<Id>().map(|id| !indexed.contains_key(&id)).unwrap_or(true) {
            r.warnings.push(format!("pack {name} is not in any index (left by an interrupted run; prune removes it)"));
        }
    }

    // Snapshots and trees.
    let mut seen = HashSet::new();
    for (name, _) in repo.backend().list(FileType::Snapshot)? {
        let Ok(id) = name.parse::<Id>() else {
            r.warnings.push(format!("snapshot file {name:?} has no valid name"));
            continue;
        };
        let snap = match repo.read_snapshot(&id) {
            Ok(s) => s,
            Err(e) => {
                r.errors.push(e.to_string());
                continue;
            }
        };
        r.snapshots += 1;
        let mut stack = vec![snap.tree];
        while let Some(t) = stack.pop() {
            if !seen.insert(t) {
                continue;
            }
            r.trees += 1;
            if mi.get(&t).is_none() {
                r.errors.push(format!("snapshot {}: tree {t} is not in any index", id.short()));
                continue;
            }
            let tree = match repo.read_blob(&t).and_then(|b| crate::tree::Tree::decode(&b, &t)) {
                Ok(tree) => tree,
                Err(e) => {
                    r.errors.push(format!("snapshot {}: {e}", id.short()));
                    continue;
                }
            };
            for n in tree.nodes {
                if n.kind == NodeKind::Dir {
                    match n.subtree {
                        Some(s) => stack.push(s),
                        None => r.errors.push(format!("tree {t}: folder {:?} has no subtree", n.name)),
                    }
                }
                for c in &n.content {
                    if seen.insert(*c) && mi.get(c).is_none() {
                        r.errors.push(format!(
                            "tree {t}: file {:?} references blob {c}, which is not in any index",
                            n.name
                        ));
                    }
                }
            }
        }
    }

    if read_data {
        let mut names: Vec<_> = files.keys().cloned().collect();
        names.sort();
        for name in names {
            let bytes = match repo.backend().get(FileType::Pack, &name) {
                Ok(b) => b,
                Err(e) => {
                    r.errors.push(e.to_string());
                    continue;
                }
            };
            r.packs_read += 1;
            let entries = match parse_pack(repo.key(), &name, &bytes) {
                Ok(e) => e,
                Err(e) => {
                    r.errors.push(e.to_string());
                    continue;
                }
            };
            let Ok(id) = name.parse::<Id>() else { continue };
            if let Some((_, idx_entries)) = indexed.get(&id) {
                if *idx_entries != entries {
                    r.errors.push(format!("pack {name}: its directory does not match the index"));
                }
            }
            for e in entries {
                let raw = &bytes[e.offset as usize..e.offset as usize + e.length as usize];
                match open_blob(repo.key(), e.kind, &e.id, e.compressed, e.raw_length, raw) {
                    Ok(_) => r.blobs_read += 1,
                    Err(err) => r.errors.push(format!("pack {name}: {err}")),
                }
            }
        }
    }
    Ok(r)
}
