//! The store's integration tests, one binary: the same story on SQLite and PostgreSQL, concurrent writers and
//! the dashboard's data versions.

mod concurrent_writes;
mod data_versions;
mod story;
