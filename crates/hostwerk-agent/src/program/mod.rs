//! The agent program (`hostwerk agent`): the node agent on a webserver. It asks the panel which system users of this node have
//! which process limit, ends their processes that outlive it (through the `hostwerk-agent` enforcer on its own
//! thread) and sends the panel a report of every process it ended.
//!
//! Threads: the main thread polls the panel (`GET /api/v1/agent/limits` every `poll_seconds`, at most 10 s)
//! and posts kill reports (`POST /api/v1/agent/kills`); the enforcer thread scans `/proc` and signals; a
//! signal thread turns SIGTERM/SIGINT into a message to the main thread. The enforcer never waits for the
//! network: a policy change reaches it over a channel, its reports go into a bounded queue that the main
//! thread empties when the panel answers.
//!
//! When the panel is unreachable, the last known limits stay in force; they are also kept in the state file
//! (written atomically), so a restart during an outage enforces them too.
//!
//! Modules: [`panel`] (the HTTP client of the panel's agent API), [`limits`] (the panel's list to a
//! policy), [`reports`] (the kill-report queue), [`state`] (the state file), [`backup_worker`] (backup
//! jobs). The binary crate only parses the command line into [`Settings`] and calls [`run`].

pub mod backup_worker;
pub mod limits;
pub mod panel;
pub mod reports;
pub mod state;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hostwerk_backup::RepositoryAccess;
use tracing::{debug, error, info, warn};

use self::limits::{poll_interval, Built, PolicyBuilder, DEFAULT_POLL};
use self::panel::{panel_base, read_token, Panel, PanelError};
use self::reports::{flush, ReportQueue};
use self::state::{format_unix, load_state, save_state, Saved};
use crate::{Control, Enforcer, EnforcerError, Now};

/// What `hostwerk agent` was told on its command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base URL of the panel, e.g. `https://panel.example.net`.
    pub panel: String,
    /// The file holding this node's token.
    pub token_file: PathBuf,
    /// Where the last limits received from the panel are kept.
    pub state_file: PathBuf,
    /// Seconds between SIGTERM and SIGKILL (else the panel's).
    pub grace_seconds: Option<u64>,
    /// Test only: every limit that is not off becomes this many seconds.
    pub test_limit_seconds: Option<u64>,
    /// Run the panel's backup jobs into this repository.
    pub backup: Option<BackupSettings>,
}

/// Where the agent's backup workers write, and how many run.
#[derive(Debug, Clone)]
pub struct BackupSettings {
    pub repository: RepositoryAccess,
    pub workers: u64,
    /// Arguments for `mariadb-dump` and `mariadb`.
    pub mariadb_args: Vec<String>,
}

/// Why the agent could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("--panel {0:?} is not a URL (e.g. https://panel.example.net)")]
    PanelNotUrl(String),
    #[error("--panel {0:?} has no host")]
    PanelNoHost(String),
    #[error("--panel {0:?}: only http:// and https:// are supported")]
    PanelScheme(String),
    #[error("cannot read the token file {path}: {error}")]
    TokenUnreadable { path: String, error: std::io::Error },
    #[error("the token file {path} is readable by every user (mode {mode:o}); make it readable by root only: chmod 600 {path}")]
    TokenPublic { path: String, mode: u32 },
    #[error("the token file {0} is empty")]
    TokenEmpty(String),
    #[error("the token file {0} must hold the token alone, on one line")]
    TokenNotOneLine(String),
    #[error("backup repository: {0}")]
    BackupRepository(#[from] hostwerk_backup::AccessError),
    #[error("cannot start the enforcer: {0}")]
    Enforcer(#[from] EnforcerError),
    #[error("cannot start the {what}: {error}")]
    Thread { what: &'static str, error: std::io::Error },
    #[error("enforcement stopped: {0}")]
    Stopped(String),
}

fn thread_error(what: &'static str) -> impl FnOnce(std::io::Error) -> AgentError {
    move |error| AgentError::Thread { what, error }
}

/// The state file is rewritten when the limits change, and at least this often to refresh its time stamp.
const STATE_REFRESH: Duration = Duration::from_secs(60);
/// At most one summary of signal errors per this period.
const SIGNAL_ERROR_LOG_PERIOD: Duration = Duration::from_secs(60);

/// Runs the agent until SIGTERM or SIGINT (`Ok`), or until enforcement cannot go on.
pub fn run(args: Settings) -> Result<(), AgentError> {
    let base = panel_base(&args.panel)?;
    let token = read_token(&args.token_file)?;
    if let Some(secs) = args.test_limit_seconds {
        warn!("test mode (--test-limit-seconds): every limit that is not off is replaced by {secs} s");
    }
    let panel = Panel::new(&base, &token, Duration::from_secs(10));
    let backup_stop = Arc::new(AtomicBool::new(false));
    if let Some(backup) = &args.backup {
        start_backup_workers(backup, &base, &token, &backup_stop)?;
    }

    // Signals first, so that a SIGTERM from here on ends the agent cleanly.
    let (events_tx, events) = mpsc::channel::<Event>();
    spawn_signal_thread(events_tx.clone())?;

    let mut builder = PolicyBuilder::new(args.grace_seconds.map(Duration::from_secs), args.test_limit_seconds);
    let mut known = match load_state(&args.state_file) {
        Ok(Some(saved)) => {
            info!(
                "loaded the limits of node {:?} from {} as of {} ({} users)",
                saved.limits.node,
                args.state_file.display(),
                format_unix(saved.fetched_at),
                saved.limits.users.len()
            );
            Some(saved)
        }
        Ok(None) => {
            info!("no saved limits at {}; nothing is enforced until the panel answers", args.state_file.display());
            None
        }
        Err(e) => {
            warn!("ignoring the saved limits: {e}");
            None
        }
    };
    let mut applied = match &known {
        Some(saved) => builder.build(&saved.limits),
        None => Built::empty(),
    };
    builder.log_changes(&Built::empty(), &applied);

    let queue = Arc::new(ReportQueue::default());
    let enforcer = Enforcer::new(applied.policy.clone())?;
    let (control, enforcer_thread) = spawn_enforcer(enforcer, events_tx.clone(), Arc::clone(&queue))?;

    let mut outage = false;
    let mut saved_at: Option<Instant> = None;
    let mut save_failing = false;
    let mut node: Option<String> = None;
    let mut interval = DEFAULT_POLL;
    let failure = 'outer: loop {
        let started = Instant::now();
        match panel.limits() {
            Ok(doc) => {
                if outage {
                    info!("panel reachable again");
                    outage = false;
                }
                if node.as_deref() != Some(doc.node.as_str()) {
                    info!("the panel knows this agent as node {:?} ({} system users)", doc.node, doc.users.len());
                    node = Some(doc.node.clone());
                }
                interval = poll_interval(&doc);
                let changed = known.as_ref().is_none_or(|k| k.limits != doc);
                known = Some(Saved::now(doc));
                if changed || saved_at.is_none_or(|t| t.elapsed() >= STATE_REFRESH) {
                    if let Some(saved) = &known {
                        match save_state(&args.state_file, saved) {
                            Ok(()) => {
                                saved_at = Some(Instant::now());
                                save_failing = false;
                            }
                            Err(e) if !save_failing => {
                                warn!("cannot save the limits (a restart while the panel is unreachable would enforce older ones): {e}");
                                save_failing = true;
                            }
                            Err(e) => debug!("cannot save the limits: {e:#}"),
                        }
                    }
                }
            }
            Err(e) => {
                if !outage {
                    let what = match e {
                        PanelError::Unreachable(_) => "panel unreachable",
                        PanelError::Status(..) | PanelError::BadAnswer(_) => "panel answered with an error",
                    };
                    match &known {
                        Some(k) => {
                            warn!("{what}; enforcing the last known limits from {}: {e}", format_unix(k.fetched_at))
                        }
                        None => warn!("{what}; no limits known yet, nothing is enforced: {e}"),
                    }
                    outage = true;
                } else {
                    debug!("panel still unreachable: {e}");
                }
            }
        }
        // Users are resolved on every poll, so a user created after the panel listed it is limited soon.
        if let Some(k) = &known {
            let next = builder.build(&k.limits);
            if next.policy != applied.policy {
                builder.log_changes(&applied, &next);
                if control.send(Control::SetPolicy(next.policy.clone())).is_err() {
                    break 'outer Some("the enforcer thread has ended".to_owned());
                }
            }
            applied = next;
        }
        if !outage {
            flush(&panel, &queue);
        }
        let due = started + interval;
        loop {
            match events.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(Event::Shutdown(signal)) => {
                    info!("{signal}: stopping");
                    break 'outer None;
                }
                Ok(Event::Reports) => {
                    if !outage {
                        flush(&panel, &queue);
                    }
                }
                Ok(Event::EnforcerFailed(e)) => break 'outer Some(e),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => break 'outer Some("internal channel closed".to_owned()),
            }
        }
    };

    backup_stop.store(true, Ordering::Relaxed);
    let _ = control.send(Control::Stop);
    if enforcer_thread.join().is_err() {
        error!("the enforcer thread panicked");
    }
    // One last, short attempt to deliver what is queued.
    if !queue.is_empty() {
        let quick = Panel::new(&base, &token, Duration::from_secs(3));
        flush(&quick, &queue);
        let left = queue.len();
        if left > 0 {
            warn!("{left} kill reports were not delivered to the panel");
        }
    }
    match failure {
        None => Ok(()),
        Some(e) => Err(AgentError::Stopped(e)),
    }
}

/// Starts the threads that claim and run the panel's backup jobs for this node.
fn start_backup_workers(
    backup: &BackupSettings,
    base: &str,
    token: &str,
    stop: &Arc<AtomicBool>,
) -> Result<(), AgentError> {
    // Fail early on unreadable secrets; the repository itself may be unreachable now and is opened when needed.
    backup.repository.open_backend()?;
    let cache: Arc<Mutex<Option<Arc<hostwerk_backup::Repository>>>> = Arc::new(Mutex::new(None));
    let worker_cfg = backup_worker::WorkerConfig {
        db: crate::jobs::DbClient { args: backup.mariadb_args.clone(), ..Default::default() },
        chown: is_root(),
        idle: Duration::from_secs(2),
    };
    info!("running backup jobs into {} with {} workers", backup.repository.location, backup.workers);
    for n in 0..backup.workers {
        let source = Panel::new(base, token, Duration::from_secs(30));
        let (cache, access, worker_cfg, stop) =
            (Arc::clone(&cache), backup.repository.clone(), worker_cfg.clone(), Arc::clone(stop));
        thread::Builder::new()
            .name(format!("backup-{n}"))
            .spawn(move || {
                let open = || -> Result<Arc<hostwerk_backup::Repository>, String> {
                    let mut guard = cache.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(r) = guard.as_ref() {
                        r.invalidate_index();
                        return Ok(Arc::clone(r));
                    }
                    let r = Arc::new(access.open(true).map_err(|e| e.to_string())?);
                    *guard = Some(Arc::clone(&r));
                    Ok(r)
                };
                backup_worker::run_loop(&source, &open, &worker_cfg, &stop);
            })
            .map_err(thread_error("backup worker thread"))?;
    }
    Ok(())
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// What wakes the main thread besides its poll timer.
#[derive(Debug)]
enum Event {
    Shutdown(&'static str),
    /// The enforcer queued kill reports.
    Reports,
    EnforcerFailed(String),
}

/// Runs the enforcer on its own thread. This is `Enforcer::run` plus two things the library leaves to its
/// caller: signal errors are logged (rate-limited), and a failed scan is reported instead of panicking.
fn spawn_enforcer(
    mut enforcer: Enforcer,
    events: Sender<Event>,
    queue: Arc<ReportQueue>,
) -> Result<(Sender<Control>, JoinHandle<()>), AgentError> {
    let (control, rx) = mpsc::channel::<Control>();
    let handle = thread::Builder::new()
        .name("enforcer".into())
        .spawn(move || {
            let mut errors_logged: Option<Instant> = None;
            let mut errors_unlogged = 0usize;
            loop {
                match enforcer.tick(Now::current()) {
                    Ok(reports) if !reports.is_empty() => {
                        for r in &reports {
                            info!(
                                "ended pid {} ({:?}) of {} after {} s with SIG{}",
                                r.pid,
                                r.comm,
                                r.user,
                                r.runtime_seconds,
                                r.signal.as_str()
                            );
                        }
                        queue.push(&reports);
                        let _ = events.send(Event::Reports);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        let _ = events.send(Event::EnforcerFailed(e.to_string()));
                        return;
                    }
                }
                let errors = enforcer.take_errors();
                if let Some(first) = errors.first() {
                    errors_unlogged += errors.len();
                    if errors_logged.is_none_or(|t| t.elapsed() >= SIGNAL_ERROR_LOG_PERIOD) {
                        warn!("could not signal {errors_unlogged} processes (retried on the next scan); e.g.: {first}");
                        errors_logged = Some(Instant::now());
                        errors_unlogged = 0;
                    }
                }
                match rx.recv_timeout(enforcer.sleep_time()) {
                    Ok(Control::SetPolicy(policy)) => enforcer.set_policy(policy),
                    Ok(Control::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Err(RecvTimeoutError::Timeout) => {}
                }
            }
        })
        .map_err(thread_error("enforcer thread"))?;
    Ok((control, handle))
}

/// Turns SIGTERM and SIGINT into [`Event::Shutdown`]. The handlers are installed before this returns.
fn spawn_signal_thread(events: Sender<Event>) -> Result<(), AgentError> {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_io().build().map_err(thread_error("signal handling"))?;
    let (mut term, mut int) = {
        let _guard = runtime.enter();
        let term = signal(SignalKind::terminate()).map_err(thread_error("SIGTERM handler"))?;
        let int = signal(SignalKind::interrupt()).map_err(thread_error("SIGINT handler"))?;
        (term, int)
    };
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let name = runtime.block_on(async {
                tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                }
            });
            let _ = events.send(Event::Shutdown(name));
        })
        .map_err(thread_error("signal thread"))?;
    Ok(())
}
