//! hostwerk-web: the customer menu ("Kundenmenü"), the staff console and the JSON API.
//!
//! Handlers are thin adapters: they extract and parse input, call a function of [`service`], and map its
//! result to a page or JSON. Pages are rendered on the server and work without JavaScript.

pub mod backup_repos;
pub mod backups;
pub mod blog;
pub mod casework;
pub mod config;
pub mod demo;
pub mod domains;
pub mod giveaways;
pub mod phone;
pub mod remote_support;
pub mod second_factor;
pub mod server_config;
pub mod service;
pub mod staff_admin;

mod api;
mod api_backups;
mod api_limits;
mod api_phone;
mod auth;
mod csrf;
mod error;
mod error_pages;
mod i18n;
mod mailer;
mod markdown;
mod metrics;
mod page_cache;
mod pages;
mod passwords;
mod state;
mod throttle;
mod views;

use std::net::SocketAddr;

use axum::Router;

pub use config::Config;
pub use mailer::Mailer;
pub use passwords::hash_password;
pub use state::AppState;

/// Builds the whole application: pages, API, health and metrics.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .merge(metrics::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), error_pages::error_pages))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::ensure_cookie))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(1024 * 1024))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// The content security policy of every answer: only this site's own resources, no framing by anyone, forms
/// only to this site. The pages have no inline script or style, so nothing needs `'unsafe-inline'`.
const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// Middleware: the security headers every answer carries (a handler's own `Referrer-Policy` stays), and HSTS
/// when the panel is served over HTTPS.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    if state.config.secure_cookies() {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Serves `router(state)` on an already bound listener until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    // Without TCP_NODELAY a response that leaves in two segments can wait for the client's delayed ACK.
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on an accepted connection");
        }
    });
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Serves `/metrics` (and `/healthz`) on a listen address of its own; the public one has no `/metrics`.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = metrics::metrics_routes().with_state(state);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Starts the periodic clean-up: expired sessions and tokens, recovered rate-limit keys, and contracts past
/// their last day of service.
pub fn spawn_housekeeping(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            state.throttles.tidy();
            if let Err(e) = state.store.purge_expired().await {
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
            if let Err(e) = state.store.purge_phone_check_state().await {
                tracing::warn!(error = %e, "could not purge old phone-check counters");
            }
            match state.store.end_due_contracts(hostwerk_domain::calendar::berlin_date(chrono::Utc::now())).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(contracts = n, "contracts past their last day of service ended"),
                Err(e) => tracing::warn!(error = %e, "could not end contracts past their last day"),
            }
        }
    });
}
