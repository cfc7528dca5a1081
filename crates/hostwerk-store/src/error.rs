//! Errors of the storage layer.

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A row with this key exists already (a tariff id, say).
    #[error("exists already")]
    AlreadyExists,
    /// A node still has contracts, so it cannot be deleted.
    #[error("{contracts} contracts run on this node")]
    NodeInUse { contracts: i64 },
    /// Webservers send their backups to this backup server, so it cannot be deleted.
    #[error("{webservers} webservers send their backups to this node")]
    BackupServerInUse { webservers: i64 },
    /// Backup or process records refer to the node, so it cannot be deleted.
    #[error("backup or process records refer to this node")]
    NodeHasHistory,
    /// Contracts move only to another node of role webserver.
    #[error("the target node is not a webserver")]
    NotAWebserver,
    /// A backup job's heartbeat or report names an attempt that no longer runs it (the job was handed to
    /// another attempt, or ended).
    #[error("job {job} is not running under attempt {attempt}")]
    NotThisAttempt { job: i64, attempt: i64 },
    /// The change would leave no active admin.
    #[error("the last active admin keeps the admin role")]
    LastAdmin,
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error (inline SQLite read): {0}")]
    Inline(#[from] rusqlite::Error),
}

impl StoreError {
    /// Whether the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}

/// Whether a raw sqlx error is a unique-constraint violation.
pub(crate) fn is_unique(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}
