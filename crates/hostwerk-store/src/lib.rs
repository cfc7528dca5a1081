//! hostwerk-store: the one seam between hostwerk and its database.
//!
//! The same SQL runs on SQLite (the embedded default) and PostgreSQL through sqlx's `Any` driver. Every
//! customer-owned row is read and written through methods that take the signed-in customer's id, so a
//! query can never reach another customer's data by an id from a URL or form.

mod audit;
mod backups;
mod blog;
mod cases;
mod confirmations;
mod customers;
mod error;
mod limits;
mod mail;
mod migrate;
mod nodes;
mod phone;
mod records;
mod remote;
mod second_factor;
mod sessions;
mod sqlite_inline;
mod staff;
mod tariffs;
pub mod testing;
pub mod token;

use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub use backups::{BackupJob, BackupSnapshot, ClaimTx, JobOutcome, MaintenancePlan, NewBackupJob, NewBackupSnapshot};
pub use blog::{Advisory, Comment, Giveaway, NewPost, Post, PostFilter};
pub use cases::{
    Author, CaseDetail, CaseEvent, CaseFilter, CaseScope, CaseSummary, LedgerEntry, NewCaseEvent, NewProposal,
    Proposal, ProposalEffect, Refund,
};
pub use confirmations::{ConfirmationPurpose, EmailConfirmation};
pub use error::StoreError;
pub use limits::{NewProcessKill, NodeLimit, ProcessKill, ProcessLimitChange};
pub use phone::{
    AuthCodeDisclosure, CallContext, DomainOrder, NewTariffChange, PendingDomainOrder, PhoneVerification, TariffChange,
};
pub use records::*;
pub use remote::{RemoteSession, RemoteStep};
pub use second_factor::{PendingLogin, SecondFactor};

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    engine: Engine,
    /// Hot-path reads on SQLite without the hop to sqlx's worker thread; `None` on PostgreSQL.
    inline: Option<std::sync::Arc<sqlite_inline::InlineReader>>,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let max = match engine {
            Engine::Sqlite => 8,
            Engine::Postgres => 16,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(std::time::Duration::from_secs(10))
            // A SQLite connection is a local file handle that cannot drop like a network link, so the
            // round trip to its worker thread that a ping before each acquire costs buys nothing there.
            .test_before_acquire(engine == Engine::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await
            .map_err(StoreError::Connect)?;
        if engine == Engine::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        let inline = match engine {
            Engine::Sqlite => sqlite_inline::InlineReader::for_url(url).map(std::sync::Arc::new),
            Engine::Postgres => None,
        };
        let store = Self { pool, engine, inline };
        migrate::run(&store).await?;
        Ok(store)
    }

    /// A transaction that will write. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`, waiting up to
    /// the busy timeout): a transaction that reads first and then writes could not wait for the lock once another
    /// connection had committed since its read, and SQLite would answer "database is locked" at once.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// The SQLite URL for a database file in `dir`, created when missing.
    pub fn sqlite_url(dir: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", dir.join("hostwerk.sqlite").display())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A stored value that does not parse: the database holds something the code never writes.
pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub(crate) fn now_ts() -> i64 {
    Utc::now().timestamp()
}

pub(crate) fn ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// Typed column access by name, the same for an sqlx row and an inline SQLite row, so each record is
/// decoded by one function whichever path read it.
pub(crate) trait RowRead {
    fn i64_col(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_i64_col(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn opt_str_col(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn str_col(&self, col: &str) -> Result<String, StoreError> {
        self.opt_str_col(col)?.ok_or_else(|| StoreError::Corrupt(format!("{col} is NULL")))
    }
}

impl RowRead for AnyRow {
    fn i64_col(&self, col: &str) -> Result<i64, StoreError> {
        Ok(self.try_get::<i64, _>(col)?)
    }
    fn opt_i64_col(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get::<Option<i64>, _>(col)?)
    }
    fn opt_str_col(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get::<Option<String>, _>(col)?)
    }
    fn str_col(&self, col: &str) -> Result<String, StoreError> {
        Ok(self.try_get::<String, _>(col)?)
    }
}

pub(crate) fn get_i64(row: &impl RowRead, col: &str) -> Result<i64, StoreError> {
    row.i64_col(col)
}

pub(crate) fn get_str(row: &impl RowRead, col: &str) -> Result<String, StoreError> {
    row.str_col(col)
}

pub(crate) fn get_opt_str(row: &impl RowRead, col: &str) -> Result<Option<String>, StoreError> {
    row.opt_str_col(col)
}

pub(crate) fn get_opt_i64(row: &impl RowRead, col: &str) -> Result<Option<i64>, StoreError> {
    row.opt_i64_col(col)
}
