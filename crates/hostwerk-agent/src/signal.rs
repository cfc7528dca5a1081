//! Signals a process through a pidfd, and only after checking it is still the process that was scanned.
//!
//! A pid names a process only until it is reaped; then the kernel may give the number to a new process. The
//! pair (pid, start time) names exactly one process. So [`send_verified`]
//!
//! 1. opens a pidfd for the pid (`pidfd_open`): from here on the fd refers to one process, whatever happens
//!    to the number;
//! 2. reads `/proc/<pid>/status` and checks the real and effective uid are the expected (non-root) uid;
//! 3. reads `/proc/<pid>/stat` *last* and checks the start time is the one the scan saw, and that the process
//!    has not exited.
//!
//! If the start time still matches in step 3, the scanned process held the pid at that moment; a pid is not
//! reused while its process exists, so it also held it in steps 1 and 2, the pidfd refers to it and the uids
//! read were its own. Only then is the signal sent, through the pidfd (`pidfd_send_signal`): if the process
//! has died and its pid was taken in the meantime, the send fails with ESRCH instead of hitting the newcomer.
//!
//! All of it uses rustix's safe wrappers of the two syscalls; this crate has no `unsafe`.

use rustix::io::Errno;
use rustix::process::{pidfd_open, pidfd_send_signal, Pid, PidfdFlags, Signal};

use crate::proc_stat;
use crate::proc_status;
use crate::procfs_io::{is_gone, open_proc, read_small, PidPath};
use crate::report::KillSignal;

/// The process to signal, as the scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub pid: u32,
    pub uid: u32,
    /// Start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`).
    pub starttime: u64,
}

/// Why a target was not signalled although a process with its pid exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// The pid now belongs to another process (or the expected start time was wrong).
    StartTime { found: u64 },
    /// The process's real or effective uid is not the expected one.
    Uid { real: u32, effective: u32 },
    /// The target's uid is 0: root's processes are never signalled.
    Root,
}

/// What [`send_verified`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The signal was delivered; the command name and state were read just before.
    Sent { comm: String },
    /// The process has exited (no such pid, or only a zombie is left).
    Gone,
    /// A process with the pid exists but is not the target; nothing was sent.
    Refused(Mismatch),
}

#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("pidfd_open({pid}) failed: {source}")]
    Open { pid: u32, source: std::io::Error },
    #[error("reading /proc/{pid}: {source}")]
    Read { pid: u32, source: std::io::Error },
    #[error("/proc/{pid}/{file} has an unexpected format")]
    Format { pid: u32, file: &'static str },
    #[error("pidfd_send_signal({pid}, {signal}) failed: {source}", signal = .signal.as_str())]
    Send { pid: u32, signal: KillSignal, source: std::io::Error },
}

/// Sends `signal` to the target if, and only if, it is still the scanned process of the scanned (non-root)
/// user; see the module documentation for why this cannot hit a process that reused the pid.
pub fn send_verified(target: &Target, signal: KillSignal) -> Result<Outcome, SignalError> {
    let pid = target.pid;
    if target.uid == 0 {
        return Ok(Outcome::Refused(Mismatch::Root));
    }
    let Some(raw) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
        return Ok(Outcome::Gone);
    };
    let pidfd = match pidfd_open(raw, PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(Errno::SRCH) => return Ok(Outcome::Gone),
        Err(e) => return Err(SignalError::Open { pid, source: e.into() }),
    };

    let proc = open_proc().map_err(|e| SignalError::Read { pid, source: e.into() })?;
    let mut buf = Vec::new();
    let read = |file: &'static str, buf: &mut Vec<u8>| -> Result<Option<usize>, SignalError> {
        let path = PidPath::new(pid, file).ok_or(SignalError::Format { pid, file })?;
        match read_small(&proc, path.as_cstr(), buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if is_gone(e) => Ok(None),
            Err(e) => Err(SignalError::Read { pid, source: e.into() }),
        }
    };

    let Some(n) = read("status", &mut buf)? else { return Ok(Outcome::Gone) };
    let uids = proc_status::parse_uids(&buf[..n]).ok_or(SignalError::Format { pid, file: "status" })?;

    let Some(n) = read("stat", &mut buf)? else { return Ok(Outcome::Gone) };
    let stat = proc_stat::parse(&buf[..n]).map_err(|_| SignalError::Format { pid, file: "stat" })?;
    if stat.starttime != target.starttime {
        return Ok(Outcome::Refused(Mismatch::StartTime { found: stat.starttime }));
    }
    if stat.is_dead() {
        return Ok(Outcome::Gone);
    }
    if uids.real != target.uid || uids.effective != target.uid {
        return Ok(Outcome::Refused(Mismatch::Uid { real: uids.real, effective: uids.effective }));
    }
    let comm = stat.comm_lossy();

    let sig = match signal {
        KillSignal::Term => Signal::TERM,
        KillSignal::Kill => Signal::KILL,
    };
    match pidfd_send_signal(&pidfd, sig) {
        Ok(()) => Ok(Outcome::Sent { comm }),
        Err(Errno::SRCH) => Ok(Outcome::Gone),
        Err(e) => Err(SignalError::Send { pid, signal, source: e.into() }),
    }
}

/// Whether the process (pid, start time) still exists and has not exited.
pub fn is_alive(pid: u32, starttime: u64) -> bool {
    let Ok(proc) = open_proc() else { return true };
    let Some(path) = PidPath::new(pid, "stat") else { return false };
    let mut buf = Vec::new();
    match read_small(&proc, path.as_cstr(), &mut buf) {
        Ok(n) => match proc_stat::parse(&buf[..n]) {
            Ok(st) => st.starttime == starttime && !st.is_dead(),
            Err(_) => false,
        },
        Err(e) if is_gone(e) => false,
        // Unknown errors: assume alive, so the process is looked at again instead of reported as ended.
        Err(_) => true,
    }
}

/// The start time of a live process, from `/proc/<pid>/stat`.
pub fn starttime_of(pid: u32) -> Option<u64> {
    let proc = open_proc().ok()?;
    let path = PidPath::new(pid, "stat")?;
    let mut buf = Vec::new();
    let n = read_small(&proc, path.as_cstr(), &mut buf).ok()?;
    proc_stat::parse(&buf[..n]).ok().map(|s| s.starttime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_root_and_unknown_pids() {
        let me = std::process::id();
        let start = starttime_of(me).unwrap();
        let root = Target { pid: me, uid: 0, starttime: start };
        assert_eq!(send_verified(&root, KillSignal::Term).unwrap(), Outcome::Refused(Mismatch::Root));
        // pid_max is at most 2^22, so this pid never exists.
        let none = Target { pid: 1 << 23, uid: 1000, starttime: 1 };
        assert_eq!(send_verified(&none, KillSignal::Kill).unwrap(), Outcome::Gone);
        assert!(!is_alive(1 << 23, 1));
        assert!(is_alive(me, start));
        assert!(!is_alive(me, start + 1));
    }

    #[test]
    fn refuses_a_wrong_uid_or_start_time_on_our_own_process() {
        let me = std::process::id();
        let start = starttime_of(me).unwrap();
        let uid = rustix::process::getuid().as_raw();
        // We are certainly not uid 4242424: refused, never signalled (a TERM would end this test run).
        let other = Target { pid: me, uid: 4_242_424, starttime: start };
        assert!(matches!(send_verified(&other, KillSignal::Term).unwrap(), Outcome::Refused(Mismatch::Uid { .. })));
        if uid != 0 {
            let wrong = Target { pid: me, uid, starttime: start + 1 };
            assert_eq!(
                send_verified(&wrong, KillSignal::Term).unwrap(),
                Outcome::Refused(Mismatch::StartTime { found: start })
            );
        }
    }
}
