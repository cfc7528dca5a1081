//! The `hostwerk` binary: one command line for the panel, the backup engine and the node agent.

mod cli_backup;

use clap::{Parser, Subcommand};

/// hostwerk: customer menu, staff console, deduplicating backups and the node agent for web hosting providers.
#[derive(Debug, Parser)]
#[command(name = "hostwerk", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Deduplicating, encrypted, incremental backups (`hostwerk backup --help`).
    Backup(cli_backup::BackupArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backup(args) => cli_backup::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hostwerk: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
