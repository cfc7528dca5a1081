//! Where a repository is and the secrets that open it, as the panel's `[[backup.repositories]]` and
//! `hostwerk agent --backup-*` name them: a location (a folder, `rest:https://…`, `s3:…`), a password file,
//! and for `rest:` an optional token file and CA certificate. One place opens them for both.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::backend::Backend;
use crate::{InitOptions, Repository};

/// A repository's location and the files holding its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryAccess {
    /// A folder, `local:FOLDER`, `rest:https://HOST:PORT/REPO` or `s3:https://HOST/BUCKET/PREFIX`.
    pub location: String,
    pub password_file: PathBuf,
    /// For `rest:`: the repository server token.
    pub token_file: Option<PathBuf>,
    /// For `rest:`: the PEM file of the CA that signed the repository server's certificate.
    pub ca_cert: Option<PathBuf>,
}

/// Why a repository could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    #[error("cannot read {path}: {source}")]
    Secret { path: String, source: std::io::Error },
    #[error(transparent)]
    Engine(#[from] crate::Error),
}

fn read_secret(path: &Path) -> Result<String, AccessError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|source| AccessError::Secret { path: path.display().to_string(), source })
}

impl RepositoryAccess {
    /// Whether the location is a folder on this machine.
    pub fn is_local(&self) -> bool {
        !self.location.contains(':') || self.location.starts_with("local:")
    }

    /// The backend of the location, with the token and CA of this access (not the environment's).
    pub fn open_backend(&self) -> Result<Arc<dyn Backend>, AccessError> {
        #[cfg(feature = "http")]
        if let Some(url) = self.location.strip_prefix("rest:") {
            let token = self.token_file.as_deref().map(read_secret).transpose()?;
            let ca = match &self.ca_cert {
                Some(p) => Some(
                    std::fs::read(p).map_err(|source| AccessError::Secret { path: p.display().to_string(), source })?,
                ),
                None => None,
            };
            return Ok(Arc::new(crate::backend::http::HttpBackend::new(url, token, ca.as_deref())?));
        }
        Ok(crate::backend::open_location(&self.location)?)
    }

    /// Opens the repository, creating it first when `create` and it does not exist yet.
    pub fn open(&self, create: bool) -> Result<Repository, AccessError> {
        let backend = self.open_backend()?;
        let password = read_secret(&self.password_file)?;
        if create && !backend.exists()? {
            return Ok(Repository::init(backend, password.as_bytes(), InitOptions::default())?);
        }
        Ok(Repository::open(backend, password.as_bytes())?)
    }
}
