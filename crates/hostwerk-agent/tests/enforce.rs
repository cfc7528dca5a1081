#![allow(clippy::unwrap_used)]
//! End-to-end tests with real users and real processes: who is ended, when, with which signal, and who never.
//!
//! They need root (to create the test users and start processes as them); as another user each test prints
//! "skipped: needs root" and passes. Every test uses its own users, so the tests can run in parallel without
//! one test's enforcer touching another test's processes.

use std::collections::HashMap;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use hostwerk_agent::signal::starttime_of;
use hostwerk_agent::{
    send_verified, Control, EnforcedLimit, Enforcer, KillReport, KillSignal, Mismatch, Outcome, Policy, Scanner,
    Target, UserLimit,
};
use hostwerk_domain::process_limit::ProcessLimit;

fn is_root() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    eprintln!("skipped: needs root");
    false
}

/// The uid and gid of a test user, created (as a system user without home or shell) if missing.
fn user(name: &str) -> (u32, u32) {
    static CREATE: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CREATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(u) = nix::unistd::User::from_name(name).unwrap() {
        return (u.uid.as_raw(), u.gid.as_raw());
    }
    let status = Command::new("useradd")
        .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
        .status()
        .expect("useradd runs");
    // 9: the user exists (created by a concurrent run).
    assert!(status.success() || status.code() == Some(9), "useradd {name}: {status}");
    let u = nix::unistd::User::from_name(name).unwrap().expect("user exists after useradd");
    (u.uid.as_raw(), u.gid.as_raw())
}

/// A child process that is killed and reaped when the test ends, however it ends.
struct Kid {
    child: Child,
    ended: Option<(Instant, std::process::ExitStatus)>,
}

impl Kid {
    fn spawn(as_user: Option<(u32, u32)>, argv: &[&str]) -> Kid {
        let mut cmd = Command::new(argv[0]);
        cmd.args(&argv[1..]).current_dir("/").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        if let Some((uid, gid)) = as_user {
            cmd.uid(uid).gid(gid);
        }
        Kid { child: cmd.spawn().unwrap(), ended: None }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reaps the child if it has ended; returns when and how.
    fn poll(&mut self) -> Option<(Instant, std::process::ExitStatus)> {
        if self.ended.is_none() {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.ended = Some((Instant::now(), status));
            }
        }
        self.ended
    }

    fn alive(&mut self) -> bool {
        self.poll().is_none()
    }

    /// Waits (polling every 10 ms) until the child ends or the timeout passes.
    fn wait_end(&mut self, timeout: Duration) -> Option<(Instant, std::process::ExitStatus)> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Some(end) = self.poll() {
                return Some(end);
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.poll()
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if self.ended.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An enforcer running on its own thread, collecting its reports.
struct Running {
    control: Sender<Control>,
    reports: Arc<Mutex<Vec<KillReport>>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    fn start(policy: Policy) -> Running {
        let (control, rx) = mpsc::channel();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&reports);
        let mut enforcer = Enforcer::new(policy).unwrap().with_scan_interval(Duration::from_millis(500));
        let thread = thread::spawn(move || {
            enforcer.run(&rx, |batch| sink.lock().unwrap().extend(batch)).unwrap();
            assert!(enforcer.take_errors().is_empty());
        });
        Running { control, reports, thread: Some(thread) }
    }

    fn stop(mut self) -> Vec<KillReport> {
        self.control.send(Control::Stop).unwrap();
        self.thread.take().unwrap().join().unwrap();
        self.reports.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.control.send(Control::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn policy(users: &[(&str, EnforcedLimit)], grace: Duration) -> Policy {
    let limits = users
        .iter()
        .map(|(name, limit)| (user(name).0, UserLimit { name: (*name).to_owned(), limit: *limit }))
        .collect::<HashMap<_, _>>();
    Policy::new(limits, grace).unwrap()
}

fn secs(s: f64) -> EnforcedLimit {
    EnforcedLimit::for_tests(Duration::from_secs_f64(s))
}

#[test]
fn ends_the_overdue_process_and_nothing_else() {
    if !is_root() {
        return;
    }
    let (a, b, c) = (user("hwtest-a"), user("hwtest-b"), user("hwtest-c"));
    let t0 = Instant::now();
    let mut limited = Kid::spawn(Some(a), &["sleep", "1000"]);
    let mut longer = Kid::spawn(Some(b), &["sleep", "1000"]);
    let mut unlisted = Kid::spawn(Some(c), &["sleep", "1000"]);
    let mut root = Kid::spawn(None, &["sleep", "1000"]);
    let running = Running::start(policy(&[("hwtest-a", secs(2.0)), ("hwtest-b", secs(60.0))], Duration::from_secs(1)));

    let (ended, status) = limited.wait_end(Duration::from_secs(8)).expect("the limited process was ended");
    let after = ended - t0;
    assert!(after >= Duration::from_secs(2), "ended too early: {after:?}");
    assert!(after <= Duration::from_secs(4), "ended too late: {after:?}");
    assert_eq!(status.signal(), Some(15), "{status:?}");

    // One more scan interval and a bit: the report of the SIGTERM-ended process comes with the next tick.
    thread::sleep(Duration::from_millis(1200));
    let reports = running.stop();
    assert!(longer.alive() && unlisted.alive() && root.alive());
    assert_eq!(reports.len(), 1, "{reports:?}");
    let r = &reports[0];
    assert_eq!((r.pid, r.uid, r.user.as_str(), r.comm.as_str()), (limited.pid(), a.0, "hwtest-a", "sleep"));
    assert_eq!(r.signal, KillSignal::Term);
    assert!((2..=3).contains(&r.runtime_seconds), "{r:?}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(r.time <= now && r.time + 10 >= now, "{r:?}");
}

#[test]
fn a_user_whose_limit_is_off_is_left_alone() {
    if !is_root() {
        return;
    }
    let (off, d, e) = (user("hwtest-off"), user("hwtest-d"), user("hwtest-e"));
    let mut never = Kid::spawn(Some(off), &["sleep", "1000"]);
    let mut control = Kid::spawn(Some(d), &["sleep", "1000"]);
    let mut switched_off = Kid::spawn(Some(e), &["sleep", "1000"]);
    let grace = Duration::from_secs(1);
    let running = Running::start(policy(
        &[("hwtest-off", ProcessLimit::Off.into()), ("hwtest-d", secs(1.0)), ("hwtest-e", secs(3.0))],
        grace,
    ));
    // Turning hwtest-e's limit off takes effect at once, long before its 3 s are up.
    running
        .control
        .send(Control::SetPolicy(policy(
            &[("hwtest-off", ProcessLimit::Off.into()), ("hwtest-d", secs(1.0)), ("hwtest-e", EnforcedLimit::OFF)],
            grace,
        )))
        .unwrap();

    control.wait_end(Duration::from_secs(6)).expect("the control process under a 1 s limit was ended");
    // Past hwtest-e's former limit of 3 s (counted from its start, which was before the enforcer's).
    thread::sleep(Duration::from_millis(2500));
    let reports = running.stop();
    assert!(never.alive(), "a process of a user whose limit is off was ended");
    assert!(switched_off.alive(), "the new policy (off) was not applied at once");
    assert!(reports.iter().all(|r| r.uid == d.0), "{reports:?}");
}

#[test]
fn sigkill_after_the_grace_when_sigterm_is_ignored() {
    if !is_root() {
        return;
    }
    let t = user("hwtest-t");
    let t0 = Instant::now();
    // The shell ignores SIGTERM and keeps running; its short `sleep` children never reach the limit.
    let mut stubborn = Kid::spawn(Some(t), &["sh", "-c", "trap '' TERM; while :; do sleep 0.2; done"]);
    let running = Running::start(policy(&[("hwtest-t", secs(1.0))], Duration::from_secs(1)));

    let (ended, status) = stubborn.wait_end(Duration::from_secs(8)).expect("the shell was ended");
    assert_eq!(status.signal(), Some(9), "{status:?}");
    let after = ended - t0;
    // SIGTERM at 1 s (ignored), SIGKILL one grace later.
    assert!(after >= Duration::from_secs(2), "SIGKILL before the grace was over: {after:?}");
    assert!(after <= Duration::from_secs(5), "{after:?}");
    let reports = running.stop();
    let r = reports.iter().find(|r| r.pid == stubborn.pid()).expect("a report for the shell");
    assert_eq!((r.signal, r.comm.as_str(), r.user.as_str()), (KillSignal::Kill, "sh", "hwtest-t"));
    assert!(r.runtime_seconds >= 2, "{r:?}");
}

#[test]
fn a_changed_start_time_is_never_signalled() {
    if !is_root() {
        return;
    }
    let (r, other) = (user("hwtest-r"), user("hwtest-c"));
    let mut kid = Kid::spawn(Some(r), &["sleep", "1000"]);
    let pid = kid.pid();
    let start = starttime_of(pid).unwrap();

    // As if the pid had been reused between scan and signal: the scan's start time no longer matches.
    let reused = Target { pid, uid: r.0, starttime: start + 1 };
    assert_eq!(
        send_verified(&reused, KillSignal::Kill).unwrap(),
        Outcome::Refused(Mismatch::StartTime { found: start })
    );
    let reused = Target { pid, uid: r.0, starttime: start.saturating_sub(1) };
    assert!(matches!(send_verified(&reused, KillSignal::Kill).unwrap(), Outcome::Refused(_)));
    // The right start time but another user, or root: refused as well.
    let wrong_user = Target { pid, uid: other.0, starttime: start };
    assert_eq!(
        send_verified(&wrong_user, KillSignal::Kill).unwrap(),
        Outcome::Refused(Mismatch::Uid { real: r.0, effective: r.0 })
    );
    let as_root = Target { pid, uid: 0, starttime: start };
    assert_eq!(send_verified(&as_root, KillSignal::Kill).unwrap(), Outcome::Refused(Mismatch::Root));
    thread::sleep(Duration::from_millis(200));
    assert!(kid.alive(), "a refused target was signalled");

    // The matching target is signalled.
    let real = Target { pid, uid: r.0, starttime: start };
    assert_eq!(send_verified(&real, KillSignal::Term).unwrap(), Outcome::Sent { comm: "sleep".into() });
    let (_, status) = kid.wait_end(Duration::from_secs(5)).unwrap();
    assert_eq!(status.signal(), Some(15));
}

#[test]
fn zombies_are_neither_candidates_nor_signalled() {
    if !is_root() {
        return;
    }
    let z = user("hwtest-z");
    let mut kid = Kid::spawn(Some(z), &["sleep", "1000"]);
    let pid = kid.pid();
    let start = starttime_of(pid).unwrap();
    let mut scanner = Scanner::new().unwrap();
    assert!(scanner.scan(|uid| uid == z.0).unwrap().iter().any(|c| c.pid == pid && c.starttime == start));

    // Killed but not reaped: a zombie until `wait`.
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).unwrap(), rustix::process::Signal::KILL)
        .unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    // The scanner remembers the start time of a known process and does not re-read its stat unless told
    // to; once it has read it afresh, the zombie is no longer a candidate.
    while {
        scanner.forget(pid);
        scanner.scan(|uid| uid == z.0).unwrap().iter().any(|c| c.pid == pid)
    } {
        assert!(Instant::now() < until, "the zombie is still listed");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(!Scanner::new().unwrap().scan(|uid| uid == z.0).unwrap().iter().any(|c| c.pid == pid));
    let target = Target { pid, uid: z.0, starttime: start };
    assert_eq!(send_verified(&target, KillSignal::Term).unwrap(), Outcome::Gone);
    assert!(kid.wait_end(Duration::from_secs(1)).is_some());
}

#[test]
fn root_cannot_be_listed() {
    let err = Policy::from_names([("root", EnforcedLimit::from(ProcessLimit::seconds(180).unwrap()))], Duration::ZERO)
        .unwrap_err();
    assert!(err.to_string().contains("root"), "{err}");
}
