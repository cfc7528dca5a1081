//! The repository-server backend (feature `http`): a repository served by `hostwerk backup serve`.
//!
//! Location: `rest:http[s]://HOST[:PORT]/REPO`; the bearer token comes from `HOSTWERK_REPO_TOKEN`, an optional
//! CA certificate (PEM) to trust instead of the system's from `HOSTWERK_REPO_CACERT`. The protocol is
//! documented in the `hostwerk-repo-server` crate. Requests are blocking; connection errors and 5xx answers
//! are retried a few times with a short backoff (uploads are safe to retry: the server answers 200 to an
//! identical re-upload). 404 is [`Error::NotFound`]; 401 and 403 are errors that say the token may not do this.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use super::{Backend, FileType};
use crate::error::{Error, Result};

/// Delays before the retries of a failed request.
const BACKOFF: [Duration; 4] =
    [Duration::from_millis(200), Duration::from_millis(800), Duration::from_secs(2), Duration::from_secs(5)];

/// A repository on a hostwerk repository server.
#[derive(Clone)]
pub struct HttpBackend {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("HttpBackend")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

fn type_path(t: FileType) -> &'static str {
    match t {
        FileType::Config => "config",
        FileType::Key => "keys",
        FileType::Pack => "data",
        FileType::Index => "index",
        FileType::Snapshot => "snapshots",
        FileType::Lock => "locks",
    }
}

#[derive(serde::Deserialize)]
struct ListEntry {
    name: String,
    size: u64,
}

impl HttpBackend {
    /// A backend for the repository at `base_url` (`http[s]://HOST[:PORT]/REPO`). With `ca_cert_pem`, only
    /// certificates issued by those CA certificates are trusted (else the system's CA certificates).
    pub fn new(base_url: &str, token: Option<String>, ca_cert_pem: Option<&[u8]>) -> Result<HttpBackend> {
        let bad = |m: &str| Error::Invalid(format!("repository URL {base_url:?}: {m}"));
        let base = base_url.trim_end_matches('/').to_string();
        let rest = base
            .strip_prefix("http://")
            .or_else(|| base.strip_prefix("https://"))
            .ok_or_else(|| bad("use http://HOST[:PORT]/REPO or https://…"))?;
        match rest.split_once('/') {
            Some((host, repo)) if !host.is_empty() && !repo.is_empty() && !repo.contains('/') => {}
            _ => return Err(bad("use http[s]://HOST[:PORT]/REPO (exactly one path segment: the repository name)")),
        }
        let mut builder = ureq::AgentBuilder::new()
            .redirects(0) // never send the token anywhere else
            .timeout_connect(Duration::from_secs(15))
            .timeout_read(Duration::from_secs(300))
            .timeout_write(Duration::from_secs(300))
            .user_agent(concat!("hostwerk-backup/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = ca_cert_pem {
            let mut roots = rustls::RootCertStore::empty();
            let mut n = 0;
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                let cert = cert.map_err(|e| bad(&format!("CA certificate: {e}")))?;
                roots.add(cert).map_err(|e| bad(&format!("CA certificate: {e}")))?;
                n += 1;
            }
            if n == 0 {
                return Err(bad("the CA certificate file holds no PEM certificate"));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| bad(&e.to_string()))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            builder = builder.tls_config(Arc::new(config));
        }
        Ok(HttpBackend { base, token: token.filter(|t| !t.is_empty()), agent: builder.build() })
    }

    fn url(&self, t: FileType, name: &str) -> String {
        match t {
            FileType::Config => format!("{}/config", self.base),
            _ => format!("{}/{}/{name}", self.base, type_path(t)),
        }
    }

    fn object(t: FileType, name: &str) -> String {
        match t {
            FileType::Config => "config".into(),
            _ => format!("{}/{name}", type_path(t)),
        }
    }

    /// Sends a request (built afresh for every attempt), retrying connection errors and 5xx answers.
    fn send(
        &self,
        op: &'static str,
        t: FileType,
        name: &str,
        make: impl Fn(&ureq::Agent) -> ureq::Request,
        body: Option<&[u8]>,
    ) -> Result<ureq::Response> {
        let object = Self::object(t, name);
        let mut attempt = 0;
        loop {
            let mut req = make(&self.agent);
            if let Some(tok) = &self.token {
                req = req.set("Authorization", &format!("Bearer {tok}"));
            }
            let res = match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            };
            let retry = match &res {
                Ok(_) => false,
                Err(ureq::Error::Status(code, _)) => *code >= 500,
                Err(ureq::Error::Transport(_)) => true,
            };
            if retry && attempt < BACKOFF.len() {
                std::thread::sleep(BACKOFF[attempt]);
                attempt += 1;
                continue;
            }
            return res.map_err(|e| self.error(op, t, &object, e));
        }
    }

    fn error(&self, op: &'static str, t: FileType, object: &str, e: ureq::Error) -> Error {
        let backend = |message: String| Error::Backend { op, name: format!("{}/{object}", self.base), message };
        match e {
            ureq::Error::Status(404, _) => {
                Error::NotFound { kind: t.kind(), name: object.rsplit('/').next().unwrap_or(object).into() }
            }
            ureq::Error::Status(code, resp) => {
                let said = resp.into_string().unwrap_or_default();
                let said = said.trim();
                match code {
                    401 => backend(format!(
                        "the repository server rejected the token (401): set $HOSTWERK_REPO_TOKEN to a valid token ({said})"
                    )),
                    403 => backend(format!(
                        "the repository server refused this (403): the token may not do this; \
                         append-only and read-only tokens cannot delete or overwrite backups, \
                         forget and prune need the maintenance token ({said})"
                    )),
                    _ => backend(format!("HTTP {code}: {said}")),
                }
            }
            ureq::Error::Transport(tr) => backend(format!("cannot reach the repository server: {tr}")),
        }
    }

    fn read_body(&self, op: &'static str, t: FileType, name: &str, resp: ureq::Response) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        resp.into_reader().read_to_end(&mut out).map_err(|e| Error::Backend {
            op,
            name: format!("{}/{}", self.base, Self::object(t, name)),
            message: format!("reading the answer: {e}"),
        })?;
        Ok(out)
    }
}

impl Backend for HttpBackend {
    fn location(&self) -> String {
        format!("rest:{}", self.base)
    }

    fn exists(&self) -> Result<bool> {
        match self.send("stat", FileType::Config, "config", |a| a.head(&self.url(FileType::Config, "")), None) {
            Ok(_) => Ok(true),
            Err(Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn create(&self) -> Result<()> {
        let url = format!("{}/?create=true", self.base);
        self.send("create", FileType::Config, "", |a| a.post(&url), Some(&[])).map(|_| ())
    }

    fn put(&self, t: FileType, name: &str, data: &[u8]) -> Result<()> {
        let url = self.url(t, name);
        self.send("write", t, name, |a| a.post(&url).set("Content-Type", "application/octet-stream"), Some(data))
            .map(|_| ())
    }

    fn get(&self, t: FileType, name: &str) -> Result<Vec<u8>> {
        let url = self.url(t, name);
        let resp = self.send("read", t, name, |a| a.get(&url), None)?;
        self.read_body("read", t, name, resp)
    }

    fn get_range(&self, t: FileType, name: &str, offset: u64, len: usize) -> Result<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let url = self.url(t, name);
        let range = format!("bytes={}-{}", offset, offset + len as u64 - 1);
        let resp = match self.send("read", t, name, |a| a.get(&url).set("Range", &range), None) {
            Err(Error::Backend { message, .. }) if message.starts_with("HTTP 416") => {
                return Err(Error::corrupt(
                    t.kind(),
                    name,
                    format!("file is shorter than {} bytes", offset + len as u64),
                ))
            }
            r => r?,
        };
        let full = resp.status() == 200;
        let mut data = self.read_body("read", t, name, resp)?;
        if full {
            // A server that ignores Range: cut the part out of the whole file.
            data = data.get(offset as usize..).map(|d| d[..len.min(d.len())].to_vec()).unwrap_or_default();
        }
        if data.len() != len {
            return Err(Error::corrupt(t.kind(), name, format!("file is shorter than {} bytes", offset + len as u64)));
        }
        Ok(data)
    }

    fn list(&self, t: FileType) -> Result<Vec<(String, u64)>> {
        if t == FileType::Config {
            return match self.get(t, "config") {
                Ok(b) => Ok(vec![("config".into(), b.len() as u64)]),
                Err(Error::NotFound { .. }) => Ok(vec![]),
                Err(e) => Err(e),
            };
        }
        let url = format!("{}/{}/", self.base, type_path(t));
        let resp = match self.send("list", t, "", |a| a.get(&url), None) {
            Ok(r) => r,
            Err(Error::NotFound { .. }) => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let body = self.read_body("list", t, "", resp)?;
        let entries: Vec<ListEntry> = serde_json::from_slice(&body).map_err(|e| Error::Backend {
            op: "list",
            name: url.clone(),
            message: format!("bad answer from the repository server: {e}"),
        })?;
        let mut out: Vec<(String, u64)> = entries.into_iter().map(|e| (e.name, e.size)).collect();
        out.sort();
        Ok(out)
    }

    fn delete(&self, t: FileType, name: &str) -> Result<()> {
        let url = self.url(t, name);
        match self.send("delete", t, name, |a| a.delete(&url), None) {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let b = HttpBackend::new("http://127.0.0.1:8000/web001/", Some("t".into()), None).unwrap();
        assert_eq!(b.location(), "rest:http://127.0.0.1:8000/web001");
        assert_eq!(b.url(FileType::Config, ""), "http://127.0.0.1:8000/web001/config");
        assert_eq!(b.url(FileType::Pack, "ab"), "http://127.0.0.1:8000/web001/data/ab");
        assert!(!format!("{b:?}").contains("\"t\""));
        for bad in ["ftp://x/r", "http://x", "http://x/", "http:///r", "http://x/a/b"] {
            assert!(HttpBackend::new(bad, None, None).is_err(), "{bad}");
        }
        assert!(HttpBackend::new("https://x/r", None, Some(b"not pem")).is_err());
    }
}
