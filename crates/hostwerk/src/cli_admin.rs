//! `hostwerk admin …`: tasks on the panel's database from the shell (the first admin account, say).

use hostwerk_domain::AuditAction;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use hostwerk_domain::{Password, StaffLogin, StaffRole};
use hostwerk_store::{Actor, Store};

/// Arguments of `hostwerk admin`.
#[derive(Debug, clap::Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
    /// Directory of the SQLite database; ignored with --database-url.
    #[arg(long, global = true, env = "HOSTWERK_DATA_DIR", default_value = "hostwerk-data")]
    data_dir: PathBuf,
    /// PostgreSQL or SQLite database URL.
    #[arg(long, global = true, env = "HOSTWERK_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
enum AdminCommand {
    /// Create a staff account; the password is read from standard input.
    CreateStaff {
        /// support, management or admin
        #[arg(long)]
        role: String,
        /// Login name (lower-case letters, digits, '.', '-', '_')
        #[arg(long)]
        login: String,
        /// Display name (defaults to the login)
        #[arg(long)]
        name: Option<String>,
    },
    /// Issue a new agent token for a webserver and print it (earlier tokens of the node stop working).
    /// Put it into the agent's --token-file.
    NodeToken {
        /// The webserver's node name, as registered in the staff console
        #[arg(long)]
        node: String,
    },
    /// Record a MariaDB database of a customer's contract, so that its nightly backups dump it.
    ContractDatabase {
        /// The customer number, e.g. K1000001
        #[arg(long)]
        customer: String,
        /// The contract's id (as in /menu/backups/ID); needed when the customer has several contracts
        #[arg(long)]
        contract: Option<i64>,
        /// The database name (letters, digits, `_`, `$`, `-`; at most 64)
        #[arg(long)]
        name: String,
    },
}

async fn open_store(data_dir: &std::path::Path, database_url: Option<&str>) -> anyhow::Result<Store> {
    let url = match database_url {
        Some(u) => u.to_owned(),
        None => {
            std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
            Store::sqlite_url(data_dir)
        }
    };
    Store::connect(&url).await.context("cannot open the database")
}

pub fn run(args: AdminArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        AdminCommand::CreateStaff { role, login, name } => {
            let role = StaffRole::parse(&role)?;
            let login = StaffLogin::parse(&login)?;
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input).context("cannot read the password from standard input")?;
            let secret = input.trim_end_matches(['\n', '\r']);
            if secret.is_empty() {
                bail!("no password on standard input (e.g. `echo 'long secret' | hostwerk admin create-staff …`)");
            }
            let display = name.unwrap_or_else(|| login.to_string());
            let words = hostwerk_domain::password::AccountWords { name: &display, ..Default::default() };
            let password = Password::parse(secret, words)?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let store = open_store(&args.data_dir, args.database_url.as_deref()).await?;
                let hash = hostwerk_web::hash_password(password.expose()).await?;
                let user = store.create_staff(&login, &display, role, &hash).await?;
                store
                    .audit(
                        &Actor::system("hostwerk admin"),
                        AuditAction::StaffCreated,
                        user.login.as_str(),
                        role.as_str(),
                    )
                    .await?;
                println!("created staff account {} ({})", user.login, user.role);
                Ok(ExitCode::SUCCESS)
            })
        }
        AdminCommand::NodeToken { node } => {
            let name = hostwerk_domain::NodeName::parse(&node)?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let store = open_store(&args.data_dir, args.database_url.as_deref()).await?;
                let node = store.node_by_name(&name).await.with_context(|| format!("no node named {name}"))?;
                let token = store.issue_node_token(node.id).await?;
                store
                    .audit(&Actor::system("hostwerk admin"), AuditAction::NodeTokenIssued, node.name.as_str(), "")
                    .await?;
                println!("{token}");
                Ok(ExitCode::SUCCESS)
            })
        }
        AdminCommand::ContractDatabase { customer, contract, name } => {
            let number = hostwerk_domain::CustomerNumber::parse(&customer)?;
            hostwerk_agent::jobs::check_database_name(&name)?;
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let store = open_store(&args.data_dir, args.database_url.as_deref()).await?;
                let c = store.customer_by_number(number).await.with_context(|| format!("no customer {number}"))?;
                let contracts = store.contracts(c.id).await?;
                let chosen = match contract {
                    Some(id) => contracts.iter().find(|k| k.id == id),
                    None if contracts.len() == 1 => contracts.first(),
                    None => anyhow::bail!("{number} has {} contracts: choose one with --contract ID", contracts.len()),
                };
                let chosen = chosen.with_context(|| format!("{number} has no such contract"))?;
                store.add_contract_database(chosen.id, &name, chrono::Utc::now().timestamp()).await?;
                store
                    .audit(
                        &Actor::system("hostwerk admin"),
                        AuditAction::ContractDatabaseAdded,
                        &number.to_string(),
                        &format!("contract {}: {name}", chosen.id),
                    )
                    .await?;
                println!(
                    "database {name} recorded for contract {} of {number}; its nightly backups now dump it",
                    chosen.id
                );
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}
