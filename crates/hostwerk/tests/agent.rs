#![allow(clippy::unwrap_used)]
//! End-to-end test of the node agent with the real binaries: `hostwerk serve --demo` as the panel, two
//! `hostwerk agent` processes (nodes web001 and web002) with tokens from `hostwerk admin node-token`, and real
//! processes under real Unix users.
//!
//! It checks: a process of a limited user (k1000001c1, demo customer K1000001) is ended with SIGTERM right
//! after its limit; one that ignores SIGTERM gets SIGKILL after the grace; processes of root, of an unlisted
//! user and of a user whose customer set the limit to "off" through the API (k1000002c1, K1000002) live on;
//! the kills appear in the customer's kill log in the panel; with the panel stopped the agent logs "panel
//! unreachable" and keeps enforcing; an agent restarted during the outage enforces the limits from its state
//! file; SIGTERM ends the agent with exit code 0.
//!
//! The agents run with the hidden test flag `--test-limit-seconds 2 --grace-seconds 1`, so a limit of 180 s
//! in the panel ends processes after 2 s. Needs root (to create the users `k1000001c1`, `k1000002c1` and
//! `hwtest-other` and start processes as them); as another user it prints "skipped: needs root" and passes,
//! except with `CI=true`, where it fails. It takes about 20 s.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod support;
use support::{ensure_user, is_root, say, Daemon};

const BIN: &str = env!("CARGO_BIN_EXE_hostwerk");
/// The limit the agents enforce instead of the panel's (hidden flag `--test-limit-seconds`).
const LIMIT: Duration = Duration::from_secs(2);
/// Seconds between SIGTERM and SIGKILL (`--grace-seconds`).
const GRACE: Duration = Duration::from_secs(1);
/// A test process's age is measured from the return of `spawn` (after the exec), the agent counts from the
/// fork: under load the exec may take a while, and the process is then ended "early" by our clock.
const EXEC_SLACK: Duration = Duration::from_millis(250);

/// A process under test (a `sleep`), started as a given user; killed and reaped on drop.
struct Kid {
    what: String,
    child: Child,
    started: Instant,
    ended: Option<(Duration, ExitStatus)>,
}

impl Kid {
    fn spawn(what: &str, user: Option<(u32, u32)>, argv: &[&str]) -> Kid {
        let mut cmd = Command::new(argv[0]);
        cmd.args(&argv[1..])
            .current_dir("/")
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = user {
            // std drops root's supplementary groups before setuid.
            cmd.uid(uid).gid(gid);
        }
        let child = cmd.spawn().unwrap();
        Kid { what: what.to_owned(), child, started: Instant::now(), ended: None }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Reaps the child if it has ended: its age at the end and its status.
    fn poll(&mut self) -> Option<(Duration, ExitStatus)> {
        if self.ended.is_none() {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.ended = Some((self.started.elapsed(), status));
            }
        }
        self.ended
    }

    fn alive(&mut self) -> bool {
        self.poll().is_none()
    }

    /// Waits until the child ends, then returns after how long (since its start) and by which signal.
    fn wait_end(&mut self, timeout: Duration) -> (Duration, Option<i32>) {
        while self.started.elapsed() < timeout {
            if let Some((age, status)) = self.poll() {
                return (age, status.signal());
            }
            thread::sleep(Duration::from_millis(5));
        }
        panic!("{} (pid {}) still runs {timeout:?} after its start", self.what, self.pid());
    }
}

impl Drop for Kid {
    fn drop(&mut self) {
        if self.ended.is_none() {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.child.id())]).status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `hostwerk 0.1.0 listening on http://127.0.0.1:PORT/` -> `http://127.0.0.1:PORT`
fn parse_listen_line(line: &str) -> Option<String> {
    let (_, url) = line.strip_prefix("hostwerk ")?.split_once(" listening on ")?;
    let url = url.trim().trim_end_matches('/');
    url.starts_with("http://").then(|| url.to_owned())
}

/// Starts `hostwerk serve --demo` on a free loopback port; returns it with its base URL.
fn start_panel(dir: &Path, data: &Path) -> (Daemon, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env_remove("HOSTWERK_CONFIG")
        .env_remove("HOSTWERK_DATABASE_URL")
        .env_remove("HOSTWERK_LISTEN")
        .env_remove("HOSTWERK_DATA_DIR")
        .stdout(Stdio::piped());
    let mut panel = Daemon::spawn("hostwerk serve", &mut cmd, dir.join("panel.log"));
    let first = panel.first_line();
    let url =
        parse_listen_line(&first).unwrap_or_else(|| panic!("unexpected first line from hostwerk serve: {first:?}"));
    (panel, url)
}

/// `hostwerk admin node-token --node NODE`, written to a file only root can read.
fn node_token(data: &Path, node: &str, file: &Path) {
    let out = Command::new(BIN)
        .args(["admin", "node-token", "--node", node, "--data-dir"])
        .arg(data)
        .env_remove("HOSTWERK_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "admin node-token --node {node}: {}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(token.trim().lines().count(), 1, "one line: {token:?}");
    fs::write(file, token).unwrap();
    fs::set_permissions(file, fs::Permissions::from_mode(0o600)).unwrap();
}

/// Starts `hostwerk agent` for a node. Like dist/hostwerk-agent.service (`CapabilityBoundingSet=CAP_KILL`),
/// the agent runs as root with CAP_KILL as its only capability when util-linux's `setpriv` is there (CI
/// installs it), which shows that this is all it needs.
fn start_agent(dir: &Path, node: &str, panel: &str, run: u32) -> Daemon {
    let setpriv = Path::new("/usr/bin/setpriv").is_file();
    let mut cmd = if setpriv {
        let mut cmd = Command::new("/usr/bin/setpriv");
        cmd.args(["--bounding-set", "-all,+kill", "--inh-caps", "-all", "--no-new-privs", "--", BIN]);
        cmd
    } else {
        say("setpriv not found: the agent runs with all of root's capabilities");
        Command::new(BIN)
    };
    cmd.args(["agent", "--panel", panel, "--token-file"])
        .arg(dir.join(format!("{node}.token")))
        .arg("--state-file")
        .arg(dir.join(format!("{node}-state/limits.json")))
        .args(["--test-limit-seconds", &LIMIT.as_secs().to_string()])
        .args(["--grace-seconds", &GRACE.as_secs().to_string()])
        .env_remove("HOSTWERK_PANEL")
        .env_remove("HOSTWERK_AGENT_TOKEN_FILE")
        .env_remove("HOSTWERK_AGENT_STATE_FILE")
        .stdout(Stdio::null());
    let agent =
        Daemon::spawn(&format!("agent {node} (run {run})"), &mut cmd, dir.join(format!("agent-{node}-{run}.log")));
    if setpriv {
        // setpriv execs the agent: same pid. CAP_KILL is bit 5.
        let status = fs::read_to_string(format!("/proc/{}/status", agent.pid())).unwrap();
        let cap_eff = status.lines().find_map(|l| l.strip_prefix("CapEff:")).unwrap().trim().to_owned();
        if cap_eff != "0000000000000020" {
            // Possibly read before setpriv's exec; read again a moment later.
            thread::sleep(Duration::from_millis(200));
            let status = fs::read_to_string(format!("/proc/{}/status", agent.pid())).unwrap();
            let cap_eff = status.lines().find_map(|l| l.strip_prefix("CapEff:")).unwrap().trim().to_owned();
            assert_eq!(cap_eff, "0000000000000020", "the agent's effective capabilities");
        }
    }
    agent
}

fn http() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build()
}

fn get_json(url: &str, token: &str) -> Value {
    let body = http().get(url).set("Authorization", &format!("Bearer {token}")).call().unwrap().into_string().unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Sends JSON with `method`, with a bearer token if given; returns the status and the answer.
fn send_json(method: &str, url: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = http().request(method, url).set("Content-Type", "application/json");
    if let Some(token) = token {
        request = request.set("Authorization", &format!("Bearer {token}"));
    }
    let response = match request.send_string(&body.to_string()) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A customer's API token.
fn login(panel: &str, login: &str, password: &str) -> String {
    let (status, answer) =
        send_json("POST", &format!("{panel}/api/v1/auth/token"), None, &json!({"login": login, "password": password}));
    assert_eq!(status, 200, "login {login}: {answer}");
    answer["token"].as_str().unwrap().to_owned()
}

/// The id of the customer's contract with this system user.
fn contract_id(panel: &str, token: &str, system_user: &str) -> i64 {
    let contracts = get_json(&format!("{panel}/api/v1/me/contracts"), token);
    let list = contracts.as_array().or_else(|| contracts["contracts"].as_array()).unwrap().clone();
    list.iter()
        .find(|c| c["system_user"] == system_user)
        .unwrap_or_else(|| panic!("no contract with system user {system_user}: {contracts}"))["id"]
        .as_i64()
        .unwrap()
}

#[test]
fn the_agent_enforces_the_panels_limits() {
    if !is_root() {
        // CI runs as root; there a skip would hide that the test never ran.
        assert!(std::env::var("CI").as_deref() != Ok("true"), "the agent test needs root, and CI=true");
        say("skipped: needs root");
        return;
    }
    let test_start = Instant::now();
    let limited = ensure_user("k1000001c1");
    let switched_off = ensure_user("k1000002c1");
    let unlisted = ensure_user("hwtest-other");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");

    let (panel, url) = start_panel(dir, &data);
    node_token(&data, "web001", &dir.join("web001.token"));
    node_token(&data, "web002", &dir.join("web002.token"));
    let mut agent1 = start_agent(dir, "web001", &url, 1);
    let agent2 = start_agent(dir, "web002", &url, 1);
    let uid1 = limited.0;
    let uid2 = switched_off.0;
    // Both agents got their limits (180 s in the demo, 2 s through the test flag).
    agent1.wait_for_log(&format!("limit for k1000001c1 (uid {uid1}) is now 2 s"), Duration::from_secs(15));
    agent2.wait_for_log(&format!("limit for k1000002c1 (uid {uid2}) is now 2 s"), Duration::from_secs(15));

    // K1000002 (ManagedServer) switches the limit off; the panel tells web002's agent at its next poll.
    let customer2 = login(&url, "K1000002", "demo-password-2");
    let contract2 = contract_id(&url, &customer2, "k1000002c1");
    let set_off = Instant::now();
    let limit_url = format!("{url}/api/v1/me/contracts/{contract2}/process-limit");
    let (status, answer) = send_json("PUT", &limit_url, Some(&customer2), &json!({"limit": "off"}));
    assert_eq!(status, 200, "{answer}");
    let node2 =
        get_json(&format!("{url}/api/v1/agent/limits"), fs::read_to_string(dir.join("web002.token")).unwrap().trim());
    assert!(
        node2["users"].as_array().unwrap().iter().any(|u| u["system_user"] == "k1000002c1" && u["limit"] == "off"),
        "{node2}"
    );
    agent2.wait_for_log(&format!("limit for k1000002c1 (uid {uid2}) is now off"), Duration::from_secs(12));
    say(&format!("limit off applied by web002's agent {:.1} s after the API call", set_off.elapsed().as_secs_f64()));

    // The processes.
    let mut ended = Kid::spawn("sleep of k1000001c1", Some(limited), &["sleep", "1000"]);
    let mut stubborn =
        Kid::spawn("TERM-ignoring sleep of k1000001c1", Some(limited), &["sh", "-c", "trap '' TERM; exec sleep 1000"]);
    let mut of_unlisted = Kid::spawn("sleep of hwtest-other", Some(unlisted), &["sleep", "1000"]);
    let mut of_root = Kid::spawn("sleep of root", None, &["sleep", "1000"]);
    let mut of_off = Kid::spawn("sleep of k1000002c1 (limit off)", Some(switched_off), &["sleep", "1000"]);

    let (age, signal) = ended.wait_end(Duration::from_secs(8));
    say(&format!(
        "sleep of k1000001c1 ended after {:.3} s (limit {} s) by signal {signal:?}",
        age.as_secs_f64(),
        LIMIT.as_secs()
    ));
    assert_eq!(signal, Some(15), "ended by SIGTERM");
    assert!(age >= LIMIT - EXEC_SLACK && age <= LIMIT + Duration::from_secs(3), "{age:?}");

    let (age, signal) = stubborn.wait_end(Duration::from_secs(10));
    say(&format!(
        "TERM-ignoring sleep of k1000001c1 ended after {:.3} s (limit {} s + grace {} s) by signal {signal:?}",
        age.as_secs_f64(),
        LIMIT.as_secs(),
        GRACE.as_secs()
    ));
    assert_eq!(signal, Some(9), "ended by SIGKILL");
    assert!(age >= LIMIT + GRACE - EXEC_SLACK && age <= LIMIT + GRACE + Duration::from_secs(3), "{age:?}");

    // Six seconds after their start, three times the limit, the others still run.
    thread::sleep(Duration::from_secs(6).saturating_sub(of_off.started.elapsed()));
    for kid in [&mut of_unlisted, &mut of_root, &mut of_off] {
        assert!(kid.alive(), "{} was ended: {:?}", kid.what, kid.ended);
    }

    // The kill log in the panel: both kills, for K1000001's contract.
    let customer1 = login(&url, "K1000001", "demo-password-1");
    let contract1 = contract_id(&url, &customer1, "k1000001c1");
    let kills_url = format!("{url}/api/v1/me/contracts/{contract1}/process-kills");
    let wanted = [(ended.pid(), "TERM"), (stubborn.pid(), "KILL")];
    let deadline = Instant::now() + Duration::from_secs(12);
    let kills = loop {
        let kills = get_json(&kills_url, &customer1);
        let has = |(pid, signal): (u32, &str)| {
            kills["kills"].as_array().unwrap().iter().any(|k| {
                k["pid"] == pid
                    && k["signal"] == signal
                    && k["comm"] == "sleep"
                    && k["runtime_seconds"].as_u64() >= Some(2)
            })
        };
        if wanted.iter().all(|w| has(*w)) {
            break kills;
        }
        assert!(Instant::now() < deadline, "the panel's kill log lacks {wanted:?}: {kills}");
        thread::sleep(Duration::from_millis(200));
    };
    say(&format!("kill log in the panel: {kills}"));
    // K1000002's contract has none.
    let none = get_json(&format!("{url}/api/v1/me/contracts/{contract2}/process-kills"), &customer2);
    assert_eq!(none["kills"].as_array().map(Vec::len), Some(0), "{none}");

    // The panel goes away; the agent says so and keeps enforcing the last known limits.
    drop(panel);
    let outage = Instant::now();
    let noticed =
        agent1.wait_for_log("panel unreachable; enforcing the last known limits from", Duration::from_secs(12));
    say(&format!("agent noticed the outage after {:.1} s", noticed.as_secs_f64()));
    let mut during_outage = Kid::spawn("sleep of k1000001c1 during the outage", Some(limited), &["sleep", "1000"]);
    let (age, signal) = during_outage.wait_end(Duration::from_secs(8));
    say(&format!("during the outage: ended after {:.3} s by signal {signal:?}", age.as_secs_f64()));
    assert_eq!(signal, Some(15));
    assert!(age <= LIMIT + Duration::from_secs(3), "{age:?}");
    assert!(of_off.alive() && of_unlisted.alive() && of_root.alive());

    // SIGTERM ends the agent cleanly; a new one, with the panel still down, enforces the saved limits.
    let status = agent1.terminate(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "agent exit after SIGTERM: {status}; log:\n{}", agent1.log_text());
    drop(agent1);
    let agent1 = start_agent(dir, "web001", &url, 2);
    agent1.wait_for_log(&format!("limit for k1000001c1 (uid {uid1}) is now 2 s"), Duration::from_secs(10));
    assert!(agent1.log_text().contains("loaded the limits of node \"web001\""), "{}", agent1.log_text());
    let mut after_restart = Kid::spawn("sleep of k1000001c1 after a restart", Some(limited), &["sleep", "1000"]);
    let (age, signal) = after_restart.wait_end(Duration::from_secs(8));
    say(&format!("after a restart during the outage: ended after {:.3} s by signal {signal:?}", age.as_secs_f64()));
    assert_eq!(signal, Some(15));
    assert!(age <= LIMIT + Duration::from_secs(3), "{age:?}");
    agent1.wait_for_log("panel unreachable", Duration::from_secs(12));
    assert!(of_off.alive() && of_unlisted.alive() && of_root.alive());
    say(&format!(
        "outage part took {:.1} s; whole test {:.1} s",
        outage.elapsed().as_secs_f64(),
        test_start.elapsed().as_secs_f64()
    ));
    drop(agent2);
}
