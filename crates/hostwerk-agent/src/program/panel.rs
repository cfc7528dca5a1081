//! The panel's agent API as the agent calls it: one blocking HTTP client (rustls with the system's CA
//! certificates, no redirects, a timeout) for the limits, the kill reports and the backup jobs, speaking the
//! types of `hostwerk-protocol`. Outcomes the agent acts on are read from status codes, never from texts.

use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use hostwerk_protocol::backup::{AgentJob, AgentReport, Attempt, Finish, FinishOutcome, Finished, HeartbeatOutcome};
use hostwerk_protocol::limits::{AgentKill, AgentKills, AgentLimits};
use hostwerk_protocol::paths;
use serde::Serialize;
use tracing::warn;

use super::AgentError;

/// Why a call to the panel did not give the expected answer.
#[derive(Debug)]
pub enum PanelError {
    /// No HTTP answer: connection refused, timeout, TLS, DNS.
    Unreachable(String),
    /// An HTTP status other than the expected one, with the start of the body.
    Status(u16, String),
    /// An answer that is not what the API promises.
    BadAnswer(String),
}

impl fmt::Display for PanelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PanelError::Unreachable(e) => write!(f, "{e}"),
            PanelError::Status(401, _) => {
                f.write_str("the panel refused the node token (HTTP 401); check --token-file")
            }
            PanelError::Status(code, body) => write!(f, "HTTP {code}: {body}"),
            PanelError::BadAnswer(e) => write!(f, "unexpected answer: {e}"),
        }
    }
}

/// The panel, as one node's agent reaches it.
#[derive(Debug, Clone)]
pub struct Panel {
    http: ureq::Agent,
    base: String,
    authorization: String,
}

impl Panel {
    /// A client for the panel at `base` (see [`panel_base`]) with the node's token.
    pub fn new(base: &str, token: &str, timeout: Duration) -> Panel {
        let http = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5).min(timeout))
            .timeout(timeout)
            // A redirect would drop the token; an error says more than a silent 401.
            .redirects(0)
            .user_agent(concat!("hostwerk-agent/", env!("CARGO_PKG_VERSION")))
            .build();
        Panel { http, base: base.to_owned(), authorization: format!("Bearer {token}") }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    // ureq's own answer type, passed on as `send_string` returns it.
    #[allow(clippy::result_large_err)]
    fn post<T: Serialize>(&self, path: &str, body: &T) -> Result<ureq::Response, ureq::Error> {
        let body = serde_json::to_string(body).unwrap_or_default();
        self.http
            .post(&self.url(path))
            .set("Authorization", &self.authorization)
            .set("Content-Type", "application/json")
            .send_string(&body)
    }

    /// `GET /api/v1/agent/limits`.
    pub fn limits(&self) -> Result<AgentLimits, PanelError> {
        let answer = self.http.get(&self.url(paths::LIMITS)).set("Authorization", &self.authorization).call();
        let body = expect_status(answer, 200)?;
        serde_json::from_str(&body).map_err(|e| PanelError::BadAnswer(e.to_string()))
    }

    /// `POST /api/v1/agent/kills` (202, or 200 from a panel that answers so).
    pub fn post_kills(&self, kills: &[AgentKill]) -> Result<(), PanelError> {
        let answer = self.post(paths::KILLS, &AgentKills { kills: kills.to_vec() });
        let answer = match answer {
            Ok(r) if r.status() == 200 => return Ok(()),
            other => other,
        };
        expect_status(answer, 202).map(|_| ())
    }

    /// `POST …/backup-jobs/claim`: the next job to run now, if any (204: none).
    pub fn claim(&self) -> Result<Option<AgentJob>, PanelError> {
        match self.post(paths::BACKUP_CLAIM, &serde_json::json!({})) {
            Ok(r) if r.status() == 204 => Ok(None),
            answer => {
                let body = expect_status(answer, 200)?;
                serde_json::from_str(&body)
                    .map(Some)
                    .map_err(|e| PanelError::BadAnswer(format!("the panel's job is not valid: {e}")))
            }
        }
    }

    /// `POST …/heartbeat`: 204 keep going, 409 superseded.
    pub fn heartbeat(&self, job: i64, attempt: i64) -> Result<HeartbeatOutcome, PanelError> {
        match self.post(&paths::backup_heartbeat(job), &Attempt { attempt }) {
            Err(ureq::Error::Status(409, _)) => Ok(HeartbeatOutcome::Superseded),
            answer => expect_status(answer, 204).map(|_| HeartbeatOutcome::Continue),
        }
    }

    /// `POST …/finish`: 200 recorded, 409 superseded.
    pub fn finish(&self, job: i64, attempt: i64, report: &AgentReport) -> Result<FinishOutcome, PanelError> {
        match self.post(&paths::backup_finish(job), &Finish { attempt, report: report.clone() }) {
            Err(ureq::Error::Status(409, _)) => Ok(FinishOutcome::Superseded),
            answer => {
                let body = expect_status(answer, 200)?;
                let finished: Finished =
                    serde_json::from_str(&body).map_err(|e| PanelError::BadAnswer(e.to_string()))?;
                Ok(FinishOutcome::Recorded(finished.status))
            }
        }
    }
}

fn expect_status(answer: Result<ureq::Response, ureq::Error>, expected: u16) -> Result<String, PanelError> {
    match answer {
        Ok(r) if r.status() == expected => r.into_string().map_err(|e| PanelError::Unreachable(e.to_string())),
        Ok(r) => Err(PanelError::Status(r.status(), short_body(r))),
        Err(ureq::Error::Status(code, r)) => Err(PanelError::Status(code, short_body(r))),
        Err(ureq::Error::Transport(t)) => Err(PanelError::Unreachable(t.to_string())),
    }
}

fn short_body(r: ureq::Response) -> String {
    let text = r.into_string().unwrap_or_default();
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// The panel URL without a trailing slash; http(s) only.
pub fn panel_base(url: &str) -> Result<String, AgentError> {
    let base = url.trim().trim_end_matches('/');
    let Some((scheme, rest)) = base.split_once("://") else {
        return Err(AgentError::PanelNotUrl(url.to_owned()));
    };
    if rest.is_empty() {
        return Err(AgentError::PanelNoHost(url.to_owned()));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => {}
        "http" => {
            let host = rest.split('/').next().unwrap_or_default();
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            if !matches!(host, "localhost" | "127.0.0.1" | "[::1]") {
                warn!("--panel uses plain http: the node token and the limits cross the network unencrypted");
            }
        }
        _ => return Err(AgentError::PanelScheme(url.to_owned())),
    }
    Ok(base.to_owned())
}

/// Reads the token: trimmed, one line, in a file other users cannot read.
pub fn read_token(path: &Path) -> Result<String, AgentError> {
    let shown = path.display().to_string();
    let unreadable = |error: std::io::Error| AgentError::TokenUnreadable { path: shown.clone(), error };
    let mode = fs::metadata(path).map_err(unreadable)?.permissions().mode();
    if mode & 0o004 != 0 {
        return Err(AgentError::TokenPublic { path: shown, mode: mode & 0o777 });
    }
    if mode & 0o040 != 0 {
        warn!("the token file {shown} is readable by its group (mode {:o}); chmod 600 is safer", mode & 0o777);
    }
    let text = fs::read_to_string(path).map_err(unreadable)?;
    let token = text.trim();
    if token.is_empty() {
        return Err(AgentError::TokenEmpty(shown));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AgentError::TokenNotOneLine(shown));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn tokens_must_be_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        fs::write(&path, "abc123\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(read_token(&path), Err(AgentError::TokenPublic { mode: 0o644, .. })));
        assert!(read_token(&path).unwrap_err().to_string().contains("chmod 600"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token(&path).unwrap(), "abc123");
        fs::write(&path, "abc 123\n").unwrap();
        assert!(matches!(read_token(&path), Err(AgentError::TokenNotOneLine(_))));
        fs::write(&path, "\n").unwrap();
        assert!(matches!(read_token(&path), Err(AgentError::TokenEmpty(_))));
        assert!(matches!(read_token(&dir.path().join("none")), Err(AgentError::TokenUnreadable { .. })));
    }

    #[test]
    fn panel_urls() {
        assert_eq!(panel_base("https://panel.example.net/").unwrap(), "https://panel.example.net");
        assert_eq!(panel_base("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert!(matches!(panel_base("panel.example.net"), Err(AgentError::PanelNotUrl(_))));
        assert!(panel_base("https://").is_err());
        assert!(matches!(panel_base("ftp://panel.example.net"), Err(AgentError::PanelScheme(_))));
    }
}
