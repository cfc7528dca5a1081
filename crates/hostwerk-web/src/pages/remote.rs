//! Remote support pages: the invitation link's page (`/remote/{token}`, public: the token is the key), which
//! offers the download for the visitor's operating system and takes the customer's consent; the staff
//! member's invitation from a verified call and their list of sessions (`/staff/remote`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::remote_support::ClientOs;
use hostwerk_store::RemoteStep;
use minijinja::{context, Value};
use serde::Deserialize;

use super::staff::staff_view;
use super::{form_status, user_message, with_status, Done};
use crate::auth::{Ctx, CurrentStaff};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::remote_support::{self, Invitation};
use crate::service::ServiceError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/remote/{token}", get(invitation))
        .route("/remote/{token}/consent", post(consent))
        .route("/staff/customers/{number}/remote-invite", post(invite))
        .route("/staff/remote", get(sessions))
        .route("/staff/remote/{id}/start", post(start))
        .route("/staff/remote/{id}/end", post(end))
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn render_invitation(state: &AppState, ctx: &Ctx, token: &str, inv: &Invitation) -> Result<Response, PageError> {
    let cfg = &state.config.remote_support;
    let option = |os: ClientOs| context! { os => os.as_str(), label => os.label(), url => cfg.download(os) };
    let others: Vec<Value> = ClientOs::ALL.into_iter().filter(|os| Some(*os) != inv.detected).map(option).collect();
    let s = &inv.session;
    let page = state.views.render(
        "remote.html",
        context! {
            token,
            tool => cfg.tool_name,
            detected => inv.detected.map(option),
            others,
            staff => s.staff_name,
            expires => format_berlin_datetime(s.expires_at, ctx.lang),
            consented => s.consented_at.map(|at| format_berlin_datetime(at, ctx.lang)),
            ..ctx.base(state)
        },
    )?;
    let mut response = page.into_response();
    // The link is a secret: no caching, no referrer to the download sites.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

async fn invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let inv = remote_support::invitation(&state, &token, user_agent(&headers)).await?;
    render_invitation(&state, &ctx, &token, &inv)
}

async fn consent(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(token): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let inv = remote_support::consent(&state, &token, user_agent(&headers)).await?;
    render_invitation(&state, &ctx, &token, &inv)
}

async fn invite(
    State(state): State<AppState>,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    remote_support::invite(&state, &me, &number).await?;
    Ok(Redirect::to("/staff/remote?done=invited").into_response())
}

async fn render_sessions(
    state: &AppState,
    ctx: &Ctx,
    me: &hostwerk_store::StaffUser,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let sessions: Vec<Value> = remote_support::staff_sessions(state, me)
        .await?
        .iter()
        .map(|s| {
            context! {
                id => s.id,
                number => s.customer_number.to_string(),
                invited => format_berlin_datetime(s.created_at, ctx.lang),
                expires => format_berlin_datetime(s.expires_at, ctx.lang),
                consented => s.consented_at.map(|at| format_berlin_datetime(at, ctx.lang)),
                os => s.detected_os.map(ClientOs::label),
                started => s.started_at.map(|at| format_berlin_datetime(at, ctx.lang)),
                ended => s.ended_at.map(|at| format_berlin_datetime(at, ctx.lang)),
                note => s.note,
            }
        })
        .collect();
    state.views.render(
        "staff/remote.html",
        minijinja::value::merge_maps([extra, context! { sessions, me => staff_view(me) }, ctx.base(state)]),
    )
}

async fn sessions(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render_sessions(&state, &ctx, &me, context! { done => q.done }).await
}

async fn step(
    state: AppState,
    ctx: Ctx,
    me: hostwerk_store::StaffUser,
    id: i64,
    step: RemoteStep<'_>,
) -> Result<Response, PageError> {
    match remote_support::record(&state, &me, id, step).await {
        Ok(()) => Ok(Redirect::to("/staff/remote?done=recorded").into_response()),
        Err(ServiceError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            Ok(with_status(form_status(&e), render_sessions(&state, &ctx, &me, context! { error }).await?))
        }
    }
}

async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    step(state, ctx, me, id, RemoteStep::Start).await
}

#[derive(Deserialize)]
struct EndForm {
    #[serde(default)]
    note: String,
}

async fn end(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<EndForm>,
) -> Result<Response, PageError> {
    step(state, ctx, me, id, RemoteStep::End { note: form.note.trim() }).await
}
