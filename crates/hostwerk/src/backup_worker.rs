//! Runs backup jobs on a webserver: claims a job from the panel (over HTTP in `hostwerk agent`, or directly
//! in a one-machine panel), runs it with `hostwerk_agent::jobs` against the webserver's repository while a
//! heartbeat thread tells the panel it is alive, and reports the outcome with the snapshots taken.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hostwerk_agent::jobs::{self, DbClient, JobError, RestoreSpec, RestoreTarget, SnapshotPart, SourceSpec};
use hostwerk_backup::Repository;
use hostwerk_web::backups::{AgentJob, AgentReport, AgentSnapshot};
use tracing::{info, warn};

/// Where jobs come from and where their outcome goes.
pub trait JobSource: Send + Sync {
    /// The next job to run now, if any.
    fn claim(&self) -> Result<Option<AgentJob>, String>;
    /// Whether the job is still this attempt's.
    fn heartbeat(&self, job: i64, attempt: i64) -> Result<bool, String>;
    /// Reports the end of a job.
    fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<(), String>;
}

/// How the worker reaches the repository and the databases.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub db: DbClient,
    /// Give restored files to the contract's system user (the agent runs as root); off in a one-machine demo
    /// that runs as an ordinary user.
    pub chown: bool,
    /// How long to wait when there is no work.
    pub idle: Duration,
}

/// Claims and runs jobs until `stop` is set. Errors talking to the panel are logged and retried.
pub fn run_loop(
    source: &dyn JobSource,
    repo: &dyn Fn() -> Result<Arc<Repository>, String>,
    cfg: &WorkerConfig,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let job = match source.claim() {
            Ok(Some(job)) => job,
            Ok(None) => {
                sleep_unless(stop, cfg.idle);
                continue;
            }
            Err(e) => {
                warn!("cannot ask the panel for backup jobs: {e}");
                sleep_unless(stop, cfg.idle.max(Duration::from_secs(2)));
                continue;
            }
        };
        info!(job = job.id, kind = %job.kind, contract = job.contract_id, "backup job started");
        let report = match repo() {
            Ok(repo) => with_heartbeat(source, &job, || execute(&repo, &job, cfg)),
            Err(e) => failure(format!("cannot open the backup repository: {e}")),
        };
        if report.ok {
            info!(job = job.id, snapshots = report.snapshots.len(), "backup job done");
        } else {
            warn!(job = job.id, error = report.error.as_deref().unwrap_or(""), "backup job failed");
        }
        // The report matters (snapshots are only listed once reported): retry for a while.
        for attempt in 0..30 {
            match source.finish(job.id, job.attempt, &report) {
                Ok(()) => break,
                Err(e) if e.contains("409") => {
                    warn!(job = job.id, "the panel gave this job to another attempt; report dropped");
                    break;
                }
                Err(e) => {
                    warn!(job = job.id, "cannot report the job (try {}): {e}", attempt + 1);
                    sleep_unless(stop, Duration::from_secs(2));
                }
            }
        }
    }
}

fn sleep_unless(stop: &AtomicBool, d: Duration) {
    let step = Duration::from_millis(100);
    let mut left = d;
    while !stop.load(Ordering::Relaxed) && !left.is_zero() {
        let s = left.min(step);
        std::thread::sleep(s);
        left -= s;
    }
}

fn with_heartbeat(source: &dyn JobSource, job: &AgentJob, run: impl FnOnce() -> AgentReport) -> AgentReport {
    let done = AtomicBool::new(false);
    let every = Duration::from_secs(job.heartbeat_seconds.max(1));
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                sleep_unless(&done, every);
                if done.load(Ordering::Relaxed) {
                    break;
                }
                match source.heartbeat(job.id, job.attempt) {
                    Ok(true) => {}
                    Ok(false) => warn!(job = job.id, "the panel gave this job to another attempt"),
                    Err(e) => warn!(job = job.id, "heartbeat failed: {e}"),
                }
            }
        });
        let report = run();
        done.store(true, Ordering::Relaxed);
        report
    })
}

fn failure(message: String) -> AgentReport {
    AgentReport {
        ok: false,
        snapshots: Vec::new(),
        error: Some(message),
        rolled_back: false,
        files: 0,
        bytes: 0,
        warnings: Vec::new(),
    }
}

fn snapshot_dto(s: &jobs::TakenSnapshot, kind: &str) -> AgentSnapshot {
    AgentSnapshot {
        id: s.id.clone(),
        part: match &s.part {
            SnapshotPart::Files => "files".to_owned(),
            SnapshotPart::Database(name) => format!("db:{name}"),
        },
        kind: kind.to_owned(),
        time: s.time.to_rfc3339(),
        total_files: s.total_files,
        total_bytes: s.total_bytes,
        bytes_added: s.bytes_added,
    }
}

/// Runs one job against the repository and describes the outcome for the panel.
pub fn execute(repo: &Repository, job: &AgentJob, cfg: &WorkerConfig) -> AgentReport {
    let spec = SourceSpec {
        host: job.host.clone(),
        tags: job.tags.clone(),
        paths: job.paths.iter().map(PathBuf::from).collect(),
        excludes: Vec::new(),
        databases: job.databases.clone(),
        db: cfg.db.clone(),
    };
    match job.kind.as_str() {
        "nightly" | "on_demand" => match jobs::run_backup(repo, &spec) {
            Ok(out) => AgentReport {
                ok: true,
                files: out.snapshots.iter().map(|s| s.total_files).sum(),
                bytes: out.snapshots.iter().map(|s| s.total_bytes).sum(),
                snapshots: out.snapshots.iter().map(|s| snapshot_dto(s, &job.kind)).collect(),
                error: None,
                rolled_back: false,
                warnings: out.warnings,
            },
            Err(JobError::Incomplete { taken, failures }) => AgentReport {
                ok: false,
                snapshots: taken.iter().map(|s| snapshot_dto(s, &job.kind)).collect(),
                error: Some(failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")),
                rolled_back: false,
                files: 0,
                bytes: 0,
                warnings: Vec::new(),
            },
            Err(e) => failure(e.to_string()),
        },
        "restore" | "db_restore" => restore(repo, job, cfg, spec),
        other => failure(format!("unknown job kind {other:?}")),
    }
}

fn safety_snapshot(repo: &Repository, id: Option<&str>, job: &AgentJob) -> Vec<AgentSnapshot> {
    // The safety snapshot is reported so that the customer sees it and retention knows it.
    let Some(id) = id else { return Vec::new() };
    match repo.find_snapshot(id) {
        Ok(info) => {
            let part = info
                .snapshot
                .tags
                .iter()
                .find_map(|t| t.strip_prefix("db:"))
                .map_or_else(|| "files".to_owned(), |d| format!("db:{d}"));
            vec![AgentSnapshot {
                id: info.id.to_hex(),
                part,
                kind: "safety".into(),
                time: info.snapshot.time.to_rfc3339(),
                total_files: info.snapshot.summary.total_files,
                total_bytes: info.snapshot.summary.total_bytes,
                bytes_added: info.snapshot.summary.bytes_added,
            }]
        }
        Err(e) => {
            warn!(job = job.id, "cannot read the safety snapshot {id}: {e}");
            Vec::new()
        }
    }
}

fn restore(repo: &Repository, job: &AgentJob, cfg: &WorkerConfig, mut safety: SourceSpec) -> AgentReport {
    let Some(r) = &job.restore else { return failure("a restore job without restore details".into()) };
    safety.tags.retain(|t| !t.starts_with("kind:"));
    let owner = if cfg.chown {
        match hostwerk_agent::resolve_owner(&job.system_user) {
            Ok(o) => Some(o),
            Err(e) => return failure(format!("cannot give restored files to {}: {e}", job.system_user)),
        }
    } else {
        None
    };
    if job.kind == "db_restore" {
        let Some(db) = &r.database else { return failure("a database restore without a database".into()) };
        return restore_report(repo, job, jobs::restore_database(repo, &r.snapshot, db, &cfg.db, &safety));
    }
    let target = match (r.target.as_str(), &r.folder) {
        ("folder", Some(f)) => RestoreTarget::Folder(PathBuf::from(f)),
        ("in_place", _) => RestoreTarget::InPlace,
        _ => return failure("a restore into a folder needs the folder".into()),
    };
    let spec = RestoreSpec {
        snapshot: r.snapshot.clone(),
        paths: r.paths.iter().map(PathBuf::from).collect(),
        allowed_root: PathBuf::from(&r.allowed_root),
        target,
        owner,
        safety,
        faults: Default::default(),
    };
    restore_report(repo, job, jobs::run_restore(repo, &spec))
}

/// The report of a restore: what was restored, or the error and whether it was rolled back; with the safety
/// snapshot either way (it is kept by retention and listed to the customer).
fn restore_report(repo: &Repository, job: &AgentJob, result: Result<jobs::RestoreOutcome, JobError>) -> AgentReport {
    match result {
        Ok(out) => AgentReport {
            ok: true,
            snapshots: safety_snapshot(repo, out.safety_snapshot.as_deref(), job),
            error: None,
            rolled_back: false,
            files: out.files,
            bytes: out.bytes,
            warnings: out.warnings,
        },
        Err(e) => AgentReport {
            rolled_back: e.rolled_back(),
            snapshots: safety_snapshot(repo, e.safety_snapshot(), job),
            ..failure(e.to_string())
        },
    }
}

/// Jobs straight from the panel's service layer, for webservers whose repository the panel itself reaches
/// (a one-machine setup and the demo).
pub struct LocalSource {
    pub state: hostwerk_web::AppState,
    pub node: hostwerk_store::Node,
    pub runtime: tokio::runtime::Handle,
}

impl JobSource for LocalSource {
    fn claim(&self) -> Result<Option<AgentJob>, String> {
        self.runtime.block_on(hostwerk_web::backups::claim(&self.state, &self.node)).map_err(|e| e.to_string())
    }
    fn heartbeat(&self, job: i64, attempt: i64) -> Result<bool, String> {
        self.runtime
            .block_on(hostwerk_web::backups::heartbeat(&self.state, &self.node, job, attempt))
            .map_err(|e| e.to_string())
    }
    fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<(), String> {
        self.runtime
            .block_on(hostwerk_web::backups::finish(&self.state, &self.node, job, attempt, report))
            .map(|_| ())
            .map_err(|e| match e {
                hostwerk_web::service::ServiceError::Conflict(m) => format!("409 {m}"),
                other => other.to_string(),
            })
    }
}

/// Jobs over the panel's agent API (`hostwerk agent`).
pub struct HttpSource {
    pub http: ureq::Agent,
    pub base: String,
    pub authorization: String,
}

impl HttpSource {
    fn post(&self, path: &str, body: &serde_json::Value) -> Result<ureq::Response, String> {
        match self
            .http
            .post(&format!("{}{path}", self.base))
            .set("Authorization", &self.authorization)
            .set("Content-Type", "application/json")
            .send_string(&body.to_string())
        {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(code, r)) => Err(format!("{code} {}", r.into_string().unwrap_or_default())),
            Err(ureq::Error::Transport(t)) => Err(t.to_string()),
        }
    }
}

impl JobSource for HttpSource {
    fn claim(&self) -> Result<Option<AgentJob>, String> {
        let r = self.post("/api/v1/agent/backup-jobs/claim", &serde_json::json!({}))?;
        if r.status() == 204 {
            return Ok(None);
        }
        let text = r.into_string().map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map(Some).map_err(|e| format!("the panel's job is not valid: {e}"))
    }
    fn heartbeat(&self, job: i64, attempt: i64) -> Result<bool, String> {
        match self
            .post(&format!("/api/v1/agent/backup-jobs/{job}/heartbeat"), &serde_json::json!({ "attempt": attempt }))
        {
            Ok(_) => Ok(true),
            Err(e) if e.starts_with("409") => Ok(false),
            Err(e) => Err(e),
        }
    }
    fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<(), String> {
        let mut body = serde_json::to_value(report).map_err(|e| e.to_string())?;
        body["attempt"] = serde_json::json!(attempt);
        self.post(&format!("/api/v1/agent/backup-jobs/{job}/finish"), &body).map(|_| ())
    }
}
