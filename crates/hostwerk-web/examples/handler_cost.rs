//! In-process cost of one request through the whole router (no sockets): µs per request for /healthz and the
//! logged-in dashboard, on a demo-seeded SQLite database. `cargo run --release -p hostwerk-web --example
//! handler_cost [N]`. Shows how much of the dashboard's time is the application rather than the network.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use hostwerk_store::{Store, Subject};
use hostwerk_web::{AppState, Config};
use tower::ServiceExt;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
    store.seed_tariffs(&hostwerk_domain::TariffCatalog::demo()).await.unwrap();
    let config = Config::default();
    hostwerk_web::demo::seed(&store, &config.webspace_root).await.unwrap();
    let customer = store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let session = store.create_session(Subject::Customer(customer.id), 3600).await.unwrap();
    let csrf = "a".repeat(64);
    let app = hostwerk_web::router(AppState::new(store, config));
    let default = "/healthz,/menu,/healthz,/menu".to_owned();
    let paths = std::env::var("PATHS").unwrap_or(default);
    for path in paths.split(',') {
        let started = Instant::now();
        let mut bytes = 0;
        for _ in 0..n {
            let req = Request::get(path)
                .header("cookie", format!("hw_session={session}; hw_csrf={csrf}"))
                .body(Body::empty())
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            assert!(res.status().is_success(), "{path}: {}", res.status());
            bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().len();
        }
        let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
        println!("{path:<10} {per:8.1} µs/request  ({bytes} bytes)");
    }
}
