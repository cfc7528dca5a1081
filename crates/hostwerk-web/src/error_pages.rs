//! The application's own error pages: every failure a browser sees — an unknown URL, a wrong method, a form
//! that expired, a page that needs a login, bad input the framework refused — is a page of this site, in the
//! reader's language, with a way back. Two failures keep what the user typed:
//!
//! - a form whose CSRF token did not match (an old tab, a restarted browser) answers with the form's fields and
//!   a fresh token, to send again with one click;
//! - a form sent after the session ended answers with the login page, which carries the form along; after the
//!   login the form is offered for sending, and a page that needed a login is shown after it.
//!
//! Both only for requests the browser marks as coming from this site (`Sec-Fetch-Site: same-origin`, or an
//! `Origin` naming this host): another site's forged form never gets a token. JSON answers (`/api/…`) and the
//! machine endpoints are left as they are.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use minijinja::{context, Value};

use crate::auth::{language_of, Ctx};
use crate::csrf::CsrfToken;
use crate::error::PageError;
use crate::i18n::t;
use crate::AppState;

/// Put on the answer of a page that failed: the middleware turns it into the error page.
#[derive(Debug, Clone)]
pub(crate) struct Failed(pub PageError);

/// Put on the answer to a request that needs a signed-in customer or staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginRequired {
    Customer,
    Staff,
}

impl LoginRequired {
    fn login_path(self) -> &'static str {
        match self {
            LoginRequired::Customer => "/login",
            LoginRequired::Staff => "/staff/login",
        }
    }
}

/// The largest form the middleware keeps (the body limit of the whole application).
const FORM_LIMIT: usize = 1024 * 1024;

/// A path on this site, never another host: one leading slash, and neither the path nor its percent-decoded
/// form starts with `//` or `/\`, or holds a backslash, whitespace or control character (browsers strip tabs
/// and newlines and read `\` as `/`, which turns `/<TAB>/evil.example` into `//evil.example`).
pub(crate) fn same_site_path(s: &str) -> Option<&str> {
    fn plain(p: &str) -> bool {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_whitespace() || c.is_control())
    }
    let decoded = percent_decode(s);
    (plain(s) && plain(&decoded)).then_some(s)
}

/// `%XX` decoded twice, so double-encoded forms are seen too (invalid escapes and bytes stay as they are).
fn percent_decode(s: &str) -> String {
    let once = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    once(&once(s))
}

/// A path on this site that a login may lead back to: starts with `prefix` (`/menu`, `/staff`), one leading
/// slash, no backslash, no whitespace or control characters — never another host.
pub(crate) fn local_path<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let ok = s.starts_with(prefix) && same_site_path(s).is_some();
    let rest = &s[prefix.len().min(s.len())..];
    // `/menu` itself, or below it (`/menu/…`, `/menu?…`, `/menu#…`), not `/menuevil`
    let boundary = rest.is_empty() || rest.starts_with(['/', '?', '#']);
    (ok && boundary).then_some(s)
}

/// Whether the browser says the request comes from a page of this site.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site.as_bytes() == b"same-origin";
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => origin.split_once("://").is_some_and(|(_, rest)| rest == host),
        _ => false,
    }
}

/// The fields of a form body, without the CSRF token and an earlier confirmation.
pub(crate) fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "csrf")
        .collect()
}

/// Whether a field's value is a secret the page must not print (it still travels in a hidden field).
fn secret(name: &str) -> bool {
    ["password", "pin", "current", "token", "code"].iter().any(|s| name.contains(s))
}

/// The values the resend form needs: the fields as hidden inputs, the visible ones to show.
pub(crate) fn resend_value(action: &str, fields: &[(String, String)]) -> Value {
    let hidden: Vec<Value> = fields.iter().map(|(k, v)| context! { name => k, value => v }).collect();
    let shown: Vec<Value> = fields
        .iter()
        .filter(|(k, v)| !v.is_empty() && !secret(k) && k != "confirmed")
        .map(|(k, v)| context! { name => k, value => v })
        .collect();
    context! { action, fields => hidden, shown }
}

/// Middleware: see the module documentation.
pub(crate) async fn error_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/api/") || path == "/healthz" {
        return next.run(req).await;
    }
    let target = req.uri().path_and_query().map_or_else(|| path.clone(), |pq| pq.as_str().to_owned());
    let ctx = Ctx {
        lang: language_of(req.headers()),
        csrf: req.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
        path: path.clone(),
    };
    let from_here = same_origin(req.headers());
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let is_form = req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let (req, form): (Request, Option<Bytes>) = if is_form {
        let (parts, body) = req.into_parts();
        match axum::body::to_bytes(body, FORM_LIMIT).await {
            Ok(bytes) => (Request::from_parts(parts, Body::from(bytes.clone())), Some(bytes)),
            Err(_) => return page(&state, &ctx, StatusCode::PAYLOAD_TOO_LARGE, &t(ctx.lang, "error.too_large"), None),
        }
    } else {
        (req, None)
    };
    let response = next.run(req).await;
    let status = response.status();
    if let Some(Failed(e)) = response.extensions().get::<Failed>().cloned() {
        let resend = match (&e, &form) {
            (PageError::Csrf, Some(body)) if from_here => Some(resend_value(&target, &form_fields(body))),
            _ => None,
        };
        return page(&state, &ctx, status, &message(&e, ctx.lang), resend);
    }
    if let Some(who) = response.extensions().get::<LoginRequired>().copied() {
        return login_again(&state, &ctx, who, is_get, form.filter(|_| from_here), &target);
    }
    let framework_answer = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.to_str().is_ok_and(|v| v.starts_with("text/plain")));
    if (status.is_client_error() || status.is_server_error()) && framework_answer {
        let key = match status {
            StatusCode::NOT_FOUND => "error.not_found",
            StatusCode::METHOD_NOT_ALLOWED => "error.method",
            StatusCode::PAYLOAD_TOO_LARGE => "error.too_large",
            s if s.is_server_error() => "error.internal",
            _ => "error.bad_request",
        };
        return page(&state, &ctx, status, &t(ctx.lang, key), None);
    }
    response
}

/// The text of a page failure in the reader's language.
fn message(e: &PageError, lang: hostwerk_domain::Language) -> String {
    match e {
        PageError::NotFound => t(lang, "error.not_found"),
        PageError::Forbidden => t(lang, "error.forbidden"),
        PageError::NoCall => t(lang, "error.no_call"),
        PageError::Csrf => t(lang, "error.csrf"),
        PageError::BadRequest(m) | PageError::TooManyRequests(m) | PageError::Gone(m) => t(lang, m),
        PageError::Internal(_) => t(lang, "error.internal"),
        PageError::Console(c) => crate::i18n::Localized::message(c, lang),
        PageError::Backup(b) => crate::i18n::Localized::message(b, lang),
    }
}

/// Renders the error page; if even that fails, a plain page in the reader's language.
fn page(state: &AppState, ctx: &Ctx, status: StatusCode, message: &str, resend: Option<Value>) -> Response {
    let lang = ctx.lang;
    let (back, back_label) = if ctx.path.starts_with("/staff") {
        ("/staff", t(lang, "error.back_staff"))
    } else if ctx.path.starts_with("/menu") {
        ("/menu", t(lang, "error.back_menu"))
    } else {
        ("/", t(lang, "error.back_home"))
    };
    let heading = match status {
        StatusCode::NOT_FOUND => t(lang, "error.heading_not_found"),
        StatusCode::FORBIDDEN if resend.is_some() => t(lang, "error.heading_expired"),
        StatusCode::FORBIDDEN => t(lang, "error.heading_forbidden"),
        StatusCode::TOO_MANY_REQUESTS => t(lang, "error.heading_slow_down"),
        s if s.is_server_error() => t(lang, "error.heading_internal"),
        _ => t(lang, "error.heading_bad_request"),
    };
    let rendered = state.views.render(
        "error.html",
        context! { heading, message, back, back_label, resend, code => status.as_u16(), ..ctx.base(state) },
    );
    let mut response = match rendered {
        Ok(html) => (status, html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            (status, format!("{} {message}", status.as_u16())).into_response()
        }
    };
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// A page that needs a login: a GET goes to the login page and comes back after it; a form sent after the
/// session ended is carried by the login page and offered for sending after the login.
fn login_again(
    state: &AppState,
    ctx: &Ctx,
    who: LoginRequired,
    is_get: bool,
    form: Option<Bytes>,
    target: &str,
) -> Response {
    let login = who.login_path();
    let Some(body) = form else {
        // A page comes back after the login; a form that is not kept (not from this site) does not.
        let to = if is_get { format!("{login}?next={}", urlencoding(target)) } else { login.to_owned() };
        return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
    };
    let fields = form_fields(&body);
    let resume_form = serde_urlencoded::to_string(&fields).unwrap_or_default();
    let template = match who {
        LoginRequired::Customer => "login.html",
        LoginRequired::Staff => "staff/login.html",
    };
    match state.views.render(template, context! { next => target, resume_form, ..ctx.base(state) }) {
        Ok(html) => (StatusCode::UNAUTHORIZED, html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the login page");
            (StatusCode::SEE_OTHER, [(header::LOCATION, login.to_owned())]).into_response()
        }
    }
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).map(|e| e[2..].to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_stay_on_the_site() {
        for good in ["/menu", "/menu/server", "/menu?done=x", "/menu/service/3#reply", "/staff/customers/K1000001"] {
            let prefix = if good.starts_with("/staff") { "/staff" } else { "/menu" };
            assert_eq!(local_path(good, prefix), Some(good), "{good}");
        }
        for bad in [
            "//evil.example/menu",
            "/menu\\..\\",
            "/\\evil.example",
            "/menu/\tx",
            "/menu\n/x",
            "https://evil.example/menu",
            "/menuevil",
            "/staff",
            "",
            "menu",
            "/menu/ x",
        ] {
            assert_eq!(local_path(bad, "/menu"), None, "{bad:?}");
        }
    }

    #[test]
    fn same_site_paths_refuse_every_known_bypass() {
        for good in ["/", "/menu", "/blog/post-1?x=1#y", "/menu/backups/1?path=htdocs%2Fa.txt"] {
            assert_eq!(same_site_path(good), Some(good), "{good}");
        }
        let bad = [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%0d/evil.example",
            "/%2f/evil.example",
            "/%2F%2Fevil.example",
            "/%5c/evil.example",
            "/%5C%5Cevil.example",
            "/%252f/evil.example",
            "/%2509/evil.example",
            "https://evil.example",
            "http:/evil.example",
            "evil.example",
            "",
            "javascript:alert(1)",
            "/\u{0}/evil.example",
            "/\u{2028}/evil.example",
        ];
        for b in bad {
            assert_eq!(same_site_path(b), None, "{b:?}");
        }
        assert!(bad.len() >= 20);
    }

    #[test]
    fn secrets_are_not_shown_but_kept() {
        let fields = vec![
            ("body".to_owned(), "Zeile 1\nZeile 2".to_owned()),
            ("current".to_owned(), "geheim".to_owned()),
            ("password".to_owned(), "geheim2".to_owned()),
        ];
        let v = resend_value("/menu/password", &fields);
        assert_eq!(v.get_attr("fields").unwrap().len(), Some(3));
        assert_eq!(v.get_attr("shown").unwrap().len(), Some(1));
        assert_eq!(
            form_fields(b"csrf=abc&body=a%20b&x="),
            vec![("body".into(), "a b".into()), ("x".into(), "".into())]
        );
    }
}
