//! Duration estimates for backups and restores from byte and file counts and per-server throughput.
//!
//! # The model
//!
//! A backup of one webspace walks every file, reads and hashes the unchanged bytes only far enough to see
//! that they are unchanged (the *scan rate*, a property of the webserver's disks), and sends the changed bytes
//! to the backup server (the *write rate*, the slower of network and backup-server disks). Every file costs a
//! fixed overhead (stat, open, metadata record), and every job a fixed start-up cost (snapshot, connection):
//!
//! ```text
//! backup  = overhead + files × per_file + (bytes − changed) / scan_rate + changed / write_rate
//! restore = overhead + files × per_file + bytes / restore_rate
//! ```
//!
//! rounded up to whole seconds, computed in integers (so estimates are exact and deterministic). A running
//! job gets the full rate of its slot: a server's concurrency cap is where the host expresses how many jobs
//! its disks and network carry at that rate.
//!
//! The panel can feed [`WorkStats`] of the last run (bytes, changed bytes, files) into the same estimator;
//! [`Estimator::calibrated`] rescales a model so that it reproduces an observed run.

use crate::job::Secs;
use serde::Serialize;
use thiserror::Error;

/// What one job has to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WorkStats {
    /// Files in the webspace.
    pub files: u64,
    /// Bytes in the webspace.
    pub bytes: u64,
    /// Bytes changed since the last backup (at most `bytes`; more is treated as `bytes`).
    pub changed_bytes: u64,
}

/// Throughput figures for one webserver/backup-server pair. See the module docs for the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimator {
    /// Bytes per second at which unchanged data is scanned on the webserver.
    pub scan_bytes_per_sec: u64,
    /// Bytes per second at which changed data reaches the backup server.
    pub write_bytes_per_sec: u64,
    /// Bytes per second at which a restore writes data back to the webserver.
    pub restore_bytes_per_sec: u64,
    /// Cost per file in microseconds.
    pub per_file_micros: u64,
    /// Fixed cost per job in seconds.
    pub overhead_secs: Secs,
}

/// An estimator with a zero rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("every throughput of an estimator must be positive")]
pub struct ZeroRate;

impl Estimator {
    /// An estimator; every rate must be positive.
    ///
    /// # Errors
    /// [`ZeroRate`] if a rate is zero.
    pub fn new(
        scan_bytes_per_sec: u64,
        write_bytes_per_sec: u64,
        restore_bytes_per_sec: u64,
        per_file_micros: u64,
        overhead_secs: Secs,
    ) -> Result<Self, ZeroRate> {
        if scan_bytes_per_sec == 0 || write_bytes_per_sec == 0 || restore_bytes_per_sec == 0 {
            return Err(ZeroRate);
        }
        Ok(Self { scan_bytes_per_sec, write_bytes_per_sec, restore_bytes_per_sec, per_file_micros, overhead_secs })
    }

    /// Estimated seconds for a backup of `work`.
    #[must_use]
    pub fn backup_secs(&self, work: WorkStats) -> Secs {
        let changed = u128::from(work.changed_bytes.min(work.bytes));
        let unchanged = u128::from(work.bytes) - changed;
        // Everything in microseconds, then round up once.
        let micros = u128::from(work.files) * u128::from(self.per_file_micros)
            + div_ceil(unchanged * 1_000_000, u128::from(self.scan_bytes_per_sec.max(1)))
            + div_ceil(changed * 1_000_000, u128::from(self.write_bytes_per_sec.max(1)));
        self.overhead_secs.saturating_add(micros_to_secs(micros))
    }

    /// Estimated seconds for restoring all of `work` (changed bytes are irrelevant).
    #[must_use]
    pub fn restore_secs(&self, work: WorkStats) -> Secs {
        let micros = u128::from(work.files) * u128::from(self.per_file_micros)
            + div_ceil(u128::from(work.bytes) * 1_000_000, u128::from(self.restore_bytes_per_sec.max(1)));
        self.overhead_secs.saturating_add(micros_to_secs(micros))
    }

    /// This model with every rate and cost scaled by one factor so that a backup of `work` takes `observed`
    /// seconds (the overhead is kept). Returns `self` unchanged if `observed` does not exceed the overhead
    /// or the work is empty, since nothing can be learnt from such a run.
    #[must_use]
    pub fn calibrated(&self, work: WorkStats, observed: Secs) -> Self {
        let predicted = self.backup_secs(work).saturating_sub(self.overhead_secs);
        let observed = observed.saturating_sub(self.overhead_secs);
        if predicted == 0 || observed == 0 {
            return *self;
        }
        // rate' = rate × predicted / observed; per_file' = per_file × observed / predicted.
        let scale_rate = |r: u64| -> u64 {
            let v = u128::from(r) * u128::from(predicted) / u128::from(observed);
            u64::try_from(v).unwrap_or(u64::MAX).max(1)
        };
        let per_file = u128::from(self.per_file_micros) * u128::from(observed) / u128::from(predicted);
        Self {
            scan_bytes_per_sec: scale_rate(self.scan_bytes_per_sec),
            write_bytes_per_sec: scale_rate(self.write_bytes_per_sec),
            restore_bytes_per_sec: scale_rate(self.restore_bytes_per_sec),
            per_file_micros: u64::try_from(per_file).unwrap_or(u64::MAX),
            overhead_secs: self.overhead_secs,
        }
    }
}

fn div_ceil(a: u128, b: u128) -> u128 {
    a.div_ceil(b)
}

fn micros_to_secs(micros: u128) -> Secs {
    u64::try_from(micros.div_ceil(1_000_000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est() -> Estimator {
        // 100 MB/s scan, 10 MB/s write, 20 MB/s restore, 100 µs per file, 5 s overhead.
        Estimator::new(100_000_000, 10_000_000, 20_000_000, 100, 5).unwrap_or(Estimator {
            scan_bytes_per_sec: 1,
            write_bytes_per_sec: 1,
            restore_bytes_per_sec: 1,
            per_file_micros: 0,
            overhead_secs: 0,
        })
    }

    #[test]
    fn backup_estimate_is_the_documented_sum() {
        let w = WorkStats { files: 10_000, bytes: 1_000_000_000, changed_bytes: 100_000_000 };
        // 5 + 1 s (files) + 9 s (900 MB scan) + 10 s (100 MB write) = 25
        assert_eq!(est().backup_secs(w), 25);
        // rounding up: one byte more to write costs a whole second
        let w2 = WorkStats { changed_bytes: 100_000_001, ..w };
        assert_eq!(est().backup_secs(w2), 26);
    }

    #[test]
    fn restore_estimate_and_changed_clamped() {
        let w = WorkStats { files: 0, bytes: 200_000_000, changed_bytes: 999_000_000_000 };
        assert_eq!(est().restore_secs(w), 15);
        // changed > bytes is treated as all changed: 5 + 20
        assert_eq!(est().backup_secs(w), 25);
    }

    #[test]
    fn zero_rates_are_refused() {
        assert_eq!(Estimator::new(0, 1, 1, 0, 0), Err(ZeroRate));
    }

    #[test]
    fn calibration_reproduces_the_observed_run() {
        let w = WorkStats { files: 10_000, bytes: 1_000_000_000, changed_bytes: 100_000_000 };
        let slower = est().calibrated(w, 45); // predicted 20 s of work, observed 40 s
        assert_eq!(slower.backup_secs(w), 45);
        assert_eq!(est().calibrated(w, 3), est());
    }
}
