//! Telephone verification over real HTTP: the telephone password's rules, the temporary PIN, the caller check
//! with its limits, the call context that gates customer data for every staff route, and what support does
//! within a call (with e-mails and audit entries). A real SMTP sink receives the mails.

#![allow(clippy::unwrap_used)]

use crate::support;

use std::time::{Duration, Instant};

use hostwerk_web::demo::DEMO_PHONE_PASSWORD;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{location, texts, TestApp};

const ERIKA: &str = "erika@example.com";

async fn check(app: &TestApp, token: &str, number: &str, password: &str) -> (StatusCode, Value) {
    let r = app
        .api()
        .post(app.url("/api/v1/staff/phone-checks"))
        .bearer_auth(token)
        .json(&json!({"customer_number": number, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| json!({ "raw": text })))
}

async fn api_get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let r = app.api().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn api_post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let r = app.api().post(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    app.store.audit_log(500).await.unwrap().into_iter().filter(|e| e.action == action).map(|e| e.detail).collect()
}

/// Every staff route that shows or changes customer data, API and pages, refuses without a live call
/// context of this staff member; with one it answers; other staff members stay refused; closing ends it.
async fn gated_story(app: &TestApp) {
    for (login, password) in [("support", "demo-support-1"), ("chef", "demo-chef-1"), ("admin", "demo-admin-1")] {
        let token = app.token(true, login, password).await;
        let domain_id = 1;
        let refused = [
            api_get(app, &token, "/api/v1/staff/calls/K1000001").await.0,
            api_post(
                app,
                &token,
                "/api/v1/staff/calls/K1000001/tariff-changes",
                json!({"contract_id": 1, "tariff": "shared-l"}),
            )
            .await
            .0,
            api_post(
                app,
                &token,
                "/api/v1/staff/calls/K1000001/domain-orders",
                json!({"contract_id": 1, "domain": "neu.de"}),
            )
            .await
            .0,
            api_post(
                app,
                &token,
                &format!("/api/v1/staff/calls/K1000001/domains/{domain_id}/auth-code"),
                json!({"reason": "Umzug zu anderem Anbieter"}),
            )
            .await
            .0,
        ];
        assert_eq!(refused, [StatusCode::FORBIDDEN; 4], "{login} without a call (API)");
        let b = app.browser();
        assert_eq!(location(&b.staff_login(login, password).await), "/staff");
        let (status, page) = b.get_text("/staff/customers/K1000001").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{login} without a call (page)");
        assert!(!page.contains(ERIKA) && !page.contains("DEMO-AUTH") && !page.contains("SharedHosting"));
        for (action, fields) in [
            ("/staff/customers/K1000001/tariff-change", vec![("contract_id", "1"), ("tariff", "shared-l")]),
            ("/staff/customers/K1000001/domain-orders", vec![("contract_id", "1"), ("domain", "neu.de")]),
            ("/staff/customers/K1000001/domains/1/auth-code", vec![("reason", "Umzug zu anderem Anbieter")]),
        ] {
            let r = b.submit("/staff?number=K1000001", action, &fields).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{login} {action}");
        }
    }
    assert!(app
        .store
        .tariff_changes(app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap().id)
        .await
        .unwrap()
        .is_empty());

    let support = app.token(true, "support", "demo-support-1").await;
    let chef = app.token(true, "chef", "demo-chef-1").await;
    let (status, body) = check(app, &support, "K1000001", DEMO_PHONE_PASSWORD).await;
    assert_eq!((status, body["verified"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    let (status, call) = api_get(app, &support, "/api/v1/staff/calls/K1000001").await;
    assert_eq!(status, StatusCode::OK, "{call}");
    assert_eq!(call["customer"]["email"], ERIKA);
    assert_eq!(call["contracts"][0]["tariff"], "SharedHosting M");
    assert!(call["domains"].as_array().unwrap().len() >= 2);
    assert!(!call.to_string().contains("DEMO-AUTH"), "auth codes only by disclosure");
    assert_eq!(api_get(app, &chef, "/api/v1/staff/calls/K1000001").await.0, StatusCode::FORBIDDEN, "per staff member");
    assert_eq!(api_get(app, &support, "/api/v1/staff/calls/K1000002").await.0, StatusCode::FORBIDDEN, "per customer");
    let r = app.api().delete(app.url("/api/v1/staff/calls/K1000001")).bearer_auth(&support).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(api_get(app, &support, "/api/v1/staff/calls/K1000001").await.0, StatusCode::FORBIDDEN, "closed");
    assert_eq!(audit_details(app, "phone.verified").await.len(), 1);
}

#[tokio::test]
async fn customer_data_is_gated_by_a_call_context_on_sqlite() {
    gated_story(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn customer_data_is_gated_by_a_call_context_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else { return };
    gated_story(&app).await;
}

#[tokio::test]
async fn the_call_context_expires() {
    let app = TestApp::spawn_with(|c| c.call_context_secs = 2).await;
    let support = app.token(true, "support", "demo-support-1").await;
    let (status, body) = check(&app, &support, "K1000001", DEMO_PHONE_PASSWORD).await;
    assert_eq!(body["verified"], true, "{status} {body}");
    assert_eq!(api_get(&app, &support, "/api/v1/staff/calls/K1000001").await.0, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(api_get(&app, &support, "/api/v1/staff/calls/K1000001").await.0, StatusCode::FORBIDDEN, "expired");
}

#[tokio::test]
async fn five_failures_lock_the_customer_and_mail_them() {
    let app = TestApp::spawn().await;
    let support = app.token(true, "support", "demo-support-1").await;
    for i in 1..=5 {
        let (status, body) = check(&app, &support, "K1000001", &format!("falsch-{i}-passwort")).await;
        assert_eq!(
            (status, body.clone()),
            (StatusCode::OK, json!({"verified": false, "verification_id": null, "call_expires_at": null}))
        );
    }
    let (status, body) = check(&app, &support, "K1000001", DEMO_PHONE_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits: {body}");
    let mail = app.smtp.wait_for(ERIKA, "5-mal hintereinander").await;
    assert!(
        support::smtp::decoded(&mail.data).contains("60") || support::smtp::decoded(&mail.data).contains("1 Minuten")
    );
    // an unknown number answers the same way
    for _ in 1..=5 {
        assert_eq!(
            check(&app, &support, "K7777777", "falsch-passwort").await,
            (StatusCode::OK, json!({"verified": false, "verification_id": null, "call_expires_at": null}))
        );
    }
    assert_eq!(check(&app, &support, "K7777777", "falsch-passwort").await.0, StatusCode::TOO_MANY_REQUESTS);
    // the customer sees the failures in the menu
    let b = app.browser();
    b.login("K1000001", "demo-password-1").await;
    let (status, page) = b.get_text("/menu/phone").await;
    assert_eq!(status, StatusCode::OK);
    let rows = texts(&page, "#phone-checks tbody tr");
    assert_eq!(rows.len(), 5);
    assert!(rows.iter().all(|r| r.contains("Sam Support") && r.contains("nicht verifiziert")), "{rows:?}");
    assert_eq!(audit_details(&app, "phone.check_failed").await.len(), 5);
}

#[tokio::test]
async fn a_staff_member_gets_thirty_checks_per_ten_minutes() {
    let app = TestApp::spawn().await;
    let support = app.token(true, "support", "demo-support-1").await;
    for i in 0..30 {
        let (status, _) = check(&app, &support, &format!("K20000{i:02}"), "irgendein-passwort").await;
        assert_eq!(status, StatusCode::OK, "check {i}");
    }
    let (status, body) = check(&app, &support, "K1000001", DEMO_PHONE_PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let chef = app.token(true, "chef", "demo-chef-1").await;
    assert_eq!(check(&app, &chef, "K1000001", DEMO_PHONE_PASSWORD).await.1["verified"], true, "per staff member");
}

#[tokio::test]
async fn support_acts_within_a_call_with_mails_and_audit() {
    let app = TestApp::spawn().await;
    let support = app.token(true, "support", "demo-support-1").await;
    let (_, body) = check(&app, &support, "K1000001", DEMO_PHONE_PASSWORD).await;
    let verification = body["verification_id"].as_i64().unwrap();
    let (_, call) = api_get(&app, &support, "/api/v1/staff/calls/K1000001").await;
    let contract = &call["contracts"][0];
    let contract_id = contract["id"].as_i64().unwrap();
    let prepaid = chrono::NaiveDate::parse_from_str(contract["prepaid_until"].as_str().unwrap(), "%Y-%m-%d").unwrap();

    // tariff change: next billing period, price difference, mail, audit naming the verification
    let (status, change) = api_post(
        &app,
        &support,
        "/api/v1/staff/calls/K1000001/tariff-changes",
        json!({"contract_id": contract_id, "tariff": "shared-l"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{change}");
    assert_eq!(change["effective"], prepaid.succ_opt().unwrap().to_string());
    assert_eq!(change["new_monthly_price_cents"], 1499);
    assert_eq!(
        (change["monthly_difference_cents"].as_i64(), change["period_difference_cents"].as_i64()),
        (Some(600), Some(7200))
    );
    app.smtp.wait_for(ERIKA, "Differenz: 6,00").await;
    let (status, body) = api_post(
        &app,
        &support,
        "/api/v1/staff/calls/K1000001/tariff-changes",
        json!({"contract_id": contract_id, "tariff": "shared-m"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "same tariff: {body}");
    assert!(audit_details(&app, "phone.tariff_change_scheduled").await[0]
        .contains(&format!("verification #{verification}")));

    // domain order: pending, mail, no duplicates
    let order = json!({"contract_id": contract_id, "domain": "erika-neu.de"});
    let (status, body) = api_post(&app, &support, "/api/v1/staff/calls/K1000001/domain-orders", order.clone()).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::CREATED, Some("pending")));
    app.smtp.wait_for(ERIKA, "erika-neu.de").await;
    assert_eq!(
        api_post(&app, &support, "/api/v1/staff/calls/K1000001/domain-orders", order).await.0,
        StatusCode::CONFLICT
    );
    let taken = json!({"contract_id": contract_id, "domain": "beispiel-gmbh.de"});
    assert_eq!(
        api_post(&app, &support, "/api/v1/staff/calls/K1000001/domain-orders", taken).await.0,
        StatusCode::CONFLICT
    );
    assert!(audit_details(&app, "phone.domain_ordered").await[0].contains(&format!("verification #{verification}")));

    // auth code: reason required; disclosed once asked; mail; the customer sees it
    let domain_id = call["domains"][0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/staff/calls/K1000001/domains/{domain_id}/auth-code");
    let (status, body) = api_post(&app, &support, &path, json!({"reason": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].as_str().unwrap().contains("reason"), "{body}");
    let (status, body) = api_post(&app, &support, &path, json!({"reason": "Umzug zu anderem Anbieter"})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["auth_code"].as_str().unwrap().starts_with("DEMO-AUTH"), "{body}");
    app.smtp.wait_for(ERIKA, "Umzug zu anderem Anbieter").await;
    let other = app.store.customer_by_number("K1000002".parse().unwrap()).await.unwrap();
    let foreign = app.store.domains(other.id).await.unwrap()[0].id;
    let foreign_path = format!("/api/v1/staff/calls/K1000001/domains/{foreign}/auth-code");
    assert_eq!(
        api_post(&app, &support, &foreign_path, json!({"reason": "Umzug zu anderem Anbieter"})).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(
        audit_details(&app, "phone.auth_code_disclosed").await[0].contains(&format!("verification #{verification}"))
    );
    let customer_token = app.token(false, "K1000001", "demo-password-1").await;
    let (_, activity) = api_get(&app, &customer_token, "/api/v1/me/phone-activity").await;
    assert_eq!(activity["disclosures"][0]["reason"], "Umzug zu anderem Anbieter");
    assert_eq!(activity["checks"][0]["verified"], true);
}

#[tokio::test]
async fn phone_password_rules_and_the_temporary_pin() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.login("K1000001", "demo-password-1").await;
    let change = |current: &'static str, new: &'static str| {
        let b = &b;
        async move {
            b.submit(
                "/menu/phone",
                "/menu/phone",
                &[("current", current), ("phone_password", new), ("phone_password_repeat", new)],
            )
            .await
        }
    };
    let cases = [
        ("wrong-password", "Ein ganz neues Telefonwort", "aktuelle Passwort ist falsch"),
        ("demo-password-1", "kurz", "mindestens 8 Zeichen"),
        ("demo-password-1", "password1", "häufigsten Passwörtern"),
        ("demo-password-1", "Qwertyuiop", "häufigsten Passwörtern"),
        ("demo-password-1", "meine K1000001", "Kundennummer"),
        ("demo-password-1", "Erika ruft an", "Namen"),
        ("demo-password-1", "demo-password-1", "unterscheiden"),
    ];
    for (current, new, message) in cases {
        let r = change(current, new).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{new}: expected {message:?}");
        assert!(!page.contains(new) || new == "kurz", "the rejected password is not echoed");
    }
    let r = change("demo-password-1", "Sieben Zwerge hinter den Bergen").await;
    assert_eq!(location(&r), "/menu/phone?done=phone_password_changed");
    app.smtp.wait_for(ERIKA, "Telefonpasswort").await;
    let support = app.token(true, "support", "demo-support-1").await;
    assert_eq!(check(&app, &support, "K1000001", DEMO_PHONE_PASSWORD).await.1["verified"], false, "old one is gone");
    assert_eq!(check(&app, &support, "K1000001", "Sieben Zwerge hinter den Bergen").await.1["verified"], true);

    // the PIN: shown once, works once, ends with a password reset
    // a PIN needs the customer-menu password: a stolen session alone does not become a phone identity
    let r = b.submit("/menu/phone", "/menu/phone/pin", &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Das aktuelle Passwort ist falsch"));
    let r = b.submit("/menu/phone", "/menu/phone/pin", &[("current_password", "falsch-falsch-falsch")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    assert!(app.store.phone_pin(customer.id).await.unwrap().is_none(), "no PIN without the password");
    let r = b.submit("/menu/phone", "/menu/phone/pin", &[("current_password", "demo-password-1")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let pin = texts(&page, "#new-pin").remove(0);
    assert_eq!(pin.len(), 11, "{pin}");
    let (_, again) = b.get_text("/menu/phone").await;
    assert!(!again.contains(&pin) && again.contains("pin-state"), "shown once");
    let chef = app.token(true, "chef", "demo-chef-1").await;
    let (_, body) = check(&app, &chef, "K1000001", &pin).await;
    assert_eq!(body["verified"], true);
    assert_eq!(check(&app, &chef, "K1000001", &pin).await.1["verified"], false, "single use");
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    assert_eq!(app.store.phone_verifications(customer.id, 10).await.unwrap()[1].method, "pin");

    let token = app.token(false, "K1000001", "demo-password-1").await;
    let (status, _) = api_post(&app, &token, "/api/v1/me/phone-pin", json!({})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the API wants the password too");
    let (status, _) =
        api_post(&app, &token, "/api/v1/me/phone-pin", json!({"current_password": "nope-nope-nope"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) =
        api_post(&app, &token, "/api/v1/me/phone-pin", json!({"current_password": "demo-password-1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let pin = body["pin"].as_str().unwrap().to_owned();
    assert!(app.store.phone_pin(customer.id).await.unwrap().is_some());
    let reset = app.store.create_reset_token(customer.id, 3600).await.unwrap();
    let r = app
        .browser()
        .submit(
            &format!("/password-reset?token={reset}"),
            "/password-reset",
            &[("token", &reset), ("password", "ein-neues-passwort"), ("password_repeat", "ein-neues-passwort")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    assert!(app.store.phone_pin(customer.id).await.unwrap().is_none(), "the reset ends the PIN");
    assert_eq!(check(&app, &chef, "K1000001", &pin).await.1["verified"], false);
}

/// 10,000 wrong guesses for one customer through the API, from three staff accounts at once: the lock after
/// five failures means only a handful are evaluated, and none succeeds.
#[tokio::test]
async fn ten_thousand_guesses_are_not_evaluated() {
    let app = TestApp::spawn().await;
    let mut tokens = Vec::new();
    for (login, password) in [("support", "demo-support-1"), ("chef", "demo-chef-1"), ("admin", "demo-admin-1")] {
        tokens.push(app.token(true, login, password).await);
    }
    let started = Instant::now();
    let url = app.url("/api/v1/staff/phone-checks");
    let mut tasks = Vec::new();
    for worker in 0..10 {
        let (client, url, token) = (app.api(), url.clone(), tokens[worker % tokens.len()].clone());
        tasks.push(tokio::spawn(async move {
            let mut answers = [0usize; 3]; // not verified, throttled, verified
            for i in 0..1000 {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"customer_number": "K1000001", "password": format!("guess-{worker}-{i}-x")}))
                    .send()
                    .await
                    .unwrap();
                match r.status() {
                    StatusCode::TOO_MANY_REQUESTS => answers[1] += 1,
                    StatusCode::OK => {
                        let body: Value = r.json().await.unwrap();
                        answers[if body["verified"] == true { 2 } else { 0 }] += 1;
                    }
                    other => panic!("unexpected {other}"),
                }
            }
            answers
        }));
    }
    let mut total = [0usize; 3];
    for t in tasks {
        let a = t.await.unwrap();
        for k in 0..3 {
            total[k] += a[k];
        }
    }
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let evaluated = app.store.phone_verifications(customer.id, 100_000).await.unwrap();
    println!(
        "10,000 guesses in {:.1} s: {} evaluated (answered \"not verified\"), {} refused (429), {} verified",
        started.elapsed().as_secs_f64(),
        evaluated.len(),
        total[1],
        total[2]
    );
    assert_eq!(total.iter().sum::<usize>(), 10_000);
    assert_eq!(total[2], 0, "no guess succeeded");
    assert!(evaluated.iter().all(|v| !v.verified));
    assert_eq!(evaluated.len(), total[0]);
    assert!(evaluated.len() <= 5, "only the five before the lock are evaluated: {}", evaluated.len());
}

#[tokio::test]
async fn the_console_verifies_shows_differences_and_schedules() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(location(&b.staff_login("support", "demo-support-1").await), "/staff");
    let r =
        b.submit("/staff?number=K1000001", "/staff/customers/K1000001/verify", &[("password", "falsch-falsch")]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Nicht verifiziert") && !page.contains(ERIKA), "not verified, nothing shown");
    let r = b
        .submit("/staff?number=K1000001", "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)])
        .await;
    assert_eq!(location(&r), "/staff/customers/K1000001?done=caller_verified");
    let (status, page) = b.get_text("/staff/customers/K1000001").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(ERIKA) && page.contains("Musterstraße"), "contact data within the call");
    let options = texts(&page, "#contracts select[name=tariff] option");
    assert!(options.iter().any(|o| o.contains("SharedHosting L") && o.contains("+6,00")), "{options:?}");
    assert!(options.iter().any(|o| o.contains("SharedHosting S") && o.contains("-4,00")), "{options:?}");
    assert!(!options.iter().any(|o| o.contains("SharedHosting M")), "not the current tariff");
    let r = b
        .submit(
            "/staff/customers/K1000001",
            "/staff/customers/K1000001/tariff-change",
            &[("contract_id", "1"), ("tariff", "shared-l")],
        )
        .await;
    assert_eq!(location(&r), "/staff/customers/K1000001?done=tariff_change_scheduled");
    let (_, page) = b.get_text("/staff/customers/K1000001").await;
    let changes = texts(&page, "#tariff-changes li");
    assert!(changes[0].contains("SharedHosting L") && changes[0].contains("6,00"), "{changes:?}");
    app.smtp.wait_for(ERIKA, "Tarifwechsel").await;
    let r = b.submit("/staff/customers/K1000001", "/staff/customers/K1000001/close", &[]).await;
    assert_eq!(location(&r), "/staff?number=K1000001");
    assert_eq!(b.get("/staff/customers/K1000001").await.status(), StatusCode::FORBIDDEN);
}

/// Post/redirect/get for the auth code: the disclosure answers with a redirect; the page it leads to shows the
/// code, and reloading it discloses nothing again and mails the customer once (issue 16, item 3).
#[tokio::test]
async fn reloading_the_auth_code_page_discloses_and_mails_once() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.staff_login("support", "demo-support-1").await;
    let r = b
        .submit("/staff?number=K1000001", "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, domain_id, _) = support::ids_of(&app, "K1000001").await;
    let action = format!("/staff/customers/K1000001/domains/{domain_id}/auth-code");
    let r = b.submit("/staff/customers/K1000001", &action, &[("reason", "Umzug zu anderem Anbieter")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(&r);
    assert!(to.starts_with("/staff/customers/K1000001?disclosure="), "{to}");
    for _ in 0..3 {
        let r = b.get(&to).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let code = texts(&r.text().await.unwrap(), "#auth-code .pin");
        assert!(code.len() == 1 && code[0].starts_with("DEMO-AUTH"), "{code:?}");
    }
    app.smtp.wait_for(ERIKA, "Auth-Code").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails = app.smtp.all().into_iter().filter(|m| m.to.iter().any(|t| t == ERIKA)).count();
    assert_eq!(mails, 1, "one mail for one disclosure");
    assert_eq!(audit_details(&app, "phone.auth_code_disclosed").await.len(), 1);

    // another staff member with a call of their own does not see the code through the same link
    let other = app.browser();
    other.staff_login("admin", "demo-admin-1").await;
    other
        .submit("/staff?number=K1000001", "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)])
        .await;
    let (status, page) = other.get_text(&to).await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&page, "#auth-code").is_empty() && texts(&page, "#auth-code-expired").len() == 1, "{page}");
    // a disclosure id that is not a number is a clear 400, not a server error
    assert_eq!(b.get("/staff/customers/K1000001?disclosure=x").await.status(), StatusCode::BAD_REQUEST);
    // after the call the page is closed
    b.submit("/staff/customers/K1000001", "/staff/customers/K1000001/close", &[]).await;
    assert_eq!(b.get(&to).await.status(), StatusCode::FORBIDDEN);
}
