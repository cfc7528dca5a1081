//! The customer menu's telephone page (`/menu/phone`): change the telephone password, create a temporary
//! PIN (shown once), and see every phone check and every auth code told to a caller.

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::Language;
use hostwerk_store::Customer;
use minijinja::{context, Value};
use serde::Deserialize;

use super::{form_status, user_message, with_status, Done};
use crate::auth::{Ctx, CurrentCustomer};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::phone;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/menu/phone", get(page).post(change)).route("/menu/phone/pin", post(create_pin))
}

async fn activity(state: &AppState, customer: &Customer, lang: Language) -> Result<Value, PageError> {
    let a = phone::phone_activity(state, customer).await?;
    let checks: Vec<_> = a
        .verifications
        .iter()
        .map(|v| context! { at => format_berlin_datetime(v.at, lang), staff => v.staff_name, verified => v.verified, method => v.method })
        .collect();
    let disclosures: Vec<_> = a
        .disclosures
        .iter()
        .map(|d| context! { at => format_berlin_datetime(d.at, lang), staff => d.staff_name, domain => d.domain_name, reason => d.reason })
        .collect();
    let pin_expires = a.pin_expires.map(|at| format_berlin_datetime(at, lang));
    Ok(context! { checks, disclosures, pin_expires })
}

async fn render(state: &AppState, ctx: &Ctx, customer: &Customer, extra: Value) -> Result<Html<String>, PageError> {
    let data = activity(state, customer, ctx.lang).await?;
    state.views.render("menu/phone.html", minijinja::value::merge_maps([extra, data, ctx.base(state)]))
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
struct PhoneForm {
    current: String,
    phone_password: String,
    phone_password_repeat: String,
}

async fn change(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    CsrfForm(form): CsrfForm<PhoneForm>,
) -> Result<Response, PageError> {
    match phone::change_phone_password(
        &state,
        &customer,
        &form.current,
        &form.phone_password,
        &form.phone_password_repeat,
    )
    .await
    {
        Ok(()) => Ok(Redirect::to("/menu/phone?done=phone_password_changed").into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            Ok(with_status(form_status(&e), render(&state, &ctx, &customer, context! { error }).await?))
        }
    }
}

#[derive(serde::Deserialize)]
struct PinForm {
    #[serde(default)]
    current_password: String,
}

async fn create_pin(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    CsrfForm(form): CsrfForm<PinForm>,
) -> Result<Response, PageError> {
    let (pin, expires) = match phone::create_phone_pin(&state, &customer, &form.current_password).await {
        Ok(p) => p,
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            return Ok(with_status(
                form_status(&e),
                render(&state, &ctx, &customer, context! { pin_error => error }).await?,
            ));
        }
    };
    // Shown in this answer only; the page is not cached and a reload shows it no more.
    let extra = context! { new_pin => pin, new_pin_expires => format_berlin_datetime(expires, ctx.lang) };
    let mut response = render(&state, &ctx, &customer, extra).await?.into_response();
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}
