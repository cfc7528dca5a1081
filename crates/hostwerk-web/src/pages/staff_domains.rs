//! The admins' domain orders (`/staff/admin/domain-orders`): the pending requests (from the customer menu and
//! from phone calls) with the registrar step left to do — complete with the registrar's auth code, or reject
//! with a reason the customer is told. Shows the domain, customer number and contract only; no contact data
//! (the documented exception to the call-context rule in ARCHITECTURE.md).

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_store::StaffUser;
use minijinja::{context, Value};
use serde::Deserialize;

use super::staff::staff_view;
use super::{form_status, user_message, with_status, Done};
use crate::auth::{Ctx, CurrentStaff};
use crate::csrf::CsrfForm;
use crate::domains;
use crate::error::PageError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/admin/domain-orders", get(page))
        .route("/staff/admin/domain-orders/{id}/complete", post(complete))
        .route("/staff/admin/domain-orders/{id}/reject", post(reject))
}

async fn render(state: &AppState, ctx: &Ctx, me: &StaffUser, extra: Value) -> Result<Html<String>, PageError> {
    let orders: Vec<Value> = domains::pending_orders(state, me)
        .await?
        .iter()
        .map(|o| {
            context! {
                id => o.id, name => o.name, number => o.customer_number, contract_id => o.contract_id,
                tariff => o.tariff_id, by_customer => o.by_customer, at => format_berlin_datetime(o.created_at, ctx.lang),
            }
        })
        .collect();
    state.views.render(
        "staff/domain_orders.html",
        minijinja::value::merge_maps([extra, context! { orders, me => staff_view(me) }, ctx.base(state)]),
    )
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render(&state, &ctx, &me, context! { done => q.done }).await
}

#[derive(Deserialize)]
struct CompleteForm {
    #[serde(default)]
    auth_code: String,
}

async fn complete(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<CompleteForm>,
) -> Result<Response, PageError> {
    match domains::complete_order(&state, &me, id, &form.auth_code).await {
        Ok(_) => Ok(Redirect::to("/staff/admin/domain-orders?done=domain_order_completed").into_response()),
        Err(e) => failed(&state, &ctx, &me, id, e).await,
    }
}

#[derive(Deserialize)]
struct RejectForm {
    #[serde(default)]
    reason: String,
}

async fn reject(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RejectForm>,
) -> Result<Response, PageError> {
    match domains::reject_order(&state, &me, id, &form.reason).await {
        Ok(_) => Ok(Redirect::to("/staff/admin/domain-orders?done=domain_order_rejected").into_response()),
        Err(e) => failed(&state, &ctx, &me, id, e).await,
    }
}

async fn failed(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    id: i64,
    e: crate::service::ServiceError,
) -> Result<Response, PageError> {
    let Some(error) = user_message(&e, ctx.lang).filter(|_| !matches!(e, crate::service::ServiceError::Forbidden))
    else {
        return Err(e.into());
    };
    let page = render(state, ctx, me, context! { error, error_order => id }).await?;
    Ok(with_status(form_status(&e), page))
}
