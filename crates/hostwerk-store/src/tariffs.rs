//! The tariff catalog as stored: seeded from TOML once, then managed by admins.

use hostwerk_domain::{Tariff, TariffCatalog, TariffId};

use crate::{get_str, now_ts, Store, StoreError};

impl Store {
    /// Stores every tariff of `catalog` that is not stored yet; existing ones are left as admins edited them.
    pub async fn seed_tariffs(&self, catalog: &TariffCatalog) -> Result<usize, StoreError> {
        let mut added = 0;
        for (pos, tariff) in catalog.tariffs.iter().enumerate() {
            let exists: Option<String> = sqlx::query_scalar("SELECT id FROM tariffs WHERE id = $1")
                .bind(tariff.id.as_str())
                .fetch_optional(&self.pool)
                .await?;
            if exists.is_none() {
                let json = serde_json::to_string(tariff).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("INSERT INTO tariffs (id, position, definition, updated_at) VALUES ($1, $2, $3, $4)")
                    .bind(tariff.id.as_str())
                    .bind(pos as i64)
                    .bind(json)
                    .bind(now_ts())
                    .execute(&self.pool)
                    .await?;
                added += 1;
            }
        }
        Ok(added)
    }

    pub async fn tariffs(&self) -> Result<Vec<Tariff>, StoreError> {
        let rows = sqlx::query("SELECT definition FROM tariffs ORDER BY position, id").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&get_str(r, "definition")?)
                    .map_err(|e| StoreError::Corrupt(format!("tariff: {e}")))
            })
            .collect()
    }

    pub async fn tariff(&self, id: &TariffId) -> Result<Tariff, StoreError> {
        let json: String = sqlx::query_scalar("SELECT definition FROM tariffs WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("tariff: {e}")))
    }

    /// Adds a tariff (the caller validated it) at the end of the catalog; `AlreadyExists` if its id is taken.
    pub async fn create_tariff(&self, tariff: &Tariff) -> Result<(), StoreError> {
        let json = serde_json::to_string(tariff).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM tariffs").fetch_one(&mut *tx).await?;
        let result = sqlx::query("INSERT INTO tariffs (id, position, definition, updated_at) VALUES ($1, $2, $3, $4)")
            .bind(tariff.id.as_str())
            .bind(last.map_or(0, |p| p + 1))
            .bind(json)
            .bind(now_ts())
            .execute(&mut *tx)
            .await;
        match result {
            Ok(_) => {
                tx.commit().await?;
                Ok(())
            }
            Err(e) if crate::error::is_unique(&e) => Err(StoreError::AlreadyExists),
            Err(e) => Err(e.into()),
        }
    }

    /// Replaces a stored tariff's definition (the caller validated it). Existing contracts keep their price.
    pub async fn update_tariff(&self, tariff: &Tariff) -> Result<(), StoreError> {
        let json = serde_json::to_string(tariff).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let r = sqlx::query("UPDATE tariffs SET definition = $1, updated_at = $2 WHERE id = $3")
            .bind(json)
            .bind(now_ts())
            .bind(tariff.id.as_str())
            .execute(&self.pool)
            .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
