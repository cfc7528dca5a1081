//! Entries changed between the walk and the open (issue 17, item 1): a test hook swaps them at exactly that
//! moment. Nothing here needs root: the "secret" is readable by the test's user, the point is that the backup
//! never follows a symbolic link (or another file swapped in) to it.

#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use hostwerk_backup::archiver::{ReadAs, Reader};
use hostwerk_backup::tree::NodeKind;
use hostwerk_backup::{backup, BackupOptions, NoProgress, Repository};

const SECRET: &[u8] = b"TOP-SECRET-7f3a9c1e-never-in-a-snapshot\n";

struct Setup {
    _t: tempfile::TempDir,
    base: PathBuf,
    src: PathBuf,
    secret_file: PathBuf,
    secret_dir: PathBuf,
    repo: Repository,
}

fn setup() -> Setup {
    let t = tempfile::tempdir().unwrap();
    let base = t.path().to_path_buf();
    let src = base.join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("a.txt"), "alpha").unwrap();
    fs::write(src.join("swap.txt"), "innocent").unwrap();
    fs::write(src.join("sub/x.txt"), "x").unwrap();
    fs::write(src.join("z.txt"), "zulu").unwrap();
    let secret_file = base.join("secret");
    fs::write(&secret_file, SECRET).unwrap();
    let secret_dir = base.join("secret-dir");
    fs::create_dir_all(secret_dir.join("deeper")).unwrap();
    fs::write(secret_dir.join("x.txt"), SECRET).unwrap();
    fs::write(secret_dir.join("deeper/y.txt"), SECRET).unwrap();
    let repo = init_repo(&base.join("repo"));
    Setup { _t: t, base, src, secret_file, secret_dir, repo }
}

/// Calls `swap` once, the first time the backup is about to open `at`.
fn hook_at(at: PathBuf, swap: impl Fn() + Send + Sync + 'static) -> Option<hostwerk_backup::archiver::BeforeOpen> {
    let done = Mutex::new(false);
    Some(Arc::new(move |p: &Path| {
        let mut d = done.lock().unwrap();
        if p == at && !*d {
            *d = true;
            swap();
        }
    }))
}

/// Every blob of every file of a snapshot, searched for the secret; also the paths of its files.
fn files_and_leaks(repo: &Repository, snap: &hostwerk_backup::SnapshotInfo) -> (Vec<PathBuf>, usize) {
    let tree = repo.load_tree(&snap.snapshot.tree).unwrap();
    let mut files = Vec::new();
    hostwerk_backup::browse::walk(repo, &tree, Path::new("/"), &mut |p, n| {
        if n.kind == NodeKind::File {
            files.push((p.to_path_buf(), n.content.clone()));
        }
    })
    .unwrap();
    let mut leaks = 0;
    for (_, content) in &files {
        let data: Vec<u8> = content.iter().flat_map(|id| repo.read_blob(id).unwrap()).collect();
        if data.windows(SECRET.len()).any(|w| w == SECRET) {
            leaks += 1;
        }
    }
    (files.into_iter().map(|(p, _)| p).collect(), leaks)
}

fn errors_for<'a>(snap: &'a hostwerk_backup::SnapshotInfo, path: &Path) -> Vec<&'a str> {
    let p = path.display().to_string();
    snap.snapshot.errors.iter().filter(|e| e.path == p).map(|e| e.message.as_str()).collect()
}

fn run(
    s: &Setup,
    paths: Vec<PathBuf>,
    hook: Option<hostwerk_backup::archiver::BeforeOpen>,
) -> hostwerk_backup::SnapshotInfo {
    let o = BackupOptions { paths, before_open: hook, force: true, ..Default::default() };
    backup(&s.repo, &o, None, &NoProgress).unwrap().snapshot
}

#[test]
fn a_file_swapped_for_a_symlink_before_the_open_is_listed_as_changed_and_never_read() {
    let s = setup();
    let (victim, secret) = (s.src.join("swap.txt"), s.secret_file.clone());
    let snap = run(
        &s,
        vec![s.src.clone()],
        hook_at(victim.clone(), move || {
            fs::remove_file(&victim).unwrap();
            std::os::unix::fs::symlink(&secret, &victim).unwrap();
        }),
    );
    let (files, leaks) = files_and_leaks(&s.repo, &snap);
    assert_eq!(leaks, 0, "the secret is in the snapshot");
    assert!(!files.contains(&s.src.join("swap.txt")), "{files:?}");
    for keep in ["a.txt", "sub/x.txt", "z.txt"] {
        assert!(files.contains(&s.src.join(keep)), "{keep} missing: {files:?}");
    }
    let errs = errors_for(&snap, &s.src.join("swap.txt"));
    assert_eq!(errs.len(), 1, "{:?}", snap.snapshot.errors);
    assert!(errs[0].contains("changed during backup") && errs[0].contains("symbolic link"), "{}", errs[0]);
    assert_eq!(snap.snapshot.errors.len(), 1, "{:?}", snap.snapshot.errors);

    // The next backup (the link in place since the walk) stores the link as a link, with its target.
    let snap = run(&s, vec![s.src.clone()], None);
    assert!(snap.snapshot.errors.is_empty(), "{:?}", snap.snapshot.errors);
    let (_, leaks) = files_and_leaks(&s.repo, &snap);
    assert_eq!(leaks, 0);
    let node =
        hostwerk_backup::browse::find_node(&s.repo, &snap.snapshot.tree, &s.src.join("swap.txt")).unwrap().unwrap();
    assert_eq!(node.kind, NodeKind::Symlink);
    assert_eq!(node.link_target.as_deref(), Some(s.secret_file.to_str().unwrap()));
}

#[test]
fn a_file_swapped_for_another_file_or_a_fifo_is_listed_as_changed() {
    // A hard link to the secret: no symbolic link anywhere, but not the file the walk saw (another inode).
    let s = setup();
    let (victim, secret) = (s.src.join("swap.txt"), s.secret_file.clone());
    let snap = run(
        &s,
        vec![s.src.clone()],
        hook_at(victim.clone(), move || {
            fs::remove_file(&victim).unwrap();
            fs::hard_link(&secret, &victim).unwrap();
        }),
    );
    assert_eq!(files_and_leaks(&s.repo, &snap).1, 0);
    let errs = errors_for(&snap, &s.src.join("swap.txt"));
    assert!(errs.len() == 1 && errs[0].contains("changed during backup (it is now another file)"), "{errs:?}");

    // A FIFO: refused without blocking the open.
    let victim = s.src.join("a.txt");
    let v = victim.clone();
    let snap = run(
        &s,
        vec![s.src.clone()],
        hook_at(victim.clone(), move || {
            fs::remove_file(&v).unwrap();
            rustix::fs::mknodat(rustix::fs::CWD, &v, rustix::fs::FileType::Fifo, rustix::fs::Mode::RUSR, 0).unwrap();
        }),
    );
    let errs = errors_for(&snap, &victim);
    assert!(errs.len() == 1 && errs[0].contains("changed during backup"), "{errs:?}");
}

#[test]
fn a_folder_swapped_for_a_symlink_before_the_walk_descends_is_listed_as_changed_and_never_walked() {
    let s = setup();
    let (victim, target, aside) = (s.src.join("sub"), s.secret_dir.clone(), s.base.join("sub-aside"));
    let snap = run(
        &s,
        vec![s.src.clone()],
        hook_at(victim.clone(), move || {
            fs::rename(&victim, &aside).unwrap();
            std::os::unix::fs::symlink(&target, &victim).unwrap();
        }),
    );
    let (files, leaks) = files_and_leaks(&s.repo, &snap);
    assert_eq!(leaks, 0, "{files:?}");
    assert!(!files.iter().any(|f| f.starts_with(s.src.join("sub"))), "{files:?}");
    assert!(files.contains(&s.src.join("swap.txt")));
    let errs = errors_for(&snap, &s.src.join("sub"));
    assert!(errs.len() == 1 && errs[0].contains("changed during backup"), "{:?}", snap.snapshot.errors);
    let found = hostwerk_backup::browse::find_node(&s.repo, &snap.snapshot.tree, &s.src.join("sub"));
    assert!(matches!(found, Ok(None) | Err(hostwerk_backup::Error::PathNotFound(_))), "{found:?}");

    // Swapped for another folder (a rename, no link): another inode, also refused.
    let s = setup();
    let (victim, target, aside) = (s.src.join("sub"), s.secret_dir.clone(), s.base.join("sub-aside"));
    let snap = run(
        &s,
        vec![s.src.clone()],
        hook_at(victim.clone(), move || {
            fs::rename(&victim, &aside).unwrap();
            fs::rename(&target, &victim).unwrap();
        }),
    );
    assert_eq!(files_and_leaks(&s.repo, &snap).1, 0);
    let errs = errors_for(&snap, &s.src.join("sub"));
    assert!(errs.len() == 1 && errs[0].contains("it is now another file"), "{:?}", snap.snapshot.errors);
}

#[test]
fn a_folder_above_a_source_path_swapped_for_a_symlink_is_not_followed() {
    let s = setup();
    // Source path base/web/k1; the folder above it, base/web, becomes a link to a tree with its own k1.
    let web = s.base.join("web");
    fs::create_dir_all(web.join("k1")).unwrap();
    fs::write(web.join("k1/index.html"), "hello").unwrap();
    let evil = s.base.join("evil");
    fs::create_dir_all(evil.join("k1")).unwrap();
    fs::write(evil.join("k1/index.html"), SECRET).unwrap();
    let (w, e, aside) = (web.clone(), evil.clone(), s.base.join("web-aside"));
    let snap = run(
        &s,
        vec![web.join("k1")],
        hook_at(web.clone(), move || {
            fs::rename(&w, &aside).unwrap();
            std::os::unix::fs::symlink(&e, &w).unwrap();
        }),
    );
    assert_eq!(files_and_leaks(&s.repo, &snap).1, 0);
    let errs = errors_for(&snap, &web);
    assert!(errs.len() == 1 && errs[0].contains("changed during backup"), "{:?}", snap.snapshot.errors);

    // A link there from the start: not followed either (the source path is skipped and listed).
    let snap = run(&s, vec![web.join("k1")], None);
    assert_eq!(files_and_leaks(&s.repo, &snap).1, 0);
    let errs = errors_for(&snap, &web);
    assert!(errs.len() == 1 && errs[0].contains("not followed"), "{:?}", snap.snapshot.errors);
}

#[test]
fn symlinks_in_the_tree_are_stored_as_links_and_their_targets_never_read() {
    let s = setup();
    std::os::unix::fs::symlink(&s.secret_file, s.src.join("to-secret")).unwrap();
    std::os::unix::fs::symlink(&s.secret_dir, s.src.join("to-secret-dir")).unwrap();
    let snap = run(&s, vec![s.src.clone(), s.src.join("to-secret-dir")], None);
    assert!(snap.snapshot.errors.is_empty(), "{:?}", snap.snapshot.errors);
    let (files, leaks) = files_and_leaks(&s.repo, &snap);
    assert_eq!(leaks, 0, "{files:?}");
    for l in ["to-secret", "to-secret-dir"] {
        let n = hostwerk_backup::browse::find_node(&s.repo, &snap.snapshot.tree, &s.src.join(l)).unwrap().unwrap();
        assert_eq!(n.kind, NodeKind::Symlink, "{l}");
    }
}

#[test]
fn with_read_as_what_the_user_may_not_read_is_skipped_and_listed() {
    let s = setup();
    let me = rustix::process::geteuid().as_raw();
    let my_gid = rustix::process::getegid().as_raw();
    fs::write(s.src.join("closed.txt"), SECRET).unwrap();
    fs::set_permissions(s.src.join("closed.txt"), fs::Permissions::from_mode(0o077)).unwrap();
    fs::create_dir(s.src.join("nolist")).unwrap();
    fs::write(s.src.join("nolist/inside.txt"), SECRET).unwrap();
    fs::set_permissions(s.src.join("nolist"), fs::Permissions::from_mode(0o300)).unwrap();
    let reader = Reader { uid: me, gids: vec![my_gid] };
    let o =
        BackupOptions { paths: vec![s.src.clone()], read_as: Some(ReadAs::User(reader.clone())), ..Default::default() };
    let snap = backup(&s.repo, &o, None, &NoProgress).unwrap().snapshot;
    fs::set_permissions(s.src.join("nolist"), fs::Permissions::from_mode(0o755)).unwrap();
    let (files, leaks) = files_and_leaks(&s.repo, &snap);
    assert_eq!(leaks, 0, "{files:?}");
    assert!(files.contains(&s.src.join("a.txt")));
    let e = errors_for(&snap, &s.src.join("closed.txt"));
    assert!(e.len() == 1 && e[0].contains(&format!("uid {me} may not read it (mode 0077")), "{e:?}");
    let e = errors_for(&snap, &s.src.join("nolist"));
    assert!(e.len() == 1 && e[0].contains("may not list it (mode 0300"), "{e:?}");
    assert_eq!(snap.snapshot.errors.len(), 2, "{:?}", snap.snapshot.errors);

    // A folder above the source path that the user may not search (a stranger: other bits only).
    fs::create_dir_all(s.base.join("locked/k1")).unwrap();
    fs::write(s.base.join("locked/k1/f"), "f").unwrap();
    fs::set_permissions(s.base.join("locked/k1/f"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(s.base.join("locked"), fs::Permissions::from_mode(0o770)).unwrap();
    for p in [&s.base, &s.base.join("locked/k1")] {
        fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let stranger = Reader { uid: 4_242_424, gids: vec![4_242_424] };
    let o = BackupOptions {
        paths: vec![s.base.join("locked/k1")],
        read_as: Some(ReadAs::PerPath(vec![(s.base.join("locked/./k1"), stranger.clone())])),
        ..Default::default()
    };
    let snap = backup(&s.repo, &o, None, &NoProgress).unwrap().snapshot;
    let e = errors_for(&snap, &s.base.join("locked/k1"));
    assert!(e.len() == 1 && e[0].contains("may not search the folder"), "{:?}", snap.snapshot.errors);
    assert_eq!(files_and_leaks(&s.repo, &snap).0.len(), 0);
    // Searchable for others: the same backup takes the file.
    fs::set_permissions(s.base.join("locked"), fs::Permissions::from_mode(0o771)).unwrap();
    let o = BackupOptions { read_as: Some(ReadAs::User(stranger)), ..o };
    let snap = backup(&s.repo, &o, None, &NoProgress).unwrap().snapshot;
    assert!(snap.snapshot.errors.is_empty(), "{:?}", snap.snapshot.errors);
    assert_eq!(files_and_leaks(&s.repo, &snap).0, [s.base.join("locked/k1/f")]);
    let _ = reader;

    // PerPath without an entry for a source path is refused.
    let o = BackupOptions { paths: vec![s.src.clone()], read_as: Some(ReadAs::PerPath(vec![])), ..Default::default() };
    assert!(backup(&s.repo, &o, None, &NoProgress).is_err());
}

#[test]
fn reader_permissions_follow_the_mode_bits_owner_first_uid_0_not_special() {
    let r = Reader { uid: 1000, gids: vec![1000, 33] };
    // Owner bits decide for the owner, even when group or other bits would allow more.
    assert!(r.allows(0o400, 1000, 0, 4));
    assert!(!r.allows(0o044, 1000, 1000, 4));
    // Group bits for a member of the group (supplementary groups count).
    assert!(r.allows(0o040, 0, 33, 4));
    assert!(!r.allows(0o404, 0, 33, 4));
    // Other bits for everybody else.
    assert!(r.allows(0o004, 0, 0, 4));
    assert!(!r.allows(0o660, 0, 0, 4));
    // Folders need read and search.
    assert!(r.allows(0o500, 1000, 0, 5));
    assert!(!r.allows(0o400, 1000, 0, 5));
    assert!(!r.allows(0o100, 1000, 0, 5));
    let root = Reader { uid: 0, gids: vec![0] };
    assert!(root.allows(0o600, 0, 0, 4));
    assert!(!root.allows(0o600, 1000, 1000, 4));
}
