//! Backups' use cases. Customers: snapshots by date, browsing, downloads, restores (files, folders, the
//! webspace, a mailbox, a database) and on-demand backups within the tariff's allowance, with job status and
//! queue position. Staff: restore orders inside a verified call, the job overview, and retention maintenance
//! (a dry-run plan first, then forget + prune). Agents: claim a job, report heartbeats and the outcome. The
//! panel's tick queues each night's backups and requeues jobs whose agent went silent.
//!
//! Every decision about what may start comes from `hostwerk-schedule`'s scheduler, rebuilt from the database
//! queue on each claim: caps per webserver and backup server, restores > nightly > on-demand, and admission
//! control that starts a restore or on-demand backup only if every queued nightly job still ends in its window.

use hostwerk_domain::AuditAction;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hostwerk_domain::backup_job::{
    check_on_demand, AllowanceError, BackupJobKind, BackupJobStatus, NightlyWindow, OnDemandUsage, RelativePath,
};
use hostwerk_domain::Language;
use hostwerk_protocol::backup::{
    AgentJob, AgentReport, AgentRestore, FinishOutcome, HeartbeatOutcome, RestoreInto, SnapshotPart,
};
use hostwerk_schedule::{AdmissionPolicy, Job, JobId, JobKind, ServerId};
use hostwerk_store::{
    Actor, BackupJob, BackupSnapshot, Contract, Customer, JobOutcome, MaintenancePlan, NewBackupJob, NewBackupSnapshot,
    Node, StaffUser,
};
use serde::{Deserialize, Serialize};

use crate::backup_repos::{self, DirEntry, RepoError, Repos};
use crate::i18n::{t, Localized};
use crate::service::ServiceError;
use crate::AppState;

/// The most paths one restore takes (more: restore their folder).
pub const MAX_RESTORE_PATHS: usize = 100;

/// A backup request the customer or staff can correct, or that clashes with the current state. The text is
/// looked up by its key ([`Localized`]) in the reader's language, with the carried values put in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupError {
    /// The tariff includes no on-demand backups.
    NotIncluded,
    /// Today's on-demand backups are used up.
    DailyLimitReached { used: u32, allowed: u32 },
    /// The storage for on-demand backups is full.
    QuotaFull { used_mib: u64, quota_mib: u64 },
    /// An on-demand backup of the contract is already queued or running.
    AlreadyPending,
    /// The contract has no webserver yet.
    NoWebserver,
    /// The panel has no repository configured for the webserver.
    NotReadable { webserver: String },
    /// The restored mailbox was deleted since the restore was ordered.
    MailboxGone { mailbox: String },
    /// The database no longer belongs to the contract.
    DatabaseGone { database: String },
    /// Neither "folder" nor "in place" was chosen.
    ChooseTarget,
    /// A files restore from a database snapshot.
    HoldsDatabase,
    /// A database restore from a files snapshot.
    HoldsFiles,
    /// No path was chosen.
    NothingChosen,
    /// More than `max` paths at once.
    TooManyPaths { max: usize },
    /// A mailbox restore into a folder.
    MailboxInPlace,
    /// A chosen path is not in the snapshot.
    PathNotInBackup,
    /// A download of a link or a special file.
    NoContent,
    /// The maintenance plan was carried out already.
    PlanDone,
}

impl Localized for BackupError {
    fn key(&self) -> &'static str {
        match self {
            Self::NotIncluded => "backups.error.not_included",
            Self::DailyLimitReached { .. } => "backups.error.daily_limit",
            Self::QuotaFull { .. } => "backups.error.quota_full",
            Self::AlreadyPending => "backups.error.already_pending",
            Self::NoWebserver => "backups.error.no_webserver",
            Self::NotReadable { .. } => "backups.error.not_readable",
            Self::MailboxGone { .. } => "backups.error.mailbox_gone",
            Self::DatabaseGone { .. } => "backups.error.database_gone",
            Self::ChooseTarget => "backups.error.choose_target",
            Self::HoldsDatabase => "backups.error.holds_database",
            Self::HoldsFiles => "backups.error.holds_files",
            Self::NothingChosen => "backups.error.nothing_chosen",
            Self::TooManyPaths { .. } => "backups.error.too_many_paths",
            Self::MailboxInPlace => "backups.error.mailbox_in_place",
            Self::PathNotInBackup => "backups.error.path_not_in_backup",
            Self::NoContent => "backups.error.no_content",
            Self::PlanDone => "backups.error.plan_done",
        }
    }

    fn args(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::DailyLimitReached { used, allowed } => {
                vec![("used", used.to_string()), ("allowed", allowed.to_string())]
            }
            Self::QuotaFull { used_mib, quota_mib } => {
                vec![("used", used_mib.to_string()), ("quota", quota_mib.to_string())]
            }
            Self::NotReadable { webserver } => vec![("webserver", webserver.clone())],
            Self::MailboxGone { mailbox } => vec![("mailbox", mailbox.clone())],
            Self::DatabaseGone { database } => vec![("database", database.clone())],
            Self::TooManyPaths { max } => vec![("max", max.to_string())],
            Self::NotIncluded
            | Self::AlreadyPending
            | Self::NoWebserver
            | Self::ChooseTarget
            | Self::HoldsDatabase
            | Self::HoldsFiles
            | Self::NothingChosen
            | Self::MailboxInPlace
            | Self::PathNotInBackup
            | Self::NoContent
            | Self::PlanDone => Vec::new(),
        }
    }
}

impl BackupError {
    /// Whether the request clashes with the current state (409) rather than being malformed (422).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::NotIncluded
                | Self::DailyLimitReached { .. }
                | Self::QuotaFull { .. }
                | Self::AlreadyPending
                | Self::NoWebserver
                | Self::NotReadable { .. }
                | Self::NoContent
                | Self::PlanDone
        )
    }

    /// The form a job's failure is stored in (`backup_jobs.error`), so that its page shows it in the reader's
    /// language: `{"key": …, "args": {…}}`.
    fn stored(&self) -> String {
        let args: serde_json::Map<String, serde_json::Value> =
            self.args().into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
        serde_json::json!({ "key": self.key(), "args": args }).to_string()
    }

    /// One of each variant, for the test that every one has its texts (`args` matches every variant without
    /// a wildcard: a new variant is added there and here).
    #[cfg(test)]
    fn examples() -> Vec<BackupError> {
        vec![
            Self::NotIncluded,
            Self::DailyLimitReached { used: 2, allowed: 2 },
            Self::QuotaFull { used_mib: 900, quota_mib: 1024 },
            Self::AlreadyPending,
            Self::NoWebserver,
            Self::NotReadable { webserver: "web001".into() },
            Self::MailboxGone { mailbox: "info@example.de".into() },
            Self::DatabaseGone { database: "k1000001_shop".into() },
            Self::ChooseTarget,
            Self::HoldsDatabase,
            Self::HoldsFiles,
            Self::NothingChosen,
            Self::TooManyPaths { max: MAX_RESTORE_PATHS },
            Self::MailboxInPlace,
            Self::PathNotInBackup,
            Self::NoContent,
            Self::PlanDone,
        ]
    }
}

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Language::En))
    }
}

impl std::error::Error for BackupError {}

impl From<AllowanceError> for BackupError {
    fn from(e: AllowanceError) -> Self {
        match e {
            AllowanceError::NotIncluded => BackupError::NotIncluded,
            AllowanceError::DailyLimit { used, allowed } => BackupError::DailyLimitReached { used, allowed },
            AllowanceError::QuotaFull { used_mib, quota_mib } => BackupError::QuotaFull { used_mib, quota_mib },
            AllowanceError::AlreadyPending => BackupError::AlreadyPending,
        }
    }
}

/// A job's stored failure in `lang`: a panel-side failure ([`BackupError::stored`]) in the reader's language;
/// what the agent reported (the engine's own words) as it is.
pub fn job_error_text(error: &str, lang: Language) -> String {
    #[derive(Deserialize)]
    struct Stored {
        key: String,
        #[serde(default)]
        args: std::collections::BTreeMap<String, String>,
    }
    match serde_json::from_str::<Stored>(error) {
        Ok(s) if s.key.starts_with("backups.error.") => crate::i18n::fill(&t(lang, &s.key), &s.args),
        _ => error.to_owned(),
    }
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::PathNotFound => ServiceError::NotFound,
            RepoError::NotConfigured(webserver) => BackupError::NotReadable { webserver }.into(),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

// ---------------------------------------------------------------- clock and configuration

/// "Now" for the backup scheduler: the system clock, or in tests the time in `backup.test_clock_file`
/// advanced by the real time since the file was written.
pub fn now(state: &AppState) -> DateTime<Utc> {
    let real = Utc::now();
    let Some(path) = &state.config.backup.test_clock_file else { return real };
    let read = || -> Option<DateTime<Utc>> {
        let text = std::fs::read_to_string(path).ok()?;
        let base = DateTime::parse_from_rfc3339(text.trim()).ok()?.with_timezone(&Utc);
        let written: DateTime<Utc> = std::fs::metadata(path).ok()?.modified().ok()?.into();
        Some(base + (real - written).max(Duration::zero()))
    };
    read().unwrap_or(real)
}

/// The configured nightly window.
pub fn window(state: &AppState) -> Result<NightlyWindow, ServiceError> {
    NightlyWindow::parse(&state.config.backup.window, &state.config.backup.time_zone)
        .map_err(|e| ServiceError::Internal(format!("backup.window: {e}")))
}

/// Checks the backup settings at start-up: one clear message for the first problem.
pub fn validate_config(config: &crate::Config) -> Result<(), String> {
    let b = &config.backup;
    NightlyWindow::parse(&b.window, &b.time_zone).map_err(|e| format!("backup.window: {e}"))?;
    if b.webserver_concurrency == 0 || b.backup_server_concurrency == 0 {
        return Err("backup.webserver_concurrency and backup.backup_server_concurrency must be at least 1".into());
    }
    if b.heartbeat_timeout_seconds < 2 || b.max_attempts < 1 || b.tick_seconds == 0 {
        return Err("backup.heartbeat_timeout_seconds must be ≥ 2, max_attempts ≥ 1 and tick_seconds ≥ 1".into());
    }
    Ok(())
}

fn invalid(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Invalid(e.to_string())
}

// ---------------------------------------------------------------- the agent protocol

// The wire types are `hostwerk_protocol::backup`'s, shared with the agent.

/// What a restore job stores as its parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RestoreParams {
    snapshot: String,
    /// `webspace` or `mailbox`.
    area: String,
    #[serde(default)]
    mailbox: Option<String>,
    /// Relative to the area's root.
    paths: Vec<String>,
    target: RestoreInto,
    #[serde(default)]
    folder: Option<String>,
    #[serde(default)]
    database: Option<String>,
}

/// The folder, relative to the webspace, that a restore into a new folder writes to (`restore-…`); `None` for
/// every other job and for restores in place.
pub fn restore_folder(job: &BackupJob) -> Option<String> {
    if job.kind != BackupJobKind::Restore {
        return None;
    }
    let params: RestoreParams = serde_json::from_str(&job.params).ok()?;
    let folder = params.folder.filter(|_| params.target == RestoreInto::Folder)?;
    folder.trim_end_matches('/').rsplit('/').next().filter(|name| !name.is_empty()).map(str::to_owned)
}

// ---------------------------------------------------------------- scheduling

fn sched_kind(k: BackupJobKind) -> JobKind {
    match k {
        BackupJobKind::Restore | BackupJobKind::DatabaseRestore => JobKind::Restore,
        BackupJobKind::Nightly => JobKind::Nightly,
        BackupJobKind::OnDemand => JobKind::OnDemand,
    }
}

fn server(id: Option<i64>) -> ServerId {
    ServerId(u32::try_from(id.unwrap_or(0)).unwrap_or(u32::MAX))
}

fn unix(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// The scheduler over a set of queued and running jobs, as the database has them.
fn scheduler_for(state: &AppState, jobs: &[BackupJob], now: i64) -> Result<hostwerk_schedule::Scheduler, ServiceError> {
    let b = &state.config.backup;
    let mut webs: Vec<ServerId> = jobs.iter().map(|j| server(Some(j.node_id))).collect();
    let mut backups: Vec<ServerId> = jobs.iter().map(|j| server(j.backup_server_id)).collect();
    webs.sort();
    webs.dedup();
    backups.sort();
    backups.dedup();
    let config = hostwerk_schedule::scheduler::SchedulerConfig {
        webservers: webs
            .into_iter()
            .map(|id| hostwerk_schedule::scheduler::ServerCap { id, cap: b.webserver_concurrency })
            .collect(),
        backup_servers: backups
            .into_iter()
            .map(|id| hostwerk_schedule::scheduler::ServerCap { id, cap: b.backup_server_concurrency })
            .collect(),
        policy: AdmissionPolicy { restores_bypass_admission: b.restores_bypass_admission },
    };
    let mut s = hostwerk_schedule::Scheduler::new(&config).map_err(|e| ServiceError::Internal(e.to_string()))?;
    for j in jobs {
        let job = Job {
            id: JobId(unix(j.id)),
            kind: sched_kind(j.kind),
            webserver: server(Some(j.node_id)),
            backup_server: server(j.backup_server_id),
            estimated: unix(j.estimate_seconds.max(1)),
            submitted: unix(j.created_at),
            deadline: match j.kind {
                BackupJobKind::Nightly => Some(unix(j.deadline.unwrap_or(now))),
                _ => None,
            },
        };
        let r = match j.status {
            BackupJobStatus::Running => s.resume(job, unix(j.started_at.unwrap_or(now))),
            _ => s.submit(job),
        };
        r.map_err(|e| ServiceError::Internal(e.to_string()))?;
    }
    Ok(s)
}

/// A queued job's place: how many jobs run before it on its servers, and when it is expected to start.
#[derive(Debug, Clone, Serialize)]
pub struct QueuePlace {
    pub position: usize,
    pub eta_start: DateTime<Utc>,
    pub eta_finish: DateTime<Utc>,
}

async fn queue_place(state: &AppState, job: &BackupJob, now: i64) -> Result<Option<QueuePlace>, ServiceError> {
    Ok(queue_places(state, std::slice::from_ref(job), now).await?.pop().flatten())
}

/// The queue places of `jobs` (`None` for jobs that are not queued), all of one contract: the queue of its
/// servers is read and its scheduler built once.
async fn queue_places(state: &AppState, jobs: &[BackupJob], now: i64) -> Result<Vec<Option<QueuePlace>>, ServiceError> {
    let Some(first) = jobs.iter().find(|j| j.status == BackupJobStatus::Queued) else {
        return Ok(vec![None; jobs.len()]);
    };
    let queue = state.store.backup_queue(first.node_id, first.backup_server_id).await?;
    let s = scheduler_for(state, &queue, now)?;
    let to_time = |t: u64| DateTime::from_timestamp(i64::try_from(t).unwrap_or(i64::MAX / 2), 0).unwrap_or_default();
    Ok(jobs
        .iter()
        .map(|job| {
            s.queue_position(JobId(unix(job.id)), unix(now)).map(|p| QueuePlace {
                position: p.position,
                eta_start: to_time(p.eta_start),
                eta_finish: to_time(p.eta_finish),
            })
        })
        .collect())
}

/// Estimated duration of a contract's next job: the last successful nightly backup's, at least the
/// configured minimum.
async fn estimate(state: &AppState, contract_id: i64) -> Result<i64, ServiceError> {
    let last = state
        .store
        .backup_jobs_of_contract(contract_id, 50)
        .await?
        .into_iter()
        .find(|j| j.kind == BackupJobKind::Nightly && j.status == BackupJobStatus::Succeeded)
        .and_then(|j| Some(j.finished_at? - j.started_at?));
    Ok(last.unwrap_or(state.config.backup.default_estimate_seconds).max(state.config.backup.min_estimate_seconds))
}

/// The agent of `node` asks for work: at most one job that may start now on this webserver.
pub async fn claim(state: &AppState, node: &Node) -> Result<Option<AgentJob>, ServiceError> {
    let _serial = state.backup_claims.lock().await;
    let now = now(state).timestamp();
    let backup_server = state.store.backup_server_of(node.id).await?;
    state.store.touch_agent(node.id, now).await?;
    // Queued jobs of a webserver whose agent has not asked for work lately (down, or being restarted) take
    // backup-server slots in the simulation that nobody uses. Its nightly jobs keep their place until their
    // window ends (the agent may come back in time); after that, and its other jobs always, are left out
    // until the agent is back.
    let live = state.store.live_agents(now - state.config.backup.heartbeat_timeout_seconds.max(30)).await?;
    let claim = state.store.begin_claim(node.id, backup_server).await?;
    let considered: Vec<BackupJob> = claim
        .jobs
        .iter()
        .filter(|j| {
            j.node_id == node.id
                || j.status == BackupJobStatus::Running
                || live.contains(&j.node_id)
                || (j.kind == BackupJobKind::Nightly && j.deadline.is_some_and(|d| d > now))
        })
        .cloned()
        .collect();
    let mut s = scheduler_for(state, &considered, now)?;
    let mine = server(Some(node.id));
    let mut chosen = Vec::new();
    let mut forecast = None;
    for st in s.tick(unix(now)).into_iter().filter(|st| st.webserver == mine) {
        let id = i64::try_from(st.job.0).unwrap_or(0);
        let Some(job) = claim.jobs.iter().find(|j| j.id == id) else { continue };
        if st.kind == JobKind::Nightly || fits_before_window(state, &claim.jobs, job, now, &mut forecast).await? {
            chosen.push(id);
            break;
        }
    }
    let claimed = state.store.commit_claim(claim, &chosen, now).await?;
    let Some(job) = claimed.into_iter().next() else { return Ok(None) };
    match agent_job(state, node, &job).await {
        Ok(a) => Ok(Some(a)),
        Err(e) => {
            // A job that cannot be described (a mailbox deleted since) fails at once instead of blocking the queue.
            let msg = match &e {
                ServiceError::Backup(b) => b.stored(),
                other => other.to_string(),
            };
            let outcome = JobOutcome { ok: false, result: "{}", error: Some(&msg), snapshots: &[], retry: false };
            let job = state.store.finish_backup_job(node.id, job.id, job.attempts, &outcome, now).await?;
            tell_customer(state, &job).await;
            Ok(None)
        }
    }
}

/// The coming night as the scheduler will see it at its start: the jobs still running then and the nightly jobs
/// of the webserver and its backup server (estimated as they will be queued), with the ids of the nightly jobs
/// that miss their window already without anything started now.
struct NightForecast {
    start: i64,
    jobs: Vec<BackupJob>,
    misses: Vec<u64>,
}

impl NightForecast {
    async fn build(
        state: &AppState,
        queue: &[BackupJob],
        webserver: &BackupJob,
        (start, end): (i64, i64),
        now: i64,
    ) -> Result<Self, ServiceError> {
        let b = &state.config.backup;
        let upcoming = state
            .store
            .upcoming_nightly(
                webserver.node_id,
                webserver.backup_server_id,
                b.default_estimate_seconds,
                b.min_estimate_seconds,
            )
            .await?;
        let mut jobs: Vec<BackupJob> = queue
            .iter()
            .filter(|j| {
                j.status == BackupJobStatus::Running && j.started_at.unwrap_or(now) + j.estimate_seconds > start
            })
            .cloned()
            .collect();
        for (i, (contract, node, backup, est)) in upcoming.into_iter().enumerate() {
            jobs.push(BackupJob {
                // Not queued yet: ids above any real one (the scheduler's ids are unsigned).
                id: i64::MAX / 2 - i64::try_from(i).unwrap_or(0),
                contract_id: contract,
                node_id: node,
                backup_server_id: backup,
                kind: BackupJobKind::Nightly,
                status: BackupJobStatus::Queued,
                deadline: Some(end),
                estimate_seconds: est,
                created_at: start,
                ..webserver.clone()
            });
        }
        let misses = nightly_misses(state, &jobs, start)?;
        Ok(Self { start, jobs, misses })
    }
}

/// The nightly jobs among `jobs` that the scheduler forecasts to end after their window, at `start`.
fn nightly_misses(state: &AppState, jobs: &[BackupJob], start: i64) -> Result<Vec<u64>, ServiceError> {
    let s = scheduler_for(state, jobs, start)?;
    Ok(s.nightly_forecast(unix(start)).into_iter().filter(|f| f.misses()).map(|f| f.job.0).collect())
}

/// Admission before the window: the scheduler only knows the nightly jobs once the window opened and they
/// are queued. A restore or on-demand backup that would still run when the next window opens may start only if
/// the night, forecast now with that night's nightly jobs, still ends every nightly job in its window — or, in a
/// night that overruns anyway, makes none of them miss that would not. The forecast is built once per claim
/// (`forecast`): every candidate of a claim is on the same webserver.
async fn fits_before_window(
    state: &AppState,
    queue: &[BackupJob],
    candidate: &BackupJob,
    now: i64,
    forecast: &mut Option<NightForecast>,
) -> Result<bool, ServiceError> {
    if state.config.backup.restores_bypass_admission && !candidate.kind.is_backup() {
        return Ok(true);
    }
    let night = window(state)?.next_or_current(DateTime::from_timestamp(now, 0).unwrap_or_default());
    let (start, end) = (night.start.timestamp(), night.end.timestamp());
    if start <= now || now + candidate.estimate_seconds <= start {
        return Ok(true); // inside the window the queued nightly jobs are checked by the scheduler itself
    }
    let forecast = match forecast {
        Some(f) => f,
        None => forecast.insert(NightForecast::build(state, queue, candidate, (start, end), now).await?),
    };
    let mut with = forecast.jobs.clone();
    with.push(BackupJob { status: BackupJobStatus::Running, started_at: Some(now), ..candidate.clone() });
    let after = nightly_misses(state, &with, forecast.start)?;
    Ok(after.iter().all(|m| forecast.misses.contains(m)))
}

fn mail_folder(state: &AppState, address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    Some(format!("{}/{}/{}", state.config.backup.mail_root.trim_end_matches('/'), domain, local))
}

async fn contract_of_job(state: &AppState, job: &BackupJob) -> Result<Contract, ServiceError> {
    Ok(state.store.contract(hostwerk_store::CustomerId(job.customer_id), job.contract_id).await?)
}

async fn mail_folders(
    state: &AppState,
    job_customer: i64,
    contract_id: i64,
) -> Result<Vec<(String, String)>, ServiceError> {
    Ok(state
        .store
        .mailboxes(hostwerk_store::CustomerId(job_customer))
        .await?
        .into_iter()
        .filter(|m| m.contract_id == contract_id)
        .filter_map(|m| mail_folder(state, m.address.as_str()).map(|f| (m.address.as_str().to_owned(), f)))
        .collect())
}

async fn agent_job(state: &AppState, node: &Node, job: &BackupJob) -> Result<AgentJob, ServiceError> {
    let contract = contract_of_job(state, job).await?;
    let mut tags = vec![format!("contract:{}", job.contract_id), format!("job:{}", job.id)];
    let mut paths = Vec::new();
    let mut databases = Vec::new();
    let mut restore = None;
    match job.kind {
        BackupJobKind::Nightly | BackupJobKind::OnDemand => {
            tags.push(format!("kind:{}", job.kind.as_str()));
            paths.push(contract.webspace_path.clone());
            paths.extend(mail_folders(state, job.customer_id, job.contract_id).await?.into_iter().map(|(_, f)| f));
            databases = state.store.contract_databases(job.contract_id).await?;
        }
        BackupJobKind::Restore | BackupJobKind::DatabaseRestore => {
            let p: RestoreParams = serde_json::from_str(&job.params).map_err(invalid)?;
            let root = match (p.area.as_str(), &p.mailbox) {
                ("mailbox", Some(address)) => mail_folders(state, job.customer_id, job.contract_id)
                    .await?
                    .into_iter()
                    .find(|(a, _)| a == address)
                    .map(|(_, f)| f)
                    .ok_or_else(|| BackupError::MailboxGone { mailbox: address.clone() })?,
                _ => contract.webspace_path.clone(),
            };
            let abs = p
                .paths
                .iter()
                .map(|r| RelativePath::parse(r).map(|r| r.under(&root)).map_err(invalid))
                .collect::<Result<Vec<_>, _>>()?;
            restore = Some(AgentRestore {
                snapshot: p.snapshot,
                paths: abs,
                allowed_root: root,
                target: p.target,
                folder: p.folder,
                database: p.database,
            });
        }
    }
    Ok(AgentJob {
        id: job.id,
        attempt: job.attempts,
        kind: job.kind,
        contract_id: job.contract_id,
        system_user: contract.system_user.as_str().to_owned(),
        host: node.name.as_str().to_owned(),
        tags,
        paths,
        databases,
        restore,
        heartbeat_seconds: u64::try_from(state.config.backup.heartbeat_timeout_seconds / 3).unwrap_or(1).max(1),
    })
}

/// The agent still works on a job; superseded when the job was given to another attempt (the agent stops it).
pub async fn heartbeat(
    state: &AppState,
    node: &Node,
    job_id: i64,
    attempt: i64,
) -> Result<HeartbeatOutcome, ServiceError> {
    Ok(if state.store.backup_heartbeat(node.id, job_id, attempt, now(state).timestamp()).await? {
        HeartbeatOutcome::Continue
    } else {
        HeartbeatOutcome::Superseded
    })
}

/// The agent reports a job's end: the job is closed (or queued again for another nightly attempt), the
/// snapshots recorded, the customer told about on-demand backups and restores. Superseded when the job is no
/// longer this attempt's (the report is dropped).
pub async fn finish(
    state: &AppState,
    node: &Node,
    job_id: i64,
    attempt: i64,
    report: &AgentReport,
) -> Result<FinishOutcome, ServiceError> {
    let now = now(state).timestamp();
    let mut snapshots = Vec::new();
    for s in &report.snapshots {
        if s.id.len() != 64 || !s.id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ServiceError::Invalid(format!("snapshot id {:?} is not a full hex id", s.id)));
        }
        let taken = DateTime::parse_from_rfc3339(&s.time).map_err(invalid)?.timestamp();
        snapshots.push(NewBackupSnapshot {
            snapshot_id: s.id.to_ascii_lowercase(),
            kind: s.kind.as_str().to_owned(),
            part: s.part.to_string(),
            taken_at: taken,
            total_files: i64::try_from(s.total_files).unwrap_or(i64::MAX),
            total_bytes: i64::try_from(s.total_bytes).unwrap_or(i64::MAX),
            bytes_added: i64::try_from(s.bytes_added).unwrap_or(i64::MAX),
        });
    }
    let result = serde_json::json!({
        "files": report.files, "bytes": report.bytes, "rolled_back": report.rolled_back,
        "warnings": report.warnings.iter().take(20).collect::<Vec<_>>(),
        "snapshots": report.snapshots.iter().map(|s| &s.id).collect::<Vec<_>>(),
    })
    .to_string();
    let current = state.store.backup_job_any(job_id).await?;
    let retry =
        !report.ok && current.kind == BackupJobKind::Nightly && current.attempts < state.config.backup.max_attempts;
    let outcome =
        JobOutcome { ok: report.ok, result: &result, error: report.error.as_deref(), snapshots: &snapshots, retry };
    let job = match state.store.finish_backup_job(node.id, job_id, attempt, &outcome, now).await {
        Ok(job) => job,
        Err(hostwerk_store::StoreError::NotThisAttempt { .. }) => return Ok(FinishOutcome::Superseded),
        Err(e) => return Err(e.into()),
    };
    if !snapshots.is_empty() {
        state.backup_repos.refresh(node.name.as_str());
    }
    if job.status.is_finished() {
        tell_customer(state, &job).await;
    }
    Ok(FinishOutcome::Recorded(job.status))
}

async fn tell_customer(state: &AppState, job: &BackupJob) {
    if job.kind == BackupJobKind::Nightly {
        return;
    }
    let Ok(customer) = state.store.customer(hostwerk_store::CustomerId(job.customer_id)).await else { return };
    let lang = customer.language;
    let what = t(lang, &format!("backups.kind.{}", job.kind.as_str()));
    let ok = job.status == BackupJobStatus::Succeeded;
    let subject = t(lang, if ok { "mail.backup_job.ok.subject" } else { "mail.backup_job.failed.subject" })
        .replace("{what}", &what)
        .replace("{id}", &job.id.to_string());
    let mut body = t(lang, if ok { "mail.backup_job.ok.body" } else { "mail.backup_job.failed.body" })
        .replace("{what}", &what)
        .replace("{id}", &job.id.to_string());
    let rolled_back = job
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .is_some_and(|v| v["rolled_back"] == true);
    if rolled_back {
        body.push_str("\n\n");
        body.push_str(&t(lang, "mail.backup_job.rolled_back"));
    }
    body.push_str(&format!("\n\n{}/menu/backups/{}\n", state.config.public_url, job.contract_id));
    if let Err(e) = state.mailer.send(customer.email.as_str(), &subject, &body).await {
        tracing::warn!(error = %e, job = job.id, "could not send the backup job mail");
    }
}

/// What the periodic tick did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TickReport {
    pub queued_nightly: u64,
    pub requeued: u64,
    pub failed: usize,
}

/// Queues the night's backups while inside the window, and requeues (or fails) jobs whose agent went silent.
pub async fn tick(state: &AppState) -> Result<TickReport, ServiceError> {
    let now = now(state);
    let mut report = TickReport::default();
    if let Some(night) = window(state)?.current(now) {
        report.queued_nightly = state
            .store
            .enqueue_nightly(
                &night.date.to_string(),
                night.end.timestamp(),
                state.config.backup.default_estimate_seconds.max(state.config.backup.min_estimate_seconds),
                state.config.backup.min_estimate_seconds,
                now.timestamp(),
            )
            .await?;
    }
    let stale_before = now.timestamp() - state.config.backup.heartbeat_timeout_seconds;
    let (requeued, failed) =
        state.store.requeue_stale_backup_jobs(stale_before, state.config.backup.max_attempts, now.timestamp()).await?;
    report.requeued = requeued;
    report.failed = failed.len();
    for job in &failed {
        tell_customer(state, job).await;
    }
    if report.queued_nightly > 0 || requeued > 0 || !failed.is_empty() {
        tracing::info!(queued = report.queued_nightly, requeued, failed = failed.len(), "backup queue tick");
    }
    Ok(report)
}

/// Runs [`tick`] every `backup.tick_seconds`.
pub fn spawn_tick(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(state.config.backup.tick_seconds.max(1)));
        loop {
            every.tick().await;
            if let Err(e) = tick(&state).await {
                tracing::warn!(error = %e, "backup queue tick failed");
            }
        }
    });
}

// ---------------------------------------------------------------- the customer's side

/// One job with its queue place, for pages.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub job: BackupJob,
    pub place: Option<QueuePlace>,
}

/// The on-demand allowance of a contract.
#[derive(Debug, Clone, Serialize)]
pub struct Allowance {
    pub per_day: u32,
    pub used_today: u32,
    pub quota_mib: u64,
    pub used_mib: u64,
}

/// One contract's backups page.
#[derive(Debug, Clone)]
pub struct ContractBackups {
    pub contract: Contract,
    pub snapshots: Vec<BackupSnapshot>,
    pub jobs: Vec<JobView>,
    pub allowance: Allowance,
    pub databases: Vec<String>,
    pub mailboxes: Vec<String>,
    pub keep_daily: u32,
    pub keep_monthly: u32,
    pub window: String,
}

fn day_start(state: &AppState, now: DateTime<Utc>) -> i64 {
    let zone: chrono_tz::Tz = state.config.backup.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
    let date = now.with_timezone(&zone).date_naive();
    date.and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(zone).earliest())
        .map_or(now.timestamp() - 86_400, |d| d.timestamp())
}

async fn usage(state: &AppState, contract_id: i64, now: DateTime<Utc>) -> Result<OnDemandUsage, ServiceError> {
    let (today, stored, pending) = state.store.on_demand_usage(contract_id, day_start(state, now)).await?;
    Ok(OnDemandUsage {
        today: u32::try_from(today).unwrap_or(u32::MAX),
        stored_bytes: u64::try_from(stored).unwrap_or(0),
        pending,
    })
}

/// Every contract's backups.
pub async fn overview(state: &AppState, customer: &Customer) -> Result<Vec<ContractBackups>, ServiceError> {
    let mut out = Vec::new();
    for c in state.store.contracts(customer.id).await? {
        out.push(contract_view(state, customer, c).await?);
    }
    Ok(out)
}

/// One contract's backups (another customer's contract is not found).
pub async fn contract_backups(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
) -> Result<ContractBackups, ServiceError> {
    let c = state.store.contract(customer.id, contract_id).await?;
    contract_view(state, customer, c).await
}

async fn contract_view(
    state: &AppState,
    customer: &Customer,
    contract: Contract,
) -> Result<ContractBackups, ServiceError> {
    let now = now(state);
    let tariff = state.store.tariff(&contract.tariff_id).await?;
    let u = usage(state, contract.id, now).await?;
    let list = state.store.backup_jobs_of_contract(contract.id, 30).await?;
    let places = queue_places(state, &list, now.timestamp()).await?;
    let jobs = list.into_iter().zip(places).map(|(job, place)| JobView { job, place }).collect();
    Ok(ContractBackups {
        snapshots: state.store.contract_snapshots(contract.id).await?,
        jobs,
        allowance: Allowance {
            per_day: tariff.backup.on_demand_per_day,
            used_today: u.today,
            quota_mib: tariff.backup.on_demand_quota_mib,
            used_mib: u.stored_bytes.div_ceil(1024 * 1024),
        },
        databases: state.store.contract_databases(contract.id).await?,
        mailboxes: mail_folders(state, customer.id.0, contract.id).await?.into_iter().map(|(a, _)| a).collect(),
        keep_daily: tariff.backup.keep_daily,
        keep_monthly: tariff.backup.keep_monthly,
        window: window(state)?.to_string(),
        contract,
    })
}

/// Who asks for a job.
#[derive(Debug, Clone)]
pub enum Requester<'a> {
    Customer(&'a Customer),
    /// Staff inside a verified call (`verification` is the call's verification id).
    Staff {
        staff: &'a StaffUser,
        verification: i64,
    },
}

impl Requester<'_> {
    fn actor(&self) -> Actor {
        match self {
            Requester::Customer(c) => Actor::customer(c),
            Requester::Staff { staff, .. } => Actor::staff(staff),
        }
    }
}

/// Queues an on-demand backup within the tariff's allowance. It starts when admission control lets it (never
/// at the cost of a nightly backup's window); the returned place says where it waits.
pub async fn request_on_demand(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    who: &Requester<'_>,
) -> Result<JobView, ServiceError> {
    let contract = state.store.contract(customer.id, contract_id).await?;
    let tariff = state.store.tariff(&contract.tariff_id).await?;
    let now = now(state);
    check_on_demand(&tariff.backup, usage(state, contract.id, now).await?).map_err(BackupError::from)?;
    if contract.node.is_none() {
        return Err(BackupError::NoWebserver.into());
    }
    let actor = who.actor();
    let id = state
        .store
        .insert_backup_job(&NewBackupJob {
            customer_id: customer.id,
            contract_id: contract.id,
            kind: BackupJobKind::OnDemand,
            params: "{}",
            requested_by_kind: actor.kind,
            requested_by_name: &actor.name,
            estimate_seconds: estimate(state, contract.id).await?,
            now: now.timestamp(),
        })
        .await?;
    state
        .store
        .audit(&actor, AuditAction::BackupOnDemandRequested, &customer.number.to_string(), &format!("job {id}"))
        .await?;
    let job = state.store.backup_job(customer.id, id).await?;
    let place = queue_place(state, &job, now.timestamp()).await?;
    Ok(JobView { job, place })
}

/// Where restored files go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreTarget {
    /// A new folder `restore-YYYY-MM-DD_HH-MM-SS` in the webspace.
    Folder,
    /// Over the current files, after a safety snapshot; rolled back if it fails.
    InPlace,
}

impl RestoreTarget {
    pub fn parse(s: &str) -> Result<Self, ServiceError> {
        match s {
            "folder" => Ok(Self::Folder),
            "in_place" => Ok(Self::InPlace),
            _ => Err(BackupError::ChooseTarget.into()),
        }
    }
}

/// What a customer (or staff) wants restored.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    pub snapshot: String,
    /// `None`: the webspace; `Some(address)`: that mailbox.
    pub mailbox: Option<String>,
    pub paths: Vec<RelativePath>,
    pub target: RestoreTarget,
}

async fn files_snapshot(state: &AppState, contract_id: i64, snapshot: &str) -> Result<BackupSnapshot, ServiceError> {
    let s = state.store.contract_snapshot(contract_id, snapshot).await?;
    if s.part != "files" {
        return Err(BackupError::HoldsDatabase.into());
    }
    Ok(s)
}

/// Queues a restore of files, folders, the whole webspace or a mailbox from one of the contract's snapshots.
pub async fn request_restore(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    req: &RestoreRequest,
    who: &Requester<'_>,
) -> Result<JobView, ServiceError> {
    let contract = state.store.contract(customer.id, contract_id).await?;
    let snap = files_snapshot(state, contract.id, &req.snapshot).await?;
    let now = now(state);
    let mut paths: Vec<String> = req.paths.iter().map(|p| p.as_str().to_owned()).collect();
    paths.sort();
    paths.dedup();
    if paths.is_empty() {
        return Err(BackupError::NothingChosen.into());
    }
    if paths.len() > MAX_RESTORE_PATHS {
        return Err(BackupError::TooManyPaths { max: MAX_RESTORE_PATHS }.into());
    }
    let (area, mailbox) = match &req.mailbox {
        None => ("webspace", None),
        Some(address) => {
            let mine = mail_folders(state, customer.id.0, contract.id).await?;
            if !mine.iter().any(|(a, _)| a == address) {
                return Err(ServiceError::NotFound);
            }
            ("mailbox", Some(address.clone()))
        }
    };
    if mailbox.is_some() && req.target == RestoreTarget::Folder {
        return Err(BackupError::MailboxInPlace.into());
    }
    // Every chosen path must exist in the snapshot (checked against the repository, not the form).
    let root = match &mailbox {
        Some(a) => mail_folder(state, a).ok_or(ServiceError::NotFound)?,
        None => contract.webspace_path.clone(),
    };
    if let Some(node) = &contract.node {
        let abs: Vec<String> = req.paths.iter().map(|p| p.under(&root)).collect();
        let snapshot = snap.snapshot_id.clone();
        let found = backup_repos::with_repo(state.backup_repos.clone(), node.clone(), move |repo| {
            abs.iter()
                .map(|p| backup_repos::kind_of(repo, &snapshot, std::path::Path::new(p)).map(|k| k.is_some()))
                .collect::<Result<Vec<bool>, _>>()
        })
        .await;
        match found {
            Ok(v) if v.iter().all(|x| *x) => {}
            Ok(_) => return Err(BackupError::PathNotInBackup.into()),
            Err(RepoError::NotConfigured(_)) => {} // the agent checks it against the repository
            Err(e) => return Err(e.into()),
        }
    }
    let folder = match req.target {
        RestoreTarget::Folder => {
            let zone: chrono_tz::Tz = state.config.backup.time_zone.parse().unwrap_or(chrono_tz::Europe::Berlin);
            let stamp = now.with_timezone(&zone).format("%Y-%m-%d_%H-%M-%S");
            Some(format!("{}/restore-{stamp}", contract.webspace_path.trim_end_matches('/')))
        }
        RestoreTarget::InPlace => None,
    };
    let params = RestoreParams {
        snapshot: snap.snapshot_id.clone(),
        area: area.to_owned(),
        mailbox,
        paths,
        target: if req.target == RestoreTarget::Folder { RestoreInto::Folder } else { RestoreInto::InPlace },
        folder,
        database: None,
    };
    queue_restore(state, customer, &contract, BackupJobKind::Restore, &params, who, now).await
}

/// Queues the restore of a database from one of the contract's database snapshots (the current state is
/// dumped into a safety snapshot first).
pub async fn request_db_restore(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    snapshot: &str,
    who: &Requester<'_>,
) -> Result<JobView, ServiceError> {
    let contract = state.store.contract(customer.id, contract_id).await?;
    let snap = state.store.contract_snapshot(contract.id, snapshot).await?;
    let Some(SnapshotPart::Database(db)) = SnapshotPart::parse(&snap.part) else {
        return Err(BackupError::HoldsFiles.into());
    };
    if !state.store.contract_databases(contract.id).await?.contains(&db) {
        return Err(BackupError::DatabaseGone { database: db }.into());
    }
    let params = RestoreParams {
        snapshot: snap.snapshot_id.clone(),
        area: "database".into(),
        mailbox: None,
        paths: Vec::new(),
        target: RestoreInto::InPlace,
        folder: None,
        database: Some(db),
    };
    queue_restore(state, customer, &contract, BackupJobKind::DatabaseRestore, &params, who, now(state)).await
}

async fn queue_restore(
    state: &AppState,
    customer: &Customer,
    contract: &Contract,
    kind: BackupJobKind,
    params: &RestoreParams,
    who: &Requester<'_>,
    now: DateTime<Utc>,
) -> Result<JobView, ServiceError> {
    let actor = who.actor();
    let json = serde_json::to_string(params).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let id = state
        .store
        .insert_backup_job(&NewBackupJob {
            customer_id: customer.id,
            contract_id: contract.id,
            kind,
            params: &json,
            requested_by_kind: actor.kind,
            requested_by_name: &actor.name,
            estimate_seconds: estimate(state, contract.id).await?,
            now: now.timestamp(),
        })
        .await?;
    let detail = match who {
        Requester::Staff { verification, .. } => format!(
            "job {id} ({kind}) for contract {} from snapshot {} ({}), verification #{verification}",
            contract.id,
            &params.snapshot[..12.min(params.snapshot.len())],
            params.target.as_str()
        ),
        Requester::Customer(_) => format!(
            "job {id} ({kind}) for contract {} from snapshot {} ({})",
            contract.id,
            &params.snapshot[..12.min(params.snapshot.len())],
            params.target.as_str()
        ),
    };
    let action = match who {
        Requester::Staff { .. } => AuditAction::BackupRestoreOrderedByStaff,
        Requester::Customer(_) => AuditAction::BackupRestoreRequested,
    };
    state.store.audit(&actor, action, &customer.number.to_string(), &detail).await?;
    let job = state.store.backup_job(customer.id, id).await?;
    let place = queue_place(state, &job, now.timestamp()).await?;
    Ok(JobView { job, place })
}

/// A folder of a snapshot for browsing.
#[derive(Debug, Clone)]
pub struct Browse {
    pub snapshot: BackupSnapshot,
    pub contract: Contract,
    pub mailbox: Option<String>,
    pub path: RelativePath,
    pub entries: Vec<DirEntry>,
}

async fn area_root(
    state: &AppState,
    customer: &Customer,
    contract: &Contract,
    mailbox: Option<&str>,
) -> Result<String, ServiceError> {
    match mailbox {
        None => Ok(contract.webspace_path.clone()),
        Some(a) => mail_folders(state, customer.id.0, contract.id)
            .await?
            .into_iter()
            .find(|(x, _)| x == a)
            .map(|(_, f)| f)
            .ok_or(ServiceError::NotFound),
    }
}

/// A path in one of the customer's file snapshots, checked and made absolute.
struct Located {
    contract: Contract,
    snap: BackupSnapshot,
    path: RelativePath,
    /// The webserver whose repository holds the snapshot.
    node: String,
    abs: String,
}

async fn locate(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    snapshot: &str,
    mailbox: Option<&str>,
    path: &str,
) -> Result<Located, ServiceError> {
    let contract = state.store.contract(customer.id, contract_id).await?;
    let snap = files_snapshot(state, contract.id, snapshot).await?;
    let path = RelativePath::parse(path).map_err(invalid)?;
    let root = area_root(state, customer, &contract, mailbox).await?;
    let node = contract.node.clone().ok_or(ServiceError::NotFound)?;
    let abs = path.under(&root);
    Ok(Located { contract, snap, path, node, abs })
}

/// Lists a folder of one of the contract's file snapshots.
pub async fn browse(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    snapshot: &str,
    mailbox: Option<&str>,
    path: &str,
) -> Result<Browse, ServiceError> {
    let Located { contract, snap, path, node, abs } =
        locate(state, customer, contract_id, snapshot, mailbox, path).await?;
    let sid = snap.snapshot_id.clone();
    let entries = backup_repos::with_repo(state.backup_repos.clone(), node, move |repo| {
        backup_repos::list_dir(repo, &sid, std::path::Path::new(&abs))
    })
    .await?;
    Ok(Browse { snapshot: snap, mailbox: mailbox.map(str::to_owned), contract, path, entries })
}

/// A download: the file name to offer, whether it is a tar.gz, and the body.
#[derive(Debug)]
pub struct Download {
    pub filename: String,
    pub archive: bool,
    pub body: axum::body::Body,
}

/// Streams a file (as it is) or a folder (as tar.gz) from one of the contract's file snapshots.
pub async fn download(
    state: &AppState,
    customer: &Customer,
    contract_id: i64,
    snapshot: &str,
    mailbox: Option<&str>,
    path: &str,
) -> Result<Download, ServiceError> {
    let Located { contract, snap, path, node, abs } =
        locate(state, customer, contract_id, snapshot, mailbox, path).await?;
    let repos: Arc<Repos> = state.backup_repos.clone();
    let (sid, abs2) = (snap.snapshot_id.clone(), abs.clone());
    let kind = backup_repos::with_repo(repos.clone(), node.clone(), move |repo| {
        backup_repos::kind_of(repo, &sid, std::path::Path::new(&abs2))
    })
    .await?
    .ok_or(ServiceError::NotFound)?;
    // Only files and folders have content to download; a link (or a pipe, a device) is refused before the
    // answer starts, instead of a 200 whose body then breaks (issue 17).
    let is_dir = match kind {
        hostwerk_backup::tree::NodeKind::Dir => true,
        hostwerk_backup::tree::NodeKind::File => false,
        _ => return Err(BackupError::NoContent.into()),
    };
    let base = if path.is_root() { contract.system_user.as_str().to_owned() } else { path.name().to_owned() };
    let filename = if is_dir { format!("{base}.tar.gz") } else { base };
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let sid = snap.snapshot_id.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = backup_repos::ChannelWriter::new(tx);
        let r =
            repos.get(&node).and_then(|repo| backup_repos::download(&repo, &sid, std::path::Path::new(&abs), &mut w));
        match r.and_then(|()| {
            std::io::Write::flush(&mut w)
                .map_err(|e| RepoError::Engine(hostwerk_backup::Error::io("write", "<download>", e)))
        }) {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a backup download failed midway");
                w.fail(e.to_string());
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    Ok(Download { filename, archive: is_dir, body: axum::body::Body::from_stream(stream) })
}

// ---------------------------------------------------------------- staff

/// Support orders a restore for the customer on the phone ("Restoreauftrag"): only inside a verified call.
pub async fn staff_order_restore(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
    contract_id: i64,
    req: &RestoreRequest,
) -> Result<(Customer, JobView), ServiceError> {
    let (customer, call) = crate::phone::require_call(state, staff, number).await?;
    let view = request_restore(
        state,
        &customer,
        contract_id,
        req,
        &Requester::Staff { staff, verification: call.verification_id },
    )
    .await?;
    Ok((customer, view))
}

/// The customer's backups as support sees them inside a verified call.
pub async fn staff_contract_backups(
    state: &AppState,
    staff: &StaffUser,
    number: &str,
) -> Result<(Customer, Vec<ContractBackups>), ServiceError> {
    let (customer, _call) = crate::phone::require_call(state, staff, number).await?;
    let list = overview(state, &customer).await?;
    Ok((customer, list))
}

/// The retention maintenance plan of one webserver's repository, as shown to the admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionPlan {
    pub webserver: String,
    pub groups: Vec<RetentionGroup>,
    /// Snapshots without a contract tag (made by hand with the CLI): always kept.
    pub untagged: usize,
}

/// One contract's snapshots of one kind and part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RetentionGroup {
    pub contract_id: i64,
    pub kind: String,
    pub part: String,
    pub policy: String,
    pub keep: Vec<PlanSnapshot>,
    pub remove: Vec<PlanSnapshot>,
}

/// A snapshot in a plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanSnapshot {
    pub id: String,
    pub time: DateTime<Utc>,
    pub reasons: Vec<String>,
}

fn tag_value<'a>(s: &'a hostwerk_backup::SnapshotInfo, prefix: &str) -> Option<&'a str> {
    s.snapshot.tags.iter().find_map(|t| t.strip_prefix(prefix))
}

/// Computes which snapshots the tariffs' retention keeps (pure over the repository's snapshot list).
fn plan_retention(
    webserver: &str,
    snapshots: &[hostwerk_backup::SnapshotInfo],
    policy_of: &dyn Fn(i64) -> Option<(u32, u32)>,
    on_demand_days: u32,
    safety_days: u32,
    now: DateTime<Utc>,
) -> Result<RetentionPlan, RepoError> {
    use std::collections::BTreeMap;
    let mut groups: BTreeMap<(i64, String, String), Vec<hostwerk_backup::SnapshotInfo>> = BTreeMap::new();
    let mut untagged = 0;
    for s in snapshots {
        let Some(contract) = tag_value(s, "contract:").and_then(|c| c.parse::<i64>().ok()) else {
            untagged += 1;
            continue;
        };
        let kind = tag_value(s, "kind:").unwrap_or("nightly").to_owned();
        let part = tag_value(s, "db:").map_or_else(|| "files".to_owned(), |d| format!("db:{d}"));
        groups.entry((contract, kind, part)).or_default().push(s.clone());
    }
    let mut out = Vec::new();
    for ((contract_id, kind, part), list) in groups {
        let entry = |e: &hostwerk_backup::forget::PlanEntry| PlanSnapshot {
            id: e.id.to_hex(),
            time: e.time,
            reasons: e.reasons.clone(),
        };
        let (policy_text, keep, remove) = if kind == "nightly" {
            match policy_of(contract_id) {
                Some((daily, monthly)) => {
                    let policy = hostwerk_backup::ForgetPolicy {
                        keep_daily: Some(daily),
                        keep_monthly: Some(monthly),
                        ..Default::default()
                    };
                    let plan = hostwerk_backup::plan_forget(&list, &policy)?;
                    let keep = plan.groups.iter().flat_map(|g| g.keep.iter().map(entry)).collect();
                    let remove = plan.groups.iter().flat_map(|g| g.remove.iter().map(entry)).collect();
                    (format!("{daily} daily + {monthly} monthly"), keep, remove)
                }
                // A contract that no longer exists: keep everything until staff decide.
                None => (
                    "contract unknown: kept".to_owned(),
                    list.iter()
                        .map(|s| PlanSnapshot {
                            id: s.id.to_hex(),
                            time: s.snapshot.time,
                            reasons: vec!["unknown".into()],
                        })
                        .collect(),
                    Vec::new(),
                ),
            }
        } else {
            let days = if kind == "safety" { safety_days } else { on_demand_days };
            let cutoff = now - Duration::days(i64::from(days));
            let (keep, remove): (Vec<_>, Vec<_>) = list.iter().partition(|s| s.snapshot.time >= cutoff);
            let to = |s: &&hostwerk_backup::SnapshotInfo, why: &str| PlanSnapshot {
                id: s.id.to_hex(),
                time: s.snapshot.time,
                reasons: if why.is_empty() { Vec::new() } else { vec![why.to_owned()] },
            };
            (
                format!("{days} days"),
                keep.iter().map(|s| to(s, "within")).collect(),
                remove.iter().map(|s| to(s, "")).collect(),
            )
        };
        out.push(RetentionGroup { contract_id, kind, part, policy: policy_text, keep, remove });
    }
    Ok(RetentionPlan { webserver: webserver.to_owned(), groups: out, untagged })
}

async fn tariff_policies(
    state: &AppState,
    webserver: &Node,
) -> Result<std::collections::HashMap<i64, (u32, u32)>, ServiceError> {
    let mut map = std::collections::HashMap::new();
    let mut tariffs = std::collections::HashMap::new();
    for (snap, tariff_id) in state.store.node_snapshots(webserver.id).await? {
        if map.contains_key(&snap.contract_id) {
            continue;
        }
        if !tariffs.contains_key(&tariff_id) {
            let id = hostwerk_domain::TariffId::parse(&tariff_id).map_err(invalid)?;
            tariffs.insert(tariff_id.clone(), state.store.tariff(&id).await?);
        }
        if let Some(t) = tariffs.get(&tariff_id) {
            map.insert(snap.contract_id, (t.backup.keep_daily, t.backup.keep_monthly));
        }
    }
    Ok(map)
}

async fn compute_plan(state: &AppState, webserver: &Node) -> Result<RetentionPlan, ServiceError> {
    let policies = tariff_policies(state, webserver).await?;
    let (od, sd) = (state.config.backup.on_demand_keep_days, state.config.backup.safety_keep_days);
    let now = now(state);
    let name = webserver.name.as_str().to_owned();
    let name2 = name.clone();
    Ok(backup_repos::with_repo(state.backup_repos.clone(), name, move |repo| {
        repo.invalidate_index();
        let snaps = repo.snapshots()?;
        plan_retention(&name2, &snaps, &|c| policies.get(&c).copied(), od, sd, now)
    })
    .await?)
}

/// Plans retention for a webserver's repository (a dry run: nothing is removed) and stores the plan.
pub async fn plan_maintenance(
    state: &AppState,
    staff: &StaffUser,
    webserver: &str,
) -> Result<(MaintenancePlan, RetentionPlan), ServiceError> {
    require_admin(staff)?;
    let node = state.store.node_by_name(&hostwerk_domain::NodeName::parse(webserver).map_err(invalid)?).await?;
    let plan = compute_plan(state, &node).await?;
    let json = serde_json::to_string(&plan).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let id = state.store.insert_maintenance_plan(node.id, staff.login.as_str(), &json, now(state).timestamp()).await?;
    let removes: usize = plan.groups.iter().map(|g| g.remove.len()).sum();
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::BackupMaintenancePlanned,
            webserver,
            &format!("plan {id}: {removes} snapshots to forget"),
        )
        .await?;
    Ok((state.store.maintenance_plan(id).await?, plan))
}

fn require_admin(staff: &StaffUser) -> Result<(), ServiceError> {
    if staff.role != hostwerk_domain::StaffRole::Admin {
        return Err(ServiceError::Forbidden);
    }
    Ok(())
}

/// What executing a plan did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaintenanceResult {
    pub forgotten: Vec<String>,
    /// In the plan but kept, because today's policy keeps them (a policy changed since the plan).
    pub spared: usize,
    pub packs_deleted: usize,
    pub bytes_freed: u64,
}

/// Carries out a stored plan: forgets only snapshots that the plan listed AND today's policies still remove
/// (so nothing the admin did not see, and nothing a changed policy now keeps, is lost), then prunes.
pub async fn execute_maintenance(
    state: &AppState,
    staff: &StaffUser,
    plan_id: i64,
) -> Result<MaintenanceResult, ServiceError> {
    require_admin(staff)?;
    let stored = state.store.maintenance_plan(plan_id).await?;
    if stored.executed_at.is_some() {
        return Err(BackupError::PlanDone.into());
    }
    let planned: RetentionPlan =
        serde_json::from_str(&stored.plan).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let node =
        state.store.node_by_name(&hostwerk_domain::NodeName::parse(&planned.webserver).map_err(invalid)?).await?;
    let current = compute_plan(state, &node).await?;
    let now_remove: std::collections::HashSet<String> =
        current.groups.iter().flat_map(|g| g.remove.iter().map(|s| s.id.clone())).collect();
    let planned_remove: Vec<String> =
        planned.groups.iter().flat_map(|g| g.remove.iter().map(|s| s.id.clone())).collect();
    let (forget, spared): (Vec<String>, Vec<String>) =
        planned_remove.into_iter().partition(|id| now_remove.contains(id));
    state.store.mark_maintenance_executed(plan_id, staff.login.as_str(), "running", now(state).timestamp()).await?;
    let ids = forget.clone();
    let (packs_deleted, bytes_freed) =
        backup_repos::with_repo(state.backup_repos.clone(), planned.webserver.clone(), move |repo| {
            for id in &ids {
                repo.backend().delete(hostwerk_backup::FileType::Snapshot, id)?;
            }
            let plan = hostwerk_backup::prune(repo, false)?;
            Ok((plan.packs_delete.len() + plan.packs_unindexed.len(), plan.bytes_freed))
        })
        .await?;
    state.store.mark_snapshots_forgotten(node.id, &forget, now(state).timestamp()).await?;
    let result = MaintenanceResult { forgotten: forget, spared: spared.len(), packs_deleted, bytes_freed };
    let json = serde_json::to_string(&result).map_err(|e| ServiceError::Internal(e.to_string()))?;
    state.store.set_maintenance_result(plan_id, &json).await?;
    state
        .store
        .audit(
            &Actor::staff(staff),
            AuditAction::BackupMaintenanceExecuted,
            &planned.webserver,
            &format!(
                "plan {plan_id}: {} forgotten, {} spared, {} bytes freed",
                result.forgotten.len(),
                result.spared,
                result.bytes_freed
            ),
        )
        .await?;
    Ok(result)
}

/// A language-aware line for a job's state, for pages and mails.
pub fn job_state_text(lang: Language, view: &JobView) -> String {
    let status = t(lang, &format!("backups.status.{}", view.job.status.as_str()));
    match &view.place {
        Some(p) => t(lang, "backups.queued_at")
            .replace("{position}", &p.position.to_string())
            .replace("{eta}", &hostwerk_domain::format_berlin_datetime(p.eta_start, lang)),
        None => status,
    }
}

// ---------------------------------------------------------------- added for the staff nodes page

/// Assigns (or with `None` removes) a webserver's backup server (admin only), audited.
pub async fn assign_backup_server(
    state: &AppState,
    staff: &StaffUser,
    webserver: i64,
    backup_server: Option<i64>,
) -> Result<(), ServiceError> {
    require_admin(staff)?;
    let nodes = state.store.nodes().await?;
    let name = |id: i64| nodes.iter().find(|n| n.id == id).map(|n| n.name.as_str().to_owned());
    let web = name(webserver).ok_or(ServiceError::NotFound)?;
    state.store.set_backup_server(webserver, backup_server).await?;
    let detail = match backup_server {
        Some(b) => format!("backup server {}", name(b).unwrap_or_else(|| b.to_string())),
        None => "no backup server".to_owned(),
    };
    state.store.audit(&Actor::staff(staff), AuditAction::NodeBackupServerSet, &web, &detail).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_backup_error_has_its_texts() {
        let problems = crate::i18n::check_localized(&BackupError::examples());
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn stored_failures_read_in_either_language() {
        let stored = BackupError::MailboxGone { mailbox: "info@example.de".into() }.stored();
        assert_eq!(job_error_text(&stored, Language::De), "Das Postfach info@example.de gibt es nicht mehr.");
        assert_eq!(job_error_text(&stored, Language::En), "The mailbox info@example.de no longer exists.");
        // What an agent reported stays as it is, whatever it looks like.
        assert_eq!(job_error_text("disk full", Language::De), "disk full");
        assert_eq!(job_error_text(r#"{"key":"nav.logout"}"#, Language::De), r#"{"key":"nav.logout"}"#);
    }
}
