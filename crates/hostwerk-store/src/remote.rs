//! Remote-support sessions: the invitation (a hashed single-purpose token valid for a day), the customer's
//! consent, and the start, end and note staff record.

use chrono::{DateTime, Utc};
use hostwerk_domain::remote_support::ClientOs;
use hostwerk_domain::CustomerNumber;
use serde::Serialize;

use crate::token::hash_token;
use crate::{get_i64, get_opt_i64, get_opt_str, get_str, now_ts, ts, CustomerId, RowRead, StaffId, Store, StoreError};

/// A remote-support session from invitation to end.
#[derive(Debug, Clone, Serialize)]
pub struct RemoteSession {
    pub id: i64,
    pub customer_id: CustomerId,
    pub customer_number: CustomerNumber,
    pub staff_id: StaffId,
    pub staff_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consented_at: Option<DateTime<Utc>>,
    /// The system the customer's browser ran when they consented.
    pub detected_os: Option<ClientOs>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub note: String,
}

const SELECT: &str = "SELECT r.id, r.customer_id, c.number, r.staff_id, s.display_name, r.created_at, r.expires_at, \
     r.consented_at, r.detected_os, r.started_at, r.ended_at, r.note \
     FROM remote_sessions r JOIN customers c ON c.id = r.customer_id JOIN staff_users s ON s.id = r.staff_id";

fn from_row(r: &impl RowRead) -> Result<RemoteSession, StoreError> {
    Ok(RemoteSession {
        id: get_i64(r, "id")?,
        customer_id: CustomerId(get_i64(r, "customer_id")?),
        customer_number: CustomerNumber::parse(&get_str(r, "number")?)
            .map_err(|e| StoreError::Corrupt(format!("customer number: {e}")))?,
        staff_id: StaffId(get_i64(r, "staff_id")?),
        staff_name: get_str(r, "display_name")?,
        created_at: ts(get_i64(r, "created_at")?),
        expires_at: ts(get_i64(r, "expires_at")?),
        consented_at: get_opt_i64(r, "consented_at")?.map(ts),
        detected_os: get_opt_str(r, "detected_os")?.as_deref().and_then(ClientOs::parse),
        started_at: get_opt_i64(r, "started_at")?.map(ts),
        ended_at: get_opt_i64(r, "ended_at")?.map(ts),
        note: get_str(r, "note")?,
    })
}

/// What staff record on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteStep<'a> {
    Start,
    End { note: &'a str },
}

impl Store {
    /// Records an invitation whose link carries the raw token (only its hash is stored); valid `ttl_secs`.
    pub async fn create_remote_session(
        &self,
        customer: CustomerId,
        staff: StaffId,
        token_hash: &str,
        ttl_secs: i64,
    ) -> Result<i64, StoreError> {
        let now = now_ts();
        Ok(sqlx::query_scalar::<_, i64>(
            "INSERT INTO remote_sessions (customer_id, staff_id, token_hash, created_at, expires_at, note) \
             VALUES ($1, $2, $3, $4, $5, '') RETURNING id",
        )
        .bind(customer.0)
        .bind(staff.0)
        .bind(token_hash)
        .bind(now)
        .bind(now + ttl_secs)
        .fetch_one(&self.pool)
        .await?)
    }

    /// The session an invitation link names, while the link is valid.
    pub async fn remote_session_by_token(&self, raw: &str) -> Result<RemoteSession, StoreError> {
        let row = sqlx::query(&format!("{SELECT} WHERE r.token_hash = $1 AND r.expires_at > $2"))
            .bind(hash_token(raw))
            .bind(now_ts())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The customer's consent through a valid link (once; later confirmations change nothing).
    pub async fn consent_remote_session(&self, raw: &str, os: Option<&str>) -> Result<RemoteSession, StoreError> {
        sqlx::query(
            "UPDATE remote_sessions SET consented_at = $2, detected_os = $3 \
             WHERE token_hash = $1 AND expires_at > $2 AND consented_at IS NULL",
        )
        .bind(hash_token(raw))
        .bind(now_ts())
        .bind(os)
        .execute(&self.pool)
        .await?;
        self.remote_session_by_token(raw).await
    }

    /// Records the start or the end (with a note) of a session the staff member invited to.
    pub async fn record_remote_step(&self, staff: StaffId, id: i64, step: RemoteStep<'_>) -> Result<(), StoreError> {
        let now = now_ts();
        let done = match step {
            RemoteStep::Start => {
                sqlx::query(
                    "UPDATE remote_sessions SET started_at = $3 WHERE id = $1 AND staff_id = $2 \
                     AND consented_at IS NOT NULL AND started_at IS NULL",
                )
                .bind(id)
                .bind(staff.0)
                .bind(now)
                .execute(&self.pool)
                .await?
            }
            RemoteStep::End { note } => {
                sqlx::query(
                    "UPDATE remote_sessions SET ended_at = $3, note = $4 WHERE id = $1 AND staff_id = $2 \
                     AND started_at IS NOT NULL AND ended_at IS NULL",
                )
                .bind(id)
                .bind(staff.0)
                .bind(now)
                .bind(note)
                .execute(&self.pool)
                .await?
            }
        };
        if done.rows_affected() == 1 {
            return Ok(());
        }
        let s = self.staff_remote_session(staff, id).await?;
        Err(StoreError::Conflict(
            match (step, s.consented_at, s.started_at, s.ended_at) {
                (_, _, _, Some(_)) => "the session has ended already",
                (RemoteStep::Start, None, _, _) => "the customer has not confirmed the session yet",
                (RemoteStep::Start, _, Some(_), _) => "the session has started already",
                (RemoteStep::End { .. }, _, None, _) => "the session has not started yet",
                _ => "the session cannot change now",
            }
            .into(),
        ))
    }

    /// A session the staff member invited to.
    pub async fn staff_remote_session(&self, staff: StaffId, id: i64) -> Result<RemoteSession, StoreError> {
        let row = sqlx::query(&format!("{SELECT} WHERE r.id = $1 AND r.staff_id = $2"))
            .bind(id)
            .bind(staff.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        from_row(&row)
    }

    /// The sessions the staff member invited to, newest first.
    pub async fn staff_remote_sessions(&self, staff: StaffId) -> Result<Vec<RemoteSession>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT} WHERE r.staff_id = $1 ORDER BY r.id DESC LIMIT 100"))
            .bind(staff.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The customer's remote-support sessions, newest first.
    pub async fn customer_remote_sessions(&self, customer: CustomerId) -> Result<Vec<RemoteSession>, StoreError> {
        let rows = sqlx::query(&format!("{SELECT} WHERE r.customer_id = $1 ORDER BY r.id DESC"))
            .bind(customer.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }
}
