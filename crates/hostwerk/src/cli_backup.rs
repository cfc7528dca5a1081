//! `hostwerk backup …`: the command line of the backup engine.

/// Arguments of `hostwerk backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {}

/// Runs a `hostwerk backup` subcommand.
pub fn run(_args: BackupArgs) -> anyhow::Result<std::process::ExitCode> {
    anyhow::bail!("the backup commands are being built")
}
