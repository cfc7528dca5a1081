//! forget + prune keep exactly what the policy says; concurrent backups into one repository.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;

use std::fs;

use common::*;
use hostwerk_backup::forget::plan_forget;
use hostwerk_backup::{backup, check, forget, prune, restore, BackupOptions, ForgetPolicy, NoProgress, RestoreOptions};

#[test]
fn forget_and_prune_free_space_and_keep_the_rest_restorable() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir_all(&src).unwrap();
    let rdir = t.path().join("repo");
    let repo = init_repo(&rdir);
    let o = BackupOptions { paths: vec![src.clone()], ..Default::default() };
    let mut snaps = Vec::new();
    for i in 0..4u64 {
        fs::write(src.join("data"), bytes(100 + i, 400_000)).unwrap();
        fs::write(src.join("same"), bytes(1, 1000)).unwrap();
        snaps.push(backup(&repo, &o, None, &NoProgress).unwrap());
    }
    let policy = ForgetPolicy { keep_last: Some(2), ..Default::default() };
    let plan = forget(&repo, &policy, true).unwrap();
    assert_eq!(plan.remove_ids().len(), 2);
    assert_eq!(repo.snapshots().unwrap().len(), 4, "dry run changes nothing");
    forget(&repo, &policy, false).unwrap();
    assert_eq!(repo.snapshots().unwrap().len(), 2);

    let dry = prune(&repo, true).unwrap();
    assert!(dry.changes);
    let before: u64 = hostwerk_backup::stats(&repo).unwrap().pack_bytes;
    let done = prune(&repo, false).unwrap();
    assert!(done.bytes_freed > 0);
    let after = hostwerk_backup::stats(&open_repo(&rdir)).unwrap().pack_bytes;
    assert!(after < before * 3 / 5, "{before} -> {after}");
    let repo = open_repo(&rdir);
    assert!(check(&repo, true).unwrap().ok());
    assert!(!prune(&repo, false).unwrap().changes, "second prune has nothing to do");
    for (i, s) in snaps.iter().enumerate().skip(2) {
        let out = t.path().join(format!("out{i}"));
        restore(
            &repo,
            &s.snapshot.snapshot.tree,
            &RestoreOptions { target: out.clone(), ..Default::default() },
            &NoProgress,
        )
        .unwrap();
        let got = fs::read(out.join(src.strip_prefix("/").unwrap()).join("data")).unwrap();
        assert_eq!(got, bytes(100 + i as u64, 400_000));
    }
}

#[test]
fn retention_buckets() {
    use chrono::TimeZone;
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("s");
    fs::create_dir_all(&src).unwrap();
    let repo = init_repo(&t.path().join("repo"));
    let base =
        backup(&repo, &BackupOptions { paths: vec![src], ..Default::default() }, None, &NoProgress).unwrap().snapshot;
    // 90 daily snapshots, two per day.
    let mut list = Vec::new();
    for d in 0..90i64 {
        for h in [1, 13] {
            let mut s = base.clone();
            s.snapshot.time = chrono::Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap() + chrono::Duration::days(d);
            s.id = hostwerk_backup::Id::hash(format!("{d}-{h}").as_bytes());
            list.push(s);
        }
    }
    let p = ForgetPolicy { keep_daily: Some(7), keep_monthly: Some(3), ..Default::default() };
    let plan = plan_forget(&list, &p).unwrap();
    let keep = &plan.groups[0].keep;
    // 7 days + the newest of 3 months (one of them is also a daily keep).
    assert_eq!(keep.len(), 9, "{keep:?}");
    assert!(keep.iter().all(|k| k.time.format("%H").to_string() == "13"));
    assert!(plan_forget(&list, &ForgetPolicy::default()).is_err());
    let w = ForgetPolicy { keep_within: Some(hostwerk_backup::parse_duration("2w").unwrap()), ..Default::default() };
    assert_eq!(plan_forget(&list, &w).unwrap().groups[0].keep.len(), 29);
}

#[test]
fn concurrent_backups_into_one_repository() {
    let t = tempfile::tempdir().unwrap();
    let rdir = t.path().join("repo");
    init_repo(&rdir);
    let handles: Vec<_> = (0..3u64)
        .map(|i| {
            let rdir = rdir.clone();
            let src = t.path().join(format!("src{i}"));
            fs::create_dir_all(&src).unwrap();
            fs::write(src.join("shared"), bytes(42, 300_000)).unwrap();
            fs::write(src.join("own"), bytes(i, 300_000)).unwrap();
            std::thread::spawn(move || {
                let repo = open_repo(&rdir);
                backup(&repo, &BackupOptions { paths: vec![src], ..Default::default() }, None, &NoProgress).unwrap()
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let repo = open_repo(&rdir);
    assert_eq!(repo.snapshots().unwrap().len(), 3);
    assert!(check(&repo, true).unwrap().ok());
    for r in results {
        let mut out = Vec::new();
        let p = std::path::PathBuf::from(&r.snapshot.snapshot.paths[0]).join("shared");
        hostwerk_backup::dump(&repo, &r.snapshot.snapshot.tree, &p, &mut out).unwrap();
        assert_eq!(out, bytes(42, 300_000));
    }
    // Prune removes duplicate copies of "shared" and everything still restores.
    prune(&repo, false).unwrap();
    assert!(check(&open_repo(&rdir), true).unwrap().ok());
}

#[test]
fn prune_waits_for_or_refuses_a_running_backup() {
    let t = tempfile::tempdir().unwrap();
    let rdir = t.path().join("repo");
    let repo = init_repo(&rdir);
    let held = hostwerk_backup::lock::Lock::shared(&repo, std::time::Duration::ZERO).unwrap();
    let e = hostwerk_backup::lock::Lock::exclusive(&repo, std::time::Duration::from_millis(300)).unwrap_err();
    assert!(matches!(e, hostwerk_backup::Error::Locked(_)), "{e}");
    drop(held);
    let ex = hostwerk_backup::lock::Lock::exclusive(&repo, std::time::Duration::ZERO).unwrap();
    assert!(hostwerk_backup::lock::Lock::shared(&repo, std::time::Duration::from_millis(300)).is_err());
    drop(ex);
}
