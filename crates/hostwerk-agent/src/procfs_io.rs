//! Small, allocation-free reads from `/proc`: paths built on the stack, files read into reused buffers.

use std::ffi::CStr;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{openat, Mode, OFlags, CWD};
use rustix::io::{self, Errno};

/// Opens `/proc` as a directory.
pub(crate) fn open_proc() -> io::Result<OwnedFd> {
    openat(CWD, c"/proc", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
}

/// A path `<pid>` or `<pid>/<file>` relative to `/proc`, NUL-terminated, on the stack.
pub(crate) struct PidPath {
    buf: [u8; 48],
}

impl PidPath {
    pub(crate) fn new(pid: u32, file: &str) -> Option<Self> {
        let mut buf = [0u8; 48];
        let mut digits = [0u8; 10];
        let mut n = pid;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        let mut at = 0;
        for i in (0..len).rev() {
            buf[at] = digits[i];
            at += 1;
        }
        if !file.is_empty() {
            let end = at + 1 + file.len();
            // Room for the terminating NUL; file names are constants without NUL bytes.
            if end >= buf.len() || file.as_bytes().contains(&0) {
                return None;
            }
            buf[at] = b'/';
            buf[at + 1..end].copy_from_slice(file.as_bytes());
        }
        Some(Self { buf })
    }

    pub(crate) fn as_cstr(&self) -> &CStr {
        // The buffer is zero-initialised and at least its last byte stays 0.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// Reads the whole file at `path` (relative to `dir`) into `buf`, growing it when needed, and returns its
/// length. `buf` keeps its size between calls so no memory is allocated once it is large enough.
///
/// A short read that ends in a newline is taken as the whole file: `/proc/<pid>/stat` and `status` are
/// single-record seq files that the kernel hands over in one read when the buffer is large enough, so this
/// saves the second `read` that would only return 0.
pub(crate) fn read_small(dir: impl AsFd, path: &CStr, buf: &mut Vec<u8>) -> io::Result<usize> {
    let fd = openat(dir, path, OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty())?;
    if buf.len() < 1024 {
        buf.resize(1024, 0);
    }
    let mut n = 0;
    loop {
        if n == buf.len() {
            if buf.len() >= 1 << 20 {
                return Err(Errno::FBIG);
            }
            let grown = buf.len() * 2;
            buf.resize(grown, 0);
        }
        let want = buf.len() - n;
        let got = match io::read(&fd, &mut buf[n..]) {
            Ok(got) => got,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e),
        };
        n += got;
        if got == 0 || (got < want && buf[n - 1] == b'\n') {
            return Ok(n);
        }
    }
}

/// Whether an error means the process is gone (it exited between listing and reading).
pub(crate) fn is_gone(e: Errno) -> bool {
    e == Errno::NOENT || e == Errno::SRCH || e == Errno::NOTDIR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_paths() {
        assert_eq!(PidPath::new(0, "").unwrap().as_cstr(), c"0");
        assert_eq!(PidPath::new(1234, "stat").unwrap().as_cstr(), c"1234/stat");
        assert_eq!(PidPath::new(u32::MAX, "status").unwrap().as_cstr(), c"4294967295/status");
        assert!(PidPath::new(1, "a-very-long-file-name-that-does-not-fit-here-at-all").is_none());
    }

    #[test]
    fn reads_small_files() {
        let proc = open_proc().unwrap();
        let mut buf = Vec::new();
        let path = PidPath::new(std::process::id(), "stat").unwrap();
        let n = read_small(&proc, path.as_cstr(), &mut buf).unwrap();
        assert_eq!(crate::proc_stat::parse(&buf[..n]).unwrap().pid, std::process::id());
        let path = PidPath::new(std::process::id(), "status").unwrap();
        let mut tiny = vec![0u8; 1];
        let n = read_small(&proc, path.as_cstr(), &mut tiny).unwrap();
        assert!(n > 1024 && tiny[..n].starts_with(b"Name:"));
        let err = read_small(&proc, PidPath::new(u32::MAX, "stat").unwrap().as_cstr(), &mut buf).unwrap_err();
        assert!(is_gone(err));
    }
}
