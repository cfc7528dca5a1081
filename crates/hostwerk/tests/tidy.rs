//! The architecture invariants a machine can check, checked under `cargo test` (rust-analyzer's `tidy.rs` is
//! the model): every Rust file opens with a `//!` doc, ARCHITECTURE.md names every crate and its table of
//! workspace dependencies is the one `cargo metadata` reports, the pure crates have no async or I/O
//! dependency and do no I/O in their source, the backup engine and the agent know nothing of the web or the
//! panel's database, only the store speaks SQL, and `anyhow` lives in the binary alone.
//!
//! A failure names the file or crate and the rule; the fix is in the code or, when the rule itself changed
//! on purpose, in ARCHITECTURE.md and here.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One workspace member as `cargo metadata` sees it.
#[derive(Debug)]
struct Member {
    name: String,
    dir: PathBuf,
    /// Normal (not dev, not build) dependencies, with whether each is optional.
    deps: BTreeMap<String, bool>,
}

fn members() -> Vec<Member> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut members: Vec<Member> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| Member {
            name: p["name"].as_str().unwrap().to_owned(),
            dir: Path::new(p["manifest_path"].as_str().unwrap()).parent().unwrap().to_owned(),
            deps: p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| (d["name"].as_str().unwrap().to_owned(), d["optional"].as_bool().unwrap_or(false)))
                .collect(),
        })
        .collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(members.len() >= 10, "the workspace has its crates: {members:?}");
    members
}

fn member<'a>(members: &'a [Member], name: &str) -> &'a Member {
    members.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no workspace member {name}"))
}

#[test]
fn every_rust_file_opens_with_its_doc() {
    let mut missing = Vec::new();
    for dir in ["src", "tests", "examples", "benches"] {
        for m in members() {
            for f in rust_files(&m.dir.join(dir)) {
                let text = std::fs::read_to_string(&f).unwrap();
                let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("#!["));
                if !first.is_some_and(|l| l.starts_with("//!")) {
                    missing.push(f.strip_prefix(root()).unwrap().display().to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "files without a `//!` module doc at the top:\n{}", missing.join("\n"));
}

/// The table under "## Crates and their dependencies" in ARCHITECTURE.md: crate → its workspace dependencies.
fn documented_graph() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Crates and their dependencies"))
        .expect("ARCHITECTURE.md has a section \"## Crates and their dependencies\"");
    let names = |cell: &str| -> BTreeSet<String> { cell.split('`').skip(1).step_by(2).map(str::to_owned).collect() };
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = names(cells[1]).into_iter().next().unwrap();
            (name, names(cells[cells.len() - 2]))
        })
        .collect()
}

#[test]
fn architecture_md_names_every_crate_with_its_dependencies() {
    let members = members();
    let ours: BTreeSet<String> = members.iter().map(|m| m.name.clone()).collect();
    let documented = documented_graph();
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    for m in &members {
        let dir = m.dir.strip_prefix(root()).unwrap().display().to_string();
        assert!(text.contains(&format!("### `{dir}`")), "ARCHITECTURE.md's code map has no section `### `{dir}``");
        let actual: BTreeSet<String> = m.deps.keys().filter(|d| ours.contains(*d)).cloned().collect();
        let Some(written) = documented.get(&m.name) else {
            panic!("ARCHITECTURE.md's dependency table has no row for {}", m.name)
        };
        assert_eq!(
            written, &actual,
            "ARCHITECTURE.md says {} depends on {written:?}; Cargo.toml says {actual:?}",
            m.name
        );
    }
    let unknown: Vec<&String> = documented.keys().filter(|n| !ours.contains(*n)).collect();
    assert!(unknown.is_empty(), "ARCHITECTURE.md lists crates the workspace does not have: {unknown:?}");
}

/// Crates that do async work, I/O, HTTP, SQL, templates or OpenAPI documents.
const ASYNC_OR_IO: &[&str] = &[
    "tokio",
    "futures",
    "futures-util",
    "async-trait",
    "sqlx",
    "rusqlite",
    "axum",
    "axum-extra",
    "hyper",
    "tower",
    "tower-http",
    "reqwest",
    "ureq",
    "lettre",
    "opendal",
    "minijinja",
    "utoipa",
];
const WEB_OR_DATABASE: &[&str] =
    &["axum", "axum-extra", "hyper", "tower-http", "sqlx", "rusqlite", "minijinja", "utoipa", "lettre"];
const PANEL_CRATES: &[&str] = &["hostwerk-web", "hostwerk-store"];

fn forbidden(m: &Member, names: &[&str], allow_optional: bool) -> Vec<String> {
    m.deps
        .iter()
        .filter(|(d, optional)| names.contains(&d.as_str()) && !(allow_optional && **optional))
        .map(|(d, _)| d.clone())
        .collect()
}

#[test]
fn the_pure_crates_have_no_async_or_io() {
    let members = members();
    // The protocol's OpenAPI derive is an optional feature only the panel turns on.
    for (name, allow_optional) in [
        ("hostwerk-domain", false),
        ("hostwerk-schedule", false),
        ("hostwerk-protocol", true),
        ("hostwerk-mailconfig", false),
    ] {
        let m = member(&members, name);
        let bad = forbidden(m, ASYNC_OR_IO, allow_optional);
        assert!(bad.is_empty(), "{name} is pure but depends on {bad:?}");
        for f in rust_files(&m.dir.join("src")) {
            let text = std::fs::read_to_string(&f).unwrap();
            for needle in
                ["async fn", ".await", "tokio::", "std::fs", "std::process", "TcpStream", "TcpListener", "UdpSocket"]
            {
                assert!(!text.contains(needle), "{} uses `{needle}`: {name} does no I/O", f.display());
            }
        }
    }
}

#[test]
fn the_engine_and_the_agent_know_nothing_of_the_web_or_the_panel() {
    let members = members();
    for name in ["hostwerk-backup", "hostwerk-agent", "hostwerk-protocol", "hostwerk-repo-server"] {
        let m = member(&members, name);
        let mut bad = forbidden(m, WEB_OR_DATABASE, name == "hostwerk-protocol");
        // The repository server is an HTTP server by trade: axum is its job, the panel's crates are not.
        if name == "hostwerk-repo-server" {
            bad.retain(|d| d != "axum" && d != "hyper");
        }
        bad.extend(forbidden(m, PANEL_CRATES, false));
        assert!(bad.is_empty(), "{name} depends on {bad:?}");
    }
}

#[test]
fn only_the_store_speaks_sql_and_only_the_binary_uses_anyhow() {
    let members = members();
    for m in &members {
        if m.name != "hostwerk-store" {
            let bad = forbidden(m, &["sqlx", "rusqlite"], false);
            assert!(bad.is_empty(), "{} depends on {bad:?}: only hostwerk-store speaks SQL", m.name);
            for f in rust_files(&m.dir.join("src")) {
                let text = std::fs::read_to_string(&f).unwrap();
                assert!(!text.contains("sqlx::") && !text.contains("rusqlite::"), "{} uses sqlx", f.display());
            }
        }
        if m.name != "hostwerk" {
            let bad = forbidden(m, &["anyhow"], false);
            assert!(bad.is_empty(), "{} depends on anyhow: typed errors outside the binary", m.name);
        }
    }
    // The panel's SQL is in the store; a statement anywhere else in the panel would bypass its scopes.
    for name in ["hostwerk-web", "hostwerk"] {
        for f in rust_files(&member(&members, name).dir.join("src")) {
            let text = std::fs::read_to_string(&f).unwrap();
            for needle in ["\"SELECT ", "\"INSERT INTO", "\"UPDATE ", "\"DELETE FROM"] {
                assert!(!text.contains(needle), "{} holds SQL ({needle}…): it belongs in hostwerk-store", f.display());
            }
        }
    }
}
