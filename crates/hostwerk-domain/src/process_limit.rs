//! The wall-clock limit after which the node agent ends a customer's processes.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessLimitError {
    #[error("the limit must be between {min} and {max} seconds", min = ProcessLimit::MIN_SECONDS, max = ProcessLimit::MAX_SECONDS)]
    OutOfRange,
    #[error("the limit is a number of seconds or \"off\"")]
    Malformed,
}

/// `Off`, or a number of seconds in 180..=43200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ProcessLimit {
    Off,
    Seconds(u32),
}

impl ProcessLimit {
    pub const MIN_SECONDS: u32 = 180;
    pub const MAX_SECONDS: u32 = 43_200;

    pub fn seconds(value: u32) -> Result<Self, ProcessLimitError> {
        if (Self::MIN_SECONDS..=Self::MAX_SECONDS).contains(&value) {
            Ok(Self::Seconds(value))
        } else {
            Err(ProcessLimitError::OutOfRange)
        }
    }

    /// Parses `off` or a number of seconds.
    pub fn parse(input: &str) -> Result<Self, ProcessLimitError> {
        let s = input.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProcessLimitError::Malformed);
        }
        match s.parse::<u64>() {
            Ok(v) => u32::try_from(v).map_err(|_| ProcessLimitError::OutOfRange).and_then(Self::seconds),
            Err(_) => Err(ProcessLimitError::OutOfRange),
        }
    }
}

impl fmt::Display for ProcessLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessLimit::Off => f.write_str("off"),
            ProcessLimit::Seconds(s) => write!(f, "{s}"),
        }
    }
}

impl TryFrom<String> for ProcessLimit {
    type Error = ProcessLimitError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<ProcessLimit> for String {
    fn from(p: ProcessLimit) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses() {
        assert_eq!(ProcessLimit::parse("OFF").unwrap(), ProcessLimit::Off);
        assert_eq!(ProcessLimit::parse("180").unwrap(), ProcessLimit::Seconds(180));
        assert_eq!(ProcessLimit::parse("43200").unwrap(), ProcessLimit::Seconds(43200));
        assert_eq!(ProcessLimit::parse("179"), Err(ProcessLimitError::OutOfRange));
        assert_eq!(ProcessLimit::parse("43201"), Err(ProcessLimitError::OutOfRange));
        assert_eq!(ProcessLimit::parse("99999999999999999999"), Err(ProcessLimitError::OutOfRange));
        assert_eq!(ProcessLimit::parse("-5"), Err(ProcessLimitError::Malformed));
        assert_eq!(ProcessLimit::parse("3m"), Err(ProcessLimitError::Malformed));
        assert_eq!(ProcessLimitError::OutOfRange.to_string(), "the limit must be between 180 and 43200 seconds");
    }

    proptest! {
        #[test]
        fn in_range_iff_accepted(v in 0u32..100_000) {
            let ok = ProcessLimit::parse(&v.to_string()).is_ok();
            prop_assert_eq!(ok, (180..=43200).contains(&v));
        }
    }
}
