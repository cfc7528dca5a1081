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
    bearer_value(headers.get(header::AUTHORIZATION)?.to_str().ok()?)
}

fn bearer_value(v: &str) -> Option<&str> {
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

/// A parsed `Range` header (one range only; anything else is ignored, as RFC 9110 allows). Every number
/// is a `u64` as sent; nothing here is computed from them, see [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Range {
    /// `bytes=A-B` (inclusive)
    Closed(u64, u64),
    /// `bytes=A-`
    From(u64),
    /// `bytes=-N`
    Suffix(u64),
}

fn parse_range(headers: &HeaderMap) -> Option<Range> {
    parse_range_value(headers.get(header::RANGE)?.to_str().ok()?)
}

/// Parses the value of a `Range` header. Numbers are plain decimal digits (no sign, no spaces inside, as
/// RFC 9110 writes them) that fit a `u64`; anything else is no range.
pub(crate) fn parse_range_value(v: &str) -> Option<Range> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    match (a.is_empty(), b.is_empty()) {
        (false, false) => {
            let (a, b) = (num(a)?, num(b)?);
            (a <= b).then_some(Range::Closed(a, b))
        }
        (false, true) => Some(Range::From(num(a)?)),
        (true, false) => Some(Range::Suffix(num(b)?)),
        (true, true) => None,
    }
}

/// The bytes `start..=end` of a file of `total` bytes that `range` asks for, clamped to the file, or `None`
/// when no byte of the file is in the range (416). `start <= end < total` whenever it answers.
pub(crate) fn resolve(range: Range, total: u64) -> Option<(u64, u64)> {
    let last = total.checked_sub(1)?;
    match range {
        Range::Closed(a, b) => (a <= last && a <= b).then(|| (a, b.min(last))),
        Range::From(a) => (a <= last).then_some((a, last)),
        Range::Suffix(0) => None,
        Range::Suffix(n) => Some((total - n.min(total), last)),
    }
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

/// How much of a file is sent per chunk of the streamed body.
const CHUNK: usize = 64 << 10;

/// Answers a read: the whole file (200) or the part a range asks for (206, clamped to the file), or 416 with
/// `Content-Range: bytes */LEN`. The body is streamed from the open file in 64 KiB chunks, so neither the
/// file nor the range is ever held in memory whole, whatever numbers the request carries.
async fn read_file(
    dir: PathBuf,
    t: FileType,
    name: String,
    head: bool,
    range: Option<Range>,
) -> Result<Response, Reply> {
    let backend = LocalBackend::new(dir);
    let what = format!("{}/{name}", type_segment(t));
    let opened = blocking(move || {
        let f = backend.open_file(t, &name)?;
        let len = f.metadata().map_err(|e| BackupError::Backend {
            op: "stat",
            name: name.clone(),
            message: e.to_string(),
        })?;
        Ok::<_, BackupError>((f, len.len()))
    })
    .await?;
    let (file, total) = opened.map_err(|e| storage_error(&what, &e))?;
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, total.checked_sub(1)),
        Some(r) => match resolve(r, total) {
            Some((a, b)) => (StatusCode::PARTIAL_CONTENT, a, Some(b)),
            None => {
                let mut r = Reply::new(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable").into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(r);
            }
        },
    };
    // end < total, so end - start + 1 cannot overflow.
    let len = end.map_or(0, |e| e - start + 1);
    let body = if head || len == 0 { Body::empty() } else { stream_body(file, start, len) };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let (StatusCode::PARTIAL_CONTENT, Some(end)) = (status, end) {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{total}")) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(r)
}

/// `len` bytes of `file` from `start`, read on a blocking thread one chunk ahead of the client (a slow or
/// vanished client stops the reading).
fn stream_body(file: std::fs::File, start: u64, len: u64) -> Body {
    use std::os::unix::fs::FileExt;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(2);
    tokio::task::spawn_blocking(move || {
        let (mut pos, end) = (start, start + len);
        while pos < end {
            let n = usize::try_from(end - pos).map_or(CHUNK, |left| left.min(CHUNK));
            let mut buf = vec![0u8; n];
            let item = match file.read_at(&mut buf, pos) {
                Ok(0) => Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "file shrank while sent")),
                Ok(got) => {
                    buf.truncate(got);
                    pos += got as u64;
                    Ok(buf)
                }
                Err(e) => Err(e),
            };
            let failed = item.is_err();
            if tx.blocking_send(item).is_err() || failed {
                return;
            }
        }
    });
    Body::from_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
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

/// The request parsing for `cargo fuzz` (fuzz/fuzz_targets/repo_request.rs): path, `Range` and
/// `Authorization` as a client may send them, against a file of `total` bytes. Panics when an invariant
/// does not hold.
#[doc(hidden)]
pub fn fuzz_request(path: &str, range: &str, authorization: &str, total: u64) {
    if let Ok((repo, target)) = parse_path(path) {
        assert!(valid_repo_name(&repo), "{repo:?}");
        if let Target::File(_, name) = target {
            assert!(valid_file_name(&name));
        }
    }
    if let Some(r) = parse_range_value(range) {
        if let Some((s, e)) = resolve(r, total) {
            assert!(s <= e && e < total, "{r:?} of {total}: {s}-{e}");
        }
    }
    if let Some(t) = bearer_value(authorization) {
        assert!(!t.is_empty() && authorization.contains(t));
    }
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
        for bad in [
            "bytes=9-5",
            "bytes=1-2,3-4",
            "items=1-2",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes=0-18446744073709551616",
            "bytes=--5",
            "bytes=1--5",
        ] {
            h.insert(header::RANGE, HeaderValue::from_static(bad));
            assert!(parse_range(&h).is_none(), "{bad}");
        }
    }

    #[test]
    fn ranges_are_clamped_to_the_file() {
        // The two requests of the report: a huge end and u64::MAX as end.
        assert_eq!(resolve(Range::Closed(0, 140_737_488_355_327), 100), Some((0, 99)));
        assert_eq!(resolve(Range::Closed(0, u64::MAX), 100), Some((0, 99)));
        assert_eq!(resolve(Range::Closed(u64::MAX, u64::MAX), 100), None);
        assert_eq!(resolve(Range::Closed(99, 99), 100), Some((99, 99)));
        assert_eq!(resolve(Range::Closed(100, 200), 100), None);
        assert_eq!(resolve(Range::From(u64::MAX), 100), None);
        assert_eq!(resolve(Range::From(0), 0), None);
        assert_eq!(resolve(Range::Suffix(u64::MAX), 100), Some((0, 99)));
        assert_eq!(resolve(Range::Suffix(1), 100), Some((99, 99)));
        assert_eq!(resolve(Range::Suffix(0), 100), None);
        assert_eq!(resolve(Range::Suffix(5), 0), None);
    }

    proptest::proptest! {
        #[test]
        fn resolved_ranges_lie_inside_the_file(a: u64, b: u64, total in proptest::prelude::any::<u64>(), kind in 0u8..3) {
            let r = match kind { 0 => Range::Closed(a.min(b), a.max(b)), 1 => Range::From(a), _ => Range::Suffix(b) };
            if let Some((s, e)) = resolve(r, total) {
                proptest::prop_assert!(s <= e && e < total);
            }
        }

        #[test]
        fn range_values_never_panic(v in ".{0,40}") {
            let _ = parse_range_value(&v);
        }
    }
}
