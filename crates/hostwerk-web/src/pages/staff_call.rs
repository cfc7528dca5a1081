//! The staff console's phone calls: verify a caller, then, within the call context, see the account and act
//! for the customer (tariff change, domain order, auth-code disclosure). Every route here refuses customer
//! data without a live call context of the signed-in staff member, whatever the role.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::{format_berlin_datetime, format_date};
use hostwerk_store::StaffUser;
use minijinja::{context, Value};
use serde::Deserialize;

use super::staff::staff_view;
use super::{form_status, user_message, with_status};
use crate::auth::{Ctx, CurrentStaff};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::pages::menu::contract_view;
use crate::phone::{self, CheckOutcome};
use crate::service::ServiceError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/customers/{number}", get(call_page))
        .route("/staff/customers/{number}/verify", post(verify))
        .route("/staff/customers/{number}/close", post(close))
        .route("/staff/customers/{number}/tariff-change", post(tariff_change))
        .route("/staff/customers/{number}/domain-orders", post(domain_order))
        .route("/staff/customers/{number}/domains/{id}/auth-code", post(auth_code))
        .route("/staff/customers/{number}/second-factor/reset", post(second_factor_reset))
}

async fn render_call(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    number: &str,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let view = phone::call_view(state, me, number).await?;
    let lang = ctx.lang;
    let c = &view.customer;
    let catalog: Vec<_> = state.store.tariffs().await?.into_iter().filter(|t| t.orderable).collect();
    // Per contract, the tariffs it can change to, each with the monthly price difference support tells the caller.
    let contracts: Vec<_> = view
        .overview
        .contracts
        .iter()
        .map(|k| {
            let options: Vec<_> = catalog
                .iter()
                .filter(|t| t.id != k.tariff_id && t.offers(k.billing_period))
                .map(|t| {
                    let difference = t.monthly_price.checked_sub(k.monthly_price).unwrap_or_default();
                    let sign = if difference.get() > 0 { "+" } else { "" };
                    context! { id => t.id.as_str(), name => t.name, price => t.monthly_price.format(lang), difference => format!("{sign}{}", difference.format(lang)) }
                })
                .collect();
            minijinja::value::merge_maps([context! { options }, contract_view(k, lang)])
        })
        .collect();
    let domains: Vec<_> = view
        .overview
        .domains
        .iter()
        .map(|d| context! { id => d.id, name => d.name.as_str(), contract_id => d.contract_id })
        .collect();
    let mailboxes: Vec<_> = view.overview.mailboxes.iter().map(|m| m.address.as_str().to_owned()).collect();
    let changes: Vec<_> = view
        .tariff_changes
        .iter()
        .map(|ch| {
            let now = view.overview.contracts.iter().find(|k| k.id == ch.contract_id).map(|k| k.monthly_price);
            let difference = now.and_then(|p| ch.new_monthly_price.checked_sub(p)).map(|d| d.format(lang));
            context! { contract_id => ch.contract_id, from => ch.from_tariff, to => ch.to_tariff, effective => format_date(ch.effective, lang), price => ch.new_monthly_price.format(lang), difference }
        })
        .collect();
    let orders: Vec<_> = view
        .domain_orders
        .iter()
        .map(|o| context! { name => o.name, contract_id => o.contract_id, status => o.status })
        .collect();
    let customer = context! {
        number => c.number.to_string(), name => c.name, email => c.email.as_str(),
        street => c.address.street, postal_code => c.address.postal_code, city => c.address.city, country => c.address.country,
    };
    let second_factor = crate::second_factor::enrolled(state, hostwerk_store::Subject::Customer(c.id))
        .await
        .map_err(PageError::from)?;
    let call = context! {
        verification_id => view.call.verification_id,
        expires => format_berlin_datetime(view.call.expires_at, lang),
    };
    state.views.render(
        "staff/call.html",
        minijinja::value::merge_maps([
            extra,
            context! { customer, call, contracts, domains, mailboxes, changes, orders, second_factor, me => staff_view(me) },
            ctx.base(state),
        ]),
    )
}

#[derive(Deserialize)]
struct CallQuery {
    done: Option<String>,
    /// The auth-code disclosure just made, whose code the page shows once more.
    disclosure: Option<i64>,
}

async fn call_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    Query(q): Query<CallQuery>,
) -> Result<Response, PageError> {
    let Some(disclosure) = q.disclosure else {
        return Ok(render_call(&state, &ctx, &me, &number, context! { done => q.done }).await?.into_response());
    };
    let disclosed = match phone::disclosed_auth_code(&state, &me, &number, disclosure).await {
        Ok((domain, code)) => Some(context! { domain, code }),
        // Too old, another call or another staff member's: the page says so instead of showing a code.
        Err(ServiceError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let expired = disclosed.is_none();
    let mut response = render_call(&state, &ctx, &me, &number, context! { disclosed, disclosure_expired => expired })
        .await?
        .into_response();
    // A page with an auth code is kept by no cache, the browser's included.
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize)]
struct VerifyForm {
    password: String,
}

async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<VerifyForm>,
) -> Result<Response, PageError> {
    let outcome = phone::verify_caller(&state, &me, &number, &form.password).await;
    let (status, error) = match outcome {
        Ok(CheckOutcome::Verified(_)) => {
            return Ok(Redirect::to(&format!("/staff/customers/{number}?done=caller_verified")).into_response())
        }
        Ok(CheckOutcome::NotVerified) => (axum::http::StatusCode::OK, crate::i18n::t(ctx.lang, "staff.not_verified")),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            (form_status(&e), error)
        }
    };
    let summary = match crate::service::find_customer(&state, &me, &number).await {
        Ok(found) => context! { number => found.number, name => found.name },
        Err(ServiceError::NotFound) => context! { number => number },
        Err(e) => return Err(e.into()),
    };
    let page = state.views.render(
        "staff/customer.html",
        context! { found => summary, error, me => staff_view(&me), ..ctx.base(&state) },
    )?;
    Ok(with_status(status, page))
}

async fn close(
    State(state): State<AppState>,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    phone::end_call(&state, &me, &number).await?;
    Ok(Redirect::to(&format!("/staff?number={number}")).into_response())
}

/// A failed action within a call: the call page again with the message, or the error page when the call
/// itself is gone.
async fn action_failed(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    number: &str,
    e: ServiceError,
) -> Result<Response, PageError> {
    if matches!(e, ServiceError::NoCall | ServiceError::NotFound | ServiceError::Forbidden) {
        return Err(e.into());
    }
    let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
    Ok(with_status(form_status(&e), render_call(state, ctx, me, number, context! { error }).await?))
}

#[derive(Deserialize)]
struct TariffChangeForm {
    contract_id: i64,
    tariff: String,
}

async fn tariff_change(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<TariffChangeForm>,
) -> Result<Response, PageError> {
    match phone::schedule_tariff_change(&state, &me, &number, form.contract_id, &form.tariff).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/customers/{number}?done=tariff_change_scheduled")).into_response()),
        Err(e) => action_failed(&state, &ctx, &me, &number, e).await,
    }
}

#[derive(Deserialize)]
struct DomainOrderForm {
    contract_id: i64,
    domain: String,
}

async fn domain_order(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    CsrfForm(form): CsrfForm<DomainOrderForm>,
) -> Result<Response, PageError> {
    match phone::order_domain(&state, &me, &number, form.contract_id, &form.domain).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/customers/{number}?done=domain_ordered")).into_response()),
        Err(e) => action_failed(&state, &ctx, &me, &number, e).await,
    }
}

#[derive(Deserialize)]
struct AuthCodeForm {
    reason: String,
}

async fn auth_code(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path((number, id)): Path<(String, i64)>,
    CsrfForm(form): CsrfForm<AuthCodeForm>,
) -> Result<Response, PageError> {
    match phone::disclose_auth_code(&state, &me, &number, id, &form.reason).await {
        // post/redirect/get: a reload of the page shows the code again, but discloses and mails nothing
        Ok(disclosed) => {
            Ok(Redirect::to(&format!("/staff/customers/{number}?disclosure={}", disclosed.id)).into_response())
        }
        Err(e) => action_failed(&state, &ctx, &me, &number, e).await,
    }
}

/// Removes the customer's second factor inside the verified call (the caller lost the device and the recovery
/// codes); audited with the verification, the customer is mailed.
async fn second_factor_reset(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    match crate::second_factor::reset_for_customer(&state, &me, &number).await {
        Ok(()) => Ok(Redirect::to(&format!("/staff/customers/{number}?done=second_factor_reset")).into_response()),
        Err(e) => action_failed(&state, &ctx, &me, &number, e).await,
    }
}
