//! Public pages: home, login, order, password reminder and reset, language switch, stylesheet.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use hostwerk_store::Subject;
use minijinja::context;
use serde::Deserialize;

use super::{form_status, redirect_with_cookies, user_message, with_status};
use crate::auth::{end_browser_session, fresh_session, lang_cookie, ClientIp, Ctx, CurrentCustomer, CUSTOMER_COOKIE};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::service::{self, OrderInput};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/static/app.css", get(stylesheet))
        .route("/lang/{code}", get(switch_language))
        .route("/login", get(login_page).post(login))
        .route("/logout", axum::routing::post(logout))
        .route("/order", get(order_page).post(order))
        .route("/order/sent", get(order_sent))
        .route("/order/confirm", get(order_confirm_page).post(order_confirm))
        .route("/order/done", get(order_done))
        .route("/email-confirm", get(email_confirm_page).post(email_confirm))
        .route("/password-reminder", get(reminder_page).post(reminder))
        .route("/password-reset", get(reset_page).post(reset))
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

async fn home(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    let tariffs = state.store.tariffs().await?;
    let tariffs: Vec<_> = tariffs
        .iter()
        .filter(|t| t.orderable)
        .map(|t| context! { id => t.id.as_str(), name => t.name, price => t.monthly_price.format(ctx.lang), family => t.family.as_str() })
        .collect();
    state.views.render("home.html", context! { tariffs, ..ctx.base(&state) })
}

#[derive(Deserialize)]
struct Back {
    back: Option<String>,
}

async fn switch_language(State(state): State<AppState>, Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let lang = hostwerk_domain::Language::parse(&code).unwrap_or_default();
    // Only paths on this site, never another host.
    let back = q.back.filter(|b| crate::error_pages::same_site_path(b).is_some()).unwrap_or_else(|| "/".into());
    redirect_with_cookies(&back, &[lang_cookie(&state, lang)])
}

async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<super::LoginQuery>,
) -> Result<Html<String>, PageError> {
    let next = q.next.as_deref().and_then(|n| crate::error_pages::local_path(n, "/menu"));
    state.views.render("login.html", context! { done => q.done, next, ..ctx.base(&state) })
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    /// The page to return to after the login.
    #[serde(default)]
    next: Option<String>,
    /// A form sent after the session had ended, to offer for sending after the login.
    #[serde(default)]
    resume_form: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    match service::customer_login(&state, &form.login, &form.password, ip).await {
        Ok(service::LoginStep::SecondFactor(customer)) => {
            super::security::start_pending(
                &state,
                Subject::Customer(customer.id),
                form.next.as_deref(),
                form.resume_form.as_deref(),
            )
            .await
        }
        Ok(service::LoginStep::Done(customer)) => {
            let session = fresh_session(&state, &headers, CUSTOMER_COOKIE, Subject::Customer(customer.id)).await?;
            let cookies = [session, lang_cookie(&state, customer.language)];
            super::after_login(
                &state,
                &ctx,
                "/menu",
                form.next.as_deref(),
                form.resume_form.as_deref(),
                &headers,
                &cookies,
            )
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let next = form.next.as_deref().and_then(|n| crate::error_pages::local_path(n, "/menu"));
            let page = state.views.render(
                "login.html",
                context! { error, login => form.login, next, resume_form => form.resume_form, ..ctx.base(&state) },
            )?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let cleared = end_browser_session(&state, &headers, CUSTOMER_COOKIE).await?;
    Ok(redirect_with_cookies("/login?done=logged_out", &[cleared]))
}

#[derive(Deserialize)]
struct OrderQuery {
    tariff: Option<String>,
}

async fn order_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<OrderQuery>,
) -> Result<Html<String>, PageError> {
    render_order(&state, &ctx, None, q.tariff.as_deref().unwrap_or(""), None).await
}

async fn render_order(
    state: &AppState,
    ctx: &Ctx,
    error: Option<String>,
    selected: &str,
    form: Option<&OrderInput>,
) -> Result<Html<String>, PageError> {
    let tariffs = state.store.tariffs().await?;
    let tariffs: Vec<_> = tariffs
        .iter()
        .filter(|t| t.orderable)
        .map(|t| {
            context! {
                id => t.id.as_str(), name => t.name, price => t.monthly_price.format(ctx.lang),
                periods => t.billing_periods.iter().map(|p| p.months()).collect::<Vec<_>>(),
                minimum_term_months => t.minimum_term_months, notice_period_days => t.notice_period_days,
                selected => t.id.as_str() == selected,
            }
        })
        .collect();
    let values = form.map(|f| {
        context! { name => f.name, email => f.email, street => f.street, postal_code => f.postal_code, city => f.city, country => f.country, billing_months => f.billing_months }
    });
    state.views.render("order.html", context! { tariffs, error, values, ..ctx.base(state) })
}

async fn order(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    CsrfForm(mut form): CsrfForm<OrderInput>,
) -> Result<Response, PageError> {
    if form.language.is_none() {
        form.language = Some(ctx.lang.code().to_owned());
    }
    match service::place_order(&state, &form, ip).await {
        // The same page whether or not the address has an account: the mail says which.
        Ok(()) => Ok(Redirect::to("/order/sent").into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = render_order(&state, &ctx, Some(error), &form.tariff, Some(&form)).await?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

async fn order_sent(State(state): State<AppState>, ctx: Ctx) -> Result<Html<String>, PageError> {
    state.views.render("order_sent.html", context! { ..ctx.base(&state) })
}

/// The link from the order's mail: what will be ordered, and the button that places it (a GET alone places
/// nothing: mail scanners open links too).
async fn order_confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let order = service::order_summary(&state, &q.token).await?;
    let page = state.views.render(
        "order_confirm.html",
        context! { token => q.token, name => order.name, email => order.email, tariff => order.tariff, ..ctx.base(&state) },
    )?;
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    token: String,
}

async fn order_confirm(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, PageError> {
    let customer = service::confirm_order(&state, &form.token).await?;
    // The new customer is signed in, and the confirmation is a page of its own: reloading it shows it again
    // instead of placing the order a second time.
    let session = fresh_session(&state, &headers, CUSTOMER_COOKIE, Subject::Customer(customer.id)).await?;
    Ok(redirect_with_cookies("/order/done", &[session, lang_cookie(&state, customer.language)]))
}

/// The link mailed to a new address: a button that makes the change (a GET alone changes nothing).
async fn email_confirm_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let valid = service::email_change_valid(&state, &q.token).await;
    let page = state.views.render("email_confirm.html", context! { token => q.token, valid, ..ctx.base(&state) })?;
    Ok(if valid { page.into_response() } else { with_status(StatusCode::GONE, page) })
}

async fn email_confirm(
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, PageError> {
    service::confirm_email_change(&state, &form.token).await?;
    Ok(Redirect::to("/menu/profile?done=email_changed").into_response())
}

async fn order_done(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
) -> Result<Html<String>, PageError> {
    state.views.render(
        "order_done.html",
        context! { number => customer.number.to_string(), email => customer.email.as_str(), name => customer.name, ..ctx.base(&state) },
    )
}

async fn reminder_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<super::Done>,
) -> Result<Html<String>, PageError> {
    let sent = q.done.as_deref() == Some("reminder_sent");
    state.views.render("reminder.html", context! { sent, ..ctx.base(&state) })
}

#[derive(Deserialize)]
struct ReminderForm {
    #[serde(default)]
    login: String,
}

async fn reminder(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    CsrfForm(form): CsrfForm<ReminderForm>,
) -> Result<Response, PageError> {
    match service::request_password_reminder(&state, &form.login, ip).await {
        Ok(()) => Ok(Redirect::to("/password-reminder?done=reminder_sent").into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page =
                state.views.render("reminder.html", context! { error, login => form.login, ..ctx.base(&state) })?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

async fn reset_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, PageError> {
    let valid = service::reset_token_valid(&state, &q.token).await;
    let page = state.views.render("reset.html", context! { token => q.token, valid, ..ctx.base(&state) })?;
    Ok(if valid { page.into_response() } else { with_status(StatusCode::GONE, page) })
}

#[derive(Deserialize)]
struct ResetForm {
    token: String,
    password: String,
    password_repeat: String,
}

async fn reset(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ResetForm>,
) -> Result<Response, PageError> {
    match service::reset_password(&state, &form.token, &form.password, &form.password_repeat).await {
        Ok(_) => Ok(Redirect::to("/login?done=password_reset").into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = state
                .views
                .render("reset.html", context! { token => form.token, valid => true, error, ..ctx.base(&state) })?;
            Ok(with_status(form_status(&e), page))
        }
    }
}
