//! The web crate's integration tests, one binary (linking the web stack once) with a module per area: each
//! drives a real server on port 0 with a real SQLite (and, with `HOSTWERK_TEST_POSTGRES_URL`, PostgreSQL)
//! database and a real SMTP sink. Run one area with `cargo test -p hostwerk-web --test web phone::`.

mod support;

mod backups;
mod blog;
mod dashboard_cache;
mod domains;
mod error_pages;
mod hardening;
mod http;
mod limits;
mod mail_setup;
mod phone;
mod polish;
mod second_factor;
mod service;
mod staff_console;
