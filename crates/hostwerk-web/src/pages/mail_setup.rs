//! Mail setup: the customer menu's settings page per mailbox (servers, recommended SSL first, the Apple
//! profile, setup guides for five clients) and DNS page per domain; and the public autoconfiguration endpoints
//! mail clients call — Thunderbird's `config-v1.1.xml` and Outlook's Autodiscover. These answer for hosted
//! domains only, alike for existing and unknown mailboxes (they never look a mailbox up), are rate-limited per
//! client address, and read at most 16 KiB of a request body.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::{DomainName, EmailAddress};
use hostwerk_mailconfig::{
    apple_mobileconfig, autodiscover_error, autodiscover_response, dns_records, guide, mailbox_settings,
    parse_autodiscover_request, thunderbird_config, thunderbird_config_for_domain, Client, ProfileUuids,
    MAX_AUTODISCOVER_REQUEST_BYTES, MOBILECONFIG_MIME_TYPE,
};
use hostwerk_store::{Customer, Mailbox};
use minijinja::{context, Value};
use serde::Deserialize;

use crate::auth::{ClientIp, Ctx, CurrentCustomer};
use crate::error::PageError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/menu/mailboxes/{id}", get(settings_page))
        .route("/menu/mailboxes/{id}/guide/{client}", get(guide_page))
        .route("/menu/mailboxes/{id}/mobileconfig", get(mobileconfig))
        .route("/menu/domains/{id}", get(domain_page))
        .route("/mail/config-v1.1.xml", get(thunderbird))
        .route("/.well-known/autoconfig/mail/config-v1.1.xml", get(thunderbird))
        .route("/autodiscover/autodiscover.xml", post(autodiscover))
        .route("/Autodiscover/Autodiscover.xml", post(autodiscover))
}

async fn own_mailbox(state: &AppState, customer: &Customer, id: i64) -> Result<Mailbox, PageError> {
    state.store.mailboxes(customer.id).await?.into_iter().find(|m| m.id == id).ok_or(PageError::NotFound)
}

fn server_views(state: &AppState, address: &EmailAddress) -> Vec<Value> {
    mailbox_settings(&state.config.mail_client, address)
        .servers()
        .into_iter()
        .map(|s| {
            context! {
                protocol => s.protocol.label(),
                direction => format!("{:?}", s.direction).to_lowercase(),
                host => s.host,
                port => s.port,
                security => s.security.label(),
                username => s.username,
                recommended => s.recommended,
            }
        })
        .collect()
}

fn clients() -> Vec<Value> {
    Client::ALL.iter().map(|c| context! { slug => c.slug() }).collect()
}

async fn settings_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let mailbox = own_mailbox(&state, &customer, id).await?;
    let cfg = &state.config.mail_client;
    state.views.render(
        "menu/mailbox.html",
        context! {
            mailbox => context! { id => mailbox.id, address => mailbox.address.as_str() },
            servers => server_views(&state, &mailbox.address),
            clients => clients(),
            webmail => cfg.webmail_url,
            ..ctx.base(&state)
        },
    )
}

async fn guide_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path((id, client)): Path<(i64, String)>,
) -> Result<Html<String>, PageError> {
    let mailbox = own_mailbox(&state, &customer, id).await?;
    let client = Client::from_slug(&client).ok_or(PageError::NotFound)?;
    let g = guide(client, ctx.lang, &mailbox_settings(&state.config.mail_client, &mailbox.address));
    state.views.render(
        "menu/mail_guide.html",
        context! {
            mailbox => context! { id => mailbox.id, address => mailbox.address.as_str() },
            client => client.slug(),
            title => g.title,
            steps => g.steps,
            clients => clients(),
            ..ctx.base(&state)
        },
    )
}

async fn mobileconfig(
    State(state): State<AppState>,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let mailbox = own_mailbox(&state, &customer, id).await?;
    let bytes = apple_mobileconfig(&state.config.mail_client, &mailbox.address, &customer.name, ProfileUuids::random())
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let filename = format!("{}.mobileconfig", mailbox.address.as_str().replace(['@', '.'], "_"));
    Ok((
        [
            (header::CONTENT_TYPE, MOBILECONFIG_MIME_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        bytes,
    )
        .into_response())
}

async fn domain_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let domain = state.store.domains(customer.id).await?.into_iter().find(|d| d.id == id).ok_or(PageError::NotFound)?;
    let records: Vec<Value> = dns_records(&state.config.mail_client, &domain.name)
        .iter()
        .map(|r| context! { line => r.zone_line() })
        .collect();
    let name = domain.name.as_str();
    state.views.render(
        "menu/domain.html",
        context! {
            domain => name,
            records,
            autoconfig_host => format!("autoconfig.{name}"),
            autodiscover_host => format!("autodiscover.{name}"),
            target => state.config.mail_client.autoconfig_target,
            ..ctx.base(&state)
        },
    )
}

// ---------------------------------------------------------------- autoconfiguration

fn throttled(state: &AppState, ip: std::net::IpAddr) -> bool {
    state.throttles.autoconfig_per_ip.check_key(&ip).is_err()
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/xml; charset=utf-8"))], body).into_response()
}

async fn hosted(state: &AppState, domain: &str) -> Result<Option<DomainName>, PageError> {
    let Ok(name) = DomainName::parse(domain) else { return Ok(None) };
    Ok(state.store.domain_hosted(&name).await?.then_some(name))
}

#[derive(Deserialize)]
struct AutoconfigQuery {
    emailaddress: Option<String>,
}

/// Thunderbird's autoconfig: by `?emailaddress=`, or by the `autoconfig.<domain>` host name it was asked on.
async fn thunderbird(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(q): Query<AutoconfigQuery>,
) -> Result<Response, PageError> {
    if throttled(&state, ip) {
        return Ok((StatusCode::TOO_MANY_REQUESTS, "too many requests").into_response());
    }
    let cfg = &state.config.mail_client;
    if let Some(raw) = q.emailaddress.as_deref().filter(|s| !s.trim().is_empty()) {
        let Ok(email) = EmailAddress::parse(raw) else {
            return Ok((StatusCode::BAD_REQUEST, "emailaddress is not an e-mail address").into_response());
        };
        return Ok(match hosted(&state, email.domain()).await? {
            Some(_) => xml(StatusCode::OK, thunderbird_config(cfg, &email)),
            None => (StatusCode::NOT_FOUND, "no such domain here").into_response(),
        });
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    let domain = host.strip_prefix("autoconfig.").unwrap_or(host);
    Ok(match hosted(&state, domain).await? {
        Some(name) => xml(StatusCode::OK, thunderbird_config_for_domain(cfg, &name)),
        None => (StatusCode::NOT_FOUND, "no such domain here; ask with ?emailaddress=").into_response(),
    })
}

/// Outlook's Autodiscover (POX). Bad bodies get the documented error response; an oversized one is not read
/// beyond the limit.
async fn autodiscover(State(state): State<AppState>, ClientIp(ip): ClientIp, body: Body) -> Response {
    if throttled(&state, ip) {
        return xml(StatusCode::TOO_MANY_REQUESTS, autodiscover_error(600, "Invalid Request"));
    }
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_AUTODISCOVER_REQUEST_BYTES).await {
        Ok(b) => b,
        Err(_) => return xml(StatusCode::PAYLOAD_TOO_LARGE, autodiscover_error(600, "Invalid Request")),
    };
    let email = match parse_autodiscover_request(&bytes) {
        Ok(email) => email,
        Err(e) => {
            tracing::debug!(error = %e, "autodiscover request refused");
            return xml(StatusCode::BAD_REQUEST, autodiscover_error(e.error_code(), e.response_message()));
        }
    };
    match hosted(&state, email.domain()).await {
        Ok(Some(_)) => xml(StatusCode::OK, autodiscover_response(&state.config.mail_client, &email)),
        Ok(None) => xml(StatusCode::OK, autodiscover_error(601, "Provider is not available")),
        Err(e) => e.into_response(),
    }
}
