//! One cheap pass over `/proc` that lists the live processes of the users the caller asks for.
//!
//! What a pass costs per process in `/proc` (measured on the 2-core development VM with 10,000 processes,
//! caches cold as they are when a scan runs once a second between other work):
//!
//! - the directory entry, from `getdents64` into a reused buffer (≈0.5–1 µs). The kernel fills in the real
//!   inode number of `/proc/<pid>`;
//! - the owner, from one `statat` of `/proc/<pid>` (≈1 µs; no text for the kernel to format and nothing to
//!   parse — `/proc/<pid>/status` would cost an open, ~1.5 KB of formatted text and a parse);
//! - for processes of wanted users: open, read and parse `/proc/<pid>/stat` (≈6 µs, most of it the kernel
//!   gathering its ~50 fields).
//!
//! The scan remembers, per pid, the inode number, the owner and (for wanted users) the start time. A proc
//! inode belongs to one process for its whole life and a new process with a recycled pid gets a new inode,
//! so while the inode number from `getdents64` is unchanged, the remembered start time is right (it never
//! changes) and `stat` is not read again; a changed inode number means everything is read afresh. The owner
//! *can* change (a process forked by root switches to a customer's uid), so it is looked up again every
//! [`Scanner::set_uid_refresh`] scans, spread over the pids so that each scan does the same share; the
//! enforcer sets that period to at most a quarter of the shortest limit, so a process that changes its uid
//! is seen long before its deadline. None of this memory is trusted for signalling: before every signal
//! [`crate::signal::send_verified`] re-reads start time and uids after opening a pidfd.
//!
//! The owner of `/proc/<pid>` is the process's *effective* uid — or root when the process is not dumpable
//! (after a set-uid exec or `prctl(PR_SET_DUMPABLE, 0)`). Such processes are skipped, which errs on the safe
//! side: they are never signalled. The real uid is checked as well before any signal (from
//! `/proc/<pid>/status`), so a root process that has only borrowed a customer's uid as its effective uid is
//! never touched either.
//!
//! `getdents64` lists pids in ascending order, so the memory is a sorted vector merged with the listing
//! (no hashing); nothing is allocated per process once the buffers have grown.

use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;

use rustix::fs::{seek, statat, AtFlags, RawDir, SeekFrom};
use rustix::io::Errno;

use crate::proc_stat;
use crate::procfs_io::{is_gone, open_proc, read_small, PidPath};

/// A live process of a wanted user, as the scan saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub pid: u32,
    /// The owner of `/proc/<pid>` (the effective uid).
    pub uid: u32,
    /// Start time in clock ticks since boot; with the pid it identifies the process.
    pub starttime: u64,
}

/// What the scanner remembers of a process.
#[derive(Debug, Clone, Copy)]
struct Entry {
    pid: u32,
    ino: u64,
    uid: u32,
    /// Start time, once `stat` has been read (only for wanted users).
    starttime: Option<u64>,
    /// A zombie when `stat` was last read: not listed until its inode changes or it is forgotten.
    dead: bool,
}

/// Counters of the last scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Numeric entries in `/proc`.
    pub processes: usize,
    /// `statat` calls for the owner (the rest were remembered).
    pub owner_lookups: usize,
    /// Entries whose owner was wanted.
    pub wanted: usize,
    /// `stat` files read (the rest were remembered).
    pub read: usize,
    /// Processes that vanished between listing and reading.
    pub vanished: usize,
    /// `stat` files that did not parse (should stay 0).
    pub unparsable: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot open /proc: {0}")]
    Open(#[source] std::io::Error),
    #[error("cannot list /proc: {0}")]
    List(#[source] std::io::Error),
}

/// Lists candidate processes; keeps its buffers and what it learnt between scans.
#[derive(Debug)]
pub struct Scanner {
    proc: OwnedFd,
    dir_buf: Vec<MaybeUninit<u8>>,
    file_buf: Vec<u8>,
    found: Vec<Candidate>,
    /// Sorted by pid: the entries of the last scan, and the spare vector the next scan fills.
    entries: Vec<Entry>,
    spare: Vec<Entry>,
    scans: u32,
    uid_refresh: u32,
    stats: ScanStats,
}

impl Scanner {
    /// Opens `/proc`. The owner of a known process is looked up again every scan until
    /// [`Scanner::set_uid_refresh`] says otherwise.
    pub fn new() -> Result<Self, ScanError> {
        let proc = open_proc().map_err(|e| ScanError::Open(e.into()))?;
        Ok(Self {
            proc,
            dir_buf: vec![MaybeUninit::uninit(); 64 * 1024],
            file_buf: vec![0; 1024],
            found: Vec::new(),
            entries: Vec::new(),
            spare: Vec::new(),
            scans: 0,
            uid_refresh: 1,
            stats: ScanStats::default(),
        })
    }

    /// Looks up the owner of each known process every `scans` scans (at least 1: every scan); new
    /// processes are always looked up.
    pub fn set_uid_refresh(&mut self, scans: u32) {
        self.uid_refresh = scans.max(1);
    }

    /// Lists the processes whose uid `wanted` accepts, leaving out zombies. uid 0 is never listed, whatever
    /// `wanted` says. A process that became a zombie since its `stat` was read is still listed until it is
    /// [forgotten](Scanner::forget) or reaped; the signal path sees it as gone.
    pub fn scan(&mut self, wanted: impl Fn(u32) -> bool) -> Result<&[Candidate], ScanError> {
        self.found.clear();
        self.scans = self.scans.wrapping_add(1);
        let (scans, refresh) = (self.scans, self.uid_refresh);
        let old = std::mem::take(&mut self.entries);
        let mut new = std::mem::take(&mut self.spare);
        new.clear();
        let mut stats = ScanStats::default();
        let listed = self.list(&old, &mut new, &mut stats, scans, refresh, &wanted);
        self.entries = new;
        self.spare = old;
        self.stats = stats;
        listed?;
        Ok(&self.found)
    }

    fn list(
        &mut self,
        old: &[Entry],
        new: &mut Vec<Entry>,
        stats: &mut ScanStats,
        scans: u32,
        refresh: u32,
        wanted: &impl Fn(u32) -> bool,
    ) -> Result<(), ScanError> {
        seek(&self.proc, SeekFrom::Start(0)).map_err(|e| ScanError::List(e.into()))?;
        let mut dir = RawDir::new(&self.proc, &mut self.dir_buf);
        let mut at = 0;
        while let Some(item) = dir.next() {
            let item = item.map_err(|e| ScanError::List(e.into()))?;
            let name = item.file_name();
            let Some(pid) = proc_stat::parse_u64(name.to_bytes()).and_then(|p| u32::try_from(p).ok()) else {
                continue;
            };
            stats.processes += 1;
            while at < old.len() && old[at].pid < pid {
                at += 1;
            }
            let known = old.get(at).filter(|e| e.pid == pid && e.ino == item.ino());
            let due = scans.wrapping_add(pid) % refresh == 0;
            let mut entry = match known {
                Some(e) if !due => *e,
                _ => {
                    stats.owner_lookups += 1;
                    let st = match statat(&self.proc, name, AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => st,
                        Err(e) if is_gone(e) => {
                            stats.vanished += 1;
                            continue;
                        }
                        Err(_) => continue,
                    };
                    match known.filter(|e| e.ino == st.st_ino) {
                        Some(e) => Entry { uid: st.st_uid, ..*e },
                        None => Entry { pid, ino: st.st_ino, uid: st.st_uid, starttime: None, dead: false },
                    }
                }
            };
            if entry.uid != 0 && wanted(entry.uid) {
                stats.wanted += 1;
                if entry.starttime.is_none() {
                    stats.read += 1;
                    let Some(path) = PidPath::new(pid, "stat") else { continue };
                    let n = match read_small(&self.proc, path.as_cstr(), &mut self.file_buf) {
                        Ok(n) => n,
                        Err(e) if is_gone(e) || e == Errno::ACCESS => {
                            stats.vanished += 1;
                            continue;
                        }
                        Err(_) => continue,
                    };
                    match proc_stat::parse(&self.file_buf[..n]) {
                        Ok(stat) => {
                            entry.starttime = Some(stat.starttime);
                            entry.dead = stat.is_dead();
                        }
                        Err(_) => {
                            stats.unparsable += 1;
                            continue;
                        }
                    }
                }
                if let (Some(starttime), false) = (entry.starttime, entry.dead) {
                    self.found.push(Candidate { pid, uid: entry.uid, starttime });
                }
            }
            new.push(entry);
        }
        Ok(())
    }

    /// Makes the next scan look the process up afresh: owner and `stat` (to notice it has become a zombie).
    pub fn forget(&mut self, pid: u32) {
        if let Ok(i) = self.entries.binary_search_by_key(&pid, |e| e.pid) {
            // Inode 0 never matches a listing, so the entry counts as new.
            self.entries[i].ino = 0;
        }
    }

    /// Counters of the last scan.
    pub fn stats(&self) -> ScanStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_own_process_and_never_root() {
        let mut scanner = Scanner::new().unwrap();
        let me = rustix::process::geteuid().as_raw();
        let pid = std::process::id();
        let found = scanner.scan(|_| true).unwrap().to_vec();
        assert!(found.iter().all(|c| c.uid != 0));
        if me != 0 {
            assert!(found.iter().any(|c| c.pid == pid && c.uid == me));
        }
        assert!(scanner.stats().processes > 1);
        let read = scanner.stats().read;
        assert_eq!(read, scanner.stats().wanted);
        assert_eq!(scanner.stats().owner_lookups, scanner.stats().processes);
        // The second scan reads no stat it already knows; with a long refresh it hardly looks up owners.
        scanner.set_uid_refresh(1000);
        let again = scanner.scan(|_| true).unwrap().to_vec();
        let stats = scanner.stats();
        assert!(stats.read < read.max(1), "{stats:?}");
        assert!(stats.owner_lookups < stats.processes / 2, "{stats:?}");
        if me != 0 {
            assert!(again.iter().any(|c| c.pid == pid && c.uid == me));
            scanner.forget(pid);
            scanner.scan(|u| u == me).unwrap();
            assert!(scanner.stats().read >= 1);
        }
        let none = scanner.scan(|_| false).unwrap();
        assert!(none.is_empty());
        assert_eq!(scanner.stats().wanted, 0);
        assert_eq!(scanner.stats().unparsable, 0);
    }
}
