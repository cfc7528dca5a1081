//! A database restore: safety dump of the current database, then the stored dump piped into the client.

use std::path::PathBuf;

use hostwerk_backup::{dump, Repository};

use super::backup_run::{database_snapshot, dump_path};
use super::db_dump::{check_database_name, database_exists, drop_database, run_client};
use super::error::JobError;
use super::spec::{DbClient, RestoreOutcome, SourceSpec};

/// Restores `database` from the database snapshot `snapshot` (hex id or unique prefix).
///
/// 1. If the database exists, its current state is dumped into a safety snapshot (host and tags of `safety`,
///    plus `kind:safety` and `db:<database>`; the other fields of `safety` are not consulted).
/// 2. The database is dropped and the stored dump is piped into `client_command args --binary-mode`. The dump
///    was made with `--databases`, so it carries `CREATE DATABASE IF NOT EXISTS` and `USE` for the same name:
///    the restore recreates exactly the backed-up state under the same name — tables, views, routines,
///    triggers and events created after the backup are gone, not mixed in. Grants live in the `mysql` schema
///    and survive the drop.
/// 3. If the import fails, the safety dump is imported the same way and the error is
///    [`JobError::RolledBack`]; if there was no safety dump (the database did not exist) the error is the
///    import's.
pub fn restore_database(
    repo: &Repository,
    snapshot: &str,
    database: &str,
    db: &DbClient,
    safety: &SourceSpec,
) -> Result<RestoreOutcome, JobError> {
    check_database_name(database)?;
    let snap = repo.find_snapshot(snapshot)?;
    let file = dump_path(database);
    if snap.snapshot.paths != [file.display().to_string()] {
        return Err(JobError::WrongSnapshot {
            snapshot: snap.id.to_hex(),
            reason: format!("holds no dump of database {database:?}"),
        });
    }
    let safety_id = if database_exists(db, database)? {
        let mut tags = safety.tags.clone();
        tags.push("kind:safety".into());
        Some(database_snapshot(repo, db, &safety.host, &tags, database)?.id)
    } else {
        None
    };
    let import = |id: &str| -> Result<u64, JobError> {
        let snap = repo.find_snapshot(id)?;
        drop_database(db, database)?;
        let mut bytes = 0u64;
        run_client(db, &[], &format!("import of database {database:?}"), |stdin| {
            let mut counting = Counting { inner: stdin, n: 0 };
            dump(repo, &snap.snapshot.tree, &file, &mut counting)?;
            bytes = counting.n;
            Ok(())
        })?;
        Ok(bytes)
    };
    match import(&snap.id.to_hex()) {
        Ok(bytes) => Ok(RestoreOutcome {
            files: 1,
            bytes,
            target: PathBuf::from(database),
            safety_snapshot: safety_id,
            rolled_back: false,
            warnings: Vec::new(),
        }),
        Err(cause) => match &safety_id {
            None => Err(cause),
            Some(id) => match import(id) {
                Ok(_) => Err(JobError::RolledBack {
                    source: Box::new(cause),
                    safety_snapshot: safety_id.clone(),
                    from_safety_snapshot: true,
                }),
                Err(e) => Err(JobError::RollbackFailed {
                    source: Box::new(cause),
                    rollback: format!("re-importing the safety dump failed: {e}"),
                    safety_snapshot: safety_id.clone(),
                }),
            },
        },
    }
}

/// Counts the bytes written through it.
struct Counting<'a> {
    inner: &'a mut dyn std::io::Write,
    n: u64,
}

impl std::io::Write for Counting<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
