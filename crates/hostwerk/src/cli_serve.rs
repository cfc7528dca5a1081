//! `hostwerk serve`: load configuration, open the database, seed demo data, and serve the panel.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use hostwerk_domain::TariffCatalog;
use hostwerk_store::Store;
use hostwerk_web::{AppState, Config};

/// Arguments of `hostwerk serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (the demo only accepts loopback addresses).
    #[arg(long, env = "HOSTWERK_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for the SQLite database (created if missing); ignored with --database-url.
    #[arg(long, env = "HOSTWERK_DATA_DIR", default_value = "hostwerk-data")]
    data_dir: PathBuf,
    /// PostgreSQL (postgres://user@host/db) or SQLite (sqlite://file?mode=rwc) database URL.
    #[arg(long, env = "HOSTWERK_DATABASE_URL")]
    database_url: Option<String>,
    /// Configuration file (TOML); see README "Configuration".
    #[arg(long, env = "HOSTWERK_CONFIG")]
    config: Option<PathBuf>,
    /// Serve `/metrics` (Prometheus text format) on this address, e.g. 127.0.0.1:9464; the public address
    /// never serves it.
    #[arg(long, env = "HOSTWERK_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Seed demo customers and staff, and print their logins.
    #[arg(long)]
    demo: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if args.demo && !args.listen.ip().is_loopback() {
        bail!("demo mode listens on loopback only (127.0.0.1 or ::1), not on {}: its logins are public", args.listen);
    }
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the configuration {}", path.display()))?;
            toml::from_str::<Config>(&text)
                .with_context(|| format!("the configuration {} is not valid", path.display()))?
        }
        None => Config::default(),
    };
    let catalog = match &config.tariffs {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the tariff catalog {}", path.display()))?;
            TariffCatalog::from_toml(&text)
                .with_context(|| format!("the tariff catalog {} is not valid", path.display()))?
        }
        None => TariffCatalog::demo(),
    };
    config.demo = args.demo;
    if args.demo {
        prepare_demo_backups(&mut config, &args.data_dir, args.config.is_none())?;
    }
    hostwerk_web::backups::validate_config(&config)
        .map_err(anyhow::Error::msg)
        .context("the configuration is not valid")?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {} (is the port in use?)", args.listen))?;
        let local = listener.local_addr().context("listener address")?;
        if args.config.is_none() || config.public_url.is_empty() {
            config.public_url = format!("http://{local}");
        }
        let url = match &args.database_url {
            Some(u) => u.clone(),
            None => {
                std::fs::create_dir_all(&args.data_dir)
                    .with_context(|| format!("cannot create the data directory {}", args.data_dir.display()))?;
                Store::sqlite_url(&args.data_dir)
            }
        };
        let store = Store::connect(&url).await.context("cannot open the database")?;
        store.seed_tariffs(&catalog).await.context("cannot store the tariff catalog")?;
        if args.demo {
            hostwerk_web::demo::seed(&store, &config.webspace_root).await.context("cannot seed the demo data")?;
            hostwerk_web::demo::seed_backups(&store, &config.backup.mail_root)
                .await
                .context("cannot prepare the demo webspaces")?;
        } else {
            // The demo's logins are printed on every demo start: they must not open a real installation.
            let disabled = hostwerk_web::demo::disable_published_logins(&store)
                .await
                .context("cannot check the database for demo logins")?;
            if !disabled.is_empty() {
                eprintln!(
                    "This database was seeded by `serve --demo`, and this start is not a demo: the demo logins {} \
                     still had their published passwords and are now disabled (staff deactivated, customers need \
                     the password reminder). Create your own admin with `hostwerk admin create-staff`.",
                    disabled.join(", ")
                );
            }
        }
        let state = AppState::new(store, config);
        hostwerk_web::spawn_housekeeping(&state);
        hostwerk_web::backups::spawn_tick(&state);
        start_local_workers(&state).await?;
        println!("hostwerk {} listening on http://{local}/", env!("CARGO_PKG_VERSION"));
        if let Some(addr) = args.metrics_listen {
            let metrics = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for the metrics (is the port in use?)"))?;
            let at = metrics.local_addr().context("metrics listener address")?;
            println!("metrics on http://{at}/metrics");
            tokio::spawn(hostwerk_web::serve_metrics(metrics, state.clone(), shutdown_signal()));
        }
        if args.demo {
            println!("Demo logins:");
            for l in hostwerk_web::demo::LOGINS {
                println!("  {:<26} {:<10} {:<18} http://{local}{}", l.who, l.login, l.password, l.path);
                if let Some(key) = l.totp_secret {
                    println!(
                        "  {:<26} second factor: TOTP key {key} (an authenticator app, or `oathtool --totp -b {key}`)",
                        ""
                    );
                }
            }
            println!("  telephone password of K1000001: {}", hostwerk_web::demo::DEMO_PHONE_PASSWORD);
            println!("Mails go to the outbox: http://{local}/staff/outbox (admin). Stop with Ctrl-C.");
        }
        hostwerk_web::serve(listener, state, shutdown_signal()).await.context("the server stopped with an error")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The demo keeps everything on this machine: webspaces and mail folders under the data directory, one local
/// repository per demo webserver, and the panel runs the backup jobs itself.
fn prepare_demo_backups(config: &mut Config, data_dir: &std::path::Path, defaults: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let dir = std::fs::canonicalize(data_dir).with_context(|| format!("cannot resolve {}", data_dir.display()))?;
    if defaults {
        config.webspace_root = dir.join("webspace").display().to_string();
        config.backup.mail_root = dir.join("vmail").display().to_string();
    }
    if config.backup.repositories.is_empty() {
        let password_file = dir.join("backup-password");
        if !password_file.exists() {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut bytes = [0u8; 24];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&password_file)
                .with_context(|| format!("cannot create {}", password_file.display()))?;
            f.write_all(hex.as_bytes()).context("cannot write the demo repository password")?;
        }
        for web in ["web001", "web002"] {
            config.backup.repositories.push(hostwerk_web::config::RepositoryConfig {
                webserver: web.into(),
                location: dir.join("backups").join(web).display().to_string(),
                password_file: password_file.clone(),
                token_file: None,
                ca_cert: None,
            });
        }
        config.backup.local_worker = true;
    }
    Ok(())
}

/// With `backup.local_worker`, the panel runs the jobs of webservers whose repository is a local folder.
async fn start_local_workers(state: &AppState) -> anyhow::Result<()> {
    if !state.config.backup.local_worker {
        return Ok(());
    }
    let handle = tokio::runtime::Handle::current();
    for repo in &state.config.backup.repositories {
        if repo.location.contains("://") {
            continue;
        }
        let name = hostwerk_domain::NodeName::parse(&repo.webserver)
            .map_err(|e| anyhow::anyhow!("backup.repositories: {}: {e}", repo.webserver))?;
        let node = state.store.node_by_name(&name).await.with_context(|| format!("unknown webserver {name}"))?;
        let source = crate::local_jobs::LocalSource { state: state.clone(), node, runtime: handle.clone() };
        let repos = state.backup_repos.clone();
        let webserver = repo.webserver.clone();
        std::thread::Builder::new()
            .name(format!("backup-{webserver}"))
            .spawn(move || {
                let open = || {
                    let r = repos.get(&webserver).map_err(|e| e.to_string())?;
                    r.invalidate_index();
                    Ok(r)
                };
                let cfg = hostwerk_agent::program::backup_worker::WorkerConfig {
                    db: hostwerk_agent::jobs::DbClient::default(),
                    chown: false,
                    idle: std::time::Duration::from_secs(2),
                };
                let stop = std::sync::atomic::AtomicBool::new(false);
                hostwerk_agent::program::backup_worker::run_loop(&source, &open, &cfg, &stop);
            })
            .context("cannot start a backup worker")?;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
