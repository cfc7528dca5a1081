//! Process limits: the panel tells a node's agent which system user may run processes for how long, the
//! agent tells the panel which processes it ended.

use hostwerk_domain::process_limit::ProcessLimitError;
use hostwerk_domain::ProcessLimit;
use serde::{Deserialize, Serialize};

/// `GET /api/v1/agent/limits`: the limits of every contract on the asking node. The agent also keeps the
/// last one it received in its state file, so this is its on-disk format too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentLimits {
    /// The node's name, e.g. `web001`.
    pub node: String,
    /// How often the agent should ask again, in seconds (1–10).
    #[serde(default)]
    pub poll_seconds: Option<u64>,
    /// Seconds between SIGTERM and SIGKILL.
    #[serde(default)]
    pub grace_seconds: Option<u64>,
    pub users: Vec<AgentUser>,
}

/// One system user's limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentUser {
    pub system_user: String,
    /// `off` or seconds. A string on the wire, parsed per user: one entry the agent cannot read skips that
    /// user, not the whole document.
    pub limit: String,
}

impl AgentUser {
    /// The limit, parsed.
    pub fn limit(&self) -> Result<ProcessLimit, ProcessLimitError> {
        ProcessLimit::parse(&self.limit)
    }
}

/// How a process was ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum EndSignal {
    /// SIGTERM, and the process exited within the grace period.
    Term,
    /// SIGKILL, after the process outlived the grace period.
    Kill,
}

impl EndSignal {
    /// `TERM` or `KILL`, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            EndSignal::Term => "TERM",
            EndSignal::Kill => "KILL",
        }
    }
}

/// One ended process as the agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentKill {
    /// Unix seconds when the ending signal was sent.
    pub time: u64,
    pub user: String,
    pub pid: u32,
    /// The command name from `/proc/<pid>/stat`.
    pub comm: String,
    /// Wall-clock age of the process when the ending signal was sent.
    pub runtime_seconds: u64,
    pub signal: EndSignal,
}

/// `POST /api/v1/agent/kills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentKills {
    pub kills: Vec<AgentKill>,
}

/// The answer to [`AgentKills`]: how many were recorded (reports for users without a contract on the node
/// are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recorded {
    pub recorded: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_limits_document_reads_what_every_panel_version_sent() {
        let json = r#"{"node":"web001","poll_seconds":5,"grace_seconds":5,"users":[{"system_user":"k1000001c1","limit":"180"},{"system_user":"k1000003c1","limit":"off"}]}"#;
        let d: AgentLimits = serde_json::from_str(json).unwrap();
        assert_eq!(d.users[0].limit().unwrap(), ProcessLimit::parse("180").unwrap());
        assert_eq!(d.users[1].limit().unwrap(), ProcessLimit::Off);
        assert_eq!(serde_json::to_string(&d).unwrap(), json);
        let d: AgentLimits =
            serde_json::from_str(r#"{"node":"n","users":[{"system_user":"a","limit":"soon"}]}"#).unwrap();
        assert_eq!((d.poll_seconds, d.grace_seconds), (None, None));
        assert!(d.users[0].limit().is_err(), "a bad limit fails that user only");
    }

    #[test]
    fn kills_name_their_signal() {
        let k = AgentKill {
            time: 1_700_000_000,
            user: "web1".into(),
            pid: 4242,
            comm: "php (cli)".into(),
            runtime_seconds: 181,
            signal: EndSignal::Kill,
        };
        let json = serde_json::to_string(&AgentKills { kills: vec![k.clone()] }).unwrap();
        assert_eq!(
            json,
            r#"{"kills":[{"time":1700000000,"user":"web1","pid":4242,"comm":"php (cli)","runtime_seconds":181,"signal":"KILL"}]}"#
        );
        // Older agents also sent the uid: unknown fields are ignored.
        let old = r#"{"time":1,"uid":1001,"user":"a","pid":1,"comm":"x","runtime_seconds":3,"signal":"TERM"}"#;
        assert_eq!(serde_json::from_str::<AgentKill>(old).unwrap().signal, EndSignal::Term);
        assert!(serde_json::from_str::<AgentKill>(&old.replace("TERM", "HUP")).is_err());
        assert_eq!(EndSignal::Term.as_str(), "TERM");
    }
}
