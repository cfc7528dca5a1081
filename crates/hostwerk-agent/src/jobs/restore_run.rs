//! A file restore: into a new folder, or in place with a safety snapshot, a staged restore, a swap by renames
//! and a rollback if anything fails.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use hostwerk_backup::browse::find_node;
use hostwerk_backup::{restore, NoProgress, Repository, RestoreOptions, RestoreSummary, SnapshotInfo};

use super::backup_run::{files_snapshot, owner_reader};
use super::error::JobError;
use super::paths::{
    absent_or_empty_dir, chown_tree, dir_meta, exists_at, normalise, relative_inside, rename_at, DirMeta, Root,
    WorkDir, WORK_PREFIX,
};
use super::spec::{RestoreOutcome, RestoreSpec, RestoreTarget};

/// Runs one file restore.
///
/// Paths in a snapshot are stored under their absolute source path (the webspace `/srv/www/k1` is the tree
/// `srv/www/k1` of the snapshot), so `spec.paths` are the absolute paths the files had. Each must lie in
/// `spec.allowed_root` and be in the snapshot.
///
/// * [`RestoreTarget::Folder`]: the chosen paths are written below the target with their layout relative to
///   `allowed_root` (`/srv/www/k1/htdocs/a.txt` → `<target>/htdocs/a.txt`); the target folder itself gets the
///   snapshot's metadata of `allowed_root`. Nothing else changes.
/// * [`RestoreTarget::InPlace`]: each chosen path is replaced as a whole by its state in the snapshot — a
///   folder loses files that were not in the backup, a deleted file comes back. Choosing `allowed_root` itself
///   replaces every entry in it that the snapshot covers (the root folder keeps its own metadata); choosing a
///   folder the snapshot holds only partly (an ancestor of the snapshot's paths) replaces the covered paths
///   below it. Before anything changes a safety snapshot of the affected paths is taken (tags of
///   `spec.safety` plus `kind:safety`); if the restore fails, every rename is undone (or, if that fails, the
///   affected paths are restored from the safety snapshot) and the error is [`JobError::RolledBack`].
///   The safety snapshot is read like a backup, as the owner of `allowed_root`: what that user may not read
///   (a root-only file in the webspace) is not in it (it goes to the snapshot's errors), so it is replaced
///   without a copy — it must not end up in the contract's repository.
pub fn run_restore(repo: &Repository, spec: &RestoreSpec) -> Result<RestoreOutcome, JobError> {
    let root = Root::open(&spec.allowed_root)?;
    let snap = repo.find_snapshot(&spec.snapshot)?;
    if snap.snapshot.tags.iter().any(|t| t.starts_with("db:")) {
        return Err(JobError::WrongSnapshot {
            snapshot: snap.id.to_hex(),
            reason: "holds a database dump, not files".into(),
        });
    }
    if spec.paths.is_empty() {
        return Err(JobError::Invalid("no paths to restore".into()));
    }
    let mut chosen = Vec::new();
    for p in &spec.paths {
        let rel = relative_inside(&root.path, p)?;
        let abs = root.path.join(&rel);
        if !in_snapshot(repo, &snap, &abs)? {
            return Err(JobError::NotInSnapshot { path: abs, snapshot: snap.id.to_hex() });
        }
        chosen.push((abs, rel));
    }
    match &spec.target {
        RestoreTarget::Folder(target) => into_folder(repo, &snap, spec, &root, &chosen, target),
        RestoreTarget::InPlace => in_place(repo, &snap, spec, &root, &chosen),
    }
}

fn in_snapshot(repo: &Repository, snap: &SnapshotInfo, abs: &Path) -> Result<bool, JobError> {
    match find_node(repo, &snap.snapshot.tree, abs) {
        Ok(n) => Ok(n.is_some()),
        Err(hostwerk_backup::Error::PathNotFound(_)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn warnings_of(summary: &RestoreSummary) -> Vec<String> {
    summary.warnings.iter().map(|w| format!("{}: {}", w.path, w.message)).collect()
}

/// The snapshot's tree of `root` inside a work folder the engine restored into.
fn staged(work: &WorkDir, abs: &Path) -> PathBuf {
    work.path().join(abs.strip_prefix("/").unwrap_or(abs))
}

fn into_folder(
    repo: &Repository,
    snap: &SnapshotInfo,
    spec: &RestoreSpec,
    root: &Root,
    chosen: &[(PathBuf, PathBuf)],
    target: &Path,
) -> Result<RestoreOutcome, JobError> {
    let target = normalise(target)?;
    let trel = relative_inside(&root.path, &target)?;
    let (Some(name), Some(parent_rel)) = (trel.file_name(), trel.parent()) else {
        return Err(JobError::Invalid(format!(
            "the restore target must be a folder below {}, not the folder itself",
            root.path.display()
        )));
    };
    if name.to_string_lossy().starts_with(WORK_PREFIX) {
        return Err(JobError::Invalid(format!("{} is a name reserved for work folders", target.display())));
    }
    // Refuse before creating anything: the existing part of the way must be plain folders.
    let parent_now = root.open_dir(parent_rel)?;
    if let Some(fd) = &parent_now {
        if !absent_or_empty_dir(fd, name, &target)? {
            return Err(JobError::TargetNotEmpty { path: target });
        }
    }
    let root_meta = root.meta()?;
    let new_dir_meta = match spec.owner {
        Some((uid, gid)) => DirMeta { uid, gid, ..root_meta },
        None => root_meta,
    };
    let (parent, created) = root.create_dirs(parent_rel, &|_| new_dir_meta)?;
    let work = match root.work_dir("restore") {
        Ok(w) => w,
        Err(e) => {
            remove_created(&created);
            return Err(e);
        }
    };
    let result = (|| {
        let opts = RestoreOptions {
            target: work.path(),
            includes: chosen.iter().map(|(abs, _)| abs.clone()).collect(),
            threads: None,
        };
        let summary = restore(repo, &snap.snapshot.tree, &opts, &NoProgress)?;
        let staged_root = staged(&work, &root.path);
        if let Some((uid, gid)) = spec.owner {
            chown_tree(&staged_root, uid, gid)?;
        }
        rustix::fs::renameat(rustix::fs::CWD, &staged_root, &parent, name).map_err(|e| match e {
            rustix::io::Errno::NOTEMPTY | rustix::io::Errno::EXIST | rustix::io::Errno::NOTDIR => {
                JobError::TargetNotEmpty { path: target.clone() }
            }
            e => JobError::io("rename into", &target, e),
        })?;
        Ok(summary)
    })();
    let cleanup = work.remove(root);
    match result {
        Ok(summary) => {
            let mut warnings = warnings_of(&summary);
            warnings.extend(cleanup);
            Ok(RestoreOutcome {
                files: summary.files,
                bytes: summary.bytes,
                target,
                safety_snapshot: None,
                rolled_back: false,
                warnings,
            })
        }
        Err(e) => {
            remove_created(&created);
            Err(e)
        }
    }
}

fn remove_created(created: &[PathBuf]) {
    for p in created.iter().rev() {
        let _ = std::fs::remove_dir(p);
    }
}

/// One path an in-place restore replaces.
#[derive(Debug)]
struct Unit {
    /// Relative to the root (never empty).
    rel: PathBuf,
    /// Absolute (as in the snapshot).
    abs: PathBuf,
    /// Whether the snapshot has it (if not, the restore removes it).
    in_snapshot: bool,
}

/// The paths an in-place restore swaps: the chosen paths, with the root replaced by its entries and a partly
/// covered folder by the covered paths below it; nested paths folded into their ancestor.
fn units(
    repo: &Repository,
    snap: &SnapshotInfo,
    root: &Root,
    chosen: &[(PathBuf, PathBuf)],
) -> Result<Vec<Unit>, JobError> {
    let covered: Vec<PathBuf> = snap.snapshot.paths.iter().map(PathBuf::from).collect();
    let mut rels: Vec<PathBuf> = Vec::new();
    for (abs, rel) in chosen {
        if covered.iter().any(|s| abs.starts_with(s)) {
            rels.push(rel.clone());
        } else {
            let below: Vec<_> = covered.iter().filter(|s| s.starts_with(abs)).collect();
            if below.is_empty() {
                return Err(JobError::NotInSnapshot { path: abs.clone(), snapshot: snap.id.to_hex() });
            }
            for s in below {
                rels.push(relative_inside(&root.path, s)?);
            }
        }
    }
    let mut expanded = Vec::new();
    for rel in rels {
        if !rel.as_os_str().is_empty() {
            expanded.push(rel);
            continue;
        }
        // The whole root: every entry the snapshot has, and every entry on disk (covered, since the root is).
        let mut names: Vec<OsString> = Vec::new();
        if let Some(node) = find_node(repo, &snap.snapshot.tree, &root.path)? {
            if let Some(sub) = node.subtree {
                names.extend(repo.load_tree(&sub)?.nodes.iter().map(|n| n.os_name()));
            }
        }
        let rd = std::fs::read_dir(&root.path).map_err(|e| JobError::io("read folder", &root.path, e))?;
        for e in rd {
            names.push(e.map_err(|e| JobError::io("read folder", &root.path, e))?.file_name());
        }
        expanded.extend(names.into_iter().filter(|n| !n.to_string_lossy().starts_with(WORK_PREFIX)).map(PathBuf::from));
    }
    expanded.sort();
    expanded.dedup();
    let mut out: Vec<Unit> = Vec::new();
    for rel in expanded {
        if out.iter().any(|u| rel.starts_with(&u.rel)) {
            continue; // sorted: an ancestor comes first
        }
        let abs = root.path.join(&rel);
        let in_snapshot = in_snapshot(repo, snap, &abs)?;
        out.push(Unit { rel, abs, in_snapshot });
    }
    Ok(out)
}

/// What the swap did, to be undone in reverse.
#[derive(Debug)]
enum Step {
    /// Created a missing folder on the way.
    Mkdir(PathBuf),
    /// Moved the current unit `i` into the old-copies folder as `i`.
    Out(usize),
    /// Moved the staged unit `i` into place.
    In(usize),
}

fn file_name(u: &Unit) -> &std::ffi::OsStr {
    u.rel.file_name().unwrap_or_default()
}

fn in_place(
    repo: &Repository,
    snap: &SnapshotInfo,
    spec: &RestoreSpec,
    root: &Root,
    chosen: &[(PathBuf, PathBuf)],
) -> Result<RestoreOutcome, JobError> {
    let units = units(repo, snap, root, chosen)?;
    // Refuse symlinks on the way before anything happens, and note what exists now.
    let mut existed = Vec::with_capacity(units.len());
    for u in &units {
        let parent = u.rel.parent().unwrap_or(Path::new(""));
        existed.push(match root.open_dir(parent)? {
            Some(fd) => exists_at(&fd, file_name(u), &u.abs)?,
            None => false,
        });
    }
    let safety_paths: Vec<PathBuf> =
        units.iter().zip(&existed).filter(|(_, e)| **e).map(|(u, _)| u.abs.clone()).collect();
    let safety = if safety_paths.is_empty() {
        None
    } else {
        let mut tags = spec.safety.tags.clone();
        tags.push("kind:safety".into());
        // Read as the contract's user, the owner of the allowed root (like the backup job): the paths may be
        // deep inside the webspace, where their own owner says nothing (a hard link to a root-only file).
        let owner = root.meta()?;
        let read_as = hostwerk_backup::archiver::ReadAs::User(owner_reader(owner.uid, owner.gid));
        let (t, _) = files_snapshot(repo, &spec.safety.host, &tags, &safety_paths, &[], read_as)?;
        Some(t.id)
    };
    let rolled_back = |source: JobError| JobError::RolledBack {
        source: Box::new(source),
        safety_snapshot: safety.clone(),
        from_safety_snapshot: false,
    };

    // Stage the snapshot's state in a private folder on the same file system.
    let work = root.work_dir("restore").map_err(rolled_back)?;
    let includes: Vec<PathBuf> = units.iter().filter(|u| u.in_snapshot).map(|u| u.abs.clone()).collect();
    let staged_result = (|| {
        let summary = if includes.is_empty() {
            RestoreSummary::default()
        } else {
            restore(
                repo,
                &snap.snapshot.tree,
                &RestoreOptions { target: work.path(), includes, threads: None },
                &NoProgress,
            )?
        };
        if let Some((uid, gid)) = spec.owner {
            for u in units.iter().filter(|u| u.in_snapshot) {
                chown_tree(&staged(&work, &u.abs), uid, gid)?;
            }
        }
        Ok::<_, JobError>(summary)
    })();
    let summary = match staged_result {
        Ok(s) => s,
        Err(e) => {
            let _ = work.remove(root);
            return Err(rolled_back(e));
        }
    };
    let old = match root.work_dir("old") {
        Ok(o) => o,
        Err(e) => {
            let _ = work.remove(root);
            return Err(rolled_back(e));
        }
    };

    // Swap.
    let mut journal: Vec<Step> = Vec::new();
    let mut parents: Vec<Option<OwnedFd>> = (0..units.len()).map(|_| None).collect();
    let swapped = swap(spec, root, &units, &existed, &work, &old, &mut parents, &mut journal);
    let mut warnings = warnings_of(&summary);
    if let Err(cause) = swapped {
        let undone = undo(spec, &units, &work, &old, &parents, journal);
        return match undo_or_recover(repo, root, &units, &existed, safety.as_deref(), undone) {
            Ok(from_safety) => {
                let _ = work.remove(root);
                let _ = old.remove(root);
                Err(JobError::RolledBack {
                    source: Box::new(cause),
                    safety_snapshot: safety,
                    from_safety_snapshot: from_safety,
                })
            }
            Err(rollback) => Err(JobError::RollbackFailed {
                source: Box::new(cause),
                rollback: format!(
                    "{rollback}; the replaced files are kept in {}, the staged ones in {}",
                    old.shown.display(),
                    work.shown.display()
                ),
                safety_snapshot: safety,
            }),
        };
    }
    warnings.extend(old.remove(root));
    warnings.extend(work.remove(root));
    Ok(RestoreOutcome {
        files: summary.files,
        bytes: summary.bytes,
        target: root.path.clone(),
        safety_snapshot: safety,
        rolled_back: false,
        warnings,
    })
}

#[allow(clippy::too_many_arguments)]
fn swap(
    spec: &RestoreSpec,
    root: &Root,
    units: &[Unit],
    existed: &[bool],
    work: &WorkDir,
    old: &WorkDir,
    parents: &mut [Option<OwnedFd>],
    journal: &mut Vec<Step>,
) -> Result<(), JobError> {
    for (i, u) in units.iter().enumerate() {
        if spec.faults.fail_after_swaps == Some(i) {
            return Err(JobError::Injected(i));
        }
        let parent_rel = u.rel.parent().unwrap_or(Path::new(""));
        let name = file_name(u);
        let parent = if u.in_snapshot {
            // Missing folders on the way get the snapshot's metadata (or the contract's owner).
            let meta = |sub: &Path| {
                let m =
                    dir_meta(&staged(work, &root.path.join(sub))).unwrap_or(DirMeta { mode: 0o755, uid: 0, gid: 0 });
                match spec.owner {
                    Some((uid, gid)) => DirMeta { uid, gid, ..m },
                    None => m,
                }
            };
            let (fd, created) = root.create_dirs(parent_rel, &meta)?;
            journal.extend(created.into_iter().map(Step::Mkdir));
            fd
        } else {
            match root.open_dir(parent_rel)? {
                Some(fd) => fd,
                None => continue, // neither in the snapshot nor here: nothing to do
            }
        };
        let parent = &*parents[i].insert(parent);
        if existed[i] || exists_at(parent, name, &u.abs)? {
            rename_at(parent, name, &old.fd, OsString::from(i.to_string()).as_os_str(), &u.abs)?;
            journal.push(Step::Out(i));
        }
        if u.in_snapshot {
            let from = staged(work, &u.abs);
            rustix::fs::renameat(rustix::fs::CWD, &from, parent, name)
                .map_err(|e| JobError::io("rename into", &u.abs, e))?;
            journal.push(Step::In(i));
        }
    }
    if spec.faults.fail_after_swaps == Some(units.len()) {
        return Err(JobError::Injected(units.len()));
    }
    Ok(())
}

/// Undoes the journal in reverse; returns what could not be undone.
fn undo(
    spec: &RestoreSpec,
    units: &[Unit],
    work: &WorkDir,
    old: &WorkDir,
    parents: &[Option<OwnedFd>],
    journal: Vec<Step>,
) -> Result<(), String> {
    let mut first = true;
    for step in journal.into_iter().rev() {
        if std::mem::take(&mut first) && spec.faults.fail_undo {
            return Err("injected undo failure".into());
        }
        let r = match step {
            Step::Mkdir(p) => std::fs::remove_dir(&p).map_err(|e| format!("remove {}: {e}", p.display())),
            Step::Out(i) | Step::In(i) => {
                let u = &units[i];
                let parent = parents[i].as_ref().ok_or_else(|| format!("{}: folder not open", u.abs.display()))?;
                let r = if matches!(step, Step::Out(_)) {
                    rustix::fs::renameat(&old.fd, i.to_string(), parent, file_name(u))
                } else {
                    rustix::fs::renameat(parent, file_name(u), rustix::fs::CWD, staged(work, &u.abs))
                };
                r.map_err(|e| format!("move back {}: {e}", u.abs.display()))
            }
        };
        r?;
    }
    Ok(())
}

/// After a failed undo, puts the affected paths back from the safety snapshot. Returns whether that was
/// needed, or why it failed.
fn undo_or_recover(
    repo: &Repository,
    root: &Root,
    units: &[Unit],
    existed: &[bool],
    safety: Option<&str>,
    undone: Result<(), String>,
) -> Result<bool, String> {
    let Err(undo_error) = undone else { return Ok(false) };
    let fail = |e: &dyn std::fmt::Display| format!("undo failed ({undo_error}), recovery failed: {e}");
    let work = root.work_dir("recover").map_err(|e| fail(&e))?;
    let trash = root.work_dir("trash").map_err(|e| fail(&e))?;
    let result = (|| -> Result<(), JobError> {
        let includes: Vec<PathBuf> =
            units.iter().zip(existed).filter(|(_, e)| **e).map(|(u, _)| u.abs.clone()).collect();
        if let (Some(id), false) = (safety, includes.is_empty()) {
            let snap = repo.find_snapshot(id)?;
            restore(
                repo,
                &snap.snapshot.tree,
                &RestoreOptions { target: work.path(), includes, threads: None },
                &NoProgress,
            )?;
        }
        let root_meta = root.meta()?;
        for (i, u) in units.iter().enumerate() {
            let parent_rel = u.rel.parent().unwrap_or(Path::new(""));
            let (parent, _) = root.create_dirs(parent_rel, &|_| root_meta)?;
            let name = file_name(u);
            if exists_at(&parent, name, &u.abs)? {
                rename_at(&parent, name, &trash.fd, OsString::from(i.to_string()).as_os_str(), &u.abs)?;
            }
            if existed[i] {
                rustix::fs::renameat(rustix::fs::CWD, staged(&work, &u.abs), &parent, name)
                    .map_err(|e| JobError::io("rename into", &u.abs, e))?;
            }
        }
        Ok(())
    })();
    let _ = work.remove(root);
    match result {
        Ok(()) => {
            let _ = trash.remove(root);
            Ok(true)
        }
        Err(e) => Err(format!("{}; leftovers in {}", fail(&e), trash.shown.display())),
    }
}
