//! Backup jobs in the panel: their kinds and states, the on-demand allowance of a tariff, the nightly window in
//! local time, and the paths a customer may restore (parsed, never trusted).

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::tariff::BackupPolicy;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupJobKind {
    /// The guaranteed nightly backup of a contract.
    Nightly,
    /// A backup the customer (or staff) asked for.
    OnDemand,
    /// Files or mail folders back from a snapshot.
    Restore,
    /// A database back from a snapshot.
    DatabaseRestore,
}

impl BackupJobKind {
    pub const ALL: [BackupJobKind; 4] = [Self::Nightly, Self::OnDemand, Self::Restore, Self::DatabaseRestore];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nightly => "nightly",
            Self::OnDemand => "on_demand",
            Self::Restore => "restore",
            Self::DatabaseRestore => "db_restore",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Lower runs first: restores, then nightly backups, then on-demand backups.
    pub fn priority(self) -> i64 {
        match self {
            Self::Restore | Self::DatabaseRestore => 0,
            Self::Nightly => 1,
            Self::OnDemand => 2,
        }
    }

    /// Whether the job writes a new backup (as opposed to restoring one).
    pub fn is_backup(self) -> bool {
        matches!(self, Self::Nightly | Self::OnDemand)
    }
}

impl fmt::Display for BackupJobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupJobStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl BackupJobStatus {
    pub const ALL: [BackupJobStatus; 4] = [Self::Queued, Self::Running, Self::Succeeded, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// Why an on-demand backup is refused before it is queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowanceError {
    #[error("this tariff includes no on-demand backups")]
    NotIncluded,
    #[error("today's on-demand backups are used up ({used} of {allowed}); the next one is possible tomorrow")]
    DailyLimit { used: u32, allowed: u32 },
    #[error("the storage for on-demand backups is full ({used_mib} of {quota_mib} MiB); older on-demand backups expire after their retention")]
    QuotaFull { used_mib: u64, quota_mib: u64 },
    #[error("an on-demand backup of this contract is already waiting or running")]
    AlreadyPending,
}

/// What a contract has used of its on-demand allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OnDemandUsage {
    /// On-demand backups requested today (Europe/Berlin), failed ones not counted.
    pub today: u32,
    /// Bytes that kept on-demand snapshots added to the repository.
    pub stored_bytes: u64,
    /// Whether one is queued or running now.
    pub pending: bool,
}

/// Whether another on-demand backup may be queued under `policy`.
pub fn check_on_demand(policy: &BackupPolicy, usage: OnDemandUsage) -> Result<(), AllowanceError> {
    if policy.on_demand_per_day == 0 {
        return Err(AllowanceError::NotIncluded);
    }
    if usage.pending {
        return Err(AllowanceError::AlreadyPending);
    }
    if usage.today >= policy.on_demand_per_day {
        return Err(AllowanceError::DailyLimit { used: usage.today, allowed: policy.on_demand_per_day });
    }
    let quota = policy.on_demand_quota_mib.saturating_mul(1024 * 1024);
    if usage.stored_bytes >= quota {
        return Err(AllowanceError::QuotaFull {
            used_mib: usage.stored_bytes.div_ceil(1024 * 1024),
            quota_mib: policy.on_demand_quota_mib,
        });
    }
    Ok(())
}

/// The nightly backup window in local wall-clock time, e.g. 22:00–06:00 Europe/Berlin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightlyWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub zone: Tz,
}

/// A malformed window setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("the backup window is written HH:MM-HH:MM, e.g. 22:00-06:00")]
    Malformed,
    #[error("the backup window must not be empty")]
    Empty,
    #[error("unknown time zone {0:?}")]
    Zone(String),
}

/// One night's window as absolute times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Night {
    /// The local date on which the window starts; it names the night.
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl NightlyWindow {
    /// Parses `22:00-06:00` in time zone `zone`.
    pub fn parse(window: &str, zone: &str) -> Result<Self, WindowError> {
        let zone: Tz = zone.parse().map_err(|_| WindowError::Zone(zone.to_owned()))?;
        let (a, b) = window.split_once('-').ok_or(WindowError::Malformed)?;
        let t = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| WindowError::Malformed);
        let (start, end) = (t(a)?, t(b)?);
        if start == end {
            return Err(WindowError::Empty);
        }
        Ok(Self { start, end, zone })
    }

    fn local(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        // A time skipped by a DST change is taken an hour later; an ambiguous one the first time.
        let naive = date.and_time(time);
        match self.zone.from_local_datetime(&naive).earliest() {
            Some(t) => t.with_timezone(&Utc),
            None => self
                .zone
                .from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
                .map_or_else(|| Utc.from_utc_datetime(&naive), |t| t.with_timezone(&Utc)),
        }
    }

    /// The night whose window starts on local date `date`.
    pub fn night(&self, date: NaiveDate) -> Night {
        let start = self.local(date, self.start);
        let end_date = if self.end > self.start { date } else { date.succ_opt().unwrap_or(date) };
        Night { date, start, end: self.local(end_date, self.end) }
    }

    /// The night whose window contains `now`, if any.
    pub fn current(&self, now: DateTime<Utc>) -> Option<Night> {
        let today = now.with_timezone(&self.zone).date_naive();
        [today.pred_opt(), Some(today)]
            .into_iter()
            .flatten()
            .map(|d| self.night(d))
            .find(|n| n.start <= now && now < n.end)
    }

    /// The next window that has not ended at `now` (the current one while inside it).
    pub fn next_or_current(&self, now: DateTime<Utc>) -> Night {
        let today = now.with_timezone(&self.zone).date_naive();
        let mut d = today.pred_opt().unwrap_or(today);
        loop {
            let n = self.night(d);
            if now < n.end {
                return n;
            }
            d = match d.succ_opt() {
                Some(x) => x,
                None => return n,
            };
        }
    }
}

impl fmt::Display for NightlyWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{} ({})", self.start.format("%H:%M"), self.end.format("%H:%M"), self.zone)
    }
}

/// A path inside a snapshot, relative to a contract's root (its webspace or a mail folder), as a customer
/// picks it: no `..`, no empty or `.` segments, no NUL, at most 4096 bytes. The empty path is the root itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RelativePath(String);

/// A path a customer may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path must stay inside the webspace (no “..”)")]
    Escapes,
    #[error("the path contains characters that are not allowed")]
    BadCharacter,
    #[error("the path is too long")]
    TooLong,
}

impl RelativePath {
    pub fn parse(input: &str) -> Result<Self, PathError> {
        if input.len() > 4096 {
            return Err(PathError::TooLong);
        }
        if input.contains('\0') || input.contains('\\') {
            return Err(PathError::BadCharacter);
        }
        let mut parts = Vec::new();
        for seg in input.split('/') {
            match seg {
                "" | "." => continue,
                ".." => return Err(PathError::Escapes),
                s if s.chars().any(char::is_control) => return Err(PathError::BadCharacter),
                s => parts.push(s),
            }
        }
        Ok(Self(parts.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The parent folder (the root's parent is the root).
    pub fn parent(&self) -> RelativePath {
        match self.0.rsplit_once('/') {
            Some((p, _)) => Self(p.to_owned()),
            None => Self(String::new()),
        }
    }

    /// The last segment, or "" for the root.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    /// `root/self` as an absolute path string.
    pub fn under(&self, root: &str) -> String {
        let root = root.trim_end_matches('/');
        if self.0.is_empty() {
            if root.is_empty() {
                "/".to_owned()
            } else {
                root.to_owned()
            }
        } else {
            format!("{root}/{}", self.0)
        }
    }

    /// `self/name` for a child entry.
    pub fn join(&self, name: &str) -> Result<RelativePath, PathError> {
        Self::parse(&format!("{}/{name}", self.0))
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(per_day: u32, quota_mib: u64) -> BackupPolicy {
        BackupPolicy { keep_daily: 14, keep_monthly: 3, on_demand_per_day: per_day, on_demand_quota_mib: quota_mib }
    }

    #[test]
    fn allowance() {
        let p = policy(2, 100);
        assert_eq!(check_on_demand(&p, OnDemandUsage::default()), Ok(()));
        assert_eq!(
            check_on_demand(&p, OnDemandUsage { today: 2, ..Default::default() }),
            Err(AllowanceError::DailyLimit { used: 2, allowed: 2 })
        );
        assert_eq!(
            check_on_demand(&p, OnDemandUsage { stored_bytes: 100 * 1024 * 1024, ..Default::default() }),
            Err(AllowanceError::QuotaFull { used_mib: 100, quota_mib: 100 })
        );
        assert_eq!(
            check_on_demand(&p, OnDemandUsage { pending: true, ..Default::default() }),
            Err(AllowanceError::AlreadyPending)
        );
        assert_eq!(check_on_demand(&policy(0, 100), OnDemandUsage::default()), Err(AllowanceError::NotIncluded));
    }

    #[test]
    fn window_over_midnight_in_berlin() {
        let w = NightlyWindow::parse("22:00-06:00", "Europe/Berlin").unwrap();
        let n = w.night(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        assert_eq!(n.start.to_rfc3339(), "2026-11-26T21:00:00+00:00");
        assert_eq!(n.end.to_rfc3339(), "2026-11-27T05:00:00+00:00");
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(w.current(at("2026-11-27T02:00:00Z")).map(|n| n.date), NaiveDate::from_ymd_opt(2026, 11, 26));
        assert_eq!(w.current(at("2026-11-27T12:00:00Z")), None);
        assert_eq!(w.next_or_current(at("2026-11-27T12:00:00Z")).date, NaiveDate::from_ymd_opt(2026, 11, 27).unwrap());
        // summer time: 22:00 CEST is 20:00 UTC
        let s = w.night(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
        assert_eq!(s.start.to_rfc3339(), "2026-07-01T20:00:00+00:00");
        assert!(NightlyWindow::parse("22:00", "Europe/Berlin").is_err());
        assert!(NightlyWindow::parse("22:00-22:00", "Europe/Berlin").is_err());
        assert!(NightlyWindow::parse("22:00-06:00", "Mars/Base").is_err());
    }

    #[test]
    fn relative_paths() {
        assert_eq!(RelativePath::parse("/htdocs//a.txt").unwrap().as_str(), "htdocs/a.txt");
        assert_eq!(RelativePath::parse("./htdocs/").unwrap().as_str(), "htdocs");
        assert!(RelativePath::parse("").unwrap().is_root());
        assert_eq!(RelativePath::parse("a/../b"), Err(PathError::Escapes));
        assert_eq!(RelativePath::parse("a\0b"), Err(PathError::BadCharacter));
        let p = RelativePath::parse("htdocs/img/logo.png").unwrap();
        assert_eq!(p.parent().as_str(), "htdocs/img");
        assert_eq!(p.name(), "logo.png");
        assert_eq!(p.under("/var/www/k1/"), "/var/www/k1/htdocs/img/logo.png");
        assert_eq!(RelativePath::parse("").unwrap().under("/var/www/k1"), "/var/www/k1");
    }

    proptest::proptest! {
        #[test]
        fn parsed_paths_never_escape(s in "[a-z./]{0,40}") {
            if let Ok(p) = RelativePath::parse(&s) {
                proptest::prop_assert!(!p.as_str().split('/').any(|x| x == ".." || x == "." ));
                proptest::prop_assert!(!p.as_str().starts_with('/'));
                proptest::prop_assert!(p.under("/r").starts_with("/r"));
            }
        }
    }
}
