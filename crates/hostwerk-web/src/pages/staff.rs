//! The staff console (`/staff`): login, customer lookup, and the admin pages (staff, tariffs, nodes,
//! outbox, audit log). Every page checks the role on the server.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_store::{StaffUser, Subject};
use minijinja::{context, Value};
use serde::Deserialize;

use super::{form_status, redirect_with_cookies, user_message, with_status, Done};
use crate::auth::{end_browser_session, fresh_session, ClientIp, Ctx, CurrentStaff, STAFF_COOKIE};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::service::{self, ServiceError, TariffUpdate};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_page).post(login))
        .route("/staff/logout", post(logout))
        .route("/staff", get(home))
        .route("/staff/admin/staff", get(staff_users).post(create_staff))
        .route("/staff/admin/staff/{id}/active", post(set_active))
        .route("/staff/admin/tariffs", get(tariffs))
        .route("/staff/admin/tariffs/{id}", post(update_tariff))
        .route("/staff/admin/nodes", get(nodes).post(create_node))
        .route("/staff/admin/nodes/{id}/delete", post(delete_node))
        .route("/staff/admin/nodes/{id}/token", post(node_token))
        .route("/staff/admin/nodes/{id}/backup-server", post(set_backup_server))
        .route("/staff/outbox", get(outbox))
        .route("/staff/audit", get(audit))
}

pub(super) fn staff_view(u: &StaffUser) -> Value {
    context! { login => u.login.as_str(), name => u.display_name, role => u.role.as_str(), is_admin => u.role.is_admin() }
}

fn base(state: &AppState, ctx: &Ctx, me: &StaffUser) -> Value {
    context! { me => staff_view(me), ..ctx.base(state) }
}

async fn login_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<super::LoginQuery>,
) -> Result<Html<String>, PageError> {
    let next = q.next.as_deref().and_then(|n| crate::error_pages::local_path(n, "/staff"));
    state.views.render("staff/login.html", context! { done => q.done, next, ..ctx.base(&state) })
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    resume_form: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    match service::staff_login(&state, &form.login, &form.password, ip).await {
        Ok(user) => {
            let session = fresh_session(&state, &headers, STAFF_COOKIE, Subject::Staff(user.id)).await?;
            super::after_login(
                &state,
                &ctx,
                "/staff",
                "/staff",
                form.next.as_deref(),
                form.resume_form.as_deref(),
                &[session],
            )
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let next = form.next.as_deref().and_then(|n| crate::error_pages::local_path(n, "/staff"));
            let page = state.views.render(
                "staff/login.html",
                context! { error, login => form.login, next, resume_form => form.resume_form, ..ctx.base(&state) },
            )?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    let cleared = end_browser_session(&state, &headers, STAFF_COOKIE).await?;
    Ok(redirect_with_cookies("/staff/login?done=logged_out", &[cleared]))
}

#[derive(Deserialize)]
struct Search {
    number: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Search>,
) -> Result<Response, PageError> {
    let Some(number) = q.number.filter(|n| !n.trim().is_empty()) else {
        return Ok(state.views.render("staff/home.html", base(&state, &ctx, &me))?.into_response());
    };
    match service::find_customer(&state, &me, &number).await {
        Ok(found) => Ok(state
            .views
            .render("staff/customer.html", context! { found => context! { number => found.number, name => found.name }, ..base(&state, &ctx, &me) })?
            .into_response()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page = state.views.render("staff/home.html", context! { error, number, ..base(&state, &ctx, &me) })?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

fn admin(me: &StaffUser) -> Result<(), PageError> {
    service::admin_only(me).map_err(PageError::from)
}

async fn staff_users(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    render_staff_users(&state, &ctx, &me, None, q.done).await
}

async fn render_staff_users(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
) -> Result<Html<String>, PageError> {
    let users: Vec<_> = state
        .store
        .list_staff()
        .await?
        .iter()
        .map(|u| context! { id => u.id.0, active => u.active, created => format_berlin_datetime(u.created_at, ctx.lang), ..staff_view(u) })
        .collect();
    state.views.render("staff/staff_users.html", context! { users, error, done, ..base(state, ctx, me) })
}

#[derive(Deserialize)]
struct NewStaffForm {
    login: String,
    display_name: String,
    role: String,
    password: String,
}

async fn create_staff(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<NewStaffForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match service::create_staff(&state, &me, &form.login, &form.display_name, &form.role, &form.password).await {
        Ok(_) => Ok(Redirect::to("/staff/admin/staff?done=staff_created").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_staff_users(&state, &ctx, &me, Some(error), None)).await,
    }
}

async fn form_failure<F, Fut>(e: ServiceError, ctx: &Ctx, render: F) -> Result<Response, PageError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<Html<String>, PageError>>,
{
    let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
    if matches!(e, ServiceError::Forbidden | ServiceError::NotFound) {
        return Err(e.into());
    }
    Ok(with_status(form_status(&e), render(error).await?))
}

#[derive(Deserialize)]
struct ActiveForm {
    active: String,
}

async fn set_active(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ActiveForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match service::set_staff_active(&state, &me, id, form.active == "true").await {
        Ok(()) => Ok(Redirect::to("/staff/admin/staff?done=staff_updated").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_staff_users(&state, &ctx, &me, Some(error), None)).await,
    }
}

async fn tariffs(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    render_tariffs(&state, &ctx, &me, None, q.done).await
}

async fn render_tariffs(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
) -> Result<Html<String>, PageError> {
    let tariffs: Vec<_> = state
        .store
        .tariffs()
        .await?
        .iter()
        .map(|t| {
            context! {
                id => t.id.as_str(), name => t.name, family => t.family.as_str(),
                price => t.monthly_price.to_string().replace('.', ","), price_display => t.monthly_price.format(ctx.lang),
                periods => t.billing_periods.iter().map(|p| p.months()).collect::<Vec<_>>(),
                minimum_term_months => t.minimum_term_months, notice_period_days => t.notice_period_days,
                orderable => t.orderable, process_limit => t.process_limit.default.to_string(),
                limit_adjustable => t.process_limit.customer_adjustable,
                keep_daily => t.backup.keep_daily, keep_monthly => t.backup.keep_monthly, on_demand_per_day => t.backup.on_demand_per_day,
            }
        })
        .collect();
    state.views.render("staff/tariffs.html", context! { tariffs, error, done, ..base(state, ctx, me) })
}

async fn update_tariff(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TariffUpdate>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match service::update_tariff(&state, &me, &id, &form).await {
        Ok(_) => Ok(Redirect::to("/staff/admin/tariffs?done=tariff_saved").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_tariffs(&state, &ctx, &me, Some(error), None)).await,
    }
}

async fn nodes(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Done>,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    render_nodes(&state, &ctx, &me, None, q.done).await
}

async fn render_nodes(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
) -> Result<Html<String>, PageError> {
    render_nodes_with(state, ctx, me, error, done, None).await
}

async fn render_nodes_with(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
    agent_token: Option<Value>,
) -> Result<Html<String>, PageError> {
    let all = state.store.nodes().await?;
    let backup_servers: Vec<_> = all
        .iter()
        .filter(|n| n.role == hostwerk_domain::NodeRole::BackupServer)
        .map(|n| context! { id => n.id, name => n.name.as_str() })
        .collect();
    let mut nodes = Vec::with_capacity(all.len());
    for n in &all {
        // A webserver's assigned backup server (where its agent sends backups).
        let backup_server = if n.role == hostwerk_domain::NodeRole::Webserver {
            state.store.backup_server_of(n.id).await?
        } else {
            None
        };
        let backup_server_name =
            backup_server.and_then(|b| all.iter().find(|x| x.id == b)).map(|x| x.name.as_str().to_owned());
        nodes.push(context! { id => n.id, name => n.name.as_str(), role => n.role.as_str(), address => n.address, created => format_berlin_datetime(n.created_at, ctx.lang), backup_server, backup_server_name });
    }
    state.views.render(
        "staff/nodes.html",
        context! { nodes, backup_servers, error, done, agent_token, ..base(state, ctx, me) },
    )
}

#[derive(Deserialize)]
struct BackupServerForm {
    /// A backup server's node id, or empty for none.
    #[serde(default)]
    backup_server: String,
}

/// Assigns a webserver's backup server (admin only; audited).
async fn set_backup_server(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<BackupServerForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    let chosen = match form.backup_server.trim() {
        "" => Ok(None),
        s => s.parse::<i64>().map(Some).map_err(|_| ServiceError::Invalid("choose a backup server".into())),
    };
    let result = match chosen {
        Ok(b) => crate::backups::assign_backup_server(&state, &me, id, b).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to("/staff/admin/nodes?done=backup_server_set").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_nodes(&state, &ctx, &me, Some(error), None)).await,
    }
}

#[derive(Deserialize)]
struct NodeForm {
    name: String,
    role: String,
    address: String,
}

async fn create_node(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<NodeForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match service::create_node(&state, &me, &form.name, &form.role, &form.address).await {
        Ok(()) => Ok(Redirect::to("/staff/admin/nodes?done=node_created").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_nodes(&state, &ctx, &me, Some(error), None)).await,
    }
}

async fn delete_node(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match service::delete_node(&state, &me, id).await {
        Ok(()) => Ok(Redirect::to("/staff/admin/nodes?done=node_deleted").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_nodes(&state, &ctx, &me, Some(error), None)).await,
    }
}

/// Issues an agent token for a webserver and shows it once.
async fn node_token(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match crate::server_config::issue_node_token(&state, &me, id).await {
        Ok(token) => {
            let nodes = state.store.nodes().await?;
            let node = nodes.iter().find(|n| n.id == id).map(|n| n.name.to_string()).unwrap_or_default();
            let shown = context! { node, token };
            let mut response = render_nodes_with(&state, &ctx, &me, None, None, Some(shown)).await?.into_response();
            // Shown in this answer only.
            response
                .headers_mut()
                .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(e) => form_failure(e, &ctx, |error| render_nodes(&state, &ctx, &me, Some(error), None)).await,
    }
}

async fn outbox(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    let mails: Vec<_> = state
        .store
        .outbox(200)
        .await?
        .iter()
        .map(|m| context! { id => m.id, recipient => m.recipient, subject => m.subject, body => m.body, status => m.status, error => m.error, created => format_berlin_datetime(m.created_at, ctx.lang) })
        .collect();
    state.views.render("staff/outbox.html", context! { mails, ..base(&state, &ctx, &me) })
}

async fn audit(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    let entries: Vec<_> = state
        .store
        .audit_log(500)
        .await?
        .iter()
        .map(|a| context! { at => format_berlin_datetime(a.at, ctx.lang), actor => format!("{} {}", a.actor_kind, a.actor_name), action => a.action, target => a.target, detail => a.detail })
        .collect();
    state.views.render("staff/audit.html", context! { entries, ..base(&state, &ctx, &me) })
}
