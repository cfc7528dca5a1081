//! Backup jobs: the agent claims a job, sends heartbeats while it runs, and reports how it ended with the
//! snapshots it took.

use std::fmt;

use hostwerk_domain::backup_job::{BackupJobKind, BackupJobStatus};
use serde::{Deserialize, Serialize};

/// A job as the agent receives it: everything it needs, with absolute paths on the webserver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentJob {
    pub id: i64,
    /// The attempt this claim is; heartbeats and the report must name it.
    pub attempt: i64,
    /// `nightly`, `on_demand`, `restore` or `db_restore`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[serde(with = "job_kind")]
    pub kind: BackupJobKind,
    pub contract_id: i64,
    pub system_user: String,
    /// The snapshot host name (the webserver).
    pub host: String,
    pub tags: Vec<String>,
    /// Backups: the webspace and mail folders.
    pub paths: Vec<String>,
    /// Backups: the contract's MariaDB databases.
    pub databases: Vec<String>,
    pub restore: Option<AgentRestore>,
    /// Send a heartbeat at least this often.
    pub heartbeat_seconds: u64,
}

/// A job's kind on the wire: [`BackupJobKind::as_str`] (`db_restore`, not the domain's serde name).
mod job_kind {
    use hostwerk_domain::backup_job::BackupJobKind;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(kind: &BackupJobKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(kind.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BackupJobKind, D::Error> {
        let text = String::deserialize(d)?;
        BackupJobKind::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown job kind {text:?}, expected nightly, on_demand, restore or db_restore"
            ))
        })
    }
}

/// Where a restore writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RestoreInto {
    /// Into a new folder beside the current files ([`AgentRestore::folder`]).
    Folder,
    /// Over the current files (a safety snapshot first).
    InPlace,
}

impl RestoreInto {
    /// `folder` or `in_place`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            RestoreInto::Folder => "folder",
            RestoreInto::InPlace => "in_place",
        }
    }
}

/// What a restore job restores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRestore {
    pub snapshot: String,
    /// Absolute paths as stored in the snapshot.
    pub paths: Vec<String>,
    /// The webspace or mail folder the paths lie in; nothing outside is touched.
    pub allowed_root: String,
    pub target: RestoreInto,
    /// For [`RestoreInto::Folder`]: the new folder (absolute).
    pub folder: Option<String>,
    /// For database restores: the database.
    pub database: Option<String>,
}

/// What a snapshot holds: the files (webspace and mail folders) or one database's dump.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SnapshotPart {
    Files,
    Database(String),
}

impl SnapshotPart {
    /// `files` or `db:NAME`; `None` for anything else.
    pub fn parse(s: &str) -> Option<SnapshotPart> {
        match s {
            "files" => Some(SnapshotPart::Files),
            _ => s.strip_prefix("db:").filter(|n| !n.is_empty()).map(|n| SnapshotPart::Database(n.to_owned())),
        }
    }
}

impl fmt::Display for SnapshotPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotPart::Files => f.write_str("files"),
            SnapshotPart::Database(name) => write!(f, "db:{name}"),
        }
    }
}

impl TryFrom<String> for SnapshotPart {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        SnapshotPart::parse(&s).ok_or_else(|| format!("a snapshot part is `files` or `db:NAME`, not {s:?}"))
    }
}

impl From<SnapshotPart> for String {
    fn from(p: SnapshotPart) -> String {
        p.to_string()
    }
}

/// Why a snapshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SnapshotKind {
    Nightly,
    OnDemand,
    /// The current state, saved before a restore overwrote it.
    Safety,
}

impl SnapshotKind {
    /// As stored and shown: `nightly`, `on_demand`, `safety`.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotKind::Nightly => "nightly",
            SnapshotKind::OnDemand => "on_demand",
            SnapshotKind::Safety => "safety",
        }
    }

    /// The kind of the snapshots a backup job takes; `None` for restores (they take safety snapshots).
    pub fn of_backup(kind: BackupJobKind) -> Option<SnapshotKind> {
        match kind {
            BackupJobKind::Nightly => Some(SnapshotKind::Nightly),
            BackupJobKind::OnDemand => Some(SnapshotKind::OnDemand),
            BackupJobKind::Restore | BackupJobKind::DatabaseRestore => None,
        }
    }
}

/// A snapshot the agent took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSnapshot {
    pub id: String,
    /// `files` or `db:NAME`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub part: SnapshotPart,
    pub kind: SnapshotKind,
    /// RFC 3339.
    pub time: String,
    pub total_files: u64,
    pub total_bytes: u64,
    pub bytes_added: u64,
}

/// How a job ended, as the agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentReport {
    pub ok: bool,
    #[serde(default)]
    pub snapshots: Vec<AgentSnapshot>,
    #[serde(default)]
    pub error: Option<String>,
    /// A failed in-place restore that was undone (the customer's files are as before).
    #[serde(default)]
    pub rolled_back: bool,
    #[serde(default)]
    pub files: u64,
    #[serde(default)]
    pub bytes: u64,
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl AgentReport {
    /// A job that failed before it took anything.
    pub fn failed(message: String) -> AgentReport {
        AgentReport {
            ok: false,
            snapshots: Vec::new(),
            error: Some(message),
            rolled_back: false,
            files: 0,
            bytes: 0,
            warnings: Vec::new(),
        }
    }
}

/// `POST …/heartbeat`: the attempt the agent works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attempt {
    pub attempt: i64,
}

/// `POST …/finish`: the attempt and its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finish {
    pub attempt: i64,
    #[serde(flatten)]
    pub report: AgentReport,
}

/// The answer to [`Finish`]: the job's status now (`failed` may be followed by another nightly attempt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finished {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub status: BackupJobStatus,
}

/// What the panel answers a heartbeat (HTTP: 204 or 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatOutcome {
    /// Keep working.
    Continue,
    /// The job was handed to another attempt: stop working on it.
    Superseded,
}

/// What the panel answers a report (HTTP: 200 or 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishOutcome {
    Recorded(BackupJobStatus),
    /// The job was handed to another attempt; this report is dropped.
    Superseded,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parts_read_and_write_as_before() {
        assert_eq!(SnapshotPart::parse("files"), Some(SnapshotPart::Files));
        assert_eq!(SnapshotPart::parse("db:k1000001_shop"), Some(SnapshotPart::Database("k1000001_shop".into())));
        for bad in ["", "db:", "file", "DB:x"] {
            assert_eq!(SnapshotPart::parse(bad), None, "{bad:?}");
        }
        let s = AgentSnapshot {
            id: "a".repeat(64),
            part: SnapshotPart::Database("shop".into()),
            kind: SnapshotKind::OnDemand,
            time: "2026-12-04T01:00:00+00:00".into(),
            total_files: 1,
            total_bytes: 2,
            bytes_added: 3,
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!((json["part"].as_str(), json["kind"].as_str()), (Some("db:shop"), Some("on_demand")));
        assert_eq!(serde_json::from_value::<AgentSnapshot>(json.clone()).unwrap(), s);
        let mut bad = json;
        bad["part"] = "tape".into();
        assert!(serde_json::from_value::<AgentSnapshot>(bad).is_err());
    }

    #[test]
    fn a_report_flattens_into_finish() {
        let f = Finish { attempt: 2, report: AgentReport::failed("disk full".into()) };
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["attempt"], 2);
        assert_eq!(json["error"], "disk full");
        assert_eq!(serde_json::from_value::<Finish>(json).unwrap(), f);
        let minimal: Finish = serde_json::from_str(r#"{"attempt":1,"ok":true}"#).unwrap();
        assert!(minimal.report.ok && minimal.report.snapshots.is_empty());
    }

    #[test]
    fn jobs_carry_typed_kinds() {
        let json = r#"{"id":7,"attempt":1,"kind":"db_restore","contract_id":3,"system_user":"k1000001c1","host":"web001","tags":[],"paths":[],"databases":[],"restore":{"snapshot":"abc","paths":[],"allowed_root":"/var/www/k1000001c1","target":"in_place","folder":null,"database":"shop"},"heartbeat_seconds":100}"#;
        let job: AgentJob = serde_json::from_str(json).unwrap();
        assert_eq!(job.kind, BackupJobKind::DatabaseRestore);
        assert_eq!(job.restore.as_ref().unwrap().target, RestoreInto::InPlace);
        assert_eq!(serde_json::to_string(&job).unwrap(), json);
        assert_eq!(SnapshotKind::of_backup(BackupJobKind::OnDemand), Some(SnapshotKind::OnDemand));
        assert_eq!(SnapshotKind::of_backup(BackupJobKind::Restore), None);
        for kind in BackupJobKind::ALL {
            let mut j = job.clone();
            j.kind = kind;
            let back: AgentJob = serde_json::from_value(serde_json::to_value(&j).unwrap()).unwrap();
            assert_eq!(back.kind, kind);
        }
        assert!(serde_json::from_str::<AgentJob>(&json.replace("db_restore", "database_restore")).is_err());
        let f = Finished { status: BackupJobStatus::Succeeded };
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"status":"succeeded"}"#);
    }
}
