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
        }
        let state = AppState::new(store, config);
        hostwerk_web::spawn_housekeeping(&state);
        println!("hostwerk {} listening on http://{local}/", env!("CARGO_PKG_VERSION"));
        if args.demo {
            println!("Demo logins:");
            for l in hostwerk_web::demo::LOGINS {
                println!("  {:<26} {:<10} {:<18} http://{local}{}", l.who, l.login, l.password, l.path);
            }
            println!("  telephone password of K1000001: {}", hostwerk_web::demo::DEMO_PHONE_PASSWORD);
            println!("Mails go to the outbox: http://{local}/staff/outbox (admin). Stop with Ctrl-C.");
        }
        hostwerk_web::serve(listener, state, shutdown_signal()).await.context("the server stopped with an error")?;
        Ok(ExitCode::SUCCESS)
    })
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
