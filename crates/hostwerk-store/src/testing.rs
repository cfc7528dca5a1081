//! Helpers for tests that need a database of their own on a PostgreSQL server.

use rand::RngCore;
use sqlx::Connection;

/// The PostgreSQL server for tests, from `HOSTWERK_TEST_POSTGRES_URL`. Without it the test is skipped
/// (with a printed reason) — except under CI (`CI=true`), where a missing server is a failure.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("HOSTWERK_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: HOSTWERK_TEST_POSTGRES_URL must be set under CI")
        }
        Err(_) => {
            println!("SKIPPED {test}: HOSTWERK_TEST_POSTGRES_URL is not set (.ci/run sets it)");
            None
        }
    }
}

/// Creates an empty database with a random name on the server of `admin_url` and returns its URL.
pub async fn fresh_postgres_database(admin_url: &str) -> Result<String, sqlx::Error> {
    let mut conn = sqlx::postgres::PgConnection::connect(admin_url).await?;
    let name = format!("hostwerk_test_{:016x}", rand::rngs::OsRng.next_u64());
    sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
    conn.close().await?;
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    Ok(format!("{base}/{name}{query}"))
}
