//! The second factor's pages: the login's second step (customers and staff), the security pages
//! (`/menu/security`, `/staff/security`: enrol with a QR code, recovery codes, switch off), and the admin's
//! reset of a staff member's factor. A customer's factor is reset by staff inside a verified call
//! (`staff_call`).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_store::Subject;
use minijinja::{context, Value};
use serde::Deserialize;

use super::staff::staff_view;
use super::{form_status, redirect_with_cookies, user_message, with_status, Done};
use crate::auth::{
    fresh_session, lang_cookie, session_cookie, ClientIp, Ctx, CurrentCustomer, CurrentStaff, CUSTOMER_COOKIE,
    PENDING_COOKIE, STAFF_COOKIE, STAFF_PENDING_COOKIE,
};
use crate::csrf::{cookie_value, CsrfForm};
use crate::error::PageError;
use crate::second_factor::{self, Account, Status, PENDING_LOGIN_SECS};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/second-factor", get(customer_step_page).post(customer_step))
        .route("/staff/login/second-factor", get(staff_step_page).post(staff_step))
        .route("/menu/security", get(menu_page).post(menu_enrol))
        .route("/menu/security/disable", post(menu_disable))
        .route("/menu/security/recovery-codes", post(menu_recovery_codes))
        .route("/staff/security", get(staff_page).post(staff_enrol))
        .route("/staff/security/disable", post(staff_disable))
        .route("/staff/security/recovery-codes", post(staff_recovery_codes))
        .route("/staff/admin/staff/{id}/second-factor/reset", post(admin_reset))
}

/// The two login areas and their cookies.
#[derive(Debug, Clone, Copy)]
enum Area {
    Customer,
    Staff,
}

impl Area {
    fn home(self) -> &'static str {
        match self {
            Area::Customer => "/menu",
            Area::Staff => "/staff",
        }
    }
    fn login(self) -> &'static str {
        match self {
            Area::Customer => "/login",
            Area::Staff => "/staff/login",
        }
    }
    fn step(self) -> &'static str {
        match self {
            Area::Customer => "/login/second-factor",
            Area::Staff => "/staff/login/second-factor",
        }
    }
    fn pending_cookie(self) -> &'static str {
        match self {
            Area::Customer => PENDING_COOKIE,
            Area::Staff => STAFF_PENDING_COOKIE,
        }
    }
    fn session_cookie(self) -> &'static str {
        match self {
            Area::Customer => CUSTOMER_COOKIE,
            Area::Staff => STAFF_COOKIE,
        }
    }
    fn owns(self, subject: Subject) -> bool {
        matches!((self, subject), (Area::Customer, Subject::Customer(_)) | (Area::Staff, Subject::Staff(_)))
    }
}

/// After a right password of an account with a second factor: a pending login (no session yet), and on to
/// the page that asks for the code. `next` and the carried form wait with it.
pub(super) async fn start_pending(
    state: &AppState,
    subject: Subject,
    next: Option<&str>,
    resume_form: Option<&str>,
) -> Result<Response, PageError> {
    let area = if matches!(subject, Subject::Customer(_)) { Area::Customer } else { Area::Staff };
    let next = next.and_then(|n| crate::error_pages::local_path(n, area.home()));
    let resume_form = resume_form.filter(|f| !f.is_empty());
    let raw = state.store.create_pending_login(subject, next, resume_form, PENDING_LOGIN_SECS).await?;
    let cookie = session_cookie(state, area.pending_cookie(), &raw, PENDING_LOGIN_SECS);
    Ok(redirect_with_cookies(area.step(), &[cookie]))
}

fn step_view(state: &AppState, ctx: &Ctx, area: Area, error: Option<String>) -> Result<Response, PageError> {
    let page = state.views.render(
        "login_second_factor.html",
        context! { action => area.step(), restart => area.login(), error, ..ctx.base(state) },
    )?;
    Ok(page.into_response())
}

async fn step_page(state: &AppState, ctx: &Ctx, headers: &HeaderMap, area: Area) -> Result<Response, PageError> {
    let live = match cookie_value(headers, area.pending_cookie()) {
        Some(raw) => state.store.pending_login(&raw).await.is_ok_and(|p| area.owns(p.subject)),
        None => false,
    };
    if !live {
        return Ok(Redirect::to(&format!("{}?done=second_factor_expired", area.login())).into_response());
    }
    step_view(state, ctx, area, None)
}

async fn customer_step_page(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    step_page(&state, &ctx, &headers, Area::Customer).await
}

async fn staff_step_page(State(state): State<AppState>, ctx: Ctx, headers: HeaderMap) -> Result<Response, PageError> {
    step_page(&state, &ctx, &headers, Area::Staff).await
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// The second step: the code completes the pending login (single use), which starts the session.
async fn step(
    state: &AppState,
    ctx: &Ctx,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
    area: Area,
    code: &str,
) -> Result<Response, PageError> {
    let expired = || Redirect::to(&format!("{}?done=second_factor_expired", area.login())).into_response();
    let Some(raw) = cookie_value(headers, area.pending_cookie()) else { return Ok(expired()) };
    let pending = match state.store.pending_login(&raw).await {
        Ok(p) if area.owns(p.subject) => p,
        Ok(_) | Err(hostwerk_store::StoreError::NotFound) => return Ok(expired()),
        Err(e) => return Err(e.into()),
    };
    match second_factor::complete_login(state, pending.subject, code, ip).await {
        Ok(_) => {
            // Single use: a second request with the same pending login finds nothing.
            if !state.store.end_pending_login(&raw).await? {
                return Ok(expired());
            }
            let session = fresh_session(state, headers, area.session_cookie(), pending.subject).await?;
            let mut cookies = vec![session, session_cookie(state, area.pending_cookie(), "", 0)];
            if let Subject::Customer(id) = pending.subject {
                cookies.push(lang_cookie(state, state.store.customer(id).await?.language));
            }
            super::after_login(
                state,
                ctx,
                area.home(),
                pending.next_path.as_deref(),
                pending.resume_form.as_deref(),
                headers,
                &cookies,
            )
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let status = form_status(&e);
            Ok((status, step_view(state, ctx, area, Some(error))?).into_response())
        }
    }
}

async fn customer_step(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    step(&state, &ctx, ip, &headers, Area::Customer, &form.code).await
}

async fn staff_step(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    step(&state, &ctx, ip, &headers, Area::Staff, &form.code).await
}

// ---------------------------------------------------------------- security pages

/// The security page of `account` in `area`, with an error or notice.
async fn render_security(
    state: &AppState,
    ctx: &Ctx,
    account: Account<'_>,
    extra: Value,
) -> Result<axum::response::Html<String>, PageError> {
    let (area, me, forced) = match account {
        Account::Customer(_) => ("menu", Value::UNDEFINED, false),
        Account::Staff(s) => ("staff", staff_view(s), second_factor::must_enrol(state, s)),
    };
    let status = second_factor::status(state, account).await?;
    let factor = match &status {
        Status::Off(e) => context! {
            on => false, secret => e.secret, url => e.url, qr_svg => Value::from_safe_string(e.qr_svg.clone()),
        },
        Status::On { recovery_codes_left } => context! { on => true, recovery_codes_left => *recovery_codes_left },
    };
    let required = matches!(account, Account::Staff(s) if second_factor::required_for(state, s.role));
    state.views.render(
        "security.html",
        minijinja::value::merge_maps([
            extra,
            context! { area, me, forced, required, factor, nav => area, action => format!("/{area}/security") },
            ctx.base(state),
        ]),
    )
}

/// The recovery codes, shown once in the answer that made them (stored hashed, so no later page could).
fn codes_page(state: &AppState, ctx: &Ctx, account: Account<'_>, codes: Vec<String>) -> Result<Response, PageError> {
    let (area, me) = match account {
        Account::Customer(_) => ("menu", Value::UNDEFINED),
        Account::Staff(s) => ("staff", staff_view(s)),
    };
    let mut r = state
        .views
        .render("recovery_codes.html", context! { area, me, codes, nav => area, ..ctx.base(state) })?
        .into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

async fn failed(
    state: &AppState,
    ctx: &Ctx,
    account: Account<'_>,
    e: crate::service::ServiceError,
) -> Result<Response, PageError> {
    let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
    Ok(with_status(form_status(&e), render_security(state, ctx, account, context! { error }).await?))
}

#[derive(Deserialize)]
struct SecurityForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

async fn menu_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(c): CurrentCustomer,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    Ok(render_security(&state, &ctx, Account::Customer(&c), context! { done => q.done }).await?.into_response())
}

async fn menu_enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(c): CurrentCustomer,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<Response, PageError> {
    let account = Account::Customer(&c);
    match second_factor::enrol(&state, account, &form.password, &form.code).await {
        Ok(codes) => codes_page(&state, &ctx, account, codes),
        Err(e) => failed(&state, &ctx, account, e).await,
    }
}

async fn menu_disable(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(c): CurrentCustomer,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<Response, PageError> {
    let account = Account::Customer(&c);
    match second_factor::disable(&state, account, &form.password, &form.code).await {
        Ok(()) => Ok(Redirect::to("/menu/security?done=second_factor_disabled").into_response()),
        Err(e) => failed(&state, &ctx, account, e).await,
    }
}

async fn menu_recovery_codes(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(c): CurrentCustomer,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<Response, PageError> {
    let account = Account::Customer(&c);
    match second_factor::new_recovery_codes(&state, account, &form.password, &form.code).await {
        Ok(codes) => codes_page(&state, &ctx, account, codes),
        Err(e) => failed(&state, &ctx, account, e).await,
    }
}

async fn staff_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    Ok(render_security(&state, &ctx, Account::Staff(&me), context! { done => q.done }).await?.into_response())
}

async fn staff_enrol(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<Response, PageError> {
    let account = Account::Staff(&me);
    match second_factor::enrol(&state, account, &form.password, &form.code).await {
        Ok(codes) => {
            let me = state.store.staff(me.id).await?;
            codes_page(&state, &ctx, Account::Staff(&me), codes)
        }
        Err(e) => failed(&state, &ctx, account, e).await,
    }
}

async fn staff_disable(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<Response, PageError> {
    let account = Account::Staff(&me);
    match second_factor::disable(&state, account, &form.password, &form.code).await {
        Ok(()) => Ok(Redirect::to("/staff/security?done=second_factor_disabled").into_response()),
        Err(e) => failed(&state, &ctx, account, e).await,
    }
}

async fn staff_recovery_codes(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<SecurityForm>,
) -> Result<Response, PageError> {
    let account = Account::Staff(&me);
    match second_factor::new_recovery_codes(&state, account, &form.password, &form.code).await {
        Ok(codes) => codes_page(&state, &ctx, account, codes),
        Err(e) => failed(&state, &ctx, account, e).await,
    }
}

/// An admin removes another staff member's second factor (lost device); audited.
async fn admin_reset(
    State(state): State<AppState>,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    second_factor::reset_for_staff(&state, &me, id).await?;
    Ok(Redirect::to("/staff/admin/staff?done=second_factor_reset").into_response())
}
