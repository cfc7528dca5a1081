//! The S3 backend (feature `s3`): any S3-compatible object store through opendal's blocking operator.
//!
//! Location: `s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]`; credentials from `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, region from `AWS_DEFAULT_REGION` (default `us-east-1`).
//! S3 PUTs are atomic, so every file appears whole or not at all, as the `Backend` contract asks.

use std::sync::Arc;

use opendal::options::{ListOptions, ReadOptions};
use opendal::ErrorKind;

use super::{Backend, FileType};
use crate::error::{Error, Result};

/// A repository in an S3 bucket (under an optional prefix).
#[derive(Debug, Clone)]
pub struct S3Backend {
    op: opendal::blocking::Operator,
    _rt: Arc<tokio::runtime::Runtime>,
    location: String,
}

/// Connection settings of an S3 repository.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Endpoint URL, e.g. `http://127.0.0.1:9000`.
    pub endpoint: String,
    /// Bucket name.
    pub bucket: String,
    /// Key prefix inside the bucket ("" for the bucket root).
    pub prefix: String,
    /// Region.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl S3Config {
    /// Parses `s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]`, taking credentials from the environment.
    pub fn from_location(loc: &str) -> Result<S3Config> {
        let bad = || Error::Invalid(format!("bad S3 location {loc:?} (use s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX])"));
        let rest = loc.strip_prefix("s3:").ok_or_else(bad)?;
        let (scheme, rest) = rest.split_once("://").ok_or_else(bad)?;
        let (host, path) = rest.split_once('/').ok_or_else(bad)?;
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if bucket.is_empty() || host.is_empty() {
            return Err(bad());
        }
        let env = |k: &str| std::env::var(k).unwrap_or_default();
        Ok(S3Config {
            endpoint: format!("{scheme}://{host}"),
            bucket: bucket.into(),
            prefix: prefix.trim_matches('/').into(),
            region: std::env::var("AWS_DEFAULT_REGION").unwrap_or_else(|_| "us-east-1".into()),
            access_key_id: env("AWS_ACCESS_KEY_ID"),
            secret_access_key: env("AWS_SECRET_ACCESS_KEY"),
        })
    }
}

fn backend_err(op: &'static str, name: &str, e: opendal::Error) -> Error {
    Error::Backend { op, name: name.into(), message: e.to_string() }
}

impl S3Backend {
    /// Connects (lazily: the first request reveals unreachable servers or bad credentials).
    pub fn new(cfg: &S3Config) -> Result<S3Backend> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io("start S3 runtime", "", e))?;
        let builder = opendal::services::S3::default()
            .endpoint(&cfg.endpoint)
            .bucket(&cfg.bucket)
            .root(&format!("/{}", cfg.prefix))
            .region(&cfg.region)
            .access_key_id(&cfg.access_key_id)
            .secret_access_key(&cfg.secret_access_key)
            .disable_config_load()
            .disable_ec2_metadata();
        let op = opendal::Operator::new(builder).map_err(|e| backend_err("configure", &cfg.endpoint, e))?.finish();
        let op = {
            let _guard = rt.enter();
            opendal::blocking::Operator::new(op).map_err(|e| backend_err("configure", &cfg.endpoint, e))?
        };
        Ok(S3Backend { op, _rt: Arc::new(rt), location: format!("s3:{}/{}/{}", cfg.endpoint, cfg.bucket, cfg.prefix) })
    }

    fn dir(t: FileType) -> &'static str {
        match t {
            FileType::Config => "",
            FileType::Key => "keys/",
            FileType::Pack => "data/",
            FileType::Index => "index/",
            FileType::Snapshot => "snapshots/",
            FileType::Lock => "locks/",
        }
    }

    fn path(t: FileType, name: &str) -> String {
        match t {
            FileType::Config => "config".into(),
            FileType::Pack => format!("data/{}/{name}", name.get(..2).unwrap_or("00")),
            _ => format!("{}{name}", Self::dir(t)),
        }
    }

    fn map(t: FileType, name: &str, op: &'static str, e: opendal::Error) -> Error {
        if e.kind() == ErrorKind::NotFound {
            Error::NotFound { kind: t.kind(), name: name.into() }
        } else {
            backend_err(op, &Self::path(t, name), e)
        }
    }
}

impl Backend for S3Backend {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn exists(&self) -> Result<bool> {
        self.op.exists("config").map_err(|e| backend_err("stat", "config", e))
    }

    fn create(&self) -> Result<()> {
        Ok(())
    }

    fn put(&self, t: FileType, name: &str, data: &[u8]) -> Result<()> {
        self.op.write(&Self::path(t, name), data.to_vec()).map(|_| ()).map_err(|e| Self::map(t, name, "write", e))
    }

    fn get(&self, t: FileType, name: &str) -> Result<Vec<u8>> {
        self.op.read(&Self::path(t, name)).map(|b| b.to_vec()).map_err(|e| Self::map(t, name, "read", e))
    }

    fn get_range(&self, t: FileType, name: &str, offset: u64, len: usize) -> Result<Vec<u8>> {
        let opts = ReadOptions { range: (offset..offset + len as u64).into(), ..Default::default() };
        let b = self.op.read_options(&Self::path(t, name), opts).map_err(|e| Self::map(t, name, "read", e))?.to_vec();
        if b.len() != len {
            return Err(Error::corrupt(t.kind(), name, format!("file is shorter than {} bytes", offset + len as u64)));
        }
        Ok(b)
    }

    fn list(&self, t: FileType) -> Result<Vec<(String, u64)>> {
        if t == FileType::Config {
            return Ok(match self.op.stat("config") {
                Ok(m) => vec![("config".into(), m.content_length())],
                Err(_) => vec![],
            });
        }
        let opts = ListOptions { recursive: true, ..Default::default() };
        let entries = match self.op.list_options(Self::dir(t), opts) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(backend_err("list", Self::dir(t), e)),
        };
        let mut out: Vec<(String, u64)> = entries
            .into_iter()
            .filter(|e| e.metadata().is_file())
            .map(|e| (e.name().to_string(), e.metadata().content_length()))
            .filter(|(n, _)| !n.is_empty() && !n.starts_with('.'))
            .collect();
        out.sort();
        Ok(out)
    }

    fn delete(&self, t: FileType, name: &str) -> Result<()> {
        match self.op.delete(&Self::path(t, name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Self::map(t, name, "delete", e)),
        }
    }
}
