//! The request handler: path parsing, authentication, rights, and the file operations over `LocalBackend`.

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hostwerk_backup::{Backend, Error as BackupError, FileType, LocalBackend};
use tokio::net::TcpListener;

use crate::error::ServerError;
use crate::tls::{TlsConfig, TlsListener};
use crate::tokens::{valid_repo_name, Access, Token, TokenSet};

/// Default request body limit: 256 MiB (pack files are at most tens of MiB).
pub const DEFAULT_MAX_BODY: usize = 256 << 20;

/// What the server serves and to whom.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The folder holding one repository per subfolder.
    pub root: PathBuf,
    /// The accepted tokens (replaceable while the server runs).
    pub tokens: SharedTokens,
    /// The largest request body accepted, in bytes.
    pub max_body: usize,
}

impl ServerConfig {
    /// A configuration with the default body limit.
    pub fn new(root: impl Into<PathBuf>, tokens: TokenSet) -> ServerConfig {
        ServerConfig { root: root.into(), tokens: SharedTokens::new(tokens), max_body: DEFAULT_MAX_BODY }
    }

    fn validate(&self) -> Result<(), ServerError> {
        let root_err = |m: &str| ServerError::Root { path: self.root.display().to_string(), message: m.into() };
        match std::fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(root_err("not a folder")),
            Err(e) => Err(root_err(&e.to_string())),
        }
    }
}

/// The accepted tokens, shared by the server and whoever may replace them while it runs (`hostwerk backup
/// serve` reloads its tokens file on SIGHUP). A request sees one whole set: the old or the new one.
#[derive(Debug, Clone)]
pub struct SharedTokens(Arc<RwLock<Arc<TokenSet>>>);

impl SharedTokens {
    pub fn new(tokens: TokenSet) -> SharedTokens {
        SharedTokens(Arc::new(RwLock::new(Arc::new(tokens))))
    }

    /// The set in force now.
    pub fn current(&self) -> Arc<TokenSet> {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Puts `tokens` in force for every request from now on (running requests keep the set they started with).
    pub fn replace(&self, tokens: TokenSet) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(tokens);
    }
}

#[derive(Debug)]
struct AppState {
    cfg: ServerConfig,
    /// Names (`repo/type/name`) being written right now.
    inflight: Mutex<HashSet<String>>,
}

/// The axum router of the repository server (one fallback handler that parses the raw path itself).
pub fn router(cfg: ServerConfig) -> Router {
    let state = Arc::new(AppState { cfg, inflight: Mutex::new(HashSet::new()) });
    Router::new().fallback(handle).with_state(state)
}

/// Serves until `shutdown` completes, then finishes the running requests. With `tls`, only HTTPS is spoken.
pub async fn serve<F>(
    listener: TcpListener,
    cfg: ServerConfig,
    tls: Option<TlsConfig>,
    shutdown: F,
) -> Result<(), ServerError>
where
    F: Future<Output = ()> + Send + 'static,
{
    cfg.validate()?;
    let app = router(cfg);
    match tls {
        None => axum::serve(listener, app).with_graceful_shutdown(shutdown).await?,
        Some(tls) => axum::serve(TlsListener::new(listener, &tls)?, app).with_graceful_shutdown(shutdown).await?,
    }
    Ok(())
}

/// A refusal: status and a one-line reason for the client.
#[derive(Debug)]
struct Reply(StatusCode, String);

impl Reply {
    fn new(status: StatusCode, msg: impl Into<String>) -> Reply {
        Reply(status, msg.into())
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let mut r = (self.0, format!("{}\n", self.1)).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"hostwerk-repo\""));
        }
        if self.0 == StatusCode::METHOD_NOT_ALLOWED {
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST, DELETE"));
        }
        r
    }
}

async fn handle(State(st): State<Arc<AppState>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut who = "-".to_string();
    let resp = match dispatch(&st, req, &mut who).await {
        Ok(r) => r,
        Err(reply) => reply.into_response(),
    };
    tracing::info!(
        target: "hostwerk_repo_server::access",
        token = %who,
        method = %method,
        path = %path,
        status = resp.status().as_u16(),
        "request"
    );
    resp
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `/{repo}/`
    Root,
    /// `/{repo}/config`
    Config,
    /// `/{repo}/{type}/`
    List(FileType),
    /// `/{repo}/{type}/{name}`
    File(FileType, String),
}

fn file_type(segment: &str) -> Option<FileType> {
    Some(match segment {
        "keys" => FileType::Key,
        "data" => FileType::Pack,
        "index" => FileType::Index,
        "snapshots" => FileType::Snapshot,
        "locks" => FileType::Lock,
        _ => return None,
    })
}

fn type_segment(t: FileType) -> &'static str {
    match t {
        FileType::Config => "config",
        FileType::Key => "keys",
        FileType::Pack => "data",
        FileType::Index => "index",
        FileType::Snapshot => "snapshots",
        FileType::Lock => "locks",
    }
}

fn valid_file_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// Parses a raw request path into the repository name and target.
fn parse_path(path: &str) -> Result<(String, Target), Reply> {
    let bad = |m: &str| Err(Reply::new(StatusCode::BAD_REQUEST, m));
    if path.contains('%') {
        return bad("percent-encoded characters are not allowed in paths");
    }
    let Some(rest) = path.strip_prefix('/') else {
        return bad("path must start with /");
    };
    let segs: Vec<&str> = rest.split('/').collect();
    let last = segs.len() - 1;
    for (i, s) in segs.iter().enumerate() {
        if *s == "." || *s == ".." {
            return bad("path segments . and .. are not allowed");
        }
        if s.is_empty() && i != last {
            return bad("empty path segments (//) are not allowed");
        }
    }
    let repo = segs[0];
    if repo.is_empty() {
        return Err(Reply::new(StatusCode::NOT_FOUND, "no repository in the path (use /REPO/…)"));
    }
    if !valid_repo_name(repo) {
        return bad("invalid repository name (use [a-z0-9][a-z0-9._-]*, at most 64 characters)");
    }
    let target = match segs[1..] {
        [""] => Target::Root,
        ["config"] => Target::Config,
        [t, ""] | [t, _] if file_type(t).is_none() => {
            return Err(Reply::new(
                StatusCode::NOT_FOUND,
                format!("unknown file type {t:?} (use keys, data, index, snapshots, locks)"),
            ));
        }
        [t, ""] => Target::List(file_type(t).unwrap_or(FileType::Lock)),
        [t, name] => {
            if !valid_file_name(name) {
                return bad("invalid file name (expected 64 lower-case hex digits)");
            }
            Target::File(file_type(t).unwrap_or(FileType::Lock), name.to_string())
        }
        _ => return Err(Reply::new(StatusCode::NOT_FOUND, "no such route")),
    };
    Ok((repo.to_string(), target))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn forbidden(msg: impl Into<String>) -> Reply {
    Reply::new(StatusCode::FORBIDDEN, msg)
}

fn storage_error(what: &str, e: &BackupError) -> Reply {
    if let BackupError::NotFound { .. } = e {
        return Reply::new(StatusCode::NOT_FOUND, format!("no such file: {what}"));
    }
    tracing::error!(target: "hostwerk_repo_server", file = %what, error = %e, "storage error");
    Reply::new(StatusCode::INTERNAL_SERVER_ERROR, "storage error (see the server log)")
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Reply> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| Reply::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error (see the server log)"))
}

async fn dispatch(st: &Arc<AppState>, req: Request, who: &mut String) -> Result<Response, Reply> {
    let tokens = st.cfg.tokens.current();
    let Some(token) = bearer(req.headers()).and_then(|t| tokens.authenticate(t)).cloned() else {
        return Err(Reply::new(
            StatusCode::UNAUTHORIZED,
            "missing or unknown token (send Authorization: Bearer TOKEN)",
        ));
    };
    who.clone_from(&token.name);
    let (repo, target) = parse_path(req.uri().path())?;
    if !token.allows_repo(&repo) {
        return Err(forbidden(format!("token {:?} is not granted repository {repo:?}", token.name)));
    }
    let dir = st.cfg.root.join(&repo);
    let method = req.method().clone();
    match (&method, target) {
        (&Method::GET | &Method::HEAD, Target::Config) => read(dir, FileType::Config, "config".into(), &req).await,
        (&Method::GET | &Method::HEAD, Target::File(t, name)) => read(dir, t, name, &req).await,
        (&Method::GET | &Method::HEAD, Target::List(t)) => list(dir, t).await,
        (&Method::POST, Target::Root) => {
            if req.uri().query() != Some("create=true") {
                return Err(Reply::new(StatusCode::BAD_REQUEST, "use POST /REPO/?create=true to create a repository"));
            }
            if token.access == Access::ReadOnly {
                return Err(forbidden("a read-only token cannot create repositories"));
            }
            let backend = LocalBackend::new(dir);
            blocking(move || backend.create()).await?.map_err(|e| storage_error("repository layout", &e))?;
            Ok((StatusCode::OK, "created\n").into_response())
        }
        (&Method::POST, Target::Config) => store(st, &token, repo, dir, FileType::Config, "config".into(), req).await,
        (&Method::POST, Target::File(t, name)) => store(st, &token, repo, dir, t, name, req).await,
        (&Method::DELETE, Target::Config) => delete(&token, dir, FileType::Config, "config".into()).await,
        (&Method::DELETE, Target::File(t, name)) => delete(&token, dir, t, name).await,
        _ => Err(Reply::new(StatusCode::METHOD_NOT_ALLOWED, format!("method {method} is not allowed here"))),
    }
}

fn repo_missing(dir: &std::path::Path) -> bool {
    !dir.is_dir()
}

async fn list(dir: PathBuf, t: FileType) -> Result<Response, Reply> {
    if repo_missing(&dir) {
        return Err(Reply::new(StatusCode::NOT_FOUND, "no such repository"));
    }
    let backend = LocalBackend::new(dir);
    let files = blocking(move || backend.list(t)).await?.map_err(|e| storage_error(type_segment(t), &e))?;
    let v: Vec<serde_json::Value> =
        files.into_iter().map(|(name, size)| serde_json::json!({ "name": name, "size": size })).collect();
    Ok(axum::Json(v).into_response())
}

/// A parsed `Range` header (one range only; anything else is ignored, as RFC 9110 allows).
#[derive(Debug, Clone, Copy)]
enum Range {
    /// `bytes=A-B` (inclusive)
    Closed(u64, u64),
    /// `bytes=A-`
    From(u64),
    /// `bytes=-N`
    Suffix(u64),
}

fn parse_range(headers: &HeaderMap) -> Option<Range> {
    let v = headers.get(header::RANGE)?.to_str().ok()?;
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    match (a.is_empty(), b.is_empty()) {
        (false, false) => {
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some(Range::Closed(a, b))
        }
        (false, true) => Some(Range::From(a.parse().ok()?)),
        (true, false) => Some(Range::Suffix(b.parse().ok()?)),
        (true, true) => None,
    }
}

fn partial(head: bool, data: Vec<u8>, start: u64, total: Option<u64>) -> Response {
    let end = start + data.len() as u64 - 1;
    let total = total.map_or_else(|| "*".to_string(), |t| t.to_string());
    let range = format!("bytes {start}-{end}/{total}");
    body_response(StatusCode::PARTIAL_CONTENT, head, data, Some(range))
}

fn body_response(status: StatusCode, head: bool, data: Vec<u8>, content_range: Option<String>) -> Response {
    let len = data.len();
    let mut r = Response::new(if head { Body::empty() } else { Body::from(data) });
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    r
}

fn read(
    dir: PathBuf,
    t: FileType,
    name: String,
    req: &Request,
) -> impl Future<Output = Result<Response, Reply>> + Send + 'static {
    // The request is not `Sync`: only owned values may cross an await.
    let head = req.method() == Method::HEAD;
    let range = parse_range(req.headers());
    read_file(dir, t, name, head, range)
}

async fn read_file(
    dir: PathBuf,
    t: FileType,
    name: String,
    head: bool,
    range: Option<Range>,
) -> Result<Response, Reply> {
    let backend = LocalBackend::new(dir);
    let what = format!("{}/{name}", type_segment(t));
    // The common case of the engine: an exact range inside the file, read without reading the whole file.
    if let Some(Range::Closed(a, b)) = range {
        if let Ok(len) = usize::try_from(b - a + 1) {
            let (be, n) = (backend.clone(), name.clone());
            match blocking(move || be.get_range(t, &n, a, len)).await? {
                Ok(data) => return Ok(partial(head, data, a, None)),
                Err(BackupError::Corrupt { .. }) => {} // the file is shorter: answer from the whole file below
                Err(e) => return Err(storage_error(&what, &e)),
            }
        }
    }
    let data = blocking(move || backend.get(t, &name)).await?.map_err(|e| storage_error(&what, &e))?;
    let total = data.len() as u64;
    let (start, end) = match range {
        None => return Ok(body_response(StatusCode::OK, head, data, None)),
        Some(Range::Closed(a, b)) => (a, b.min(total.saturating_sub(1))),
        Some(Range::From(a)) => (a, total.saturating_sub(1)),
        Some(Range::Suffix(n)) => (total.saturating_sub(n), total.saturating_sub(1)),
    };
    if start >= total || (matches!(range, Some(Range::Suffix(0)))) {
        let mut r = Reply::new(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable").into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return Ok(r);
    }
    let slice = data[start as usize..=end as usize].to_vec();
    Ok(partial(head, slice, start, Some(total)))
}

/// Marks a name as being written; released on drop.
struct Inflight {
    st: Arc<AppState>,
    key: String,
}

impl Inflight {
    async fn acquire(st: &Arc<AppState>, key: String) -> Inflight {
        loop {
            let inserted = st.inflight.lock().map(|mut s| s.insert(key.clone())).unwrap_or(false);
            if inserted {
                return Inflight { st: st.clone(), key };
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Inflight {
    fn drop(&mut self) {
        if let Ok(mut s) = self.st.inflight.lock() {
            s.remove(&self.key);
        }
    }
}

enum Stored {
    New,
    Identical,
    Different,
    /// A new key (or config) for a repository that already has a config, sent by an append-only token.
    Frozen,
}

async fn store(
    st: &Arc<AppState>,
    token: &Token,
    repo: String,
    dir: PathBuf,
    t: FileType,
    name: String,
    req: Request,
) -> Result<Response, Reply> {
    let what = format!("{}/{name}", if t == FileType::Config { "" } else { type_segment(t) });
    let what = what.trim_start_matches('/').to_string();
    if token.access == Access::ReadOnly {
        return Err(forbidden("a read-only token cannot write"));
    }
    if repo_missing(&dir) {
        return Err(Reply::new(
            StatusCode::NOT_FOUND,
            format!("repository {repo:?} does not exist (create it with POST /{repo}/?create=true)"),
        ));
    }
    let max = st.cfg.max_body;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(Reply::new(StatusCode::PAYLOAD_TOO_LARGE, format!("body larger than {max} bytes")));
    }
    let body = axum::body::to_bytes(req.into_body(), max).await.map_err(|_| {
        Reply::new(StatusCode::PAYLOAD_TOO_LARGE, format!("body incomplete or larger than {max} bytes"))
    })?;
    // Append-only tokens may set up a new repository, but not add keys to one that exists (has a config).
    let frozen = token.access == Access::AppendOnly && matches!(t, FileType::Config | FileType::Key);
    let guard = Inflight::acquire(st, format!("{repo}/{}/{name}", type_segment(t))).await;
    let config = dir.join("config");
    let backend = LocalBackend::new(dir);
    let w = what.clone();
    let outcome = blocking(move || {
        let _guard = guard; // held until the write is complete, even if the client goes away
        match backend.get(t, &name) {
            Ok(existing) if existing == body.as_ref() => Ok(Stored::Identical),
            Ok(_) => Ok(Stored::Different),
            Err(BackupError::NotFound { .. }) if frozen && config.exists() => Ok(Stored::Frozen),
            Err(BackupError::NotFound { .. }) => backend.put(t, &name, &body).map(|()| Stored::New),
            Err(e) => Err(e),
        }
    })
    .await?
    .map_err(|e| storage_error(&w, &e))?;
    match outcome {
        Stored::New => Ok((StatusCode::CREATED, "stored\n").into_response()),
        Stored::Identical => Ok((StatusCode::OK, "already stored with identical content\n").into_response()),
        Stored::Different => {
            Err(forbidden(format!("{what} already exists with different content; files are never overwritten")))
        }
        Stored::Frozen => {
            Err(forbidden(format!("an append-only token cannot add keys to an existing repository (refused: {what})")))
        }
    }
}

async fn delete(token: &Token, dir: PathBuf, t: FileType, name: String) -> Result<Response, Reply> {
    match (token.access, t) {
        (Access::Maintenance, _) | (Access::AppendOnly, FileType::Lock) => {}
        (access, _) => {
            return Err(forbidden(format!(
                "{access} tokens cannot delete files in {}/ (deleting needs a maintenance token)",
                type_segment(t)
            )))
        }
    }
    let what = format!("{}/{name}", type_segment(t));
    let backend = LocalBackend::new(dir);
    blocking(move || backend.delete(t, &name)).await?.map_err(|e| storage_error(&what, &e))?;
    Ok((StatusCode::OK, "deleted\n").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let h = "ab".repeat(32);
        assert_eq!(parse_path("/web001/").unwrap(), ("web001".into(), Target::Root));
        assert_eq!(parse_path("/web001/config").unwrap().1, Target::Config);
        assert_eq!(parse_path("/web001/data/").unwrap().1, Target::List(FileType::Pack));
        assert_eq!(parse_path(&format!("/web001/locks/{h}")).unwrap().1, Target::File(FileType::Lock, h.clone()));
        for (p, code) in [
            ("/", 404),
            ("/web001", 404),
            ("/web001/config/", 404),
            ("/web001/nope/", 404),
            ("/web001/keys/x/y", 404),
            ("/web001/../web002/config", 400),
            ("/web001/%2e%2e/config", 400),
            ("//web001/config", 400),
            ("/web001//config", 400),
            ("/Web001/config", 400),
            ("/web001/keys/ABC", 400),
            ("/web001/keys/..", 400),
            ("/web001/keys/.", 400),
        ] {
            let e = parse_path(p).unwrap_err();
            assert_eq!(e.0.as_u16(), code, "{p}: {}", e.1);
        }
        assert!(parse_path(&format!("/web001/keys/{}", "a".repeat(63))).is_err());
    }

    #[test]
    fn ranges() {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_static("bytes=5-9"));
        assert!(matches!(parse_range(&h), Some(Range::Closed(5, 9))));
        h.insert(header::RANGE, HeaderValue::from_static("bytes=5-"));
        assert!(matches!(parse_range(&h), Some(Range::From(5))));
        h.insert(header::RANGE, HeaderValue::from_static("bytes=-5"));
        assert!(matches!(parse_range(&h), Some(Range::Suffix(5))));
        for bad in ["bytes=9-5", "bytes=1-2,3-4", "items=1-2", "bytes=-", "bytes=a-b"] {
            h.insert(header::RANGE, HeaderValue::from_static(bad));
            assert!(parse_range(&h).is_none(), "{bad}");
        }
    }
}
