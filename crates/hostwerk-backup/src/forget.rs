//! `forget`: retention policies (keep last/daily/weekly/monthly/yearly/within) → a plan → delete snapshot files.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;

use crate::backend::FileType;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::lock::Lock;
use crate::repo::Repository;
use crate::snapshot::SnapshotInfo;

/// Which snapshots to keep. Snapshots are grouped by host and paths; the policy applies per group.
#[derive(Debug, Clone, Default)]
pub struct ForgetPolicy {
    /// Keep the newest N.
    pub keep_last: Option<u32>,
    /// Keep the newest of each of the last N days that have snapshots.
    pub keep_daily: Option<u32>,
    /// … weeks (ISO weeks).
    pub keep_weekly: Option<u32>,
    /// … months.
    pub keep_monthly: Option<u32>,
    /// … years.
    pub keep_yearly: Option<u32>,
    /// Keep all newer than the group's newest snapshot minus this.
    pub keep_within: Option<chrono::Duration>,
    /// Only consider snapshots with one of these tags (all when empty).
    pub tags: Vec<String>,
}

impl ForgetPolicy {
    fn is_empty(&self) -> bool {
        self.keep_last.is_none()
            && self.keep_daily.is_none()
            && self.keep_weekly.is_none()
            && self.keep_monthly.is_none()
            && self.keep_yearly.is_none()
            && self.keep_within.is_none()
    }
}

/// Parses durations like `30d`, `2w`, `1y6m`, `12h` (y = 365 d, m = 30 d).
pub fn parse_duration(s: &str) -> Result<chrono::Duration> {
    let bad = || Error::Invalid(format!("bad duration {s:?} (use e.g. 30d, 2w, 1y6m, 12h)"));
    let mut total = chrono::Duration::zero();
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: i64 = num.parse().map_err(|_| bad())?;
        num.clear();
        let days = match c {
            'y' => n * 365,
            'm' => n * 30,
            'w' => n * 7,
            'd' => n,
            'h' => {
                total += chrono::Duration::hours(n);
                continue;
            }
            _ => return Err(bad()),
        };
        total += chrono::Duration::days(days);
    }
    if !num.is_empty() || s.is_empty() {
        return Err(bad());
    }
    Ok(total)
}

/// One snapshot in a plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    /// Snapshot id.
    pub id: Id,
    /// Short id.
    pub short_id: String,
    /// Its time.
    pub time: DateTime<Utc>,
    /// Why it is kept (empty when removed).
    pub reasons: Vec<String>,
}

/// The plan for one host/paths group.
#[derive(Debug, Clone, Serialize)]
pub struct ForgetGroup {
    /// Host.
    pub hostname: String,
    /// Paths.
    pub paths: Vec<String>,
    /// Kept snapshots, newest first.
    pub keep: Vec<PlanEntry>,
    /// Snapshots to remove, newest first.
    pub remove: Vec<PlanEntry>,
}

/// What `forget` will do.
#[derive(Debug, Clone, Serialize)]
pub struct ForgetPlan {
    /// Per group.
    pub groups: Vec<ForgetGroup>,
}

impl ForgetPlan {
    /// Ids of all snapshots to remove.
    pub fn remove_ids(&self) -> Vec<Id> {
        self.groups.iter().flat_map(|g| g.remove.iter().map(|e| e.id)).collect()
    }
}

/// Computes which snapshots to keep and remove.
pub fn plan_forget(snapshots: &[SnapshotInfo], policy: &ForgetPolicy) -> Result<ForgetPlan> {
    if policy.is_empty() {
        return Err(Error::Invalid("no --keep-* option given; refusing to remove every snapshot".into()));
    }
    let mut groups: BTreeMap<(String, Vec<String>), Vec<&SnapshotInfo>> = BTreeMap::new();
    for s in snapshots {
        if !policy.tags.is_empty() && !policy.tags.iter().any(|t| s.snapshot.has_tag(t)) {
            continue;
        }
        groups.entry((s.snapshot.hostname.clone(), s.snapshot.paths.clone())).or_default().push(s);
    }
    let mut out = Vec::new();
    for ((hostname, paths), mut list) in groups {
        list.sort_by(|a, b| b.snapshot.time.cmp(&a.snapshot.time).then(b.id.cmp(&a.id)));
        let newest = list.first().map(|s| s.snapshot.time);
        type BucketFn = fn(&DateTime<Utc>) -> String;
        let rules: [(&str, Option<u32>, BucketFn); 4] = [
            ("daily", policy.keep_daily, |t| t.format("%Y-%m-%d").to_string()),
            ("weekly", policy.keep_weekly, |t| {
                let w = t.iso_week();
                format!("{}-{}", w.year(), w.week())
            }),
            ("monthly", policy.keep_monthly, |t| t.format("%Y-%m").to_string()),
            ("yearly", policy.keep_yearly, |t| t.format("%Y").to_string()),
        ];
        let mut remaining: Vec<u32> = rules.iter().map(|r| r.1.unwrap_or(0)).collect();
        let mut last_bucket: Vec<Option<String>> = vec![None; rules.len()];
        let mut last_left = policy.keep_last.unwrap_or(0);
        let mut group = ForgetGroup { hostname, paths, keep: Vec::new(), remove: Vec::new() };
        for s in list {
            let mut reasons = Vec::new();
            if last_left > 0 {
                last_left -= 1;
                reasons.push("last".to_string());
            }
            for (i, (name, _, bucket)) in rules.iter().enumerate() {
                if remaining[i] == 0 {
                    continue;
                }
                let b = bucket(&s.snapshot.time);
                if last_bucket[i].as_ref() != Some(&b) {
                    last_bucket[i] = Some(b);
                    remaining[i] -= 1;
                    reasons.push((*name).to_string());
                }
            }
            if let (Some(d), Some(newest)) = (policy.keep_within, newest) {
                if s.snapshot.time >= newest - d {
                    reasons.push("within".to_string());
                }
            }
            let e = PlanEntry { id: s.id, short_id: s.short_id.clone(), time: s.snapshot.time, reasons };
            if e.reasons.is_empty() {
                group.remove.push(e);
            } else {
                group.keep.push(e);
            }
        }
        out.push(group);
    }
    Ok(ForgetPlan { groups: out })
}

/// Plans and (unless `dry_run`) removes the snapshots the policy does not keep.
pub fn forget(repo: &Repository, policy: &ForgetPolicy, dry_run: bool) -> Result<ForgetPlan> {
    let _lock = Lock::shared(repo, std::time::Duration::from_secs(30))?;
    let plan = plan_forget(&repo.snapshots()?, policy)?;
    if !dry_run {
        for id in plan.remove_ids() {
            repo.backend().delete(FileType::Snapshot, &id.to_hex())?;
        }
    }
    Ok(plan)
}
