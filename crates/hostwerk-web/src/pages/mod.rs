//! The HTML pages: public pages, the customer menu (`/menu`) and the staff console (`/staff`).

mod blog;
mod case_views;
mod mail_setup;
pub(crate) mod menu;
mod menu_backups;
mod menu_phone;
mod menu_server;
mod menu_service;
mod public;
mod remote;
mod security;
mod staff;
mod staff_backups;
mod staff_call;
mod staff_cases;
mod staff_domains;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Router;

use crate::service::ServiceError;
use crate::AppState;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .merge(public::routes())
        .merge(menu::routes())
        .merge(menu_phone::routes())
        .merge(staff::routes())
        .merge(staff_call::routes())
        .merge(menu_service::routes())
        .merge(staff_cases::routes())
        .merge(remote::routes())
        .merge(menu_server::routes())
        .merge(mail_setup::routes())
        .merge(blog::routes())
        .merge(menu_backups::routes())
        .merge(staff_backups::routes())
        .merge(staff_domains::routes())
        .merge(security::routes())
}

/// `?done=…` after a redirect: which success notice a page shows.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Done {
    pub done: Option<String>,
}

/// The status a form answered with an error gets.
pub(crate) use crate::error::status_of as form_status;

/// A page re-rendered with an error message for the user.
pub(crate) fn with_status(status: StatusCode, page: Html<String>) -> Response {
    (status, page).into_response()
}

/// A redirect after a successful POST that also sets cookies.
pub(crate) fn redirect_with_cookies(to: &str, cookies: &[String]) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// Whether the error is one the user caused (shown on the form) rather than ours (logged).
pub(crate) fn user_message(e: &ServiceError, lang: hostwerk_domain::Language) -> Option<String> {
    match e {
        ServiceError::Internal(_) => None,
        ServiceError::Console(c) => Some(crate::i18n::Localized::message(c, lang)),
        ServiceError::Backup(b) => Some(crate::i18n::Localized::message(b, lang)),
        other => Some(crate::i18n::t(lang, &other.to_string())),
    }
}

/// What a confirmation page asks before a destructive action is carried out.
#[derive(Debug)]
pub(crate) struct Confirmation<'a> {
    /// Where the confirmed form goes: the same action that asked.
    pub action: &'a str,
    /// The form's fields as sent (the CSRF token is added anew, `confirmed=yes` is added).
    pub fields: &'a [(String, String)],
    pub title: String,
    /// The question, naming what is destroyed.
    pub question: String,
    /// What follows (optional).
    pub detail: Option<String>,
    pub button: String,
    /// Where "Cancel" leads.
    pub cancel: &'a str,
}

/// Whether a destructive form was confirmed on its confirmation page.
pub(crate) fn confirmed(fields: &[(String, String)]) -> bool {
    fields.iter().any(|(k, v)| k == "confirmed" && v == "yes")
}

/// The confirmation page of a destructive action: without JavaScript, the first POST shows what will be
/// destroyed and changes nothing; only the form on this page, sent with `confirmed=yes`, carries it out.
pub(crate) fn confirmation_page(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    c: Confirmation<'_>,
) -> Result<Response, crate::error::PageError> {
    let fields: Vec<(&str, &str)> = c
        .fields
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "confirmed")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let nav = if c.action.starts_with("/menu") { "menu" } else { "" };
    let page = state.views.render(
        "confirm.html",
        minijinja::context! {
            title => c.title, question => c.question, detail => c.detail, button => c.button,
            action => c.action, cancel => c.cancel, fields, nav,
            ..ctx.base(state)
        },
    )?;
    Ok(page.into_response())
}

/// Where a login leads: back to the page that asked for it (`next`, a path below `area`), or the area's
/// start page `area` itself; with a form that was sent after the session ended (`resume_form`), a page that
/// offers to send it now.
pub(crate) fn after_login(
    state: &AppState,
    ctx: &crate::auth::Ctx,
    area: &str,
    next: Option<&str>,
    resume_form: Option<&str>,
    headers: &axum::http::HeaderMap,
    cookies: &[String],
) -> Result<Response, crate::error::PageError> {
    let next = next.and_then(|n| crate::error_pages::local_path(n, area));
    match (next, resume_form.filter(|f| !f.is_empty())) {
        (Some(action), Some(form)) => {
            let fields = crate::error_pages::form_fields(form.as_bytes());
            let resend = crate::error_pages::resend_value(action, &fields);
            // The form is bound to the session this login starts.
            let csrf = crate::csrf::token_after(headers, cookies);
            let page = state
                .views
                .render("resume.html", minijinja::context! { resend, home => area, csrf, ..ctx.base(state) })?;
            let mut r = page.into_response();
            for c in cookies {
                if let Ok(v) = HeaderValue::from_str(c) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        (Some(to), None) => Ok(redirect_with_cookies(to, cookies)),
        (None, _) => Ok(redirect_with_cookies(area, cookies)),
    }
}

/// `?next=…` of a login page.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct LoginQuery {
    pub done: Option<String>,
    pub next: Option<String>,
}
