//! The web application over real HTTP on port 0, with a real SQLite (and, when configured, PostgreSQL)
//! database and a real SMTP server: every page and API route, bad input, and the authorization matrix.

#![allow(clippy::unwrap_used)]

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{attrs, csrf_of, ids_of, location, texts, TestApp};

fn order_fields<'a>(email: &'a str, password: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("tariff", "shared-s"),
        ("billing_months", "12"),
        ("name", "Berta Neukundin"),
        ("email", email),
        ("street", "Lindenweg 7"),
        ("postal_code", "80331"),
        ("city", "München"),
        ("country", "DE"),
        ("password", password),
        ("phone_password", "Kaiserschmarrn-mit-Zwetschgen"),
    ]
}

/// The whole customer story in the browser: order, mail, login, dashboard, profile, password, mailbox, logout.
async fn customer_story(app: &TestApp) {
    let b = app.browser();
    let (status, home) = b.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("SharedHosting S"));

    // order: the form answers "check your mail", the mailed link places it
    let r = b.submit("/order", "/order", &order_fields("berta@example.net", "Apfelstrudel-mit-Sahne-1")).await;
    assert_eq!((r.status(), location(&r)), (StatusCode::SEE_OTHER, "/order/sent".to_owned()));
    let (status, sent) = b.get_text("/order/sent").await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&sent, "#order-sent")[0].contains("E-Mail"), "{sent}");
    assert_eq!(app.store.customer_count().await.unwrap(), 2, "nothing is created before the address is confirmed");
    let token = support::link_token(app, "berta@example.net", "/order/confirm?token=").await;
    // opening the link places nothing yet (mail scanners open links); the button does
    let (status, confirm) = b.get_text(&format!("/order/confirm?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&confirm, "#order-summary").iter().any(|t| t.contains("SharedHosting S")), "{confirm}");
    assert_eq!(app.store.customer_count().await.unwrap(), 2);
    let r = app.browser().get(&format!("/order/confirm?token={}", "0".repeat(64))).await;
    assert_eq!(r.status(), StatusCode::GONE, "an unknown link");
    let r = b.submit(&format!("/order/confirm?token={token}"), "/order/confirm", &[("token", &token)]).await;
    // post/redirect/get: the confirmation is a page of its own, for the customer now signed in
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/order/done");
    let (status, page) = b.get_text("/order/done").await;
    assert_eq!(status, StatusCode::OK);
    let number = texts(&page, "#customer-number").remove(0);
    assert!(number.starts_with('K') && number.len() == 8, "{number}");
    let mail = app.smtp.wait_for("berta@example.net", &number).await;
    assert!(support::smtp::decoded(&mail.data).contains("SharedHosting S"));
    // reloading the confirmation shows it again: no second order, no second mail
    let (status, again) = b.get_text("/order/done").await;
    assert_eq!((status, texts(&again, "#customer-number")), (StatusCode::OK, vec![number.clone()]));
    let order_mails = app.smtp.all().into_iter().filter(|m| m.to.iter().any(|t| t == "berta@example.net")).count();
    assert_eq!(order_mails, 2, "one mail with the link, one with the customer number");
    // the link is used up
    let r = b.submit("/menu", "/order/confirm", &[("token", &token)]).await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(app.store.customer_count().await.unwrap(), 3);
    let (status, _) = b.get_text("/menu").await;
    assert_eq!(status, StatusCode::OK, "signed in after ordering");
    b.submit("/menu", "/logout", &[]).await;
    let r = b.get("/order/done").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the confirmation is only for the signed-in customer");

    // log in with the number; the session id is new and HttpOnly
    let r = b.login(&number, "Apfelstrudel-mit-Sahne-1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/menu");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("hw_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let (status, dash) = b.get_text("/menu").await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&dash, "#contracts td").iter().any(|t| t.contains("SharedHosting S")), "{dash}");
    assert!(dash.contains("4,99 €"), "price shown in German");

    // contract detail
    let contracts =
        app.store.contracts(app.store.customer_by_number(number.parse().unwrap()).await.unwrap().id).await.unwrap();
    let (status, detail) = b.get_text(&format!("/menu/contracts/{}", contracts[0].id)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(detail.contains(contracts[0].system_user.as_str()));

    // profile: language English at once; a new e-mail address needs the current password and applies once
    // the link mailed to it is confirmed; the old address is told
    let r = b.submit("/menu/profile", "/menu/profile", &[("email", "berta@neu.example.net"), ("language", "en")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "no current password");
    assert!(r.text().await.unwrap().contains("Das aktuelle Passwort ist falsch"));
    let profile =
        [("email", "berta@neu.example.net"), ("language", "en"), ("current_password", "Apfelstrudel-mit-Sahne-1")];
    let r = b.submit("/menu/profile", "/menu/profile", &profile).await;
    assert_eq!(location(&r), "/menu/profile?done=email_confirmation_sent");
    let (_, dash) = b.get_text("/menu").await;
    assert!(dash.contains("Your contracts"), "English after the language change");
    let customer = app.store.customer_by_number(number.parse().unwrap()).await.unwrap();
    assert_eq!(customer.email.as_str(), "berta@example.net", "the address waits for its confirmation");
    let token = support::link_token(app, "berta@neu.example.net", "/email-confirm?token=").await;
    let r = b.submit(&format!("/email-confirm?token={token}"), "/email-confirm", &[("token", &token)]).await;
    assert_eq!(location(&r), "/menu/profile?done=email_changed");
    let customer = app.store.customer_by_number(number.parse().unwrap()).await.unwrap();
    assert_eq!(customer.email.as_str(), "berta@neu.example.net");
    app.smtp.wait_for("berta@example.net", "e-mail address").await;
    let r = b.submit("/menu/profile", "/menu/profile", &[("email", "not-an-address"), ("language", "en")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("please enter an e-mail address"));
    // another customer's address: the same answer as any other, and the address's owner is told instead
    let taken = [("email", "erika@example.com"), ("language", "en"), ("current_password", "Apfelstrudel-mit-Sahne-1")];
    let r = b.submit("/menu/profile", "/menu/profile", &taken).await;
    assert_eq!(location(&r), "/menu/profile?done=email_confirmation_sent", "no hint that the address is taken");
    let note = support::smtp::decoded(&app.smtp.wait_for("erika@example.com", "anderen Kundenkonto").await.data);
    assert!(!note.contains("email-confirm"), "the owner gets no link");

    // password change needs the current one
    let r = b
        .submit(
            "/menu/password",
            "/menu/password",
            &[
                ("current", "wrong-password"),
                ("password", "Apfelstrudel-mit-Sahne-2"),
                ("password_repeat", "Apfelstrudel-mit-Sahne-2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .submit(
            "/menu/password",
            "/menu/password",
            &[("current", "Apfelstrudel-mit-Sahne-1"), ("password", "short"), ("password_repeat", "short")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("at least 10 characters"));
    let r = b
        .submit(
            "/menu/password",
            "/menu/password",
            &[
                ("current", "Apfelstrudel-mit-Sahne-1"),
                ("password", "Apfelstrudel-mit-Sahne-2"),
                ("password_repeat", "Apfelstrudel-mit-Sahne-2"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/menu").await.status(), StatusCode::OK, "this browser keeps a fresh session");

    // log out: the menu is gone
    let r = b.submit("/menu", "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&b.get("/menu").await), "/login?next=%2Fmenu");
    // e-mail login with the new password
    assert_eq!(location(&b.login("Berta@Neu.Example.net", "Apfelstrudel-mit-Sahne-2").await), "/menu");
}

#[tokio::test]
async fn customer_story_on_sqlite() {
    customer_story(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn customer_story_on_postgres() {
    if let Some(app) = TestApp::spawn_postgres().await {
        customer_story(&app).await;
    }
}

#[tokio::test]
async fn order_rejects_bad_input_with_clear_messages() {
    let app = TestApp::spawn().await;
    let b = app.browser_en();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (order_fields("kein-at-zeichen", "long-enough-pw"), "please enter an e-mail address"),
        (order_fields("a@example.net", "short"), "at least 10 characters"),
        (
            order_fields("a@example.net", "long-enough-pw")
                .into_iter()
                .map(|(k, v)| if k == "phone_password" { (k, "1234") } else { (k, v) })
                .collect(),
            "telephone password",
        ),
        (
            order_fields("a@example.net", "long-enough-pw")
                .into_iter()
                .map(|(k, v)| if k == "tariff" { (k, "gold-plus") } else { (k, v) })
                .collect(),
            "cannot be ordered",
        ),
        (
            order_fields("a@example.net", "long-enough-pw")
                .into_iter()
                .map(|(k, v)| if k == "billing_months" { (k, "6") } else { (k, v) })
                .collect(),
            "1 or 12 months",
        ),
        (
            order_fields("a@example.net", "long-enough-pw")
                .into_iter()
                .map(|(k, v)| {
                    if k == "tariff" {
                        (k, "reseller-dedicated")
                    } else if k == "billing_months" {
                        (k, "1")
                    } else {
                        (k, v)
                    }
                })
                .collect(),
            "cannot be billed every 1 months",
        ),
        // the menu password has the telephone password's rules (issue 16)
        (order_fields("a@example.net", "passwort123"), "one of the most common passwords"),
        (order_fields("a@example.net", "Berta-rocks-2026"), "must not contain your name"),
    ];
    for (fields, message) in cases {
        let r = b.submit("/order", "/order", &fields).await;
        assert!(r.status().is_client_error(), "{message}: {}", r.status());
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "expected {message:?} in the page");
        assert!(body.contains("Lindenweg 7"), "the form keeps what was entered");
    }
    // a missing field is a 400, not a 500
    let r = b.submit("/order", "/order", &[("tariff", "shared-s")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // no order was placed
    assert_eq!(app.store.customer_count().await.unwrap(), 2);
}

#[tokio::test]
async fn every_form_needs_the_csrf_token() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.get("/login").await; // the browser has its CSRF cookie
    let posts = [
        "/login",
        "/logout",
        "/order",
        "/password-reminder",
        "/password-reset",
        "/menu/profile",
        "/menu/password",
        "/menu/mailboxes",
        "/menu/mailboxes/1/delete",
        "/staff/login",
        "/staff/logout",
        "/staff/admin/staff",
        "/staff/admin/staff/1/active",
        "/staff/admin/tariffs/shared-s",
        "/staff/admin/nodes",
        "/staff/admin/nodes/1/delete",
    ];
    for path in posts {
        let r = b.post_raw(path, &[("login", "K1000001"), ("password", "demo-password-1")]).await;
        assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::SEE_OTHER), "{path}: {}", r.status());
        if r.status() == StatusCode::SEE_OTHER {
            // signed-out pages redirect to a login before looking at the form
            assert!(location(&r).ends_with("/login"), "{path}");
        }
        let r = b
            .post_raw(
                path,
                &[("csrf", "0000000000000000000000000000000000000000000000000000000000000000"), ("login", "K1000001")],
            )
            .await;
        assert_ne!(r.status(), StatusCode::OK, "{path} with a wrong token");
    }
    // a cross-site POST with the right token is refused too
    let (_, html) = b.get_text("/login").await;
    let token = csrf_of(&html);
    let r = b
        .client
        .post(app.url("/login"))
        .header("Sec-Fetch-Site", "cross-site")
        .form(&[("csrf", token.as_str()), ("login", "K1000001"), ("password", "demo-password-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert!(page.contains("Formular ist abgelaufen"), "{page}");
    assert!(texts(&page, "#resend-form").is_empty(), "a cross-site form gets no fresh token");
}

#[tokio::test]
async fn login_rotates_the_session_and_throttles_failures() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let first = b.login("K1000001", "demo-password-1").await;
    let cookie_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .find(|c| c.starts_with("hw_session="))
            .unwrap()
    };
    let first_cookie = cookie_of(&first);
    let second_cookie = cookie_of(&b.login("K1000001", "demo-password-1").await);
    assert_ne!(first_cookie, second_cookie, "a new session id at every login");
    // the old session id no longer works
    let old = first_cookie.split(';').next().unwrap().to_owned();
    let r = app.api().get(app.url("/menu")).header("cookie", old).send().await.unwrap();
    assert_eq!(location(&r), "/login?next=%2Fmenu");

    let attacker = app.browser();
    for _ in 0..3 {
        let r = attacker.login("K1000002", "wrong-password-x").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.text().await.unwrap().contains("Passwort sind falsch"), "German message for a German browser");
    }
    // the fourth attempt right away is not even evaluated, even with the right password
    let r = attacker.login("K1000002", "demo-password-2").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(location(&attacker.login("K1000002", "demo-password-2").await), "/menu");
    // unknown accounts answer exactly like wrong passwords
    let r = attacker.login("K9999999", "whatever-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("Passwort sind falsch"));
    let r = app.browser_en().login("K9999999", "whatever-password").await;
    assert!(r.text().await.unwrap().contains("the login or the password is wrong"));
}

#[tokio::test]
async fn password_reminder_is_single_use_and_ends_sessions() {
    let app = TestApp::spawn().await;
    let logged_in = app.browser();
    assert_eq!(location(&logged_in.login("K1000001", "demo-password-1").await), "/menu");

    let b = app.browser();
    let r = b.submit("/password-reminder", "/password-reminder", &[("login", "K1000001")]).await;
    // post/redirect/get: reloading the answer sends no second mail
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let known_to = location(&r);
    let (status, page) = b.get_text(&known_to).await;
    assert_eq!(status, StatusCode::OK);
    let known = texts(&page, "p.notice");
    assert_eq!(known.len(), 1, "{page}");
    let r = b.submit("/password-reminder", "/password-reminder", &[("login", "K7777777")]).await;
    assert_eq!(location(&r), known_to, "the same answer whether or not the account exists");
    let unknown = texts(&b.get_text(&location(&r)).await.1, "p.notice");
    assert_eq!(known, unknown, "the same answer whether or not the account exists");

    let mail = app.smtp.wait_for("erika@example.com", "password-reset?token=").await;
    let text = support::smtp::decoded(&mail.data);
    let token = text.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "256-bit token");
    let (status, page) = b.get_text(&format!("/password-reset?token={token}")).await;
    assert_eq!(status, StatusCode::OK);
    let r = b
        .submit(
            &format!("/password-reset?token={token}"),
            "/password-reset",
            &[("token", &token), ("password", "neues-passwort-1"), ("password_repeat", "neues-passwort-2")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let r = b
        .submit(
            &format!("/password-reset?token={token}"),
            "/password-reset",
            &[("token", &token), ("password", "neues-passwort-1"), ("password_repeat", "neues-passwort-1")],
        )
        .await;
    assert_eq!(location(&r), "/login?done=password_reset");
    // every session of the customer ended
    assert_eq!(location(&logged_in.get("/menu").await), "/login?next=%2Fmenu");
    // the link is used up
    let (status, _) = b.get_text(&format!("/password-reset?token={token}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(location(&b.login("K1000001", "neues-passwort-1").await), "/menu");
    assert_eq!(b.login("K1000001", "demo-password-1").await.status(), StatusCode::UNAUTHORIZED);
    // the database holds only a hash of the token
    let (_, garbage) = b.get_text("/password-reset?token=abc").await;
    assert!(garbage.contains("ungültig"));
}

#[tokio::test]
async fn customers_never_reach_each_others_data() {
    let app = TestApp::spawn().await;
    let (erika_contract, erika_domain, erika_mailbox) = ids_of(&app, "K1000001").await;
    let max = app.browser();
    assert_eq!(location(&max.login("K1000002", "demo-password-2").await), "/menu");
    let (_, dash) = max.get_text("/menu").await;
    assert!(!dash.contains("mustermann"), "no foreign domains on the dashboard");
    assert_eq!(max.get(&format!("/menu/contracts/{erika_contract}")).await.status(), StatusCode::NOT_FOUND);
    let r = max.submit("/menu", &format!("/menu/mailboxes/{erika_mailbox}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = max
        .submit("/menu", "/menu/mailboxes", &[("domain_id", &erika_domain.to_string()), ("local_part", "evil")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.store
            .mailboxes(app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap().id)
            .await
            .unwrap()
            .len(),
        3
    );

    // the same through the API
    let token = app.token(false, "K1000002", "demo-password-2").await;
    let api = app.api();
    let r = api.get(app.url(&format!("/api/v1/contracts/{erika_contract}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r =
        api.delete(app.url(&format!("/api/v1/mailboxes/{erika_mailbox}"))).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = api
        .post(app.url("/api/v1/mailboxes"))
        .bearer_auth(&token)
        .json(&json!({"domain_id": erika_domain, "local_part": "evil"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let domains: Value =
        api.get(app.url("/api/v1/domains")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(domains.as_array().unwrap().len(), 1);
    assert_eq!(domains[0]["name"], "beispiel-gmbh.de");
    // a customer token opens no staff route, and no page takes it as a session
    for path in ["/api/v1/staff/customers/K1000001", "/api/v1/staff/nodes", "/api/v1/staff/outbox"] {
        let r = api.get(app.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(location(&max.get("/staff").await), "/staff/login?next=%2Fstaff");
    assert_eq!(location(&max.get("/staff/admin/nodes").await), "/staff/login?next=%2Fstaff%2Fadmin%2Fnodes");
}

#[tokio::test]
async fn mailboxes_can_be_created_and_deleted() {
    let app = TestApp::spawn().await;
    let (_, domain, mailbox) = ids_of(&app, "K1000001").await;
    let b = app.browser();
    b.login("K1000001", "demo-password-1").await;
    let r =
        b.submit("/menu", "/menu/mailboxes", &[("domain_id", &domain.to_string()), ("local_part", "Kontakt")]).await;
    assert_eq!(location(&r), "/menu?done=mailbox_created");
    let (_, dash) = b.get_text("/menu?done=mailbox_created").await;
    assert!(texts(&dash, "#mailboxes li").iter().any(|t| t.starts_with("kontakt@")));
    assert!(dash.contains("Das Postfach wurde angelegt."));
    let r =
        b.submit("/menu", "/menu/mailboxes", &[("domain_id", &domain.to_string()), ("local_part", "kontakt")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = b.submit("/menu", "/menu/mailboxes", &[("domain_id", &domain.to_string()), ("local_part", "a b")]).await;
    assert!(r.status().is_client_error());
    let r = b.submit("/menu", "/menu/mailboxes", &[("domain_id", "abc"), ("local_part", "x")]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // deleting asks first: the first POST shows what goes and deletes nothing (issue 16, item 9)
    let r = b.submit("/menu", &format!("/menu/mailboxes/{mailbox}/delete"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    let question = texts(&page, "#confirm-question").remove(0);
    assert!(question.contains("info@mustermann-shop.de") || question.contains('@'), "{question}");
    assert_eq!(attrs(&page, "#confirm-form", "action"), vec![format!("/menu/mailboxes/{mailbox}/delete")]);
    assert_eq!(attrs(&page, "#confirm-cancel", "href"), vec!["/menu#mailboxes-h"]);
    assert!(
        app.store
            .mailboxes(app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap().id)
            .await
            .unwrap()
            .iter()
            .any(|m| m.id == mailbox),
        "still there"
    );
    // the dashboard's delete button leads to that question
    let (_, dash) = b.get_text("/menu").await;
    assert_eq!(
        attrs(&dash, &format!("form[action='/menu/mailboxes/{mailbox}/delete'] input[name=confirmed]"), "value").len(),
        0
    );
    let r = b.submit("/menu", &format!("/menu/mailboxes/{mailbox}/delete"), &[("confirmed", "yes")]).await;
    assert_eq!(location(&r), "/menu?done=mailbox_deleted");
    // someone else's mailbox: not found, also on the question
    let r = b.submit("/menu", "/menu/mailboxes/999999/delete", &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(b.get("/menu/contracts/abc").await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn support_sees_number_and_name_only_and_no_admin_pages() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(b.staff_login("support", "wrong-password-x").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(location(&b.staff_login("support", "demo-support-1").await), "/staff");
    let (status, page) = b.get_text("/staff?number=K1000001").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&page, "#customer-summary dd"), vec!["K1000001", "Erika Mustermann"]);
    for secret in ["erika@example.com", "mustermann-shop.de", "Musterstraße", "SharedHosting", "DEMO-AUTH"] {
        assert!(!page.contains(secret), "support must not see {secret}");
    }
    let (status, page) = b.get_text("/staff?number=K12").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Buchstaben K und 7 Ziffern"), "{page}");
    assert_eq!(b.get("/staff?number=K7654321").await.status(), StatusCode::NOT_FOUND);
    for path in ["/staff/admin/staff", "/staff/admin/tariffs", "/staff/admin/nodes", "/staff/outbox", "/staff/audit"] {
        assert_eq!(b.get(path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = b
        .submit("/staff", "/staff/admin/nodes", &[("name", "web999"), ("role", "webserver"), ("address", "10.0.0.9")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(app.store.nodes().await.unwrap().iter().all(|n| n.name.as_str() != "web999"));
    // management is not admin either
    let chef = app.browser();
    chef.staff_login("chef", "demo-chef-1").await;
    assert_eq!(chef.get("/staff/admin/staff").await.status(), StatusCode::FORBIDDEN);
    // API: support token on admin routes
    let token = app.token(true, "support", "demo-support-1").await;
    let api = app.api();
    let found: Value = api
        .get(app.url("/api/v1/staff/customers/K1000001"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found, json!({"number": "K1000001", "name": "Erika Mustermann"}));
    for path in ["/api/v1/staff/staff-users", "/api/v1/staff/nodes", "/api/v1/staff/outbox", "/api/v1/staff/audit"] {
        let r = api.get(app.url(path)).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let r = api
        .put(app.url("/api/v1/staff/tariffs/shared-s"))
        .bearer_auth(&token)
        .json(&json!({"name": "x", "monthly_price": "1", "minimum_term_months": 1, "notice_period_days": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // support's lookup is audited
    assert!(app
        .store
        .audit_log(50)
        .await
        .unwrap()
        .iter()
        .any(|a| a.action == "staff.customer_lookup" && a.target == "K1000001"));
}

#[tokio::test]
async fn admin_manages_staff_tariffs_nodes_and_sees_outbox_and_audit() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(location(&b.staff_login("admin", "demo-admin-1").await), "/staff");
    // staff accounts
    let r = b
        .submit(
            "/staff/admin/staff",
            "/staff/admin/staff",
            &[
                ("login", "lena"),
                ("display_name", "Lena Support"),
                ("role", "support"),
                ("password", "Fruehschicht-am-Montag"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/staff/admin/staff?done=staff_created");
    let r = b
        .submit(
            "/staff/admin/staff",
            "/staff/admin/staff",
            &[("login", "lena"), ("display_name", "Lena"), ("role", "support"), ("password", "Fruehschicht-am-Montag")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = b
        .submit(
            "/staff/admin/staff",
            "/staff/admin/staff",
            &[("login", "Lena!"), ("display_name", "Lena"), ("role", "root"), ("password", "Fruehschicht-am-Montag")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let lena = app.browser();
    assert_eq!(location(&lena.staff_login("lena", "Fruehschicht-am-Montag").await), "/staff");
    let lena_id = app.store.staff_by_login(&hostwerk_domain::StaffLogin::parse("lena").unwrap()).await.unwrap().id.0;
    let r =
        b.submit("/staff/admin/staff", &format!("/staff/admin/staff/{lena_id}/active"), &[("active", "false")]).await;
    assert_eq!(location(&r), "/staff/admin/staff?done=staff_updated");
    assert_eq!(location(&lena.get("/staff").await), "/staff/login?next=%2Fstaff", "a disabled account's sessions end");
    assert_eq!(lena.staff_login("lena", "Fruehschicht-am-Montag").await.status(), StatusCode::UNAUTHORIZED);
    let admin_id = app.store.staff_by_login(&hostwerk_domain::StaffLogin::parse("admin").unwrap()).await.unwrap().id.0;
    let r =
        b.submit("/staff/admin/staff", &format!("/staff/admin/staff/{admin_id}/active"), &[("active", "false")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // tariffs
    let r = b
        .submit(
            "/staff/admin/tariffs",
            "/staff/admin/tariffs/shared-s",
            &[
                ("name", "SharedHosting S"),
                ("monthly_price", "5,49"),
                ("minimum_term_months", "1"),
                ("notice_period_days", "30"),
                ("orderable", "on"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/staff/admin/tariffs?done=tariff_saved");
    let (_, home) = app.browser().get_text("/").await;
    assert!(home.contains("5,49 €"));
    let r = b
        .submit(
            "/staff/admin/tariffs",
            "/staff/admin/tariffs/shared-s",
            &[("name", "S"), ("monthly_price", "zwölf"), ("minimum_term_months", "1"), ("notice_period_days", "30")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .submit(
            "/staff/admin/tariffs",
            "/staff/admin/tariffs/no-such-tariff",
            &[("name", "S"), ("monthly_price", "1"), ("minimum_term_months", "1"), ("notice_period_days", "30")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // existing contracts keep the price they were ordered at
    let r = b
        .submit(
            "/staff/admin/tariffs",
            "/staff/admin/tariffs/shared-m",
            &[
                ("name", "SharedHosting M"),
                ("monthly_price", "9,99"),
                ("minimum_term_months", "1"),
                ("notice_period_days", "30"),
                ("orderable", "on"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/staff/admin/tariffs?done=tariff_saved");
    let erika = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    assert_eq!(app.store.contracts(erika.id).await.unwrap()[0].monthly_price.get(), 899);

    // nodes
    let r = b
        .submit(
            "/staff/admin/nodes",
            "/staff/admin/nodes",
            &[("name", "web042"), ("role", "webserver"), ("address", "10.1.2.42")],
        )
        .await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=node_created");
    let r = b
        .submit(
            "/staff/admin/nodes",
            "/staff/admin/nodes",
            &[("name", "web 042"), ("role", "webserver"), ("address", "10.1.2.42")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = b
        .submit(
            "/staff/admin/nodes",
            "/staff/admin/nodes",
            &[("name", "web042"), ("role", "webserver"), ("address", "10.1.2.43")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let web042 = app.store.nodes().await.unwrap().into_iter().find(|n| n.name.as_str() == "web042").unwrap();
    let r =
        b.submit("/staff/admin/nodes", &format!("/staff/admin/nodes/{}/delete", web042.id), &[("confirm", "on")]).await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=node_deleted");
    let used = app.store.nodes().await.unwrap().into_iter().find(|n| n.name.as_str() == "web001").unwrap();
    let r =
        b.submit("/staff/admin/nodes", &format!("/staff/admin/nodes/{}/delete", used.id), &[("confirm", "on")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "a node with contracts stays");

    // outbox and audit
    let customer = app.browser();
    customer.submit("/password-reminder", "/password-reminder", &[("login", "erika@example.com")]).await;
    let (status, outbox) = b.get_text("/staff/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(outbox.contains("erika@example.com"));
    let (_, audit) = b.get_text("/staff/audit").await;
    for action in ["staff.created", "staff.disabled", "tariff.updated", "node.created", "node.deleted"] {
        assert!(audit.contains(action), "audit shows {action}");
    }
}

#[tokio::test]
async fn api_covers_the_customer_menu() {
    let app = TestApp::spawn().await;
    let api = app.api();
    // public: tariffs and an order
    let tariffs: Value = api.get(app.url("/api/v1/tariffs")).send().await.unwrap().json().await.unwrap();
    assert!(tariffs.as_array().unwrap().len() >= 5);
    let order = json!({"tariff": "managed-server", "billing_months": 12, "name": "API GmbH", "email": "api@example.org",
        "street": "Weg 1", "postal_code": "12345", "city": "Ort", "password": "api-password-1", "phone_password": "api-phone-pw"});
    let r = api.post(app.url("/api/v1/orders")).json(&order).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "confirmation_sent");
    let token = support::link_token(&app, "api@example.org", "/order/confirm?token=").await;
    let r = api.post(app.url("/api/v1/orders/confirm")).json(&json!({"token": token})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let number = r.json::<Value>().await.unwrap()["customer_number"].as_str().unwrap().to_owned();
    let r = api.post(app.url("/api/v1/orders/confirm")).json(&json!({"token": token})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::GONE, "used up");
    let r = api.post(app.url("/api/v1/orders")).json(&json!({"tariff": "managed-server"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("request body"));
    let r = api
        .post(app.url("/api/v1/orders"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut bad = order.clone();
    bad["email"] = json!("api2@example.org");
    bad["password"] = json!("kurz");
    let r = api.post(app.url("/api/v1/orders")).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "the password must have at least 10 characters");

    // the new customer's view
    let r = api
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"login": number, "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let token = app.token(false, &number, "api-password-1").await;
    let me: Value = api.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["number"], number.as_str());
    let contracts: Value =
        api.get(app.url("/api/v1/contracts")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(contracts[0]["tariff"], "ManagedServer");
    assert_eq!(contracts[0]["period_price_cents"], 4990 * 12);
    let id = contracts[0]["id"].as_i64().unwrap();
    assert_eq!(
        api.get(app.url(&format!("/api/v1/contracts/{id}"))).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        api.get(app.url("/api/v1/contracts/x")).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let mailboxes: Value =
        api.get(app.url("/api/v1/mailboxes")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(mailboxes, json!([]));
    let r = api.patch(app.url("/api/v1/me")).bearer_auth(&token).json(&json!({"language": "fr"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = api.patch(app.url("/api/v1/me")).bearer_auth(&token).json(&json!({"language": "en"})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["language"], "en");
    // no token, a bad token
    assert_eq!(api.get(app.url("/api/v1/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.get(app.url("/api/v1/me")).bearer_auth("nope").send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // password change ends tokens
    let r = api
        .post(app.url("/api/v1/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current": "api-password-1", "password": "api-password-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // revoke
    let token = app.token(false, &number, "api-password-2").await;
    assert_eq!(
        api.delete(app.url("/api/v1/auth/token")).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // reminder
    assert_eq!(
        api.post(app.url("/api/v1/password-reminder"))
            .json(&json!({"login": "nobody@example.org"}))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn api_admin_routes_work_for_admins() {
    let app = TestApp::spawn().await;
    let api = app.api();
    let token = app.token(true, "admin", "demo-admin-1").await;
    let r = api
        .post(app.url("/api/v1/staff/staff-users"))
        .bearer_auth(&token)
        .json(&json!({"login": "kim", "display_name": "Kim", "role": "management", "password": "kim-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let users: Value =
        api.get(app.url("/api/v1/staff/staff-users")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(users.as_array().unwrap().iter().any(|u| u["login"] == "kim" && u["role"] == "management"));
    let r = api
        .post(app.url("/api/v1/staff/nodes"))
        .bearer_auth(&token)
        .json(&json!({"name": "backup02", "role": "backup_server", "address": "10.9.0.2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = api
        .post(app.url("/api/v1/staff/nodes"))
        .bearer_auth(&token)
        .json(&json!({"name": "backup03", "role": "database", "address": "10.9.0.3"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let nodes: Value =
        api.get(app.url("/api/v1/staff/nodes")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let id = nodes.as_array().unwrap().iter().find(|n| n["name"] == "backup02").unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        api.delete(app.url(&format!("/api/v1/staff/nodes/{id}"))).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.delete(app.url(&format!("/api/v1/staff/nodes/{id}"))).bearer_auth(&token).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let r = api.put(app.url("/api/v1/staff/tariffs/shared-l")).bearer_auth(&token).json(&json!({"name": "SharedHosting L", "monthly_price": "15", "minimum_term_months": 1, "notice_period_days": 30, "orderable": "false"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["orderable"], false);
    let r = api.get(app.url("/api/v1/staff/customers/K12")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let outbox: Value =
        api.get(app.url("/api/v1/staff/outbox")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(outbox.is_array());
    let audit: Value =
        api.get(app.url("/api/v1/staff/audit")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert!(audit.as_array().unwrap().iter().any(|a| a["action"] == "node.deleted"));
}

#[tokio::test]
async fn health_metrics_openapi_and_languages() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    assert_eq!(b.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(b.get("/static/app.css").await.status(), StatusCode::OK);
    assert_eq!(b.get("/no/such/page").await.status(), StatusCode::NOT_FOUND);
    // the metrics are on their own address, never on the public one
    assert_eq!(b.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let metrics = app.api().get(format!("{}/metrics", app.metrics_base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("hostwerk_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("hostwerk_http_request_duration_seconds_bucket"));
    assert!(metrics.contains("hostwerk_http_errors_total 0"));
    let doc: Value = b.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/v1/me", "/api/v1/orders", "/api/v1/contracts/{id}", "/api/v1/staff/customers/{number}"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    // German by default, English from Accept-Language or the switch
    let (_, de) = b.get_text("/login").await;
    assert!(de.contains("Anmeldung zum Kundenmenü"));
    let r = app.api().get(app.url("/login")).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
    assert!(r.text().await.unwrap().contains("Log in to the customer menu"));
    let r = b.get("/lang/en?back=/login").await;
    assert_eq!(location(&r), "/login");
    let (_, en) = b.get_text("/login").await;
    assert!(en.contains("Log in to the customer menu"));
    let r = b.get("/lang/en?back=//evil.example").await;
    assert_eq!(location(&r), "/", "no open redirect");
}
