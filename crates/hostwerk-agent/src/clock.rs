//! The two clocks the enforcer reads: the wall clock for reports and the time since boot for process ages.
//!
//! A process's start time in `/proc/<pid>/stat` (field 22) counts clock ticks since boot on the boot-time
//! clock (`CLOCK_BOOTTIME`, which also runs during suspend). The age of a process is therefore
//! `CLOCK_BOOTTIME - starttime / ticks-per-second`. This is deliberately *not* computed as
//! `wall clock - (btime + starttime / hz)`: `btime` in `/proc/stat` is the boot time truncated to whole seconds
//! (so ages would come out up to a second too long and processes would be ended early) and it moves whenever
//! the wall clock is stepped. Both ways give the same result up to that error; the boot-time clock is exact.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::time::{clock_gettime, ClockId};

/// One reading of both clocks, taken together at the start of a tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Wall-clock time since the Unix epoch (for reports).
    pub unix: Duration,
    /// Time since boot on `CLOCK_BOOTTIME` (for ages and deadlines).
    pub since_boot: Duration,
}

impl Now {
    /// Reads both clocks.
    pub fn current() -> Self {
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Self { unix, since_boot: since_boot() }
    }
}

/// `CLOCK_BOOTTIME` as a duration.
pub fn since_boot() -> Duration {
    let ts = clock_gettime(ClockId::Boottime);
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0).min(999_999_999);
    Duration::new(secs, nanos)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, from the kernel's auxiliary vector), the unit of the
/// start time in `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTicks {
    per_second: u64,
}

impl ClockTicks {
    /// The system's value (100 on every Linux the agent runs on, but read rather than assumed).
    pub fn system() -> Self {
        Self::new(rustix::param::clock_ticks_per_second())
    }

    /// A given rate; 0 is taken as 100.
    pub fn new(per_second: u64) -> Self {
        Self { per_second: if per_second == 0 { 100 } else { per_second } }
    }

    pub fn per_second(self) -> u64 {
        self.per_second
    }

    /// A tick count as a duration.
    pub fn to_duration(self, ticks: u64) -> Duration {
        let hz = self.per_second;
        let secs = ticks / hz;
        let rest = ticks % hz;
        // rest < hz, so rest * 1e9 / hz < 1e9 and fits (hz is at most a few thousand in practice; u128 anyway).
        let nanos = (u128::from(rest) * 1_000_000_000 / u128::from(hz)) as u32;
        Duration::new(secs, nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_convert() {
        let t = ClockTicks::new(100);
        assert_eq!(t.to_duration(0), Duration::ZERO);
        assert_eq!(t.to_duration(250), Duration::from_millis(2500));
        assert_eq!(t.to_duration(u64::MAX), Duration::new(u64::MAX / 100, 150_000_000));
        assert_eq!(ClockTicks::new(0).per_second(), 100);
        assert_eq!(ClockTicks::new(3).to_duration(1), Duration::new(0, 333_333_333));
    }

    #[test]
    fn clocks_read() {
        let a = Now::current();
        let b = Now::current();
        assert!(b.since_boot >= a.since_boot);
        assert!(a.since_boot > Duration::ZERO);
        assert!(a.unix.as_secs() > 1_600_000_000);
        assert!(ClockTicks::system().per_second() > 0);
    }
}
