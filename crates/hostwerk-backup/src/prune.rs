//! `prune`: under the exclusive lock, find blobs no snapshot uses, repack or delete their packs, rewrite the index.
//!
//! Order (crash-safe at every step): new packs → new index → delete old index files → delete packs.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::backend::FileType;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::index::IndexPack;
use crate::lock::Lock;
use crate::pack::{PackEntry, PackWriter};
use crate::repo::Repository;
use crate::tree::NodeKind;

/// Repack a partly used pack when at least this share of its bytes is unused.
pub const REPACK_UNUSED_RATIO: f64 = 0.1;

/// What prune will do (or did).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PrunePlan {
    /// Snapshots whose blobs are kept.
    pub snapshots: usize,
    /// Packs listed by the index.
    pub packs_indexed: usize,
    /// Blobs used by some snapshot.
    pub blobs_used: usize,
    /// Blobs no snapshot uses (or duplicate copies).
    pub blobs_unused: usize,
    /// Packs to delete entirely.
    pub packs_delete: Vec<Id>,
    /// Packs whose used blobs are copied into new packs before deletion.
    pub packs_repack: Vec<Id>,
    /// Pack files no index lists (left by interrupted runs).
    pub packs_unindexed: Vec<Id>,
    /// Bytes of all pack files.
    pub bytes_total: u64,
    /// Bytes freed (approximately, before repacked data is rewritten).
    pub bytes_freed: u64,
    /// Bytes copied by repacking.
    pub bytes_repacked: u64,
    /// Index files to replace.
    pub index_files: usize,
    /// Whether anything changes.
    pub changes: bool,
}

/// Collects every blob reachable from any snapshot.
pub fn used_blobs(repo: &Repository) -> Result<(usize, HashSet<Id>)> {
    let snaps = repo.snapshots()?;
    let mut used = HashSet::new();
    let mut stack: Vec<Id> = snaps.iter().map(|s| s.snapshot.tree).collect();
    while let Some(t) = stack.pop() {
        if !used.insert(t) {
            continue;
        }
        let tree = repo.load_tree(&t)?;
        for n in tree.nodes {
            if n.kind == NodeKind::Dir {
                if let Some(sub) = n.subtree {
                    stack.push(sub);
                }
            }
            for id in n.content {
                used.insert(id);
            }
        }
    }
    let index = repo.index()?;
    if let Some(missing) = used.iter().find(|id| index.get(id).is_none()) {
        return Err(Error::BlobNotIndexed(*missing));
    }
    Ok((snaps.len(), used))
}

/// Plans and (unless `dry_run`) carries out a prune.
pub fn prune(repo: &Repository, dry_run: bool) -> Result<PrunePlan> {
    let _lock = Lock::exclusive(repo, std::time::Duration::from_secs(10))?;
    let (snapshots, used) = used_blobs(repo)?;

    // Per pack: its entries from all index files (deduplicated).
    let mut index_files = Vec::new();
    let mut packs: Vec<IndexPack> = Vec::new();
    let mut seen_pack = HashSet::new();
    for (name, _) in repo.backend().list(FileType::Index)? {
        for p in repo.read_index_file(&name)? {
            if seen_pack.insert(p.id) {
                packs.push(p);
            }
        }
        index_files.push(name);
    }
    let files: HashMap<String, u64> = repo.backend().list(FileType::Pack)?.into_iter().collect();

    let mut plan = PrunePlan {
        snapshots,
        packs_indexed: packs.len(),
        index_files: index_files.len(),
        bytes_total: files.values().sum(),
        ..Default::default()
    };
    let mut assigned: HashSet<Id> = HashSet::new();
    let mut keep: Vec<IndexPack> = Vec::new();
    let mut repack: Vec<(IndexPack, Vec<PackEntry>)> = Vec::new();
    for p in packs {
        if !files.contains_key(&p.id.to_hex()) {
            return Err(Error::NotFound { kind: "pack", name: format!("{} (listed in the index; run `check`)", p.id) });
        }
        let mut used_entries = Vec::new();
        let mut unused_bytes = 0u64;
        for e in &p.entries {
            if used.contains(&e.id) && assigned.insert(e.id) {
                used_entries.push(*e);
            } else {
                unused_bytes += e.length as u64;
                plan.blobs_unused += 1;
            }
        }
        plan.blobs_used += used_entries.len();
        if used_entries.is_empty() {
            plan.packs_delete.push(p.id);
            plan.bytes_freed += p.size;
        } else if unused_bytes as f64 >= REPACK_UNUSED_RATIO * p.size as f64 {
            plan.packs_repack.push(p.id);
            plan.bytes_freed += unused_bytes;
            plan.bytes_repacked += p.size - unused_bytes;
            repack.push((p, used_entries));
        } else {
            keep.push(p);
        }
    }
    let indexed: HashSet<String> = seen_pack.iter().map(Id::to_hex).collect();
    for (name, size) in &files {
        if !indexed.contains(name) {
            if let Ok(id) = name.parse() {
                plan.packs_unindexed.push(id);
                plan.bytes_freed += size;
            }
        }
    }
    plan.packs_unindexed.sort();
    plan.changes = !plan.packs_delete.is_empty()
        || !plan.packs_repack.is_empty()
        || !plan.packs_unindexed.is_empty()
        || plan.index_files > 1;
    if dry_run || !plan.changes {
        if !dry_run {
            repo.backend().cleanup_partial()?;
        }
        return Ok(plan);
    }

    // 1. Repack: copy the sealed bytes of used blobs into new packs.
    let target = repo.config().pack_size as usize;
    let mut w = PackWriter::new();
    let mut new_packs = Vec::new();
    let store = |w: PackWriter, new_packs: &mut Vec<IndexPack>| -> Result<()> {
        let fp = w.finish(repo.key());
        repo.backend().put(FileType::Pack, &fp.id.to_hex(), &fp.bytes)?;
        new_packs.push(IndexPack { id: fp.id, size: fp.bytes.len() as u64, entries: fp.entries });
        Ok(())
    };
    for (p, entries) in &repack {
        let name = p.id.to_hex();
        let bytes = repo.backend().get(FileType::Pack, &name)?;
        for e in entries {
            let s = e.offset as usize;
            let raw = bytes
                .get(s..s + e.length as usize)
                .ok_or_else(|| Error::corrupt("pack", name.clone(), "shorter than its index says"))?;
            // Verify before copying, so prune never spreads corruption.
            crate::blob::open_blob(repo.key(), e.kind, &e.id, e.compressed, e.raw_length, raw)?;
            w.add_raw(e.kind, e.id, e.compressed, e.raw_length, raw);
            if w.size() >= target {
                store(std::mem::take(&mut w), &mut new_packs)?;
            }
        }
    }
    if !w.is_empty() {
        store(w, &mut new_packs)?;
    }

    // 2. New index with every pack that stays, then 3. old index files go.
    keep.extend(new_packs);
    let new_index = if keep.is_empty() { None } else { Some(repo.write_index(&keep)?) };
    for name in &index_files {
        if new_index.map(|i| i.to_hex()).as_deref() != Some(name.as_str()) {
            repo.backend().delete(FileType::Index, name)?;
        }
    }
    // 4. Packs nobody references any more.
    for id in plan.packs_delete.iter().chain(&plan.packs_repack).chain(&plan.packs_unindexed) {
        repo.backend().delete(FileType::Pack, &id.to_hex())?;
    }
    repo.backend().cleanup_partial()?;
    repo.invalidate_index();
    Ok(plan)
}
