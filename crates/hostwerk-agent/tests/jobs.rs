//! Backup and restore jobs against a real local repository, real files and a real MariaDB server.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hostwerk_agent::jobs::{
    dump_command, restore_database, run_backup, run_restore, DbClient, Faults, JobError, RestoreSpec, RestoreTarget,
    SnapshotPart, SourceSpec,
};
use hostwerk_backup::{InitOptions, LocalBackend, Repository};
use proptest::prelude::*;

fn init_repo(dir: &Path) -> Repository {
    Repository::init(Arc::new(LocalBackend::new(dir.join("repo"))), b"pw", InitOptions::default()).unwrap()
}

/// A webspace and a mail folder below `base`.
struct Site {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    web: PathBuf,
    mail: PathBuf,
}

fn site() -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().to_path_buf();
    let web = base.join("www/k1");
    let mail = base.join("mail/k1/Maildir");
    fs::create_dir_all(web.join("htdocs/sub")).unwrap();
    fs::create_dir_all(web.join("logs")).unwrap();
    fs::write(web.join("htdocs/index.php"), "<?php echo 1; ?>").unwrap();
    fs::write(web.join("htdocs/a.txt"), "alpha").unwrap();
    fs::write(web.join("htdocs/sub/b.txt"), "beta").unwrap();
    fs::set_permissions(web.join("htdocs/sub/b.txt"), fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("a.txt", web.join("htdocs/link.txt")).unwrap();
    fs::write(web.join("logs/access.log"), "GET /\n").unwrap();
    fs::create_dir_all(mail.join("cur")).unwrap();
    fs::create_dir_all(mail.join("new")).unwrap();
    fs::write(mail.join("cur/1.eml"), "Subject: hi\n\nhello\n").unwrap();
    Site { _tmp: tmp, base, web, mail }
}

fn source(paths: Vec<PathBuf>, databases: Vec<String>, db: DbClient) -> SourceSpec {
    SourceSpec {
        host: "web1".into(),
        tags: vec!["contract:12".into(), "job:345".into(), "kind:nightly".into()],
        paths,
        excludes: vec![],
        databases,
        db,
    }
}

fn files_backup(repo: &Repository, s: &Site) -> String {
    let out = run_backup(repo, &source(vec![s.web.clone(), s.mail.clone()], vec![], DbClient::default())).unwrap();
    assert_eq!(out.snapshots.len(), 1);
    out.snapshots[0].id.clone()
}

fn restore_spec(snapshot: &str, paths: Vec<PathBuf>, root: &Path, target: RestoreTarget) -> RestoreSpec {
    RestoreSpec {
        snapshot: snapshot.into(),
        paths: paths.clone(),
        allowed_root: root.to_path_buf(),
        target,
        owner: None,
        safety: SourceSpec {
            host: "web1".into(),
            tags: vec!["contract:12".into(), "job:346".into()],
            paths,
            excludes: vec![],
            databases: vec![],
            db: DbClient::default(),
        },
        faults: Faults::default(),
    }
}

/// Everything that matters of a tree: content, mode, owner, symlink targets (work folders left out).
fn state(root: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let mut names: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        for n in names {
            let p = dir.join(&n);
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let m = fs::symlink_metadata(&p).unwrap();
            let owner = format!("{:o} {}:{}", m.mode(), m.uid(), m.gid());
            if m.file_type().is_symlink() {
                out.insert(rel, format!("link {} {owner}", fs::read_link(&p).unwrap().display()));
            } else if m.is_dir() {
                out.insert(rel, format!("dir {owner}"));
                walk(root, &p, out);
            } else {
                out.insert(rel, format!("file {:?} {owner}", fs::read(&p).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn no_work_folders(root: &Path) {
    for e in fs::read_dir(root).unwrap() {
        let n = e.unwrap().file_name();
        assert!(!n.to_string_lossy().starts_with(".hostwerk-"), "left over: {n:?}");
    }
}

fn safety_snapshots(repo: &Repository) -> Vec<hostwerk_backup::SnapshotInfo> {
    repo.snapshots().unwrap().into_iter().filter(|s| s.snapshot.has_tag("kind:safety")).collect()
}

// ---------------------------------------------------------------- MariaDB

fn db_client() -> DbClient {
    DbClient { args: vec!["--host=127.0.0.1".into(), "--user=root".into()], ..DbClient::default() }
}

/// The server, or `None` (with the reason printed) when it is not reachable outside CI.
fn mariadb() -> Option<DbClient> {
    let db = db_client();
    let ok = Command::new(&db.client_command)
        .args(&db.args)
        .args(["-e", "SELECT 1"])
        .output()
        .map(|o| o.status.success().then_some(()).ok_or(String::from_utf8_lossy(&o.stderr).into_owned()))
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    match ok {
        Ok(()) => Some(db),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => panic!("MariaDB not reachable in CI: {e}"),
        Err(e) => {
            eprintln!("skipped: MariaDB on 127.0.0.1:3306 not reachable: {e}");
            None
        }
    }
}

fn sql(db: &DbClient, q: &str) -> String {
    let o = Command::new(&db.client_command)
        .args(&db.args)
        .args(["--batch", "--skip-column-names", "-e", q])
        .output()
        .unwrap();
    assert!(o.status.success(), "{q}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// A fresh database `hwtest_<pid>_<n>` with a table of rows, dropped again on drop.
struct TestDb {
    db: DbClient,
    name: String,
}

impl TestDb {
    fn new(db: &DbClient) -> TestDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("hwtest_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        sql(db, &format!("DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"));
        sql(
            db,
            &format!(
                "CREATE TABLE {name}.posts (id INT PRIMARY KEY, title VARCHAR(100), body BLOB) ENGINE=InnoDB;
                 INSERT INTO {name}.posts VALUES (1, 'Hallo Welt', x'00ff10'), (2, 'Zweiter ''Beitrag''', NULL);"
            ),
        );
        TestDb { db: db.clone(), name }
    }

    fn rows(&self) -> String {
        sql(&self.db, &format!("SELECT id, title, HEX(body) FROM {}.posts ORDER BY id", self.name))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = Command::new(&self.db.client_command)
            .args(&self.db.args)
            .args(["-e", &format!("DROP DATABASE IF EXISTS {}", self.name)])
            .status();
    }
}

#[test]
fn backup_takes_a_files_and_a_database_snapshot_all_tagged_and_a_missing_mail_folder_only_warns() {
    let Some(db) = mariadb() else { return };
    let s = site();
    let repo = init_repo(&s.base);
    let t = TestDb::new(&db);
    let missing = s.base.join("mail/k2/Maildir");
    let out =
        run_backup(&repo, &source(vec![s.web.clone(), s.mail.clone(), missing.clone()], vec![t.name.clone()], db))
            .unwrap();
    assert_eq!(out.snapshots.len(), 2);
    assert_eq!(out.snapshots[0].part, SnapshotPart::Files);
    assert_eq!(out.snapshots[1].part, SnapshotPart::Database(t.name.clone()));
    assert_eq!(out.snapshots[0].total_files, 5); // 4 in the webspace, 1 mail; the symlink is no file
    assert_eq!(out.snapshots[1].total_files, 1);
    assert!(out.snapshots[1].total_bytes > 100);
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(out.warnings[0].contains(&missing.display().to_string()));
    let all = repo.snapshots().unwrap();
    assert_eq!(all.len(), 2);
    for snap in &all {
        for tag in ["contract:12", "job:345", "kind:nightly"] {
            assert!(snap.snapshot.has_tag(tag), "{tag} missing on {}", snap.id);
        }
        assert_eq!(snap.snapshot.hostname, "web1");
        assert!(out.snapshots.iter().any(|t| t.id == snap.id.to_hex()));
    }
    let dbsnap = all.iter().find(|s| s.id.to_hex() == out.snapshots[1].id).unwrap();
    assert!(dbsnap.snapshot.has_tag(&format!("db:{}", t.name)));
    assert_eq!(dbsnap.snapshot.paths, [format!("/{}.sql", t.name)]);
    let mut dumped = Vec::new();
    hostwerk_backup::dump(&repo, &dbsnap.snapshot.tree, Path::new(&format!("/{}.sql", t.name)), &mut dumped).unwrap();
    let dumped = String::from_utf8_lossy(&dumped);
    assert!(dumped.contains(&format!("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{}`", t.name)), "{dumped}");
    assert!(dumped.contains("Hallo Welt"));
    let files = all.iter().find(|s| s.id.to_hex() == out.snapshots[0].id).unwrap();
    // The engine stores the source paths sorted.
    assert_eq!(files.snapshot.paths, [s.mail.display().to_string(), s.web.display().to_string()]);
}

#[test]
fn a_failing_dump_leaves_no_snapshot_and_names_the_database() {
    let Some(db) = mariadb() else { return };
    let s = site();
    let repo = init_repo(&s.base);
    let name = format!("hwtest_{}_missing", std::process::id());
    let err = run_backup(&repo, &source(vec![], vec![name.clone()], db.clone())).unwrap_err();
    assert!(matches!(err, JobError::Command { .. }), "{err}");
    assert!(err.to_string().contains(&name), "{err}");
    assert!(repo.snapshots().unwrap().is_empty());
    // With files as well: the files snapshot is kept and reported.
    let err = run_backup(&repo, &source(vec![s.web.clone()], vec![name], db)).unwrap_err();
    let JobError::Incomplete { taken, failures } = &err else { panic!("{err}") };
    assert_eq!((taken.len(), failures.len()), (1, 1));
    assert_eq!(repo.snapshots().unwrap().len(), 1);
}

#[test]
fn restore_database_brings_the_rows_back_after_a_safety_dump_with_single_transaction() {
    let Some(db) = mariadb() else { return };
    let s = site();
    let repo = init_repo(&s.base);
    let t = TestDb::new(&db);
    // A wrapper that records the argv of every dump, then runs the real one.
    let log = s.base.join("dump-argv.log");
    let wrapper = s.base.join("dump.sh");
    fs::write(&wrapper, format!("#!/bin/sh\necho \"$@\" >> {}\nexec mariadb-dump \"$@\"\n", log.display())).unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    let db = DbClient { dump_command: wrapper, ..db };
    let before = t.rows();
    let out = run_backup(&repo, &source(vec![], vec![t.name.clone()], db.clone())).unwrap();
    let snap = out.snapshots[0].id.clone();

    sql(&db, &format!("UPDATE {0}.posts SET title = 'kaputt'; DELETE FROM {0}.posts WHERE id = 2;", t.name));
    sql(&db, &format!("CREATE TABLE {}.added (x INT)", t.name));
    assert_ne!(t.rows(), before);
    let safety = source(vec![], vec![], DbClient::default());
    let r = restore_database(&repo, &snap[..12], &t.name, &db, &safety).unwrap();
    assert_eq!(t.rows(), before);
    // Exactly the backed-up state: the table created afterwards is gone.
    let tables = sql(&db, &format!("SHOW TABLES FROM {}", t.name));
    assert_eq!(tables.trim(), "posts");
    assert!(r.bytes > 100);

    // The safety snapshot holds the changed state.
    let safety_id = r.safety_snapshot.unwrap();
    let safeties = safety_snapshots(&repo);
    assert_eq!(safeties.len(), 1);
    assert_eq!(safeties[0].id.to_hex(), safety_id);
    assert!(safeties[0].snapshot.has_tag(&format!("db:{}", t.name)));
    let mut dumped = Vec::new();
    hostwerk_backup::dump(&repo, &safeties[0].snapshot.tree, Path::new(&format!("/{}.sql", t.name)), &mut dumped)
        .unwrap();
    assert!(String::from_utf8_lossy(&dumped).contains("kaputt"));

    // Both dumps ran with --single-transaction (and the rest of the options), connection arguments first.
    let argv = fs::read_to_string(&log).unwrap();
    let lines: Vec<_> = argv.lines().collect();
    assert_eq!(lines.len(), 2, "{argv}");
    let expected = format!(
        "--host=127.0.0.1 --user=root --single-transaction --quick --routines --triggers --events --databases {}",
        t.name
    );
    assert!(lines.iter().all(|l| *l == expected), "{argv}");
    let cmd = dump_command(&db, &t.name);
    assert!(cmd.get_args().any(|a| a == "--single-transaction"));

    // A files snapshot is refused as a database source; a dropped database is recreated by the dump.
    let files = files_backup(&repo, &s);
    assert!(matches!(restore_database(&repo, &files, &t.name, &db, &safety), Err(JobError::WrongSnapshot { .. })));
    sql(&db, &format!("DROP DATABASE {}", t.name));
    let r = restore_database(&repo, &snap, &t.name, &db, &safety).unwrap();
    assert_eq!(r.safety_snapshot, None);
    assert_eq!(t.rows(), before);
}

// ---------------------------------------------------------------- files

#[test]
fn a_deleted_file_is_restored_into_a_folder_with_its_layout_below_the_root() {
    let s = site();
    let repo = init_repo(&s.base);
    let snap = files_backup(&repo, &s);
    fs::remove_file(s.web.join("htdocs/a.txt")).unwrap();
    let before = state(&s.web);
    let target = s.web.join("restore-2026-11-26");
    let out = run_restore(
        &repo,
        &restore_spec(&snap, vec![s.web.join("htdocs/a.txt")], &s.web, RestoreTarget::Folder(target.clone())),
    )
    .unwrap();
    assert_eq!((out.files, out.bytes), (1, 5));
    assert_eq!(out.target, target);
    assert_eq!(fs::read_to_string(target.join("htdocs/a.txt")).unwrap(), "alpha");
    let restored = state(&target);
    assert_eq!(restored.keys().cloned().collect::<Vec<_>>(), [PathBuf::from("htdocs"), PathBuf::from("htdocs/a.txt")]);
    // Nothing else changed; no work folder is left; no safety snapshot for a folder restore.
    let mut after = state(&s.web);
    after.retain(|k, _| !k.starts_with("restore-2026-11-26"));
    assert_eq!(after, before);
    no_work_folders(&s.web);
    assert!(safety_snapshots(&repo).is_empty());

    // An existing empty folder is fine (nested target, created with its parents); a non-empty one is refused.
    let nested = s.web.join("restores/one");
    run_restore(&repo, &restore_spec(&snap, vec![s.web.clone()], &s.web, RestoreTarget::Folder(nested.clone())))
        .unwrap();
    assert_eq!(fs::read_to_string(nested.join("htdocs/sub/b.txt")).unwrap(), "beta");
    let err = run_restore(&repo, &restore_spec(&snap, vec![s.web.clone()], &s.web, RestoreTarget::Folder(nested)))
        .unwrap_err();
    assert!(matches!(err, JobError::TargetNotEmpty { .. }), "{err}");
    let empty = s.web.join("empty");
    fs::create_dir(&empty).unwrap();
    run_restore(&repo, &restore_spec(&snap, vec![s.web.join("logs")], &s.web, RestoreTarget::Folder(empty.clone())))
        .unwrap();
    assert_eq!(fs::read_to_string(empty.join("logs/access.log")).unwrap(), "GET /\n");
    no_work_folders(&s.web);
}

#[test]
fn a_deleted_file_is_restored_in_place_after_a_safety_snapshot() {
    let s = site();
    let repo = init_repo(&s.base);
    let snap = files_backup(&repo, &s);
    let expected = state(&s.web);
    fs::remove_file(s.web.join("htdocs/sub/b.txt")).unwrap();
    fs::remove_dir(s.web.join("htdocs/sub")).unwrap();
    let out =
        run_restore(&repo, &restore_spec(&snap, vec![s.web.join("htdocs/sub/b.txt")], &s.web, RestoreTarget::InPlace))
            .unwrap();
    assert_eq!(out.files, 1);
    assert_eq!(out.target, s.web);
    // The missing folder on the way came back with its mode; nothing existed, so nothing needed a safety copy.
    assert_eq!(state(&s.web).get(Path::new("htdocs/sub/b.txt")), expected.get(Path::new("htdocs/sub/b.txt")));
    assert_eq!(state(&s.web).get(Path::new("htdocs/sub")).map(|s| &s[..9]), Some("dir 40755"));
    assert_eq!(out.safety_snapshot, None);
    no_work_folders(&s.web);

    // A changed file is restored over, with a safety snapshot of the changed state.
    fs::write(s.web.join("htdocs/a.txt"), "changed").unwrap();
    let out =
        run_restore(&repo, &restore_spec(&snap, vec![s.web.join("htdocs/a.txt")], &s.web, RestoreTarget::InPlace))
            .unwrap();
    assert_eq!(fs::read_to_string(s.web.join("htdocs/a.txt")).unwrap(), "alpha");
    let safety = safety_snapshots(&repo);
    assert_eq!(safety.len(), 1);
    assert_eq!(Some(safety[0].id.to_hex()), out.safety_snapshot);
    assert!(safety[0].snapshot.has_tag("job:346") && safety[0].snapshot.has_tag("contract:12"));
    assert_eq!(safety[0].snapshot.paths, [s.web.join("htdocs/a.txt").display().to_string()]);
    let mut kept = Vec::new();
    hostwerk_backup::dump(&repo, &safety[0].snapshot.tree, &s.web.join("htdocs/a.txt"), &mut kept).unwrap();
    assert_eq!(kept, b"changed");
}

#[test]
fn a_folder_restored_in_place_replaces_the_folder() {
    let s = site();
    let repo = init_repo(&s.base);
    let snap = files_backup(&repo, &s);
    let expected = state(&s.web);
    fs::write(s.web.join("htdocs/index.php"), "defaced").unwrap();
    fs::write(s.web.join("htdocs/sub/new.php"), "<?php evil(); ?>").unwrap();
    fs::remove_file(s.web.join("htdocs/link.txt")).unwrap();
    fs::write(s.web.join("logs/access.log"), "GET /\nGET /x\n").unwrap();
    run_restore(&repo, &restore_spec(&snap, vec![s.web.join("htdocs")], &s.web, RestoreTarget::InPlace)).unwrap();
    let mut now = state(&s.web);
    // logs were not chosen: untouched.
    assert_eq!(fs::read_to_string(s.web.join("logs/access.log")).unwrap(), "GET /\nGET /x\n");
    now.remove(Path::new("logs/access.log"));
    let mut exp = expected.clone();
    exp.remove(Path::new("logs/access.log"));
    assert_eq!(now, exp);
    assert!(!s.web.join("htdocs/sub/new.php").exists());
    no_work_folders(&s.web);
}

#[test]
fn the_whole_webspace_restored_in_place_equals_the_backup() {
    let s = site();
    let repo = init_repo(&s.base);
    let snap = files_backup(&repo, &s);
    let expected = state(&s.web);
    fs::remove_dir_all(s.web.join("htdocs")).unwrap();
    fs::write(s.web.join("logs/access.log"), "changed").unwrap();
    fs::create_dir(s.web.join("tmp")).unwrap();
    fs::write(s.web.join("tmp/cache"), "x").unwrap();
    fs::write(s.web.join(".htaccess"), "Deny from all").unwrap();
    let out = run_restore(&repo, &restore_spec(&snap, vec![s.web.clone()], &s.web, RestoreTarget::InPlace)).unwrap();
    assert_eq!(out.files, 4);
    assert_eq!(state(&s.web), expected);
    no_work_folders(&s.web);
    // The safety snapshot has every entry that was replaced or removed.
    let safety = &safety_snapshots(&repo)[0];
    let mut paths = safety.snapshot.paths.clone();
    paths.sort();
    let mut want: Vec<_> = [".htaccess", "logs", "tmp"].iter().map(|n| s.web.join(n).display().to_string()).collect();
    want.sort();
    assert_eq!(paths, want);
    // The mail folder, backed up in the same snapshot, is its own root.
    fs::remove_file(s.mail.join("cur/1.eml")).unwrap();
    run_restore(&repo, &restore_spec(&snap, vec![s.mail.clone()], &s.mail, RestoreTarget::InPlace)).unwrap();
    assert_eq!(fs::read_to_string(s.mail.join("cur/1.eml")).unwrap(), "Subject: hi\n\nhello\n");
}

#[test]
fn the_contracts_owner_is_given_to_everything_restored() {
    let s = site();
    let repo = init_repo(&s.base);
    let snap = files_backup(&repo, &s);
    let nobody = (65534, 65534);
    let mut spec = restore_spec(&snap, vec![s.web.join("htdocs")], &s.web, RestoreTarget::InPlace);
    spec.owner = Some(nobody);
    run_restore(&repo, &spec).unwrap();
    let mut spec =
        restore_spec(&snap, vec![s.web.join("htdocs/sub")], &s.web, RestoreTarget::Folder(s.web.join("r/1")));
    spec.owner = Some(nobody);
    run_restore(&repo, &spec).unwrap();
    for top in [s.web.join("htdocs"), s.web.join("r")] {
        let mut n = 0;
        let mut check = |p: &Path| {
            let m = fs::symlink_metadata(p).unwrap();
            assert_eq!((m.uid(), m.gid()), nobody, "{}", p.display());
            n += 1;
        };
        fn walk(p: &Path, f: &mut dyn FnMut(&Path)) {
            f(p);
            if fs::symlink_metadata(p).unwrap().is_dir() {
                for e in fs::read_dir(p).unwrap() {
                    walk(&e.unwrap().path(), f);
                }
            }
        }
        walk(&top, &mut check);
        assert!(n >= 4);
    }
    // Not chosen: still root's.
    assert_eq!(fs::symlink_metadata(s.web.join("logs/access.log")).unwrap().uid(), 0);
}

#[test]
fn paths_outside_the_allowed_root_dot_dot_tricks_and_symlinks_are_refused() {
    let s = site();
    let repo = init_repo(&s.base);
    let snap = files_backup(&repo, &s);
    let refused = |paths: Vec<PathBuf>, target: RestoreTarget| {
        run_restore(&repo, &restore_spec(&snap, paths, &s.web, target)).unwrap_err()
    };
    let outside = [
        s.mail.join("cur/1.eml"),
        s.web.join("../k1-other/htdocs"),
        s.web.join("htdocs/../../k2"),
        s.web.join(".."),
        PathBuf::from("/etc/passwd"),
    ];
    for p in outside {
        for t in [RestoreTarget::InPlace, RestoreTarget::Folder(s.web.join("r"))] {
            let e = refused(vec![p.clone()], t);
            assert!(matches!(e, JobError::OutsideRoot { .. }), "{}: {e}", p.display());
        }
    }
    for t in [s.web.join("../r"), s.base.join("r"), s.web.join("x/../../r"), PathBuf::from("/tmp/r")] {
        let e = refused(vec![s.web.join("htdocs")], RestoreTarget::Folder(t.clone()));
        assert!(matches!(e, JobError::OutsideRoot { .. }), "{}: {e}", t.display());
    }
    assert!(matches!(refused(vec!["htdocs".into()], RestoreTarget::InPlace), JobError::Invalid(_)));
    assert!(matches!(refused(vec![s.web.join("htdocs/nope")], RestoreTarget::InPlace), JobError::NotInSnapshot { .. }));
    // `..` that stays inside is fine.
    run_restore(&repo, &restore_spec(&snap, vec![s.web.join("logs/../htdocs/a.txt")], &s.web, RestoreTarget::InPlace))
        .unwrap();

    // A folder on the way replaced by a symlink out of the webspace.
    let outside_dir = s.base.join("elsewhere");
    fs::create_dir_all(outside_dir.join("sub")).unwrap();
    fs::write(outside_dir.join("sub/b.txt"), "outside").unwrap();
    fs::remove_dir_all(s.web.join("htdocs")).unwrap();
    std::os::unix::fs::symlink(&outside_dir, s.web.join("htdocs")).unwrap();
    let e = refused(vec![s.web.join("htdocs/sub/b.txt")], RestoreTarget::InPlace);
    assert!(matches!(e, JobError::UnsafePath { .. }), "{e}");
    let e = refused(vec![s.web.join("logs")], RestoreTarget::Folder(s.web.join("htdocs/r")));
    assert!(matches!(e, JobError::UnsafePath { .. }), "{e}");
    let e = refused(vec![s.web.join("logs")], RestoreTarget::Folder(s.web.join("htdocs")));
    assert!(matches!(e, JobError::TargetNotEmpty { .. }), "{e}");
    assert_eq!(fs::read_to_string(outside_dir.join("sub/b.txt")).unwrap(), "outside");
    assert!(!outside_dir.join("r").exists());
    assert!(safety_snapshots(&repo).len() <= 1);
    no_work_folders(&s.web);
}

#[test]
fn an_injected_failure_midway_rolls_back_to_a_byte_identical_webspace() {
    for fail_undo in [false, true] {
        let s = site();
        let repo = init_repo(&s.base);
        let snap = files_backup(&repo, &s);
        fs::write(s.web.join("htdocs/index.php"), "new version").unwrap();
        fs::write(s.web.join("htdocs/extra.php"), "extra").unwrap();
        fs::set_permissions(s.web.join("htdocs/a.txt"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::write(s.web.join("logs/access.log"), "more log").unwrap();
        let before = state(&s.web);
        let mut spec =
            restore_spec(&snap, vec![s.web.join("htdocs"), s.web.join("logs")], &s.web, RestoreTarget::InPlace);
        spec.faults = Faults { fail_after_swaps: Some(1), fail_undo };
        let err = run_restore(&repo, &spec).unwrap_err();
        assert!(err.rolled_back(), "{err}");
        let JobError::RolledBack { source, from_safety_snapshot, .. } = &err else { panic!("{err}") };
        assert!(matches!(**source, JobError::Injected(1)), "{source}");
        assert_eq!(*from_safety_snapshot, fail_undo);
        assert!(err.to_string().contains("rolled back, everything is as before"), "{err}");
        assert_eq!(state(&s.web), before, "fail_undo={fail_undo}");
        no_work_folders(&s.web);
        let safety = safety_snapshots(&repo);
        assert_eq!(safety.len(), 1);
        assert_eq!(err.safety_snapshot(), Some(safety[0].id.to_hex().as_str()));
    }
}

// ---------------------------------------------------------------- property

fn arb_tree() -> impl Strategy<Value = Vec<(String, Option<Vec<u8>>, u32)>> {
    // (relative path, content or None for a folder, mode)
    let name = "[a-z]{1,3}";
    let path = prop::collection::vec(name, 1..4).prop_map(|v| v.join("/"));
    let entry = (
        path,
        prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..300)),
        prop::sample::select(vec![0o600u32, 0o644, 0o755]),
    );
    prop::collection::vec(entry, 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn backup_then_restore_into_a_folder_reproduces_the_tree(entries in arb_tree()) {
        let tmp = tempfile::tempdir().unwrap();
        let web = tmp.path().join("www/k9");
        fs::create_dir_all(&web).unwrap();
        for (rel, content, mode) in &entries {
            let p = web.join(rel);
            // Skip entries that collide with an earlier file on the way.
            if p.ancestors().skip(1).any(|a| a.is_file()) || p.exists() {
                continue;
            }
            match content {
                Some(c) => {
                    fs::create_dir_all(p.parent().unwrap()).unwrap();
                    fs::write(&p, c).unwrap();
                    fs::set_permissions(&p, fs::Permissions::from_mode(*mode)).unwrap();
                }
                None => fs::create_dir_all(&p).unwrap(),
            }
        }
        let repo = init_repo(tmp.path());
        let out = run_backup(&repo, &source(vec![web.clone()], vec![], DbClient::default())).unwrap();
        let source_state = state(&web);
        let target = web.join("restore");
        run_restore(&repo, &restore_spec(&out.snapshots[0].id, vec![web.clone()], &web, RestoreTarget::Folder(target.clone()))).unwrap();
        let mut restored = state(&target);
        let mut src = source_state;
        src.retain(|k, _| !k.starts_with("restore"));
        restored.retain(|k, _| !k.starts_with("restore"));
        prop_assert_eq!(restored, src);
    }
}
