//! The staff console's administration over real HTTP (issue 16, items 6 and 7): the customer search by name,
//! e-mail address and domain; an admin's password reset and role change for staff; new tariffs; moving
//! contracts off a webserver so it can be removed; the agents' online status; node addresses. The scenarios
//! that write through new SQL run on SQLite and, when `HOSTWERK_TEST_POSTGRES_URL` is set, on PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::support;

use hostwerk_domain::StaffLogin;
use reqwest::StatusCode;
use support::{location, texts, Browser, TestApp};

/// The app on SQLite, and on PostgreSQL when configured.
async fn apps() -> Vec<TestApp> {
    let mut apps = vec![TestApp::spawn().await];
    apps.extend(TestApp::spawn_postgres().await);
    apps
}

async fn signed_in(app: &TestApp, login: &str, password: &str) -> Browser {
    let b = app.browser();
    assert_eq!(location(&b.staff_login(login, password).await), "/staff", "{login} signs in");
    b
}

async fn staff_id(app: &TestApp, login: &str) -> i64 {
    app.store.staff_by_login(&StaffLogin::parse(login).unwrap()).await.unwrap().id.0
}

async fn node_id(app: &TestApp, name: &str) -> i64 {
    app.store.nodes().await.unwrap().into_iter().find(|n| n.name.as_str() == name).unwrap().id
}

fn value_of(page: &str, selector: &str) -> String {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).next().and_then(|e| e.value().attr("value")).unwrap_or_else(|| panic!("{selector}")).to_owned()
}

fn selected_of(page: &str, select: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(page);
    let sel = scraper::Selector::parse(&format!("{select} option[selected]")).unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr("value")).map(str::to_owned).collect()
}

async fn search_by_name_email_and_domain(app: &TestApp) {
    // A customer whose name starts with a non-ASCII capital: the fold is Unicode on both engines.
    let b = app.browser();
    let order = [
        ("tariff", "shared-s"),
        ("billing_months", "12"),
        ("name", "Özlem Öztürk"),
        ("email", "Oezlem@Example.net"),
        ("street", "Lindenweg 7"),
        ("postal_code", "80331"),
        ("city", "München"),
        ("country", "DE"),
        ("password", "Apfelstrudel-mit-Sahne-1"),
        ("phone_password", "Kaiserschmarrn-mit-Zwetschgen"),
    ];
    assert_eq!(support::order_and_confirm(app, &b, &order).await.status(), StatusCode::SEE_OTHER);

    let support = signed_in(app, "support", "demo-support-1").await;
    let (status, home) = support.get_text("/staff").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&home, "label[for=q]"), vec!["Kundennummer, Name, E-Mail-Adresse oder Domain"]);
    let erika = vec!["K1000001".to_owned(), "Erika Mustermann".to_owned()];
    for query in [
        "mustermann",
        "MUSTERMANN",
        "rika Must",
        "erika@example.com",
        "ERIKA@example.COM",
        "mustermann-shop.de",
        "Erika-Mustermann.DE",
    ] {
        let (status, page) = support.get_text(&format!("/staff?q={}", urlencode(query))).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(texts(&page, "#search-results tbody td"), erika, "{query}: number and name only");
        for secret in ["Musterstraße", "SharedHosting", "info@mustermann-shop.de", "DEMO-AUTH"] {
            assert!(!page.contains(secret), "{query}: support must not see {secret}");
        }
        assert_eq!(value_of(&page, "input#q"), query, "the search box keeps the query");
    }
    // The result links to the verification page (the lookup by number).
    let (_, page) = support.get_text("/staff?q=mustermann").await;
    assert!(page.contains("href=\"/staff?number=K1000001\""));
    for query in ["öztürk", "ÖZTÜRK", "özlem ö", "oezlem@example.NET"] {
        let (_, page) = support.get_text(&format!("/staff?q={}", urlencode(query))).await;
        assert_eq!(texts(&page, "#search-results tbody td:nth-child(2)"), vec!["Özlem Öztürk"], "{query}");
    }
    // A part of a name that several share lists them all, in number order.
    let (_, page) = support.get_text("/staff?q=e").await;
    assert!(!page.contains("search-results"), "one character is too short");
    let (_, page) = support.get_text("/staff?q=ma").await;
    let numbers = texts(&page, "#search-results tbody td:nth-child(1)");
    assert!(numbers.len() >= 2 && numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    // An e-mail address or domain matches only exactly; a substring of them is no match.
    for query in ["example.com", "mustermann-shop", "%%", "__", "nobody-here"] {
        let (status, page) = support.get_text(&format!("/staff?q={}", urlencode(query))).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert_eq!(texts(&page, "#no-hits"), vec!["Kein Kunde passt."], "{query}");
    }
    // Too short: a message, the query kept, no 500.
    let (status, page) = support.get_text("/staff?q=x").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("mindestens 2 Zeichen"), "{page}");
    assert_eq!(value_of(&page, "input#q"), "x");
    // A customer number goes straight to the customer's verification page, as before.
    let (status, page) = support.get_text("/staff?q=k1000001").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&page, "#customer-summary dd"), erika);
    // In English.
    let en = app.browser_en();
    en.staff_login("support", "demo-support-1").await;
    let (_, page) = en.get_text("/staff?q=x").await;
    assert!(page.contains("Please enter at least 2 characters"), "{page}");
    // The API answers the same, number and name only.
    let token = app.token(true, "support", "demo-support-1").await;
    let api = app.api();
    for (query, expected) in [
        ("MUSTERMANN", serde_json::json!([{"number": "K1000001", "name": "Erika Mustermann"}])),
        ("mustermann-shop.de", serde_json::json!([{"number": "K1000001", "name": "Erika Mustermann"}])),
        ("K1000002", serde_json::json!([{"number": "K1000002", "name": "Max Beispiel GmbH"}])),
        ("K7654321", serde_json::json!([])),
        ("nobody-here", serde_json::json!([])),
    ] {
        let r = api
            .get(app.url("/api/v1/staff/customers"))
            .query(&[("q", query)])
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{query}");
        assert_eq!(r.json::<serde_json::Value>().await.unwrap(), expected, "{query}");
    }
    let r = api.get(app.url("/api/v1/staff/customers?q=x")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        api.get(app.url("/api/v1/staff/customers?q=mustermann")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Searches are audited.
    let audit = app.store.audit_log(100).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "staff.customer_search" && a.target == "mustermann"));
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn support_searches_customers_by_name_email_and_domain() {
    for app in apps().await {
        search_by_name_email_and_domain(&app).await;
    }
}

#[tokio::test]
async fn admin_sets_a_new_password_for_a_staff_member() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin", "demo-admin-1").await;
    let support = signed_in(&app, "support", "demo-support-1").await;
    let id = staff_id(&app, "support").await;
    let action = format!("/staff/admin/staff/{id}/password");
    let page = "/staff/admin/staff";

    // Refusals: the rules of passwords, the repetition, no 500 for a missing field; nothing changes.
    let r = admin.submit(page, &action, &[("password", "kurzQ7x"), ("repeat", "kurzQ7x")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("mindestens 10 Zeichen"), "{body}");
    assert!(body.contains("<details open><summary>"), "the failed form is open again");
    assert!(!body.contains("kurzQ7x"), "a password is never sent back");
    let r = admin.submit(page, &action, &[("password", "neues-passwort-1"), ("repeat", "neues-passwort-2")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Die beiden Passwörter stimmen nicht überein."));
    assert_eq!(admin.submit(page, &action, &[]).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(location(&support.get("/staff").await), "", "support is still signed in");
    // Without the CSRF token, as support, for oneself, or for nobody: refused.
    let r = admin.post_raw(&action, &[("password", "neues-passwort-1"), ("repeat", "neues-passwort-1")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r =
        support.submit("/staff", &action, &[("password", "neues-passwort-1"), ("repeat", "neues-passwort-1")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let own = format!("/staff/admin/staff/{}/password", staff_id(&app, "admin").await);
    let r = admin.submit(page, &own, &[("password", "neues-passwort-1"), ("repeat", "neues-passwort-1")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = admin
        .submit(
            page,
            "/staff/admin/staff/999999/password",
            &[("password", "neues-passwort-1"), ("repeat", "neues-passwort-1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // The reset: post/redirect/get, the old sessions end, the old password stops, the new one works.
    let r = admin.submit(page, &action, &[("password", "neues-passwort-1"), ("repeat", "neues-passwort-1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/staff/admin/staff?done=staff_password_reset");
    let (_, done) = admin.get_text(&location(&r)).await;
    assert!(done.contains("Das neue Passwort ist gesetzt"));
    assert_eq!(location(&support.get("/staff").await), "/staff/login?next=%2Fstaff", "the member's sessions ended");
    assert_eq!(app.browser().staff_login("support", "demo-support-1").await.status(), StatusCode::UNAUTHORIZED);
    signed_in(&app, "support", "neues-passwort-1").await;
    // Audited, without the password.
    let audit = app.store.audit_log(100).await.unwrap();
    let entry = audit.iter().find(|a| a.action == "staff.password_reset").expect("audited");
    assert_eq!((entry.actor_name.as_str(), entry.target.as_str()), ("admin", "support"));
    assert!(audit.iter().all(|a| !a.detail.contains("neues-passwort") && !a.target.contains("neues-passwort")));
}

async fn role_changes_keep_an_admin(app: &TestApp) {
    let admin = signed_in(app, "admin", "demo-admin-1").await;
    let support = signed_in(app, "support", "demo-support-1").await;
    let (support_id, admin_id, chef_id) =
        (staff_id(app, "support").await, staff_id(app, "admin").await, staff_id(app, "chef").await);
    let page = "/staff/admin/staff";

    // Only admins change roles.
    let r = support.submit("/staff", &format!("/staff/admin/staff/{support_id}/role"), &[("role", "admin")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // support → management, shown on the page, audited
    let r = admin.submit(page, &format!("/staff/admin/staff/{support_id}/role"), &[("role", "management")]).await;
    assert_eq!(location(&r), "/staff/admin/staff?done=staff_role_changed");
    let (_, list) = admin.get_text(&location(&r)).await;
    assert_eq!(selected_of(&list, &format!("#staff-{support_id} select[name=role]")), vec!["management"]);
    assert!(list.contains("Die Rolle wurde geändert."));
    // management needs a second factor: the promoted member is sent to set one up before anything else
    assert_eq!(location(&support.get("/staff").await), "/staff/security");
    // An unknown role is a message, not a 500.
    let r = admin.submit(page, &format!("/staff/admin/staff/{support_id}/role"), &[("role", "root")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Die Rolle ist support, management oder admin."));

    // The last active admin keeps the role: refused with the reason, the chosen value shown, nothing changed.
    let r = admin.submit(page, &format!("/staff/admin/staff/{admin_id}/role"), &[("role", "support")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains("Dies ist der letzte aktive Admin"), "{body}");
    assert_eq!(selected_of(&body, &format!("#staff-{admin_id} select[name=role]")), vec!["support"]);
    assert_eq!(app.store.staff(hostwerk_store::StaffId(admin_id)).await.unwrap().role.as_str(), "admin");
    assert_eq!(admin.get(page).await.status(), StatusCode::OK, "still an admin");

    // With a second admin, the first may step down, and loses the admin pages at once.
    let r = admin.submit(page, &format!("/staff/admin/staff/{chef_id}/role"), &[("role", "admin")]).await;
    assert_eq!(location(&r), "/staff/admin/staff?done=staff_role_changed");
    let r = admin.submit(page, &format!("/staff/admin/staff/{admin_id}/role"), &[("role", "support")]).await;
    assert_eq!(location(&r), "/staff/admin/staff?done=staff_role_changed");
    assert_eq!(admin.get(page).await.status(), StatusCode::FORBIDDEN);
    // chef is now the last admin.
    let chef = signed_in(app, "chef", "demo-chef-1").await;
    let r = chef.submit(page, &format!("/staff/admin/staff/{chef_id}/role"), &[("role", "management")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let audit = app.store.audit_log(100).await.unwrap();
    let changes: Vec<_> = audit.iter().filter(|a| a.action == "staff.role_changed").map(|a| a.detail.clone()).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(changes.contains(&"admin -> support".to_owned()));
}

#[tokio::test]
async fn admin_changes_roles_but_never_removes_the_last_admin() {
    for app in apps().await {
        role_changes_keep_an_admin(&app).await;
    }
}

/// A form's fields as sent.
type Fields = Vec<(&'static str, &'static str)>;

async fn tariff_creation(app: &TestApp) {
    let admin = signed_in(app, "admin", "demo-admin-1").await;
    let page = "/staff/admin/tariffs";
    let good = [
        ("template", "shared-m"),
        ("id", "shared-xl"),
        ("name", "SharedHosting XL"),
        ("monthly_price", "19,99"),
        ("monthly", "on"),
        ("yearly", "on"),
        ("minimum_term_months", "12"),
        ("notice_period_days", "30"),
        ("orderable", "on"),
    ];
    let with = |field: &'static str, value: &'static str| -> Vec<(&'static str, &'static str)> {
        good.iter().map(|&(k, v)| if k == field { (k, value) } else { (k, v) }).collect()
    };
    let without = |field: &'static str| -> Vec<(&'static str, &'static str)> {
        good.iter().copied().filter(|&(k, _)| k != field).collect()
    };
    // Each bad input: a message, the form as sent, no tariff.
    let cases: Vec<(Fields, StatusCode, &str)> = vec![
        (with("monthly_price", "neunzehn"), StatusCode::UNPROCESSABLE_ENTITY, "Ein Betrag wird wie 12,99"),
        (with("monthly_price", "-1"), StatusCode::UNPROCESSABLE_ENTITY, "nicht negativ"),
        (with("id", "Shared XL"), StatusCode::UNPROCESSABLE_ENTITY, "Eine Tarif-Kennung hat 2–40 Zeichen"),
        (with("name", " "), StatusCode::UNPROCESSABLE_ENTITY, "Der Tarifname muss 1 bis 80 Zeichen haben."),
        (with("minimum_term_months", "200"), StatusCode::UNPROCESSABLE_ENTITY, "von 0 bis 120"),
        (with("notice_period_days", "x"), StatusCode::UNPROCESSABLE_ENTITY, "von 0 bis 365"),
        (with("template", "no-such-tariff"), StatusCode::UNPROCESSABLE_ENTITY, "Bitte wählen Sie den Tarif"),
        (
            good.iter().copied().filter(|&(k, _)| k != "monthly" && k != "yearly").collect(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "mindestens einen Abrechnungszeitraum",
        ),
        (with("id", "shared-s"), StatusCode::CONFLICT, "Einen Tarif mit der Kennung shared-s gibt es bereits."),
        (without("id"), StatusCode::UNPROCESSABLE_ENTITY, "Eine Tarif-Kennung"),
    ];
    for (fields, status, message) in cases {
        let r = admin.submit(page, page, &fields).await;
        assert_eq!(r.status(), status, "{message}");
        let body = r.text().await.unwrap();
        assert!(body.contains(message), "expected {message:?}: {body}");
        for (k, v) in &fields {
            match *k {
                "id" | "name" | "monthly_price" | "minimum_term_months" | "notice_period_days" => {
                    assert_eq!(value_of(&body, &format!("#new-tariff input[name={k}]")), *v, "{message}: {k} kept")
                }
                "template" if *v != "no-such-tariff" => {
                    assert_eq!(selected_of(&body, "#new-tariff select[name=template]"), vec![v.to_string()])
                }
                _ => {}
            }
        }
    }
    assert!(app.store.tariffs().await.unwrap().iter().all(|t| t.id.as_str() != "shared-xl"));
    // Support and management cannot create tariffs.
    let chef = signed_in(app, "chef", "demo-chef-1").await;
    assert_eq!(chef.submit("/staff", page, &good).await.status(), StatusCode::FORBIDDEN);

    // The good one: redirect, stored with the template's family and policies, orderable on the public site.
    let r = admin.submit(page, page, &good).await;
    assert_eq!(location(&r), "/staff/admin/tariffs?done=tariff_created");
    let tariffs = app.store.tariffs().await.unwrap();
    let (xl, m) = (
        tariffs.iter().find(|t| t.id.as_str() == "shared-xl").unwrap(),
        tariffs.iter().find(|t| t.id.as_str() == "shared-m").unwrap(),
    );
    assert_eq!((xl.name.as_str(), xl.monthly_price.get(), xl.minimum_term_months), ("SharedHosting XL", 1999, 12));
    assert_eq!((xl.family, xl.process_limit, xl.backup, xl.orderable), (m.family, m.process_limit, m.backup, true));
    assert_eq!(xl.billing_periods.len(), 2);
    assert_eq!(tariffs.last().unwrap().id.as_str(), "shared-xl", "new tariffs come last");
    let (_, list) = admin.get_text(&location(&r)).await;
    assert!(list.contains("Der Tarif wurde angelegt."));
    assert!(list.contains("SharedHosting XL"));
    let (_, public) = app.browser().get_text("/").await;
    assert!(public.contains("SharedHosting XL"), "a new orderable tariff is offered");
    let audit = app.store.audit_log(100).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "tariff.created" && a.target == "shared-xl"));
}

#[tokio::test]
async fn admin_creates_tariffs_with_messages_for_bad_input() {
    for app in apps().await {
        tariff_creation(&app).await;
    }
}

async fn move_then_delete(app: &TestApp) {
    let admin = signed_in(app, "admin", "demo-admin-1").await;
    let page = "/staff/admin/nodes";
    let (web001, web002, backup01) =
        (node_id(app, "web001").await, node_id(app, "web002").await, node_id(app, "backup01").await);
    let on = |name: &'static str| async move {
        let mut n = 0;
        for number in ["K1000001", "K1000002"] {
            let c = app.store.customer_by_number(number.parse().unwrap()).await.unwrap();
            n += app.store.contracts(c.id).await.unwrap().iter().filter(|k| k.node.as_deref() == Some(name)).count();
        }
        n
    };
    let before = on("web001").await;
    assert!(before >= 1, "the demo has contracts on web001");

    // Deleting needs the confirmation, then says what to do while contracts run there.
    let delete = format!("/staff/admin/nodes/{web001}/delete");
    let r = admin.submit(page, &delete, &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("Bitte setzen Sie das Häkchen zur Bestätigung."));
    let r = admin.submit(page, &delete, &[("confirm", "on")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let body = r.text().await.unwrap();
    assert!(body.contains(&format!("Auf diesem Server laufen {before} Verträge")), "{body}");
    assert!(body.contains("/move-contracts"), "the page offers the move");

    // Moving: confirmation required, the target a webserver other than the node; the form comes back as sent.
    let action = format!("/staff/admin/nodes/{web001}/move-contracts");
    let r = admin.submit(page, &action, &[("to", &web002.to_string())]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("Häkchen"));
    assert_eq!(selected_of(&body, &format!("#to-{web001}")), vec![web002.to_string()]);
    let r = admin.submit(page, &action, &[("to", &backup01.to_string()), ("confirm", "on")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("nur auf einen Webserver"));
    for to in [web001.to_string(), String::new(), "abc".into(), "999999".into()] {
        let r = admin.submit(page, &action, &[("to", &to), ("confirm", "on")]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "to {to:?}");
        assert!(r.text().await.unwrap().contains("anderen Webserver als Ziel"));
    }
    for contract in ["abc", "999999"] {
        let r = admin
            .submit(page, &action, &[("to", &web002.to_string()), ("contract", contract), ("confirm", "on")])
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("keinen Vertrag mit dieser Nummer"));
        assert_eq!(value_of(&body, &format!("#contract-{web001}")), contract, "the form keeps the number");
    }
    let support = signed_in(app, "support", "demo-support-1").await;
    let r = support.submit("/staff", &action, &[("to", &web002.to_string()), ("confirm", "on")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(on("web001").await, before, "nothing moved yet");

    // One contract, then the rest.
    let erika = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let contract = app.store.contracts(erika.id).await.unwrap()[0].clone();
    let from = node_id(app, contract.node.as_deref().unwrap()).await;
    let other = if from == web001 { web002 } else { web001 };
    let one = format!("/staff/admin/nodes/{from}/move-contracts");
    let r = admin
        .submit(page, &one, &[("to", &other.to_string()), ("contract", &contract.id.to_string()), ("confirm", "on")])
        .await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=contracts_moved");
    let moved = app.store.contracts(erika.id).await.unwrap()[0].clone();
    assert_ne!(moved.node, contract.node, "the contract runs on the other webserver");
    let r = admin.submit(page, &action, &[("to", &web002.to_string()), ("confirm", "on")]).await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=contracts_moved");
    assert_eq!(on("web001").await, 0);
    let (_, list) = admin.get_text(&location(&r)).await;
    assert!(list.contains("Die Verträge wurden umgezogen."));
    assert_eq!(texts(&list, &format!("#node-{web001} .contract-count")), vec!["0"]);

    // Now the emptied node can go, with its agent token; a backup server in use stays.
    let r = admin.submit(page, &format!("/staff/admin/nodes/{web001}/token"), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let assign = format!("/staff/admin/nodes/{web002}/backup-server");
    let r = admin.submit(page, &assign, &[("backup_server", &backup01.to_string())]).await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=backup_server_set");
    let r = admin.submit(page, &format!("/staff/admin/nodes/{backup01}/delete"), &[("confirm", "on")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("Webserver sichern auf diesen Server"));
    let r = admin.submit(page, &delete, &[("confirm", "on")]).await;
    assert_eq!(location(&r), "/staff/admin/nodes?done=node_deleted");
    assert!(app.store.nodes().await.unwrap().iter().all(|n| n.id != web001));
    let audit = app.store.audit_log(100).await.unwrap();
    assert!(audit.iter().filter(|a| a.action == "node.contracts_moved").count() >= 2);
    assert!(audit.iter().any(|a| a.action == "node.deleted" && a.target == "web001"));
}

#[tokio::test]
async fn admin_moves_contracts_off_a_webserver_and_then_deletes_it() {
    for app in apps().await {
        move_then_delete(&app).await;
    }
}

#[tokio::test]
async fn nodes_page_shows_whether_agents_are_online() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin", "demo-admin-1").await;
    let page = "/staff/admin/nodes";
    let (web001, web002) = (node_id(&app, "web001").await, node_id(&app, "web002").await);
    let status_of = |list: &str, id: i64| texts(list, &format!("#node-{id} .agent-status"));
    let (_, list) = admin.get_text(page).await;
    assert_eq!(status_of(&list, web002), vec!["nie verbunden"]);
    assert!(texts(&list, &format!("#node-{web002} .last-seen")).is_empty());

    // An agent calls with its token: online, with the time.
    let r = admin.submit(page, &format!("/staff/admin/nodes/{web002}/token"), &[]).await;
    let shown = r.text().await.unwrap();
    let token = texts(&shown, "#agent-token code").remove(0);
    let r = app.api().get(app.url("/api/v1/agent/limits")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, list) = admin.get_text(page).await;
    assert_eq!(status_of(&list, web002), vec!["online"]);
    let seen = texts(&list, &format!("#node-{web002} .last-seen"));
    assert_eq!(seen.len(), 1);
    assert!(seen[0].starts_with("zuletzt gesehen ") && seen[0].contains(':'), "{seen:?}");

    // An agent last heard of an hour ago is offline, with that time.
    let hour_ago = chrono::Utc::now().timestamp() - 3600;
    app.store.touch_agent(web001, hour_ago).await.unwrap();
    let (_, list) = admin.get_text(page).await;
    assert_eq!(status_of(&list, web001), vec!["offline"]);
    let expected = hostwerk_domain::calendar::format_berlin_datetime(
        chrono::DateTime::from_timestamp(hour_ago, 0).unwrap(),
        hostwerk_domain::Language::De,
    );
    assert_eq!(texts(&list, &format!("#node-{web001} .last-seen")), vec![format!("zuletzt gesehen {expected}")]);
    // A bad token is not a sign of life.
    let r = app.api().get(app.url("/api/v1/agent/limits")).bearer_auth("nope").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_node_address_must_be_an_ip_address_or_a_host_name() {
    let app = TestApp::spawn().await;
    let admin = signed_in(&app, "admin", "demo-admin-1").await;
    let page = "/staff/admin/nodes";
    for bad in ["keine-ip", "10.0.0.256", "10.0.0", "web 1.example.net", "http://10.0.0.1/"] {
        let r = admin.submit(page, page, &[("name", "web050"), ("role", "backup_server"), ("address", bad)]).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Die Adresse ist eine IP-Adresse wie 10.0.0.42 oder ein vollständiger Hostname"),
            "{bad}: {body}"
        );
        assert_eq!(value_of(&body, "#new-node input[name=address]"), bad, "the address is kept");
        assert_eq!(value_of(&body, "#new-node input[name=name]"), "web050", "the name is kept");
        assert_eq!(selected_of(&body, "#new-node select[name=role]"), vec!["backup_server"], "the role is kept");
    }
    let en = app.browser_en();
    en.staff_login("admin", "demo-admin-1").await;
    let r = en.submit(page, page, &[("name", "web050"), ("role", "webserver"), ("address", "keine-ip")]).await;
    assert!(r.text().await.unwrap().contains("the address is an IP address such as 10.0.0.42 or a full host name"));
    assert!(app.store.nodes().await.unwrap().iter().all(|n| n.name.as_str() != "web050"));
    // Good ones, stored as parsed.
    for (name, address, stored) in
        [("web050", " Web050.Example.NET ", "web050.example.net"), ("web051", "2001:DB8::51", "2001:db8::51")]
    {
        let r = admin.submit(page, page, &[("name", name), ("role", "webserver"), ("address", address)]).await;
        assert_eq!(location(&r), "/staff/admin/nodes?done=node_created");
        let node = app.store.nodes().await.unwrap().into_iter().find(|n| n.name.as_str() == name).unwrap();
        assert_eq!(node.address, stored);
    }
}
