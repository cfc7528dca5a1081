//! The append-only proof: whatever an append-only token sends, every byte already in the repositories
//! stays as it was. Real server on port 0, real files, raw HTTP so that path tricks reach the server verbatim.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use crate::common;

use common::*;
use hostwerk_backup::{backup, BackupOptions, NoProgress};

fn hex64(seed: u64) -> String {
    hex::encode(bytes(seed, 32))
}

/// A server with two backed-up repositories (`web001` by the append-only token, `web002` by another),
/// and a lock file in `web001`.
fn populated() -> Server {
    let srv = Server::start(false);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("index.php"), bytes(1, 300_000)).unwrap();
    std::fs::write(src.path().join("small.txt"), b"hello").unwrap();
    let o = BackupOptions { paths: vec![src.path().to_path_buf()], ..Default::default() };
    let repo = srv.init("web001", "append");
    backup(&repo, &o, None, &NoProgress).unwrap();
    let repo2 = srv.init("web002", "append2");
    backup(&repo2, &o, None, &NoProgress).unwrap();
    let (st, _) = srv.raw("POST", &format!("/web001/locks/{}", hex64(77)), Some("append"), b"lock bytes");
    assert_eq!(st, 201);
    srv
}

#[test]
fn append_only_token_cannot_delete_or_overwrite_anything() {
    let srv = populated();
    let root = srv.root.path().to_path_buf();
    let before = tree_hashes(&root);
    let w1 = root.join("web001");
    for sub in ["keys", "data", "index", "snapshots", "locks"] {
        assert!(!names(&w1, sub).is_empty(), "web001/{sub} has files to attack");
    }

    // Every existing file of web001, by its URL path.
    let mut targets = vec!["/web001/config".to_string()];
    for sub in ["keys", "data", "index", "snapshots", "locks"] {
        for n in names(&w1, sub) {
            targets.push(format!("/web001/{sub}/{n}"));
        }
    }
    let snap2 = names(&root.join("web002"), "snapshots")[0].clone();
    let other = b"attacker's bytes".to_vec();
    let mut attempts = 0;
    let mut refuse = |method: &str, path: &str, body: &[u8], want: u16| {
        let (st, msg) = srv.raw(method, path, Some("append"), body);
        assert_eq!(st, want, "{method} {path}: {}", String::from_utf8_lossy(&msg));
        attempts += 1;
    };

    for p in &targets {
        let is_lock = p.starts_with("/web001/locks/");
        if !is_lock {
            refuse("DELETE", p, b"", 403);
        }
        refuse("POST", p, &other, 403);
        refuse("POST", p, b"", 403);
        for m in ["PUT", "PATCH", "MOVE", "COPY"] {
            refuse(m, p, &other, 405);
        }
        // The same file through path tricks.
        let tail = p.trim_start_matches("/web001/");
        let mut tricks = vec![format!("/web001/{}", tail.replace('/', "%2f"))];
        if !tail.contains('/') {
            tricks.clear();
        }
        for tricky in tricks.into_iter().chain([
            format!("/web001/../web001/{tail}"),
            format!("/web001/%2e%2e/web001/{tail}"),
            format!("/web001/./{tail}"),
            format!("//web001/{tail}"),
            format!("/web001//{tail}"),
            format!("/web003/../web001/{tail}"),
        ]) {
            refuse("DELETE", &tricky, b"", 400);
            refuse("POST", &tricky, &other, 400);
        }
        refuse("DELETE", &format!("{p}/"), b"", 404);
    }
    // Adding keys or replacing the config of an existing repository.
    refuse("POST", &format!("/web001/keys/{}", hex64(5)), b"{\"a\":1}", 403);
    refuse("POST", "/web001/config", b"{}", 403);
    refuse("DELETE", "/web001/config", b"", 403);
    refuse("DELETE", "/web001/", b"", 405);
    refuse("DELETE", "/web001/data/", b"", 405);
    refuse("PUT", "/web001/config", b"{}", 405);
    // Packs by their on-disk path (data/xx/name) are not a route.
    let pack = names(&w1, "data")[0].clone();
    refuse("DELETE", &format!("/web001/data/{}/{pack}", &pack[..2]), b"", 404);
    refuse("POST", &format!("/web001/data/{}", pack.to_uppercase()), b"x", 400);
    refuse("POST", "/web001/data/..", b"x", 400);
    refuse("POST", "/web001/data/x", b"x", 400);
    // Another customer's repository, directly and by tricks.
    refuse("DELETE", &format!("/web002/snapshots/{snap2}"), b"", 403);
    refuse("POST", &format!("/web002/snapshots/{snap2}"), &other, 403);
    refuse("POST", &format!("/web002/snapshots/{}", hex64(9)), &other, 403);
    refuse("GET", &format!("/web002/snapshots/{snap2}"), b"", 403);
    refuse("GET", "/web002/config", b"", 403);
    refuse("POST", "/web002/?create=true", b"", 403);
    refuse("DELETE", &format!("/web001/../web002/snapshots/{snap2}"), b"", 400);
    refuse("DELETE", &format!("/web001/%2E%2E/web002/snapshots/{snap2}"), b"", 400);
    refuse("DELETE", &format!("/%2e%2e/web002/snapshots/{snap2}"), b"", 400);
    refuse("DELETE", &format!("/../web002/snapshots/{snap2}"), b"", 400);
    refuse("DELETE", "/web002/", b"", 403);
    refuse("POST", "/web001/?create=false", b"", 400);
    refuse("POST", "/", b"", 404);
    assert!(attempts > 100, "{attempts} attempts");

    // Creating the layout of an existing repository changes nothing.
    assert_eq!(srv.raw("POST", "/web001/?create=true", Some("append"), b"").0, 200);
    assert_eq!(tree_hashes(&root), before, "an append-only token changed existing files");

    // Identical re-uploads (a retry after a lost answer) are fine and change nothing.
    for p in &targets {
        let on_disk = srv.raw("GET", p, Some("append"), b"");
        assert_eq!(on_disk.0, 200, "{p}");
        let (st, msg) = srv.raw("POST", p, Some("append"), &on_disk.1);
        assert_eq!(st, 200, "{p}: {}", String::from_utf8_lossy(&msg));
    }
    assert_eq!(tree_hashes(&root), before);

    // New files can be added; old ones stay.
    let new = format!("/web001/snapshots/{}", hex64(11));
    assert_eq!(srv.raw("POST", &new, Some("append"), b"new").0, 201);
    let after = tree_hashes(&root);
    assert_eq!(after.len(), before.len() + 1);
    assert!(before.iter().all(|(p, h)| after.get(p) == Some(h)));

    // The lock exception: an append-only token may delete lock files (and only those).
    let lock = format!("/web001/locks/{}", hex64(77));
    assert_eq!(srv.raw("DELETE", &lock, Some("append"), b"").0, 200);
    assert_eq!(srv.raw("GET", &lock, Some("append"), b"").0, 404);
    assert!(names(&w1, "locks").is_empty());
    let after = tree_hashes(&root);
    assert!(before.iter().filter(|(p, _)| !p.starts_with("web001/locks")).all(|(p, h)| after.get(p) == Some(h)));
}

#[test]
fn read_only_and_missing_tokens() {
    let srv = populated();
    let root = srv.root.path().to_path_buf();
    let before = tree_hashes(&root);
    let snap = names(&root.join("web001"), "snapshots")[0].clone();
    let p = format!("/web001/snapshots/{snap}");

    // Read-only: reads yes, writes no.
    let (st, body) = srv.raw("GET", &p, Some("ro"), b"");
    assert_eq!(st, 200);
    assert_eq!(body, std::fs::read(root.join("web001/snapshots").join(&snap)).unwrap());
    let (st, list) = srv.raw("GET", "/web001/snapshots/", Some("ro"), b"");
    assert_eq!(st, 200);
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(list[0]["name"], snap.as_str());
    assert_eq!(list[0]["size"], body.len() as u64);
    assert_eq!(srv.raw("HEAD", "/web001/config", Some("ro"), b"").0, 200);
    for (m, path, b) in [
        ("POST", format!("/web001/snapshots/{}", hex64(3)), &b"x"[..]),
        ("POST", p.clone(), &body[..]),
        ("DELETE", p.clone(), &b""[..]),
        ("DELETE", format!("/web001/locks/{}", hex64(77)), &b""[..]),
        ("POST", "/web001/?create=true".into(), &b""[..]),
        ("POST", "/web009/?create=true".into(), &b""[..]),
    ] {
        assert_eq!(srv.raw(m, &path, Some("ro"), b).0, 403, "{m} {path}");
    }

    // No token, unknown token, malformed header: 401 for everything, even reads.
    for (m, path) in [("GET", p.as_str()), ("DELETE", p.as_str()), ("POST", "/web001/?create=true"), ("GET", "/nope")] {
        assert_eq!(srv.raw_with(m, path, None, &[], b"").0, 401, "{m} {path}");
        assert_eq!(srv.raw_with(m, path, Some("not-a-token"), &[], b"").0, 401);
        let wrong = format!("Basic {}", srv.token("maint"));
        assert_eq!(srv.raw_with(m, path, None, &[("Authorization", &wrong)], b"").0, 401);
    }
    assert_eq!(tree_hashes(&root), before);

    // Ranges.
    let (st, part) = srv.raw_with("GET", &p, Some(&srv.token("ro")), &[("Range", "bytes=2-9")], b"");
    assert_eq!((st, &part[..]), (206, &body[2..10]));
    let (st, part) = srv.raw_with("GET", &p, Some(&srv.token("ro")), &[("Range", "bytes=-4")], b"");
    assert_eq!((st, &part[..]), (206, &body[body.len() - 4..]));
    let far = format!("bytes={}-", body.len() + 10);
    assert_eq!(srv.raw_with("GET", &p, Some(&srv.token("ro")), &[("Range", &far)], b"").0, 416);
    let past_end = format!("bytes=3-{}", body.len() + 100);
    let (st, part) = srv.raw_with("GET", &p, Some(&srv.token("ro")), &[("Range", &past_end)], b"");
    assert_eq!((st, &part[..]), (206, &body[3..]));
}

#[test]
fn append_only_token_can_create_a_new_repository_but_not_write_outside() {
    let srv = Server::start(false);
    let k = format!("/web003/keys/{}", hex64(1));
    assert_eq!(srv.raw("POST", &k, Some("append"), b"{}").0, 404, "no repository yet");
    assert_eq!(srv.raw("POST", "/web003/?create=true", Some("append"), b"").0, 200);
    assert_eq!(srv.raw("POST", &k, Some("append"), b"{}").0, 201);
    assert_eq!(srv.raw("POST", "/web003/config", Some("append"), b"{\"v\":1}").0, 201);
    assert_eq!(srv.raw("POST", "/web003/config", Some("append"), b"{\"v\":1}").0, 200, "identical retry");
    assert_eq!(srv.raw("POST", "/web003/config", Some("append"), b"{\"v\":2}").0, 403);
    assert_eq!(srv.raw("POST", &format!("/web003/keys/{}", hex64(2)), Some("append"), b"{}").0, 403);
    // Nothing was created outside the granted repositories.
    assert_eq!(srv.raw("POST", "/web004/?create=true", Some("append"), b"").0, 403);
    let dirs: Vec<_> = std::fs::read_dir(srv.root.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(dirs, vec![std::ffi::OsString::from("web003")]);
    // The maintenance token may add keys to an existing repository and delete anything.
    assert_eq!(srv.raw("POST", &format!("/web003/keys/{}", hex64(2)), Some("maint"), b"{}").0, 201);
    assert_eq!(srv.raw("DELETE", &k, Some("maint"), b"").0, 200);
    assert_eq!(srv.raw("GET", &k, Some("maint"), b"").0, 404);
    // … but not overwrite: names are content hashes, files are write-once for everybody.
    assert_eq!(srv.raw("POST", "/web003/config", Some("maint"), b"{\"v\":3}").0, 403);
}

#[test]
fn body_limit() {
    let srv = Server::start_with(false, 1 << 20);
    assert_eq!(srv.raw("POST", "/web003/?create=true", Some("append"), b"").0, 200);
    let ok = vec![7u8; 1 << 20];
    assert_eq!(srv.raw("POST", &format!("/web003/data/{}", hex64(3)), Some("append"), &ok).0, 201);
    let big = vec![7u8; (1 << 20) + 1];
    let (st, _) = srv.raw("POST", &format!("/web003/data/{}", hex64(4)), Some("append"), &big);
    assert!(st == 413 || st == 0, "{st}");
    // Without a Content-Length (chunked), the limit applies while reading.
    let mut chunked = format!("{:x}\r\n", big.len()).into_bytes();
    chunked.extend_from_slice(&big);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let (st, _) = srv.raw_chunked("POST", &format!("/web003/data/{}", hex64(5)), "append", &chunked);
    assert!(st == 413 || st == 0, "{st}");
    assert_eq!(names(&srv.root.path().join("web003"), "data"), vec![hex64(3)]);
}
