//! Nodes: the webservers and backup servers an admin registers, and the contracts they run.

use std::collections::HashMap;

use hostwerk_domain::{NodeAddress, NodeName, NodeRole};

use crate::limits::node_from_row;
use crate::{now_ts, Node, Store, StoreError};

impl Store {
    pub async fn create_node(
        &self,
        name: &NodeName,
        role: NodeRole,
        address: &NodeAddress,
    ) -> Result<Node, StoreError> {
        let address = address.to_string();
        let result = sqlx::query_scalar::<_, i64>(
            "INSERT INTO nodes (name, role, address, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name.as_str())
        .bind(role.as_str())
        .bind(&address)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(id) => {
                Ok(Node { id, name: name.clone(), role, address, created_at: chrono::Utc::now(), agent_seen_at: None })
            }
            Err(e) if crate::error::is_unique(&e) => {
                Err(StoreError::Conflict(format!("a node named {name} exists already")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn nodes(&self) -> Result<Vec<Node>, StoreError> {
        let rows =
            sqlx::query("SELECT id, name, role, address, created_at, agent_seen_at FROM nodes ORDER BY role, name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(node_from_row).collect()
    }

    /// How many contracts each node runs (nodes without contracts are missing from the map).
    pub async fn node_contract_counts(&self) -> Result<HashMap<i64, i64>, StoreError> {
        let rows: Vec<(i64, i64)> =
            sqlx::query_as("SELECT node_id, COUNT(*) FROM contracts WHERE node_id IS NOT NULL GROUP BY node_id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// Deletes a node that nothing refers to any more; returns its name. A node with contracts is `NodeInUse`,
    /// a backup server webservers are assigned to `BackupServerInUse`, a node that backup jobs, snapshots,
    /// maintenance plans or process kills refer to `NodeHasHistory` (those records stay). Its agent tokens go
    /// with it.
    pub async fn delete_node(&self, id: i64) -> Result<String, StoreError> {
        let mut tx = self.write_tx().await?;
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contracts WHERE node_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if used > 0 {
            return Err(StoreError::NodeInUse { contracts: used });
        }
        let webservers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nodes WHERE backup_server_id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if webservers > 0 {
            return Err(StoreError::BackupServerInUse { webservers });
        }
        let history: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM backup_jobs WHERE node_id = $1 OR backup_server_id = $1) \
             + (SELECT COUNT(*) FROM backup_snapshots WHERE node_id = $1) \
             + (SELECT COUNT(*) FROM backup_maintenance WHERE node_id = $1) \
             + (SELECT COUNT(*) FROM process_kills WHERE node_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if history > 0 {
            return Err(StoreError::NodeHasHistory);
        }
        sqlx::query("DELETE FROM node_tokens WHERE node_id = $1").bind(id).execute(&mut *tx).await?;
        let name: Option<String> = sqlx::query_scalar("DELETE FROM nodes WHERE id = $1 RETURNING name")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let name = name.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(name)
    }

    /// Moves the contracts of node `from` — all of them, or only `contract` — to the webserver `to`, in one
    /// transaction. Returns how many moved; `NotFound` if `from`, `to` or that contract (on `from`) is unknown,
    /// `NotAWebserver` if `to` is no webserver.
    pub async fn move_contracts(&self, from: i64, to: i64, contract: Option<i64>) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let from_exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM nodes WHERE id = $1").bind(from).fetch_optional(&mut *tx).await?;
        from_exists.ok_or(StoreError::NotFound)?;
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM nodes WHERE id = $1").bind(to).fetch_optional(&mut *tx).await?;
        match role.as_deref() {
            None => return Err(StoreError::NotFound),
            Some(r) if r != NodeRole::Webserver.as_str() => return Err(StoreError::NotAWebserver),
            Some(_) => {}
        }
        let moved = match contract {
            Some(id) => sqlx::query("UPDATE contracts SET node_id = $1 WHERE node_id = $2 AND id = $3")
                .bind(to)
                .bind(from)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            None => sqlx::query("UPDATE contracts SET node_id = $1 WHERE node_id = $2")
                .bind(to)
                .bind(from)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
        };
        if contract.is_some() && moved == 0 {
            return Err(StoreError::NotFound);
        }
        // Queued backup jobs of the moved contracts follow them (to the target's backup server); running ones
        // finish where they run.
        sqlx::query(
            "UPDATE backup_jobs SET node_id = $1, backup_server_id = (SELECT backup_server_id FROM nodes WHERE id = $1) \
             WHERE node_id = $2 AND status = 'queued' AND ($3 IS NULL OR contract_id = $3)",
        )
        .bind(to)
        .bind(from)
        .bind(contract)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(moved)
    }
}
