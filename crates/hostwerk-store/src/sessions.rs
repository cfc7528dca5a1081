//! Sessions, API tokens and password-reset tokens, all stored as SHA-256 hashes of the raw value.

use crate::customers::customer_from_row;
use crate::token::{hash_token, new_token};
use crate::{get_i64, get_str, now_ts, Customer, CustomerId, Store, StoreError, Subject};

/// A live session or API token, resolved from its raw value.
#[derive(Debug, Clone, Copy)]
pub struct SessionInfo {
    pub subject: Subject,
    pub expires_at: i64,
}

impl Store {
    /// Starts a session; returns the raw token for the cookie.
    pub async fn create_session(&self, subject: Subject, ttl_secs: i64) -> Result<String, StoreError> {
        self.insert_token("sessions", subject, ttl_secs).await
    }

    /// Issues an API bearer token.
    pub async fn create_api_token(&self, subject: Subject, ttl_secs: i64) -> Result<String, StoreError> {
        self.insert_token("api_tokens", subject, ttl_secs).await
    }

    async fn insert_token(&self, table: &str, subject: Subject, ttl_secs: i64) -> Result<String, StoreError> {
        let token = new_token();
        let (kind, id) = subject.parts();
        let now = now_ts();
        sqlx::query(&format!(
            "INSERT INTO {table} (token_hash, kind, subject_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(&token.hash)
        .bind(kind)
        .bind(id)
        .bind(now)
        .bind(now + ttl_secs)
        .execute(&self.pool)
        .await?;
        Ok(token.raw)
    }

    pub async fn session(&self, raw: &str) -> Result<SessionInfo, StoreError> {
        self.lookup_token("sessions", raw).await
    }

    pub async fn api_token(&self, raw: &str) -> Result<SessionInfo, StoreError> {
        self.lookup_token("api_tokens", raw).await
    }

    async fn lookup_token(&self, table: &str, raw: &str) -> Result<SessionInfo, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT kind, subject_id, expires_at FROM {table} WHERE token_hash = $1 AND expires_at > $2"
        ))
        .bind(hash_token(raw))
        .bind(now_ts())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let subject = Subject::from_parts(&get_str(&row, "kind")?, get_i64(&row, "subject_id")?)
            .ok_or_else(|| StoreError::Corrupt("unknown session kind".into()))?;
        Ok(SessionInfo { subject, expires_at: get_i64(&row, "expires_at")? })
    }

    /// The customer a live browser session belongs to, in one query (the hot path of every menu page).
    /// `NotFound` when the session is unknown, expired or a staff session.
    pub async fn customer_by_session(&self, raw: &str) -> Result<Customer, StoreError> {
        self.customer_by_token(TokenTable::Sessions, raw).await
    }

    /// The customer a live API token belongs to; `NotFound` as for [`Store::customer_by_session`].
    pub async fn customer_by_api_token(&self, raw: &str) -> Result<Customer, StoreError> {
        self.customer_by_token(TokenTable::ApiTokens, raw).await
    }

    async fn customer_by_token(&self, table: TokenTable, raw: &str) -> Result<Customer, StoreError> {
        let (hash, now) = (hash_token(raw), now_ts());
        if let Some(inline) = &self.inline {
            match inline.customer_by_token(table, &hash, now) {
                Ok(customer) => return Ok(customer),
                Err(StoreError::NotFound) => return Err(StoreError::NotFound),
                Err(e) => tracing::debug!(error = %e, "inline SQLite read failed; reading through the pool"),
            }
        }
        let row = sqlx::query(table.customer_select())
            .bind(hash)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        customer_from_row(&row)
    }

    pub async fn end_session(&self, raw: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(hash_token(raw)).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn revoke_api_token(&self, raw: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1").bind(hash_token(raw)).execute(&self.pool).await?;
        Ok(())
    }

    /// Ends every session and API token of a customer or staff member (after a password reset, say).
    pub async fn end_all_sessions(&self, subject: Subject) -> Result<u64, StoreError> {
        let (kind, id) = subject.parts();
        let a = sqlx::query("DELETE FROM sessions WHERE kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await?;
        let b = sqlx::query("DELETE FROM api_tokens WHERE kind = $1 AND subject_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(a.rows_affected() + b.rows_affected())
    }

    /// Removes expired sessions and tokens.
    pub async fn purge_expired(&self) -> Result<(), StoreError> {
        let now = now_ts();
        for table in ["sessions", "api_tokens", "password_reset_tokens", "email_confirmations", "pending_logins"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE expires_at <= $1")).bind(now).execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Issues a single-use password-reset token for a customer.
    pub async fn create_reset_token(&self, customer: CustomerId, ttl_secs: i64) -> Result<String, StoreError> {
        let token = new_token();
        let now = now_ts();
        sqlx::query(
            "INSERT INTO password_reset_tokens (token_hash, customer_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&token.hash)
        .bind(customer.0)
        .bind(now)
        .bind(now + ttl_secs)
        .execute(&self.pool)
        .await?;
        Ok(token.raw)
    }

    /// Whether a reset token is valid (unused, unexpired), without using it up.
    pub async fn peek_reset_token(&self, raw: &str) -> Result<CustomerId, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT customer_id FROM password_reset_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash_token(raw))
        .bind(now_ts())
        .fetch_optional(&self.pool)
        .await?;
        id.map(CustomerId).ok_or(StoreError::NotFound)
    }

    /// Uses up a reset token atomically; a second use finds nothing.
    pub async fn consume_reset_token(&self, raw: &str) -> Result<CustomerId, StoreError> {
        let now = now_ts();
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE password_reset_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING customer_id",
        )
        .bind(now)
        .bind(hash_token(raw))
        .fetch_optional(&self.pool)
        .await?;
        let id = id.map(CustomerId).ok_or(StoreError::NotFound)?;
        // Older reminders of the same customer die with it.
        sqlx::query("UPDATE password_reset_tokens SET used_at = $1 WHERE customer_id = $2 AND used_at IS NULL")
            .bind(now)
            .bind(id.0)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }
}

/// The two tables that map a token to a customer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenTable {
    Sessions,
    ApiTokens,
}

impl TokenTable {
    /// The customer a live token of this table belongs to (`$1` token hash, `$2` now).
    pub(crate) fn customer_select(self) -> &'static str {
        match self {
            TokenTable::Sessions => concat!(
                "SELECT c.id, c.number, c.name, c.email, c.street, c.postal_code, c.city, c.country, c.language, ",
                "c.created_at, c.data_version, (SELECT version FROM content_version WHERE id = 1) AS content_version ",
                "FROM sessions s JOIN customers c ON c.id = s.subject_id ",
                "WHERE s.token_hash = $1 AND s.kind = 'customer' AND s.expires_at > $2"
            ),
            TokenTable::ApiTokens => concat!(
                "SELECT c.id, c.number, c.name, c.email, c.street, c.postal_code, c.city, c.country, c.language, ",
                "c.created_at, c.data_version, (SELECT version FROM content_version WHERE id = 1) AS content_version ",
                "FROM api_tokens s JOIN customers c ON c.id = s.subject_id ",
                "WHERE s.token_hash = $1 AND s.kind = 'customer' AND s.expires_at > $2"
            ),
        }
    }
}
