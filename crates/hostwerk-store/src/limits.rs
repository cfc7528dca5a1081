//! The node agent's side of the database: node tokens, the process limits of the contracts on a node, the
//! history of limit changes, and the processes agents report having ended.

use chrono::{DateTime, Utc};
use hostwerk_domain::{NodeName, NodeRole, ProcessLimit, SystemUser};
use serde::Serialize;

use crate::token::{hash_token, new_token};
use crate::{corrupt, get_i64, get_str, now_ts, ts, Actor, CustomerId, Node, RowRead, Store, StoreError};

/// The limit of one system user on a node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeLimit {
    pub system_user: SystemUser,
    pub limit: ProcessLimit,
}

/// A change of a contract's process limit.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessLimitChange {
    pub id: i64,
    pub old_limit: ProcessLimit,
    pub new_limit: ProcessLimit,
    pub actor_kind: String,
    pub actor_name: String,
    pub at: DateTime<Utc>,
}

/// A process an agent ended.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessKill {
    pub id: i64,
    pub contract_id: i64,
    pub system_user: String,
    pub pid: i64,
    pub comm: String,
    pub runtime_seconds: i64,
    /// `TERM` or `KILL`.
    pub signal: String,
    pub at: DateTime<Utc>,
}

/// A kill as an agent reports it.
#[derive(Debug, Clone)]
pub struct NewProcessKill<'a> {
    pub system_user: &'a str,
    pub pid: i64,
    pub comm: &'a str,
    pub runtime_seconds: i64,
    pub signal: &'a str,
    pub at: i64,
}

pub(crate) fn node_from_row(r: &impl RowRead) -> Result<Node, StoreError> {
    Ok(Node {
        id: get_i64(r, "id")?,
        name: NodeName::parse(&get_str(r, "name")?).map_err(|e| corrupt("node name", e))?,
        role: NodeRole::parse(&get_str(r, "role")?).map_err(|e| corrupt("node role", e))?,
        address: get_str(r, "address")?,
        created_at: ts(get_i64(r, "created_at")?),
        agent_seen_at: crate::get_opt_i64(r, "agent_seen_at")?.map(ts),
    })
}

impl Store {
    /// A new agent token for a webserver; earlier tokens of the node stop working. Returns the raw token,
    /// which is shown once and stored only as a hash.
    pub async fn issue_node_token(&self, node_id: i64) -> Result<String, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let role: Option<String> =
            sqlx::query_scalar("SELECT role FROM nodes WHERE id = $1").bind(node_id).fetch_optional(&mut *tx).await?;
        match role.as_deref() {
            None => return Err(StoreError::NotFound),
            Some(r) if r != NodeRole::Webserver.as_str() => {
                return Err(StoreError::Conflict("agent tokens are for webservers".into()))
            }
            Some(_) => {}
        }
        sqlx::query("UPDATE node_tokens SET revoked_at = $2 WHERE node_id = $1 AND revoked_at IS NULL")
            .bind(node_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let token = new_token();
        sqlx::query("INSERT INTO node_tokens (token_hash, node_id, created_at) VALUES ($1, $2, $3)")
            .bind(&token.hash)
            .bind(node_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(token.raw)
    }

    /// The node an agent token belongs to, if the token is live.
    pub async fn node_by_token(&self, raw: &str) -> Result<Node, StoreError> {
        let row = sqlx::query(
            "SELECT n.id, n.name, n.role, n.address, n.created_at, n.agent_seen_at FROM node_tokens t JOIN nodes n ON n.id = t.node_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(hash_token(raw))
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        node_from_row(&row)
    }

    /// A node by name.
    pub async fn node_by_name(&self, name: &NodeName) -> Result<Node, StoreError> {
        let row = sqlx::query("SELECT id, name, role, address, created_at, agent_seen_at FROM nodes WHERE name = $1")
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        node_from_row(&row)
    }

    /// The limits of every contract that still runs on the node.
    pub async fn node_limits(&self, node_id: i64) -> Result<Vec<NodeLimit>, StoreError> {
        let rows = sqlx::query(
            "SELECT system_user, process_limit FROM contracts WHERE node_id = $1 AND status <> 'terminated' \
             ORDER BY system_user",
        )
        .bind(node_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NodeLimit {
                    system_user: SystemUser::parse(&get_str(r, "system_user")?)
                        .ok_or_else(|| corrupt("system user", "not a valid user name"))?,
                    limit: ProcessLimit::parse(&get_str(r, "process_limit")?)
                        .map_err(|e| corrupt("process limit", e))?,
                })
            })
            .collect()
    }

    /// Sets the process limit of the customer's contract and records the change; returns the old limit.
    pub async fn set_process_limit(
        &self,
        customer: CustomerId,
        contract_id: i64,
        new: ProcessLimit,
        actor: &Actor,
    ) -> Result<ProcessLimit, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let old: String = sqlx::query_scalar("SELECT process_limit FROM contracts WHERE id = $1 AND customer_id = $2")
            .bind(contract_id)
            .bind(customer.0)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let old = ProcessLimit::parse(&old).map_err(|e| corrupt("process limit", e))?;
        sqlx::query("UPDATE contracts SET process_limit = $3 WHERE id = $1 AND customer_id = $2")
            .bind(contract_id)
            .bind(customer.0)
            .bind(new.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO process_limit_changes (customer_id, contract_id, old_limit, new_limit, actor_kind, \
             actor_name, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(customer.0)
        .bind(contract_id)
        .bind(old.to_string())
        .bind(new.to_string())
        .bind(actor.kind)
        .bind(&actor.name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(old)
    }

    /// The limit changes of the customer's contract, newest first.
    pub async fn process_limit_changes(
        &self,
        customer: CustomerId,
        contract_id: i64,
    ) -> Result<Vec<ProcessLimitChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, old_limit, new_limit, actor_kind, actor_name, at FROM process_limit_changes \
             WHERE customer_id = $1 AND contract_id = $2 ORDER BY id DESC LIMIT 200",
        )
        .bind(customer.0)
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ProcessLimitChange {
                    id: get_i64(r, "id")?,
                    old_limit: ProcessLimit::parse(&get_str(r, "old_limit")?).map_err(|e| corrupt("limit", e))?,
                    new_limit: ProcessLimit::parse(&get_str(r, "new_limit")?).map_err(|e| corrupt("limit", e))?,
                    actor_kind: get_str(r, "actor_kind")?,
                    actor_name: get_str(r, "actor_name")?,
                    at: ts(get_i64(r, "at")?),
                })
            })
            .collect()
    }

    /// Records the kills an agent reports for its node; reports for users that have no contract on the node
    /// are ignored. Returns how many were recorded.
    pub async fn record_process_kills(&self, node_id: i64, kills: &[NewProcessKill<'_>]) -> Result<u64, StoreError> {
        let now = now_ts();
        let mut tx = self.write_tx().await?;
        let mut recorded = 0;
        for k in kills {
            let owner = sqlx::query("SELECT id, customer_id FROM contracts WHERE node_id = $1 AND system_user = $2")
                .bind(node_id)
                .bind(k.system_user)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(owner) = owner else { continue };
            sqlx::query(
                "INSERT INTO process_kills (node_id, customer_id, contract_id, system_user, pid, comm, \
                 runtime_seconds, signal, at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(node_id)
            .bind(get_i64(&owner, "customer_id")?)
            .bind(get_i64(&owner, "id")?)
            .bind(k.system_user)
            .bind(k.pid)
            .bind(k.comm)
            .bind(k.runtime_seconds)
            .bind(k.signal)
            .bind(k.at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            recorded += 1;
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// The processes ended on the customer's contract, newest first.
    pub async fn process_kills(
        &self,
        customer: CustomerId,
        contract_id: i64,
        limit: i64,
    ) -> Result<Vec<ProcessKill>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, contract_id, system_user, pid, comm, runtime_seconds, signal, at FROM process_kills \
             WHERE customer_id = $1 AND contract_id = $2 ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(customer.0)
        .bind(contract_id)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ProcessKill {
                    id: get_i64(r, "id")?,
                    contract_id: get_i64(r, "contract_id")?,
                    system_user: get_str(r, "system_user")?,
                    pid: get_i64(r, "pid")?,
                    comm: get_str(r, "comm")?,
                    runtime_seconds: get_i64(r, "runtime_seconds")?,
                    signal: get_str(r, "signal")?,
                    at: ts(get_i64(r, "at")?),
                })
            })
            .collect()
    }
}
