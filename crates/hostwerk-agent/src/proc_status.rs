//! Parser for the `Uid:` line of `/proc/<pid>/status` (real, effective, saved and filesystem uid).
//!
//! The scan takes the uid from the owner of `/proc/<pid>` instead (one `stat` call, no text for the kernel
//! to format); this file is read only when a process is about to be signalled, to check its real uid too.

/// The real and effective uid of a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uids {
    pub real: u32,
    pub effective: u32,
}

/// Finds the `Uid:` line in the contents of `/proc/<pid>/status`.
pub fn parse_uids(bytes: &[u8]) -> Option<Uids> {
    let line = bytes.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(b"Uid:"))?;
    let mut fields = line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
    let real = crate::proc_stat::parse_u64(fields.next()?)?;
    let effective = crate::proc_stat::parse_u64(fields.next()?)?;
    Some(Uids { real: u32::try_from(real).ok()?, effective: u32::try_from(effective).ok()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_uid_line() {
        let text = b"Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t5\nUid:\t1001\t1002\t1003\t1004\nGid:\t0\t0\t0\t0\n";
        assert_eq!(parse_uids(text), Some(Uids { real: 1001, effective: 1002 }));
        assert_eq!(parse_uids(b"Name:\tUid: 5 5\n"), None);
        assert_eq!(parse_uids(b"Uid:\t5\n"), None);
        assert_eq!(parse_uids(b"Uid:\t99999999999\t1\n"), None);
        assert_eq!(parse_uids(b""), None);
    }

    #[test]
    fn reads_our_own() {
        let text = std::fs::read("/proc/self/status").unwrap();
        let uids = parse_uids(&text).unwrap();
        assert_eq!(uids.real, rustix::process::getuid().as_raw());
        assert_eq!(uids.effective, rustix::process::geteuid().as_raw());
    }
}
