//! The customer menu's "Backups" (`/menu/backups`): per contract the nightly window and retention, the on-demand
//! allowance with its button, the snapshots by date (files and databases), the jobs with their state and queue
//! place; browsing a snapshot's folders (webspace or a mailbox), downloads (a file as it is, a folder as
//! tar.gz) and restores (chosen entries, the whole webspace or mailbox, a database).

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hostwerk_domain::backup_job::RelativePath;
use hostwerk_domain::calendar::format_berlin_datetime;
use hostwerk_domain::Language;
use hostwerk_store::{BackupSnapshot, Customer};
use minijinja::{context, Value};
use serde::Deserialize;

use super::{confirmation_page, confirmed, form_status, user_message, with_status, Confirmation};
use crate::auth::{Ctx, CurrentCustomer};
use crate::backups::{self, ContractBackups, JobView, Requester, RestoreRequest, RestoreTarget};
use crate::csrf::CsrfForm;
use crate::error::PageError;
use crate::i18n::t;
use crate::service::ServiceError;
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/menu/backups", get(overview_page))
        .route("/menu/backups/{contract}", get(contract_page))
        .route("/menu/backups/{contract}/on-demand", post(on_demand))
        .route("/menu/backups/{contract}/db-restore", post(db_restore))
        .route("/menu/backups/{contract}/snapshots/{snapshot}", get(browse_page))
        .route("/menu/backups/{contract}/snapshots/{snapshot}/download", get(download))
        .route("/menu/backups/{contract}/snapshots/{snapshot}/restore", post(restore))
}

// ---------------------------------------------------------------- shared view helpers

/// Bytes for people: `1,5 MiB` (German) or `1.5 MiB`.
pub(super) fn human_bytes(n: i64, lang: Language) -> String {
    let n = n.max(0) as f64;
    let (value, unit) = if n < 1024.0 {
        return format!("{n} B");
    } else if n < 1024.0 * 1024.0 {
        (n / 1024.0, "KiB")
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        (n / 1024.0 / 1024.0, "MiB")
    } else {
        (n / 1024.0 / 1024.0 / 1024.0, "GiB")
    };
    let text = format!("{value:.1} {unit}");
    match lang {
        Language::De => text.replace('.', ","),
        Language::En => text,
    }
}

fn snapshot_view(s: &BackupSnapshot, lang: Language) -> Value {
    context! {
        id => s.snapshot_id,
        short => s.snapshot_id.get(..8).unwrap_or(&s.snapshot_id),
        kind => s.kind,
        kind_label => t(lang, &format!("backups.snapshot_kind.{}", s.kind)),
        database => s.part.strip_prefix("db:"),
        taken => format_berlin_datetime(s.taken_at, lang),
        size => human_bytes(s.total_bytes, lang),
        files => s.total_files,
    }
}

/// A job for the pages; `staff` shows who asked by name.
pub(super) fn job_view(v: &JobView, lang: Language, staff: bool) -> Value {
    let j = &v.job;
    let at = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(|t| format_berlin_datetime(t, lang))
    };
    let requester = match (j.requested_by_kind.as_str(), staff) {
        ("customer", false) => t(lang, "backups.by.you"),
        ("system", _) => t(lang, "backups.by.system"),
        ("staff", false) => t(lang, "backups.by.staff"),
        (kind, true) => format!("{} ({})", t(lang, &format!("backups.by.{kind}")), j.requested_by_name),
        (_, false) => j.requested_by_name.clone(),
    };
    context! {
        id => j.id,
        contract_id => j.contract_id,
        kind => j.kind.as_str(),
        kind_label => t(lang, &format!("backups.kind.{}", j.kind.as_str())),
        folder => backups::restore_folder(j),
        status => j.status.as_str(),
        state => backups::job_state_text(lang, v),
        created => at(Some(j.created_at)),
        started => at(j.started_at),
        finished => at(j.finished_at),
        error => j.error.as_deref().map(|e| backups::job_error_text(e, lang)),
        requester,
        attempts => j.attempts,
    }
}

/// One contract's backups for a template.
pub(super) fn contract_backups_view(c: &ContractBackups, lang: Language, staff: bool) -> Value {
    let (db, files): (Vec<&BackupSnapshot>, Vec<&BackupSnapshot>) =
        c.snapshots.iter().partition(|s| s.part.starts_with("db:"));
    let a = &c.allowance;
    context! {
        id => c.contract.id,
        tariff => c.contract.tariff_name,
        system_user => c.contract.system_user.as_str(),
        node => c.contract.node,
        window => c.window,
        retention => t(lang, "backups.retention")
            .replace("{daily}", &c.keep_daily.to_string())
            .replace("{monthly}", &c.keep_monthly.to_string()),
        allowance => context! {
            per_day => a.per_day, used_today => a.used_today, quota_mib => a.quota_mib, used_mib => a.used_mib,
            line => t(lang, "backups.allowance_line")
                .replace("{used}", &a.used_today.to_string())
                .replace("{per_day}", &a.per_day.to_string()),
            storage => t(lang, "backups.storage_line")
                .replace("{used}", &a.used_mib.to_string())
                .replace("{quota}", &a.quota_mib.to_string()),
            included => a.per_day > 0,
        },
        snapshots => files.iter().map(|s| snapshot_view(s, lang)).collect::<Vec<_>>(),
        db_snapshots => db.iter().map(|s| snapshot_view(s, lang)).collect::<Vec<_>>(),
        databases => c.databases,
        mailboxes => c.mailboxes,
        jobs => c.jobs.iter().map(|j| job_view(j, lang, staff)).collect::<Vec<_>>(),
    }
}

// ---------------------------------------------------------------- overview

#[derive(Debug, Deserialize)]
struct DoneJob {
    done: Option<String>,
    job: Option<i64>,
}

async fn render_overview(
    state: &AppState,
    ctx: &Ctx,
    customer: &Customer,
    only: Option<i64>,
    extra: Value,
) -> Result<Html<String>, PageError> {
    let lang = ctx.lang;
    let list = match only {
        Some(id) => vec![backups::contract_backups(state, customer, id).await?],
        None => backups::overview(state, customer).await?,
    };
    let contracts: Vec<Value> = list.iter().map(|c| contract_backups_view(c, lang, false)).collect();
    state.views.render(
        "menu/backups.html",
        minijinja::value::merge_maps([extra, context! { contracts, single => only.is_some() }, ctx.base(state)]),
    )
}

/// The notice after a queued job: which job, and where it waits.
async fn job_notice(state: &AppState, customer: &Customer, lang: Language, q: &DoneJob) -> Option<String> {
    let id = q.job?;
    for c in backups::overview(state, customer).await.ok()? {
        if let Some(v) = c.jobs.iter().find(|j| j.job.id == id) {
            return Some(
                t(lang, "backups.job_notice")
                    .replace("{id}", &id.to_string())
                    .replace("{state}", &backups::job_state_text(lang, v)),
            );
        }
    }
    None
}

async fn overview_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Query(q): Query<DoneJob>,
) -> Result<Html<String>, PageError> {
    let notice = job_notice(&state, &customer, ctx.lang, &q).await;
    render_overview(&state, &ctx, &customer, None, context! { done => q.done, notice }).await
}

async fn contract_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(contract): Path<i64>,
    Query(q): Query<DoneJob>,
) -> Result<Html<String>, PageError> {
    let notice = job_notice(&state, &customer, ctx.lang, &q).await;
    render_overview(&state, &ctx, &customer, Some(contract), context! { done => q.done, notice }).await
}

/// A failed action on the contract page: 404 for what is not the customer's, else the page with the message.
async fn contract_failed(
    state: &AppState,
    ctx: &Ctx,
    customer: &Customer,
    contract: i64,
    e: ServiceError,
) -> Result<Response, PageError> {
    if matches!(e, ServiceError::NotFound | ServiceError::Forbidden | ServiceError::NoCall) {
        return Err(e.into());
    }
    let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
    let page = render_overview(state, ctx, customer, Some(contract), context! { error }).await?;
    Ok(with_status(form_status(&e), page))
}

fn queued(contract: i64, done: &str, job: i64) -> Response {
    Redirect::to(&format!("/menu/backups/{contract}?done={done}&job={job}")).into_response()
}

async fn on_demand(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(contract): Path<i64>,
    CsrfForm(_): CsrfForm<serde::de::IgnoredAny>,
) -> Result<Response, PageError> {
    match backups::request_on_demand(&state, &customer, contract, &Requester::Customer(&customer)).await {
        Ok(v) => Ok(queued(contract, "backup_on_demand_queued", v.job.id)),
        Err(e) => contract_failed(&state, &ctx, &customer, contract, e).await,
    }
}

#[derive(Deserialize)]
struct DbRestoreForm {
    #[serde(default)]
    snapshot: String,
    /// `yes` once the customer confirmed on the confirmation page.
    #[serde(default)]
    confirmed: String,
}

async fn db_restore(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path(contract): Path<i64>,
    CsrfForm(form): CsrfForm<DbRestoreForm>,
) -> Result<Response, PageError> {
    if form.confirmed != "yes" {
        state.store.contract(customer.id, contract).await?;
        let lang = ctx.lang;
        let fields = [("snapshot".to_owned(), form.snapshot.clone())];
        return confirmation_page(
            &state,
            &ctx,
            Confirmation {
                action: &format!("/menu/backups/{contract}/db-restore"),
                fields: &fields,
                title: t(lang, "confirm.db_restore_title"),
                question: t(lang, "confirm.db_restore_question"),
                detail: Some(t(lang, "confirm.db_restore_detail")),
                button: t(lang, "confirm.db_restore_button"),
                cancel: &format!("/menu/backups/{contract}"),
            },
        );
    }
    match backups::request_db_restore(&state, &customer, contract, &form.snapshot, &Requester::Customer(&customer))
        .await
    {
        Ok(v) => Ok(queued(contract, "backup_db_restore_queued", v.job.id)),
        Err(e) => contract_failed(&state, &ctx, &customer, contract, e).await,
    }
}

// ---------------------------------------------------------------- browsing

#[derive(Debug, Default, Deserialize)]
struct Where {
    #[serde(default)]
    path: String,
    #[serde(default)]
    mailbox: Option<String>,
}

impl Where {
    fn mailbox(&self) -> Option<&str> {
        self.mailbox.as_deref().filter(|m| !m.is_empty())
    }
}

/// `?path=…&mailbox=…` for links.
fn query(path: &str, mailbox: Option<&str>) -> String {
    let mut pairs = vec![("path", path)];
    if let Some(m) = mailbox {
        pairs.push(("mailbox", m));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn render_browse(
    state: &AppState,
    ctx: &Ctx,
    customer: &Customer,
    contract: i64,
    snapshot: &str,
    at: &Where,
    extra: Value,
) -> Result<Html<String>, ServiceError> {
    let lang = ctx.lang;
    let mailbox = at.mailbox();
    let b = backups::browse(state, customer, contract, snapshot, mailbox, &at.path).await?;
    let c = backups::contract_backups(state, customer, contract).await?;
    let base = format!("/menu/backups/{contract}/snapshots/{}", b.snapshot.snapshot_id);
    let mut crumbs = vec![context! {
        name => mailbox.map_or_else(|| t(lang, "backups.webspace"), str::to_owned),
        href => format!("{base}?{}", query("", mailbox)),
    }];
    let mut so_far = String::new();
    for seg in b.path.as_str().split('/').filter(|s| !s.is_empty()) {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(seg);
        crumbs.push(context! { name => seg, href => format!("{base}?{}", query(&so_far, mailbox)) });
    }
    let entries: Vec<Value> = b
        .entries
        .iter()
        .filter_map(|e| {
            let rel = b.path.join(&e.name).ok()?;
            let q = query(rel.as_str(), mailbox);
            Some(context! {
                name => e.name,
                path => rel.as_str(),
                is_dir => e.is_dir,
                is_file => e.is_file,
                size => human_bytes(i64::try_from(e.size).unwrap_or(i64::MAX), lang),
                mtime => format_berlin_datetime(e.mtime, lang),
                open => e.is_dir.then(|| format!("{base}?{q}")),
                download => format!("{base}/download?{q}"),
            })
        })
        .collect();
    let parent = (!b.path.is_root()).then(|| format!("{base}?{}", query(b.path.parent().as_str(), mailbox)));
    let mailboxes: Vec<Value> = c
        .mailboxes
        .iter()
        .map(|m| context! { address => m, href => format!("{base}?{}", query("", Some(m))), current => Some(m.as_str()) == mailbox })
        .collect();
    let ctx_value = context! {
        contract => context! { id => c.contract.id, tariff => c.contract.tariff_name, system_user => c.contract.system_user.as_str() },
        snapshot => snapshot_view(&b.snapshot, lang),
        mailbox,
        mailboxes,
        webspace_href => format!("{base}?{}", query("", None)),
        path => b.path.as_str(),
        shown_path => b.path.to_string(),
        crumbs,
        parent,
        entries,
        download_here => format!("{base}/download?{}", query(b.path.as_str(), mailbox)),
        restore_action => format!("{base}/restore"),
    };
    state
        .views
        .render("menu/backups_browse.html", minijinja::value::merge_maps([extra, ctx_value, ctx.base(state)]))
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

async fn browse_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path((contract, snapshot)): Path<(i64, String)>,
    Query(at): Query<Where>,
) -> Result<Response, PageError> {
    match render_browse(&state, &ctx, &customer, contract, &snapshot, &at, context! {}).await {
        Ok(page) => Ok(page.into_response()),
        Err(e) => contract_failed(&state, &ctx, &customer, contract, e).await,
    }
}

/// `attachment; filename="…"` with an ASCII fallback and the RFC 5987 `filename*` for other names.
pub(super) fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' })
        .collect();
    if fallback == name {
        return format!("attachment; filename=\"{name}\"");
    }
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

async fn download(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path((contract, snapshot)): Path<(i64, String)>,
    Query(at): Query<Where>,
) -> Result<Response, PageError> {
    match backups::download(&state, &customer, contract, &snapshot, at.mailbox(), &at.path).await {
        Ok(d) => {
            let kind = if d.archive { "application/gzip" } else { "application/octet-stream" };
            let mut r = d.body.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
            if let Ok(v) = HeaderValue::from_str(&content_disposition(&d.filename)) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(e) => contract_failed(&state, &ctx, &customer, contract, e).await,
    }
}

// ---------------------------------------------------------------- restores

/// The restore form: every checked `paths` field (the empty one is the whole webspace or mailbox) and `target`.
fn restore_request(
    fields: &[(String, String)],
    snapshot: &str,
    mailbox: Option<String>,
) -> Result<RestoreRequest, ServiceError> {
    let paths = fields
        .iter()
        .filter(|(k, _)| k == "paths")
        .map(|(_, v)| RelativePath::parse(v).map_err(|e| ServiceError::Invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let target = fields.iter().find(|(k, _)| k == "target").map_or("", |(_, v)| v.as_str());
    Ok(RestoreRequest { snapshot: snapshot.to_owned(), mailbox, paths, target: RestoreTarget::parse(target)? })
}

async fn restore(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentCustomer(customer): CurrentCustomer,
    Path((contract, snapshot)): Path<(i64, String)>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let at = Where {
        path: field("dir").unwrap_or("").to_owned(),
        mailbox: field("mailbox").filter(|m| !m.is_empty()).map(str::to_owned),
    };
    let result = match restore_request(&fields, &snapshot, at.mailbox.clone()) {
        // Restoring in place replaces what is there now: the page asks first.
        Ok(req) if req.target == RestoreTarget::InPlace && !confirmed(&fields) => {
            // only about the customer's own contract: anyone else's is "not found" before anything is asked
            state.store.contract(customer.id, contract).await?;
            let lang = ctx.lang;
            let what = if req.paths.is_empty() {
                t(
                    lang,
                    if req.mailbox.is_some() {
                        "confirm.restore_whole_mailbox"
                    } else {
                        "confirm.restore_whole_webspace"
                    },
                )
            } else {
                req.paths.iter().map(|p| format!("/{}", p.as_str())).collect::<Vec<_>>().join(", ")
            };
            let cancel = format!("/menu/backups/{contract}/snapshots/{snapshot}");
            return confirmation_page(
                &state,
                &ctx,
                Confirmation {
                    action: &format!("/menu/backups/{contract}/snapshots/{snapshot}/restore"),
                    fields: &fields,
                    title: t(lang, "confirm.restore_title"),
                    question: t(lang, "confirm.restore_question").replace("{what}", &what),
                    detail: Some(t(lang, "confirm.restore_detail")),
                    button: t(lang, "confirm.restore_button"),
                    cancel: &cancel,
                },
            );
        }
        Ok(req) => backups::request_restore(&state, &customer, contract, &req, &Requester::Customer(&customer)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(queued(contract, "backup_restore_queued", v.job.id)),
        Err(e) if matches!(e, ServiceError::NotFound | ServiceError::Forbidden | ServiceError::NoCall) => Err(e.into()),
        Err(e) => {
            let Some(error) = user_message(&e, ctx.lang) else { return Err(e.into()) };
            let status = form_status(&e);
            // Back on the folder the form came from; if that cannot be shown, on the contract's page.
            let page = match render_browse(
                &state,
                &ctx,
                &customer,
                contract,
                &snapshot,
                &at,
                context! { error => error.clone() },
            )
            .await
            {
                Ok(p) => p,
                Err(_) => render_overview(&state, &ctx, &customer, Some(contract), context! { error }).await?,
            };
            Ok(with_status(status, page))
        }
    }
}
