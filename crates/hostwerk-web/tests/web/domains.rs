//! Domains customers add to a contract (issue 16, item 8), over real HTTP on both engines: a request from the
//! menu (validated; taken names refused), shown as pending; the admins' work list completes it with the
//! registrar's auth code (the domain joins the contract; mailboxes can be created on it) or rejects it with a
//! reason the customer sees; mails at each step; support may not reach the list.

#![allow(clippy::unwrap_used)]

use crate::support;

use reqwest::StatusCode;
use support::{attrs, location, texts, TestApp};

const ERIKA: &str = "erika@example.com";

async fn domain_story(app: &TestApp) {
    let erika = app.browser();
    erika.login("K1000001", "demo-password-1").await;
    let (contract, _, _) = support::ids_of(app, "K1000001").await;
    let c = contract.to_string();
    let (_, dash) = erika.get_text("/menu").await;
    assert_eq!(texts(&dash, "#add-domain").len(), 1, "the dashboard offers to add a domain");

    // bad input: a clear message, the text kept
    let r = erika.submit("/menu", "/menu/domains", &[("contract_id", &c), ("domain", "kein domain")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("Domainname"), "German message: {page}");
    assert_eq!(attrs(&page, "#new-domain", "value"), vec!["kein domain"]);
    // taken: hosted here already (another customer's), or requested already
    let r = erika.submit("/menu", "/menu/domains", &[("contract_id", &c), ("domain", "MUSTERMANN-SHOP.de")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // someone else's contract: not found
    let (other, _, _) = support::ids_of(app, "K1000002").await;
    let r = erika.submit("/menu", "/menu/domains", &[("contract_id", &other.to_string()), ("domain", "x-y.de")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    let r = erika.submit("/menu", "/menu/domains", &[("contract_id", &c), ("domain", "Neue-Domain.de")]).await;
    assert_eq!(location(&r), "/menu?done=domain_requested");
    let r = erika.submit("/menu", "/menu/domains", &[("contract_id", &c), ("domain", "abgelehnt.de")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let max = app.browser();
    max.login("K1000002", "demo-password-2").await;
    let r = max
        .submit("/menu", "/menu/domains", &[("contract_id", &other.to_string()), ("domain", "neue-domain.de")])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "requested by another customer already");
    app.smtp.wait_for(ERIKA, "neue-domain.de").await;
    let (_, dash) = erika.get_text("/menu").await;
    let pending = texts(&dash, "#domain-orders li");
    assert!(pending.iter().any(|p| p.contains("neue-domain.de") && p.contains("wird eingerichtet")), "{pending:?}");
    let (_, page) = erika.get_text(&format!("/menu/contracts/{contract}")).await;
    assert_eq!(texts(&page, ".domain-orders li").len(), 2);

    // support may not see the work list; admins do
    let support = app.browser();
    support.staff_login("support", "demo-support-1").await;
    assert_eq!(support.get("/staff/admin/domain-orders").await.status(), StatusCode::FORBIDDEN);
    let admin = app.browser();
    admin.staff_login("admin", "demo-admin-1").await;
    let (status, list) = admin.get_text("/staff/admin/domain-orders").await;
    assert_eq!(status, StatusCode::OK);
    let rows = texts(&list, "#domain-orders tbody tr");
    assert!(rows.iter().any(|r| r.contains("neue-domain.de") && r.contains("K1000001")), "{rows:?}");
    assert!(!list.contains(ERIKA), "no contact data on the list");
    let orders = app.store.pending_domain_orders().await.unwrap();
    let new_id = orders.iter().find(|o| o.name == "neue-domain.de").unwrap().id;
    let rejected_id = orders.iter().find(|o| o.name == "abgelehnt.de").unwrap().id;
    let page = "/staff/admin/domain-orders";
    let r = admin.submit(page, &format!("{page}/{new_id}/complete"), &[("auth_code", "zu kurz")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = support.submit("/staff", &format!("{page}/{new_id}/complete"), &[("auth_code", "Ab3$xY9!kL")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin.submit(page, &format!("{page}/{new_id}/complete"), &[("auth_code", "Ab3$xY9!kL")]).await;
    assert_eq!(location(&r), "/staff/admin/domain-orders?done=domain_order_completed");
    let r = admin.submit(page, &format!("{page}/{new_id}/complete"), &[("auth_code", "Ab3$xY9!kL")]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "completed once");
    let r =
        admin.submit(page, &format!("{page}/{rejected_id}/reject"), &[("reason", "Die Domain ist vergeben.")]).await;
    assert_eq!(location(&r), "/staff/admin/domain-orders?done=domain_order_rejected");
    app.smtp.wait_for(ERIKA, "eingerichtet").await;
    app.smtp.wait_for(ERIKA, "Die Domain ist vergeben.").await;

    // the customer sees the domain, the rejection with its reason, and can create a mailbox on the domain
    let (_, dash) = erika.get_text("/menu").await;
    assert!(texts(&dash, "#domains li").iter().any(|d| d == "neue-domain.de"), "{:?}", texts(&dash, "#domains li"));
    let orders = texts(&dash, "#domain-orders li");
    assert!(orders.len() == 1 && orders[0].contains("abgelehnt") && orders[0].contains("vergeben"), "{orders:?}");
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let domain = app
        .store
        .domains(customer.id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name.as_str() == "neue-domain.de")
        .unwrap();
    let r = erika
        .submit("/menu", "/menu/mailboxes", &[("domain_id", &domain.id.to_string()), ("local_part", "info")])
        .await;
    assert_eq!(location(&r), "/menu?done=mailbox_created");
    let audit = app.store.audit_log(200).await.unwrap();
    for action in ["domain.requested", "domain_order.completed", "domain_order.rejected"] {
        assert!(audit.iter().any(|e| e.action == action), "{action}");
    }
}

#[tokio::test]
async fn domains_are_requested_and_set_up_on_sqlite() {
    domain_story(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn domains_are_requested_and_set_up_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else {
        eprintln!("skipped: HOSTWERK_TEST_POSTGRES_URL is not set");
        return;
    };
    domain_story(&app).await;
}

/// A newly ordered contract has no domain: the dashboard says so and offers to add one.
#[tokio::test]
async fn a_new_customer_can_add_a_domain() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let fields = [
        ("tariff", "shared-s"),
        ("billing_months", "1"),
        ("name", "Nora Neu"),
        ("email", "nora@example.net"),
        ("street", "Weg 1"),
        ("postal_code", "10115"),
        ("city", "Berlin"),
        ("country", "DE"),
        ("password", "Kartoffelsalat-mit-Gurke"),
        ("phone_password", "Kaiserschmarrn-mit-Zwetschgen"),
    ];
    assert_eq!(support::order_and_confirm(&app, &b, &fields).await.status(), StatusCode::SEE_OTHER);
    let (_, dash) = b.get_text("/menu").await;
    assert!(texts(&dash, "#domains-h + p.empty")[0].contains("Fügen Sie unten eine hinzu"), "{dash}");
    let action = attrs(&dash, "#add-domain", "action");
    assert_eq!(action, vec!["/menu/domains"]);
    let contract = attrs(&dash, "#add-domain input[name=contract_id]", "value").remove(0);
    let r = b.submit("/menu", "/menu/domains", &[("contract_id", &contract), ("domain", "nora-neu.de")]).await;
    assert_eq!(location(&r), "/menu?done=domain_requested");
}
