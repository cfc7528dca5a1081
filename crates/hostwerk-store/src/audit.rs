//! The audit log: who did what to which account, appended and never changed.

use hostwerk_domain::AuditAction;

use crate::{get_i64, get_str, now_ts, ts, Actor, AuditEntry, Store, StoreError};

impl Store {
    /// Appends an entry.
    pub async fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        target: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(now_ts())
        .bind(actor.kind)
        .bind(actor.id)
        .bind(&actor.name)
        .bind(action.as_str())
        .bind(target)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor_kind, actor_name, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: get_i64(r, "id")?,
                    at: ts(get_i64(r, "at")?),
                    actor_kind: get_str(r, "actor_kind")?,
                    actor_name: get_str(r, "actor_name")?,
                    action: get_str(r, "action")?,
                    target: get_str(r, "target")?,
                    detail: get_str(r, "detail")?,
                })
            })
            .collect()
    }
}
