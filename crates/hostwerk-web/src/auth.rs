//! Who is asking: extractors for the signed-in customer or staff member (cookie or bearer token),
//! the client's address, and the page context (language, CSRF token).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use hostwerk_domain::Language;
use hostwerk_store::{Customer, StaffUser, Subject};
use minijinja::{context, Value};

use crate::csrf::{cookie_value, CsrfToken};
use crate::error::ApiError;
use crate::AppState;

pub(crate) const CUSTOMER_COOKIE: &str = "hw_session";
pub(crate) const STAFF_COOKIE: &str = "hw_staff";
pub(crate) const LANG_COOKIE: &str = "hw_lang";
/// A customer login waiting for its second factor (minutes long; the session starts only after the code).
pub(crate) const PENDING_COOKIE: &str = "hw_pending";
/// A staff login waiting for its second factor.
pub(crate) const STAFF_PENDING_COOKIE: &str = "hw_staff_pending";

/// A `Set-Cookie` value for a session cookie (HttpOnly, SameSite=Lax, Secure behind TLS).
pub(crate) fn session_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// Starts a fresh session for `subject` and ends the one this browser had under `cookie`, so the session id
/// is new at every login. Returns the `Set-Cookie` value.
pub(crate) async fn fresh_session(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    cookie: &str,
    subject: Subject,
) -> Result<String, hostwerk_store::StoreError> {
    if let Some(old) = cookie_value(headers, cookie) {
        state.store.end_session(&old).await?;
    }
    let ttl = state.config.session_minutes * 60;
    let token = state.store.create_session(subject, ttl).await?;
    Ok(session_cookie(state, cookie, &token, ttl))
}

/// Ends this browser's session under `cookie`; returns the `Set-Cookie` value that clears it.
pub(crate) async fn end_browser_session(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    cookie: &str,
) -> Result<String, hostwerk_store::StoreError> {
    if let Some(token) = cookie_value(headers, cookie) {
        state.store.end_session(&token).await?;
    }
    Ok(session_cookie(state, cookie, "", 0))
}

/// A `Set-Cookie` value remembering the reader's language for a year.
pub(crate) fn lang_cookie(state: &AppState, lang: Language) -> String {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    format!("{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}", lang.code())
}

/// The client's IP address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        Ok(ClientIp(client_ip(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

/// The client behind `peer`: the peer itself, unless it is a trusted proxy; then the last address of
/// `X-Forwarded-For` (all its fields, in order) that is not a trusted proxy. An entry that is not an address
/// ends the walk: the hop that wrote it is taken as the client (a proxy does not write garbage; a client
/// can, and must not pick its own bucket by it).
pub(crate) fn client_ip(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[crate::config::ProxyNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>().or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip())) {
            Ok(ip) => {
                client = ip.to_canonical();
                if !is_trusted(client) {
                    return client;
                }
            }
            Err(_) => return client,
        }
    }
    client
}

/// Language and CSRF token of the current page.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub lang: Language,
    pub csrf: String,
    pub path: String,
}

/// The reader's language: the language cookie, else the browser's Accept-Language.
pub(crate) fn language_of(headers: &axum::http::HeaderMap) -> Language {
    cookie_value(headers, LANG_COOKIE).and_then(|v| Language::parse(&v).ok()).unwrap_or_else(|| {
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        Language::negotiate(accept)
    })
}

/// The answer to a request that needs a login it does not have: [`crate::error_pages`] turns it into a
/// redirect to the login page (coming back afterwards) or, for a form, the login page carrying the form.
fn login_required(who: crate::error_pages::LoginRequired) -> Response {
    let mut r = (StatusCode::UNAUTHORIZED, "login required").into_response();
    r.extensions_mut().insert(who);
    r
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let lang = language_of(&parts.headers);
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        Ok(Ctx { lang, csrf, path: parts.uri.path().to_owned() })
    }
}

impl Ctx {
    /// The variables every template gets.
    pub fn base(&self, state: &AppState) -> Value {
        context! { lang => self.lang.code(), csrf => self.csrf, provider => state.config.provider_name, path => self.path }
    }
}

/// The signed-in customer of this browser; anyone else is sent to the login page.
#[derive(Debug, Clone)]
pub(crate) struct CurrentCustomer(pub Customer);

impl FromRequestParts<AppState> for CurrentCustomer {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || login_required(crate::error_pages::LoginRequired::Customer);
        let token = cookie_value(&parts.headers, CUSTOMER_COOKIE).ok_or_else(to_login)?;
        state.store.customer_by_session(&token).await.map(CurrentCustomer).map_err(|_| to_login())
    }
}

/// The signed-in staff member; anyone else is sent to the staff login.
#[derive(Debug, Clone)]
pub(crate) struct CurrentStaff(pub StaffUser);

impl FromRequestParts<AppState> for CurrentStaff {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || login_required(crate::error_pages::LoginRequired::Staff);
        let token = cookie_value(&parts.headers, STAFF_COOKIE).ok_or_else(to_login)?;
        let session = state.store.session(&token).await.map_err(|_| to_login())?;
        match session.subject {
            Subject::Staff(id) => match state.store.staff(id).await {
                // A role that needs a second factor reaches nothing but its security page until it has one.
                Ok(user) if user.active && crate::second_factor::must_enrol(state, &user) => {
                    if parts.uri.path().starts_with("/staff/security") {
                        Ok(CurrentStaff(user))
                    } else {
                        Err(axum::response::Redirect::to("/staff/security").into_response())
                    }
                }
                Ok(user) if user.active => Ok(CurrentStaff(user)),
                _ => Err(to_login()),
            },
            Subject::Customer(_) => Err(to_login()),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

fn unauthorized() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, "a valid bearer token is required (POST /api/v1/auth/token)".into())
}

/// The customer a bearer token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct ApiCustomer(pub Customer);

impl FromRequestParts<AppState> for ApiCustomer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(unauthorized)?;
        match state.store.customer_by_api_token(token).await {
            Ok(customer) => Ok(ApiCustomer(customer)),
            // Tell a staff token apart from a dead one only on the slow path.
            Err(_) => match state.store.api_token(token).await.map_err(|_| unauthorized())?.subject {
                Subject::Staff(_) => Err(ApiError(StatusCode::FORBIDDEN, "this route is for customers".into())),
                Subject::Customer(_) => Err(unauthorized()),
            },
        }
    }
}

/// The staff member a bearer token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct ApiStaff(pub StaffUser);

impl FromRequestParts<AppState> for ApiStaff {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(unauthorized)?;
        match state.store.api_token(token).await.map_err(|_| unauthorized())?.subject {
            Subject::Staff(id) => match state.store.staff(id).await {
                Ok(u) if u.active && crate::second_factor::must_enrol(state, &u) => {
                    Err(ApiError::from(crate::service::ServiceError::SecondFactorMissing))
                }
                Ok(u) if u.active => Ok(ApiStaff(u)),
                _ => Err(unauthorized()),
            },
            Subject::Customer(_) => Err(ApiError(StatusCode::FORBIDDEN, "this route is for staff".into())),
        }
    }
}

/// The raw bearer token of the request, for revoking it.
#[derive(Debug, Clone)]
pub(crate) struct BearerToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        bearer(parts).map(|t| BearerToken(t.to_owned())).ok_or_else(unauthorized)
    }
}

/// The webserver an agent token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct ApiNode(pub hostwerk_store::Node);

impl FromRequestParts<AppState> for ApiNode {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token =
            bearer(parts).ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "an agent token is required".into()))?;
        let node = state
            .store
            .node_by_token(token)
            .await
            .map_err(|_| ApiError(StatusCode::UNAUTHORIZED, "the agent token is not valid".into()))?;
        // Every authenticated agent request is a sign of life; the staff node list shows it as online status.
        // The store writes at most every 10 s per node.
        state.store.touch_agent(node.id, chrono::Utc::now().timestamp()).await?;
        Ok(ApiNode(node))
    }
}
