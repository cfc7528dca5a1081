//! `hostwerk sim nightly`: capacity planning — runs the real backup scheduler (`hostwerk-schedule`) against a
//! simulated fleet and night and prints makespan, per-server utilisation, on-demand and restore wait times, and
//! whether every nightly job met its window.

use std::process::ExitCode;

use anyhow::{bail, Context};
use hostwerk_schedule::{simulate, Fleet, Window, Workload};

/// Arguments of `hostwerk sim`.
#[derive(Debug, clap::Args)]
pub struct SimArgs {
    #[command(subcommand)]
    command: SimCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SimCommand {
    /// Simulate one night of backups with on-demand backups and restores arriving during the window.
    Nightly(NightlyArgs),
}

#[derive(Debug, clap::Args)]
struct NightlyArgs {
    /// Webservers (each backs up its contracts with its own agent)
    #[arg(long, default_value_t = 10)]
    webservers: u32,
    /// Backup servers; webservers are assigned to them round-robin
    #[arg(long, default_value_t = 2)]
    backup_servers: u32,
    /// Contracts (webspaces) per webserver: one nightly job each
    #[arg(long, default_value_t = 200)]
    contracts_per_server: u32,
    /// Files per webserver
    #[arg(long, default_value_t = 2_000_000)]
    files_per_server: u64,
    /// Gigabytes per webserver
    #[arg(long, default_value_t = 400)]
    gb_per_server: u64,
    /// Fraction of bytes changed since the last night, 0–1
    #[arg(long, default_value_t = 0.02)]
    change_rate: f64,
    /// On-demand backups per hour, fleet-wide
    #[arg(long, default_value_t = 20.0)]
    on_demand_per_hour: f64,
    /// Restores per hour, fleet-wide
    #[arg(long, default_value_t = 4.0)]
    restores_per_hour: f64,
    /// The nightly window, HH:MM-HH:MM (Europe/Berlin wall clock)
    #[arg(long, default_value = "22:00-06:00")]
    window: String,
    /// Seed of the simulation's random numbers (arrivals, sizes, duration noise)
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
}

fn minutes(hhmm: &str) -> anyhow::Result<u64> {
    let (h, m) = hhmm.trim().split_once(':').context("a time is written HH:MM")?;
    let (h, m): (u64, u64) = (h.parse().context("hours")?, m.parse().context("minutes")?);
    if h > 23 || m > 59 {
        bail!("{hhmm} is not a time of day");
    }
    Ok(h * 60 + m)
}

/// The window as seconds from midnight of the first day; an end before the start is on the next day.
fn window(spec: &str) -> anyhow::Result<Window> {
    let (a, b) = spec.split_once('-').context("the window is written HH:MM-HH:MM")?;
    let (start, mut end) = (minutes(a)? * 60, minutes(b)? * 60);
    if end <= start {
        end += 24 * 3600;
    }
    Ok(Window::new(start, end)?)
}

pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SimCommand::Nightly(a) => {
            let fleet = Fleet::uniform(a.webservers, a.backup_servers, window(&a.window)?);
            let workload = Workload {
                contracts_per_webserver: a.contracts_per_server,
                files_per_webserver: a.files_per_server,
                bytes_per_webserver: a.gb_per_server.saturating_mul(1_000_000_000),
                change_rate: a.change_rate,
                on_demand_per_hour: a.on_demand_per_hour,
                restores_per_hour: a.restores_per_hour,
                ..Workload::default()
            };
            let report = simulate(&fleet, &workload, a.seed)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{report}");
            }
            // Exit 1 when a nightly job missed its window, so scripts can use it as a check.
            Ok(if report.all_nightly_met { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse() {
        let w = window("22:00-06:00").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((w.start(), w.end()), (22 * 3600, 30 * 3600));
        assert!(window("25:00-06:00").is_err() && window("22:00").is_err());
    }
}
