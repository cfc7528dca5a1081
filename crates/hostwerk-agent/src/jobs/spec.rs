//! The job descriptions the panel hands to the agent, and what a finished job reports back.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// How to reach MariaDB/MySQL on this webserver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbClient {
    /// The dump program, e.g. `mariadb-dump` (looked up in `PATH` when not absolute).
    pub dump_command: PathBuf,
    /// The client program, e.g. `mariadb`.
    pub client_command: PathBuf,
    /// Connection arguments put first on both command lines, e.g. `["--host=127.0.0.1", "--user=root"]` or
    /// `["--defaults-file=/etc/hostwerk/agent-my.cnf"]` (which MariaDB requires to be the first argument).
    pub args: Vec<String>,
}

impl Default for DbClient {
    fn default() -> Self {
        DbClient { dump_command: "mariadb-dump".into(), client_command: "mariadb".into(), args: Vec::new() }
    }
}

/// What one backup takes: a contract's webspace, its mail folders and its databases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    /// Snapshot host name (the webserver's name).
    pub host: String,
    /// Tags every snapshot of the set gets, e.g. `["contract:12", "job:345", "kind:nightly"]`.
    pub tags: Vec<String>,
    /// Absolute paths: the webspace and the mail folders. A path that does not exist is skipped with a warning
    /// (a contract without mail); if none exists the backup fails. All existing paths go into one snapshot.
    pub paths: Vec<PathBuf>,
    /// Exclude patterns of the engine: without `/` they match a name, with `/` the absolute path.
    pub excludes: Vec<String>,
    /// Databases, each streamed from the dump program into a snapshot of its own (never a temporary file).
    pub databases: Vec<String>,
    /// How to reach the database server.
    pub db: DbClient,
}

/// What a snapshot of a backup set holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotPart {
    /// The webspace and mail folders.
    Files,
    /// The dump of one database (the snapshot's one file is `/<name>.sql`).
    Database(String),
}

/// One snapshot written by a job.
#[derive(Debug, Clone, PartialEq)]
pub struct TakenSnapshot {
    /// Full hex id.
    pub id: String,
    /// What it holds.
    pub part: SnapshotPart,
    /// When the backup of this part started (the snapshot's time).
    pub time: DateTime<Utc>,
    /// Files in the snapshot (1 for a database).
    pub total_files: u64,
    /// Bytes of all files in the snapshot (the dump size for a database).
    pub total_bytes: u64,
    /// Plaintext bytes of the blobs this snapshot added to the repository (after deduplication).
    pub bytes_added: u64,
}

/// What [`run_backup`](super::run_backup) did.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupOutcome {
    /// The snapshots written: the files snapshot first (if there are paths), then one per database.
    pub snapshots: Vec<TakenSnapshot>,
    /// Things the customer or staff may want to know: skipped missing paths, unreadable files.
    pub warnings: Vec<String>,
    /// Wall time of the whole job in seconds.
    pub duration_secs: f64,
}

/// Where a restore puts the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreTarget {
    /// Into a new folder (created if missing; must be inside `allowed_root`; must not exist or be empty). The
    /// chosen paths keep their layout below `allowed_root`: restoring `/srv/www/k1/htdocs/a.txt` with
    /// `allowed_root` `/srv/www/k1` into `/srv/www/k1/restore-1` gives `/srv/www/k1/restore-1/htdocs/a.txt`.
    Folder(PathBuf),
    /// Over the current files, after a safety snapshot; each chosen path is replaced as a whole.
    InPlace,
}

/// Failure injection for tests of the rollback. Leave it at its default.
#[doc(hidden)]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Fail an in-place restore once this many paths have been swapped.
    pub fail_after_swaps: Option<usize>,
    /// Make the first undo step of a rollback fail (forces the recovery from the safety snapshot).
    pub fail_undo: bool,
}

/// What one file restore does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSpec {
    /// Hex id (or unique prefix) of a files snapshot.
    pub snapshot: String,
    /// Absolute paths as stored in the snapshot: a file, a folder, or the whole webspace / a Maildir folder.
    pub paths: Vec<PathBuf>,
    /// The contract's webspace or mail root. Every path and the target must lie inside it after `.`/`..` are
    /// resolved lexically, and no folder below it on the way may be a symbolic link.
    pub allowed_root: PathBuf,
    /// Where to restore.
    pub target: RestoreTarget,
    /// Owner and group given to everything restored (the contract's system user); `None` keeps the owners
    /// stored in the snapshot.
    pub owner: Option<(u32, u32)>,
    /// For [`RestoreTarget::InPlace`]: the host and tags of the safety snapshot (the tag `kind:safety` is
    /// added). The safety snapshot takes exactly the paths the restore replaces; `paths`, `excludes` and
    /// `databases` of this spec are not consulted (excludes would leave replaced files out of it).
    pub safety: SourceSpec,
    /// Test-only failure injection.
    #[doc(hidden)]
    pub faults: Faults,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreOutcome {
    /// Files restored.
    pub files: u64,
    /// Content bytes restored.
    pub bytes: u64,
    /// The folder restored into (`allowed_root` for an in-place restore, the database name for a database).
    pub target: PathBuf,
    /// Full hex id of the safety snapshot taken before anything was replaced (`None` if there was nothing to
    /// keep: every chosen path was missing, or the database did not exist).
    pub safety_snapshot: Option<String>,
    /// Always `false` in a returned outcome: a restore that failed and was undone is
    /// `Err(JobError::RolledBack { .. })` (see [`JobError::rolled_back`](super::JobError::rolled_back)).
    pub rolled_back: bool,
    /// Things that could not be restored exactly (special files, ownership) and clean-up that failed.
    pub warnings: Vec<String>,
}
