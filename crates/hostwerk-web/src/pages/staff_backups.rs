//! Backups in the staff console: the customer's backups and the restore order ("Restoreauftrag") inside a
//! verified call (any role, through `phone::require_call`), and for admins the open jobs, the retention plans
//! (a dry run first) and their execution.

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::backup_job::RelativePath;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::Language;
use hostwerk_store::{MaintenancePlan, StaffUser};
use minijinja::{context, Value};
use serde::Deserialize;

use super::menu_backups::{contract_backups_view, human_bytes};
use super::staff::staff_view;
use super::{form_status, user_message, with_status};
use crate::auth::{Ctx, CurrentStaff};
use crate::backups::{self, MaintenanceResult, RestoreRequest, RestoreTarget, RetentionPlan};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::i18n::t;
use crate::service::{self, ServiceError};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/staff/customers/{number}/backups", get(customer_page))
        .route("/staff/customers/{number}/backups/{contract}/restore", post(order_restore))
        .route("/staff/backups", get(admin_page))
        .route("/staff/backups/plan", post(plan))
        .route("/staff/backups/plans/{id}", get(plan_page))
        .route("/staff/backups/plans/{id}/execute", post(execute))
}

#[derive(Debug, Deserialize)]
struct DoneJob {
    done: Option<String>,
    job: Option<i64>,
}

fn base(state: &AppState, ctx: &Ctx, me: &StaffUser) -> Value {
    context! { me => staff_view(me), ..ctx.base(state) }
}

// ---------------------------------------------------------------- within a call

async fn render_customer(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    number: &str,
    job: Option<i64>,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let (customer, list) = backups::staff_contract_backups(state, me, number).await?;
    let notice = job.and_then(|id| {
        list.iter().flat_map(|c| c.jobs.iter()).find(|j| j.job.id == id).map(|v| {
            t(lang, "backups.job_notice")
                .replace("{id}", &id.to_string())
                .replace("{state}", &backups::job_state_text(lang, v))
        })
    });
    let contracts: Vec<Value> = list.iter().map(|c| contract_backups_view(c, lang, true)).collect();
    state.views.render(
        "staff/backups_customer.html",
        minijinja::value::merge_maps([
            extra,
            context! {
                customer => context! { number => customer.number.to_string(), name => customer.name },
                contracts,
                notice,
            },
            base(state, ctx, me),
        ]),
    )
}

async fn customer_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(number): Path<String>,
    Query(q): Query<DoneJob>,
) -> Result<Html<String>, PageError> {
    render_customer(&state, &ctx, &me, &number, q.job, context! { done => q.done }).await
}

/// The restore order form: snapshot, area (`mailbox`, empty for the webspace), paths one per line ("/" is the
/// whole webspace or mailbox), target.
fn order_request(fields: &[(String, String)]) -> Result<RestoreRequest, ServiceError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let paths = fields
        .iter()
        .filter(|(k, _)| k == "paths")
        .flat_map(|(_, v)| v.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| RelativePath::parse(l).map_err(|e| ServiceError::Invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RestoreRequest {
        snapshot: field("snapshot").to_owned(),
        mailbox: Some(field("mailbox")).filter(|m| !m.is_empty()).map(str::to_owned),
        paths,
        target: RestoreTarget::parse(field("target"))?,
    })
}

async fn order_restore(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path((number, contract)): Path<(String, i64)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let result = match order_request(&fields) {
        Ok(req) => backups::staff_order_restore(&state, &me, &number, contract, &req).await,
        Err(e) => {
            // Without a live call, the call gate answers first, whatever the form says.
            crate::phone::require_call(&state, &me, &number).await?;
            Err(e)
        }
    };
    match result {
        Ok((_, v)) => {
            Ok(Redirect::to(&format!("/staff/customers/{number}/backups?done=backup_restore_ordered&job={}", v.job.id))
                .into_response())
        }
        Err(e) if matches!(e, ServiceError::NoCall | ServiceError::NotFound | ServiceError::Forbidden) => Err(e.into()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let entered = context! {
                contract => contract,
                paths => fields.iter().filter(|(k, _)| k == "paths").map(|(_, v)| v.as_str()).collect::<Vec<_>>().join("\n"),
            };
            let page = render_customer(&state, &ctx, &me, &number, None, context! { error, entered }).await?;
            Ok(with_status(form_status(&e), page))
        }
    }
}

// ---------------------------------------------------------------- admin: jobs and retention

fn admin(me: &StaffUser) -> Result<(), PageError> {
    service::admin_only(me).map_err(PageError::from)
}

fn plan_summary(p: &MaintenancePlan, node: &str, lang: Language) -> Value {
    let parsed: Option<RetentionPlan> = serde_json::from_str(&p.plan).ok();
    let result: Option<MaintenanceResult> = p.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    context! {
        id => p.id,
        webserver => node,
        created_by => p.created_by,
        created => format_berlin_datetime(p.created_at, lang),
        remove => parsed.as_ref().map(|x| x.groups.iter().map(|g| g.remove.len()).sum::<usize>()),
        keep => parsed.as_ref().map(|x| x.groups.iter().map(|g| g.keep.len()).sum::<usize>()),
        executed => p.executed_at.map(|t| format_berlin_datetime(t, lang)),
        executed_by => p.executed_by,
        forgotten => result.as_ref().map(|r| r.forgotten.len()),
    }
}

async fn node_names(state: &AppState) -> Result<std::collections::HashMap<i64, String>, PageError> {
    Ok(state.store.nodes().await?.into_iter().map(|n| (n.id, n.name.as_str().to_owned())).collect())
}

async fn render_admin(state: &AppState, ctx: &Ctx, me: &StaffUser, extra: Value) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let names = node_names(state).await?;
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let at = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| format_berlin_datetime(t, lang))
    };
    let jobs: Vec<Value> = state
        .store
        .open_backup_jobs()
        .await?
        .iter()
        .map(|j| {
            context! {
                id => j.id,
                kind_label => t(lang, &format!("backups.kind.{}", j.kind.as_str())),
                status => j.status.as_str(),
                status_label => t(lang, &format!("backups.status.{}", j.status.as_str())),
                contract_id => j.contract_id,
                webserver => name(j.node_id),
                backup_server => j.backup_server_id.map(name),
                requester => format!("{} ({})", t(lang, &format!("backups.by.{}", j.requested_by_kind)), j.requested_by_name),
                created => at(Some(j.created_at)),
                started => at(j.started_at),
                heartbeat => at(j.heartbeat_at),
                attempts => j.attempts,
            }
        })
        .collect();
    let plans: Vec<Value> =
        state.store.maintenance_plans(20).await?.iter().map(|p| plan_summary(p, &name(p.node_id), lang)).collect();
    state.views.render(
        "staff/backups.html",
        minijinja::value::merge_maps([
            extra,
            context! { jobs, plans, webservers => state.backup_repos.webservers() },
            base(state, ctx, me),
        ]),
    )
}

async fn admin_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Query(q): Query<DoneJob>,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    render_admin(&state, &ctx, &me, context! { done => q.done }).await
}

#[derive(Deserialize)]
struct PlanForm {
    #[serde(default)]
    webserver: String,
}

async fn plan(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    CsrfForm(form): CsrfForm<PlanForm>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match backups::plan_maintenance(&state, &me, &form.webserver).await {
        Ok((stored, _)) => {
            Ok(Redirect::to(&format!("/staff/backups/plans/{}?done=maintenance_planned", stored.id)).into_response())
        }
        Err(e) if matches!(e, ServiceError::Forbidden) => Err(e.into()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let status = form_status(&e);
            Ok(with_status(status, render_admin(&state, &ctx, &me, context! { error }).await?))
        }
    }
}

/// The policy text of a plan group in the page's language.
fn policy_text(policy: &str, lang: Language) -> String {
    if let Some((d, m)) = policy.strip_suffix(" monthly").and_then(|p| p.split_once(" daily + ")) {
        return t(lang, "backups.retention").replace("{daily}", d).replace("{monthly}", m);
    }
    if let Some(days) = policy.strip_suffix(" days") {
        return t(lang, "backups.policy_days").replace("{days}", days);
    }
    t(lang, policy)
}

async fn render_plan(
    state: &AppState,
    ctx: &Ctx,
    me: &StaffUser,
    id: i64,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let stored = state.store.maintenance_plan(id).await?;
    let names = node_names(state).await?;
    let webserver = names.get(&stored.node_id).cloned().unwrap_or_default();
    let plan: RetentionPlan =
        serde_json::from_str(&stored.plan).map_err(|e| PageError::Internal(format!("plan {id}: {e}")))?;
    let entry = |s: &backups::PlanSnapshot, removed: bool| {
        let reasons: Vec<String> = s.reasons.iter().map(|r| t(lang, &format!("backups.reason.{r}"))).collect();
        context! {
            id => s.id,
            short => s.id.get(..8).unwrap_or(&s.id),
            time => format_berlin_datetime(s.time, lang),
            reasons => if removed && reasons.is_empty() { t(lang, "backups.reason.none") } else { reasons.join(", ") },
        }
    };
    let groups: Vec<Value> = plan
        .groups
        .iter()
        .map(|g| {
            context! {
                contract_id => g.contract_id,
                kind_label => t(lang, &format!("backups.snapshot_kind.{}", g.kind)),
                part => g.part.strip_prefix("db:").map_or_else(|| t(lang, "backups.part_files"), |d| format!("{}: {d}", t(lang, "backups.database"))),
                policy => policy_text(&g.policy, lang),
                keep => g.keep.iter().map(|s| entry(s, false)).collect::<Vec<_>>(),
                remove => g.remove.iter().map(|s| entry(s, true)).collect::<Vec<_>>(),
            }
        })
        .collect();
    let total_remove: usize = plan.groups.iter().map(|g| g.remove.len()).sum();
    let total_keep: usize = plan.groups.iter().map(|g| g.keep.len()).sum();
    let result: Option<MaintenanceResult> = stored.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let result = result.map(|r| {
        context! {
            forgotten => r.forgotten.len(),
            spared => r.spared,
            packs_deleted => r.packs_deleted,
            bytes_freed => human_bytes(i64::try_from(r.bytes_freed).unwrap_or(i64::MAX), lang),
        }
    });
    state.views.render(
        "staff/backups_plan.html",
        minijinja::value::merge_maps([
            extra,
            context! {
                plan => plan_summary(&stored, &webserver, lang),
                groups, total_remove, total_keep, untagged => plan.untagged, result,
                running => stored.executed_at.is_some() && stored.result.is_none(),
            },
            base(state, ctx, me),
        ]),
    )
}

async fn plan_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    Query(q): Query<DoneJob>,
) -> Result<Html<String>, PageError> {
    admin(&me)?;
    render_plan(&state, &ctx, &me, id, context! { done => q.done }).await
}

async fn execute(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentStaff(me): CurrentStaff,
    Path(id): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    admin(&me)?;
    match backups::execute_maintenance(&state, &me, id).await {
        Ok(_) => Ok(Redirect::to(&format!("/staff/backups/plans/{id}?done=maintenance_executed")).into_response()),
        Err(e) if matches!(e, ServiceError::Forbidden | ServiceError::NotFound) => Err(e.into()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let status = form_status(&e);
            Ok(with_status(status, render_plan(&state, &ctx, &me, id, context! { error }).await?))
        }
    }
}
