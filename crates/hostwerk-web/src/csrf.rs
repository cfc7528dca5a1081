//! CSRF protection for every form: each form carries a token that is bound to the browser's sessions.
//!
//! The form token is SHA-256 over a random per-browser cookie (HttpOnly, SameSite=Strict) and the values of
//! the browser's session cookies. Whoever can plant a cookie (a sibling subdomain, say) still cannot forge a
//! form for a signed-in user: that needs the session's secret value, which is never shown (issue 17). A
//! login, a logout or an expired session changes the token, so a form from before answers "expired" and is
//! offered again. A POST whose field does not match, or that a browser marks as cross-site, is refused.

use axum::extract::{FromRequest, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::error::PageError;
use crate::AppState;

pub(crate) const COOKIE_NAME: &str = "hw_csrf";

/// The current browser's CSRF token, for embedding in forms.
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken(pub String);

pub(crate) fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Middleware: makes sure every browser has a CSRF cookie and every handler can read it.
pub(crate) async fn ensure_cookie(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing =
        cookie_value(req.headers(), COOKIE_NAME).filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => (hostwerk_store::token::new_token().raw, true),
    };
    let form = form_token(req.headers(), &token);
    req.extensions_mut().insert(CsrfToken(form));
    let mut response = next.run(req).await;
    if fresh {
        let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
        let cookie = format!("{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, v);
        }
    }
    response
}

/// The form token for a browser with the CSRF cookie `browser`: bound to every session it holds.
fn form_token(headers: &axum::http::HeaderMap, browser: &str) -> String {
    token_of(browser, |name| cookie_value(headers, name))
}

/// The token from the browser cookie and the session cookies that `cookie(name)` gives.
fn token_of(browser: &str, cookie: impl Fn(&str) -> Option<String>) -> String {
    let customer = cookie(crate::auth::CUSTOMER_COOKIE).unwrap_or_default();
    let staff = cookie(crate::auth::STAFF_COOKIE).unwrap_or_default();
    // A login waiting for its second factor counts as a session here too.
    let pending = cookie(crate::auth::PENDING_COOKIE).unwrap_or_default();
    let staff_pending = cookie(crate::auth::STAFF_PENDING_COOKIE).unwrap_or_default();
    hostwerk_store::token::hash_token(&format!(
        "hostwerk form token\0{browser}\0{customer}\0{staff}\0{pending}\0{staff_pending}"
    ))
}

/// The form token this browser will have once the `Set-Cookie` values `set_cookies` (a login's new session)
/// are stored: for a page that a login answers with a form on it.
pub(crate) fn token_after(headers: &axum::http::HeaderMap, set_cookies: &[String]) -> String {
    let cookie = |name: &str| {
        let set = set_cookies.iter().find_map(|c| {
            let (n, v) = c.split(';').next()?.trim().split_once('=')?;
            (n == name).then(|| v.to_owned())
        });
        set.or_else(|| cookie_value(headers, name))
    };
    token_of(&cookie(COOKIE_NAME).unwrap_or_default(), cookie)
}

#[derive(Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf: String,
}

/// A form body of type `T` whose `csrf` field matched the browser's token.
#[derive(Debug)]
pub(crate) struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let cross_site = req.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
        let expected = req.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::BadRequest("the form could not be read".into()))?;
        let given: TokenField = serde_urlencoded::from_bytes(&bytes).map_err(|_| PageError::Csrf)?;
        let matches = !expected.is_empty() && bool::from(given.csrf.as_bytes().ct_eq(expected.as_bytes()));
        if cross_site || !matches {
            return Err(PageError::Csrf);
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|e| PageError::BadRequest(format!("the form is incomplete: {e}")))
    }
}
