//! The staff console's customer-service pages (`/staff/cases`): the queues a role may see with response-time
//! figures, a case with its whole timeline, replies, internal notes, status, assignment, and — for management
//! on management cases — proposals. Requests to management never appear here for other roles.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::service_case::format_duration;
use hostwerk_domain::{StaffLogin, StaffRole};
use hostwerk_store::StaffUser;
use minijinja::{context, Value};
use serde::Deserialize;

use super::case_views::{contract_choice, detail_view, statuses, summary_view};
use super::staff::staff_view;
use super::{form_status, user_message, with_status, Done};
use crate::auth::{Ctx, CurrentStaff};
use crate::casework::{self, ProposalInput};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::service::ServiceError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/cases", get(queue))
        .route("/staff/cases/{id}", get(show))
        .route("/staff/cases/{id}/reply", post(reply))
        .route("/staff/cases/{id}/note", post(note))
        .route("/staff/cases/{id}/status", post(status))
        .route("/staff/cases/{id}/assign", post(assign))
        .route("/staff/cases/{id}/proposals", post(propose))
        .route("/staff/proposals/{id}/withdraw", post(withdraw))
}

#[derive(Deserialize)]
struct QueueQuery {
    status: Option<String>,
    q: Option<String>,
}

async fn queue(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    let base =
        context! { me => staff_view(&me), statuses => statuses(), status => q.status, q => q.q, ..ctx.base(&state) };
    let figures: Vec<Value> = casework::figures(&state, &me)
        .await?
        .iter()
        .map(|f| {
            context! {
                channel => f.channel.as_str(),
                answered => f.times.answered,
                unanswered => f.unanswered,
                median => f.times.median_secs.map(format_duration),
                p90 => f.times.p90_secs.map(format_duration),
                max => f.times.max_secs.map(format_duration),
            }
        })
        .collect();
    match casework::queue(&state, &me, q.status.as_deref(), q.q.as_deref()).await {
        Ok(cases) => {
            let cases: Vec<Value> = cases.iter().map(|c| summary_view(c, ctx.lang)).collect();
            Ok(state.views.render("staff/cases.html", context! { cases, figures, ..base })?.into_response())
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = state
                .views
                .render("staff/cases.html", context! { error, figures, cases => Vec::<Value>::new(), ..base })?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

async fn render_case(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    id: i64,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let detail = casework::staff_case(state, me, id).await?;
    let proposing = me.role == StaffRole::Management && detail.case.channel.as_str() == "management";
    // Contracts are shown only where management makes proposals on a management case.
    let contracts = if proposing { state.store.contracts(detail.case.customer_id).await? } else { Vec::new() };
    let tariffs: Vec<Value> = if proposing {
        state
            .store
            .tariffs()
            .await?
            .iter()
            .map(|t| context! { id => t.id.as_str(), name => t.name, price => t.monthly_price.format(ctx.lang) })
            .collect()
    } else {
        Vec::new()
    };
    let assignable: Vec<Value> = casework::assignable(state, detail.case.channel)
        .await?
        .iter()
        .map(|u| context! { login => u.login.as_str(), name => u.display_name })
        .collect();
    let contract_choices: Vec<Value> = contracts.iter().map(|c| contract_choice(c, ctx.lang)).collect();
    let today = hostwerk_domain::calendar::berlin_date(chrono::Utc::now()).format("%Y-%m-%d").to_string();
    state.views.render(
        "staff/case.html",
        minijinja::value::merge_maps([
            extra,
            detail_view(&detail, &contracts, ctx.lang),
            context! { me => staff_view(me), proposing, contracts => contract_choices, tariffs, assignable, statuses => statuses(), today },
            ctx.base(state),
        ]),
    )
}

async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render_case(&state, &ctx, &me, id, context! { done => q.done }).await
}

async fn after(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    id: i64,
    result: Result<(), ServiceError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/staff/cases/{id}?done={done}")).into_response()),
        Err(ServiceError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            Ok(with_status(form_status(&e), render_case(state, ctx, me, id, context! { error }).await?))
        }
    }
}

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    status: String,
}

async fn reply(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<Response, PageError> {
    let result = casework::staff_reply(&state, &me, id, &form.text, Some(&form.status)).await;
    after(&state, &ctx, &me, id, result, "reply_sent").await
}

async fn note(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<Response, PageError> {
    let result = casework::internal_note(&state, &me, id, &form.text).await;
    after(&state, &ctx, &me, id, result, "note_added").await
}

async fn status(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<Response, PageError> {
    let result = casework::set_status(&state, &me, id, &form.status).await;
    after(&state, &ctx, &me, id, result, "status_set").await
}

#[derive(Deserialize)]
struct AssignForm {
    #[serde(default)]
    login: String,
}

async fn assign(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, PageError> {
    let result = match StaffLogin::parse(&form.login) {
        Ok(login) => casework::assign(&state, &me, id, login).await,
        Err(e) => Err(ServiceError::Invalid(e.to_string())),
    };
    after(&state, &ctx, &me, id, result, "assigned").await
}

async fn propose(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ProposalInput>,
) -> Result<Response, PageError> {
    let result = casework::propose(&state, &me, id, &form).await.map(|_| ());
    after(&state, &ctx, &me, id, result, "proposed").await
}

async fn withdraw(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    match casework::withdraw(&state, &me, id).await {
        Ok(case_id) => Ok(Redirect::to(&format!("/staff/cases/{case_id}?done=withdrawn")).into_response()),
        Err(ServiceError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let channels = casework::channels(&me);
            let case_id = state.store.proposal(hostwerk_store::CaseScope::Staff(&channels), id).await?.case_id;
            after(&state, &ctx, &me, case_id, Err(e), "withdrawn").await
        }
    }
}
