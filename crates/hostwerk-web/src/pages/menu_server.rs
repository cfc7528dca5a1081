//! The customer menu's "Serverkonfiguration" (`/menu/server`): per contract the wall-clock process limit, a
//! form to switch it off or choose 180–43200 seconds where the tariff allows it, the history of changes, and
//! the processes the node agent ended.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::ProcessLimit;
use hostwerk_store::Customer;
use minijinja::{context, Value};
use serde::Deserialize;

use super::{form_status, user_message, with_status, Done};
use crate::auth::{Ctx, CurrentCustomer};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::server_config;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/menu/server", get(page)).route("/menu/server/{id}/limit", post(set_limit))
}

fn seconds_of(limit: ProcessLimit) -> Option<u32> {
    match limit {
        ProcessLimit::Off => None,
        ProcessLimit::Seconds(s) => Some(s),
    }
}

async fn render(state: &AppState, ctx: &Ctx, customer: &Customer, extra: Value) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let contracts: Vec<Value> = server_config::contract_limits(state, customer)
        .await?
        .iter()
        .map(|c| {
            context! {
                id => c.contract.id,
                tariff => c.contract.tariff_name,
                system_user => c.contract.system_user.as_str(),
                node => c.contract.node,
                off => c.contract.process_limit == ProcessLimit::Off,
                seconds => seconds_of(c.contract.process_limit),
                default_seconds => seconds_of(c.default),
                adjustable => c.adjustable,
                changes => c.changes.iter().map(|ch| context! {
                    at => format_berlin_datetime(ch.at, lang),
                    old => ch.old_limit.to_string(),
                    new => ch.new_limit.to_string(),
                    by => ch.actor_name,
                }).collect::<Vec<_>>(),
                kills => c.kills.iter().map(|k| context! {
                    at => format_berlin_datetime(k.at, lang),
                    comm => k.comm,
                    pid => k.pid,
                    runtime => k.runtime_seconds,
                    signal => k.signal,
                }).collect::<Vec<_>>(),
            }
        })
        .collect();
    state.views.render(
        "menu/server.html",
        minijinja::value::merge_maps([
            extra,
            context! { contracts, min => ProcessLimit::MIN_SECONDS, max => ProcessLimit::MAX_SECONDS },
            ctx.base(state),
        ]),
    )
}

async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    render(&state, &ctx, &customer, context! { done => q.done }).await
}

#[derive(Deserialize)]
struct LimitForm {
    /// `on` (a limit in seconds) or `off`.
    #[serde(default)]
    mode: String,
    #[serde(default)]
    seconds: String,
}

async fn set_limit(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<LimitForm>,
) -> Result<Response, PageError> {
    let input = if form.mode == "off" { "off" } else { form.seconds.as_str() };
    match server_config::set_limit(&state, &customer, id, input).await {
        Ok(_) => Ok(Redirect::to("/menu/server?done=limit_saved").into_response()),
        Err(crate::service::ServiceError::NotFound) => Err(PageError::NotFound),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = render(
                &state,
                &ctx,
                &customer,
                context! { error, error_contract => id, entered => form.seconds, entered_off => form.mode == "off" },
            )
            .await?;
            Ok(with_status(form_status(&e), page))
        }
    }
}
