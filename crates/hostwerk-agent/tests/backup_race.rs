//! The swap race of issue 17, item 1, against the real backup job ([`run_backup`]) as root.
//!
//! A webspace owned by `nobody` holds 48 large files interleaved with small `fNNN_t` files. While backups run,
//! a thread replaces every `_t` file with a symbolic link to a secret (and back again) in a tight loop. The
//! backup runs as root, so a backup that opens an entry by path (following the link) reads the secret into
//! the contract's snapshot. Every blob of every snapshot is read back and searched for the secrets' bytes.
//!
//! Two secrets: `secret_a` is root's, mode 0600 (the permission check of the job alone would keep it out);
//! `private/secret_b` is mode 0644 in a root-only folder (0700): its own mode bits let anybody read it, so
//! only opening every entry relative to its folder without following symbolic links keeps it out.
//!
//! Also: a root-only file and a hard link to one inside the webspace are not backed up (the job reads as the
//! webspace's owner), nor kept by the safety snapshot of an in-place restore.
//!
//! Needs root (to chown the webspace to `nobody` and to be the privileged reader); as another user each test
//! prints "skipped: needs root" and passes, except with `CI=true`, where it fails.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hostwerk_agent::jobs::{run_backup, run_restore, DbClient, RestoreSpec, RestoreTarget, SourceSpec};
use hostwerk_backup::tree::NodeKind;
use hostwerk_backup::{Id, InitOptions, LocalBackend, Repository};

const LARGE_FILES: usize = 48;
const BACKUPS: usize = 20;
const NOBODY: (u32, u32) = (65534, 65534);

fn is_root() -> bool {
    if rustix::process::geteuid().is_root() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("the backup race test needs root in CI");
    }
    eprintln!("skipped: needs root");
    false
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    fs::File::open("/dev/urandom").unwrap().read_exact(&mut out).unwrap();
    out
}

/// A secret: a recognizable random marker, repeated (small enough to be one blob).
fn secret(tag: &str) -> Vec<u8> {
    let marker: String = random_bytes(16).iter().map(|b| format!("{b:02x}")).collect();
    format!("SECRET-{tag}-{marker}\n").repeat(20).into_bytes()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let first = needle[0];
    let mut i = 0;
    while let Some(pos) = hay[i..].iter().position(|b| *b == first) {
        let at = i + pos;
        if hay.len() - at < needle.len() {
            return false;
        }
        if &hay[at..at + needle.len()] == needle {
            return true;
        }
        i = at + 1;
    }
    false
}

/// Which secrets a snapshot holds, and in how many of its file entries. Blobs already searched (by id) are not
/// read again: `seen` maps each to the secrets it holds.
fn secrets_in(
    repo: &Repository,
    snapshot: &str,
    secrets: &[&[u8]],
    seen: &mut std::collections::HashMap<Id, Vec<bool>>,
) -> Vec<usize> {
    let snap = repo.find_snapshot(snapshot).unwrap();
    let tree = repo.load_tree(&snap.snapshot.tree).unwrap();
    let mut files = Vec::new();
    hostwerk_backup::browse::walk(repo, &tree, Path::new("/"), &mut |_, n| {
        if n.kind == NodeKind::File {
            files.push(n.content.clone());
        }
    })
    .unwrap();
    let mut entries = vec![0; secrets.len()];
    for content in files {
        let mut held = vec![false; secrets.len()];
        for id in content {
            let found = seen.entry(id).or_insert_with(|| {
                let blob = repo.read_blob(&id).unwrap();
                secrets.iter().map(|s| contains(&blob, &s[..64])).collect()
            });
            for (h, f) in held.iter_mut().zip(found.iter()) {
                *h |= *f;
            }
        }
        for (e, h) in entries.iter_mut().zip(held) {
            *e += usize::from(h);
        }
    }
    entries
}

#[test]
fn swapping_files_for_symlinks_during_backups_never_puts_a_root_only_file_in_a_snapshot() {
    if !is_root() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
    let secret_a = base.join("secret_a");
    let secret_a_bytes = secret("A");
    fs::write(&secret_a, &secret_a_bytes).unwrap();
    fs::set_permissions(&secret_a, fs::Permissions::from_mode(0o600)).unwrap();
    let private = base.join("private");
    fs::create_dir(&private).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).unwrap();
    let secret_b = private.join("secret_b");
    let secret_b_bytes = secret("B");
    fs::write(&secret_b, &secret_b_bytes).unwrap();
    fs::set_permissions(&secret_b, fs::Permissions::from_mode(0o644)).unwrap();

    let www = base.join("www");
    let web = www.join("k1");
    fs::create_dir_all(&web).unwrap();
    let own = |p: &Path| std::os::unix::fs::chown(p, Some(NOBODY.0), Some(NOBODY.1)).unwrap();
    own(&web);
    let mut large = Vec::new();
    let mut small = Vec::new();
    for i in 0..LARGE_FILES {
        let p = web.join(format!("f{i:03}"));
        // 2 to 4 MiB of random data.
        let len = (2 << 20) + (usize::from(random_bytes(2)[0]) << 13);
        fs::write(&p, random_bytes(len)).unwrap();
        own(&p);
        large.push(p);
        let t = web.join(format!("f{i:03}_t"));
        fs::write(&t, format!("small file {i}\n")).unwrap();
        own(&t);
        small.push(t);
    }
    let repo = Repository::init(Arc::new(LocalBackend::new(base.join("repo"))), b"pw", InitOptions::default()).unwrap();

    // The attacker: swaps every `_t` for a link to a secret (alternating), then back to a file, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps, small) = (stop.clone(), swaps.clone(), small.clone());
        let targets = [secret_a.clone(), secret_b.clone()];
        std::thread::spawn(move || {
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) {
                for (i, t) in small.iter().enumerate() {
                    let link = t.with_extension("lnk");
                    let _ = fs::remove_file(&link);
                    std::os::unix::fs::symlink(&targets[(i + round) % 2], &link).unwrap();
                    fs::rename(&link, t).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_micros(200));
                for (i, t) in small.iter().enumerate() {
                    let back = t.with_extension("tmp");
                    fs::write(&back, format!("small file {i}\n")).unwrap();
                    fs::rename(&back, t).unwrap();
                }
                round += 1;
            }
        })
    };

    let spec = |job: usize| SourceSpec {
        host: "web1".into(),
        tags: vec!["contract:12".into(), format!("job:{job}")],
        paths: vec![web.clone()],
        excludes: vec!["*.lnk".into(), "*.tmp".into()],
        databases: vec![],
        db: DbClient::default(),
    };
    let mut leaked = 0;
    let mut leaked_entries = [0usize; 2];
    let mut changed_warnings = 0;
    let mut seen = std::collections::HashMap::new();
    let mut ids = HashSet::new();
    for job in 0..BACKUPS {
        // Every large file changed since the last backup: all of them are read again (the race window).
        let when = SystemTime::now() - Duration::from_secs(3600) + Duration::from_secs(job as u64);
        for p in &large {
            fs::File::options().write(true).open(p).unwrap().set_modified(when).unwrap();
        }
        let out = run_backup(&repo, &spec(job)).unwrap();
        let id = out.snapshots[0].id.clone();
        ids.insert(id.clone());
        changed_warnings += out.warnings.iter().filter(|w| w.contains("changed during backup")).count();
        let found = secrets_in(&repo, &id, &[&secret_a_bytes, &secret_b_bytes], &mut seen);
        if found.iter().any(|n| *n > 0) {
            leaked += 1;
        }
        leaked_entries[0] += found[0];
        leaked_entries[1] += found[1];
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let swaps = swaps.load(Ordering::Relaxed);
    assert_eq!(ids.len(), BACKUPS);
    println!(
        "backup race: {leaked} of {BACKUPS} snapshots leaked ({swaps} swaps); entries with secret_a (0600): {}, \
         with secret_b (0644 in a 0700 folder): {}; warnings 'changed during backup': {changed_warnings}",
        leaked_entries[0], leaked_entries[1]
    );
    assert!(swaps >= 200, "only {swaps} swaps");
    assert_eq!(leaked, 0, "{leaked} of {BACKUPS} snapshots hold a secret ({swaps} swaps)");
    // The secrets are where they were, untouched.
    assert_eq!(fs::read(&secret_a).unwrap(), secret_a_bytes);
    assert_eq!(fs::read(&secret_b).unwrap(), secret_b_bytes);
}

/// A webspace `www/k1` owned by `nobody` (files 0644, folders 0755) below a searchable temporary folder, and a
/// repository next to it.
struct Webspace {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    web: PathBuf,
    repo: Repository,
}

fn webspace() -> Webspace {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
    let web = base.join("www/k1");
    fs::create_dir_all(web.join("htdocs")).unwrap();
    fs::write(web.join("htdocs/index.php"), "<?php echo 1; ?>").unwrap();
    for p in [web.clone(), web.join("htdocs"), web.join("htdocs/index.php")] {
        std::os::unix::fs::chown(&p, Some(NOBODY.0), Some(NOBODY.1)).unwrap();
    }
    let repo = Repository::init(Arc::new(LocalBackend::new(base.join("repo"))), b"pw", InitOptions::default()).unwrap();
    Webspace { _tmp: tmp, base, web, repo }
}

fn files_spec(paths: Vec<PathBuf>) -> SourceSpec {
    SourceSpec {
        host: "web1".into(),
        tags: vec!["contract:12".into()],
        paths,
        excludes: vec![],
        databases: vec![],
        db: DbClient::default(),
    }
}

/// The paths of the files of a snapshot, and how many of them hold `secret`.
fn files_holding(repo: &Repository, snapshot: &str, secret: &[u8]) -> (Vec<PathBuf>, usize) {
    let mut seen = std::collections::HashMap::new();
    let snap = repo.find_snapshot(snapshot).unwrap();
    let tree = repo.load_tree(&snap.snapshot.tree).unwrap();
    let mut paths = Vec::new();
    hostwerk_backup::browse::walk(repo, &tree, Path::new("/"), &mut |p, n| {
        if n.kind == NodeKind::File {
            paths.push(p.to_path_buf());
        }
    })
    .unwrap();
    (paths, secrets_in(repo, snapshot, &[secret], &mut seen)[0])
}

#[test]
fn a_root_only_file_inside_the_webspace_is_not_backed_up_and_is_listed() {
    if !is_root() {
        return;
    }
    let w = webspace();
    let secret_bytes = secret("R");
    let closed = w.web.join("htdocs/root-only.txt");
    fs::write(&closed, &secret_bytes).unwrap();
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o600)).unwrap();
    // Readable by the owner through its group: taken.
    let group = w.web.join("htdocs/group.txt");
    fs::write(&group, "group").unwrap();
    std::os::unix::fs::chown(&group, Some(0), Some(NOBODY.1)).unwrap();
    fs::set_permissions(&group, fs::Permissions::from_mode(0o640)).unwrap();
    let out = run_backup(&w.repo, &files_spec(vec![w.web.clone()])).unwrap();
    let (files, holding) = files_holding(&w.repo, &out.snapshots[0].id, &secret_bytes);
    assert_eq!(holding, 0);
    assert!(!files.contains(&closed), "{files:?}");
    assert!(files.contains(&group) && files.contains(&w.web.join("htdocs/index.php")), "{files:?}");
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains(&closed.display().to_string())
            && out.warnings[0].contains("uid 65534 may not read it (mode 0600, owner 0:0)"),
        "{:?}",
        out.warnings
    );
    let snap = w.repo.find_snapshot(&out.snapshots[0].id).unwrap();
    assert_eq!(snap.snapshot.errors.len(), 1);
    assert_eq!(snap.snapshot.errors[0].path, closed.display().to_string());
    // The same folder opened up to the user: taken.
    fs::set_permissions(&closed, fs::Permissions::from_mode(0o604)).unwrap();
    let out = run_backup(&w.repo, &files_spec(vec![w.web.clone()])).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(files_holding(&w.repo, &out.snapshots[0].id, &secret_bytes).1, 1);
}

#[test]
fn a_hard_link_in_the_webspace_to_a_root_only_file_is_not_backed_up_nor_kept_by_a_safety_snapshot() {
    if !is_root() {
        return;
    }
    let w = webspace();
    let secret_bytes = secret("H");
    let shadow = w.base.join("shadow");
    fs::write(&shadow, &secret_bytes).unwrap();
    fs::set_permissions(&shadow, fs::Permissions::from_mode(0o600)).unwrap();
    let link = w.web.join("htdocs/innocent.txt");
    fs::hard_link(&shadow, &link).unwrap();
    let out = run_backup(&w.repo, &files_spec(vec![w.web.clone()])).unwrap();
    let (files, holding) = files_holding(&w.repo, &out.snapshots[0].id, &secret_bytes);
    assert_eq!(holding, 0, "{files:?}");
    assert!(!files.contains(&link), "{files:?}");
    assert!(out.warnings.iter().any(|w| w.contains(&link.display().to_string()) && w.contains("may not read")));

    // An in-place restore of htdocs takes a safety snapshot of it first: read as the webspace's owner too.
    let spec = RestoreSpec {
        snapshot: out.snapshots[0].id.clone(),
        paths: vec![w.web.join("htdocs")],
        allowed_root: w.web.clone(),
        target: RestoreTarget::InPlace,
        owner: Some(NOBODY),
        safety: files_spec(vec![]),
        faults: Default::default(),
    };
    let r = run_restore(&w.repo, &spec).unwrap();
    let safety = r.safety_snapshot.unwrap();
    let (files, holding) = files_holding(&w.repo, &safety, &secret_bytes);
    assert_eq!(holding, 0, "{files:?}");
    assert!(files.contains(&w.web.join("htdocs/index.php")), "{files:?}");
    let snap = w.repo.find_snapshot(&safety).unwrap();
    assert!(snap.snapshot.errors.iter().any(|e| e.path == link.display().to_string()), "{:?}", snap.snapshot.errors);
    assert_eq!(fs::read(&shadow).unwrap(), secret_bytes);
}
