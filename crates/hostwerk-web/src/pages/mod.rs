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
mod staff;
mod staff_backups;
mod staff_call;
mod staff_cases;

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
        ServiceError::Console(c) => Some(c.message(lang)),
        other => Some(crate::i18n::t(lang, &other.to_string())),
    }
}
