//! The mail outbox: every mail hostwerk sends is recorded here, with its delivery status.

use crate::{get_i64, get_opt_i64, get_opt_str, get_str, now_ts, ts, OutboxMail, Store, StoreError};

impl Store {
    /// Records a mail; `status` is `queued` (to be sent by SMTP) or `stored` (no SMTP configured).
    pub async fn enqueue_mail(
        &self,
        recipient: &str,
        subject: &str,
        body: &str,
        status: &str,
    ) -> Result<i64, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (recipient, subject, body, status, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(recipient)
        .bind(subject)
        .bind(body)
        .bind(status)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Marks a mail as delivered to the SMTP server, or failed with the reason.
    pub async fn mark_mail(&self, id: i64, result: Result<(), String>) -> Result<(), StoreError> {
        let (status, error) = match result {
            Ok(()) => ("sent", None),
            Err(e) => ("failed", Some(e)),
        };
        sqlx::query("UPDATE outbox SET status = $1, error = $2, sent_at = $3 WHERE id = $4")
            .bind(status)
            .bind(error)
            .bind(now_ts())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The newest mails first.
    pub async fn outbox(&self, limit: i64) -> Result<Vec<OutboxMail>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, recipient, subject, body, status, error, created_at, sent_at FROM outbox ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxMail {
                    id: get_i64(r, "id")?,
                    recipient: get_str(r, "recipient")?,
                    subject: get_str(r, "subject")?,
                    body: get_str(r, "body")?,
                    status: get_str(r, "status")?,
                    error: get_opt_str(r, "error")?,
                    created_at: ts(get_i64(r, "created_at")?),
                    sent_at: get_opt_i64(r, "sent_at")?.map(ts),
                })
            })
            .collect()
    }
}
