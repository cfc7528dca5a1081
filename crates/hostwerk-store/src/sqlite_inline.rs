//! Inline SQLite reads for the hot path: the signed-in customer and the dashboard, read on the calling
//! thread with rusqlite instead of through sqlx's per-connection worker thread.
//!
//! Every menu page resolves its session, and the dashboard reads three lists. Through sqlx each query is a
//! round trip to a worker thread (two channel hand-offs and two context switches), which on a small machine
//! costs more than the query. These reads are index lookups of a handful of rows on a WAL database, where a
//! reader never waits for a writer, so they take microseconds and run inline. They use the same SQL text and
//! the same row decoders as the pooled path. Any error other than "not found" sends the caller back to the
//! pooled path, so a locked or damaged database behaves exactly as before; only reads live here.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row};

use crate::customers::{
    contract_from_row, customer_from_row, domain_from_row, mailbox_from_row, CONTRACT_SELECT, DOMAINS_SELECT,
    MAILBOXES_SELECT,
};
use crate::sessions::TokenTable;
use crate::{Customer, CustomerId, CustomerOverview, RowRead, StoreError};

/// How many idle read connections are kept; more are opened under load and closed when returned.
const IDLE_CONNECTIONS: usize = 8;

/// Read-only connections to one SQLite database file.
#[derive(Debug)]
pub(crate) struct InlineReader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl InlineReader {
    /// A reader for the file a `sqlite:` URL names; `None` for an in-memory database, whose content another
    /// connection cannot see.
    pub(crate) fn for_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
            return None;
        }
        Some(Self { path: PathBuf::from(path), idle: Mutex::new(Vec::new()) })
    }

    fn with_connection<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(&self.path, flags)?;
                // Never wait on the calling thread: a busy database falls back to the pooled path.
                conn.busy_timeout(std::time::Duration::ZERO)?;
                conn
            }
        };
        let result = read(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < IDLE_CONNECTIONS {
                idle.push(conn);
            }
        }
        result
    }

    /// The customer a live session or API token (by hash) belongs to.
    pub(crate) fn customer_by_token(&self, table: TokenTable, hash: &str, now: i64) -> Result<Customer, StoreError> {
        self.with_connection(|conn| {
            let mut stmt = conn.prepare_cached(table.customer_select())?;
            stmt.query_row((hash, now), |row| Ok(customer_from_row(&HintedRow::new(row))))
                .optional()?
                .ok_or(StoreError::NotFound)?
        })
    }

    /// Contracts, domains and mailboxes of one customer, in one read transaction.
    pub(crate) fn overview(&self, customer: CustomerId) -> Result<CustomerOverview, StoreError> {
        self.with_connection(|conn| {
            conn.prepare_cached("BEGIN")?.execute([])?;
            let overview = read_overview(conn, customer);
            conn.prepare_cached("COMMIT")?.execute([])?;
            overview
        })
    }
}

fn read_overview(conn: &Connection, customer: CustomerId) -> Result<CustomerOverview, StoreError> {
    static CONTRACTS_OF_CUSTOMER: LazyLock<String> =
        LazyLock::new(|| format!("{CONTRACT_SELECT} WHERE c.customer_id = $1 ORDER BY c.seq"));
    let contracts = read_all(conn, &CONTRACTS_OF_CUSTOMER, customer, |r| contract_from_row(r))?;
    let advisories =
        read_all(conn, crate::blog::OPEN_ADVISORIES_SELECT, customer, |r| crate::blog::advisory_from_row(r))?;
    Ok(CustomerOverview {
        advisories: crate::blog::for_contracts(advisories, &contracts),
        contracts,
        domains: read_all(conn, DOMAINS_SELECT, customer, |r| domain_from_row(r))?,
        mailboxes: read_all(conn, MAILBOXES_SELECT, customer, |r| mailbox_from_row(r))?,
        refunds: read_all(conn, crate::cases::REFUNDS_SELECT, customer, |r| crate::cases::refund_from_row(r))?,
    })
}

fn read_all<T>(
    conn: &Connection,
    sql: &str,
    customer: CustomerId,
    decode: impl Fn(&HintedRow<'_, '_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([customer.0])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(&HintedRow::new(row))?);
    }
    Ok(out)
}

/// A row whose columns are found by name starting after the last one read: decoders read columns in the order
/// the SELECT lists them, so a lookup is usually one comparison instead of rusqlite's case-insensitive scan
/// over every column name.
pub(crate) struct HintedRow<'r, 's> {
    row: &'r Row<'s>,
    next: Cell<usize>,
}

impl<'r, 's> HintedRow<'r, 's> {
    pub(crate) fn new(row: &'r Row<'s>) -> Self {
        Self { row, next: Cell::new(0) }
    }

    fn index(&self, col: &str) -> Result<usize, StoreError> {
        let stmt: &rusqlite::Statement<'_> = self.row.as_ref();
        let count = stmt.column_count();
        let start = self.next.get();
        for k in 0..count {
            let i = (start + k) % count;
            if stmt.column_name(i).is_ok_and(|name| name == col) {
                self.next.set(i + 1);
                return Ok(i);
            }
        }
        // Not spelled exactly as selected: rusqlite's own (case-insensitive) lookup, or its error.
        Ok(stmt.column_index(col)?)
    }
}

impl RowRead for HintedRow<'_, '_> {
    fn i64_col(&self, col: &str) -> Result<i64, StoreError> {
        Ok(self.row.get::<_, i64>(self.index(col)?)?)
    }
    fn opt_i64_col(&self, col: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.row.get::<_, Option<i64>>(self.index(col)?)?)
    }
    fn opt_str_col(&self, col: &str) -> Result<Option<String>, StoreError> {
        Ok(self.row.get::<_, Option<String>>(self.index(col)?)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Store;

    #[test]
    fn reads_files_only() {
        assert_eq!(
            InlineReader::for_url("sqlite:///var/lib/hw/hostwerk.sqlite?mode=rwc").unwrap().path.to_str(),
            Some("/var/lib/hw/hostwerk.sqlite")
        );
        assert_eq!(InlineReader::for_url("sqlite:data/hw.sqlite").unwrap().path.to_str(), Some("data/hw.sqlite"));
        assert!(InlineReader::for_url("sqlite::memory:").is_none());
        assert!(InlineReader::for_url("sqlite://:memory:").is_none());
        assert!(InlineReader::for_url("sqlite://x.db?mode=memory").is_none());
        assert!(InlineReader::for_url("postgres://localhost/x").is_none());
    }

    #[test]
    fn hinted_rows_find_columns_in_any_order() {
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = conn.prepare("SELECT 1 AS a, 'x' AS b, NULL AS c, 4 AS Dd").unwrap();
        let got = stmt
            .query_row([], |row| {
                let r = HintedRow::new(row);
                Ok((
                    r.i64_col("a").unwrap(),
                    r.str_col("b").unwrap(),
                    r.opt_str_col("c").unwrap(),
                    r.i64_col("dd").unwrap(),
                    r.i64_col("a").unwrap(),
                    r.opt_i64_col("c").unwrap(),
                    r.i64_col("nope").is_err(),
                ))
            })
            .unwrap();
        assert_eq!(got, (1, "x".to_owned(), None, 4, 1, None, true));
    }

    /// The inline path answers by itself (no fallback) on a migrated database, and sees the pool's writes.
    #[tokio::test]
    async fn answers_on_a_migrated_database() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
        let inline = store.inline.clone().unwrap();
        let empty = inline.overview(CustomerId(1)).unwrap();
        assert!(empty.contracts.is_empty() && empty.domains.is_empty() && empty.mailboxes.is_empty());
        let unknown = inline.customer_by_token(TokenTable::Sessions, "0".repeat(64).as_str(), 0);
        assert!(matches!(unknown, Err(StoreError::NotFound)));
        // a write through the pool is visible to the next inline read
        sqlx::query(
            "INSERT INTO customers (number, number_seq, name, email, email_norm, street, postal_code, city, country, language, \
             password_hash, phone_password_hash, created_at) \
             VALUES ('K1000001', 1, 'A', 'a@example.de', 'a@example.de', 's', '1', 'c', 'DE', 'de', 'h', 'h', 0)",
        )
        .execute(&store.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO sessions (token_hash, kind, subject_id, created_at, expires_at) VALUES ('ab', 'customer', 1, 0, 9999999999)")
            .execute(&store.pool)
            .await
            .unwrap();
        assert_eq!(inline.customer_by_token(TokenTable::Sessions, "ab", 1).unwrap().number.to_string(), "K1000001");
        assert!(matches!(inline.customer_by_token(TokenTable::ApiTokens, "ab", 1), Err(StoreError::NotFound)));
    }
}
