//! The kept dashboard: every browser gets its own CSRF token, and every change to what the dashboard shows is
//! on the next load, whoever makes it (the customer's forms, staff, another process writing to the database).
//! On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::support;

use reqwest::StatusCode;
use support::{csrf_of, ids_of, location, texts, TestApp};

/// Hits and misses of the dashboard cache from `/metrics`.
async fn cache_counts(app: &TestApp) -> (u64, u64) {
    let text = app.api().get(format!("{}/metrics", app.metrics_base)).send().await.unwrap().text().await.unwrap();
    let count = |result: &str| {
        let prefix = format!("hostwerk_dashboard_cache_total{{result=\"{result}\"}} ");
        text.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {text}"))
    };
    (count("hit").parse().unwrap(), count("miss").parse().unwrap())
}

async fn kept_dashboard_story(app: &TestApp) {
    let a = app.browser();
    let b = app.browser();
    a.login("K1000001", "demo-password-1").await;
    b.login("K1000001", "demo-password-1").await;

    // The first load renders, the next ones are kept pages; each browser sees its own token, and it works.
    let (status, first) = a.get_text("/menu").await;
    assert_eq!(status, StatusCode::OK);
    let before = cache_counts(app).await;
    let (_, again) = a.get_text("/menu").await;
    assert_eq!(again, first, "the same page for the same browser");
    let (_, other) = b.get_text("/menu").await;
    let after = cache_counts(app).await;
    assert_eq!(after.0 - before.0, 2, "both loads were answered from the kept page: {before:?} -> {after:?}");
    let (token_a, token_b) = (csrf_of(&first), csrf_of(&other));
    assert_ne!(token_a, token_b, "two browsers, two tokens");
    assert!(!other.contains(&token_a), "browser b's page carries none of a's token");
    assert_eq!(other.replace(&token_b, &token_a), first, "otherwise the same page");

    // A form of the kept page (browser b's token) goes through; the change is on both browsers' next load.
    let (_, domain, _) = ids_of(app, "K1000001").await;
    let r = b
        .client
        .post(app.url("/menu/mailboxes"))
        .form(&[("domain_id", domain.to_string().as_str()), ("local_part", "kasse"), ("csrf", &token_b)])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), "/menu?done=mailbox_created");
    let (_, notice) = b.get_text("/menu?done=mailbox_created").await;
    assert!(notice.contains("Das Postfach wurde angelegt."), "the notice shows");
    let (_, dash) = a.get_text("/menu").await;
    assert!(texts(&dash, "#mailboxes li").iter().any(|t| t.starts_with("kasse@")), "{dash}");
    assert!(!dash.contains("Das Postfach wurde angelegt."), "a page with a notice is never kept");

    // Writes from outside the panel's forms: a domain added straight in the database (as the CLI or a second
    // panel instance would), an advisory published, a tariff renamed.
    let erika =
        app.store.customer_by_number(hostwerk_domain::CustomerNumber::parse("K1000001").unwrap()).await.unwrap();
    let contract = app.store.contracts(erika.id).await.unwrap()[0].clone();
    let name = hostwerk_domain::DomainName::parse("neu-erika.de").unwrap();
    app.store.add_domain(erika.id, contract.id, &name, "AUTH-NEU").await.unwrap();
    let (_, dash) = a.get_text("/menu").await;
    assert!(texts(&dash, "#domains li").iter().any(|t| t.contains("neu-erika.de")), "{dash}");
    app.store.create_advisory("Kritische Lücke in PHP", "Bitte aktualisieren.", "critical", &[], None).await.unwrap();
    let (_, dash) = a.get_text("/menu").await;
    assert!(dash.contains("Kritische Lücke in PHP"), "the new advisory shows");
    let mut tariff = app.store.tariff(&contract.tariff_id).await.unwrap();
    tariff.name = "SharedHosting Mittel".into();
    app.store.update_tariff(&tariff).await.unwrap();
    let (_, dash) = a.get_text("/menu").await;
    assert!(texts(&dash, "#contracts td").iter().any(|t| t.contains("SharedHosting Mittel")), "{dash}");

    // Each language is its own page: browser a switches to English, b keeps German.
    let email = erika.email.as_str().to_owned();
    let r = a.submit("/menu/profile", "/menu/profile", &[("email", &email), ("language", "en")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, english) = a.get_text("/menu").await;
    assert!(english.contains("Your contracts") && !english.contains("Ihre Verträge"), "{english}");
    let (_, german) = b.get_text("/menu").await;
    assert!(german.contains("Ihre Verträge"), "the German page is still German");
}

#[tokio::test]
async fn kept_dashboard_on_sqlite() {
    let app = TestApp::spawn().await;
    kept_dashboard_story(&app).await;
}

#[tokio::test]
async fn kept_dashboard_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else { return };
    kept_dashboard_story(&app).await;
}

#[tokio::test]
async fn a_cache_of_zero_keeps_nothing() {
    let app = TestApp::spawn_with(|c| c.dashboard_cache_mib = 0).await;
    let a = app.browser();
    a.login("K1000001", "demo-password-1").await;
    for _ in 0..3 {
        assert_eq!(a.get("/menu").await.status(), StatusCode::OK);
    }
    assert_eq!(cache_counts(&app).await, (0, 0), "the cache is off");
}
