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

/// A customer to create in tests: a fixed name and address with the e-mail address `email`.
///
/// # Panics
/// When `email` is not an e-mail address (a mistake in the test).
pub fn sample_customer(email: &str) -> crate::NewCustomer {
    crate::NewCustomer {
        name: hostwerk_domain::CustomerName::parse("Anna Beispiel").expect("a name"),
        email: hostwerk_domain::EmailAddress::parse(email).expect("a test e-mail address"),
        address: hostwerk_domain::PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", "DE").expect("an address"),
        language: hostwerk_domain::Language::De,
        password_hash: "hash-a".into(),
        phone_password_hash: "hash-p".into(),
    }
}

/// Seeds `store` with the demo tariffs, the webserver `web001` and one customer (`email`) with a monthly
/// contract of `tariff` on it; returns the customer, the contract as ordered (to order more like it) and the node.
///
/// # Panics
/// When the store refuses any of it (the test cannot go on).
pub async fn seeded_customer(
    store: &crate::Store,
    tariff: &str,
    email: &str,
) -> (crate::Customer, crate::NewContract, crate::Node) {
    store.seed_tariffs(&hostwerk_domain::TariffCatalog::demo()).await.expect("demo tariffs");
    let web = hostwerk_domain::NodeName::parse("web001").expect("a node name");
    let node = store
        .create_node(
            &web,
            hostwerk_domain::NodeRole::Webserver,
            &hostwerk_domain::NodeAddress::parse("10.0.0.1").expect("address"),
        )
        .await
        .expect("web001");
    let tariff = hostwerk_domain::TariffId::parse(tariff).expect("a tariff id");
    let contract = crate::NewContract {
        tariff: store.tariff(&tariff).await.expect("a demo tariff"),
        period: hostwerk_domain::BillingPeriod::Monthly,
        start: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date"),
        webspace_root: "/var/www".into(),
    };
    let customer = store.create_customer(&sample_customer(email), &contract).await.expect("the customer");
    (customer, contract, node)
}
