//! `hostwerk backup …`: the command line of the backup engine, and of the backup repository server
//! (`backup serve`, `backup server-token`).
//!
//! Exit codes: 0 ok; 1 error (or `check` found damage); 3 snapshot saved but some source files
//! were unreadable; 10 no repository; 11 repository locked; 12 wrong password.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Subcommand;
use hostwerk_backup as hb;
use hostwerk_backup::{Backend, Progress, Repository};

/// Arguments of `hostwerk backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Repository location: a local folder, s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX] (S3 builds), or
    /// rest:http[s]://HOST[:PORT]/REPO on a repository server (token from $HOSTWERK_REPO_TOKEN, CA certificate
    /// file from $HOSTWERK_REPO_CACERT). For `serve`: the root folder of the served repositories. For
    /// `server-token`: a repository name the token may use (repeatable; `*` for all).
    #[arg(long, short = 'r', env = "HOSTWERK_REPO", global = true, action = clap::ArgAction::Append)]
    repo: Vec<String>,
    /// Read the repository password from this file (else from $HOSTWERK_REPO_PASSWORD).
    #[arg(long, global = true)]
    password_file: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Create a new repository.
    Init,
    /// Back up paths (or stdin) into a new snapshot.
    Run {
        /// Tag the snapshot (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Host name to record (default: this machine's).
        #[arg(long)]
        host: Option<String>,
        /// Exclude glob (repeatable); without `/` it matches names, with `/` absolute paths.
        #[arg(long = "exclude")]
        excludes: Vec<String>,
        /// Store standard input as one file with this name.
        #[arg(long, conflicts_with = "paths")]
        stdin_name: Option<String>,
        /// Read every file even if unchanged since the parent snapshot.
        #[arg(long)]
        force: bool,
        /// Record this time ("2026-11-26 23:00:00", UTC, or RFC 3339) instead of now: imports, and
        /// simulations of many nights (bench/backup-retention.sh).
        #[arg(long, value_parser = parse_time)]
        time: Option<chrono::DateTime<chrono::Utc>>,
        /// Files and folders to back up.
        #[arg(required_unless_present = "stdin_name")]
        paths: Vec<PathBuf>,
    },
    /// List snapshots.
    Snapshots,
    /// List files in a snapshot.
    Ls {
        /// Snapshot id prefix or `latest`.
        snapshot: String,
        /// Path inside the snapshot (default: everything).
        path: Option<PathBuf>,
    },
    /// Show repository statistics.
    Stats,
    /// Restore a snapshot into a folder.
    Restore {
        /// Snapshot id prefix or `latest`.
        snapshot: String,
        /// Folder to restore into.
        #[arg(long)]
        target: PathBuf,
        /// Only restore this snapshot path (repeatable).
        #[arg(long = "include")]
        includes: Vec<PathBuf>,
    },
    /// Write a file to stdout, or a folder as a tar stream.
    Dump {
        /// Snapshot id prefix or `latest`.
        snapshot: String,
        /// Path inside the snapshot.
        path: PathBuf,
    },
    /// Remove snapshots according to a retention policy.
    Forget {
        /// Keep the N newest snapshots.
        #[arg(long)]
        keep_last: Option<u32>,
        /// Keep the newest snapshot of each of the last N days.
        #[arg(long)]
        keep_daily: Option<u32>,
        /// … weeks.
        #[arg(long)]
        keep_weekly: Option<u32>,
        /// … months.
        #[arg(long)]
        keep_monthly: Option<u32>,
        /// … years.
        #[arg(long)]
        keep_yearly: Option<u32>,
        /// Keep every snapshot within this duration of the newest (e.g. 30d, 2w, 1y6m).
        #[arg(long)]
        keep_within: Option<String>,
        /// Only consider snapshots with this tag (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Print the plan, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete data no snapshot uses any more.
    Prune {
        /// Print the plan, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Verify the repository.
    Check {
        /// Also read and verify every byte of every pack.
        #[arg(long)]
        read_data: bool,
    },
    /// Run a backup repository server for the repositories in the folder --repo DIR (one subfolder per
    /// repository, e.g. DIR/web001, reached as rest:http[s]://HOST:PORT/web001). Prints
    /// `listening on http[s]://ADDR` on stdout, logs every request on stderr, stops on SIGTERM or Ctrl-C.
    /// See docs/backup-server.md.
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8443 (port 0: any free port; the line on stdout names it).
        #[arg(long)]
        listen: String,
        /// Tokens file (TOML `[[token]]` entries with name, sha256, access, repos); read at start and again on
        /// SIGHUP (a file that does not parse, or holds no token, is refused and the tokens in force stay).
        #[arg(long)]
        tokens: PathBuf,
        /// TLS certificate chain (PEM); with --tls-key the server speaks only HTTPS.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// TLS private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Largest accepted upload in MiB.
        #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4096))]
        max_body_mib: u32,
    },
    /// Create a token for the repository server: prints the token (once) on stdout, and the `[[token]]`
    /// entry for the tokens file (which holds only its SHA-256) on stderr, or appends that entry to
    /// --tokens FILE. Give the repositories with --repo NAME (repeatable, `*` for all). A running server
    /// takes a changed tokens file on SIGHUP (`kill -HUP PID`, `systemctl reload`).
    ServerToken {
        /// Name of the token in the server's logs, e.g. web001-agent.
        #[arg(long)]
        name: String,
        /// append-only (webserver agents: add backups, never delete or overwrite), maintenance (the panel:
        /// forget, prune) or read-only (restore, check).
        #[arg(long, value_parser = ["append-only", "maintenance", "read-only"])]
        access: String,
        /// Append the entry to this tokens file (created with mode 0600 if missing) instead of printing it.
        #[arg(long)]
        tokens: Option<PathBuf>,
    },
}

/// Runs a `hostwerk backup` subcommand.
pub fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    match dispatch(&args) {
        Ok(code) => Ok(code),
        Err(e) => {
            let code = match e.downcast_ref::<hb::Error>() {
                Some(hb::Error::RepoNotFound(_)) => 10,
                Some(hb::Error::Locked(_)) => 11,
                Some(hb::Error::WrongPassword) => 12,
                _ => 1,
            };
            eprintln!("hostwerk: {e:#}");
            Ok(ExitCode::from(code))
        }
    }
}

fn backend(args: &BackupArgs) -> anyhow::Result<Arc<dyn Backend>> {
    let loc = match args.repo.as_slice() {
        [] => bail!("no repository given: use --repo LOCATION or $HOSTWERK_REPO"),
        [loc] => loc,
        _ => bail!("--repo given more than once: this command works on one repository"),
    };
    Ok(hb::backend::open_location(loc)?)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The repository server's tokens file; one without any token is refused (nobody could use the server).
fn load_tokens(path: &Path) -> anyhow::Result<hostwerk_repo_server::TokenSet> {
    let tokens = hostwerk_repo_server::TokenSet::load(path)?;
    if tokens.is_empty() {
        bail!(
            "no tokens in the tokens file: nobody could use the server (add one with `hostwerk backup server-token`)"
        );
    }
    Ok(tokens)
}

/// Reads the tokens file again on every SIGHUP and puts it in force; a file that [`load_tokens`] refuses is
/// logged as an error, and the tokens in force stay.
async fn reload_tokens_on_hangup(
    mut hangups: tokio::signal::unix::Signal,
    path: PathBuf,
    tokens: hostwerk_repo_server::SharedTokens,
) {
    while hangups.recv().await.is_some() {
        match load_tokens(&path) {
            Ok(set) => {
                let count = set.len();
                tokens.replace(set);
                tracing::info!(file = %path.display(), tokens = count, "SIGHUP: tokens reloaded");
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %format!("{e:#}"), "SIGHUP: the tokens file was refused; the tokens in force stay");
            }
        }
    }
}

fn serve(
    args: &BackupArgs,
    listen: &str,
    tokens_path: &Path,
    tls: Option<(&Path, &Path)>,
    max_body_mib: u32,
) -> anyhow::Result<ExitCode> {
    use hostwerk_repo_server as rs;
    let root = match args.repo.as_slice() {
        [] => bail!("no repository folder given: use --repo DIR"),
        [r] if r.contains("://") || r.starts_with("rest:") || r.starts_with("s3:") => {
            bail!("--repo {r:?}: the server serves a local folder")
        }
        [r] => PathBuf::from(r),
        _ => bail!("--repo given more than once: the server serves one folder"),
    };
    if !root.is_dir() {
        bail!("repository folder {} does not exist or is not a folder", root.display());
    }
    let tokens = load_tokens(tokens_path)?;
    let tls = tls.map(|(cert, key)| rs::TlsConfig::from_pem_files(cert, key)).transpose()?;
    let count = tokens.len();
    let shared = rs::SharedTokens::new(tokens);
    let cfg =
        rs::ServerConfig { root: root.clone(), tokens: shared.clone(), max_body: max_body_mib as usize * (1 << 20) };
    let tokens_file = tokens_path.to_path_buf();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // Watched before the server announces itself: SIGHUP's default action would end the process.
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("cannot watch for SIGHUP")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening on {scheme}://{addr}")?;
            out.flush()?;
        }
        tracing::info!(%addr, root = %root.display(), tokens = count, "backup repository server started");
        tokio::spawn(reload_tokens_on_hangup(hangups, tokens_file, shared));
        rs::serve(listener, cfg, tls, shutdown_signal()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn server_token(args: &BackupArgs, name: &str, access: &str, file: Option<&Path>) -> anyhow::Result<ExitCode> {
    use hostwerk_repo_server as rs;
    let access = rs::Access::parse(access).context("--access must be append-only, maintenance or read-only")?;
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    if args.repo.is_empty() {
        bail!("give the repositories the token may use: --repo NAME (repeatable, '*' for all)");
    }
    if let Some(r) = args.repo.iter().find(|r| *r != "*" && !rs::valid_repo_name(r)) {
        bail!("--repo {r:?} is not a repository name (use [a-z0-9][a-z0-9._-]*, or '*' for all)");
    }
    let (token, hash) = rs::new_token();
    let entry = rs::token_toml(name, &hash, access, &args.repo);
    match file {
        Some(file) => {
            let existing = match std::fs::read_to_string(file) {
                Ok(s) => s,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
            };
            let sep = if existing.is_empty() || existing.ends_with("\n\n") {
                ""
            } else if existing.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            // Refuse to append to a file the server would then reject (bad syntax, duplicate name).
            rs::TokenSet::parse(&format!("{existing}{sep}{entry}"))
                .with_context(|| format!("{} with the new entry", file.display()))?;
            let mut f = std::fs::OpenOptions::new();
            f.append(true).create(true);
            std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
            let mut f = f.open(file).with_context(|| format!("opening {}", file.display()))?;
            f.write_all(format!("{sep}{entry}").as_bytes()).with_context(|| format!("writing {}", file.display()))?;
            f.sync_all()?;
            eprintln!(
                "added token {name:?} ({access}) to {}; restart the server to use it; the token is shown only now:",
                file.display()
            );
        }
        None => {
            eprintln!("# Append this entry to the server's tokens file (it holds only the token's SHA-256):");
            eprint!("{entry}");
            eprintln!("# The token (shown only now) is on stdout.");
        }
    }
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

fn password(args: &BackupArgs) -> anyhow::Result<Vec<u8>> {
    if let Some(f) = &args.password_file {
        let s = std::fs::read(f).with_context(|| format!("reading password file {}", f.display()))?;
        let mut s = s.as_slice();
        while let Some(rest) = s.strip_suffix(b"\n").or_else(|| s.strip_suffix(b"\r")) {
            s = rest;
        }
        return Ok(s.to_vec());
    }
    match std::env::var_os("HOSTWERK_REPO_PASSWORD") {
        Some(p) => Ok(std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()),
        None => bail!("no password: set $HOSTWERK_REPO_PASSWORD or use --password-file FILE"),
    }
}

fn open(args: &BackupArgs) -> anyhow::Result<Repository> {
    Ok(Repository::open(backend(args)?, &password(args)?)?)
}

fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

fn human_bytes(n: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", units[u])
    }
}

/// A progress bar on stderr when it is a terminal.
struct Bar(indicatif::ProgressBar);

impl Bar {
    fn new(show: bool, restore: bool) -> Bar {
        if !show {
            return Bar(indicatif::ProgressBar::hidden());
        }
        let pb = if restore { indicatif::ProgressBar::new(0) } else { indicatif::ProgressBar::new_spinner() };
        let tpl = if restore {
            "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} {pos_files}"
        } else {
            "{spinner} {elapsed_precise} {bytes} read, {binary_bytes_per_sec} {msg}"
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(&tpl.replace(" {pos_files}", "")) {
            pb.set_style(style);
        }
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        Bar(pb)
    }
}

impl Progress for Bar {
    fn set_total(&self, bytes: u64) {
        self.0.set_length(bytes);
    }
    fn add_bytes(&self, n: u64) {
        self.0.inc(n);
    }
    fn error(&self, path: &str, message: &str) {
        self.0.suspend(|| eprintln!("warning: cannot read {path}: {message} (skipped)"));
    }
}

fn show_progress(args: &BackupArgs) -> bool {
    !args.json && std::io::stderr().is_terminal()
}

fn dispatch(args: &BackupArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        Cmd::Serve { listen, tokens, tls_cert, tls_key, max_body_mib } => {
            let tls = tls_cert.as_deref().zip(tls_key.as_deref());
            return serve(args, listen, tokens, tls, *max_body_mib);
        }
        Cmd::ServerToken { name, access, tokens } => return server_token(args, name, access, tokens.as_deref()),
        Cmd::Init => {
            let repo = Repository::init(backend(args)?, &password(args)?, hb::InitOptions::default())?;
            if args.json {
                print_json(&serde_json::json!({
                    "id": repo.config().id,
                    "location": repo.backend().location(),
                    "chunker": repo.config().chunker,
                }))?;
            } else {
                println!("created repository {} at {}", repo.config().id, repo.backend().location());
            }
        }
        Cmd::Run { tags, host, excludes, stdin_name, force, time, paths } => {
            let repo = open(args)?;
            let opts = hb::BackupOptions {
                paths: paths.clone(),
                tags: tags.clone(),
                host: host.clone(),
                excludes: excludes.clone(),
                stdin_name: stdin_name.clone(),
                threads: None,
                force: *force,
                time: *time,
                ..hb::BackupOptions::default()
            };
            let bar = Bar::new(show_progress(args), false);
            let res = if stdin_name.is_some() {
                let mut stdin = std::io::stdin().lock();
                hb::backup(&repo, &opts, Some(&mut stdin), &bar)?
            } else {
                hb::backup(&repo, &opts, None, &bar)?
            };
            bar.0.finish_and_clear();
            let snap = &res.snapshot.snapshot;
            if args.json {
                print_json(&res)?;
            } else {
                for e in &snap.errors {
                    if !show_progress(args) {
                        eprintln!("warning: cannot read {}: {} (skipped)", e.path, e.message);
                    }
                }
                let s = &snap.summary;
                println!(
                    "snapshot {} saved: {} new, {} changed, {} unmodified files; {} dirs",
                    res.snapshot.short_id, s.files_new, s.files_changed, s.files_unmodified, s.dirs
                );
                println!(
                    "read {}, added {} ({} stored) in {:.2}s",
                    human_bytes(s.bytes_read),
                    human_bytes(s.bytes_added),
                    human_bytes(s.bytes_stored),
                    s.duration_secs
                );
            }
            if !snap.errors.is_empty() {
                if !args.json {
                    eprintln!(
                        "hostwerk: {} source path(s) could not be read; the snapshot is incomplete",
                        snap.errors.len()
                    );
                }
                return Ok(ExitCode::from(3));
            }
        }
        Cmd::Snapshots => {
            let repo = open(args)?;
            let snaps = repo.snapshots()?;
            if args.json {
                print_json(&snaps)?;
            } else {
                println!("{:<9} {:<20} {:<16} {:<16} paths", "id", "time", "host", "tags");
                for s in &snaps {
                    let sn = &s.snapshot;
                    println!(
                        "{:<9} {:<20} {:<16} {:<16} {}",
                        s.short_id,
                        sn.time.format("%Y-%m-%d %H:%M:%S"),
                        sn.hostname,
                        sn.tags.join(","),
                        sn.paths.join(" ")
                    );
                }
                println!("{} snapshot(s)", snaps.len());
            }
        }
        Cmd::Ls { snapshot, path } => {
            let repo = open(args)?;
            let s = repo.find_snapshot(snapshot)?;
            let p = path.clone().unwrap_or_else(|| PathBuf::from("/"));
            let entries = hb::ls(&repo, &s.snapshot.tree, &p)?;
            if args.json {
                print_json(&entries)?;
            } else {
                let mut out = std::io::stdout().lock();
                for e in entries {
                    let kind = match e.kind {
                        hb::tree::NodeKind::Dir => 'd',
                        hb::tree::NodeKind::Symlink => 'l',
                        hb::tree::NodeKind::File => '-',
                        _ => '?',
                    };
                    writeln!(
                        out,
                        "{kind}{:04o} {:>12} {} {}",
                        e.mode & 0o7777,
                        e.size,
                        &e.mtime[..19.min(e.mtime.len())],
                        e.path
                    )?;
                }
            }
        }
        Cmd::Stats => {
            let repo = open(args)?;
            let st = hb::stats(&repo)?;
            if args.json {
                print_json(&st)?;
            } else {
                println!("snapshots:          {}", st.snapshots);
                println!("packs:              {} ({})", st.packs, human_bytes(st.pack_bytes));
                println!("index files:        {}", st.index_files);
                println!("blobs:              {} data, {} tree", st.data_blobs, st.tree_blobs);
                println!("unique data:        {} ({} stored)", human_bytes(st.raw_bytes), human_bytes(st.stored_bytes));
                println!("all snapshots hold: {}", human_bytes(st.snapshot_bytes));
                println!("space saving:       {:.1}x", st.space_saving_factor);
            }
        }
        Cmd::Restore { snapshot, target, includes } => {
            let repo = open(args)?;
            let s = repo.find_snapshot(snapshot)?;
            let bar = Bar::new(show_progress(args), true);
            let opts = hb::RestoreOptions { target: target.clone(), includes: includes.clone(), threads: None };
            let sum = hb::restore(&repo, &s.snapshot.tree, &opts, &bar)?;
            bar.0.finish_and_clear();
            if args.json {
                print_json(&sum)?;
            } else {
                for w in &sum.warnings {
                    eprintln!("warning: {}: {}", w.path, w.message);
                }
                println!(
                    "restored snapshot {} to {}: {} files ({}), {} dirs, {} symlinks, {} hardlinks in {:.2}s",
                    s.short_id,
                    target.display(),
                    sum.files,
                    human_bytes(sum.bytes),
                    sum.dirs,
                    sum.symlinks,
                    sum.hardlinks,
                    sum.duration_secs
                );
            }
        }
        Cmd::Dump { snapshot, path } => {
            let repo = open(args)?;
            let s = repo.find_snapshot(snapshot)?;
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            hb::dump(&repo, &s.snapshot.tree, Path::new(path), &mut out)?;
            out.flush()?;
        }
        Cmd::Forget { keep_last, keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_within, tags, dry_run } => {
            let repo = open(args)?;
            let policy = hb::ForgetPolicy {
                keep_last: *keep_last,
                keep_daily: *keep_daily,
                keep_weekly: *keep_weekly,
                keep_monthly: *keep_monthly,
                keep_yearly: *keep_yearly,
                keep_within: keep_within.as_deref().map(hb::parse_duration).transpose()?,
                tags: tags.clone(),
            };
            let plan = hb::forget(&repo, &policy, *dry_run)?;
            if args.json {
                print_json(&serde_json::json!({ "dry_run": dry_run, "plan": plan }))?;
            } else {
                for g in &plan.groups {
                    println!("host {} paths {}:", g.hostname, g.paths.join(" "));
                    for k in &g.keep {
                        println!(
                            "  keep   {} {} ({})",
                            k.short_id,
                            k.time.format("%Y-%m-%d %H:%M:%S"),
                            k.reasons.join(", ")
                        );
                    }
                    for r in &g.remove {
                        let verb = if *dry_run { "would remove" } else { "removed" };
                        println!("  {verb} {} {}", r.short_id, r.time.format("%Y-%m-%d %H:%M:%S"));
                    }
                }
                let n = plan.remove_ids().len();
                if *dry_run {
                    println!("dry run: {n} snapshot(s) would be removed");
                } else {
                    println!("{n} snapshot(s) removed; run `hostwerk backup prune` to free space");
                }
            }
        }
        Cmd::Prune { dry_run } => {
            let repo = open(args)?;
            let plan = hb::prune(&repo, *dry_run)?;
            if args.json {
                print_json(&serde_json::json!({ "dry_run": dry_run, "plan": plan }))?;
            } else {
                println!(
                    "{} snapshot(s), {} blobs used, {} unused",
                    plan.snapshots, plan.blobs_used, plan.blobs_unused
                );
                println!(
                    "packs: {} indexed, {} to delete, {} to repack, {} not indexed",
                    plan.packs_indexed,
                    plan.packs_delete.len(),
                    plan.packs_repack.len(),
                    plan.packs_unindexed.len()
                );
                let verb = if *dry_run { "would free" } else { "freed" };
                println!(
                    "{verb} about {} of {} (repacking {})",
                    human_bytes(plan.bytes_freed),
                    human_bytes(plan.bytes_total),
                    human_bytes(plan.bytes_repacked)
                );
                if !plan.changes {
                    println!("nothing to do");
                }
            }
        }
        Cmd::Check { read_data } => {
            let repo = open(args)?;
            let report = hb::check(&repo, *read_data)?;
            if args.json {
                print_json(&report)?;
            } else {
                for w in &report.warnings {
                    println!("warning: {w}");
                }
                for e in &report.errors {
                    println!("error: {e}");
                }
                println!(
                    "checked {} snapshots, {} trees, {} index files, {} packs{}",
                    report.snapshots,
                    report.trees,
                    report.index_files,
                    report.packs,
                    if *read_data {
                        format!(", read {} packs / {} blobs", report.packs_read, report.blobs_read)
                    } else {
                        String::new()
                    }
                );
                if report.ok() {
                    println!("no errors found");
                }
            }
            if !report.ok() {
                if !args.json {
                    eprintln!("hostwerk: the repository has {} error(s)", report.errors.len());
                }
                return Ok(ExitCode::from(1));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A snapshot time: RFC 3339, or "YYYY-MM-DD HH:MM:SS" in UTC.
fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .map(|t| t.and_utc())
        .map_err(|_| format!("{s:?} is not a time like \"2026-11-26 23:00:00\" (UTC) or RFC 3339"))
}
