//! The state file: the last limits the panel sent and when, written atomically, so that a restart while
//! the panel is unreachable enforces them too.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use hostwerk_protocol::limits::AgentLimits;
use serde::{Deserialize, Serialize};

/// The version of the state file this agent reads and writes.
const VERSION: u32 = 1;

/// The last limits received and when.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// When the panel last sent these limits (Unix seconds).
    pub fetched_at: u64,
    pub limits: AgentLimits,
}

impl Saved {
    pub fn now(limits: AgentLimits) -> Saved {
        Saved { version: VERSION, fetched_at: unix_now(), limits }
    }
}

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("{path} is not valid: {error}")]
    Invalid { path: String, error: serde_json::Error },
    #[error("{path} has version {version}; this agent reads version 1")]
    Version { path: String, version: u32 },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

/// The saved state; `None` when there is no file yet.
pub fn load_state(path: &Path) -> Result<Option<Saved>, StateError> {
    let shown = || path.display().to_string();
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StateError::Read { path: shown(), error }),
    };
    let saved: Saved = serde_json::from_str(&text).map_err(|error| StateError::Invalid { path: shown(), error })?;
    if saved.version != VERSION {
        return Err(StateError::Version { path: shown(), version: saved.version });
    }
    Ok(Some(saved))
}

/// Writes the state atomically: a temporary file in the same directory, fsync, rename, fsync of the directory.
pub fn save_state(path: &Path, saved: &Saved) -> Result<(), StateError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let failed = |p: &Path| {
        let p = p.display().to_string();
        move |error: std::io::Error| StateError::Write { path: p, error }
    };
    fs::create_dir_all(&dir).map_err(failed(&dir))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "limits.json".into());
    let tmp = dir.join(format!(".{name}.tmp"));
    let json = serde_json::to_vec_pretty(saved)
        .map_err(|e| StateError::Write { path: tmp.display().to_string(), error: std::io::Error::other(e) })?;
    let mut file =
        fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(failed(&tmp))?;
    file.write_all(&json).and_then(|()| file.sync_all()).map_err(failed(&tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(failed(path))?;
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub fn format_unix(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(|| format!("{secs} (Unix time)"), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hostwerk_protocol::limits::AgentUser;

    #[test]
    fn the_state_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/limits.json");
        assert!(load_state(&path).unwrap().is_none());
        let limits = AgentLimits {
            node: "web001".into(),
            poll_seconds: Some(5),
            grace_seconds: None,
            users: vec![AgentUser { system_user: "a".into(), limit: "off".into() }],
        };
        let saved = Saved { version: 1, fetched_at: 1_700_000_000, limits };
        save_state(&path, &saved).unwrap();
        save_state(&path, &saved).unwrap();
        let back = load_state(&path).unwrap().unwrap();
        assert_eq!(back.limits, saved.limits);
        assert_eq!(back.fetched_at, saved.fetched_at);
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 1, "no temporary file left");
        fs::write(&path, "{").unwrap();
        assert!(matches!(load_state(&path), Err(StateError::Invalid { .. })));
        fs::write(&path, r#"{"version":2,"fetched_at":1,"limits":{"node":"n","users":[]}}"#).unwrap();
        assert!(matches!(load_state(&path), Err(StateError::Version { version: 2, .. })));
        assert_eq!(format_unix(0), "1970-01-01 00:00:00 UTC");
    }
}
