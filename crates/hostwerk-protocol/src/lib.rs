//! The panel↔agent protocol, version 1: every type that crosses the wire between the panel's agent API
//! (`/api/v1/agent/…`, in `hostwerk-web`) and `hostwerk agent` (in `hostwerk-agent`), and the paths it
//! crosses on. Both sides compile against these types, so a field renamed here is renamed on both.
//!
//! Closed sets are serde enums (a job's kind, a snapshot's part, the ending signal), and outcomes the agent
//! acts on are types ([`backup::HeartbeatOutcome`], [`backup::FinishOutcome`]), so no side reads meaning out
//! of a message text. The version is the path prefix: an incompatible change is `/api/v2/agent`, served
//! beside v1 until every node runs an agent that speaks it.
//!
//! No I/O here: the panel's handlers and the agent's HTTP client do the talking.

pub mod backup;
pub mod limits;

/// The protocol version this crate describes (the `v1` of [`paths::PREFIX`]).
pub const VERSION: u32 = 1;

/// The paths of the agent API, relative to the panel's base URL.
pub mod paths {
    /// Every agent path starts with this.
    pub const PREFIX: &str = "/api/v1/agent";
    /// `GET`: the node's process limits ([`crate::limits::AgentLimits`]).
    pub const LIMITS: &str = "/api/v1/agent/limits";
    /// `POST`: processes the agent ended ([`crate::limits::AgentKills`]).
    pub const KILLS: &str = "/api/v1/agent/kills";
    /// `POST`: the next backup job to run now ([`crate::backup::AgentJob`], or 204).
    pub const BACKUP_CLAIM: &str = "/api/v1/agent/backup-jobs/claim";

    /// `POST`: the agent still works on `job` ([`crate::backup::Attempt`]).
    pub fn backup_heartbeat(job: i64) -> String {
        format!("/api/v1/agent/backup-jobs/{job}/heartbeat")
    }

    /// `POST`: how `job` ended ([`crate::backup::Finish`]).
    pub fn backup_finish(job: i64) -> String {
        format!("/api/v1/agent/backup-jobs/{job}/finish")
    }
}
