//! Parser for `/proc/<pid>/stat`: pid, command name, state and start time, whatever the command name holds.
//!
//! The command name (`comm`, field 2) is chosen by the process and may contain spaces, parentheses, newlines
//! and anything but NUL, so splitting the line on spaces is wrong. The kernel prints it as `(comm)` and no field
//! after it contains a `)`, so the name runs from the first `(` to the *last* `)`; the numeric fields follow.

/// The fields of `/proc/<pid>/stat` the agent uses, borrowing the command name from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat<'a> {
    /// Field 1, the process id.
    pub pid: u32,
    /// Field 2, the command name without the parentheses (raw bytes, not necessarily UTF-8).
    pub comm: &'a [u8],
    /// Field 3, the state letter (`R`, `S`, `D`, `Z`, …).
    pub state: u8,
    /// Field 22, the start time in clock ticks since boot.
    pub starttime: u64,
}

impl Stat<'_> {
    /// The command name as text, invalid UTF-8 replaced.
    pub fn comm_lossy(&self) -> String {
        String::from_utf8_lossy(self.comm).into_owned()
    }

    /// Whether the process has exited and only its entry is left (zombie `Z`, dead `X`/`x`).
    pub fn is_dead(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("no '(' before the command name")]
    NoCommStart,
    #[error("no ')' after the command name")]
    NoCommEnd,
    #[error("the pid is not a number")]
    BadPid,
    #[error("field {0} is missing")]
    MissingField(u8),
    #[error("field {0} is not a number")]
    BadNumber(u8),
}

/// Index of the start time among the fields after the command name (field 3 is index 0).
const STARTTIME_INDEX: usize = 22 - 3;

/// Parses the contents of `/proc/<pid>/stat`.
pub fn parse(bytes: &[u8]) -> Result<Stat<'_>, ParseError> {
    let open = bytes.iter().position(|&b| b == b'(').ok_or(ParseError::NoCommStart)?;
    let close = bytes.iter().rposition(|&b| b == b')').ok_or(ParseError::NoCommEnd)?;
    if close < open {
        return Err(ParseError::NoCommEnd);
    }
    let pid = parse_u64(trim_ascii(&bytes[..open])).ok_or(ParseError::BadPid)?;
    let pid = u32::try_from(pid).map_err(|_| ParseError::BadPid)?;
    let comm = &bytes[open + 1..close];

    let mut fields = bytes[close + 1..].split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
    let state = match fields.next() {
        Some([s]) => *s,
        Some(_) => return Err(ParseError::BadNumber(3)),
        None => return Err(ParseError::MissingField(3)),
    };
    let starttime = fields.nth(STARTTIME_INDEX - 1).ok_or(ParseError::MissingField(22))?;
    let starttime = parse_u64(starttime).ok_or(ParseError::BadNumber(22))?;
    Ok(Stat { pid, comm, state, starttime })
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// A non-empty run of ASCII digits as u64, `None` on anything else or overflow.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &d| {
        if d.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(pid: &str, comm: &[u8], state: &str, start: &str) -> Vec<u8> {
        let mut v = format!("{pid} (").into_bytes();
        v.extend_from_slice(comm);
        v.extend_from_slice(
            format!(") {state} 1 1234 1234 0 -1 4194560 120 0 0 0 3 1 0 0 20 0 1 0 {start} 5558272 186 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
                .as_bytes(),
        );
        v
    }

    #[test]
    fn parses_a_plain_line() {
        let real = b"4242 (sleep) S 1 4242 4242 0 -1 4194560 98 0 0 0 0 0 0 0 20 0 1 0 987654 5558272 186 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
        let s = parse(real).unwrap();
        assert_eq!(s, Stat { pid: 4242, comm: b"sleep", state: b'S', starttime: 987_654 });
        assert!(!s.is_dead());
    }

    #[test]
    fn comm_with_spaces_and_parentheses() {
        for comm in [
            &b"a) b (c"[..],
            b"x y",
            b"((",
            b"))",
            b") S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 (",
            b"",
            b"tab\there\nnl",
            b"\xff\xfe",
        ] {
            let bytes = line("17", comm, "R", "31337");
            let s = parse(&bytes).unwrap();
            assert_eq!(s.comm, comm);
            assert_eq!(s.pid, 17);
            assert_eq!(s.starttime, 31_337);
        }
        assert_eq!(parse(&line("1", b"a) b (c", "S", "5")).unwrap().comm_lossy(), "a) b (c");
    }

    #[test]
    fn states() {
        assert!(parse(&line("3", b"z", "Z", "9")).unwrap().is_dead());
        assert!(parse(&line("3", b"z", "X", "9")).unwrap().is_dead());
        assert!(!parse(&line("3", b"z", "D", "9")).unwrap().is_dead());
    }

    #[test]
    fn rejects_broken_lines() {
        assert_eq!(parse(b""), Err(ParseError::NoCommStart));
        assert_eq!(parse(b"12 (abc"), Err(ParseError::NoCommEnd));
        assert_eq!(parse(b"12 )abc("), Err(ParseError::NoCommEnd));
        assert_eq!(parse(b"x (a) S 1"), Err(ParseError::BadPid));
        assert_eq!(parse(b" (a) S 1"), Err(ParseError::BadPid));
        assert_eq!(parse(b"99999999999 (a) S 1"), Err(ParseError::BadPid));
        assert_eq!(parse(b"12 (a)"), Err(ParseError::MissingField(3)));
        assert_eq!(parse(b"12 (a) SS 1"), Err(ParseError::BadNumber(3)));
        assert_eq!(parse(b"12 (a) S 1 2 3"), Err(ParseError::MissingField(22)));
        assert_eq!(parse(&line("12", b"a", "S", "-5")), Err(ParseError::BadNumber(22)));
        assert_eq!(parse(&line("12", b"a", "S", "99999999999999999999")), Err(ParseError::BadNumber(22)));
    }

    #[test]
    fn parses_our_own_stat() {
        let bytes = std::fs::read("/proc/self/stat").unwrap();
        let s = parse(&bytes).unwrap();
        assert_eq!(s.pid, std::process::id());
        assert!(s.starttime > 0);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn never_panics_near_valid(comm in proptest::collection::vec(any::<u8>(), 0..40), cut in 0usize..300) {
            let bytes = line("77", &comm, "S", "123");
            let _ = parse(&bytes[..cut.min(bytes.len())]);
        }

        #[test]
        fn any_comm_round_trips(comm in proptest::collection::vec(any::<u8>().prop_filter("no NUL", |b| *b != 0), 0..64),
                                pid in 1u32.., start in any::<u64>()) {
            let bytes = line(&pid.to_string(), &comm, "S", &start.to_string());
            let s = parse(&bytes).unwrap();
            prop_assert_eq!(s.comm, &comm[..]);
            prop_assert_eq!(s.pid, pid);
            prop_assert_eq!(s.starttime, start);
        }
    }
}
