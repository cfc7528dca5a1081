//! `hostwerk giveaway verify FILE`: recomputes a published giveaway draw (the JSON from the post's page) and
//! says whether the seed matches the commitment, the entry list its hash, and the winners the draw.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hostwerk_domain::giveaway::{verify, PublishedDraw};

/// Arguments of `hostwerk giveaway`.
#[derive(Debug, clap::Args)]
pub struct GiveawayArgs {
    #[command(subcommand)]
    command: GiveawayCommand,
}

#[derive(Debug, clap::Subcommand)]
enum GiveawayCommand {
    /// Check a published draw: exit 0 when the winners match, 1 when anything does not.
    Verify {
        /// The draw's JSON (download it from the post: /blog/<post>/giveaway.json); `-` reads standard input
        file: PathBuf,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: GiveawayArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        GiveawayCommand::Verify { file, json } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
            } else {
                std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?
            };
            let draw = PublishedDraw::from_json(&text).context("the file is not a published giveaway draw")?;
            let result = verify(&draw);
            let winners: Vec<String> =
                draw.winner_entries().iter().map(|e| format!("{} {}", e.number, e.display_name)).collect();
            if json {
                let out = serde_json::json!({
                    "valid": result.is_ok(),
                    "error": result.as_ref().err().map(ToString::to_string),
                    "title": draw.title,
                    "entries": draw.entries.len(),
                    "winners": draw.winners,
                });
                println!("{out}");
            } else {
                match &result {
                    Ok(()) => println!(
                        "OK: \"{}\": {} entries, seed matches the commitment, entry list matches its hash, winners match the draw: {}",
                        draw.title,
                        draw.entries.len(),
                        winners.join(", ")
                    ),
                    Err(e) => println!("MISMATCH: \"{}\": {e}", draw.title),
                }
            }
            Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
