//! The record of one ended process, as the agent will send it to the panel.

use serde::{Deserialize, Serialize};

/// The signal that ended a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum KillSignal {
    /// SIGTERM, and the process exited within the grace period.
    Term,
    /// SIGKILL, after the process outlived the grace period.
    Kill,
}

impl KillSignal {
    pub fn as_str(self) -> &'static str {
        match self {
            KillSignal::Term => "TERM",
            KillSignal::Kill => "KILL",
        }
    }
}

/// One ended process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillReport {
    /// When the ending signal was sent, in Unix seconds.
    pub time: u64,
    pub uid: u32,
    pub user: String,
    pub pid: u32,
    /// The command name from `/proc/<pid>/stat` (invalid UTF-8 replaced).
    pub comm: String,
    /// Wall-clock age of the process when the ending signal was sent, in seconds.
    pub runtime_seconds: u64,
    pub signal: KillSignal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes() {
        let r = KillReport {
            time: 1_700_000_000,
            uid: 1001,
            user: "web1".into(),
            pid: 4242,
            comm: "php (cli)".into(),
            runtime_seconds: 181,
            signal: KillSignal::Kill,
        };
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"time":1700000000,"uid":1001,"user":"web1","pid":4242,"comm":"php (cli)","runtime_seconds":181,"signal":"KILL"}"#
        );
        assert_eq!(serde_json::from_str::<KillReport>(&json).unwrap(), r);
        assert_eq!(serde_json::to_string(&KillSignal::Term).unwrap(), r#""TERM""#);
        assert_eq!(KillSignal::Term.as_str(), "TERM");
    }
}
