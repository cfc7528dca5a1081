//! The error of a backup or restore job: what failed, and whether the customer's data is as before.

use std::path::PathBuf;

use super::spec::TakenSnapshot;

/// Everything that can make a job fail. Each message names the path, database or command concerned.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job description is unusable (relative path, bad database name, nothing to do, …).
    #[error("invalid job: {0}")]
    Invalid(String),
    /// None of the source paths of a backup exists.
    #[error("none of the source paths exists: {}", list(paths))]
    NoSourcePaths {
        /// The paths that were asked for.
        paths: Vec<PathBuf>,
    },
    /// A restore path or target lies outside the contract's folder.
    #[error("{} is outside the allowed folder {}", path.display(), root.display())]
    OutsideRoot {
        /// The path (after resolving `.` and `..`).
        path: PathBuf,
        /// The allowed folder.
        root: PathBuf,
    },
    /// A folder on the way to a restore path or target is a symbolic link (it could lead out of the contract's
    /// folder), or is not a folder at all.
    #[error("{} leads through a symbolic link or a non-folder; refused", path.display())]
    UnsafePath {
        /// The path concerned.
        path: PathBuf,
    },
    /// The restore target folder already has content.
    #[error("restore target {} exists and is not an empty folder", path.display())]
    TargetNotEmpty {
        /// The target.
        path: PathBuf,
    },
    /// A path to restore is not in the snapshot.
    #[error("{} is not in snapshot {snapshot}", path.display())]
    NotInSnapshot {
        /// The path.
        path: PathBuf,
        /// The snapshot id.
        snapshot: String,
    },
    /// The snapshot holds something else than the job expects (files vs. a database dump).
    #[error("snapshot {snapshot} {reason}")]
    WrongSnapshot {
        /// The snapshot id.
        snapshot: String,
        /// What is wrong, e.g. "holds a database dump, not files".
        reason: String,
    },
    /// The backup engine failed (repository, lock, snapshot lookup, reading the source).
    #[error("backup repository: {0}")]
    Repository(#[from] hostwerk_backup::Error),
    /// A file system operation on the webserver failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// The operation.
        op: &'static str,
        /// The path.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The dump or client program could not be started.
    #[error("cannot start {}: {source}", command.display())]
    Spawn {
        /// The program.
        command: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The dump or client program failed.
    #[error("{command} failed ({status}): {stderr}")]
    Command {
        /// What ran, e.g. `mariadb-dump of database "k1_wp"`.
        command: String,
        /// Its exit status.
        status: String,
        /// The start of what it wrote to standard error.
        stderr: String,
    },
    /// Some parts of a backup failed; the others were written and are listed.
    #[error("backup incomplete: {} part(s) failed, {} snapshot(s) written: {}", failures.len(), taken.len(), join(failures))]
    Incomplete {
        /// The snapshots that were written.
        taken: Vec<TakenSnapshot>,
        /// What failed.
        failures: Vec<JobError>,
    },
    /// The restore failed; nothing was changed, or every change was undone: the customer's data is as before.
    #[error("restore failed and was rolled back, everything is as before{}: {source}", via(*from_safety_snapshot))]
    RolledBack {
        /// Why the restore failed.
        source: Box<JobError>,
        /// The safety snapshot taken before the restore (full hex id).
        safety_snapshot: Option<String>,
        /// Whether the undo failed and the previous state was restored from the safety snapshot.
        from_safety_snapshot: bool,
    },
    /// The restore failed and the previous state could not be put back completely. Staff must look.
    #[error("restore failed and the previous state could not be put back ({rollback}); the safety snapshot {} holds it: {source}", safety_snapshot.as_deref().unwrap_or("(none)"))]
    RollbackFailed {
        /// Why the restore failed.
        source: Box<JobError>,
        /// Why putting the previous state back failed, and where leftovers are.
        rollback: String,
        /// The safety snapshot taken before the restore (full hex id).
        safety_snapshot: Option<String>,
    },
    /// A failure injected by a test.
    #[error("injected failure after {0} swap(s)")]
    #[doc(hidden)]
    Injected(usize),
}

impl JobError {
    /// Whether a failed restore left the customer's data as it was before ("restore failed, your files are as
    /// before"). True for [`JobError::RolledBack`].
    pub fn rolled_back(&self) -> bool {
        matches!(self, JobError::RolledBack { .. })
    }

    /// The safety snapshot a failed restore took, if any.
    pub fn safety_snapshot(&self) -> Option<&str> {
        match self {
            JobError::RolledBack { safety_snapshot, .. } | JobError::RollbackFailed { safety_snapshot, .. } => {
                safety_snapshot.as_deref()
            }
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: impl Into<std::io::Error>) -> JobError {
        JobError::Io { op, path: path.into(), source: source.into() }
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn join(errors: &[JobError]) -> String {
    errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

fn via(from_safety: bool) -> &'static str {
    if from_safety {
        " (from the safety snapshot)"
    } else {
        ""
    }
}
