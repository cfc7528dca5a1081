//! The customer menu's "Kundenservice" (`/menu/service`): requests to customer service or management, the
//! conversation, answers to management's proposals, and the remote-support sessions.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_store::Customer;
use minijinja::{context, Value};
use serde::Deserialize;

use super::case_views::{categories, detail_view, summary_view};
use super::{form_status, user_message, with_status, Done};
use crate::auth::{Ctx, CurrentCustomer};
use crate::casework::{self, CustomerDecision};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::service::ServiceError;
use crate::{remote_support, AppState};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/menu/service", get(list).post(open))
        .route("/menu/service/{id}", get(show))
        .route("/menu/service/{id}/reply", post(reply))
        .route("/menu/service/proposals/{id}/accept", post(accept))
        .route("/menu/service/proposals/{id}/decline", post(decline))
}

async fn render_list(
    state: &AppState,
    ctx: &Ctx,
    customer: &Customer,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let cases: Vec<Value> =
        casework::customer_cases(state, customer).await?.iter().map(|c| summary_view(c, ctx.lang)).collect();
    let sessions: Vec<Value> = remote_support::customer_sessions(state, customer)
        .await?
        .iter()
        .map(|s| {
            context! {
                id => s.id,
                staff => s.staff_name,
                invited => format_berlin_datetime(s.created_at, ctx.lang),
                consented => s.consented_at.map(|at| format_berlin_datetime(at, ctx.lang)),
                started => s.started_at.map(|at| format_berlin_datetime(at, ctx.lang)),
                ended => s.ended_at.map(|at| format_berlin_datetime(at, ctx.lang)),
                note => s.note,
            }
        })
        .collect();
    state.views.render(
        "menu/service.html",
        minijinja::value::merge_maps([
            extra,
            context! { cases, sessions, categories => categories() },
            ctx.base(state),
        ]),
    )
}

async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render_list(&state, &ctx, &customer, context! { done => q.done }).await
}

#[derive(Deserialize)]
struct NewCase {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
}

async fn open(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    CsrfForm(form): CsrfForm<NewCase>,
) -> Result<Response, PageError> {
    match casework::open_case(&state, &customer, &form.channel, &form.category, &form.subject, &form.text).await {
        Ok(id) => Ok(Redirect::to(&format!("/menu/service/{id}?done=case_opened")).into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let form = context! { channel => form.channel, category => form.category, subject => form.subject, text => form.text };
            Ok(with_status(form_status(&e), render_list(&state, &ctx, &customer, context! { error, form }).await?))
        }
    }
}

async fn render_case(
    state: &AppState,
    ctx: &Ctx,
    customer: &Customer,
    id: i64,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let detail = casework::customer_case(state, customer, id).await?;
    let contracts = if detail.proposals.iter().any(|p| p.contract_id.is_some()) {
        state.store.contracts(customer.id).await?
    } else {
        Vec::new()
    };
    state.views.render(
        "menu/case.html",
        minijinja::value::merge_maps([extra, detail_view(&detail, &contracts, ctx.lang), ctx.base(state)]),
    )
}

async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render_case(&state, &ctx, &customer, id, context! { done => q.done }).await
}

#[derive(Deserialize)]
struct TextForm {
    #[serde(default)]
    text: String,
}

/// Re-renders the case with the error, or fails for errors that are not the user's.
async fn case_error(
    state: &AppState,
    ctx: &Ctx,
    customer: &Customer,
    case_id: i64,
    e: ServiceError,
) -> Result<Response, PageError> {
    if matches!(e, ServiceError::NotFound) {
        return Err(PageError::NotFound);
    }
    let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
    Ok(with_status(form_status(&e), render_case(state, ctx, customer, case_id, context! { error }).await?))
}

async fn reply(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<TextForm>,
) -> Result<Response, PageError> {
    match casework::customer_reply(&state, &customer, id, &form.text).await {
        Ok(()) => Ok(Redirect::to(&format!("/menu/service/{id}?done=reply_sent")).into_response()),
        Err(e) => case_error(&state, &ctx, &customer, id, e).await,
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    #[serde(default)]
    free_month: Option<String>,
    #[serde(default)]
    comment: String,
}

async fn decide(
    state: AppState,
    ctx: Ctx,
    customer: Customer,
    proposal_id: i64,
    decision: CustomerDecision,
    comment: &str,
) -> Result<Response, PageError> {
    match casework::decide_proposal(&state, &customer, proposal_id, decision, comment).await {
        Ok(case_id) => {
            let done = match decision {
                CustomerDecision::Accept { .. } => "proposal_accepted",
                CustomerDecision::Decline => "proposal_declined",
            };
            Ok(Redirect::to(&format!("/menu/service/{case_id}?done={done}")).into_response())
        }
        Err(ServiceError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            // The proposal exists (the use case found it): its case is the page that shows the reason.
            let scope = hostwerk_store::CaseScope::Customer(customer.id);
            let case_id = state.store.proposal(scope, proposal_id).await?.case_id;
            case_error(&state, &ctx, &customer, case_id, e).await
        }
    }
}

async fn accept(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    let free_month = form.free_month.as_deref().is_some_and(|v| v == "yes" || v == "on");
    decide(state, ctx, customer, id, CustomerDecision::Accept { free_month }, &form.comment).await
}

async fn decline(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    decide(state, ctx, customer, id, CustomerDecision::Decline, &form.comment).await
}
