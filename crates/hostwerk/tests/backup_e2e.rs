#![allow(clippy::unwrap_used)]
//! End-to-end and crash tests of backups in the platform (issue 7) with the real binaries only: one repository
//! server (`hostwerk backup serve` on a free loopback port, an append-only token per webserver repository and a
//! maintenance token for the panel), the panel (`hostwerk serve --demo --config FILE`, webspaces and Maildirs
//! in a temporary folder, a one-second queue tick, a three-second heartbeat timeout, and a test clock file that
//! the backup scheduler takes as "now"), and `hostwerk agent` for web001 and web002, which claim the panel's
//! jobs and write into the server with their append-only tokens.
//!
//! * `nightly_restore_allowance_and_admission`: at 23:00 Europe/Berlin the panel queues the night's backups
//!   and both agents run them (the snapshots appear in the customer API and on the server's disk); a deleted
//!   file comes back byte-identical and owned by the contract's user, in place and into a new folder; the
//!   tariff's two on-demand backups per day run, a third is refused with 409 "used up". Then, three minutes
//!   before the next window ends with web002's agent stopped, an on-demand backup of K1000001 on the idle
//!   web001 stays queued (with its queue position) across several agent polls while web002's nightly backup,
//!   which shares the single backup-server slot (`backup_server_concurrency = 1`), could still make its
//!   window; once web002's agent is back the nightly job runs first and the on-demand job after it.
//!
//!   Why the caps and not the admission rule refuse here: every job of a webserver goes to that webserver's
//!   one backup server, and the scheduler walks nightly jobs before on-demand ones. A queued nightly job that
//!   is left over at that point is blocked by its webserver's cap (had its backup server been full, the
//!   on-demand candidate sharing it would be blocked by the cap too), and each running job on that webserver
//!   frees its webserver slot and its backup-server slot at the same moment, so the backup server's predicted
//!   use never grows and the candidate can delay no nightly job. The admission rule of
//!   `hostwerk-schedule/src/admission.rs` therefore only bites when jobs of one webserver point at different
//!   backup servers (a reassignment mid-night); its property tests cover it. What this test pins down is the
//!   behaviour a customer sees: the on-demand job waits, with a queue position, for the nightly job.
//! * `killing_the_agent_mid_backup_loses_nothing`: a backup of a webspace with a large incompressible file is
//!   running when web001's agent gets SIGKILL; the restarted agent gets the job again after the panel requeued
//!   it (heartbeat timeout), and completes it; `hostwerk backup check` passes on the server's folder and the
//!   earlier snapshot restores byte-identical.
//! * `killing_the_backup_server_mid_backup_loses_nothing`: the same with SIGKILL to the repository server
//!   during a nightly backup: the attempt fails after the client's retries, the panel queues the nightly job
//!   again, the server restarts on the same port, the next attempt succeeds, `check` passes and the earlier
//!   snapshot restores byte-identical.
//!
//! Timings (how long a nightly run took, when the requeue happened) are printed on stderr. Needs root (agents
//! give restored files to `k1000001c1`, and the users are created if missing); as another user it prints
//! "skipped: needs root" and passes, except with `CI=true`, where it fails.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod support;
use support::{ensure_user, is_root, say, start_repo_server, Daemon};

const BIN: &str = env!("CARGO_BIN_EXE_hostwerk");
/// Size of the incompressible file that makes a backup take several seconds: the engine is not optimised in
/// the dev profile (about 3 MiB/s there on 2 cores, some 100 MiB/s in release).
const BIG_FILE_MIB: usize = if cfg!(debug_assertions) { 32 } else { 768 };

/// True when the test may run; false (after a note) when it must be skipped.
fn may_run() -> bool {
    if is_root() {
        return true;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "the backup end-to-end test needs root, and CI=true");
    say("skipped: needs root");
    false
}

/// Runs `hostwerk ARGS…` to the end; returns stdout, panics with stderr on failure.
fn hostwerk(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("HOSTWERK_REPO")
        .env_remove("HOSTWERK_REPO_PASSWORD")
        .env_remove("HOSTWERK_DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "hostwerk {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn write_secret(path: &Path, text: &str) {
    fs::write(path, text.trim()).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

fn http() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build()
}

fn send_json(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut request = http().request(method, url);
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(b) => request.set("Content-Type", "application/json").send_string(&b.to_string()),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Polls `probe` every 100 ms until it returns `Some`; panics with `what` and the last value after `timeout`.
fn wait_until<T>(timeout: Duration, what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(last) => {
                assert!(start.elapsed() < timeout, "{what}: not within {timeout:?}; last seen: {last}");
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Settings that differ between the tests.
#[derive(Debug, Clone, Copy)]
struct Settings {
    backup_server_concurrency: usize,
    min_estimate_seconds: i64,
    max_attempts: i64,
}

/// One platform: repository server, panel, agents, and their folders.
struct Platform {
    dir: PathBuf,
    /// The webspace root (`webspace_root`).
    www: PathBuf,
    /// The repository server's root folder (one subfolder per webserver).
    repos: PathBuf,
    password: PathBuf,
    clock: PathBuf,
    server: Option<Daemon>,
    server_addr: String,
    panel: Daemon,
    url: String,
    agents: BTreeMap<&'static str, Daemon>,
    runs: u32,
    /// Last: fields drop in order, and the daemons print their logs (kept in here) when a test fails.
    _tmp: tempfile::TempDir,
}

impl Platform {
    fn start(settings: Settings) -> Platform {
        ensure_user("k1000001c1");
        ensure_user("k1000002c1");
        let tmp = tempfile::Builder::new().prefix("hw-backup-e2e").tempdir().unwrap();
        let dir = fs::canonicalize(tmp.path()).unwrap();
        let (data, www, vmail, repos) = (dir.join("data"), dir.join("www"), dir.join("vmail"), dir.join("repos"));
        for d in [&www, &vmail, &repos] {
            fs::create_dir_all(d).unwrap();
        }
        let password = dir.join("repo-password");
        write_secret(&password, "correct horse battery staple e2e");
        // The clock exists before the panel starts: a missing one means the real time, which may be night.
        let clock = dir.join("clock");
        set_clock_file(&clock, "2026-03-10T12:00:00+01:00");

        // Tokens: append-only per webserver repository, maintenance for the panel.
        let tokens = dir.join("repo-tokens.toml");
        let tokens_s = tokens.to_str().unwrap();
        for web in ["web001", "web002"] {
            let t = hostwerk(&[
                "backup",
                "server-token",
                "--name",
                &format!("{web}-agent"),
                "--access",
                "append-only",
                "--repo",
                web,
                "--tokens",
                tokens_s,
            ]);
            write_secret(&dir.join(format!("{web}-repo.token")), &t);
        }
        let t = hostwerk(&[
            "backup",
            "server-token",
            "--name",
            "panel",
            "--access",
            "maintenance",
            "--repo",
            "*",
            "--tokens",
            tokens_s,
        ]);
        write_secret(&dir.join("panel-repo.token"), &t);

        let (server, server_addr) = start_repo_server(&dir, &repos, "127.0.0.1:0", 1);
        say(&format!("repository server on {server_addr}"));

        let config = dir.join("hostwerk.toml");
        let mut text = format!(
            "webspace_root = {www:?}\n\n[backup]\nwindow = \"22:00-06:00\"\ntime_zone = \"Europe/Berlin\"\n\
             tick_seconds = 1\nheartbeat_timeout_seconds = 3\nmax_attempts = {max}\n\
             backup_server_concurrency = {bsc}\nwebserver_concurrency = 2\ndefault_estimate_seconds = 60\n\
             min_estimate_seconds = {min}\nmail_root = {vmail:?}\ntest_clock_file = {clock:?}\n",
            www = www.display().to_string(),
            vmail = vmail.display().to_string(),
            clock = clock.display().to_string(),
            max = settings.max_attempts,
            bsc = settings.backup_server_concurrency,
            min = settings.min_estimate_seconds,
        );
        for web in ["web001", "web002"] {
            text.push_str(&format!(
                "\n[[backup.repositories]]\nwebserver = \"{web}\"\nlocation = \"rest:http://{server_addr}/{web}\"\n\
                 password_file = {pw:?}\ntoken_file = {tok:?}\n",
                pw = password.display().to_string(),
                tok = dir.join("panel-repo.token").display().to_string(),
            ));
        }
        fs::write(&config, text).unwrap();

        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .env_remove("HOSTWERK_CONFIG")
            .env_remove("HOSTWERK_DATABASE_URL")
            .env_remove("HOSTWERK_LISTEN")
            .env_remove("HOSTWERK_DATA_DIR")
            .stdout(Stdio::piped());
        let mut panel = Daemon::spawn("hostwerk serve", &mut cmd, dir.join("panel.log"));
        let first = panel.first_line();
        let url = first
            .strip_prefix("hostwerk ")
            .and_then(|l| l.split_once(" listening on "))
            .map(|(_, u)| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| panic!("unexpected first line from hostwerk serve: {first:?}"));
        for web in ["web001", "web002"] {
            let token = hostwerk(&["admin", "node-token", "--node", web, "--data-dir", data.to_str().unwrap()]);
            write_secret(&dir.join(format!("{web}.token")), &token);
        }
        let mut p = Platform {
            _tmp: tmp,
            dir,
            www,
            repos,
            password,
            clock,
            server: Some(server),
            server_addr,
            panel,
            url,
            agents: BTreeMap::new(),
            runs: 0,
        };
        p.start_agent("web001");
        p.start_agent("web002");
        p
    }

    fn start_agent(&mut self, web: &'static str) {
        self.runs += 1;
        let dir = &self.dir;
        let mut cmd = Command::new(BIN);
        cmd.args(["agent", "--panel", &self.url, "--token-file"])
            .arg(dir.join(format!("{web}.token")))
            .arg("--state-file")
            .arg(dir.join(format!("{web}-limits.json")))
            .args(["--backup-repo", &format!("rest:http://{}/{web}", self.server_addr)])
            .arg("--backup-password-file")
            .arg(&self.password)
            .arg("--backup-token-file")
            .arg(dir.join(format!("{web}-repo.token")))
            .env_remove("HOSTWERK_PANEL")
            .env_remove("HOSTWERK_AGENT_TOKEN_FILE")
            .env_remove("HOSTWERK_AGENT_STATE_FILE")
            .env_remove("HOSTWERK_BACKUP_REPO")
            .env_remove("HOSTWERK_BACKUP_PASSWORD_FILE")
            .env_remove("HOSTWERK_BACKUP_TOKEN_FILE")
            .env_remove("HOSTWERK_BACKUP_CACERT")
            .stdout(Stdio::null());
        let name = format!("agent {web} (run {})", self.runs);
        let log = dir.join(format!("agent-{web}-{}.log", self.runs));
        let agent = Daemon::spawn(&name, &mut cmd, log);
        assert!(self.agents.insert(web, agent).is_none(), "{web}'s agent already runs");
    }

    fn agent(&mut self, web: &'static str) -> Daemon {
        self.agents.remove(web).unwrap_or_else(|| panic!("{web}'s agent does not run"))
    }

    /// Sets the backup scheduler's "now" (the file is replaced atomically: a half-written one is real time).
    fn set_clock(&self, rfc3339: &str) {
        set_clock_file(&self.clock, rfc3339);
        say(&format!("test clock set to {rfc3339}"));
    }

    fn login(&self, login: &str, password: &str) -> Customer {
        let (status, answer) = send_json(
            "POST",
            &format!("{}/api/v1/auth/token", self.url),
            None,
            Some(&json!({"login": login, "password": password})),
        );
        assert_eq!(status, 200, "login {login}: {answer}");
        let token = answer["token"].as_str().unwrap().to_owned();
        let (status, contracts) = send_json("GET", &format!("{}/api/v1/me/contracts", self.url), Some(&token), None);
        assert_eq!(status, 200, "{contracts}");
        let list = contracts.as_array().or_else(|| contracts["contracts"].as_array()).unwrap().clone();
        assert_eq!(list.len(), 1, "one contract: {contracts}");
        let contract = list[0]["id"].as_i64().unwrap();
        let system_user = list[0]["system_user"].as_str().unwrap().to_owned();
        Customer { base: format!("{}/api/v1/me/contracts/{contract}/backups", self.url), token, system_user }
    }

    /// The contract's webspace on disk.
    fn webspace(&self, c: &Customer) -> PathBuf {
        self.www.join(&c.system_user)
    }

    fn repo_dir(&self, web: &str) -> PathBuf {
        self.repos.join(web)
    }

    /// `hostwerk backup check` on the server's folder of a repository (passes or panics).
    fn check_repo(&self, web: &str) -> String {
        let repo = self.repo_dir(web);
        hostwerk(&[
            "backup",
            "--repo",
            repo.to_str().unwrap(),
            "--password-file",
            self.password.to_str().unwrap(),
            "check",
        ])
    }

    /// Restores `snapshot` from the server's folder with the CLI and compares the webspace files.
    fn assert_restores(&self, web: &str, snapshot: &str, webspace: &Path, expected: &BTreeMap<String, Vec<u8>>) {
        let target = self.dir.join(format!("cli-restore-{}", &snapshot[..12]));
        let repo = self.repo_dir(web);
        hostwerk(&[
            "backup",
            "--repo",
            repo.to_str().unwrap(),
            "--password-file",
            self.password.to_str().unwrap(),
            "restore",
            snapshot,
            "--target",
            target.to_str().unwrap(),
            "--include",
            webspace.to_str().unwrap(),
        ]);
        let restored = target.join(webspace.strip_prefix("/").unwrap());
        let got = read_tree(&restored);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "the files of snapshot {snapshot} restored to {}",
            restored.display()
        );
        for (path, bytes) in expected {
            assert!(got[path] == *bytes, "{path} in snapshot {snapshot} differs from the original");
        }
        fs::remove_dir_all(&target).unwrap();
    }
}

fn set_clock_file(path: &Path, rfc3339: &str) {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, rfc3339).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// A signed-in customer with one contract.
struct Customer {
    /// `…/api/v1/me/contracts/{id}/backups`
    base: String,
    token: String,
    system_user: String,
}

impl Customer {
    fn backups(&self) -> Value {
        let (status, v) = send_json("GET", &self.base, Some(&self.token), None);
        assert_eq!(status, 200, "{v}");
        v
    }

    fn job(&self, id: i64) -> Value {
        let v = self.backups();
        v["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no job {id}: {v}"))
    }

    fn on_demand(&self) -> (u16, Value) {
        send_json("POST", &format!("{}/on-demand", self.base), Some(&self.token), Some(&json!({})))
    }

    fn restore(&self, snapshot: &str, paths: &[&str], target: &str) -> i64 {
        let body = json!({"snapshot": snapshot, "paths": paths, "target": target});
        let (status, v) = send_json("POST", &format!("{}/restore", self.base), Some(&self.token), Some(&body));
        assert_eq!(status, 202, "restore {paths:?} ({target}): {v}");
        v["id"].as_i64().unwrap()
    }

    /// Waits until job `id` succeeded; returns it. A failed job fails the test with its error.
    fn wait_succeeded(&self, id: i64, timeout: Duration) -> Value {
        wait_until(timeout, &format!("job {id} succeeded"), || {
            let j = self.job(id);
            match j["status"].as_str() {
                Some("succeeded") => Ok(j),
                Some("failed") => panic!("job {id} failed: {j}"),
                _ => Err(j.to_string()),
            }
        })
    }

    /// The newest job of a kind.
    fn newest_job(&self, kind: &str) -> Option<Value> {
        self.backups()["jobs"].as_array().unwrap().iter().find(|j| j["kind"] == kind).cloned()
    }

    /// Waits for a nightly job newer than `after` (a job id) to succeed; returns it.
    fn wait_nightly(&self, after: i64, timeout: Duration) -> Value {
        let job = wait_until(timeout, "the night's backup job is queued", || {
            self.newest_job("nightly")
                .filter(|j| j["id"].as_i64() > Some(after))
                .ok_or_else(|| self.backups().to_string())
        });
        self.wait_succeeded(job["id"].as_i64().unwrap(), timeout)
    }

    /// The files snapshot a job took.
    fn snapshot_of(&self, job: &Value) -> String {
        // The job's result is not in the API; its snapshot is the newest of its kind taken within the job.
        let v = self.backups();
        let kind = job["kind"].as_str().unwrap();
        let snap = v["snapshots"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == kind && s["part"] == "files")
            .max_by_key(|s| s["time"].as_str().unwrap().to_owned())
            .unwrap_or_else(|| panic!("no {kind} files snapshot: {v}"));
        snap["id"].as_str().unwrap().to_owned()
    }
}

/// Relative path → content of every regular file below `root`.
fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// Writes `mib` MiB from /dev/urandom to `path`.
fn write_random(path: &Path, mib: usize) {
    let mut src = File::open("/dev/urandom").unwrap();
    let mut dst = File::create(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    for _ in 0..mib {
        src.read_exact(&mut buf).unwrap();
        dst.write_all(&buf).unwrap();
    }
    dst.sync_all().unwrap();
}

fn count_files(dir: &Path) -> usize {
    fs::read_dir(dir).map(|r| r.count()).unwrap_or(0)
}

/// Pack files on the server (`data/<xx>/<hash>`).
fn count_packs(repo: &Path) -> usize {
    fs::read_dir(repo.join("data")).map(|r| r.map(|e| count_files(&e.unwrap().path())).sum()).unwrap_or(0)
}

/// Waits (at most 30 s) until the running backup has stored a new pack on the server, so that a kill lands in
/// the middle of its uploads; returns the pack count.
fn wait_for_upload(repo: &Path, packs_before: usize) -> usize {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let n = count_packs(repo);
        if n > packs_before {
            return n;
        }
        thread::sleep(Duration::from_millis(50));
    }
    count_packs(repo)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[test]
fn nightly_restore_allowance_and_admission() {
    if !may_run() {
        return;
    }
    let test_start = Instant::now();
    let (uid1, gid1) = ensure_user("k1000001c1");
    let mut p = Platform::start(Settings { backup_server_concurrency: 1, min_estimate_seconds: 300, max_attempts: 3 });
    let erika = p.login("K1000001", "demo-password-1");
    let max = p.login("K1000002", "demo-password-2");
    let space = p.webspace(&erika);
    let kontakt = space.join("htdocs/kontakt.html");
    let original = fs::read(&kontakt).unwrap();

    // 23:00 in Berlin: the tick queues the night's jobs and both agents run them (one at a time: the two
    // webservers share backup01, which takes one job at once here).
    let night = Instant::now();
    p.set_clock("2026-03-10T23:00:00+01:00");
    let n1 = erika.wait_nightly(0, Duration::from_secs(60));
    let n2 = max.wait_nightly(0, Duration::from_secs(60));
    say(&format!(
        "first night: both nightly backups done {} after the clock reached 23:00 (web001 job {} s, web002 job {} s \
         by the panel's clock)",
        secs(night.elapsed()),
        n1["finished_at"].as_i64().unwrap() - n1["started_at"].as_i64().unwrap(),
        n2["finished_at"].as_i64().unwrap() - n2["started_at"].as_i64().unwrap(),
    ));
    let snap1 = erika.snapshot_of(&n1);
    let b = erika.backups();
    assert!(
        b["snapshots"].as_array().unwrap().iter().any(|s| s["id"] == snap1.as_str() && s["kind"] == "nightly"),
        "{b}"
    );
    assert_eq!(max.backups()["snapshots"].as_array().unwrap().iter().filter(|s| s["kind"] == "nightly").count(), 1);
    // On the server's disk, in each webserver's own repository.
    assert!(p.repo_dir("web001").join("snapshots").join(&snap1).is_file(), "snapshot {snap1} on disk");
    assert_eq!(count_files(&p.repo_dir("web001").join("snapshots")), 1);
    assert_eq!(count_files(&p.repo_dir("web002").join("snapshots")), 1);

    // The customer deletes a page and gets it back in place...
    fs::remove_file(&kontakt).unwrap();
    let restore = Instant::now();
    let job = erika.restore(&snap1, &["htdocs/kontakt.html"], "in_place");
    erika.wait_succeeded(job, Duration::from_secs(60));
    say(&format!("in-place restore of htdocs/kontakt.html done after {}", secs(restore.elapsed())));
    assert_eq!(fs::read(&kontakt).unwrap(), original, "restored in place");
    let meta = fs::metadata(&kontakt).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid1, gid1), "the restored file belongs to k1000001c1");
    // ... and once into a new folder.
    let job = erika.restore(&snap1, &["htdocs/kontakt.html"], "folder");
    erika.wait_succeeded(job, Duration::from_secs(60));
    let folders: Vec<PathBuf> = fs::read_dir(&space)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("restore-"))
        .collect();
    assert_eq!(folders.len(), 1, "one restore folder in {}: {folders:?}", space.display());
    let copy = folders[0].join("htdocs/kontakt.html");
    assert_eq!(fs::read(&copy).unwrap(), original, "restored into {}", copy.display());
    let meta = fs::metadata(&copy).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (uid1, gid1), "the restored copy belongs to k1000001c1");
    assert_eq!(read_tree(&folders[0]).len(), 1, "only the chosen file is in the folder");

    // On-demand: shared-m allows two a day; the third is refused.
    for n in 1..=2 {
        let (status, j) = erika.on_demand();
        assert_eq!(status, 202, "on-demand backup {n}: {j}");
        let done = erika.wait_succeeded(j["id"].as_i64().unwrap(), Duration::from_secs(60));
        say(&format!("on-demand backup {n}: job {} succeeded", done["id"]));
    }
    let (status, refused) = erika.on_demand();
    assert_eq!(status, 409, "the third on-demand backup of the day: {refused}");
    let msg = refused["error"].as_str().unwrap_or_default();
    assert!(msg.contains("used up") && msg.contains("2 of 2"), "the reason: {refused}");
    let b = erika.backups();
    assert_eq!((b["on_demand_per_day"].as_u64(), b["on_demand_used_today"].as_u64()), (Some(2), Some(2)), "{b}");
    assert_eq!(b["snapshots"].as_array().unwrap().iter().filter(|s| s["kind"] == "on_demand").count(), 2, "{b}");

    // Admission: three minutes before the next window ends, with web002's agent stopped. The tick queues the
    // night's jobs; web001's runs at once, web002's waits for its agent and holds backup01's only slot.
    p.agent("web002").terminate(Duration::from_secs(15));
    let last1 = n1["id"].as_i64().unwrap();
    let last2 = n2["id"].as_i64().unwrap();
    p.set_clock("2026-03-12T05:57:00+01:00");
    let n1b = erika.wait_nightly(last1, Duration::from_secs(30));
    let n2b = wait_until(Duration::from_secs(10), "web002's nightly job is queued", || {
        max.newest_job("nightly").filter(|j| j["id"].as_i64() > Some(last2)).ok_or_else(|| max.backups().to_string())
    });
    assert_eq!(n2b["status"], "queued", "{n2b}");
    let (status, od) = erika.on_demand();
    assert_eq!(status, 202, "on-demand backup in the morning: {od}");
    let od_id = od["id"].as_i64().unwrap();
    assert_eq!(od["status"], "queued", "{od}");
    // Four agent polls (idle wait 2 s): it stays queued, behind web002's nightly job.
    let watch = Instant::now();
    let mut seen = 0;
    while watch.elapsed() < Duration::from_secs(8) {
        let j = erika.job(od_id);
        assert_eq!(j["status"], "queued", "the on-demand job must wait for web002's nightly job: {j}");
        let pos = j["queue_position"].as_u64().unwrap_or_else(|| panic!("a queued job has a queue position: {j}"));
        assert!(pos >= 2, "web002's nightly job is ahead of it: {j}");
        assert!(j["expected_start"].is_string(), "{j}");
        seen += 1;
        thread::sleep(Duration::from_millis(500));
    }
    let n2_still = max.job(n2b["id"].as_i64().unwrap());
    assert_eq!(n2_still["status"], "queued", "{n2_still}");
    say(&format!(
        "admission: on-demand job {od_id} stayed queued for {} ({seen} looks, position {}) while web002's nightly \
         job waited for its agent; web001's nightly job ran at once ({} s)",
        secs(watch.elapsed()),
        erika.job(od_id)["queue_position"],
        n1b["finished_at"].as_i64().unwrap() - n1b["started_at"].as_i64().unwrap()
    ));

    // web002's agent comes back: the nightly job runs first, the on-demand one after it.
    p.start_agent("web002");
    let back = Instant::now();
    let n2done = max.wait_succeeded(n2b["id"].as_i64().unwrap(), Duration::from_secs(60));
    let oddone = erika.wait_succeeded(od_id, Duration::from_secs(60));
    say(&format!(
        "after web002's agent returned: its nightly job and then the on-demand job done after {}",
        secs(back.elapsed())
    ));
    assert!(
        oddone["started_at"].as_i64().unwrap() >= n2done["finished_at"].as_i64().unwrap(),
        "the on-demand job started only after web002's nightly job ended: {oddone} / {n2done}"
    );
    assert!(p.panel.log_text().contains("backup queue tick"), "{}", p.panel.log_text());
    p.check_repo("web001");
    p.check_repo("web002");
    say(&format!("nightly_restore_allowance_and_admission took {}", secs(test_start.elapsed())));
}

/// A first nightly backup of the small demo webspace; returns the snapshot id and the files as they were.
fn first_night(p: &Platform, erika: &Customer) -> (String, BTreeMap<String, Vec<u8>>, i64) {
    let space = p.webspace(erika);
    let files = read_tree(&space);
    assert!(files.contains_key("htdocs/index.html"), "{:?}", files.keys());
    let night = Instant::now();
    p.set_clock("2026-03-10T23:00:00+01:00");
    let n = erika.wait_nightly(0, Duration::from_secs(60));
    say(&format!("first nightly backup (small webspace) done {} after 23:00", secs(night.elapsed())));
    (erika.snapshot_of(&n), files, n["id"].as_i64().unwrap())
}

#[test]
fn killing_the_agent_mid_backup_loses_nothing() {
    if !may_run() {
        return;
    }
    let test_start = Instant::now();
    let mut p = Platform::start(Settings { backup_server_concurrency: 4, min_estimate_seconds: 60, max_attempts: 3 });
    let erika = p.login("K1000001", "demo-password-1");
    let space = p.webspace(&erika);
    let (snap1, files1, _) = first_night(&p, &erika);

    write_random(&space.join("htdocs/video.bin"), BIG_FILE_MIB);
    let packs_before = count_packs(&p.repo_dir("web001"));
    let (status, od) = erika.on_demand();
    assert_eq!(status, 202, "{od}");
    let id = od["id"].as_i64().unwrap();
    let started = Instant::now();
    wait_until(Duration::from_secs(30), "the on-demand job runs", || {
        let j = erika.job(id);
        if j["status"] == "running" {
            Ok(())
        } else {
            Err(j.to_string())
        }
    });
    // Let it store a pack on the server, then pull the plug on the agent.
    let uploaded = wait_for_upload(&p.repo_dir("web001"), packs_before);
    let before = erika.job(id);
    assert_eq!(
        before["status"], "running",
        "the backup must still run when the agent is killed (a bigger file?): {before}"
    );
    p.agent("web001").kill9();
    let killed = Instant::now();
    say(&format!(
        "agent killed {} into the backup ({} new packs on the server so far)",
        secs(started.elapsed()),
        uploaded - packs_before
    ));
    p.start_agent("web001");

    let requeued = wait_until(Duration::from_secs(30), "the panel requeues the job", || {
        let j = erika.job(id);
        match j["error"].as_str() {
            Some(e) if e.contains("stopped reporting") => Ok(j),
            _ => Err(j.to_string()),
        }
    });
    let requeue_after = killed.elapsed();
    assert_ne!(requeued["status"], "failed", "{requeued}");
    let done = erika.wait_succeeded(id, Duration::from_secs(120));
    say(&format!(
        "killed agent: job {id} requeued {} after the SIGKILL (heartbeat timeout 3 s, tick 1 s), completed by the \
         restarted agent {} after the SIGKILL (attempt took {} s by the panel's clock)",
        secs(requeue_after),
        secs(killed.elapsed()),
        done["finished_at"].as_i64().unwrap() - done["started_at"].as_i64().unwrap()
    ));
    assert!(requeue_after >= Duration::from_secs(2), "requeued only after the heartbeat timeout: {requeue_after:?}");

    let b = erika.backups();
    let od_snaps: Vec<&Value> =
        b["snapshots"].as_array().unwrap().iter().filter(|s| s["kind"] == "on_demand").collect();
    assert_eq!(od_snaps.len(), 1, "exactly one on-demand snapshot: {b}");
    let big = u64::try_from(BIG_FILE_MIB << 20).unwrap();
    assert!(od_snaps[0]["total_bytes"].as_u64().unwrap() >= big, "{b}");
    let check = p.check_repo("web001");
    say(&format!("check after the killed agent: {}", check.trim()));
    p.assert_restores("web001", &snap1, &space, &files1);
    say(&format!("killing_the_agent_mid_backup_loses_nothing took {}", secs(test_start.elapsed())));
}

#[test]
fn killing_the_backup_server_mid_backup_loses_nothing() {
    if !may_run() {
        return;
    }
    let test_start = Instant::now();
    let mut p = Platform::start(Settings { backup_server_concurrency: 4, min_estimate_seconds: 60, max_attempts: 3 });
    let erika = p.login("K1000001", "demo-password-1");
    let space = p.webspace(&erika);
    let (snap1, files1, first) = first_night(&p, &erika);

    // The next night, with a large file: the server dies in the middle of the nightly backup.
    write_random(&space.join("htdocs/video.bin"), BIG_FILE_MIB);
    let packs_before = count_packs(&p.repo_dir("web001"));
    p.set_clock("2026-03-11T23:00:00+01:00");
    let job = wait_until(Duration::from_secs(30), "the second night's job runs", || {
        match erika.newest_job("nightly").filter(|j| j["id"].as_i64() > Some(first)) {
            Some(j) if j["status"] == "running" => Ok(j),
            other => Err(format!("{other:?}")),
        }
    });
    let id = job["id"].as_i64().unwrap();
    let started = Instant::now();
    let uploaded = wait_for_upload(&p.repo_dir("web001"), packs_before);
    let before = erika.job(id);
    assert_eq!(
        before["status"], "running",
        "the backup must still run when the server is killed (a bigger file?): {before}"
    );
    let port = p.server_addr.clone();
    p.server.take().unwrap().kill9();
    let killed = Instant::now();
    say(&format!(
        "repository server killed {} into the nightly backup ({} new packs stored so far)",
        secs(started.elapsed()),
        uploaded - packs_before
    ));

    // The agent's client retries for a few seconds, then the attempt fails; a nightly job is queued again.
    let failed = wait_until(Duration::from_secs(60), "the attempt fails and the job is queued again", || {
        let j = erika.job(id);
        match (j["status"].as_str(), j["error"].as_str()) {
            (Some("failed"), _) => panic!("the nightly job must be retried, not failed: {j}"),
            (Some("queued" | "running"), Some(_)) => Ok(j),
            _ => Err(j.to_string()),
        }
    });
    let fail_after = killed.elapsed();
    say(&format!(
        "server down: the attempt failed {} after the SIGKILL and the job was queued again: {}",
        secs(fail_after),
        failed["error"]
    ));
    // The server comes back on the same address.
    let (server, addr) = start_repo_server(&p.dir, &p.repos, &port, 2);
    assert_eq!(addr, port);
    p.server = Some(server);
    let done = erika.wait_succeeded(id, Duration::from_secs(120));
    say(&format!(
        "server restarted {} after the SIGKILL; the retried nightly job succeeded {} after the SIGKILL (last attempt \
         {} s by the panel's clock)",
        secs(fail_after),
        secs(killed.elapsed()),
        done["finished_at"].as_i64().unwrap() - done["started_at"].as_i64().unwrap()
    ));
    let b = erika.backups();
    let nightly: Vec<&Value> = b["snapshots"].as_array().unwrap().iter().filter(|s| s["kind"] == "nightly").collect();
    assert_eq!(nightly.len(), 2, "the first night's and the retried second night's snapshot: {b}");
    let check = p.check_repo("web001");
    say(&format!("check after the killed server: {}", check.trim()));
    p.assert_restores("web001", &snap1, &space, &files1);
    // The new snapshot has the large file, byte for byte.
    let snap2 = erika.snapshot_of(&done);
    assert_ne!(snap2, snap1);
    let files2 = read_tree(&space);
    p.assert_restores("web001", &snap2, &space, &files2);
    say(&format!("killing_the_backup_server_mid_backup_loses_nothing took {}", secs(test_start.elapsed())));
}
