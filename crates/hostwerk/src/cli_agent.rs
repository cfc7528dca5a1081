//! `hostwerk agent`: the command line of the node agent. The program itself is
//! `hostwerk_agent::program` (see its module documentation); this module parses the flags into its
//! `Settings` and turns its error into the exit status.

use std::path::PathBuf;
use std::process::ExitCode;

use hostwerk_agent::program::{self, BackupSettings, Settings};

/// Arguments of `hostwerk agent`.
#[derive(Debug, clap::Args)]
#[command(after_help = "The agent runs on each webserver, as root (it signals other users' processes; see \
dist/hostwerk-agent.service). It fetches the process limits of the node's system users from the panel every few \
seconds, ends every process of a limited user that runs longer than its limit (SIGTERM, then SIGKILL after the \
grace period) and reports each ended process to the panel. It never touches root's processes, those of users the \
panel does not list, or those of users whose limit is off. While the panel is unreachable the last known limits \
stay in force, across restarts too (--state-file).")]
pub struct AgentArgs {
    /// Base URL of the panel, e.g. https://panel.example.net
    #[arg(long, env = "HOSTWERK_PANEL")]
    panel: String,
    /// File holding this node's token (from the staff console's nodes page or `hostwerk admin node-token`);
    /// must not be readable by other users.
    #[arg(long, env = "HOSTWERK_AGENT_TOKEN_FILE")]
    token_file: PathBuf,
    /// Where the last limits received from the panel are kept, for restarts while the panel is unreachable.
    #[arg(long, env = "HOSTWERK_AGENT_STATE_FILE", default_value = "/var/lib/hostwerk-agent/limits.json")]
    state_file: PathBuf,
    /// Seconds between SIGTERM and SIGKILL [default: the panel's grace_seconds, else 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=3600))]
    grace_seconds: Option<u64>,
    /// TEST ONLY: replaces every limit that is not off with this many seconds, below the 180 s minimum, so
    /// that end-to-end tests (crates/hostwerk/tests/agent.rs) need not wait minutes. Never use it in production.
    #[arg(long, hide = true, value_parser = clap::value_parser!(u64).range(1..))]
    test_limit_seconds: Option<u64>,
    /// Run the panel's backup jobs for this node into this repository: the assigned backup server's
    /// `rest:https://HOST:PORT/REPO` (with an append-only token), a folder, or `s3:…`. Without it the agent only
    /// enforces process limits.
    #[arg(long, env = "HOSTWERK_BACKUP_REPO")]
    backup_repo: Option<String>,
    /// File holding the repository password (required with --backup-repo).
    #[arg(long, env = "HOSTWERK_BACKUP_PASSWORD_FILE", requires = "backup_repo")]
    backup_password_file: Option<PathBuf>,
    /// File holding the repository server token (append-only rights are enough).
    #[arg(long, env = "HOSTWERK_BACKUP_TOKEN_FILE", requires = "backup_repo")]
    backup_token_file: Option<PathBuf>,
    /// PEM file of the CA that signed the repository server's certificate.
    #[arg(long, env = "HOSTWERK_BACKUP_CACERT", requires = "backup_repo")]
    backup_cacert: Option<PathBuf>,
    /// Backup jobs this agent runs at once (the panel's per-webserver cap applies as well).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    backup_workers: u64,
    /// An argument for `mariadb-dump` and `mariadb` (repeatable), e.g. --mariadb-arg=--defaults-file=/etc/hostwerk/agent-my.cnf
    #[arg(long = "mariadb-arg", allow_hyphen_values = true)]
    mariadb_args: Vec<String>,
}

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    let backup = match args.backup_repo {
        None => None,
        Some(location) => {
            let Some(password_file) = args.backup_password_file else {
                anyhow::bail!("--backup-repo needs --backup-password-file");
            };
            Some(BackupSettings {
                repository: hostwerk_backup::RepositoryAccess {
                    location,
                    password_file,
                    token_file: args.backup_token_file,
                    ca_cert: args.backup_cacert,
                },
                workers: args.backup_workers,
                mariadb_args: args.mariadb_args,
            })
        }
    };
    program::run(Settings {
        panel: args.panel,
        token_file: args.token_file,
        state_file: args.state_file,
        grace_seconds: args.grace_seconds,
        test_limit_seconds: args.test_limit_seconds,
        backup,
    })?;
    Ok(ExitCode::SUCCESS)
}
