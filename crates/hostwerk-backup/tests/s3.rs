//! The S3 backend against a real S3-compatible server (s3s-fs) started by the test.
//!
//! Runs with `cargo test -p hostwerk-backup --features s3 --test s3` when `s3s-fs` is installed
//! (`cargo install s3s-fs --version 0.14.1 --features binary --locked`) or `HOSTWERK_S3_SERVER`
//! names its binary; otherwise it prints why it skipped (with `CI=true` it fails instead).

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

#[cfg(feature = "s3")]
mod common;

#[cfg(feature = "s3")]
mod with_server {
    use std::net::TcpStream;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::common::*;
    use hostwerk_backup::backend::s3::{S3Backend, S3Config};
    use hostwerk_backup::{
        backup, check, forget, prune, restore, BackupOptions, ForgetPolicy, NoProgress, Repository, RestoreOptions,
    };

    struct Server(Child);

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn find_server() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("HOSTWERK_S3_SERVER") {
            return Some(PathBuf::from(p)).filter(|p| p.is_file());
        }
        let mut dirs: Vec<PathBuf> =
            std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
        if let Some(home) = std::env::var_os("HOME") {
            dirs.push(Path::new(&home).join(".cargo/bin"));
        }
        dirs.into_iter().map(|d| d.join("s3s-fs")).find(|p| p.is_file())
    }

    fn start(root: &Path) -> Option<(Server, u16)> {
        let Some(bin) = find_server() else {
            // In CI a missing server is a failure, not a silent skip.
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI is set but no S3 server found (install with `cargo install s3s-fs --version 0.14.1 --features binary --locked` or set HOSTWERK_S3_SERVER)"
            );
            println!("skipped: no S3 server found (install with `cargo install s3s-fs --version 0.14.1 --features binary --locked` or set HOSTWERK_S3_SERVER)");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        std::fs::create_dir_all(root.join("backups")).unwrap();
        let child = Command::new(&bin)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--access-key",
                "AKTEST",
                "--secret-key",
                "SKTEST",
            ])
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Server(child);
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(20), "S3 server {} did not start", bin.display());
            std::thread::sleep(Duration::from_millis(50));
        }
        Some((server, port))
    }

    #[test]
    fn backup_restore_prune_check_on_s3() {
        let t = tempfile::tempdir().unwrap();
        let Some((_server, port)) = start(&t.path().join("s3")) else { return };
        let cfg = S3Config {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "backups".into(),
            prefix: "web1".into(),
            region: "us-east-1".into(),
            access_key_id: "AKTEST".into(),
            secret_access_key: "SKTEST".into(),
        };
        let backend = Arc::new(S3Backend::new(&cfg).unwrap());
        let repo = Repository::init(backend.clone(), PASSWORD, Default::default()).unwrap();
        let src = t.path().join("src");
        make_tree(&src);
        let o = BackupOptions { paths: vec![src.clone()], ..Default::default() };
        let r1 = backup(&repo, &o, None, &NoProgress).unwrap();
        std::fs::write(src.join("site/file1.php"), "changed").unwrap();
        let r2 = backup(&repo, &o, None, &NoProgress).unwrap();
        assert_eq!(r2.snapshot.snapshot.summary.files_changed, 1);

        let repo = Repository::open(Arc::new(S3Backend::new(&cfg).unwrap()), PASSWORD).unwrap();
        assert_eq!(repo.snapshots().unwrap().len(), 2);
        let out = t.path().join("out");
        restore(
            &repo,
            &r2.snapshot.snapshot.tree,
            &RestoreOptions { target: out.clone(), ..Default::default() },
            &NoProgress,
        )
        .unwrap();
        let (want, _) = snapshot_fs(&src);
        let (got, _) = snapshot_fs(&out.join(src.strip_prefix("/").unwrap()));
        assert_eq!(want, got);

        forget(&repo, &ForgetPolicy { keep_last: Some(1), ..Default::default() }, false).unwrap();
        prune(&repo, false).unwrap();
        let rep = check(&repo, true).unwrap();
        assert!(rep.ok(), "{:?}", rep.errors);
        assert_eq!(repo.snapshots().unwrap()[0].id, r2.snapshot.id);
        assert!(Repository::open(backend, b"wrong").is_err());
        drop(r1);
    }
}
