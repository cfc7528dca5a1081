//! `check --read-data` finds every flipped or truncated byte; wrong passwords and missing repos are clear errors.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::*;
use hostwerk_backup::{backup, check, BackupOptions, Error, LocalBackend, NoProgress, Repository};

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_flipped_or_truncated_byte_is_detected() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir_all(&src).unwrap();
    for i in 0..5 {
        fs::write(src.join(format!("f{i}")), bytes(i, 2000 + i as usize * 100)).unwrap();
    }
    let rdir = t.path().join("repo");
    let repo = init_repo(&rdir);
    let o = BackupOptions { paths: vec![src.clone()], ..Default::default() };
    backup(&repo, &o, None, &NoProgress).unwrap();
    assert!(check(&repo, true).unwrap().ok());

    let mut targets = Vec::new();
    for sub in ["data", "index", "snapshots"] {
        targets.extend(files_under(&rdir.join(sub)));
    }
    assert!(targets.len() >= 3);
    let mut checked = 0;
    let r = open_repo(&rdir);
    r.index().unwrap();
    for f in targets {
        let orig = fs::read(&f).unwrap();
        // Every byte of small files; a spread of positions in larger ones.
        let step = (orig.len() / 150).max(1);
        for pos in (0..orig.len()).step_by(step).chain([orig.len() - 1]) {
            let mut bad = orig.clone();
            bad[pos] ^= 0x01;
            fs::write(&f, &bad).unwrap();
            let rep = check(&r, true).unwrap();
            assert!(!rep.ok(), "flip at {pos} of {} not detected", f.display());
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            assert!(rep.errors.iter().any(|e| e.contains(&name)), "error does not name {name}: {:?}", rep.errors);
            checked += 1;
        }
        for cut in [0, 1, orig.len() / 2, orig.len() - 1] {
            fs::write(&f, &orig[..cut]).unwrap();
            assert!(!check(&r, true).unwrap().ok(), "truncation to {cut} of {} not detected", f.display());
        }
        fs::write(&f, &orig).unwrap();
    }
    assert!(checked > 100);
    assert!(check(&open_repo(&rdir), true).unwrap().ok());
}

#[test]
fn wrong_password_and_missing_repo() {
    let t = tempfile::tempdir().unwrap();
    let rdir = t.path().join("repo");
    init_repo(&rdir);
    let e = Repository::open(Arc::new(LocalBackend::new(&rdir)), b"nope").unwrap_err();
    assert!(matches!(e, Error::WrongPassword), "{e}");
    let e = Repository::open(Arc::new(LocalBackend::new(t.path().join("none"))), PASSWORD).unwrap_err();
    assert!(matches!(e, Error::RepoNotFound(_)), "{e}");
    assert!(e.to_string().contains("none"));
    let e = Repository::init(Arc::new(LocalBackend::new(&rdir)), PASSWORD, Default::default()).unwrap_err();
    assert!(matches!(e, Error::RepoExists(_)));
}

#[test]
fn corrupt_blob_names_the_object_on_restore() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("f"), bytes(1, 5000)).unwrap();
    let rdir = t.path().join("repo");
    let repo = init_repo(&rdir);
    let r =
        backup(&repo, &BackupOptions { paths: vec![src.clone()], ..Default::default() }, None, &NoProgress).unwrap();
    // Flip a byte in the middle of the first data blob (offset 8 + some).
    let repo = open_repo(&rdir);
    let idx = repo.index().unwrap();
    let (id, loc) = idx.blobs.iter().find(|(_, l)| l.kind == hostwerk_backup::blob::BlobType::Data).unwrap();
    let pack = idx.pack_id(loc.pack).to_hex();
    let path = rdir.join("data").join(&pack[..2]).join(&pack);
    let mut b = fs::read(&path).unwrap();
    b[loc.offset as usize + 30] ^= 0xff;
    fs::write(&path, b).unwrap();
    let e = hostwerk_backup::restore(
        &repo,
        &r.snapshot.snapshot.tree,
        &hostwerk_backup::RestoreOptions { target: t.path().join("out"), ..Default::default() },
        &NoProgress,
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(&id.to_hex()) && msg.contains(&pack), "{msg}");
}
