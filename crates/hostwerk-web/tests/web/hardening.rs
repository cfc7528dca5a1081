//! Issue 17's findings, each as an attack that must fail: secrets in the staff outbox, account enumeration by
//! answer and time, mailbox names outside the documented rule, sensitive changes from a stolen session, forged
//! forms with a planted cookie, demo logins on a normal start, the public metrics, and client addresses behind
//! a reverse proxy. Everything talks to a real server on port 0 with a real SMTP sink.

#![allow(clippy::unwrap_used)]

use crate::support;

use hostwerk_web::demo::DEMO_PHONE_PASSWORD;
use reqwest::StatusCode;
use serde_json::Value;
use support::{staff, Browser, TestApp};

const ERIKA: &str = "erika@example.com";

/// Everything an admin can read about the mails: the outbox page and the outbox API.
async fn what_staff_see(app: &TestApp, admin: &Browser) -> String {
    let (status, page) = admin.get_text("/staff/outbox").await;
    assert_eq!(status, StatusCode::OK);
    let token = app.token(true, "admin", "demo-admin-1").await;
    let api: Value =
        app.api().get(app.url("/api/v1/staff/outbox")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    format!("{page}\n{api}")
}

/// Every word of `text` after `marker`, up to the next character that cannot be part of a token.
fn candidates(text: &str, marker: &str) -> Vec<String> {
    text.match_indices(marker)
        .map(|(i, _)| {
            text[i + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn staff_never_see_a_usable_secret_in_the_outbox() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "admin", "demo-admin-1").await;

    // 1. the password-reset link
    let customer = app.browser();
    customer.submit("/password-reminder", "/password-reminder", &[("login", ERIKA)]).await;
    let delivered = support::smtp::decoded(&app.smtp.wait_for(ERIKA, "password-reset?token=").await.data);
    let real = candidates(&delivered, "password-reset?token=").remove(0);
    assert!(real.len() >= 32, "the delivered mail carries the link");
    let seen = what_staff_see(&app, &admin).await;
    assert!(!seen.contains(&real), "the outbox does not show the reset token");
    assert!(seen.contains("entfernt: steht nur in der zugestellten E-Mail"), "the outbox says what was removed");
    for guess in candidates(&seen, "password-reset?token=") {
        let (status, _) = admin.get_text(&format!("/password-reset?token={guess}")).await;
        assert_ne!(status, StatusCode::OK, "what staff see is no usable reset link: {guess:?}");
        let r = app
            .browser()
            .submit(
                "/password-reminder",
                "/password-reset",
                &[
                    ("token", &guess),
                    ("password", "Kartoffelsalat-mit-Gurke"),
                    ("password_repeat", "Kartoffelsalat-mit-Gurke"),
                ],
            )
            .await;
        assert_ne!(r.status(), StatusCode::SEE_OTHER, "no password set with {guess:?}");
    }
    // the recipient's link still works
    let (status, _) = customer.get_text(&format!("/password-reset?token={real}")).await;
    assert_eq!(status, StatusCode::OK);

    // 2. the remote-support invitation
    let support = staff(&app, "support", "demo-support-1").await;
    let r = support.submit("/staff", "/staff/customers/K1000001/verify", &[("password", DEMO_PHONE_PASSWORD)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = support.submit("/staff", "/staff/customers/K1000001/remote-invite", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let delivered = support::smtp::decoded(&app.smtp.wait_for(ERIKA, "/remote/").await.data);
    let real = candidates(&delivered, "/remote/").remove(0);
    assert!(real.len() >= 32);
    let seen = what_staff_see(&app, &admin).await;
    assert!(!seen.contains(&real), "the outbox does not show the invitation token");
    let guesses = candidates(&seen, "/remote/");
    assert!(!guesses.is_empty(), "the outbox shows the invitation mail, without its token");
    for guess in guesses {
        let (status, _) = admin.get_text(&format!("/remote/{guess}")).await;
        assert_ne!(status, StatusCode::OK, "what staff see is no usable invitation: {guess:?}");
    }
    let (status, _) = app.browser().get_text(&format!("/remote/{real}")).await;
    assert_eq!(status, StatusCode::OK, "the customer's invitation works");
}

#[tokio::test]
async fn the_demo_outbox_keeps_links_because_it_is_the_only_delivery() {
    let app = TestApp::spawn_with(|c| c.demo = true).await;
    let admin = staff(&app, "admin", "demo-admin-1").await;
    app.browser().submit("/password-reminder", "/password-reminder", &[("login", ERIKA)]).await;
    let delivered = support::smtp::decoded(&app.smtp.wait_for(ERIKA, "password-reset?token=").await.data);
    let real = candidates(&delivered, "password-reset?token=").remove(0);
    assert!(what_staff_see(&app, &admin).await.contains(&real));
}

#[tokio::test]
async fn mailbox_names_outside_the_documented_rule_are_refused_everywhere() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(b.login("K1000001", "demo-password-1").await.status(), StatusCode::SEE_OTHER);
    let (_, domain_id, _) = support::ids_of(&app, "K1000001").await;
    let token = app.token(false, "K1000001", "demo-password-1").await;
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let before = app.store.mailboxes(customer.id).await.unwrap().len();
    for bad in ["a/b", "a'b", "a\\b", "a`b", "a|b", "a$b", "a{b}", "../x", "a b", "ä"] {
        let r =
            b.submit("/menu", "/menu/mailboxes", &[("domain_id", &domain_id.to_string()), ("local_part", bad)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "page: {bad:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains("Der Postfachname darf Buchstaben, Ziffern und . _ - + enthalten."), "{bad:?}");
        let r = app
            .api()
            .post(app.url("/api/v1/mailboxes"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"domain_id": domain_id, "local_part": bad}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "api: {bad:?}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].as_str().is_some_and(|e| e.contains("letters, digits")), "{body}");
    }
    assert_eq!(app.store.mailboxes(customer.id).await.unwrap().len(), before, "nothing was created");
    let r = b
        .submit("/menu", "/menu/mailboxes", &[("domain_id", &domain_id.to_string()), ("local_part", "Ok.Name+tag")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(app.store.mailboxes(customer.id).await.unwrap().iter().any(|m| m.address.local_part() == "ok.name+tag"));
}

/// Status and time of one failed login.
async fn failed_login(b: &Browser, staff: bool, login: &str) -> (StatusCode, std::time::Duration) {
    let start = std::time::Instant::now();
    let r = if staff {
        b.staff_login(login, "wrong-password-123").await
    } else {
        b.login(login, "wrong-password-123").await
    };
    (r.status(), start.elapsed())
}

#[tokio::test]
async fn known_and_unknown_logins_get_the_same_answers_in_the_same_time() {
    let app = TestApp::spawn().await;
    for (staff, known, unknown) in [
        (false, "K1000002", "K1999999"),
        (false, ERIKA, "nobody-here@example.com"),
        (true, "support", "supporter"),
        // an account with a second factor answers a wrong password like any other (issue 17, item 5)
        (true, "admin", "administrator"),
    ] {
        let (a, b) = (app.browser(), app.browser());
        let mut known_answers = Vec::new();
        let mut unknown_answers = Vec::new();
        // Lock-outs end on whole seconds: start just after one, and send each known/unknown pair at the same
        // moment, so both see the same clock (sent one after the other, a second could end between them).
        let ms = chrono::Utc::now().timestamp_subsec_millis();
        tokio::time::sleep(std::time::Duration::from_millis(u64::from(1000 - ms.min(999)))).await;
        for _ in 0..6 {
            let (k, u) = tokio::join!(failed_login(&a, staff, known), failed_login(&b, staff, unknown));
            known_answers.push(k);
            unknown_answers.push(u);
        }
        let statuses = |v: &[(StatusCode, std::time::Duration)]| v.iter().map(|(s, _)| *s).collect::<Vec<_>>();
        assert_eq!(statuses(&known_answers), statuses(&unknown_answers), "{known} and {unknown} answer alike");
        assert_eq!(known_answers[5].0, StatusCode::TOO_MANY_REQUESTS, "both are locked out after 3 failures");
        // A locked-out answer still verifies the password: it takes as long as any other (before the fix a
        // locked account answered in 2 ms, an unknown one in 34 ms).
        let fastest = |v: &[(StatusCode, std::time::Duration)]| v.iter().map(|(_, d)| *d).min().unwrap();
        assert!(
            fastest(&known_answers[3..]) * 4 >= fastest(&unknown_answers),
            "locked {known}: {:?}, unknown {unknown}: {:?}",
            known_answers,
            unknown_answers
        );
    }
}

#[tokio::test]
async fn a_planted_csrf_cookie_does_not_forge_a_form_of_a_signed_in_customer() {
    let app = TestApp::spawn().await;
    let raw = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    // The attacker plants hw_csrf=X in the victim's browser (from a sibling subdomain, say) and reads the form
    // token that X gives on a page without a session.
    let planted = "ab".repeat(32);
    let page = raw
        .get(app.url("/login"))
        .header("cookie", format!("hw_csrf={planted}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let attackers_token = support::csrf_of(&page);
    assert_ne!(attackers_token, planted, "the form token is not the cookie itself");
    // The victim signs in with the planted cookie.
    let r = raw
        .post(app.url("/login"))
        .header("cookie", format!("hw_csrf={planted}"))
        .form(&[("csrf", attackers_token.as_str()), ("login", "K1000001"), ("password", "demo-password-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("hw_session="))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .unwrap();
    let victim = format!("hw_csrf={planted}; hw_session={session}");
    let (_, domain_id, _) = support::ids_of(&app, "K1000001").await;
    let forged = raw
        .post(app.url("/menu/mailboxes"))
        .header("cookie", &victim)
        .form(&[("csrf", attackers_token.as_str()), ("domain_id", &domain_id.to_string()), ("local_part", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN, "the attacker's token does not fit the victim's session");
    assert_eq!(
        raw.post(app.url("/menu/mailboxes"))
            .header("cookie", &victim)
            .form(&[("csrf", planted.as_str()), ("domain_id", &domain_id.to_string()), ("local_part", "forged")])
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN,
        "nor does the cookie's own value"
    );
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    assert!(!app.store.mailboxes(customer.id).await.unwrap().iter().any(|m| m.address.local_part() == "forged"));
    // The victim's own page carries the token that works.
    let page = raw.get(app.url("/menu")).header("cookie", &victim).send().await.unwrap().text().await.unwrap();
    let own = support::csrf_of(&page);
    let r = raw
        .post(app.url("/menu/mailboxes"))
        .header("cookie", &victim)
        .form(&[("csrf", own.as_str()), ("domain_id", &domain_id.to_string()), ("local_part", "real")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_normal_start_disables_the_published_demo_logins() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(b.login("K1000001", "demo-password-1").await.status(), StatusCode::SEE_OTHER);
    // Erika's own password is not a published one: her account stays.
    let erika = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let hash = hostwerk_web::hash_password("Kartoffelsalat-mit-Gurke").await.unwrap();
    app.store.set_customer_password_hash(erika.id, &hash).await.unwrap();
    let disabled = hostwerk_web::demo::disable_published_logins(&app.store).await.unwrap();
    assert_eq!(disabled, ["K1000002", "support", "chef", "admin"]);
    for l in hostwerk_web::demo::LOGINS {
        let r = if l.path == "/login" {
            app.browser().login(l.login, l.password).await
        } else {
            app.browser().staff_login(l.login, l.password).await
        };
        assert_ne!(r.status(), StatusCode::SEE_OTHER, "{} no longer opens with its published password", l.login);
    }
    assert_eq!(app.browser().login("K1000001", "Kartoffelsalat-mit-Gurke").await.status(), StatusCode::SEE_OTHER);
    let audit = app.store.audit_log(50).await.unwrap();
    assert_eq!(audit.iter().filter(|e| e.action == "demo.login_disabled").count(), 4);
    // A second start finds nothing more to disable.
    assert!(hostwerk_web::demo::disable_published_logins(&app.store).await.unwrap().is_empty());
}

#[tokio::test]
async fn rate_limits_key_on_the_client_behind_a_trusted_proxy_only() {
    let reminder = |app: &TestApp, xff: &str| {
        let b = app.browser();
        let xff = xff.to_owned();
        async move {
            let page = b.get_text("/password-reminder").await.1;
            b.client
                .post(format!("{}/password-reminder", b.base))
                .header("x-forwarded-for", xff)
                .form(&[("csrf", support::csrf_of(&page).as_str()), ("login", "nobody@example.com")])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // Behind a trusted proxy, each client has its own bucket (5 reminders a minute).
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    for _ in 0..5 {
        assert_eq!(reminder(&app, "203.0.113.7").await, StatusCode::SEE_OTHER);
    }
    assert_eq!(reminder(&app, "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reminder(&app, "203.0.113.8").await, StatusCode::SEE_OTHER, "another client is not throttled");
    assert_eq!(reminder(&app, "203.0.113.7, 127.0.0.1").await, StatusCode::TOO_MANY_REQUESTS, "proxy hops skipped");
    // Without trusted proxies, a client that writes X-Forwarded-For does not get a fresh bucket.
    let app = TestApp::spawn().await;
    for i in 0..5 {
        assert_eq!(reminder(&app, &format!("198.51.100.{i}")).await, StatusCode::SEE_OTHER);
    }
    assert_eq!(reminder(&app, "198.51.100.99").await, StatusCode::TOO_MANY_REQUESTS);
}

fn order_fields(email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("tariff", "shared-s".into()),
        ("billing_months", "1".into()),
        ("name", "Quentin Quelle".into()),
        ("email", email.into()),
        ("street", "Weg 1".into()),
        ("postal_code", "10115".into()),
        ("city", "Berlin".into()),
        ("country", "DE".into()),
        ("password", "Kartoffelsalat-mit-Gurke".into()),
        ("phone_password", "Kaiserschmarrn-mit-Zwetschgen".into()),
    ]
}

#[tokio::test]
async fn the_order_form_does_not_tell_whether_an_address_is_registered() {
    let app = TestApp::spawn().await;
    let mut answers = Vec::new();
    for email in [ERIKA, "quentin@example.net"] {
        let b = app.browser();
        let fields = order_fields(email);
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.submit("/order", "/order", &fields).await;
        let (status, to) = (r.status(), support::location(&r));
        let (page_status, page) = b.get_text(&to).await;
        answers.push((status, to, page_status, support::texts(&page, "main")));
    }
    assert_eq!(answers[0], answers[1], "a registered and a new address get the same answers");
    assert_eq!(app.store.customer_count().await.unwrap(), 2, "nothing is created before a confirmation");
    // Erika, whose address it is, learns of it and gets no link; the new address gets the link.
    let note = support::smtp::decoded(&app.smtp.wait_for(ERIKA, "K1000001").await.data);
    assert!(note.contains("bereits ein Kundenkonto") && !note.contains("/order/confirm"), "{note}");
    let token = support::link_token(&app, "quentin@example.net", "/order/confirm?token=").await;
    assert!(token.len() >= 32);
    // The API answers alike too.
    let mut api = Vec::new();
    for email in [ERIKA, "quentin2@example.net"] {
        let body: serde_json::Map<String, Value> = order_fields(email)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), if k == "billing_months" { Value::from(1) } else { Value::from(v) }))
            .collect();
        let r = app.api().post(app.url("/api/v1/orders")).json(&body).send().await.unwrap();
        api.push((r.status(), r.text().await.unwrap()));
    }
    assert_eq!(api[0], api[1]);
    assert_eq!(api[0].0, StatusCode::ACCEPTED);
}
