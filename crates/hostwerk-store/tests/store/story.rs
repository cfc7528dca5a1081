//! The storage story (create customer, order, log in, list, change, delete) on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use hostwerk_domain::{
    BillingPeriod, CustomerName, DomainName, EmailAddress, Language, NodeName, NodeRole, PostalAddress, StaffLogin,
    StaffRole, TariffCatalog, TariffId,
};
use hostwerk_store::{NewContract, NewCustomer, Store, StoreError, Subject};

async fn story(store: Store) {
    let catalog = TariffCatalog::demo();
    assert_eq!(store.seed_tariffs(&catalog).await.unwrap(), catalog.tariffs.len());
    assert_eq!(store.seed_tariffs(&catalog).await.unwrap(), 0, "seeding is idempotent");
    store
        .create_node(
            &NodeName::parse("web001").unwrap(),
            NodeRole::Webserver,
            &hostwerk_domain::NodeAddress::parse("10.0.0.1").unwrap(),
        )
        .await
        .unwrap();

    let tariff = store.tariff(&TariffId::parse("shared-m").unwrap()).await.unwrap();
    let contract = NewContract {
        tariff: tariff.clone(),
        period: BillingPeriod::Yearly,
        start: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
        webspace_root: "/var/www".into(),
    };
    let new = |email: &str| NewCustomer {
        name: CustomerName::parse("Anna Beispiel").unwrap(),
        email: EmailAddress::parse(email).unwrap(),
        address: PostalAddress::parse("Hauptstr. 1", "10115", "Berlin", "DE").unwrap(),
        language: Language::De,
        password_hash: "hash-a".into(),
        phone_password_hash: "hash-p".into(),
    };
    let anna = store.create_customer(&new("anna@example.de"), &contract).await.unwrap();
    let bert = store.create_customer(&new("bert@example.de"), &contract).await.unwrap();
    assert_eq!(anna.number.to_string(), "K1000001");
    assert_eq!(bert.number.to_string(), "K1000002");
    let dup = store.create_customer(&new("ANNA@example.de"), &contract).await;
    assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");

    // log in by number or e-mail
    let creds = store.customer_credentials("k1000001").await.unwrap();
    assert_eq!(creds.id, anna.id);
    assert_eq!(store.customer_credentials("Anna@Example.de").await.unwrap().id, anna.id);
    assert!(matches!(store.customer_credentials("nobody@example.de").await, Err(StoreError::NotFound)));
    store.customer_login_failed(anna.id, 42).await.unwrap();
    assert_eq!(store.customer_credentials("K1000001").await.unwrap().failed_logins, 1);
    store.customer_login_succeeded(anna.id).await.unwrap();

    let session = store.create_session(Subject::Customer(anna.id), 3600).await.unwrap();
    assert_eq!(store.session(&session).await.unwrap().subject, Subject::Customer(anna.id));
    assert_eq!(store.customer_by_session(&session).await.unwrap().id, anna.id);
    assert!(matches!(store.customer_by_session("not-a-session").await, Err(StoreError::NotFound)));
    assert!(matches!(store.customer_by_api_token(&session).await, Err(StoreError::NotFound)), "tables are apart");
    let expired = store.create_session(Subject::Customer(anna.id), -1).await.unwrap();
    assert!(matches!(store.customer_by_session(&expired).await, Err(StoreError::NotFound)));
    let api = store.create_api_token(Subject::Customer(bert.id), 3600).await.unwrap();
    assert_eq!(store.customer_by_api_token(&api).await.unwrap().id, bert.id);
    store.revoke_api_token(&api).await.unwrap();
    assert!(matches!(store.customer_by_api_token(&api).await, Err(StoreError::NotFound)), "revoked at once");

    // list
    let contracts = store.contracts(anna.id).await.unwrap();
    assert_eq!(contracts.len(), 1);
    let c = &contracts[0];
    assert_eq!(c.tariff_name, "SharedHosting M");
    assert_eq!(c.prepaid_until, NaiveDate::from_ymd_opt(2027, 1, 30).unwrap());
    assert_eq!(c.system_user.as_str(), "k1000001c1");
    assert_eq!(c.node.as_deref(), Some("web001"));
    assert_eq!(c.period_price().get(), 899 * 12);
    let domain = store.add_domain(anna.id, c.id, &DomainName::parse("anna.de").unwrap(), "AUTH-1").await.unwrap();
    let mailbox =
        store.add_mailbox(anna.id, domain.id, &hostwerk_domain::MailboxName::parse("info").unwrap()).await.unwrap();
    assert_eq!(mailbox.address.as_str(), "info@anna.de");
    store.add_domain(anna.id, c.id, &DomainName::parse("aaa-anna.de").unwrap(), "AUTH-2").await.unwrap();
    store.add_mailbox(anna.id, domain.id, &hostwerk_domain::MailboxName::parse("abuse").unwrap()).await.unwrap();
    // the dashboard's overview: the same rows as the single lists, in the same order, seen at once
    let overview = store.overview(anna.id).await.unwrap();
    assert_eq!(overview.contracts.len(), 1);
    assert_eq!(overview.contracts[0].id, c.id);
    let names: Vec<_> = overview.domains.iter().map(|d| d.name.to_string()).collect();
    assert_eq!(names, ["aaa-anna.de", "anna.de"]);
    let list: Vec<_> = store.domains(anna.id).await.unwrap().iter().map(|d| d.name.to_string()).collect();
    assert_eq!(names, list);
    let addresses: Vec<_> = overview.mailboxes.iter().map(|m| m.address.as_str().to_owned()).collect();
    assert_eq!(addresses, ["abuse@anna.de", "info@anna.de"]);
    assert!(store.overview(bert.id).await.unwrap().domains.is_empty(), "scoped to the customer");
    assert!(matches!(
        store.add_mailbox(anna.id, domain.id, &hostwerk_domain::MailboxName::parse("info").unwrap()).await,
        Err(StoreError::Conflict(_))
    ));

    // scoping: Bert reaches none of Anna's rows
    assert!(matches!(store.contract(bert.id, c.id).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.add_mailbox(bert.id, domain.id, &hostwerk_domain::MailboxName::parse("evil").unwrap()).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(store.delete_mailbox(bert.id, mailbox.id).await, Err(StoreError::NotFound)));
    assert!(matches!(
        store.add_domain(bert.id, c.id, &DomainName::parse("bert.de").unwrap(), "x").await,
        Err(StoreError::NotFound)
    ));
    assert!(store.domains(bert.id).await.unwrap().is_empty());

    // change
    store.update_customer_profile(anna.id, &EmailAddress::parse("anna@neu.de").unwrap(), Language::En).await.unwrap();
    let anna2 = store.customer(anna.id).await.unwrap();
    assert_eq!((anna2.email.as_str(), anna2.language), ("anna@neu.de", Language::En));
    assert!(matches!(
        store.update_customer_profile(bert.id, &EmailAddress::parse("anna@neu.de").unwrap(), Language::De).await,
        Err(StoreError::Conflict(_))
    ));

    // reset token: single use
    let reset = store.create_reset_token(anna.id, 3600).await.unwrap();
    assert_eq!(store.consume_reset_token(&reset).await.unwrap(), anna.id);
    assert!(matches!(store.consume_reset_token(&reset).await, Err(StoreError::NotFound)));
    assert_eq!(store.end_all_sessions(Subject::Customer(anna.id)).await.unwrap(), 2);
    assert!(store.session(&session).await.is_err());
    assert!(matches!(store.customer_by_session(&session).await, Err(StoreError::NotFound)), "ended at once");

    // phone checks: a budget per number (known or not), locked and reset
    let schedule = [0, 0, 600, 1200];
    assert_eq!(store.take_phone_check_attempt("K1000001", &schedule).await.unwrap(), Ok(1));
    assert_eq!(store.take_phone_check_attempt("K1000001", &schedule).await.unwrap(), Ok(2));
    assert_eq!(store.take_phone_check_attempt("K1000001", &schedule).await.unwrap(), Ok(3), "the third locks");
    let Err(until) = store.take_phone_check_attempt("K1000001", &schedule).await.unwrap() else { panic!("locked") };
    assert!((590..=610).contains(&(until - chrono::Utc::now().timestamp())), "{until}");
    store.phone_check_succeeded("K1000001").await.unwrap();
    assert_eq!(store.take_phone_check_attempt("K1000001", &schedule).await.unwrap(), Ok(1));
    assert_eq!(store.take_phone_check_attempt("K9999999", &schedule).await.unwrap(), Ok(1));
    store.lock_phone_checks("K9999999", i64::MAX / 2).await.unwrap();
    assert_eq!(store.take_phone_check_attempt("K9999999", &schedule).await.unwrap(), Err(i64::MAX / 2));
    assert!(store.phone_pin(anna.id).await.unwrap().is_none());
    store.set_phone_pin(anna.id, "pin-hash", 60).await.unwrap();
    store.set_phone_pin(anna.id, "pin-hash-2", 60).await.unwrap();
    assert_eq!(store.phone_pin(anna.id).await.unwrap().unwrap().0, "pin-hash-2");
    assert!(store.delete_phone_pin(anna.id).await.unwrap());
    assert!(!store.delete_phone_pin(anna.id).await.unwrap());

    // delete
    assert_eq!(store.delete_mailbox(anna.id, mailbox.id).await.unwrap(), "info@anna.de");
    assert_eq!(store.mailboxes(anna.id).await.unwrap().len(), 1);
    assert_eq!(store.overview(anna.id).await.unwrap().mailboxes.len(), 1, "the overview sees the delete");
    let node = store.nodes().await.unwrap().remove(0);
    let used = store.node_contract_counts().await.unwrap()[&node.id];
    assert!(matches!(store.delete_node(node.id).await, Err(StoreError::NodeInUse { contracts }) if contracts == used));

    // the staff search (issue 16): folded name part, e-mail, domain; LIKE wildcards are literal
    let folded = hostwerk_store::fold_name("BEISP");
    let email = EmailAddress::parse("ANNA@Neu.de").unwrap();
    let domain = DomainName::parse("anna.de").unwrap();
    let everyone = usize::try_from(store.customer_count().await.unwrap()).unwrap();
    for (search, expected) in [
        (hostwerk_store::CustomerSearch { name_folded: Some(&folded), ..Default::default() }, everyone),
        (hostwerk_store::CustomerSearch { email: Some(&email), ..Default::default() }, 1),
        (hostwerk_store::CustomerSearch { domain: Some(&domain), ..Default::default() }, 1),
    ] {
        let hits = store.search_customers(&search, 10).await.unwrap();
        assert_eq!(hits.len(), expected, "{search:?}");
        assert!(hits.iter().any(|h| h.number == anna.number && h.name == "Anna Beispiel"));
    }
    for pattern in ["%", "_", "\\"] {
        let search = hostwerk_store::CustomerSearch { name_folded: Some(pattern), ..Default::default() };
        assert!(store.search_customers(&search, 10).await.unwrap().is_empty(), "{pattern}");
    }

    // moving contracts: only to a webserver, then the node is empty and can go
    let web002 = store
        .create_node(
            &NodeName::parse("web002").unwrap(),
            NodeRole::Webserver,
            &hostwerk_domain::NodeAddress::parse("web002.example.net").unwrap(),
        )
        .await
        .unwrap();
    let backup = store
        .create_node(
            &NodeName::parse("backup1").unwrap(),
            NodeRole::BackupServer,
            &hostwerk_domain::NodeAddress::parse("10.0.0.9").unwrap(),
        )
        .await
        .unwrap();
    assert!(matches!(store.move_contracts(node.id, backup.id, None).await, Err(StoreError::NotAWebserver)));
    assert!(matches!(store.move_contracts(node.id, web002.id, Some(999_999)).await, Err(StoreError::NotFound)));
    assert_eq!(store.move_contracts(node.id, web002.id, None).await.unwrap(), u64::try_from(used).unwrap());
    assert_eq!(store.node_contract_counts().await.unwrap().get(&node.id), None);
    store.issue_node_token(node.id).await.unwrap();
    assert_eq!(store.delete_node(node.id).await.unwrap(), "web001", "its agent tokens go with it");
    // a node that process records refer to stays, as does a backup server webservers back up to
    let user = store.contracts(anna.id).await.unwrap()[0].system_user.to_string();
    let kill = hostwerk_store::NewProcessKill {
        system_user: &user,
        pid: 42,
        comm: "php",
        runtime_seconds: 400,
        signal: "SIGTERM",
        at: 1_773_000_000,
    };
    assert_eq!(store.record_process_kills(web002.id, &[kill]).await.unwrap(), 1);
    store.move_contracts(web002.id, node_two_id(&store).await, None).await.unwrap();
    assert!(matches!(store.delete_node(web002.id).await, Err(StoreError::NodeHasHistory)));
    store.set_backup_server(web002.id, Some(backup.id)).await.unwrap();
    assert!(matches!(store.delete_node(backup.id).await, Err(StoreError::BackupServerInUse { webservers: 1 })));

    // the last active admin keeps the role
    let hash = "argon2-hash";
    let a = store.create_staff(&StaffLogin::parse("alex").unwrap(), "Alex", StaffRole::Admin, hash).await.unwrap();
    let b = store.create_staff(&StaffLogin::parse("bea").unwrap(), "Bea", StaffRole::Admin, hash).await.unwrap();
    store.set_staff_role(b.id, StaffRole::Support).await.unwrap();
    assert!(matches!(store.set_staff_role(a.id, StaffRole::Management).await, Err(StoreError::LastAdmin)));
    assert_eq!(store.staff(a.id).await.unwrap().role, StaffRole::Admin);
    store.set_staff_role(b.id, StaffRole::Admin).await.unwrap();
    store.set_staff_role(a.id, StaffRole::Management).await.unwrap();
    assert!(matches!(
        store.set_staff_role(hostwerk_store::StaffId(999_999), StaffRole::Support).await,
        Err(StoreError::NotFound)
    ));
}

/// A third webserver, created on first use.
async fn node_two_id(store: &Store) -> i64 {
    let name = NodeName::parse("web003").unwrap();
    match store.node_by_name(&name).await {
        Ok(n) => n.id,
        Err(_) => {
            let address = hostwerk_domain::NodeAddress::parse("10.0.0.3").unwrap();
            store.create_node(&name, NodeRole::Webserver, &address).await.unwrap().id
        }
    }
}

#[tokio::test]
async fn story_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
    story(store.clone()).await;
    // migrations are idempotent across restarts
    store.close().await;
    Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
}

#[tokio::test]
async fn story_on_postgres() {
    let Some(url) = hostwerk_store::testing::postgres_url("story_on_postgres") else { return };
    let db = hostwerk_store::testing::fresh_postgres_database(&url).await.unwrap();
    let store = Store::connect(&db).await.unwrap();
    story(store.clone()).await;
    store.close().await;
    Store::connect(&db).await.unwrap();
}
