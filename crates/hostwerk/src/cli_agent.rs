//! `hostwerk agent`: the node agent on a webserver. It asks the panel which system users of this node have
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

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use hostwerk_agent::{
    resolve_user, Control, EnforcedLimit, Enforcer, KillReport, Now, Policy, PolicyError, UserLimit, DEFAULT_GRACE,
};
use hostwerk_domain::ProcessLimit;
use serde::{Deserialize, Serialize};
use tracing::{debug, error, info, warn};

/// Arguments of `hostwerk agent`.
#[derive(Debug, clap::Args)]
#[command(after_help = "The agent runs on each webserver, as root (it signals other users' processes; see \
dist/hostwerk-agent.service). It fetches the process limits of the node's system users from the panel every few \
seconds, ends every process of a limited user that runs longer than its limit (SIGTERM, then SIGKILL after the \
grace period) and reports each ended process to the panel. It never touches root's processes, those of users the \
panel does not list, or those of users whose limit is off. While the panel is unreachable the last known limits \
stay in force, across restarts too (--state-file).")]
pub struct AgentArgs {
    /// Base URL of the panel, e.g. https://panel.example.net
    #[arg(long, env = "HOSTWERK_PANEL")]
    panel: String,
    /// File holding this node's token (from the staff console's nodes page or `hostwerk admin node-token`);
    /// must not be readable by other users.
    #[arg(long, env = "HOSTWERK_AGENT_TOKEN_FILE")]
    token_file: PathBuf,
    /// Where the last limits received from the panel are kept, for restarts while the panel is unreachable.
    #[arg(long, env = "HOSTWERK_AGENT_STATE_FILE", default_value = "/var/lib/hostwerk-agent/limits.json")]
    state_file: PathBuf,
    /// Seconds between SIGTERM and SIGKILL [default: the panel's grace_seconds, else 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=3600))]
    grace_seconds: Option<u64>,
    /// TEST ONLY: replaces every limit that is not off with this many seconds, below the 180 s minimum, so
    /// that end-to-end tests (crates/hostwerk/tests/agent.rs) need not wait minutes. Never use it in production.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    test_limit_seconds: Option<u64>,
    /// Run the panel's backup jobs for this node into this repository: the assigned backup server's
    /// `rest:https://HOST:PORT/REPO` (with an append-only token), a folder, or `s3:…`. Without it the agent only
    /// enforces process limits.
    #[arg(long, env = "HOSTWERK_BACKUP_REPO")]
    backup_repo: Option<String>,
    /// File holding the repository password (required with --backup-repo).
    #[arg(long, env = "HOSTWERK_BACKUP_PASSWORD_FILE", requires = "backup_repo")]
    backup_password_file: Option<PathBuf>,
    /// File holding the repository server token (append-only rights are enough).
    #[arg(long, env = "HOSTWERK_BACKUP_TOKEN_FILE", requires = "backup_repo")]
    backup_token_file: Option<PathBuf>,
    /// PEM file of the CA that signed the repository server's certificate.
    #[arg(long, env = "HOSTWERK_BACKUP_CACERT", requires = "backup_repo")]
    backup_cacert: Option<PathBuf>,
    /// Backup jobs this agent runs at once (the panel's per-webserver cap applies as well).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    backup_workers: u64,
    /// An argument for `mariadb-dump` and `mariadb` (repeatable), e.g. --mariadb-arg=--defaults-file=/etc/hostwerk/agent-my.cnf
    #[arg(long = "mariadb-arg", allow_hyphen_values = true)]
    mariadb_args: Vec<String>,
}

/// Kill reports waiting for the panel; the oldest are dropped beyond this.
const MAX_QUEUED_REPORTS: usize = 10_000;
/// Reports per POST.
const REPORTS_PER_REQUEST: usize = 500;
/// Bounds of the panel's poll interval; the upper one is the promise that a change applies within 10 s.
const MIN_POLL: Duration = Duration::from_secs(1);
const MAX_POLL: Duration = Duration::from_secs(10);
const DEFAULT_POLL: Duration = Duration::from_secs(5);
/// The state file is rewritten when the limits change, and at least this often to refresh its time stamp.
const STATE_REFRESH: Duration = Duration::from_secs(60);
/// At most one summary of signal errors per this period.
const SIGNAL_ERROR_LOG_PERIOD: Duration = Duration::from_secs(60);

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let base = panel_base(&args.panel)?;
    let token = read_token(&args.token_file)?;
    if let Some(secs) = args.test_limit_seconds {
        warn!("test mode (--test-limit-seconds): every limit that is not off is replaced by {secs} s");
    }
    let panel = Panel::new(&base, &token, Duration::from_secs(10));
    let backup_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(location) = &args.backup_repo {
        start_backup_workers(&args, location, &base, &token, &backup_stop)?;
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
            warn!("ignoring the saved limits: {e:#}");
            None
        }
    };
    let mut applied = match &known {
        Some(saved) => builder.build(&saved.limits),
        None => Built::empty(),
    };
    builder.log_changes(&Built::empty(), &applied);

    let queue = Arc::new(ReportQueue::default());
    let enforcer = Enforcer::new(applied.policy.clone()).context("cannot start the enforcer")?;
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
                interval = doc.poll_interval();
                let changed = known.as_ref().is_none_or(|k| k.limits != doc);
                known = Some(Saved { version: 1, fetched_at: unix_now(), limits: doc });
                if changed || saved_at.is_none_or(|t| t.elapsed() >= STATE_REFRESH) {
                    if let Some(saved) = &known {
                        match save_state(&args.state_file, saved) {
                            Ok(()) => {
                                saved_at = Some(Instant::now());
                                save_failing = false;
                            }
                            Err(e) if !save_failing => {
                                warn!("cannot save the limits (a restart while the panel is unreachable would enforce older ones): {e:#}");
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

    backup_stop.store(true, std::sync::atomic::Ordering::Relaxed);
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
        None => Ok(ExitCode::SUCCESS),
        Some(e) => bail!("enforcement stopped: {e}"),
    }
}

/// Starts the threads that claim and run the panel's backup jobs for this node.
fn start_backup_workers(
    args: &AgentArgs,
    location: &str,
    base: &str,
    token: &str,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> anyhow::Result<()> {
    let Some(password_file) = args.backup_password_file.clone() else {
        bail!("--backup-repo needs --backup-password-file");
    };
    let repo_cfg = hostwerk_web::config::RepositoryConfig {
        webserver: String::new(),
        location: location.to_owned(),
        password_file,
        token_file: args.backup_token_file.clone(),
        ca_cert: args.backup_cacert.clone(),
    };
    // Fail early on unreadable secrets; the repository itself may be unreachable now and is opened when needed.
    hostwerk_web::backup_repos::open_backend(&repo_cfg).map_err(|e| anyhow::anyhow!("backup repository: {e}"))?;
    let cache: Arc<Mutex<Option<Arc<hostwerk_backup::Repository>>>> = Arc::new(Mutex::new(None));
    let worker_cfg = crate::backup_worker::WorkerConfig {
        db: hostwerk_agent::jobs::DbClient { args: args.mariadb_args.clone(), ..Default::default() },
        chown: rustix_is_root(),
        idle: Duration::from_secs(2),
    };
    info!("running backup jobs into {location} with {} workers", args.backup_workers);
    for n in 0..args.backup_workers {
        let source = crate::backup_worker::HttpSource {
            http: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                .timeout(Duration::from_secs(30))
                .redirects(0)
                .user_agent(concat!("hostwerk-agent/", env!("CARGO_PKG_VERSION")))
                .build(),
            base: base.to_owned(),
            authorization: format!("Bearer {token}"),
        };
        let (cache, repo_cfg, worker_cfg, stop) =
            (Arc::clone(&cache), repo_cfg.clone(), worker_cfg.clone(), Arc::clone(stop));
        thread::Builder::new()
            .name(format!("backup-{n}"))
            .spawn(move || {
                let open = || -> Result<Arc<hostwerk_backup::Repository>, String> {
                    let mut guard = cache.lock().unwrap_or_else(PoisonError::into_inner);
                    if let Some(r) = guard.as_ref() {
                        r.invalidate_index();
                        return Ok(Arc::clone(r));
                    }
                    let r = Arc::new(
                        hostwerk_web::backup_repos::open_repository(&repo_cfg, true).map_err(|e| e.to_string())?,
                    );
                    *guard = Some(Arc::clone(&r));
                    Ok(r)
                };
                crate::backup_worker::run_loop(&source, &open, &worker_cfg, &stop);
            })
            .context("cannot start a backup worker thread")?;
    }
    Ok(())
}

fn rustix_is_root() -> bool {
    fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// What wakes the main thread besides its poll timer.
#[derive(Debug)]
enum Event {
    Shutdown(&'static str),
    /// The enforcer queued kill reports.
    Reports,
    EnforcerFailed(String),
}

// ----- the panel -----------------------------------------------------------------------------------------

/// `GET /api/v1/agent/limits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LimitsDoc {
    node: String,
    #[serde(default)]
    poll_seconds: Option<u64>,
    #[serde(default)]
    grace_seconds: Option<u64>,
    users: Vec<UserEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct UserEntry {
    system_user: String,
    /// "off" or seconds, as [`ProcessLimit::parse`] reads it.
    limit: String,
}

impl LimitsDoc {
    fn poll_interval(&self) -> Duration {
        self.poll_seconds.map_or(DEFAULT_POLL, |s| Duration::from_secs(s).clamp(MIN_POLL, MAX_POLL))
    }
}

#[derive(Debug)]
enum PanelError {
    /// No HTTP answer: connection refused, timeout, TLS, DNS.
    Unreachable(String),
    /// An HTTP status other than the expected one.
    Status(u16, String),
    /// An answer that is not what the API promises.
    BadAnswer(String),
}

impl fmt::Display for PanelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanelError::Unreachable(e) => write!(f, "{e}"),
            PanelError::Status(401, _) => {
                f.write_str("the panel refused the node token (HTTP 401); check --token-file")
            }
            PanelError::Status(code, body) => write!(f, "HTTP {code}: {body}"),
            PanelError::BadAnswer(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

#[derive(Debug)]
struct Panel {
    http: ureq::Agent,
    limits_url: String,
    kills_url: String,
    authorization: String,
}

impl Panel {
    fn new(base: &str, token: &str, timeout: Duration) -> Panel {
        let http = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            // A redirect would drop the token; an error says more than a silent 401.
            .redirects(0)
            .user_agent(concat!("hostwerk-agent/", env!("CARGO_PKG_VERSION")))
            .build();
        Panel {
            http,
            limits_url: format!("{base}/api/v1/agent/limits"),
            kills_url: format!("{base}/api/v1/agent/kills"),
            authorization: format!("Bearer {token}"),
        }
    }

    fn limits(&self) -> Result<LimitsDoc, PanelError> {
        let answer = self.http.get(&self.limits_url).set("Authorization", &self.authorization).call();
        let body = expect_status(answer, 200)?;
        serde_json::from_str(&body).map_err(|e| PanelError::BadAnswer(e.to_string()))
    }

    fn post_kills(&self, kills: &[KillReport]) -> Result<(), PanelError> {
        #[derive(Serialize)]
        struct Body<'a> {
            kills: &'a [KillReport],
        }
        let body = serde_json::to_string(&Body { kills }).map_err(|e| PanelError::BadAnswer(e.to_string()))?;
        let answer = self
            .http
            .post(&self.kills_url)
            .set("Authorization", &self.authorization)
            .set("Content-Type", "application/json")
            .send_string(&body);
        let answer = match answer {
            // 200 is as good as 202.
            Ok(r) if r.status() == 200 => return Ok(()),
            other => other,
        };
        expect_status(answer, 202).map(|_| ())
    }
}

fn expect_status(answer: Result<ureq::Response, ureq::Error>, expected: u16) -> Result<String, PanelError> {
    match answer {
        Ok(r) if r.status() == expected => r.into_string().map_err(|e| PanelError::Unreachable(e.to_string())),
        Ok(r) => Err(PanelError::Status(r.status(), short_body(r))),
        Err(ureq::Error::Status(code, r)) => Err(PanelError::Status(code, short_body(r))),
        Err(ureq::Error::Transport(t)) => Err(PanelError::Unreachable(t.to_string())),
    }
}

fn short_body(r: ureq::Response) -> String {
    let text = r.into_string().unwrap_or_default();
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The panel URL without a trailing slash; http(s) only.
fn panel_base(url: &str) -> anyhow::Result<String> {
    let base = url.trim().trim_end_matches('/');
    let Some((scheme, rest)) = base.split_once("://") else {
        bail!("--panel {url:?} is not a URL (e.g. https://panel.example.net)");
    };
    if rest.is_empty() {
        bail!("--panel {url:?} has no host");
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" => {
            let host = rest.split('/').next().unwrap_or_default();
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
                warn!("--panel uses plain http: the node token and the limits cross the network unencrypted");
            }
        }
        _ => bail!("--panel {url:?}: only http:// and https:// are supported"),
    }
    Ok(base.to_owned())
}

/// Reads the token: trimmed, one line, in a file other users cannot read.
fn read_token(path: &Path) -> anyhow::Result<String> {
    let meta = fs::metadata(path).with_context(|| format!("cannot read the token file {}", path.display()))?;
    let mode = meta.permissions().mode();
    if mode & 0o004 != 0 {
        bail!(
            "the token file {} is readable by every user (mode {:o}); make it readable by root only: chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    if mode & 0o040 != 0 {
        warn!(
            "the token file {} is readable by its group (mode {:o}); chmod 600 is safer",
            path.display(),
            mode & 0o777
        );
    }
    let text = fs::read_to_string(path).with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        bail!("the token file {} is empty", path.display());
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("the token file {} must hold the token alone, on one line", path.display());
    }
    Ok(token.to_owned())
}

// ----- kill reports --------------------------------------------------------------------------------------

/// Reports waiting for the panel, oldest first, at most [`MAX_QUEUED_REPORTS`].
#[derive(Debug, Default)]
struct ReportQueue {
    inner: Mutex<VecDeque<KillReport>>,
}

impl ReportQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<KillReport>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, reports: Vec<KillReport>) {
        let mut q = self.lock();
        q.extend(reports);
        let excess = q.len().saturating_sub(MAX_QUEUED_REPORTS);
        if excess > 0 {
            q.drain(..excess);
            warn!("{excess} kill reports dropped: more than {MAX_QUEUED_REPORTS} are waiting for the panel");
        }
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// A copy of the oldest reports, up to `n`.
    fn front(&self, n: usize) -> Vec<KillReport> {
        self.lock().iter().take(n).cloned().collect()
    }

    /// Removes the oldest `n` reports (delivered).
    fn pop(&self, n: usize) {
        let mut q = self.lock();
        let n = n.min(q.len());
        q.drain(..n);
    }
}

/// Posts the queued reports; what the panel does not take stays queued for the next attempt.
fn flush(panel: &Panel, queue: &ReportQueue) {
    loop {
        let batch = queue.front(REPORTS_PER_REQUEST);
        if batch.is_empty() {
            return;
        }
        match panel.post_kills(&batch) {
            Ok(()) => {
                debug!("{} kill reports delivered", batch.len());
                queue.pop(batch.len());
            }
            // The panel refuses these reports for good (malformed, too large): retrying would block the queue.
            Err(PanelError::Status(code @ (400 | 413 | 422), body)) => {
                error!("the panel refused {} kill reports (HTTP {code}: {body}); dropped", batch.len());
                queue.pop(batch.len());
            }
            Err(e) => {
                warn!("cannot deliver {} kill reports, will retry: {e}", queue.len());
                return;
            }
        }
    }
}

// ----- the enforcer thread --------------------------------------------------------------------------------

/// Runs the enforcer on its own thread. This is `Enforcer::run` plus two things the library leaves to its
/// caller: signal errors are logged (rate-limited), and a failed scan is reported instead of panicking.
fn spawn_enforcer(
    mut enforcer: Enforcer,
    events: Sender<Event>,
    queue: Arc<ReportQueue>,
) -> anyhow::Result<(Sender<Control>, JoinHandle<()>)> {
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
                        queue.push(reports);
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
        .context("cannot start the enforcer thread")?;
    Ok((control, handle))
}

/// Turns SIGTERM and SIGINT into [`Event::Shutdown`]. The handlers are installed before this returns.
fn spawn_signal_thread(events: Sender<Event>) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_io().build().context("cannot set up signal handling")?;
    let (mut term, mut int) = {
        let _guard = runtime.enter();
        let term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
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
        .context("cannot start the signal thread")?;
    Ok(())
}

// ----- from the panel's list to a policy ------------------------------------------------------------------

/// A policy and, per user name, its uid and limit (for the log).
#[derive(Debug, Clone)]
struct Built {
    policy: Policy,
    users: BTreeMap<String, (u32, EnforcedLimit)>,
}

impl Built {
    fn empty() -> Built {
        Built { policy: Policy::empty(), users: BTreeMap::new() }
    }
}

#[derive(Debug)]
struct PolicyBuilder {
    grace: Option<Duration>,
    test_limit: Option<u64>,
    /// Problems already logged (user names, or "limit:<user>:<text>"), so each is logged once while it lasts.
    logged: HashSet<String>,
}

impl PolicyBuilder {
    fn new(grace: Option<Duration>, test_limit: Option<u64>) -> PolicyBuilder {
        PolicyBuilder { grace, test_limit, logged: HashSet::new() }
    }

    fn build(&mut self, doc: &LimitsDoc) -> Built {
        let grace = self.grace.or(doc.grace_seconds.map(|s| Duration::from_secs(s.min(3600)))).unwrap_or(DEFAULT_GRACE);
        let mut by_uid: BTreeMap<u32, UserLimit> = BTreeMap::new();
        let mut users = BTreeMap::new();
        let mut problems = HashSet::new();
        for entry in &doc.users {
            let name = entry.system_user.as_str();
            let limit = match ProcessLimit::parse(&entry.limit) {
                Ok(l) => l,
                Err(e) => {
                    let key = format!("limit:{name}:{}", entry.limit);
                    if !self.logged.contains(&key) {
                        warn!("the panel's limit {:?} for {name} is not valid ({e}); user skipped", entry.limit);
                    }
                    problems.insert(key);
                    continue;
                }
            };
            let uid = match resolve_user(name) {
                Ok(0) => Err(format!("system user {name} is root; root's processes are never limited")),
                Ok(uid) => Ok(uid),
                Err(PolicyError::UnknownUser(_)) => {
                    Err(format!("system user {name} does not exist on this machine; skipped until it does"))
                }
                Err(e) => Err(format!("{e}; user skipped")),
            };
            let uid = match uid {
                Ok(uid) => uid,
                Err(message) => {
                    if !self.logged.contains(name) {
                        warn!("{message}");
                    }
                    problems.insert(name.to_owned());
                    continue;
                }
            };
            if let Some(first) = by_uid.get(&uid) {
                let key = format!("dup:{name}");
                if !self.logged.contains(&key) {
                    warn!("system users {} and {name} are the same uid {uid}; {name} skipped", first.name);
                }
                problems.insert(key);
                continue;
            }
            let limit = match (EnforcedLimit::from(limit), self.test_limit) {
                // Test-only override (see --test-limit-seconds); off stays off.
                (l, Some(secs)) if l.duration().is_some() => EnforcedLimit::for_tests(Duration::from_secs(secs)),
                (l, _) => l,
            };
            by_uid.insert(uid, UserLimit { name: name.to_owned(), limit });
            users.insert(name.to_owned(), (uid, limit));
        }
        self.logged = problems;
        match Policy::new(by_uid.into_iter().collect(), grace) {
            Ok(policy) => Built { policy, users },
            // Unreachable (root is filtered above), but never enforce a half-checked policy.
            Err(e) => {
                error!("the limits from the panel make no valid policy: {e}");
                Built::empty()
            }
        }
    }

    /// Logs each user whose limit changed between two policies.
    fn log_changes(&self, old: &Built, new: &Built) {
        for (name, (uid, limit)) in &new.users {
            if old.users.get(name) != Some(&(*uid, *limit)) {
                match limit.duration() {
                    Some(d) => info!("limit for {name} (uid {uid}) is now {} s", d.as_secs()),
                    None => info!("limit for {name} (uid {uid}) is now off"),
                }
            }
        }
        for name in old.users.keys().filter(|n| !new.users.contains_key(*n)) {
            info!("limit for {name} lifted: no longer listed by the panel");
        }
        if old.policy.grace() != new.policy.grace() || old.users.is_empty() && !new.users.is_empty() {
            info!("grace between SIGTERM and SIGKILL: {} s", new.policy.grace().as_secs());
        }
    }
}

// ----- the state file -------------------------------------------------------------------------------------

/// The state file: the last limits received and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    version: u32,
    /// When the panel last sent these limits (Unix seconds).
    fetched_at: u64,
    limits: LimitsDoc,
}

fn load_state(path: &Path) -> anyhow::Result<Option<Saved>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let saved: Saved = serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))?;
    if saved.version != 1 {
        bail!("{} has version {}; this agent reads version 1", path.display(), saved.version);
    }
    Ok(Some(saved))
}

/// Writes the state atomically: a temporary file in the same directory, fsync, rename, fsync of the directory.
fn save_state(path: &Path, saved: &Saved) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "limits.json".into());
    let tmp = dir.join(format!(".{name}.tmp"));
    let json = serde_json::to_vec_pretty(saved)?;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(&json).and_then(|()| file.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(file);
    fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn format_unix(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(|| format!("{secs} (Unix time)"), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn doc(users: &[(&str, &str)]) -> LimitsDoc {
        LimitsDoc {
            node: "web001".into(),
            poll_seconds: Some(5),
            grace_seconds: Some(5),
            users: users.iter().map(|(u, l)| UserEntry { system_user: (*u).into(), limit: (*l).into() }).collect(),
        }
    }

    #[test]
    fn the_panel_document_parses() {
        let json = r#"{"node":"web001","poll_seconds":5,"grace_seconds":5,"users":[{"system_user":"k1000001c1","limit":"180"},{"system_user":"k1000003c1","limit":"off"}]}"#;
        let d: LimitsDoc = serde_json::from_str(json).unwrap();
        assert_eq!(d, doc(&[("k1000001c1", "180"), ("k1000003c1", "off")]));
        assert_eq!(d.poll_interval(), Duration::from_secs(5));
        let d: LimitsDoc = serde_json::from_str(r#"{"node":"n","poll_seconds":60,"users":[]}"#).unwrap();
        assert_eq!(d.poll_interval(), MAX_POLL);
        let d: LimitsDoc = serde_json::from_str(r#"{"node":"n","poll_seconds":0,"users":[]}"#).unwrap();
        assert_eq!(d.poll_interval(), MIN_POLL);
    }

    #[test]
    fn policies_skip_what_cannot_be_enforced() {
        // "daemon" exists on every Debian system; root and unknown users are skipped, bad limits too.
        let d = doc(&[("daemon", "180"), ("root", "180"), ("no-such-user-hw", "180"), ("bin", "soon")]);
        let mut b = PolicyBuilder::new(None, None);
        let built = b.build(&d);
        let uid = resolve_user("daemon").unwrap();
        assert_eq!(built.policy.limit(uid), Some(Duration::from_secs(180)));
        assert_eq!(built.policy.limit(0), None);
        assert_eq!(built.users.len(), 1);
        assert_eq!(built.policy.grace(), Duration::from_secs(5));
        assert_eq!(b.logged.len(), 3);

        let mut t = PolicyBuilder::new(Some(Duration::from_secs(1)), Some(2));
        let built = t.build(&doc(&[("daemon", "3600"), ("bin", "off")]));
        assert_eq!(built.policy.limit(uid), Some(Duration::from_secs(2)));
        assert_eq!(built.policy.limit(resolve_user("bin").unwrap()), None);
        assert!(built.policy.user(resolve_user("bin").unwrap()).is_some());
        assert_eq!(built.policy.grace(), Duration::from_secs(1));
    }

    #[test]
    fn the_state_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/limits.json");
        assert!(load_state(&path).unwrap().is_none());
        let saved = Saved { version: 1, fetched_at: 1_700_000_000, limits: doc(&[("a", "off")]) };
        save_state(&path, &saved).unwrap();
        save_state(&path, &saved).unwrap();
        let back = load_state(&path).unwrap().unwrap();
        assert_eq!(back.limits, saved.limits);
        assert_eq!(back.fetched_at, saved.fetched_at);
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 1, "no temporary file left");
        fs::write(&path, "{").unwrap();
        assert!(load_state(&path).is_err());
    }

    #[test]
    fn tokens_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        fs::write(&path, "abc123\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_token(&path).unwrap_err().to_string().contains("chmod 600"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token(&path).unwrap(), "abc123");
        fs::write(&path, "abc 123\n").unwrap();
        assert!(read_token(&path).is_err());
    }

    #[test]
    fn panel_urls() {
        assert_eq!(panel_base("https://panel.example.net/").unwrap(), "https://panel.example.net");
        assert_eq!(panel_base("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert!(panel_base("panel.example.net").is_err());
        assert!(panel_base("ftp://panel.example.net").is_err());
        assert_eq!(format_unix(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn the_queue_is_bounded() {
        let q = ReportQueue::default();
        let r = KillReport {
            time: 1,
            uid: 1000,
            user: "a".into(),
            pid: 1,
            comm: "sleep".into(),
            runtime_seconds: 3,
            signal: hostwerk_agent::KillSignal::Term,
        };
        q.push(vec![r.clone(); MAX_QUEUED_REPORTS + 5]);
        assert_eq!(q.len(), MAX_QUEUED_REPORTS);
        assert_eq!(q.front(3).len(), 3);
        q.pop(MAX_QUEUED_REPORTS - 1);
        assert_eq!(q.len(), 1);
        q.pop(10);
        assert!(q.is_empty());
    }
}
