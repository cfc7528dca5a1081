//! How failures reach the user: a page or a JSON body with the right status; details only in the log.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use hostwerk_store::StoreError;

use crate::service::ServiceError;

/// A failure while answering a page request. Its response carries the failure for
/// [`crate::error_pages`], which renders the page in the reader's language.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum PageError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("no verified call")]
    NoCall,
    #[error("the form has expired")]
    Csrf,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// A link that worked once (used, expired).
    #[error("{0}")]
    Gone(String),
    #[error("{0}")]
    Console(crate::staff_admin::ConsoleError),
    #[error("{0}")]
    Backup(crate::backups::BackupError),
    #[error("internal error: {0}")]
    Internal(String),
}

use crate::i18n::Localized;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, de, en) = match &self {
            PageError::NotFound => {
                (StatusCode::NOT_FOUND, "Diese Seite gibt es nicht.".to_owned(), "This page does not exist.".to_owned())
            }
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Dafür fehlt Ihnen die Berechtigung.".to_owned(),
                "You are not allowed to do this.".to_owned(),
            ),
            PageError::NoCall => (
                StatusCode::FORBIDDEN,
                "Bitte verifizieren Sie zuerst den Anrufer: ohne verifizierten Anruf bleiben Kundendaten geschlossen."
                    .to_owned(),
                "Verify the caller first: without a verified call, customer data stays closed.".to_owned(),
            ),
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal."
                    .to_owned(),
                "The form has expired. Please reload the page and try again.".to_owned(),
            ),
            PageError::BadRequest(m) => {
                (StatusCode::BAD_REQUEST, crate::i18n::t(hostwerk_domain::Language::De, m), m.clone())
            }
            PageError::TooManyRequests(m) => {
                (StatusCode::TOO_MANY_REQUESTS, crate::i18n::t(hostwerk_domain::Language::De, m), m.clone())
            }
            PageError::Gone(m) => (StatusCode::GONE, crate::i18n::t(hostwerk_domain::Language::De, m), m.clone()),
            PageError::Console(c) => {
                let status = if c.is_conflict() { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
                (status, c.message(hostwerk_domain::Language::De), c.message(hostwerk_domain::Language::En))
            }
            PageError::Backup(b) => {
                let status = if b.is_conflict() { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
                (status, b.message(hostwerk_domain::Language::De), b.message(hostwerk_domain::Language::En))
            }
            PageError::Internal(detail) => {
                tracing::error!(%detail, "internal error while answering a page");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Etwas ist schiefgegangen. Bitte versuchen Sie es später noch einmal.".to_owned(),
                    "Something went wrong. Please try again later.".to_owned(),
                )
            }
        };
        let body = format!(
            "<!doctype html><html lang=\"de\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{code}</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main class=\"narrow\">\
             <h1>{code}</h1><p class=\"error\" role=\"alert\">{de}</p><p class=\"error\" lang=\"en\">{en}</p>\
             <p><a href=\"/\">Startseite / Home</a></p></main></body></html>",
            code = status.as_u16(),
            de = escape(&de),
            en = escape(&en)
        );
        let mut response = (status, Html(body)).into_response();
        response.extensions_mut().insert(crate::error_pages::Failed(self));
        response
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PageError::NotFound,
            StoreError::Conflict(m) => PageError::BadRequest(m),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(m) | ServiceError::Conflict(m) => PageError::BadRequest(m),
            ServiceError::BadCredentials | ServiceError::SecondFactorRequired | ServiceError::SecondFactorWrong => {
                PageError::BadRequest(e.to_string())
            }
            ServiceError::SecondFactorMissing => PageError::Forbidden,
            ServiceError::Throttled { .. } => PageError::TooManyRequests(e.to_string()),
            ServiceError::NotFound => PageError::NotFound,
            ServiceError::Gone(m) => PageError::Gone(m),
            ServiceError::Forbidden => PageError::Forbidden,
            ServiceError::NoCall => PageError::NoCall,
            ServiceError::Console(c) => PageError::Console(c),
            ServiceError::Backup(b) => PageError::Backup(b),
            ServiceError::Internal(m) => PageError::Internal(m),
        }
    }
}

/// A failure while answering an API request: `{"error": "…"}` with the status.
#[derive(Debug)]
pub(crate) struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

/// The HTTP status of a use case's failure, for pages and API alike.
pub(crate) fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Conflict(_) => StatusCode::CONFLICT,
        ServiceError::BadCredentials | ServiceError::SecondFactorRequired | ServiceError::SecondFactorWrong => {
            StatusCode::UNAUTHORIZED
        }
        ServiceError::SecondFactorMissing => StatusCode::FORBIDDEN,
        ServiceError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::NotFound => StatusCode::NOT_FOUND,
        ServiceError::Gone(_) => StatusCode::GONE,
        ServiceError::Forbidden | ServiceError::NoCall => StatusCode::FORBIDDEN,
        ServiceError::Console(c) if c.is_conflict() => StatusCode::CONFLICT,
        ServiceError::Console(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Backup(b) if b.is_conflict() => StatusCode::CONFLICT,
        ServiceError::Backup(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        if let ServiceError::Internal(m) = &e {
            tracing::error!(detail = %m, "internal error while answering an API request");
            return ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into());
        }
        ApiError(status_of(&e), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}
