//! The backup side of the database: each webserver's backup server, the job queue (claimed under row locks,
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL), the snapshots agents reported, the contracts' databases, and the
//! retention maintenance plans.

use chrono::{DateTime, Utc};
use hostwerk_domain::backup_job::{BackupJobKind, BackupJobStatus};
use serde::Serialize;

use crate::{corrupt, get_i64, get_opt_i64, get_opt_str, get_str, ts, CustomerId, Engine, RowRead, Store, StoreError};

/// A queued, running or finished backup or restore job.
#[derive(Debug, Clone, Serialize)]
pub struct BackupJob {
    pub id: i64,
    pub customer_id: i64,
    pub contract_id: i64,
    pub node_id: i64,
    pub backup_server_id: Option<i64>,
    pub kind: BackupJobKind,
    pub night: Option<String>,
    pub deadline: Option<i64>,
    pub status: BackupJobStatus,
    /// JSON with what the job works on (restore paths, database name …).
    pub params: String,
    pub requested_by_kind: String,
    pub requested_by_name: String,
    pub estimate_seconds: i64,
    pub attempts: i64,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub heartbeat_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// JSON summary the agent reported.
    pub result: Option<String>,
    pub error: Option<String>,
}

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewBackupJob<'a> {
    pub customer_id: CustomerId,
    pub contract_id: i64,
    pub kind: BackupJobKind,
    pub params: &'a str,
    pub requested_by_kind: &'a str,
    pub requested_by_name: &'a str,
    pub estimate_seconds: i64,
    pub now: i64,
}

/// A snapshot an agent reported.
#[derive(Debug, Clone, Serialize)]
pub struct BackupSnapshot {
    pub id: i64,
    pub node_id: i64,
    pub snapshot_id: String,
    pub contract_id: i64,
    pub job_id: Option<i64>,
    /// `nightly`, `on_demand` or `safety`.
    pub kind: String,
    /// `files` or `db:NAME`.
    pub part: String,
    pub taken_at: DateTime<Utc>,
    pub total_files: i64,
    pub total_bytes: i64,
    pub bytes_added: i64,
}

/// A snapshot as the agent reports it.
#[derive(Debug, Clone)]
pub struct NewBackupSnapshot {
    pub snapshot_id: String,
    pub kind: String,
    pub part: String,
    pub taken_at: i64,
    pub total_files: i64,
    pub total_bytes: i64,
    pub bytes_added: i64,
}

/// How a finished job ended.
#[derive(Debug, Clone)]
pub struct JobOutcome<'a> {
    pub ok: bool,
    pub result: &'a str,
    pub error: Option<&'a str>,
    pub snapshots: &'a [NewBackupSnapshot],
    /// A failed nightly job is queued again while it has attempts left.
    pub retry: bool,
}

/// A retention maintenance plan (forget/prune) of one webserver's repository.
#[derive(Debug, Clone, Serialize)]
pub struct MaintenancePlan {
    pub id: i64,
    pub node_id: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub plan: String,
    pub executed_at: Option<DateTime<Utc>>,
    pub executed_by: Option<String>,
    pub result: Option<String>,
}

const JOB_COLUMNS: &str = "id, customer_id, contract_id, node_id, backup_server_id, kind, night, deadline, status, \
     params, requested_by_kind, requested_by_name, estimate_seconds, attempts, created_at, started_at, heartbeat_at, \
     finished_at, result, error";

fn job_from_row(r: &impl RowRead) -> Result<BackupJob, StoreError> {
    let kind = get_str(r, "kind")?;
    let status = get_str(r, "status")?;
    Ok(BackupJob {
        id: get_i64(r, "id")?,
        customer_id: get_i64(r, "customer_id")?,
        contract_id: get_i64(r, "contract_id")?,
        node_id: get_i64(r, "node_id")?,
        backup_server_id: get_opt_i64(r, "backup_server_id")?,
        kind: BackupJobKind::parse(&kind).ok_or_else(|| corrupt("job kind", &kind))?,
        night: get_opt_str(r, "night")?,
        deadline: get_opt_i64(r, "deadline")?,
        status: BackupJobStatus::parse(&status).ok_or_else(|| corrupt("job status", &status))?,
        params: get_str(r, "params")?,
        requested_by_kind: get_str(r, "requested_by_kind")?,
        requested_by_name: get_str(r, "requested_by_name")?,
        estimate_seconds: get_i64(r, "estimate_seconds")?,
        attempts: get_i64(r, "attempts")?,
        created_at: get_i64(r, "created_at")?,
        started_at: get_opt_i64(r, "started_at")?,
        heartbeat_at: get_opt_i64(r, "heartbeat_at")?,
        finished_at: get_opt_i64(r, "finished_at")?,
        result: get_opt_str(r, "result")?,
        error: get_opt_str(r, "error")?,
    })
}

const SNAPSHOT_COLUMNS: &str =
    "id, node_id, snapshot_id, contract_id, job_id, kind, part, taken_at, total_files, total_bytes, bytes_added";

fn snapshot_from_row(r: &impl RowRead) -> Result<BackupSnapshot, StoreError> {
    Ok(BackupSnapshot {
        id: get_i64(r, "id")?,
        node_id: get_i64(r, "node_id")?,
        snapshot_id: get_str(r, "snapshot_id")?,
        contract_id: get_i64(r, "contract_id")?,
        job_id: get_opt_i64(r, "job_id")?,
        kind: get_str(r, "kind")?,
        part: get_str(r, "part")?,
        taken_at: ts(get_i64(r, "taken_at")?),
        total_files: get_i64(r, "total_files")?,
        total_bytes: get_i64(r, "total_bytes")?,
        bytes_added: get_i64(r, "bytes_added")?,
    })
}

fn plan_from_row(r: &impl RowRead) -> Result<MaintenancePlan, StoreError> {
    Ok(MaintenancePlan {
        id: get_i64(r, "id")?,
        node_id: get_i64(r, "node_id")?,
        created_by: get_str(r, "created_by")?,
        created_at: ts(get_i64(r, "created_at")?),
        plan: get_str(r, "plan")?,
        executed_at: get_opt_i64(r, "executed_at")?.map(ts),
        executed_by: get_opt_str(r, "executed_by")?,
        result: get_opt_str(r, "result")?,
    })
}

/// A claim in progress: the locked queue of one webserver and its backup server, to be decided on and
/// committed with [`Store::commit_claim`].
pub struct ClaimTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    /// Queued and running jobs that share the webserver or its backup server, in priority order.
    pub jobs: Vec<BackupJob>,
}

impl std::fmt::Debug for ClaimTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimTx").field("jobs", &self.jobs.len()).finish()
    }
}

impl Store {
    /// Assigns a webserver's backup server (`None` removes the assignment).
    pub async fn set_backup_server(&self, webserver: i64, backup_server: Option<i64>) -> Result<(), StoreError> {
        if let Some(b) = backup_server {
            let role: Option<String> =
                sqlx::query_scalar("SELECT role FROM nodes WHERE id = $1").bind(b).fetch_optional(&self.pool).await?;
            if role.as_deref() != Some("backup_server") {
                return Err(StoreError::Conflict("the assigned node must be a backup server".into()));
            }
        }
        let n = sqlx::query("UPDATE nodes SET backup_server_id = $2 WHERE id = $1 AND role = 'webserver'")
            .bind(webserver)
            .bind(backup_server)
            .execute(&self.pool)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// The backup server assigned to a node, if any.
    pub async fn backup_server_of(&self, node_id: i64) -> Result<Option<i64>, StoreError> {
        let v: Option<Option<i64>> = sqlx::query_scalar("SELECT backup_server_id FROM nodes WHERE id = $1")
            .bind(node_id)
            .fetch_optional(&self.pool)
            .await?;
        v.ok_or(StoreError::NotFound)
    }

    /// Queues the night's backup of every contract that runs on a webserver and has none for `night` yet. The
    /// estimate is the duration of the contract's last successful nightly backup, else `default_estimate`.
    /// Returns the number of jobs queued.
    pub async fn enqueue_nightly(
        &self,
        night: &str,
        deadline: i64,
        default_estimate: i64,
        min_estimate: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let n = sqlx::query(
            "INSERT INTO backup_jobs (customer_id, contract_id, node_id, backup_server_id, kind, priority, night, \
             deadline, status, params, requested_by_kind, requested_by_name, estimate_seconds, attempts, created_at) \
             SELECT c.customer_id, c.id, c.node_id, n.backup_server_id, 'nightly', $1, $2, $3, 'queued', '{}', \
             'system', 'nightly', COALESCE((SELECT MAX(j2.finished_at - j2.started_at, $6) FROM backup_jobs j2 \
             WHERE j2.contract_id = c.id AND j2.kind = 'nightly' AND j2.status = 'succeeded' \
             ORDER BY j2.id DESC LIMIT 1), $4), 0, $5 \
             FROM contracts c JOIN nodes n ON n.id = c.node_id \
             WHERE c.status IN ('active', 'terminating') AND n.role = 'webserver' AND NOT EXISTS \
             (SELECT 1 FROM backup_jobs j WHERE j.contract_id = c.id AND j.night = $2)",
        )
        .bind(BackupJobKind::Nightly.priority())
        .bind(night)
        .bind(deadline)
        .bind(default_estimate)
        .bind(now)
        .bind(min_estimate);
        let n = match self.engine {
            Engine::Sqlite => n.execute(&self.pool).await?,
            Engine::Postgres => {
                // PostgreSQL's two-argument maximum is GREATEST; a unique violation from a second panel instance
                // racing for the same night is harmless (the other one queued the job).
                let sql = "INSERT INTO backup_jobs (customer_id, contract_id, node_id, backup_server_id, kind, \
                     priority, night, deadline, status, params, requested_by_kind, requested_by_name, \
                     estimate_seconds, attempts, created_at) \
                     SELECT c.customer_id, c.id, c.node_id, n.backup_server_id, 'nightly', $1, $2, $3, 'queued', \
                     '{}', 'system', 'nightly', COALESCE((SELECT GREATEST(j2.finished_at - j2.started_at, $6) \
                     FROM backup_jobs j2 WHERE j2.contract_id = c.id AND j2.kind = 'nightly' \
                     AND j2.status = 'succeeded' ORDER BY j2.id DESC LIMIT 1), $4), 0, $5 \
                     FROM contracts c JOIN nodes n ON n.id = c.node_id \
                     WHERE c.status IN ('active', 'terminating') AND n.role = 'webserver' AND NOT EXISTS \
                     (SELECT 1 FROM backup_jobs j WHERE j.contract_id = c.id AND j.night = $2) \
                     ON CONFLICT DO NOTHING";
                sqlx::query(sql)
                    .bind(BackupJobKind::Nightly.priority())
                    .bind(night)
                    .bind(deadline)
                    .bind(default_estimate)
                    .bind(now)
                    .bind(min_estimate)
                    .execute(&self.pool)
                    .await?
            }
        };
        Ok(n.rows_affected())
    }

    /// The nightly jobs the next window will queue on webserver `node_id` and on every webserver sharing
    /// `backup_server_id`: `(contract, webserver, backup server, estimate)`, estimated like
    /// [`Store::enqueue_nightly`] does.
    pub async fn upcoming_nightly(
        &self,
        node_id: i64,
        backup_server_id: Option<i64>,
        default_estimate: i64,
        min_estimate: i64,
    ) -> Result<Vec<(i64, i64, Option<i64>, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT c.id, c.node_id, n.backup_server_id, (SELECT j2.finished_at - j2.started_at FROM backup_jobs j2 \
             WHERE j2.contract_id = c.id AND j2.kind = 'nightly' AND j2.status = 'succeeded' \
             ORDER BY j2.id DESC LIMIT 1) AS last FROM contracts c JOIN nodes n ON n.id = c.node_id \
             WHERE c.status IN ('active', 'terminating') AND n.role = 'webserver' \
             AND (c.node_id = $1 OR n.backup_server_id = $2) ORDER BY c.id",
        )
        .bind(node_id)
        .bind(backup_server_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let est = get_opt_i64(r, "last")?.unwrap_or(default_estimate).max(min_estimate);
                Ok((get_i64(r, "id")?, get_i64(r, "node_id")?, get_opt_i64(r, "backup_server_id")?, est))
            })
            .collect()
    }

    /// Queues an on-demand backup or a restore of a contract on its webserver. The caller has checked the
    /// customer owns the contract and the allowance.
    pub async fn insert_backup_job(&self, job: &NewBackupJob<'_>) -> Result<i64, StoreError> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(
            "SELECT c.node_id, n.backup_server_id FROM contracts c JOIN nodes n ON n.id = c.node_id \
             WHERE c.id = $1 AND c.customer_id = $2",
        )
        .bind(job.contract_id)
        .bind(job.customer_id.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let node_id = get_i64(&row, "node_id")?;
        let backup_server_id = get_opt_i64(&row, "backup_server_id")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO backup_jobs (customer_id, contract_id, node_id, backup_server_id, kind, priority, status, \
             params, requested_by_kind, requested_by_name, estimate_seconds, attempts, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10, 0, $11) RETURNING id",
        )
        .bind(job.customer_id.0)
        .bind(job.contract_id)
        .bind(node_id)
        .bind(backup_server_id)
        .bind(job.kind.as_str())
        .bind(job.kind.priority())
        .bind(job.params)
        .bind(job.requested_by_kind)
        .bind(job.requested_by_name)
        .bind(job.estimate_seconds.max(1))
        .bind(job.now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One job of a customer (scoped: another customer's job is [`StoreError::NotFound`]).
    pub async fn backup_job(&self, customer: CustomerId, job_id: i64) -> Result<BackupJob, StoreError> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM backup_jobs WHERE id = $1 AND customer_id = $2"))
            .bind(job_id)
            .bind(customer.0)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        job_from_row(&row)
    }

    /// A job by id, unscoped (for the agent side, which is scoped by node when it finishes the job).
    pub async fn backup_job_any(&self, job_id: i64) -> Result<BackupJob, StoreError> {
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM backup_jobs WHERE id = $1"))
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        job_from_row(&row)
    }

    /// The newest jobs of a contract.
    pub async fn backup_jobs_of_contract(&self, contract_id: i64, limit: i64) -> Result<Vec<BackupJob>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE contract_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(contract_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Queued and running jobs that share webserver `node_id` or backup server `backup_server_id`, in priority
    /// order (for queue positions; no locks).
    pub async fn backup_queue(
        &self,
        node_id: i64,
        backup_server_id: Option<i64>,
    ) -> Result<Vec<BackupJob>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE status IN ('queued', 'running') \
             AND (node_id = $1 OR backup_server_id = $2) ORDER BY priority, id"
        ))
        .bind(node_id)
        .bind(backup_server_id.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Every queued or running job (the staff overview).
    pub async fn open_backup_jobs(&self) -> Result<Vec<BackupJob>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE status IN ('queued', 'running') ORDER BY priority, id LIMIT 500"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Records that the agent of a webserver asked for work (at most every 10 s a write).
    pub async fn touch_agent(&self, node_id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE nodes SET agent_seen_at = $2 WHERE id = $1 AND (agent_seen_at IS NULL OR agent_seen_at < $3)",
        )
        .bind(node_id)
        .bind(now)
        .bind(now - 10)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Webservers whose agent asked for work since `since`.
    pub async fn live_agents(&self, since: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar("SELECT id FROM nodes WHERE role = 'webserver' AND agent_seen_at >= $1")
            .bind(since)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Starts a claim for webserver `node_id`: locks the node rows of the webserver and its backup server (so
    /// two panel instances never exceed a cap together) and reads the shared queue; on PostgreSQL the queued
    /// rows are taken `FOR UPDATE SKIP LOCKED`, so rows another instance is working on are passed over.
    pub async fn begin_claim(&self, node_id: i64, backup_server_id: Option<i64>) -> Result<ClaimTx, StoreError> {
        let mut tx = self.write_tx().await?;
        let b = backup_server_id.unwrap_or(-1);
        let jobs = match self.engine {
            Engine::Postgres => {
                sqlx::query("SELECT id FROM nodes WHERE id IN ($1, $2) ORDER BY id FOR UPDATE")
                    .bind(node_id)
                    .bind(b)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut running = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE status = 'running' \
                     AND (node_id = $1 OR backup_server_id = $2) ORDER BY priority, id"
                ))
                .bind(node_id)
                .bind(b)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(job_from_row)
                .collect::<Result<Vec<_>, _>>()?;
                let queued = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE status = 'queued' \
                     AND (node_id = $1 OR backup_server_id = $2) ORDER BY priority, id FOR UPDATE SKIP LOCKED"
                ))
                .bind(node_id)
                .bind(b)
                .fetch_all(&mut *tx)
                .await?;
                for r in &queued {
                    running.push(job_from_row(r)?);
                }
                running.sort_by_key(|j| (j.kind.priority(), j.id));
                running
            }
            Engine::Sqlite => {
                // SQLite has one writer: an immediate write takes the database lock for the whole claim.
                sqlx::query("UPDATE nodes SET backup_server_id = backup_server_id WHERE id = $1")
                    .bind(node_id)
                    .execute(&mut *tx)
                    .await?;
                let rows = sqlx::query(&format!(
                    "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE status IN ('queued', 'running') \
                     AND (node_id = $1 OR backup_server_id = $2) ORDER BY priority, id"
                ))
                .bind(node_id)
                .bind(b)
                .fetch_all(&mut *tx)
                .await?;
                rows.iter().map(job_from_row).collect::<Result<Vec<_>, _>>()?
            }
        };
        Ok(ClaimTx { tx, jobs })
    }

    /// Marks the chosen jobs running and commits the claim. Returns the jobs as claimed (attempt counted).
    pub async fn commit_claim(&self, claim: ClaimTx, chosen: &[i64], now: i64) -> Result<Vec<BackupJob>, StoreError> {
        let ClaimTx { mut tx, .. } = claim;
        let mut out = Vec::new();
        for id in chosen {
            let n = sqlx::query(
                "UPDATE backup_jobs SET status = 'running', started_at = $2, heartbeat_at = $2, \
                 attempts = attempts + 1 WHERE id = $1 AND status = 'queued'",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM backup_jobs WHERE id = $1"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                out.push(job_from_row(&row)?);
            }
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records that the agent still works on a job; false if the job is no longer this attempt's (requeued
    /// after a missed heartbeat, or finished).
    pub async fn backup_heartbeat(
        &self,
        node_id: i64,
        job_id: i64,
        attempt: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE backup_jobs SET heartbeat_at = $4 WHERE id = $1 AND node_id = $2 AND attempts = $3 \
             AND status = 'running'",
        )
        .bind(job_id)
        .bind(node_id)
        .bind(attempt)
        .bind(now)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Records the end of a job and the snapshots it took, in one transaction. Returns the finished job, or
    /// [`StoreError::Conflict`] if this attempt no longer owns the job.
    pub async fn finish_backup_job(
        &self,
        node_id: i64,
        job_id: i64,
        attempt: i64,
        outcome: &JobOutcome<'_>,
        now: i64,
    ) -> Result<BackupJob, StoreError> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE id = $1 AND node_id = $2 AND attempts = $3 \
             AND status = 'running'"
        ))
        .bind(job_id)
        .bind(node_id)
        .bind(attempt)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotThisAttempt { job: job_id, attempt })?;
        let job = job_from_row(&row)?;
        let status = if outcome.ok {
            BackupJobStatus::Succeeded
        } else if outcome.retry {
            BackupJobStatus::Queued
        } else {
            BackupJobStatus::Failed
        };
        sqlx::query(
            "UPDATE backup_jobs SET status = $2, finished_at = $3, result = $4, error = $5 WHERE id = $1 \
             AND status = 'running'",
        )
        .bind(job_id)
        .bind(status.as_str())
        .bind(if status == BackupJobStatus::Queued { None } else { Some(now) })
        .bind(outcome.result)
        .bind(outcome.error)
        .execute(&mut *tx)
        .await?;
        for s in outcome.snapshots {
            sqlx::query(
                "INSERT INTO backup_snapshots (node_id, snapshot_id, customer_id, contract_id, job_id, kind, part, \
                 taken_at, total_files, total_bytes, bytes_added) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(node_id)
            .bind(&s.snapshot_id)
            .bind(job.customer_id)
            .bind(job.contract_id)
            .bind(job_id)
            .bind(&s.kind)
            .bind(&s.part)
            .bind(s.taken_at)
            .bind(s.total_files)
            .bind(s.total_bytes)
            .bind(s.bytes_added)
            .execute(&mut *tx)
            .await?;
        }
        let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM backup_jobs WHERE id = $1"))
            .bind(job_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        job_from_row(&row)
    }

    /// Running jobs whose agent stopped reporting before `stale_before`: queued again while attempts are left
    /// (`max_attempts`), else failed. Returns the jobs that failed for good (their customers are told).
    pub async fn requeue_stale_backup_jobs(
        &self,
        stale_before: i64,
        max_attempts: i64,
        now: i64,
    ) -> Result<(u64, Vec<BackupJob>), StoreError> {
        let mut tx = self.write_tx().await?;
        let failing = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM backup_jobs WHERE status = 'running' AND heartbeat_at < $1 AND attempts >= $2"
        ))
        .bind(stale_before)
        .bind(max_attempts)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(job_from_row)
        .collect::<Result<Vec<_>, _>>()?;
        sqlx::query(
            "UPDATE backup_jobs SET status = 'failed', finished_at = $3, \
             error = 'the agent stopped reporting (crash or restart) and the attempts are used up' \
             WHERE status = 'running' AND heartbeat_at < $1 AND attempts >= $2",
        )
        .bind(stale_before)
        .bind(max_attempts)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let requeued = sqlx::query(
            "UPDATE backup_jobs SET status = 'queued', error = 'the agent stopped reporting; queued again' \
             WHERE status = 'running' AND heartbeat_at < $1",
        )
        .bind(stale_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok((requeued, failing))
    }

    /// What a contract used of its on-demand allowance: requests since `since` (failed ones not counted),
    /// bytes its kept on-demand snapshots added, and whether one is pending.
    pub async fn on_demand_usage(&self, contract_id: i64, since: i64) -> Result<(i64, i64, bool), StoreError> {
        let today: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM backup_jobs WHERE contract_id = $1 AND kind = 'on_demand' AND created_at >= $2 \
             AND status <> 'failed'",
        )
        .bind(contract_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        // SUM is NUMERIC on PostgreSQL; the cast keeps one integer type on both engines.
        let stored: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(bytes_added), 0) AS BIGINT) FROM backup_snapshots WHERE contract_id = $1 \
             AND kind = 'on_demand' AND forgotten_at IS NULL",
        )
        .bind(contract_id)
        .fetch_one(&self.pool)
        .await?;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM backup_jobs WHERE contract_id = $1 AND kind = 'on_demand' \
             AND status IN ('queued', 'running')",
        )
        .bind(contract_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((today, stored, pending > 0))
    }

    /// The kept snapshots of a contract, newest first.
    pub async fn contract_snapshots(&self, contract_id: i64) -> Result<Vec<BackupSnapshot>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM backup_snapshots WHERE contract_id = $1 AND forgotten_at IS NULL \
             ORDER BY taken_at DESC, id DESC"
        ))
        .bind(contract_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(snapshot_from_row).collect()
    }

    /// One kept snapshot of a contract by its (full) snapshot id.
    pub async fn contract_snapshot(&self, contract_id: i64, snapshot_id: &str) -> Result<BackupSnapshot, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM backup_snapshots WHERE contract_id = $1 AND snapshot_id = $2 \
             AND forgotten_at IS NULL"
        ))
        .bind(contract_id)
        .bind(snapshot_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        snapshot_from_row(&row)
    }

    /// The kept snapshots of a webserver's repository with the tariff of their contract (for retention).
    pub async fn node_snapshots(&self, node_id: i64) -> Result<Vec<(BackupSnapshot, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT s.id, s.node_id, s.snapshot_id, s.contract_id, s.job_id, s.kind, s.part, s.taken_at, \
             s.total_files, s.total_bytes, s.bytes_added, c.tariff_id FROM backup_snapshots s \
             JOIN contracts c ON c.id = s.contract_id WHERE s.node_id = $1 AND s.forgotten_at IS NULL \
             ORDER BY s.contract_id, s.taken_at",
        )
        .bind(node_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((snapshot_from_row(r)?, get_str(r, "tariff_id")?))).collect()
    }

    /// Marks snapshots of a node's repository as forgotten (after the engine removed them).
    pub async fn mark_snapshots_forgotten(&self, node_id: i64, ids: &[String], now: i64) -> Result<u64, StoreError> {
        let mut tx = self.write_tx().await?;
        let mut n = 0;
        for id in ids {
            n += sqlx::query(
                "UPDATE backup_snapshots SET forgotten_at = $3 WHERE node_id = $1 AND snapshot_id = $2 \
                 AND forgotten_at IS NULL",
            )
            .bind(node_id)
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(n)
    }

    /// The MariaDB databases of a contract.
    pub async fn contract_databases(&self, contract_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT name FROM contract_databases WHERE contract_id = $1 ORDER BY name")
            .bind(contract_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Records a MariaDB database of a contract (the name is checked by the caller).
    pub async fn add_contract_database(&self, contract_id: i64, name: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO contract_databases (contract_id, name, created_at) VALUES ($1, $2, $3)")
            .bind(contract_id)
            .bind(name)
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(|e| {
                let e = StoreError::from(e);
                if e.is_unique_violation() {
                    StoreError::Conflict(format!("the database {name} is already recorded"))
                } else {
                    e
                }
            })?;
        Ok(())
    }

    /// Stores a maintenance plan for a webserver's repository.
    pub async fn insert_maintenance_plan(
        &self,
        node_id: i64,
        created_by: &str,
        plan: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO backup_maintenance (node_id, created_by, created_at, plan) VALUES ($1, $2, $3, $4) \
             RETURNING id",
        )
        .bind(node_id)
        .bind(created_by)
        .bind(now)
        .bind(plan)
        .fetch_one(&self.pool)
        .await?)
    }

    /// A maintenance plan.
    pub async fn maintenance_plan(&self, id: i64) -> Result<MaintenancePlan, StoreError> {
        let row = sqlx::query(
            "SELECT id, node_id, created_by, created_at, plan, executed_at, executed_by, result \
             FROM backup_maintenance WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        plan_from_row(&row)
    }

    /// The newest maintenance plans.
    pub async fn maintenance_plans(&self, limit: i64) -> Result<Vec<MaintenancePlan>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, node_id, created_by, created_at, plan, executed_at, executed_by, result \
             FROM backup_maintenance ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(plan_from_row).collect()
    }

    /// Stores what executing a plan did.
    pub async fn set_maintenance_result(&self, id: i64, result: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE backup_maintenance SET result = $2 WHERE id = $1")
            .bind(id)
            .bind(result)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks a plan executed, once: a second execution is [`StoreError::Conflict`].
    pub async fn mark_maintenance_executed(&self, id: i64, by: &str, result: &str, now: i64) -> Result<(), StoreError> {
        let n = sqlx::query(
            "UPDATE backup_maintenance SET executed_at = $2, executed_by = $3, result = $4 WHERE id = $1 \
             AND executed_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .bind(by)
        .bind(result)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("this plan was already carried out".into()));
        }
        Ok(())
    }
}
