//! The repository server's integration tests, one binary: round trips, the append-only rights and hostile
//! requests, with the shared helpers in `common`.

mod common;

mod append_only;
mod hostile;
mod roundtrip;
