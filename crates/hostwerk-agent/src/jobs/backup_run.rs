//! A backup job: one files snapshot of the existing paths, then one snapshot per database dump.

use std::path::{Path, PathBuf};
use std::time::Instant;

use hostwerk_backup::archiver::{ReadAs, Reader};
use hostwerk_backup::{backup, BackupOptions, BackupResult, NoProgress, Repository};

use super::db_dump::{check_database_name, DumpReader};
use super::error::JobError;
use super::spec::{BackupOutcome, DbClient, SnapshotPart, SourceSpec, TakenSnapshot};

/// Runs one backup job: a files snapshot of `spec.paths` (missing ones skipped with a warning) and one
/// snapshot per database (file `/<name>.sql`, extra tag `db:<name>`), each tagged with `spec.tags`.
///
/// The agent runs as root, but the files snapshot takes only what the contract's user could read: each source
/// path (the webspace, a mail folder) is read as the owner of that folder (see [`owner_reader`]), so a file
/// or folder inside whose mode bits shut that user out — a root-only file put there, a hard link to one — is
/// skipped and listed in the warnings. Symbolic links are stored as links, never followed; an entry swapped
/// while the backup runs is skipped and listed as changed during backup (see `hostwerk_backup::archiver`).
///
/// Parts are independent: if one fails the others are still taken and the error is
/// [`JobError::Incomplete`] listing the snapshots written (a single failing part and nothing written is
/// returned as that part's error).
pub fn run_backup(repo: &Repository, spec: &SourceSpec) -> Result<BackupOutcome, JobError> {
    let start = Instant::now();
    check_source(spec)?;
    let mut warnings = Vec::new();
    let mut taken = Vec::new();
    let mut failures = Vec::new();
    if !spec.paths.is_empty() {
        let existing = existing_paths(&spec.paths, &mut warnings)?;
        let read_as = source_owners(&existing)?;
        match files_snapshot(repo, &spec.host, &spec.tags, &existing, &spec.excludes, read_as) {
            Ok((t, w)) => {
                taken.push(t);
                warnings.extend(w);
            }
            Err(e) => failures.push(e),
        }
    }
    for name in &spec.databases {
        match database_snapshot(repo, &spec.db, &spec.host, &spec.tags, name) {
            Ok(t) => taken.push(t),
            Err(e) => failures.push(e),
        }
    }
    if failures.len() == 1 && taken.is_empty() {
        return Err(failures.remove(0));
    }
    if !failures.is_empty() {
        return Err(JobError::Incomplete { taken, failures });
    }
    Ok(BackupOutcome { snapshots: taken, warnings, duration_secs: start.elapsed().as_secs_f64() })
}

fn check_source(spec: &SourceSpec) -> Result<(), JobError> {
    if spec.host.trim().is_empty() {
        return Err(JobError::Invalid("no host name for the snapshots".into()));
    }
    if spec.paths.is_empty() && spec.databases.is_empty() {
        return Err(JobError::Invalid("nothing to back up: no paths and no databases".into()));
    }
    if let Some(p) = spec.paths.iter().find(|p| !p.is_absolute()) {
        return Err(JobError::Invalid(format!("source path {} is not absolute", p.display())));
    }
    for name in &spec.databases {
        check_database_name(name)?;
    }
    Ok(())
}

/// The paths that exist; a missing one adds a warning. None at all is an error.
fn existing_paths(paths: &[PathBuf], warnings: &mut Vec<String>) -> Result<Vec<PathBuf>, JobError> {
    let mut out = Vec::new();
    for p in paths {
        match std::fs::symlink_metadata(p) {
            Ok(_) => out.push(p.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                warnings.push(format!("{} does not exist; skipped", p.display()));
            }
            Err(e) => return Err(JobError::io("read source", p, e)),
        }
    }
    if out.is_empty() {
        return Err(JobError::NoSourcePaths { paths: paths.to_vec() });
    }
    Ok(out)
}

/// Each source path read as its own owner: [`owner_reader`] of the folder's uid and gid.
fn source_owners(paths: &[PathBuf]) -> Result<ReadAs, JobError> {
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let st = rustix::fs::lstat(p).map_err(|e| JobError::io("read source", p, e))?;
        out.push((p.clone(), owner_reader(st.st_uid, st.st_gid)));
    }
    Ok(ReadAs::PerPath(out))
}

/// The permissions of the user `uid` with the primary group `gid` (the owner of a webspace or mail folder):
/// that group plus the user's supplementary groups from the group database (`getgrouplist` of the user's
/// name); only `gid` when the uid has no name (no passwd entry) or the lookup fails. Mode bits only: ACLs
/// are not consulted (see [`Reader`]).
pub(crate) fn owner_reader(uid: u32, gid: u32) -> Reader {
    let groups = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .and_then(|u| std::ffi::CString::new(u.name).ok())
        .and_then(|name| nix::unistd::getgrouplist(&name, nix::unistd::Gid::from_raw(gid)).ok());
    let mut gids: Vec<u32> = groups.map(|g| g.into_iter().map(|g| g.as_raw()).collect()).unwrap_or_default();
    if !gids.contains(&gid) {
        gids.insert(0, gid);
    }
    Reader { uid, gids }
}

fn taken(r: &BackupResult, part: SnapshotPart) -> TakenSnapshot {
    let s = &r.snapshot.snapshot;
    TakenSnapshot {
        id: r.snapshot.id.to_hex(),
        part,
        time: s.time,
        total_files: s.summary.total_files,
        total_bytes: s.summary.total_bytes,
        bytes_added: s.summary.bytes_added,
    }
}

/// Takes one files snapshot of `paths` (which must exist), reading only what `read_as` may read; returns it
/// and the unreadable (or skipped) files as warnings.
pub(crate) fn files_snapshot(
    repo: &Repository,
    host: &str,
    tags: &[String],
    paths: &[PathBuf],
    excludes: &[String],
    read_as: ReadAs,
) -> Result<(TakenSnapshot, Vec<String>), JobError> {
    let opts = BackupOptions {
        paths: paths.to_vec(),
        tags: tags.to_vec(),
        host: Some(host.to_string()),
        excludes: excludes.to_vec(),
        read_as: Some(read_as),
        ..BackupOptions::default()
    };
    let r = backup(repo, &opts, None, &NoProgress)?;
    let warnings =
        r.snapshot.snapshot.errors.iter().map(|e| format!("could not read {}: {}", e.path, e.message)).collect();
    Ok((taken(&r, SnapshotPart::Files), warnings))
}

/// Streams the dump of `database` into a snapshot of its own (file `/<database>.sql`, tags + `db:<database>`).
/// A dump that fails, even at its very end, leaves no snapshot.
pub(crate) fn database_snapshot(
    repo: &Repository,
    db: &DbClient,
    host: &str,
    tags: &[String],
    database: &str,
) -> Result<TakenSnapshot, JobError> {
    check_database_name(database)?;
    let mut tags = tags.to_vec();
    tags.push(format!("db:{database}"));
    let opts = BackupOptions {
        tags,
        host: Some(host.to_string()),
        stdin_name: Some(format!("{database}.sql")),
        ..BackupOptions::default()
    };
    let mut reader = DumpReader::start(db, database)?;
    let result = backup(repo, &opts, Some(&mut reader), &NoProgress);
    match result {
        Ok(r) if reader.finished() => Ok(taken(&r, SnapshotPart::Database(database.to_string()))),
        Ok(r) => Err(JobError::Invalid(format!(
            "snapshot {} of database {database:?} was written before its dump ended",
            r.snapshot.id
        ))),
        Err(e) => Err(reader.take_failure().unwrap_or(JobError::Repository(e))),
    }
}

/// The snapshot path of a database dump.
pub(crate) fn dump_path(database: &str) -> PathBuf {
    Path::new("/").join(format!("{database}.sql"))
}
