//! Backup and restore jobs of the node agent (issue 7): one job against an open backup repository.
//!
//! The panel decides what to back up or restore; this module executes one job with the engine of
//! `hostwerk-backup`, with no HTTP and no database of the panel:
//!
//! * [`run_backup`] takes one files snapshot of a contract's webspace and mail folders and one snapshot per
//!   MariaDB database, the dump streamed from `mariadb-dump` straight into the repository (never a file).
//! * [`run_restore`] restores paths of a files snapshot into a new folder, or in place: safety snapshot first,
//!   staged restore in a private folder, swap by renames, full rollback if anything fails.
//! * [`restore_database`] takes a safety dump of the current database and pipes a stored dump into `mariadb`.
//!
//! Snapshots store files under their absolute source path; a database snapshot holds one file
//! `/<database>.sql` and the tag `db:<database>`.

mod backup_run;
mod db_dump;
mod db_restore;
mod error;
mod paths;
mod restore_run;
mod spec;

pub use backup_run::run_backup;
pub use db_dump::{check_database_name, dump_command, DUMP_OPTIONS};
pub use db_restore::restore_database;
pub use error::JobError;
pub use restore_run::run_restore;
pub use spec::{
    BackupOutcome, DbClient, Faults, RestoreOutcome, RestoreSpec, RestoreTarget, SnapshotPart, SourceSpec,
    TakenSnapshot,
};
