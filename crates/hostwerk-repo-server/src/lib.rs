//! hostwerk-repo-server: serves `hostwerk-backup` repositories over HTTP(S) so that backups live on separate
//! backup servers, and webservers get tokens that can add backups but never destroy them.
//!
//! # Layout
//!
//! A root folder holds one repository per subfolder, named `[a-z0-9][a-z0-9._-]*` (at most 64 characters,
//! e.g. `web001`). Each subfolder has exactly the layout of a local repository
//! ([`hostwerk_backup::LocalBackend`] does all file I/O), so a repository can be moved between a local disk
//! and the server with `cp -a`, and `hostwerk backup check --repo /srv/backup/web001` works on the server.
//!
//! # Protocol
//!
//! Every request carries `Authorization: Bearer TOKEN`. `{type}` is one of `keys`, `data`, `index`,
//! `snapshots`, `locks`; `{name}` is exactly 64 lower-case hex digits (the engine names every file by an id).
//!
//! | request | meaning | success |
//! |---|---|---|
//! | `POST /{repo}/?create=true` | create the folder layout (no-op if it exists) | 200 |
//! | `GET`/`HEAD /{repo}/config` | read the config file | 200 |
//! | `POST /{repo}/config` | store the config (body = whole file) | 201 (200 if identical bytes were there) |
//! | `GET /{repo}/{type}/` | list: JSON `[{"name": "…", "size": 123}, …]` | 200 |
//! | `GET`/`HEAD /{repo}/{type}/{name}` | read a file; `Range: bytes=A-B`, `bytes=A-`, `bytes=-N` give 206 | 200/206 |
//! | `POST /{repo}/{type}/{name}` | store a file (body = whole file, written atomically) | 201 (200 if identical) |
//! | `DELETE /{repo}/{type}/{name}` | delete a file (a missing file is no error) | 200 |
//!
//! Errors answer with a one-line plain-text reason: 400 malformed path or name (including `.`/`..`
//! segments, empty segments such as `//`, and any percent-encoding), 401 missing or unknown token,
//! 403 the token may not do this (also: a token that is not granted the repository gets 403 whether or
//! not the repository exists, so tokens cannot probe for other customers' repositories), 404 no such
//! repository, file or route, 405 unsupported method (`PUT`, `PATCH`, …), 413 body larger than the limit,
//! 416 unsatisfiable range, 500 storage error (details only in the server log).
//!
//! # Rights
//!
//! | | read, list | create a new repository (layout, keys, config) | add a new file | re-upload identical bytes | overwrite with other bytes | add keys to an existing repository | delete locks | delete anything else |
//! |---|---|---|---|---|---|---|---|---|
//! | `read-only` | yes | no | no | no | no | no | no | no |
//! | `append-only` | yes | yes | yes | yes (200) | **no** | no | **yes** | no |
//! | `maintenance` | yes | yes | yes | yes (200) | **no** | yes | yes | yes |
//!
//! Files are write-once for everybody: their names are hashes of their contents, so a different body for
//! an existing name is either a bug or an attack, and is refused even for maintenance tokens (delete first).
//! An identical re-upload is answered 200 so that a client can retry after a lost response.
//!
//! **The lock exception.** Append-only tokens may delete files of type `locks`: the engine removes its own
//! lock file when a backup ends and replaces it every few minutes while a backup runs. Lock files hold no
//! backup data (only who holds the lock since when), nothing refers to them, and every command ignores
//! stale ones. Deleting a lock can at worst let a backup run beside `prune` (maintenance token); prune only
//! removes data that the snapshots existing at its start do not use, so existing snapshots stay intact and
//! at most that one concurrent backup may refer to removed data, which `check` reports. Tokens are
//! per repository, so a webserver can only do this to its own repository.
//!
//! Concurrent uploads of the same name are serialised by the server, so the check "does the file exist,
//! and are the bytes the same" and the write happen as one step: a second upload never replaces the first.
//!
//! Every request is logged through `tracing` (target `hostwerk_repo_server::access`): token name, method,
//! path, status. The token itself is never logged.

mod error;
mod server;
mod tls;
mod tokens;

pub use error::ServerError;
pub use server::{fuzz_request, router, serve, ServerConfig, SharedTokens, DEFAULT_MAX_BODY};
pub use tls::TlsConfig;
pub use tokens::{hash_token, new_token, token_toml, valid_repo_name, Access, Token, TokenSet};
