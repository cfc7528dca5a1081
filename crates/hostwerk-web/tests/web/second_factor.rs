//! Issue 17, item 5: the second factor (TOTP) for customers and staff, with real codes computed by totp-rs from
//! the secret the enrolment page shows: enrolment, the login's second step, replayed codes, clock skew,
//! recovery codes, switching off, forced enrolment of admins, the API, and resets by staff.

#![allow(clippy::unwrap_used)]

use crate::support;

use reqwest::StatusCode;
use support::{location, now_step, texts, totp_code, Browser, TestApp};

const ERIKA: &str = "erika@example.com";

/// Waits until the current time step has at least 12 s left, so a test's steps stay where it expects them.
async fn fresh_step() -> i64 {
    loop {
        let into = chrono::Utc::now().timestamp().rem_euclid(30);
        if into <= 18 {
            return now_step();
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// A code that none of the steps around now has.
fn wrong_code(secret: &str, now: i64) -> String {
    let taken: Vec<String> = (now - 2..=now + 2).map(|s| totp_code(secret, s)).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !taken.contains(c)).unwrap()
}

async fn customer(app: &TestApp, number: &str, password: &str) -> Browser {
    let b = app.browser();
    assert_eq!(location(&b.login(number, password).await), "/menu");
    b
}

/// The secret the security page shows (and checks that the QR code is on it, as inline SVG).
async fn shown_secret(b: &Browser, page: &str) -> String {
    let (status, html) = b.get_text(page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<svg"), "the QR code is inline SVG");
    assert!(!html.contains("<?xml"), "no XML declaration inside HTML");
    texts(&html, "#secret").pop().expect("the secret for typing in")
}

/// Enrols with the code of `step`; returns the recovery codes shown.
async fn enrol(b: &Browser, page: &str, secret: &str, step: i64, password: &str) -> Vec<String> {
    let r = b.submit(page, page, &[("code", &totp_code(secret, step)), ("password", password)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers().get("cache-control").unwrap(), "no-store", "the codes are shown once");
    let codes = texts(&r.text().await.unwrap(), "#recovery-codes code");
    assert_eq!(codes.len(), 10);
    codes
}

/// Password step of a customer login: pending, no session yet.
async fn password_step(app: &TestApp, number: &str, password: &str) -> Browser {
    let b = app.browser();
    let r = b.login(number, password).await;
    assert_eq!(location(&r), "/login/second-factor", "the password alone does not sign in");
    assert_eq!(location(&b.get("/menu").await), "/login?next=%2Fmenu", "no session before the code");
    b
}

async fn code_step(b: &Browser, code: &str) -> reqwest::Response {
    b.submit("/login/second-factor", "/login/second-factor", &[("code", code)]).await
}

async fn customer_story(app: TestApp) {
    let now = fresh_step().await;
    let b = customer(&app, "K1000001", "demo-password-1").await;
    let (_, menu) = b.get_text("/menu").await;
    assert!(menu.contains("href=\"/menu/security\">Sicherheit</a>"), "menu item Sicherheit");
    let secret = shown_secret(&b, "/menu/security").await;
    assert_eq!(shown_secret(&b, "/menu/security").await, secret, "the same secret until confirmed");

    // a wrong code or a wrong password enrols nothing
    let r = b
        .submit(
            "/menu/security",
            "/menu/security",
            &[("code", &wrong_code(&secret, now)), ("password", "demo-password-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(texts(&r.text().await.unwrap(), "#error")[0].contains("Code ist falsch"));
    let r = b
        .submit(
            "/menu/security",
            "/menu/security",
            &[("code", &totp_code(&secret, now)), ("password", "falsch-falsch")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // the previous step's code is accepted (one step of clock skew)
    let codes = enrol(&b, "/menu/security", &secret, now - 1, "demo-password-1").await;
    let (_, html) = b.get_text("/menu/security").await;
    assert_eq!(texts(&html, "#codes-left"), ["10"]);
    assert!(app.store.audit_log(20).await.unwrap().iter().any(|e| e.action == "second_factor.enrolled"));

    // login: password, then code; a wrong code is refused
    let l = password_step(&app, "K1000001", "demo-password-1").await;
    let r = code_step(&l, &wrong_code(&secret, now)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(texts(&r.text().await.unwrap(), "#error")[0].contains("Code ist falsch"));
    let r = code_step(&l, &totp_code(&secret, now)).await;
    assert_eq!(location(&r), "/menu", "the current code signs in");
    assert_eq!(l.get("/menu").await.status(), StatusCode::OK);
    // the pending login was used up: its page and its form lead back to the login
    assert_eq!(location(&l.get("/login/second-factor").await), "/login?done=second_factor_expired");
    let again = l.submit("/login", "/login/second-factor", &[("code", &totp_code(&secret, now))]).await;
    assert_eq!(location(&again), "/login?done=second_factor_expired");

    // the same code again: refused (also from another browser); the next step's code: accepted (skew)
    let m = password_step(&app, "K1000001", "demo-password-1").await;
    assert_eq!(code_step(&m, &totp_code(&secret, now)).await.status(), StatusCode::UNAUTHORIZED, "replayed");
    assert_eq!(code_step(&m, &totp_code(&secret, now - 1)).await.status(), StatusCode::UNAUTHORIZED, "older step");
    assert_eq!(location(&code_step(&m, &totp_code(&secret, now + 1)).await), "/menu");

    // a recovery code works once and mails the owner
    let n = password_step(&app, "K1000001", "demo-password-1").await;
    assert_eq!(location(&code_step(&n, &codes[0].to_uppercase()).await), "/menu");
    app.smtp.wait_for(ERIKA, "Wiederherstellungscode Ihres zweiten Faktors").await;
    assert!(app.store.audit_log(20).await.unwrap().iter().any(|e| e.action == "second_factor.recovery_code_used"));
    let o = password_step(&app, "K1000001", "demo-password-1").await;
    assert_eq!(code_step(&o, &codes[0]).await.status(), StatusCode::UNAUTHORIZED, "a recovery code works once");
    let (_, html) = n.get_text("/menu/security").await;
    assert_eq!(texts(&html, "#codes-left"), ["9"]);

    // switching off needs password and a code (a recovery code does), and mails the owner
    let r =
        n.submit("/menu/security", "/menu/security/disable", &[("password", "demo-password-1"), ("code", "123")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = n
        .submit("/menu/security", "/menu/security/disable", &[("password", "demo-password-1"), ("code", &codes[1])])
        .await;
    assert_eq!(location(&r), "/menu/security?done=second_factor_disabled");
    app.smtp.wait_for(ERIKA, "der zweite Faktor Ihres Kundenmen").await;
    assert!(app.store.audit_log(20).await.unwrap().iter().any(|e| e.action == "second_factor.disabled"));
    customer(&app, "K1000001", "demo-password-1").await;
}

#[tokio::test]
async fn a_customer_enrols_logs_in_with_codes_and_switches_off() {
    customer_story(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_customer_enrols_logs_in_with_codes_and_switches_off_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else { return };
    customer_story(app).await;
}

#[tokio::test]
async fn wrong_codes_lock_the_account_like_wrong_passwords() {
    let app = TestApp::spawn().await;
    let now = fresh_step().await;
    let b = customer(&app, "K1000002", "demo-password-2").await;
    let secret = shown_secret(&b, "/menu/security").await;
    enrol(&b, "/menu/security", &secret, now, "demo-password-2").await;
    let l = password_step(&app, "K1000002", "demo-password-2").await;
    let wrong = wrong_code(&secret, now);
    for _ in 0..3 {
        assert_eq!(code_step(&l, &wrong).await.status(), StatusCode::UNAUTHORIZED);
    }
    // the third failure locks: now even the right code, and the password, wait
    assert_eq!(code_step(&l, &totp_code(&secret, now + 1)).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.browser().login("K1000002", "demo-password-2").await.status(), StatusCode::TOO_MANY_REQUESTS);
    // a right password does not reset the count: the lock-out grows as it does for passwords
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let m = password_step(&app, "K1000002", "demo-password-2").await;
    assert_eq!(code_step(&m, &wrong).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code_step(&m, &totp_code(&secret, now + 1)).await.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(location(&code_step(&m, &totp_code(&secret, now + 1)).await), "/menu");
}

async fn staff_story(app: TestApp) {
    let now = fresh_step().await;
    let secret = support::demo_totp_secret("admin").unwrap();
    // the demo admin has the published key, enrolled long ago: the previous step's code is accepted
    let a = app.browser();
    let r = a.submit("/staff/login", "/staff/login", &[("login", "admin"), ("password", "demo-admin-1")]).await;
    assert_eq!(location(&r), "/staff/login/second-factor");
    assert_eq!(location(&a.get("/staff").await), "/staff/login?next=%2Fstaff");
    let step = |code: String| {
        let a = &a;
        async move { a.submit("/staff/login/second-factor", "/staff/login/second-factor", &[("code", &code)]).await }
    };
    assert_eq!(step(totp_code(secret, now - 2)).await.status(), StatusCode::UNAUTHORIZED, "two steps off");
    assert_eq!(location(&step(totp_code(secret, now - 1)).await), "/staff");
    assert!(app.store.audit_log(5).await.unwrap().iter().any(|e| e.action == "staff.login" && e.detail == "TOTP code"));

    // a new admin is sent to enrol, and can do nothing else until then (pages and API)
    let hash = hostwerk_web::hash_password("Neues-Admin-Passwort-1").await.unwrap();
    let login = hostwerk_domain::StaffLogin::parse("neo").unwrap();
    app.store.create_staff(&login, "Neo Admin", hostwerk_domain::StaffRole::Admin, &hash).await.unwrap();
    let n = app.browser();
    assert_eq!(location(&n.staff_login("neo", "Neues-Admin-Passwort-1").await), "/staff");
    assert_eq!(location(&n.get("/staff").await), "/staff/security");
    assert_eq!(location(&n.get("/staff/admin/nodes").await), "/staff/security");
    let r = app
        .api()
        .post(app.url("/api/v1/staff/auth/token"))
        .json(&serde_json::json!({"login": "neo", "password": "Neues-Admin-Passwort-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "no token before the second factor");
    let (_, html) = n.get_text("/staff/security").await;
    assert_eq!(texts(&html, "#forced").len(), 1);
    let neo_secret = shown_secret(&n, "/staff/security").await;
    enrol(&n, "/staff/security", &neo_secret, now, "Neues-Admin-Passwort-1").await;
    assert_eq!(n.get("/staff/admin/nodes").await.status(), StatusCode::OK);
    let (_, html) = n.get_text("/staff/security").await;
    assert!(texts(&html, "#disable-form").is_empty(), "an admin cannot switch it off");

    // an admin resets another staff member's factor (audited); that admin must enrol again
    let neo = app.store.staff_by_login(&login).await.unwrap();
    let r = a.submit("/staff/admin/staff", &format!("/staff/admin/staff/{}/second-factor/reset", neo.id.0), &[]).await;
    assert_eq!(location(&r), "/staff/admin/staff?done=second_factor_reset");
    assert!(app
        .store
        .audit_log(5)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "staff.second_factor_reset" && e.target == "neo"));
    assert_eq!(location(&n.get("/staff/admin/nodes").await), "/staff/security");
}

#[tokio::test]
async fn staff_log_in_with_codes_and_admins_must_enrol() {
    staff_story(TestApp::spawn().await).await;
}

#[tokio::test]
async fn staff_log_in_with_codes_and_admins_must_enrol_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else { return };
    staff_story(app).await;
}

#[tokio::test]
async fn support_needs_a_second_factor_only_when_configured() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.staff_login("support", "demo-support-1").await;
    assert_eq!(b.get("/staff").await.status(), StatusCode::OK, "optional for support by default");
    let strict = TestApp::spawn_with(|c| c.security.second_factor_for_support = true).await;
    let b = strict.browser();
    b.staff_login("support", "demo-support-1").await;
    assert_eq!(location(&b.get("/staff").await), "/staff/security");
}

async fn api_story(app: TestApp) {
    let now = fresh_step().await;
    let b = customer(&app, "K1000001", "demo-password-1").await;
    let secret = shown_secret(&b, "/menu/security").await;
    enrol(&b, "/menu/security", &secret, now - 1, "demo-password-1").await;
    let token = |body: serde_json::Value| {
        let app = &app;
        async move { app.api().post(app.url("/api/v1/auth/token")).json(&body).send().await.unwrap() }
    };
    let r = token(serde_json::json!({"login": "K1000001", "password": "demo-password-1"})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["second_factor"], "required", "{body}");
    let wrong = wrong_code(&secret, now);
    let r = token(serde_json::json!({"login": "K1000001", "password": "demo-password-1", "code": wrong})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["second_factor"], "invalid");
    // a wrong password says nothing about a second factor
    let r = token(serde_json::json!({"login": "K1000001", "password": "falsch-falsch-1"})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.json::<serde_json::Value>().await.unwrap().get("second_factor").is_none());
    let code = totp_code(&secret, now);
    let r = token(serde_json::json!({"login": "K1000001", "password": "demo-password-1", "code": code})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = token(serde_json::json!({"login": "K1000001", "password": "demo-password-1", "code": code})).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "replayed over the API");
    // staff tokens too (the demo admin has a factor)
    let r = app
        .api()
        .post(app.url("/api/v1/staff/auth/token"))
        .json(&serde_json::json!({"login": "admin", "password": "demo-admin-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["second_factor"], "required");
    app.token(true, "admin", "demo-admin-1").await;
    // documented
    let doc: serde_json::Value =
        app.api().get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    let schema = &doc["components"]["schemas"]["LoginErrorBody"];
    assert!(schema["properties"]["second_factor"].is_object(), "{schema}");
    assert!(doc["components"]["schemas"]["Credentials"]["properties"]["code"].is_object());
    let r401 = &doc["paths"]["/api/v1/auth/token"]["post"]["responses"]["401"];
    assert!(r401.to_string().contains("LoginErrorBody"), "{r401}");
}

#[tokio::test]
async fn api_tokens_need_the_code() {
    api_story(TestApp::spawn().await).await;
}

#[tokio::test]
async fn api_tokens_need_the_code_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else { return };
    api_story(app).await;
}

async fn reset_story(app: TestApp) {
    let now = fresh_step().await;
    let b = customer(&app, "K1000001", "demo-password-1").await;
    let secret = shown_secret(&b, "/menu/security").await;
    enrol(&b, "/menu/security", &secret, now, "demo-password-1").await;
    let s = app.browser();
    s.staff_login("support", "demo-support-1").await;
    // outside a verified call: refused, nothing changes
    let r = s.submit("/staff", "/staff/customers/K1000001/second-factor/reset", &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    password_step(&app, "K1000001", "demo-password-1").await;
    // inside the call: reset, audited with the verification, the customer mailed
    let r = s
        .submit(
            "/staff?number=K1000001",
            "/staff/customers/K1000001/verify",
            &[("password", hostwerk_web::demo::DEMO_PHONE_PASSWORD)],
        )
        .await;
    assert_eq!(location(&r), "/staff/customers/K1000001?done=caller_verified");
    let (_, html) = s.get_text("/staff/customers/K1000001").await;
    assert_eq!(texts(&html, "#second-factor-reset").len(), 1);
    let r = s.submit("/staff/customers/K1000001", "/staff/customers/K1000001/second-factor/reset", &[]).await;
    assert_eq!(location(&r), "/staff/customers/K1000001?done=second_factor_reset");
    let audit = app.store.audit_log(10).await.unwrap();
    let entry = audit.iter().find(|e| e.action == "phone.second_factor_reset").expect("audited");
    assert_eq!(entry.target, "K1000001");
    assert!(entry.detail.starts_with("verification #"), "{}", entry.detail);
    app.smtp.wait_for(ERIKA, "verifizierten Telefonat").await;
    customer(&app, "K1000001", "demo-password-1").await;
}

#[tokio::test]
async fn staff_reset_a_customers_factor_only_inside_a_verified_call() {
    reset_story(TestApp::spawn().await).await;
}

#[tokio::test]
async fn staff_reset_a_customers_factor_only_inside_a_verified_call_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else { return };
    reset_story(app).await;
}

#[tokio::test]
async fn a_pending_login_expires_with_its_cookie_and_carries_next() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(location(&b.get("/login/second-factor").await), "/login?done=second_factor_expired");
    let r = b
        .submit(
            "/staff/login",
            "/staff/login",
            &[("login", "chef"), ("password", "demo-chef-1"), ("next", "/staff/cases")],
        )
        .await;
    assert_eq!(location(&r), "/staff/login/second-factor");
    // a customer's second-step page does not take a staff login
    assert_eq!(location(&b.get("/login/second-factor").await), "/login?done=second_factor_expired");
    assert_eq!(location(&b.staff_second_factor("chef").await), "/staff/cases");
}
