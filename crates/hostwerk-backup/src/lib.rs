//! hostwerk-backup: the deduplicating, encrypted, incremental backup engine.
//!
//! Library API: [`Repository::init`]/[`Repository::open`] over a [`Backend`], then
//! [`backup()`], [`restore()`], [`ls()`], [`dump()`], [`forget()`], [`prune()`], [`check()`], [`stats()`].
//! The on-disk format is specified in `docs/backup-format.md`.

pub mod access;
pub mod archiver;
pub mod backend;
pub mod blob;
pub mod browse;
pub mod check;
pub mod chunker;
pub mod config;
pub mod crypto;
pub mod dump;
pub mod envelope;
pub mod error;
pub mod forget;
pub mod id;
pub mod index;
pub mod keyfile;
pub mod lock;
pub mod pack;
pub mod progress;
pub mod prune;
pub mod repo;
pub mod restorer;
pub mod snapshot;
pub mod stats;
pub mod tree;

pub use access::{AccessError, RepositoryAccess};
pub use archiver::{backup, BackupOptions, BackupResult};
pub use backend::local::LocalBackend;
pub use backend::{Backend, FileType};
pub use browse::{ls, LsEntry};
pub use check::{check, CheckReport};
pub use dump::dump;
pub use error::{Error, Result};
pub use forget::{forget, parse_duration, plan_forget, ForgetPlan, ForgetPolicy};
pub use id::Id;
pub use progress::{NoProgress, Progress};
pub use prune::{prune, PrunePlan};
pub use repo::{InitOptions, Repository};
pub use restorer::{restore, RestoreOptions, RestoreSummary};
pub use snapshot::{Snapshot, SnapshotInfo};
pub use stats::{stats, RepoStats};
