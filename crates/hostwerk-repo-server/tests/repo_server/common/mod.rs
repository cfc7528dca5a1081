//! Test helpers: a real server on port 0 in a background thread, a raw HTTP/1.1 client (so that paths
//! reach the server exactly as written, without URL normalisation), and a fingerprint of a folder tree.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hostwerk_backup::backend::http::HttpBackend;
use hostwerk_backup::{Backend, InitOptions, Repository};
use hostwerk_repo_server::{new_token, serve, token_toml, Access, ServerConfig, TlsConfig, TokenSet};
use sha2::{Digest, Sha256};

pub const PASSWORD: &[u8] = b"correct horse";

/// A running server with its root folder and tokens.
pub struct Server {
    pub addr: SocketAddr,
    pub root: tempfile::TempDir,
    /// Token by name: `append` (web001, web003), `append2` (web002), `ro` (web001), `maint` (all).
    pub tokens: BTreeMap<&'static str, String>,
    pub tls: bool,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub fn start(tls: bool) -> Server {
        Server::start_with(tls, 64 << 20)
    }

    pub fn start_with(tls: bool, max_body: usize) -> Server {
        let root = tempfile::tempdir().unwrap();
        let mut toml = String::new();
        let mut tokens = BTreeMap::new();
        for (name, access, repos) in [
            ("append", Access::AppendOnly, vec!["web001".to_string(), "web003".to_string()]),
            ("append2", Access::AppendOnly, vec!["web002".to_string()]),
            ("ro", Access::ReadOnly, vec!["web001".to_string()]),
            ("maint", Access::Maintenance, vec!["*".to_string()]),
        ] {
            let (tok, hash) = new_token();
            toml.push_str(&token_toml(name, &hash, access, &repos));
            tokens.insert(name, tok);
        }
        let set = TokenSet::parse(&toml).unwrap();
        let mut cfg = ServerConfig::new(root.path(), set);
        cfg.max_body = max_body;
        let tls_cfg = tls.then(|| {
            let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
            TlsConfig::from_pem_files(&f.join("server.pem"), &f.join("server.key")).unwrap()
        });
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                serve(listener, cfg, tls_cfg, async move {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Server { addr, root, tokens, tls, stop: Some(stop), thread: Some(thread) }
    }

    pub fn token(&self, name: &str) -> String {
        self.tokens[name].clone()
    }

    pub fn url(&self, repo: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}/{repo}", self.addr.port())
    }

    /// The engine's backend for `repo` with the token `token` (a name from `tokens`).
    pub fn backend(&self, repo: &str, token: &str) -> Arc<dyn Backend> {
        let ca = self.tls.then(|| std::fs::read(fixture("ca.pem")).unwrap());
        Arc::new(HttpBackend::new(&self.url(repo), Some(self.token(token)), ca.as_deref()).unwrap())
    }

    pub fn init(&self, repo: &str, token: &str) -> Repository {
        Repository::init(self.backend(repo, token), PASSWORD, InitOptions::default()).unwrap()
    }

    pub fn open(&self, repo: &str, token: &str) -> Repository {
        Repository::open(self.backend(repo, token), PASSWORD).unwrap()
    }

    /// One raw HTTP/1.1 request (plain HTTP only); returns status and body, or status 0 when the server
    /// reset the connection before an answer could be read (it may refuse a body without reading it).
    pub fn raw(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, Vec<u8>) {
        self.raw_with(method, path, token.map(|t| self.token(t)).as_deref(), &[], body)
    }

    /// A request whose body is already chunk-encoded.
    pub fn raw_chunked(&self, method: &str, path: &str, token: &str, encoded: &[u8]) -> (u16, Vec<u8>) {
        self.raw_with(method, path, Some(&self.token(token)), &[("Transfer-Encoding", "chunked")], encoded)
    }

    pub fn raw_with(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        if let Some(t) = bearer {
            head.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("transfer-encoding")) {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let (status, _, body) = self.raw_bytes(head.as_bytes(), body);
        (status, body)
    }

    /// Sends `head` (request line and headers, ending in an empty line, any bytes) and `body` as they are;
    /// returns status, the answer's header block and its body (status 0 when no answer could be read).
    pub fn raw_bytes(&self, head: &[u8], body: &[u8]) -> (u16, String, Vec<u8>) {
        assert!(!self.tls, "raw requests speak plain HTTP");
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.write_all(head).unwrap();
        let _ = s.write_all(body);
        let mut resp = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => resp.extend_from_slice(&buf[..n]),
            }
        }
        let Some(split) = resp.windows(4).position(|w| w == b"\r\n\r\n") else {
            return (0, String::new(), Vec::new());
        };
        let head = String::from_utf8_lossy(&resp[..split]).to_string();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let mut body = resp[split + 4..].to_vec();
        if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            body = dechunk(&body);
        }
        (status, head, body)
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Every file under `dir` (relative path → SHA-256 of its bytes).
pub fn tree_hashes(dir: &Path) -> BTreeMap<PathBuf, [u8; 32]> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, [u8; 32]>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            } else {
                let h: [u8; 32] = Sha256::digest(std::fs::read(&p).unwrap()).into();
                out.insert(p.strip_prefix(base).unwrap().to_path_buf(), h);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Names of the files of a repository folder (`keys`, `data`, …) as stored on disk.
pub fn names(repo_dir: &Path, sub: &str) -> Vec<String> {
    let mut out: Vec<String> = tree_hashes(&repo_dir.join(sub))
        .keys()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}
