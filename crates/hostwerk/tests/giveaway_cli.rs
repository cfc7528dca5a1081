//! `hostwerk giveaway verify` on real files: a published draw verifies (exit 0); a changed winner, seed or
//! entry gives a MISMATCH with the reason (exit 1); a file that is no draw is an error.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use chrono::{TimeZone, Utc};
use hostwerk_domain::giveaway::{draw, freeze_entries, Announcement, Comment, Commitment, Exclusions, Seed};

const BIN: &str = env!("CARGO_BIN_EXE_hostwerk");

fn published() -> String {
    let seed = Seed::from_bytes([7; 32]);
    let closing = Utc.with_ymd_and_hms(2014, 3, 3, 22, 59, 59).unwrap();
    let a = Announcement::new("Tickets", closing, 3, Commitment::of(&seed)).unwrap();
    let at = |h| Utc.with_ymd_and_hms(2014, 2, 27, h, 4, 0).unwrap();
    let comments: Vec<Comment> = ["daniel", "torben", "phil", "andreas", "torben", "nina"]
        .iter()
        .enumerate()
        .map(|(i, n)| Comment::new(i as u64 + 1, *n, format!("{n}@example.org"), at(8 + i as u32)))
        .collect();
    let entries = freeze_entries(&a, &comments, &Exclusions::new()).unwrap();
    draw(&a, &entries, &seed, "beacon 42").unwrap().to_json().unwrap()
}

fn verify(json: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("draw.json");
    std::fs::write(&file, json).unwrap();
    let out = Command::new(BIN).args(["giveaway", "verify"]).arg(&file).args(extra).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn verify_accepts_the_draw_and_finds_every_change() {
    let json = published();
    let (code, out) = verify(&json, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("OK:") && out.contains("5 entries"), "{out}");
    let (code, out) = verify(&json, &["--json"]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((code, v["valid"].as_bool()), (0, Some(true)));

    let mut doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let winners = doc["winners"].as_array().unwrap().clone();
    let mut changed = doc.clone();
    let other = (1..=5).find(|n| !winners.iter().any(|w| w.as_u64() == Some(*n))).unwrap();
    changed["winners"][0] = serde_json::json!(other);
    let (code, out) = verify(&changed.to_string(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("MISMATCH") && out.contains("winners"), "{out}");

    let mut changed = doc.clone();
    changed["seed"] = serde_json::json!("00".repeat(32));
    let (code, out) = verify(&changed.to_string(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("commitment"), "{out}");

    doc["entries"][1]["display_name"] = serde_json::json!("Mallory");
    let (code, out) = verify(&doc.to_string(), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("entry list"), "{out}");

    let (code, out) = verify("{\"not\": \"a draw\"}", &[]);
    assert_eq!(code, 1);
    assert!(out.contains("not a published giveaway draw"), "{out}");
}
