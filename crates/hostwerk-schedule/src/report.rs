//! The simulator's report: nightly deadlines, makespan, per-server utilisation, waiting times; a readable
//! table via `Display` and JSON via `serde`.

use crate::job::{JobId, Secs, ServerId, Time, Window};
use serde::Serialize;
use std::fmt;

/// A nightly job that finished after its deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NightlyMiss {
    /// The job.
    pub job: JobId,
    /// Its webserver.
    pub webserver: ServerId,
    /// Its backup server.
    pub backup_server: ServerId,
    /// When it finished.
    pub finished: Time,
    /// Its deadline.
    pub deadline: Time,
    /// `finished − deadline`.
    pub late_by: Secs,
}

/// How busy one server was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerUsage {
    /// The server.
    pub id: ServerId,
    /// Its cap.
    pub cap: usize,
    /// Jobs it ran (whole run).
    pub jobs: usize,
    /// Slot-seconds busy inside the window (a job's part outside the window does not count).
    pub busy_secs: Secs,
    /// `busy_secs / (cap × window length)`, in [0, 1].
    pub utilisation: f64,
    /// Most jobs running at once (whole run); never above `cap`.
    pub peak: usize,
}

impl ServerUsage {
    /// Usage from the (start, end) intervals of the jobs that ran on the server.
    #[must_use]
    pub fn from_intervals(id: ServerId, cap: usize, window: Window, intervals: &[(Time, Time)]) -> Self {
        let busy_secs: Secs =
            intervals.iter().map(|&(s, e)| e.min(window.end()).saturating_sub(s.max(window.start()))).sum();
        let capacity = (cap as f64) * (window.len_secs() as f64);
        let utilisation = if capacity > 0.0 { (busy_secs as f64 / capacity).clamp(0.0, 1.0) } else { 0.0 };
        // Sweep: ends before starts at equal times (a slot freed at t can be reused at t).
        let mut edges: Vec<(Time, i8)> = intervals.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
        edges.sort_unstable();
        let (mut now, mut peak) = (0i64, 0i64);
        for (_, d) in edges {
            now += i64::from(d);
            peak = peak.max(now);
        }
        Self { id, cap, jobs: intervals.len(), busy_secs, utilisation, peak: usize::try_from(peak).unwrap_or(0) }
    }
}

/// Waiting times (start − submission) of one kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WaitStats {
    /// Jobs.
    pub count: usize,
    /// Median wait (nearest rank); 0 without jobs.
    pub median: Secs,
    /// 95th percentile (nearest rank).
    pub p95: Secs,
    /// Longest wait.
    pub max: Secs,
}

impl WaitStats {
    /// Statistics of `waits` (any order).
    #[must_use]
    pub fn from_waits(mut waits: Vec<Secs>) -> Self {
        waits.sort_unstable();
        let rank = |p: usize| -> Secs {
            if waits.is_empty() {
                return 0;
            }
            // nearest rank: ceil(p/100 · n), 1-based
            let r = (p * waits.len()).div_ceil(100).max(1);
            waits[r - 1]
        };
        Self { count: waits.len(), median: rank(50), p95: rank(95), max: waits.last().copied().unwrap_or(0) }
    }
}

/// Everything one simulated night produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimReport {
    /// The seed.
    pub seed: u64,
    /// Window start.
    pub window_start: Time,
    /// Window end (every nightly deadline).
    pub window_end: Time,
    /// Nightly jobs run.
    pub nightly_jobs: usize,
    /// Nightly jobs that finished by their deadline.
    pub nightly_met: usize,
    /// Whether every nightly job did.
    pub all_nightly_met: bool,
    /// The ones that did not, in job order.
    pub nightly_misses: Vec<NightlyMiss>,
    /// From window start to the end of the last nightly job.
    pub makespan: Secs,
    /// When the last job of any kind ended.
    pub last_job_end: Time,
    /// Per webserver, in fleet order.
    pub webservers: Vec<ServerUsage>,
    /// Per backup server, in fleet order.
    pub backup_servers: Vec<ServerUsage>,
    /// On-demand backups.
    pub on_demand: WaitStats,
    /// Restores.
    pub restores: WaitStats,
}

/// `h:mm:ss`.
fn hms(s: Secs) -> String {
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

impl fmt::Display for SimReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let window = self.window_end - self.window_start;
        writeln!(f, "Nightly backup simulation (seed {})", self.seed)?;
        writeln!(f, "window          {}", hms(window))?;
        writeln!(
            f,
            "makespan        {} ({:.0} % of the window)",
            hms(self.makespan),
            100.0 * self.makespan as f64 / window.max(1) as f64
        )?;
        if self.all_nightly_met {
            writeln!(f, "nightly jobs    {} of {} met the window", self.nightly_met, self.nightly_jobs)?;
        } else {
            writeln!(
                f,
                "nightly jobs    {} of {} met the window, {} MISSED",
                self.nightly_met,
                self.nightly_jobs,
                self.nightly_misses.len()
            )?;
            for m in self.nightly_misses.iter().take(10) {
                writeln!(
                    f,
                    "  job {} on webserver {} / backup {}: late by {}",
                    m.job,
                    m.webserver,
                    m.backup_server,
                    hms(m.late_by)
                )?;
            }
            if self.nightly_misses.len() > 10 {
                writeln!(f, "  … and {} more", self.nightly_misses.len() - 10)?;
            }
        }
        writeln!(f, "last job ended  {} after window start", hms(self.last_job_end - self.window_start))?;
        writeln!(f)?;
        writeln!(f, "{:<12} {:>6} {:>10} {:>10} {:>10}", "waits", "jobs", "median", "p95", "max")?;
        for (name, w) in [("on-demand", &self.on_demand), ("restore", &self.restores)] {
            writeln!(f, "{:<12} {:>6} {:>10} {:>10} {:>10}", name, w.count, hms(w.median), hms(w.p95), hms(w.max))?;
        }
        writeln!(f)?;
        writeln!(f, "{:<12} {:>4} {:>6} {:>5} {:>12} {:>7}", "server", "cap", "jobs", "peak", "busy", "util")?;
        for (prefix, list) in [("web", &self.webservers), ("backup", &self.backup_servers)] {
            for s in list {
                writeln!(
                    f,
                    "{:<12} {:>4} {:>6} {:>5} {:>12} {:>6.1}%",
                    format!("{prefix} {}", s.id),
                    s.cap,
                    s.jobs,
                    s.peak,
                    hms(s.busy_secs),
                    100.0 * s.utilisation
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_stats_nearest_rank() {
        let w = WaitStats::from_waits((1..=20).rev().collect());
        assert_eq!((w.count, w.median, w.p95, w.max), (20, 10, 19, 20));
        assert_eq!(WaitStats::from_waits(vec![]), WaitStats::default());
    }

    #[test]
    fn usage_clips_to_window_and_counts_peak() {
        let window = Window::new(100, 200).unwrap_or_else(|_| unreachable!());
        let u = ServerUsage::from_intervals(ServerId(1), 2, window, &[(50, 150), (150, 250), (120, 150)]);
        assert_eq!(u.busy_secs, 50 + 50 + 30);
        assert_eq!(u.peak, 2);
        assert!((u.utilisation - 0.65).abs() < 1e-9);
    }
}
