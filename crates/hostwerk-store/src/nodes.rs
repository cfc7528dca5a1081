//! Nodes: the webservers and backup servers an admin registers.

use hostwerk_domain::{NodeName, NodeRole};

use crate::{get_i64, get_str, now_ts, ts, Node, Store, StoreError};

impl Store {
    pub async fn create_node(&self, name: &NodeName, role: NodeRole, address: &str) -> Result<Node, StoreError> {
        let result = sqlx::query_scalar::<_, i64>(
            "INSERT INTO nodes (name, role, address, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name.as_str())
        .bind(role.as_str())
        .bind(address)
        .bind(now_ts())
        .fetch_one(&self.pool)
        .await;
        match result {
            Ok(id) => {
                Ok(Node { id, name: name.clone(), role, address: address.to_owned(), created_at: chrono::Utc::now() })
            }
            Err(e) if crate::error::is_unique(&e) => {
                Err(StoreError::Conflict(format!("a node named {name} exists already")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn nodes(&self) -> Result<Vec<Node>, StoreError> {
        let rows = sqlx::query("SELECT id, name, role, address, created_at FROM nodes ORDER BY role, name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Node {
                    id: get_i64(r, "id")?,
                    name: NodeName::parse(&get_str(r, "name")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    role: NodeRole::parse(&get_str(r, "role")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    address: get_str(r, "address")?,
                    created_at: ts(get_i64(r, "created_at")?),
                })
            })
            .collect()
    }

    /// Deletes a node that no contract uses; returns its name.
    pub async fn delete_node(&self, id: i64) -> Result<String, StoreError> {
        let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contracts WHERE node_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await?;
        if used > 0 {
            return Err(StoreError::Conflict(format!("{used} contracts run on this node; move them first")));
        }
        let name: Option<String> = sqlx::query_scalar("DELETE FROM nodes WHERE id = $1 RETURNING name")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        name.ok_or(StoreError::NotFound)
    }
}
