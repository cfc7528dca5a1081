//! Process limits in the JSON API: the customer's limit per contract with its history and kill log under
//! `/api/v1/me/contracts/{id}/…`, and the node agent's two calls under `/api/v1/agent/…` (bearer: the node's
//! agent token).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use hostwerk_protocol::limits::{AgentKill, AgentKills, AgentLimits, AgentUser, Recorded};

use crate::api::{ApiJson, ApiPath, ErrorBody};
use crate::auth::{ApiCustomer, ApiNode};
use crate::error::ApiError;
use crate::server_config::{self, ContractLimit};
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/contracts/{id}/process-limit", get(limit).put(set_limit))
        .route("/me/contracts/{id}/process-kills", get(kills))
        .route("/agent/limits", get(agent_limits))
        .route("/agent/kills", axum::routing::post(agent_kills))
}

#[derive(OpenApi)]
#[openapi(
    paths(limit, set_limit, kills, agent_limits, agent_kills),
    components(schemas(AgentLimits, AgentUser, AgentKills, AgentKill, Recorded))
)]
pub(crate) struct LimitsApiDoc;

#[derive(Debug, Serialize, ToSchema)]
struct LimitChangeDto {
    old_limit: String,
    new_limit: String,
    by: String,
    at: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct ProcessLimitDto {
    contract_id: i64,
    system_user: String,
    /// `off` or seconds.
    limit: String,
    /// Whether the tariff lets the customer change it.
    adjustable: bool,
    tariff_default: String,
    changes: Vec<LimitChangeDto>,
}

impl From<&ContractLimit> for ProcessLimitDto {
    fn from(c: &ContractLimit) -> Self {
        Self {
            contract_id: c.contract.id,
            system_user: c.contract.system_user.as_str().to_owned(),
            limit: c.contract.process_limit.to_string(),
            adjustable: c.adjustable,
            tariff_default: c.default.to_string(),
            changes: c
                .changes
                .iter()
                .map(|ch| LimitChangeDto {
                    old_limit: ch.old_limit.to_string(),
                    new_limit: ch.new_limit.to_string(),
                    by: ch.actor_name.clone(),
                    at: ch.at.to_rfc3339(),
                })
                .collect(),
        }
    }
}

/// The contract's process limit and its history.
#[utoipa::path(get, path = "/api/v1/me/contracts/{id}/process-limit", params(("id" = i64, Path)), responses((status = 200, body = ProcessLimitDto), (status = 404, body = ErrorBody)))]
async fn limit(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProcessLimitDto>, ApiError> {
    Ok(Json(ProcessLimitDto::from(&server_config::one_contract_limit(&state, &c, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
struct SetLimit {
    /// `off` or 180–43200 seconds.
    limit: String,
}

/// Sets the contract's process limit (ManagedServer and ResellerDedicated only: 403 for a fixed tariff,
/// 422 for a value outside 180–43200).
#[utoipa::path(put, path = "/api/v1/me/contracts/{id}/process-limit", params(("id" = i64, Path)), request_body = SetLimit, responses((status = 200, body = ProcessLimitDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_limit(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SetLimit>,
) -> Result<Json<ProcessLimitDto>, ApiError> {
    server_config::set_limit(&state, &c, id, &req.limit).await?;
    Ok(Json(ProcessLimitDto::from(&server_config::one_contract_limit(&state, &c, id).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
struct KillDto {
    pid: i64,
    comm: String,
    runtime_seconds: i64,
    /// `TERM` or `KILL`.
    signal: String,
    at: String,
}

#[derive(Debug, Serialize, ToSchema)]
struct KillsDto {
    kills: Vec<KillDto>,
}

/// The processes the agent ended on this contract, newest first.
#[utoipa::path(get, path = "/api/v1/me/contracts/{id}/process-kills", params(("id" = i64, Path)), responses((status = 200, body = KillsDto), (status = 404, body = ErrorBody)))]
async fn kills(
    State(state): State<AppState>,
    ApiCustomer(c): ApiCustomer,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<KillsDto>, ApiError> {
    let limit = server_config::one_contract_limit(&state, &c, id).await?;
    Ok(Json(KillsDto {
        kills: limit
            .kills
            .iter()
            .map(|k| KillDto {
                pid: k.pid,
                comm: k.comm.clone(),
                runtime_seconds: k.runtime_seconds,
                signal: k.signal.clone(),
                at: k.at.to_rfc3339(),
            })
            .collect(),
    }))
}

/// The limits of every contract on the agent's node.
#[utoipa::path(get, path = "/api/v1/agent/limits", responses((status = 200, body = AgentLimits), (status = 401, body = ErrorBody)))]
async fn agent_limits(State(state): State<AppState>, ApiNode(node): ApiNode) -> Result<Json<AgentLimits>, ApiError> {
    let users = server_config::node_limits(&state, &node)
        .await?
        .into_iter()
        .map(|l| AgentUser { system_user: l.system_user.as_str().to_owned(), limit: l.limit.to_string() })
        .collect();
    Ok(Json(AgentLimits {
        node: node.name.to_string(),
        poll_seconds: Some(state.config.agent_poll_seconds.clamp(1, 10)),
        grace_seconds: Some(state.config.agent_grace_seconds.clamp(1, 300)),
        users,
    }))
}

/// Reports processes the agent ended; reports for users without a contract on the node are ignored.
#[utoipa::path(post, path = "/api/v1/agent/kills", request_body = AgentKills, responses((status = 202, body = Recorded), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn agent_kills(
    State(state): State<AppState>,
    ApiNode(node): ApiNode,
    ApiJson(req): ApiJson<AgentKills>,
) -> Result<(StatusCode, Json<Recorded>), ApiError> {
    let mut kills = Vec::with_capacity(req.kills.len());
    for k in &req.kills {
        kills.push(hostwerk_store::NewProcessKill {
            system_user: &k.user,
            pid: i64::from(k.pid),
            comm: &k.comm,
            runtime_seconds: i64::try_from(k.runtime_seconds).unwrap_or(i64::MAX),
            signal: k.signal.as_str(),
            at: i64::try_from(k.time).unwrap_or(i64::MAX),
        });
    }
    let recorded = server_config::record_kills(&state, &node, &kills).await?;
    Ok((StatusCode::ACCEPTED, Json(Recorded { recorded })))
}
