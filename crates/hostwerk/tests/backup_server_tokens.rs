//! `hostwerk backup serve` takes a changed tokens file on SIGHUP, and keeps its tokens when the file is broken.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

mod support;
use support::{start_repo_server, Daemon};

const BIN: &str = env!("CARGO_BIN_EXE_hostwerk");

/// A new token for `repo` appended to the tokens file `tokens`; returns the token.
fn new_token(tokens: &Path, name: &str, repo: &str) -> String {
    let out = Command::new(BIN)
        .args(["backup", "server-token", "--name", name, "--access", "append-only", "--repo", repo, "--tokens"])
        .arg(tokens)
        .env_remove("HOSTWERK_REPO")
        .output()
        .unwrap();
    assert!(out.status.success(), "server-token: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// `hostwerk backup init` of the repository `repo` on the server, with `token`.
fn init(addr: &str, repo: &str, token: &str) -> Output {
    Command::new(BIN)
        .args(["backup", "--repo", &format!("rest:http://{addr}/{repo}"), "init"])
        .env("HOSTWERK_REPO_PASSWORD", "correct horse battery staple")
        .env("HOSTWERK_REPO_TOKEN", token)
        .env_remove("HOSTWERK_REPO")
        .env_remove("HOSTWERK_REPO_CACERT")
        .output()
        .unwrap()
}

fn hangup(server: &Daemon) {
    let status = Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn tokens_are_reloaded_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos");
    std::fs::create_dir(&repos).unwrap();
    let tokens = dir.path().join("repo-tokens.toml");
    let first = new_token(&tokens, "web001-agent", "web001");
    let (mut server, addr) = start_repo_server(dir.path(), &repos, "127.0.0.1:0", 1);

    // A token added to the file after the start is unknown until the server is told.
    let second = new_token(&tokens, "web002-agent", "web002");
    let refused = init(&addr, "web002", &second);
    assert!(!refused.status.success(), "a token the server has not read yet is refused");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("token"), "{}", String::from_utf8_lossy(&refused.stderr));

    hangup(&server);
    server.wait_for_log("tokens reloaded", Duration::from_secs(10));
    let out = init(&addr, "web002", &second);
    assert!(out.status.success(), "the new token works after SIGHUP: {}", String::from_utf8_lossy(&out.stderr));
    let out = init(&addr, "web001", &first);
    assert!(out.status.success(), "the old token still works: {}", String::from_utf8_lossy(&out.stderr));

    // A broken file is refused and the tokens in force stay.
    std::fs::write(&tokens, "[[token]]\nname = \"half an entry\"\n").unwrap();
    hangup(&server);
    server.wait_for_log("the tokens file was refused", Duration::from_secs(10));
    let out = init(&addr, "web002", &second);
    assert!(!out.status.success(), "init twice fails: the repository exists");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exist"), "refused for existing, not for the token: {stderr}");

    // A token removed from the file stops working.
    std::fs::write(&tokens, "").unwrap();
    let third = new_token(&tokens, "web003-agent", "web003");
    hangup(&server);
    wait_for_count(&server, "tokens reloaded", 2);
    let out = init(&addr, "web004", &second);
    assert!(!out.status.success(), "the removed token is refused");
    assert!(init(&addr, "web003", &third).status.success(), "the only token in the file works");
    assert!(server.try_wait().is_none(), "the server is still running");
}

/// Waits until `needle` occurs `n` times in the server's log.
fn wait_for_count(server: &Daemon, needle: &str, n: usize) {
    let start = std::time::Instant::now();
    while server.log_text().matches(needle).count() < n {
        assert!(start.elapsed() < Duration::from_secs(10), "{needle:?} not {n} times in:\n{}", server.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
}
