//! End-to-end tests of `hostwerk backup`: every command through the real binary, exit codes,
//! and crash safety (SIGKILL of `run` and `prune` at random moments).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] functions

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hostwerk");

struct Env {
    dir: PathBuf,
}

impl Env {
    fn new(name: &str) -> Env {
        let dir = std::env::temp_dir().join(format!("hostwerk-backup-cli-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Env { dir }
    }

    fn repo(&self) -> PathBuf {
        self.dir.join("repo")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("backup").arg("--repo").arg(self.repo()).args(args);
        c.env("HOSTWERK_REPO_PASSWORD", "pw").env_remove("HOSTWERK_REPO");
        c.stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "hostwerk backup {args:?} failed: {:?}\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut a = args.to_vec();
        a.push("--json");
        serde_json::from_str(&self.ok(&a)).unwrap()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
        println!("rng seed {s}");
        Rng(s | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                out.insert(rel + "/", Vec::new());
                walk(root, &p, out);
            } else {
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    walk(root, root, &mut out);
    out
}

/// Changes a few files of a small webspace-like source tree.
fn mutate(src: &Path, rng: &mut Rng) {
    fs::create_dir_all(src.join("site/uploads")).unwrap();
    for _ in 0..4 {
        let i = rng.below(30);
        let len = rng.below(3000) as usize;
        fs::write(src.join(format!("site/page{i}.php")), rng.bytes(len)).unwrap();
    }
    if rng.below(3) == 0 {
        let i = rng.below(5);
        let len = 200_000 + rng.below(600_000) as usize;
        fs::write(src.join(format!("site/uploads/img{i}.jpg")), rng.bytes(len)).unwrap();
    }
    if rng.below(4) == 0 {
        let _ = fs::remove_file(src.join(format!("site/page{}.php", rng.below(30))));
    }
}

fn snapshot_ids(env: &Env) -> Vec<String> {
    env.json(&["snapshots"]).as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

fn assert_restores(env: &Env, id: &str, src: &Path, want: &BTreeMap<String, Vec<u8>>) {
    let out = env.dir.join("restore-check");
    let _ = fs::remove_dir_all(&out);
    env.ok(&["restore", id, "--target", out.to_str().unwrap()]);
    let got = read_tree(&out.join(src.strip_prefix("/").unwrap()));
    assert!(got == *want, "snapshot {id} does not restore byte-exact");
    fs::remove_dir_all(&out).unwrap();
}

fn check_ok(env: &Env) {
    let o = env.run(&["check"]);
    assert!(
        o.status.success(),
        "check failed after a crash:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Starts a command and SIGKILLs it after `delay` (if still running); true if it was killed.
fn kill_after(mut cmd: Command, delay: Duration) -> bool {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while start.elapsed() < delay {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let killed = child.try_wait().unwrap().is_none() && child.kill().is_ok(); // SIGKILL
    let _ = child.wait();
    killed
}

fn timed(env: &Env, args: &[&str]) -> Duration {
    let t = Instant::now();
    env.ok(args);
    t.elapsed()
}

#[test]
fn commands_json_and_exit_codes() {
    let env = Env::new("basics");
    let src = env.dir.join("src");
    let mut rng = Rng::seeded();
    mutate(&src, &mut rng);
    fs::write(src.join("site/page0.php"), b"<?php echo 1;").unwrap();
    std::os::unix::fs::symlink("page0.php", src.join("site/index.php")).unwrap();
    let init = env.json(&["init"]);
    assert!(init["id"].is_string());
    assert_eq!(env.run(&["init"]).status.code(), Some(1), "init twice fails");

    let run = env.json(&["run", "--tag", "nightly", "--host", "web1", src.to_str().unwrap()]);
    assert_eq!(run["hostname"], "web1");
    assert_eq!(run["tags"][0], "nightly");
    let id = run["id"].as_str().unwrap().to_string();
    let again = env.json(&["run", "--host", "web1", src.to_str().unwrap()]);
    assert_eq!(again["summary"]["bytes_read"], 0);
    assert_eq!(again["parent"], id.as_str());

    let snaps = env.json(&["snapshots"]);
    assert_eq!(snaps.as_array().unwrap().len(), 2);
    let ls = env.json(&["ls", &id[..8], src.join("site").to_str().unwrap()]);
    assert!(ls
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["path"].as_str().unwrap().ends_with("site/index.php") && e["type"] == "symlink"));
    let dumped = env.ok(&["dump", "latest", src.join("site/page0.php").to_str().unwrap()]);
    assert_eq!(dumped, "<?php echo 1;");
    let tar = env.cmd(&["dump", "latest", src.join("site").to_str().unwrap()]).output().unwrap();
    assert!(tar.status.success() && tar.stdout.len() > 1024);
    let stats = env.json(&["stats"]);
    assert_eq!(stats["snapshots"], 2);

    // stdin
    let mut c = env.cmd(&["run", "--stdin-name", "db.sql", "--json"]);
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"INSERT INTO t VALUES (1);\n").unwrap();
    drop(child.stdin.take());
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(env.ok(&["dump", "latest", "/db.sql"]), "INSERT INTO t VALUES (1);\n");

    let out = env.dir.join("out");
    env.ok(&["restore", &id, "--target", out.to_str().unwrap(), "--include", src.join("site").to_str().unwrap()]);
    assert_eq!(fs::read(out.join(src.strip_prefix("/").unwrap()).join("site/page0.php")).unwrap(), b"<?php echo 1;");

    let plan = env.json(&["forget", "--keep-last", "1", "--dry-run"]);
    assert_eq!(plan["dry_run"], true);
    assert_eq!(snapshot_ids(&env).len(), 3);
    env.ok(&["forget", "--keep-last", "1"]);
    assert_eq!(snapshot_ids(&env).len(), 2, "one group of web1 kept 1, stdin group kept 1");
    let p = env.json(&["prune", "--dry-run"]);
    assert_eq!(p["dry_run"], true);
    env.ok(&["prune"]);
    let chk = env.json(&["check", "--read-data"]);
    assert_eq!(chk["errors"].as_array().unwrap().len(), 0);

    // Exit codes.
    let o = env.cmd(&["snapshots"]).env("HOSTWERK_REPO_PASSWORD", "wrong").output().unwrap();
    assert_eq!(o.status.code(), Some(12));
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrong password"));
    let o = Command::new(BIN)
        .args(["backup", "--repo"])
        .arg(env.dir.join("none"))
        .arg("snapshots")
        .env("HOSTWERK_REPO_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(10));
    assert_eq!(env.run(&["ls", "ffffffffff"]).status.code(), Some(1));
    let pwfile = env.dir.join("pw.txt");
    fs::write(&pwfile, "pw\n").unwrap();
    let o = env
        .cmd(&["snapshots", "--password-file", pwfile.to_str().unwrap()])
        .env_remove("HOSTWERK_REPO_PASSWORD")
        .output()
        .unwrap();
    assert!(o.status.success());

    // Corrupt a snapshot file: check names it and fails with 1.
    let snapdir = env.repo().join("snapshots");
    let f = fs::read_dir(&snapdir).unwrap().next().unwrap().unwrap().path();
    let mut b = fs::read(&f).unwrap();
    b[10] ^= 4;
    fs::write(&f, b).unwrap();
    let o = env.run(&["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains(f.file_name().unwrap().to_str().unwrap()));
}

#[test]
fn unreadable_source_file_is_reported_skipped_and_recorded() {
    let env = Env::new("unreadable");
    let src = env.dir.join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("ok"), "fine").unwrap();
    fs::write(src.join("secret"), "no").unwrap();
    fs::set_permissions(src.join("secret"), std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    env.ok(&["init"]);
    let mut cmd = env.cmd(&["run", "--json", src.to_str().unwrap()]);
    if fs::File::open(src.join("secret")).is_ok() {
        // Root reads everything: run as nobody (needs setpriv and a repo nobody may write).
        if Command::new("setpriv").arg("--version").output().is_err() {
            println!("skipped: running as root and setpriv is missing");
            return;
        }
        Command::new("chmod").args(["-R", "a+rwX"]).arg(&env.dir).status().unwrap();
        Command::new("chmod").args(["000"]).arg(src.join("secret")).status().unwrap();
        let mut d = env.dir.clone();
        while let Some(p) = d.parent() {
            d = p.to_path_buf();
            let _ = Command::new("chmod").args(["a+x"]).arg(&d).status();
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", BIN, "backup", "--repo"])
            .arg(env.repo())
            .args(["run", "--json"])
            .arg(&src)
            .env("HOSTWERK_REPO_PASSWORD", "pw");
        cmd = c;
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let errs = v["errors"].as_array().unwrap();
    assert_eq!(errs.len(), 1);
    assert!(errs[0]["path"].as_str().unwrap().ends_with("secret"));
    let ls = env.ok(&["ls", "latest"]);
    assert!(ls.contains("/ok") && !ls.contains("secret"));
}

#[test]
fn crash_safety_of_run() {
    let trials: u64 = std::env::var("HOSTWERK_CRASH_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let env = Env::new("crash-run");
    let src = env.dir.join("src");
    let mut rng = Rng::seeded();
    for _ in 0..5 {
        mutate(&src, &mut rng);
    }
    env.ok(&["init"]);
    let mut expected: Vec<(String, BTreeMap<String, Vec<u8>>)> = Vec::new();
    env.ok(&["run", src.to_str().unwrap()]);
    expected.push((snapshot_ids(&env).pop().unwrap(), read_tree(&src)));
    mutate(&src, &mut rng);
    let typical = timed(&env, &["run", src.to_str().unwrap()]);
    expected.push((snapshot_ids(&env).pop().unwrap(), read_tree(&src)));
    let window = (typical.as_millis() as u64 * 11 / 10).max(20);
    let mut killed = 0;
    for _ in 0..trials {
        mutate(&src, &mut rng);
        killed +=
            u32::from(kill_after(env.cmd(&["run", src.to_str().unwrap()]), Duration::from_millis(rng.below(window))));
        check_ok(&env);
        let before = snapshot_ids(&env);
        let run = env.json(&["run", src.to_str().unwrap()]);
        let id = run["id"].as_str().unwrap().to_string();
        assert!(!before.contains(&id));
        expected.push((id, read_tree(&src)));
    }
    println!("run: {killed} of {trials} runs killed mid-way (window {window} ms)");
    let o = env.run(&["check", "--read-data"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    for (id, want) in &expected {
        assert_restores(&env, id, &src, want);
    }
}

#[test]
fn crash_safety_of_prune() {
    let trials: u64 = std::env::var("HOSTWERK_CRASH_TRIALS").ok().and_then(|s| s.parse().ok()).unwrap_or(50);
    let env = Env::new("crash-prune");
    let src = env.dir.join("src");
    let mut rng = Rng::seeded();
    mutate(&src, &mut rng);
    env.ok(&["init"]);
    let mut expected: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for _ in 0..4 {
        mutate(&src, &mut rng);
        let run = env.json(&["run", src.to_str().unwrap()]);
        expected.insert(run["id"].as_str().unwrap().to_string(), read_tree(&src));
    }
    let mut window = 50;
    let mut killed = 0;
    for trial in 0..=trials {
        mutate(&src, &mut rng);
        let run = env.json(&["run", src.to_str().unwrap()]);
        expected.insert(run["id"].as_str().unwrap().to_string(), read_tree(&src));
        env.ok(&["forget", "--keep-last", "3"]);
        if trial == 0 {
            // Measure one complete prune to size the kill window, then restart the trial.
            window = (timed(&env, &["prune"]).as_millis() as u64 * 3 / 2).max(20);
            continue;
        }
        killed += u32::from(kill_after(env.cmd(&["prune"]), Duration::from_millis(rng.below(window))));
        check_ok(&env);
        let run = env.json(&["run", src.to_str().unwrap()]);
        expected.insert(run["id"].as_str().unwrap().to_string(), read_tree(&src));
        let ids = snapshot_ids(&env);
        // The newest snapshot restores after every crash.
        let newest = ids.last().unwrap();
        assert_restores(&env, newest, &src, &expected[newest]);
    }
    println!("prune: {killed} of {trials} prunes killed mid-way (window {window} ms)");
    env.ok(&["prune"]);
    let o = env.run(&["check", "--read-data"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    for id in snapshot_ids(&env) {
        assert_restores(&env, &id, &src, &expected[&id]);
    }
}
