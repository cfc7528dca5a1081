//! Helpers shared by the tests that run `hostwerk` as real processes: system users, and daemons whose logs
//! are kept and shown when a test fails.

#![allow(dead_code, clippy::unwrap_used)]

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_hostwerk");

/// Starts `hostwerk backup serve` for the repositories under `repos` with the tokens file
/// `dir/repo-tokens.toml`, logging to `dir/server-RUN.log`; returns it with its address `127.0.0.1:PORT`.
pub fn start_repo_server(dir: &Path, repos: &Path, listen: &str, run: u32) -> (Daemon, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["backup", "serve", "--listen", listen, "--repo"])
        .arg(repos)
        .arg("--tokens")
        .arg(dir.join("repo-tokens.toml"))
        .env_remove("HOSTWERK_REPO")
        .stdout(Stdio::piped());
    let mut server =
        Daemon::spawn(&format!("backup serve (run {run})"), &mut cmd, dir.join(format!("server-{run}.log")));
    let first = server.first_line();
    let addr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line from backup serve: {first:?}"))
        .trim()
        .to_owned();
    (server, addr)
}

/// Writes straight to the process's stderr, past the test harness's output capture.
pub fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

pub fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1));
    euid == Some("0")
}

/// `id -u NAME` and `id -g NAME`, or None if the user does not exist.
pub fn ids(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, name]).stderr(Stdio::null()).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// The uid and gid of a user, created as a system user without home or login shell if missing.
pub fn ensure_user(name: &str) -> (u32, u32) {
    // The tests of a file run in parallel; useradd takes a lock on /etc/passwd and fails on contention.
    static USERADD: Mutex<()> = Mutex::new(());
    let _guard = USERADD.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(ids) = ids(name) {
        return ids;
    }
    let status = Command::new("useradd")
        .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
        .status()
        .expect("useradd runs");
    // 9: the user exists (created meanwhile).
    assert!(status.success() || status.code() == Some(9), "useradd {name}: {status}");
    ids(name).expect("the user exists after useradd")
}

/// A `hostwerk` process whose stderr goes to a log file; killed with its process group and reaped on drop.
pub struct Daemon {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Daemon {
    pub fn spawn(name: &str, cmd: &mut Command, log: PathBuf) -> Daemon {
        let child = cmd
            .process_group(0)
            .stdin(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Daemon { name: name.to_owned(), child, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Reads the first line of stdout (piped) within 30 s, keeps draining the rest.
    pub fn first_line(&mut self) -> String {
        let stdout = self.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for _ in lines {}
        });
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("{} printed no line within 30 s; its log:\n{}", self.name, self.log_text()))
    }

    /// SIGKILL to the process (not a clean stop), then reaps it.
    pub fn kill9(mut self) {
        let status = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "{} ended by SIGKILL", self.name);
    }

    /// The last 40 lines of the log.
    pub fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Shows `log` instead of the captured stderr when a test fails (for programs that write their own log).
    pub fn show_log(&mut self, log: PathBuf) {
        self.log = log;
    }

    /// The exit status, if the process has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits until the log contains `needle`; panics with the log after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> Duration {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.log_text().contains(needle) {
                return start.elapsed();
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("{} did not log {needle:?} within {timeout:?}; its log:\n{}", self.name, self.log_text());
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not exit within {timeout:?} of SIGTERM; its log:\n{}", self.name, self.log_text());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // The group id is the child's pid (process_group(0)); `kill` reaches the whole group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        if thread::panicking() {
            say(&format!("--- {} log, last lines ({}) ---\n{}", self.name, self.log.display(), self.log_tail()));
        }
    }
}
