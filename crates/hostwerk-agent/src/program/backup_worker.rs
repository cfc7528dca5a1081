//! Runs backup jobs on a webserver: claims a job from the panel (over HTTP in `hostwerk agent`, or through
//! the panel's use cases in a one-machine panel), runs it with [`crate::jobs`] against the webserver's
//! repository while a heartbeat thread tells the panel it is alive, and reports the outcome with the snapshots taken.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hostwerk_backup::Repository;
use hostwerk_domain::backup_job::BackupJobKind;
use hostwerk_protocol::backup::{
    AgentJob, AgentReport, AgentSnapshot, FinishOutcome, HeartbeatOutcome, RestoreInto, SnapshotKind,
    SnapshotPart as WirePart,
};
use tracing::{info, warn};

use super::panel::Panel;
use crate::jobs::{self, DbClient, JobError, RestoreSpec, RestoreTarget, SnapshotPart, SourceSpec};

/// Where jobs come from and where their outcome goes: the panel over HTTP ([`Panel`]), or the panel's own
/// use cases in a one-machine setup. Errors are for the log; what the worker acts on is typed.
pub trait JobSource: Send + Sync {
    /// The next job to run now, if any.
    fn claim(&self) -> Result<Option<AgentJob>, String>;
    /// Whether the job is still this attempt's.
    fn heartbeat(&self, job: i64, attempt: i64) -> Result<HeartbeatOutcome, String>;
    /// Reports the end of a job.
    fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<FinishOutcome, String>;
}

impl JobSource for Panel {
    fn claim(&self) -> Result<Option<AgentJob>, String> {
        Panel::claim(self).map_err(|e| e.to_string())
    }
    fn heartbeat(&self, job: i64, attempt: i64) -> Result<HeartbeatOutcome, String> {
        Panel::heartbeat(self, job, attempt).map_err(|e| e.to_string())
    }
    fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<FinishOutcome, String> {
        Panel::finish(self, job, attempt, report).map_err(|e| e.to_string())
    }
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
        info!(job = job.id, kind = job.kind.as_str(), contract = job.contract_id, "backup job started");
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
                Ok(FinishOutcome::Recorded(_)) => break,
                Ok(FinishOutcome::Superseded) => {
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
                    Ok(HeartbeatOutcome::Continue) => {}
                    Ok(HeartbeatOutcome::Superseded) => {
                        warn!(job = job.id, "the panel gave this job to another attempt")
                    }
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
    AgentReport::failed(message)
}

fn snapshot_dto(s: &jobs::TakenSnapshot, kind: SnapshotKind) -> AgentSnapshot {
    AgentSnapshot {
        id: s.id.clone(),
        part: match &s.part {
            SnapshotPart::Files => WirePart::Files,
            SnapshotPart::Database(name) => WirePart::Database(name.clone()),
        },
        kind,
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
    match SnapshotKind::of_backup(job.kind) {
        Some(kind) => match jobs::run_backup(repo, &spec) {
            Ok(out) => AgentReport {
                ok: true,
                files: out.snapshots.iter().map(|s| s.total_files).sum(),
                bytes: out.snapshots.iter().map(|s| s.total_bytes).sum(),
                snapshots: out.snapshots.iter().map(|s| snapshot_dto(s, kind)).collect(),
                error: None,
                rolled_back: false,
                warnings: out.warnings,
            },
            Err(JobError::Incomplete { taken, failures }) => AgentReport {
                ok: false,
                snapshots: taken.iter().map(|s| snapshot_dto(s, kind)).collect(),
                error: Some(failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")),
                rolled_back: false,
                files: 0,
                bytes: 0,
                warnings: Vec::new(),
            },
            Err(e) => failure(e.to_string()),
        },
        None => restore(repo, job, cfg, spec),
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
                .map_or(WirePart::Files, |d| WirePart::Database(d.to_owned()));
            vec![AgentSnapshot {
                id: info.id.to_hex(),
                part,
                kind: SnapshotKind::Safety,
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
        match crate::resolve_owner(&job.system_user) {
            Ok(o) => Some(o),
            Err(e) => return failure(format!("cannot give restored files to {}: {e}", job.system_user)),
        }
    } else {
        None
    };
    if job.kind == BackupJobKind::DatabaseRestore {
        let Some(db) = &r.database else { return failure("a database restore without a database".into()) };
        return restore_report(repo, job, jobs::restore_database(repo, &r.snapshot, db, &cfg.db, &safety));
    }
    let target = match (r.target, &r.folder) {
        (RestoreInto::Folder, Some(f)) => RestoreTarget::Folder(PathBuf::from(f)),
        (RestoreInto::InPlace, _) => RestoreTarget::InPlace,
        (RestoreInto::Folder, None) => return failure("a restore into a folder needs the folder".into()),
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
