//! The staff console (`/staff`): login, customer lookup, and the admin pages (staff, tariffs, nodes,
//! outbox, audit log). Every page checks the role on the server.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::AgentStatus;
use hostwerk_store::{StaffUser, Subject};
use minijinja::{context, Value};
use serde::Deserialize;

use super::{form_status, redirect_with_cookies, user_message, with_status, Done};
use crate::auth::{end_browser_session, fresh_session, ClientIp, Ctx, CurrentStaff, STAFF_COOKIE};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::service::{self, ServiceError, TariffUpdate};
use crate::staff_admin::{self, NewTariffInput, SearchOutcome};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/login", get(login_page).post(login))
        .route("/staff/logout", post(logout))
        .route("/staff", get(home))
        .route("/staff/admin/staff", get(staff_users).post(create_staff))
        .route("/staff/admin/staff/{id}/active", post(set_active))
        .route("/staff/admin/staff/{id}/role", post(set_role))
        .route("/staff/admin/staff/{id}/password", post(reset_password))
        .route("/staff/admin/tariffs", get(tariffs).post(create_tariff))
        .route("/staff/admin/tariffs/{id}", post(update_tariff))
        .route("/staff/admin/nodes", get(nodes).post(create_node))
        .route("/staff/admin/nodes/{id}/delete", post(delete_node))
        .route("/staff/admin/nodes/{id}/move-contracts", post(move_contracts))
        .route("/staff/admin/nodes/{id}/token", post(node_token))
        .route("/staff/admin/nodes/{id}/backup-server", post(set_backup_server))
        .route("/staff/outbox", get(outbox))
        .route("/staff/audit", get(audit))
}

pub(super) fn staff_view(u: &StaffUser) -> Value {
    context! {
        login => u.login.as_str(), name => u.display_name, role => u.role.as_str(), is_admin => u.role.is_admin(),
        second_factor => u.second_factor,
    }
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
        Ok(service::LoginStep::SecondFactor(user)) => {
            super::security::start_pending(
                &state,
                Subject::Staff(user.id),
                form.next.as_deref(),
                form.resume_form.as_deref(),
            )
            .await
        }
        Ok(service::LoginStep::Done(user)) => {
            let session = fresh_session(&state, &headers, STAFF_COOKIE, Subject::Staff(user.id)).await?;
            super::after_login(
                &state,
                &ctx,
                "/staff",
                form.next.as_deref(),
                form.resume_form.as_deref(),
                &headers,
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
    /// A customer number exactly (links from call pages use it).
    number: Option<String>,
    /// Number, name, e-mail address or domain.
    q: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<Search>,
) -> Result<Response, PageError> {
    let customer_page = |found: service::CustomerSummary| {
        state.views.render(
            "staff/customer.html",
            context! { found => context! { number => found.number, name => found.name }, ..base(&state, &ctx, &me) },
        )
    };
    if let Some(number) = q.number.filter(|n| !n.trim().is_empty()) {
        return match service::find_customer(&state, &me, &number).await {
            Ok(found) => Ok(customer_page(found)?.into_response()),
            Err(e) => {
                let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
                let page = state
                    .views
                    .render("staff/home.html", context! { error, q => number, ..base(&state, &ctx, &me) })?;
                Ok(with_status(form_status(&e), page))
            }
        };
    }
    let Some(query) = q.q.filter(|n| !n.trim().is_empty()) else {
        return Ok(state.views.render("staff/home.html", base(&state, &ctx, &me))?.into_response());
    };
    match staff_admin::search_customers(&state, &me, &query).await {
        Ok(SearchOutcome::Number(found)) => Ok(customer_page(found)?.into_response()),
        Ok(SearchOutcome::Hits(hits)) => {
            let hits: Vec<_> = hits.iter().map(|h| context! { number => h.number, name => h.name }).collect();
            let searched = true;
            Ok(state
                .views
                .render("staff/home.html", context! { hits, searched, q => query, ..base(&state, &ctx, &me) })?
                .into_response())
        }
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let page =
                state.views.render("staff/home.html", context! { error, q => query, ..base(&state, &ctx, &me) })?;
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
    render_staff_users_with(state, ctx, me, error, done, Value::UNDEFINED).await
}

/// The staff page; `failed` names the form that failed (`form`, `id` and what was entered, never a password),
/// so it comes back as it was sent.
async fn render_staff_users_with(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
    failed: Value,
) -> Result<Html<String>, PageError> {
    let users: Vec<_> = state
        .store
        .list_staff()
        .await?
        .iter()
        .map(|u| context! { id => u.id.0, active => u.active, created => format_berlin_datetime(u.created_at, ctx.lang), ..staff_view(u) })
        .collect();
    let roles: Vec<_> = hostwerk_domain::StaffRole::ALL.iter().map(|r| r.as_str()).collect();
    state.views.render("staff/staff_users.html", context! { users, roles, error, done, failed, ..base(state, ctx, me) })
}

#[derive(Deserialize)]
struct RoleForm {
    #[serde(default)]
    role: String,
}

/// Changes a staff member's role (admin only; the last admin keeps the role).
async fn set_role(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<RoleForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match staff_admin::set_staff_role(&state, &me, id, &form.role).await {
        Ok(()) => Ok(Redirect::to("/staff/admin/staff?done=staff_role_changed").into_response()),
        Err(e) => {
            let failed = context! { form => "role", id, role => form.role };
            form_failure(e, &ctx, |error| render_staff_users_with(&state, &ctx, &me, Some(error), None, failed)).await
        }
    }
}

#[derive(Deserialize)]
struct PasswordResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat: String,
}

/// Sets a new password for a staff member (admin only); their sessions end.
async fn reset_password(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<PasswordResetForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match staff_admin::reset_staff_password(&state, &me, id, &form.password, &form.repeat).await {
        Ok(()) => Ok(Redirect::to("/staff/admin/staff?done=staff_password_reset").into_response()),
        Err(e) => {
            // The password itself is not sent back.
            let failed = context! { form => "password", id };
            form_failure(e, &ctx, |error| render_staff_users_with(&state, &ctx, &me, Some(error), None, failed)).await
        }
    }
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
    let blank = NewTariffInput {
        monthly: Some("on".into()),
        minimum_term_months: "1".into(),
        notice_period_days: "30".into(),
        ..NewTariffInput::default()
    };
    render_tariffs_with(state, ctx, me, error, done, &blank).await
}

async fn render_tariffs_with(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
    new_tariff: &NewTariffInput,
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
    let new_tariff = Value::from_serialize(new_tariff);
    state.views.render("staff/tariffs.html", context! { tariffs, new_tariff, error, done, ..base(state, ctx, me) })
}

/// Adds a tariff (admin only); after an error the form comes back as it was sent.
async fn create_tariff(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<NewTariffInput>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match staff_admin::create_tariff(&state, &me, &form).await {
        Ok(_) => Ok(Redirect::to("/staff/admin/tariffs?done=tariff_created").into_response()),
        Err(e) => form_failure(e, &ctx, |error| render_tariffs_with(&state, &ctx, &me, Some(error), None, &form)).await,
    }
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
    render_nodes_with(state, ctx, me, error, done, None, Value::UNDEFINED).await
}

/// The nodes page. `failed` is the form that failed with what was entered (`form` = `create`, `move` or
/// `delete`), so it comes back as it was sent.
async fn render_nodes_with(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    error: Option<String>,
    done: Option<String>,
    agent_token: Option<Value>,
    failed: Value,
) -> Result<Html<String>, PageError> {
    let all = state.store.nodes().await?;
    let counts = state.store.node_contract_counts().await?;
    let now = chrono::Utc::now().timestamp();
    let webservers: Vec<_> = all
        .iter()
        .filter(|n| n.role == hostwerk_domain::NodeRole::Webserver)
        .map(|n| context! { id => n.id, name => n.name.as_str() })
        .collect();
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
        let agent = AgentStatus::at(n.agent_seen_at.map(|t| t.timestamp()), now).as_str();
        let last_seen = n.agent_seen_at.map(|t| format_berlin_datetime(t, ctx.lang));
        let contracts = counts.get(&n.id).copied().unwrap_or(0);
        nodes.push(context! { id => n.id, name => n.name.as_str(), role => n.role.as_str(), address => n.address, created => format_berlin_datetime(n.created_at, ctx.lang), backup_server, backup_server_name, agent, last_seen, contracts });
    }
    state.views.render(
        "staff/nodes.html",
        context! { nodes, backup_servers, webservers, error, done, agent_token, failed, ..base(state, ctx, me) },
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
        Err(e) => {
            let failed = context! { form => "create", name => form.name, role => form.role, address => form.address };
            form_failure(e, &ctx, |error| render_nodes_with(&state, &ctx, &me, Some(error), None, None, failed)).await
        }
    }
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    confirm: Option<String>,
}

fn confirmed(v: &Option<String>) -> bool {
    matches!(v.as_deref(), Some("on" | "true" | "1"))
}

/// Deletes a node without contracts; the form's confirmation box must be ticked.
async fn delete_node(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match staff_admin::delete_node(&state, &me, id, confirmed(&form.confirm)).await {
        Ok(()) => Ok(Redirect::to("/staff/admin/nodes?done=node_deleted").into_response()),
        Err(e) => {
            let failed = context! { form => "delete", id };
            form_failure(e, &ctx, |error| render_nodes_with(&state, &ctx, &me, Some(error), None, None, failed)).await
        }
    }
}

#[derive(Deserialize)]
struct MoveForm {
    /// The target webserver's node id.
    #[serde(default)]
    to: String,
    /// One contract's number, or empty for all contracts of the node.
    #[serde(default)]
    contract: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// Moves a node's contracts (all, or one) to another webserver; the confirmation box must be ticked.
async fn move_contracts(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    let to = form.to.trim().parse::<i64>().ok();
    let contract = match form.contract.trim() {
        "" => Ok(None),
        c => c.parse::<i64>().map(Some).map_err(|_| ServiceError::from(staff_admin::ConsoleError::ContractNotOnNode)),
    };
    let result = match contract {
        Ok(contract) => staff_admin::move_contracts(&state, &me, id, to, contract, confirmed(&form.confirm)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to("/staff/admin/nodes?done=contracts_moved").into_response()),
        Err(e) => {
            let failed = context! { form => "move", id, to => form.to, contract => form.contract };
            form_failure(e, &ctx, |error| render_nodes_with(&state, &ctx, &me, Some(error), None, None, failed)).await
        }
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
            let mut response =
                render_nodes_with(&state, &ctx, &me, None, None, Some(shown), Value::UNDEFINED).await?.into_response();
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
