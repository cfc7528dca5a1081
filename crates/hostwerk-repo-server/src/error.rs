//! The error type of the repository server's set-up (requests answer with HTTP status codes instead).

/// What can go wrong while setting up or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The tokens file cannot be read or is invalid.
    #[error("tokens file: {0}")]
    Tokens(String),
    /// The TLS certificate or key cannot be read or used.
    #[error("TLS: {0}")]
    Tls(String),
    /// The repository root folder is unusable.
    #[error("repository root {path}: {message}")]
    Root {
        /// The folder.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Listening or serving failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}
