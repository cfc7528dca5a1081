//! Backups in the JSON API: the customer's snapshots and jobs per contract, on-demand backups and restores
//! under `/api/v1/me/contracts/{id}/…`, and the agent's job protocol under `/api/v1/agent/backup-jobs/…`
//! (bearer: the node's agent token): claim, heartbeat, finish.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hostwerk_domain::backup_job::RelativePath;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::api::{ApiJson, ApiPath, ErrorBody};
use crate::auth::{ApiCustomer, ApiNode};
use crate::backups::{self, JobView, Requester, RestoreRequest};
use crate::error::ApiError;
use crate::service::ServiceError;
use crate::AppState;
use hostwerk_protocol::backup::{
    AgentJob, AgentReport, AgentRestore, AgentSnapshot, Attempt, Finish, FinishOutcome, Finished, HeartbeatOutcome,
};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/contracts/{id}/backups", get(contract_backups))
        .route("/me/contracts/{id}/backups/on-demand", post(on_demand))
        .route("/me/contracts/{id}/backups/restore", post(restore))
        .route("/agent/backup-jobs/claim", post(claim))
        .route("/agent/backup-jobs/{id}/heartbeat", post(heartbeat))
        .route("/agent/backup-jobs/{id}/finish", post(finish))
}

#[derive(OpenApi)]
#[openapi(
    paths(contract_backups, on_demand, restore, claim, heartbeat, finish),
    components(schemas(AgentJob, AgentRestore, AgentReport, AgentSnapshot, Attempt, Finished))
)]
pub(crate) struct BackupsApiDoc;

#[derive(Debug, Serialize, ToSchema)]
struct SnapshotDto {
    id: String,
    kind: String,
    part: String,
    time: String,
    total_files: i64,
    total_bytes: i64,
}

#[derive(Debug, Serialize, ToSchema)]
struct JobDto {
    id: i64,
    kind: String,
    status: String,
    requested_by: String,
    created_at: i64,
    started_at: Option<i64>,
    finished_at: Option<i64>,
    error: Option<String>,
    /// For queued jobs: jobs ahead on the same servers.
    queue_position: Option<usize>,
    /// For queued jobs: expected start (RFC 3339).
    expected_start: Option<String>,
}

impl From<&JobView> for JobDto {
    fn from(v: &JobView) -> Self {
        Self {
            id: v.job.id,
            kind: v.job.kind.as_str().to_owned(),
            status: v.job.status.as_str().to_owned(),
            requested_by: format!("{}:{}", v.job.requested_by_kind, v.job.requested_by_name),
            created_at: v.job.created_at,
            started_at: v.job.started_at,
            finished_at: v.job.finished_at,
            error: v.job.error.as_deref().map(|e| backups::job_error_text(e, hostwerk_domain::Language::En)),
            queue_position: v.place.as_ref().map(|p| p.position),
            expected_start: v.place.as_ref().map(|p| p.eta_start.to_rfc3339()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct BackupsDto {
    contract_id: i64,
    window: String,
    keep_daily: u32,
    keep_monthly: u32,
    on_demand_per_day: u32,
    on_demand_used_today: u32,
    on_demand_quota_mib: u64,
    on_demand_used_mib: u64,
    snapshots: Vec<SnapshotDto>,
    jobs: Vec<JobDto>,
}

/// A contract's snapshots, jobs and on-demand allowance.
#[utoipa::path(get, path = "/api/v1/me/contracts/{id}/backups", params(("id" = i64, Path)), responses((status = 200, body = BackupsDto), (status = 404, body = ErrorBody)))]
async fn contract_backups(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<BackupsDto>, ApiError> {
    let b = backups::contract_backups(&state, &c, id).await?;
    Ok(Json(BackupsDto {
        contract_id: b.contract.id,
        window: b.window,
        keep_daily: b.keep_daily,
        keep_monthly: b.keep_monthly,
        on_demand_per_day: b.allowance.per_day,
        on_demand_used_today: b.allowance.used_today,
        on_demand_quota_mib: b.allowance.quota_mib,
        on_demand_used_mib: b.allowance.used_mib,
        snapshots: b
            .snapshots
            .iter()
            .map(|s| SnapshotDto {
                id: s.snapshot_id.clone(),
                kind: s.kind.clone(),
                part: s.part.clone(),
                time: s.taken_at.to_rfc3339(),
                total_files: s.total_files,
                total_bytes: s.total_bytes,
            })
            .collect(),
        jobs: b.jobs.iter().map(JobDto::from).collect(),
    }))
}

/// Starts an on-demand backup within the tariff's allowance (409 with the reason when it is used up). The job
/// waits in the queue until it can run without pushing a nightly backup out of its window.
#[utoipa::path(post, path = "/api/v1/me/contracts/{id}/backups/on-demand", params(("id" = i64, Path)), responses((status = 202, body = JobDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn on_demand(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, Json<JobDto>), ApiError> {
    let view = backups::request_on_demand(&state, &c, id, &Requester::Customer(&c)).await?;
    Ok((StatusCode::ACCEPTED, Json(JobDto::from(&view))))
}

#[derive(Debug, Deserialize, ToSchema)]
struct RestoreBody {
    /// Full snapshot id.
    snapshot: String,
    /// Paths relative to the webspace (or the mailbox); "" is all of it.
    paths: Vec<String>,
    /// `folder` or `in_place`.
    target: String,
    /// Restore this mailbox instead of webspace files.
    #[serde(default)]
    mailbox: Option<String>,
    /// Restore the database backup `snapshot` (then `paths` and `target` are ignored).
    #[serde(default)]
    database: bool,
}

/// Restores files, folders, the webspace, a mailbox or a database from one of the contract's snapshots.
#[utoipa::path(post, path = "/api/v1/me/contracts/{id}/backups/restore", params(("id" = i64, Path)), request_body = RestoreBody, responses((status = 202, body = JobDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn restore(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RestoreBody>,
) -> Result<(StatusCode, Json<JobDto>), ApiError> {
    let who = Requester::Customer(&c);
    let view = if req.database {
        backups::request_db_restore(&state, &c, id, &req.snapshot, &who).await?
    } else {
        let paths = req
            .paths
            .iter()
            .map(|p| RelativePath::parse(p).map_err(|e| ServiceError::Invalid(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let request = RestoreRequest {
            snapshot: req.snapshot,
            mailbox: req.mailbox,
            paths,
            target: backups::RestoreTarget::parse(&req.target)?,
        };
        backups::request_restore(&state, &c, id, &request, &who).await?
    };
    Ok((StatusCode::ACCEPTED, Json(JobDto::from(&view))))
}

/// The agent asks for a job to run now: 200 with the job, 204 when there is none.
#[utoipa::path(post, path = "/api/v1/agent/backup-jobs/claim", responses((status = 200, body = AgentJob), (status = 204), (status = 401, body = ErrorBody)))]
async fn claim(State(state): State<AppState>, ApiNode(node): ApiNode) -> Result<Response, ApiError> {
    Ok(match backups::claim(&state, &node).await? {
        Some(job) => Json(job).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The agent still works on the job: 204; 409 when the job was handed to another attempt (stop working on it).
#[utoipa::path(post, path = "/api/v1/agent/backup-jobs/{id}/heartbeat", params(("id" = i64, Path)), request_body = Attempt, responses((status = 204), (status = 409, body = ErrorBody)))]
async fn heartbeat(
    State(state): State<AppState>,
    ApiNode(node): ApiNode,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<Attempt>,
) -> Result<StatusCode, ApiError> {
    match backups::heartbeat(&state, &node, id, req.attempt).await? {
        HeartbeatOutcome::Continue => Ok(StatusCode::NO_CONTENT),
        HeartbeatOutcome::Superseded => Err(superseded()),
    }
}

/// 409: what the agent reads as [`HeartbeatOutcome::Superseded`] or [`FinishOutcome::Superseded`].
fn superseded() -> ApiError {
    ApiError(StatusCode::CONFLICT, "this job is no longer yours; stop working on it".into())
}

/// The agent reports how a job ended, with the snapshots it took.
#[utoipa::path(post, path = "/api/v1/agent/backup-jobs/{id}/finish", params(("id" = i64, Path)), request_body = AgentReport, responses((status = 200, body = Finished), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn finish(
    State(state): State<AppState>,
    ApiNode(node): ApiNode,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<Finish>,
) -> Result<Json<Finished>, ApiError> {
    match backups::finish(&state, &node, id, req.attempt, &req.report).await? {
        FinishOutcome::Recorded(status) => Ok(Json(Finished { status })),
        FinishOutcome::Superseded => Err(superseded()),
    }
}
