//! Prints a simulated night: `cargo run --release -p hostwerk-schedule --example fleet [webservers backups contracts seed]`.

use hostwerk_schedule::{simulate, Fleet, Window, Workload};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, default: u64| args.get(i).copied().unwrap_or(default);
    let webservers = u32::try_from(arg(0, 10))?;
    let backup_servers = u32::try_from(arg(1, 2))?;
    let contracts = u32::try_from(arg(2, 200))?;
    let seed = arg(3, 1);
    // 22:00–06:00 as offsets from midnight of the first day
    let fleet = Fleet::uniform(webservers, backup_servers, Window::new(22 * 3600, 30 * 3600)?);
    let workload = Workload { contracts_per_webserver: contracts, ..Workload::default() };
    let report = simulate(&fleet, &workload, seed)?;
    print!("{report}");
    Ok(())
}
