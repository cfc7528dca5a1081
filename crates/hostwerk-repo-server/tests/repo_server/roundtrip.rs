//! The engine over the repository server: init, backup, check, restore through `HttpBackend`; forget/prune
//! refused for the append-only token and done by the maintenance token; the same over TLS.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use crate::common;

use common::*;
use hostwerk_backup::backend::http::HttpBackend;
use hostwerk_backup::{
    backup, check, forget, prune, restore, BackupOptions, ForgetPolicy, InitOptions, NoProgress, Repository,
    RestoreOptions,
};

#[test]
fn backup_over_http_and_only_maintenance_may_forget_and_prune() {
    let srv = Server::start(false);
    let src = tempfile::tempdir().unwrap();
    let o = BackupOptions { paths: vec![src.path().to_path_buf()], ..Default::default() };

    let repo = srv.init("web001", "append");
    assert_eq!(repo.backend().location(), format!("rest:{}", srv.url("web001")));
    for i in 0..2u64 {
        std::fs::write(src.path().join("upload.bin"), bytes(10 + i, 700_000)).unwrap();
        std::fs::write(src.path().join("index.php"), b"<?php echo 1;").unwrap();
        backup(&repo, &o, None, &NoProgress).unwrap();
    }
    assert_eq!(repo.snapshots().unwrap().len(), 2);
    let report = check(&repo, true).unwrap();
    assert!(report.ok(), "{:?}", report.errors);
    // The repository on the server is an ordinary local repository.
    let local = Repository::open(
        std::sync::Arc::new(hostwerk_backup::LocalBackend::new(srv.root.path().join("web001"))),
        PASSWORD,
    )
    .unwrap();
    assert_eq!(local.snapshots().unwrap().len(), 2);
    assert!(names(&srv.root.path().join("web001"), "locks").is_empty(), "the engine removed its locks");

    // A second init on the same repository is refused by the engine (the config exists).
    let again = Repository::init(srv.backend("web001", "append"), PASSWORD, InitOptions::default());
    assert!(matches!(again, Err(hostwerk_backup::Error::RepoExists(_))));

    // Append-only: forget and prune fail with a clear error, nothing is lost.
    let policy = ForgetPolicy { keep_last: Some(1), ..Default::default() };
    let err = forget(&repo, &policy, false).unwrap_err().to_string();
    assert!(err.contains("403") && err.contains("maintenance"), "{err}");
    assert_eq!(repo.snapshots().unwrap().len(), 2);
    let err = prune(&repo, false).unwrap_err().to_string();
    assert!(err.contains("403") && err.contains("maintenance"), "{err}");
    assert_eq!(srv.open("web001", "append").snapshots().unwrap().len(), 2);
    // Read-only may read but not back up.
    let ro = srv.open("web001", "ro");
    assert_eq!(ro.snapshots().unwrap().len(), 2);
    let err = backup(&ro, &o, None, &NoProgress).unwrap_err().to_string();
    assert!(err.contains("403"), "{err}");

    // Maintenance: forget and prune work, the rest stays restorable.
    let m = srv.open("web001", "maint");
    let plan = forget(&m, &policy, false).unwrap();
    assert_eq!(plan.remove_ids().len(), 1);
    let done = prune(&m, false).unwrap();
    assert!(done.changes);
    let m = srv.open("web001", "maint");
    assert_eq!(m.snapshots().unwrap().len(), 1);
    let report = check(&m, true).unwrap();
    assert!(report.ok(), "{:?}", report.errors);
    let latest = m.find_snapshot("latest").unwrap();
    let out = tempfile::tempdir().unwrap();
    restore(
        &m,
        &latest.snapshot.tree,
        &RestoreOptions { target: out.path().to_path_buf(), ..Default::default() },
        &NoProgress,
    )
    .unwrap();
    let restored = out.path().join(src.path().strip_prefix("/").unwrap());
    assert_eq!(std::fs::read(restored.join("upload.bin")).unwrap(), bytes(11, 700_000));
    // And the append-only agent keeps backing up into the pruned repository.
    backup(&srv.open("web001", "append"), &o, None, &NoProgress).unwrap();
}

#[test]
fn missing_repository_and_bad_token_are_clear_errors() {
    let srv = Server::start(false);
    let err = Repository::open(srv.backend("web001", "append"), PASSWORD).unwrap_err();
    assert!(matches!(err, hostwerk_backup::Error::RepoNotFound(_)), "{err}");
    let bad = HttpBackend::new(&srv.url("web001"), Some("wrong".into()), None).unwrap();
    let err = Repository::open(std::sync::Arc::new(bad), PASSWORD).unwrap_err().to_string();
    assert!(err.contains("401") && err.contains("HOSTWERK_REPO_TOKEN"), "{err}");
    let err =
        Repository::init(srv.backend("web002", "append"), PASSWORD, InitOptions::default()).unwrap_err().to_string();
    assert!(err.contains("403"), "{err}");
}

#[test]
fn tls_round_trip_with_own_ca() {
    let srv = Server::start(true);
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.txt"), bytes(3, 50_000)).unwrap();
    let repo = srv.init("web001", "append");
    assert!(repo.backend().location().starts_with("rest:https://127.0.0.1:"));
    backup(&repo, &BackupOptions { paths: vec![src.path().to_path_buf()], ..Default::default() }, None, &NoProgress)
        .unwrap();
    let m = srv.open("web001", "maint");
    assert_eq!(m.snapshots().unwrap().len(), 1);
    assert!(check(&m, true).unwrap().ok());

    // The certificate is verified: without our CA (system roots only) the server is not trusted.
    let untrusted = HttpBackend::new(&srv.url("web001"), Some(srv.token("maint")), None).unwrap();
    let err = Repository::open(std::sync::Arc::new(untrusted), PASSWORD).unwrap_err().to_string();
    assert!(err.contains("cannot reach the repository server"), "{err}");
}
