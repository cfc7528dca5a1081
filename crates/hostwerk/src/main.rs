//! The `hostwerk` binary: one command line for the panel, the backup engine and the node agent.

mod cli_admin;
mod cli_agent;
mod cli_backup;
mod cli_giveaway;
mod cli_serve;
mod cli_sim;
mod local_jobs;
mod logging;

use clap::{Parser, Subcommand};

/// jemalloc instead of glibc's malloc: the panel answers many small requests on every core at once, where glibc's
/// per-thread arenas fragment (serve's memory under load: about a third) and cost time in malloc and free.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// hostwerk: customer menu, staff console, deduplicating backups and the node agent for web hosting providers.
#[derive(Debug, Parser)]
#[command(name = "hostwerk", version, about, long_about = None)]
struct Cli {
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = logging::LogFormat::Text)]
    log_format: logging::LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the panel: customer menu, staff console and JSON API.
    Serve(cli_serve::ServeArgs),
    /// Administrative tasks on the panel's database.
    Admin(cli_admin::AdminArgs),
    /// Deduplicating, encrypted, incremental backups (`hostwerk backup --help`).
    Backup(cli_backup::BackupArgs),
    /// Node agent: end customer processes that outlive the limit the panel sets, and run the node's backup jobs
    /// (`hostwerk agent --help`).
    Agent(cli_agent::AgentArgs),
    /// Blog giveaways: check a published draw (`hostwerk giveaway verify FILE`).
    Giveaway(cli_giveaway::GiveawayArgs),
    /// Capacity planning: simulate a night of backups with the real scheduler (`hostwerk sim nightly --help`).
    Sim(cli_sim::SimArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => cli_serve::run(args),
        Command::Admin(args) => cli_admin::run(args),
        Command::Backup(args) => cli_backup::run(args),
        Command::Agent(args) => cli_agent::run(args),
        Command::Giveaway(args) => cli_giveaway::run(args),
        Command::Sim(args) => cli_sim::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hostwerk: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
