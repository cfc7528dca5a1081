//! The dashboard's data versions: every change to what a customer's dashboard lists moves them (through the
//! database's triggers), and nothing else does. On SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)]

use hostwerk_domain::{DomainName, EmailAddress, Language, NodeName, NodeRole};
use hostwerk_store::testing::{sample_customer, seeded_customer};
use hostwerk_store::{CustomerId, DataVersion, Store, Subject};

/// The versions as the session lookup (the dashboard's own read) sees them.
async fn seen(store: &Store, session: &str) -> DataVersion {
    store.customer_by_session(session).await.unwrap().data_version
}

async fn versions_move_with_the_data(store: Store) {
    let (dora, contract, node) = seeded_customer(&store, "shared-m", "dora@example.de").await;
    let emil = store.create_customer(&sample_customer("emil@example.de"), &contract).await.unwrap();
    let tariff = contract.tariff.clone();
    let session = store.create_session(Subject::Customer(dora.id), 3600).await.unwrap();
    let emil_session = store.create_session(Subject::Customer(emil.id), 3600).await.unwrap();
    let contract_id = store.contracts(dora.id).await.unwrap()[0].id;

    // Every read of the customer carries the same versions.
    let mut last = seen(&store, &session).await;
    assert_eq!(store.customer(dora.id).await.unwrap().data_version, last);
    assert_eq!(store.customer_by_number(dora.number).await.unwrap().data_version, last);

    // A change of the customer's own rows moves `own` (and only that); each step is checked against the last.
    let mut step = |now: DataVersion, what: &str, own_moved: bool, shared_moved: bool| {
        assert_eq!(now.own != last.own, own_moved, "{what}: own version {} -> {}", last.own, now.own);
        assert_eq!(now.shared != last.shared, shared_moved, "{what}: shared version {} -> {}", last.shared, now.shared);
        last = now;
    };
    let domain = store.add_domain(dora.id, contract_id, &DomainName::parse("dora.de").unwrap(), "AUTH").await.unwrap();
    step(seen(&store, &session).await, "a domain added", true, false);
    let mailbox =
        store.add_mailbox(dora.id, domain.id, &hostwerk_domain::MailboxName::parse("info").unwrap()).await.unwrap();
    step(seen(&store, &session).await, "a mailbox added", true, false);
    store.delete_mailbox(dora.id, mailbox.id).await.unwrap();
    step(seen(&store, &session).await, "a mailbox deleted", true, false);
    store.add_contract(dora.id, &contract).await.unwrap();
    step(seen(&store, &session).await, "a contract added", true, false);
    let actor = hostwerk_store::Actor { kind: "customer", id: Some(dora.id.0), name: dora.number.to_string() };
    store
        .set_process_limit(dora.id, contract_id, hostwerk_domain::ProcessLimit::parse("600").unwrap(), &actor)
        .await
        .unwrap_or_else(|e| panic!("process limit: {e}"));
    step(seen(&store, &session).await, "a contract changed", true, false);

    // What all customers share moves `shared`.
    let advisory = store.create_advisory("OpenSSL", "Update now.", "high", &[], None).await.unwrap();
    step(seen(&store, &session).await, "an advisory published", false, true);
    store.dismiss_advisory(dora.id, advisory).await.unwrap();
    step(seen(&store, &session).await, "an advisory dismissed", true, false);
    let mut renamed = tariff.clone();
    renamed.name = "SharedHosting M (2026)".into();
    store.update_tariff(&renamed).await.unwrap();
    step(seen(&store, &session).await, "a tariff renamed", false, true);
    store
        .create_node(
            &NodeName::parse("web002").unwrap(),
            NodeRole::Webserver,
            &hostwerk_domain::NodeAddress::parse("10.0.0.2").unwrap(),
        )
        .await
        .unwrap();
    step(seen(&store, &session).await, "a node added", false, true);

    // Writes the dashboard does not show move nothing: an agent reporting in, a login, another customer's domain,
    // the customer's own profile (the dashboard compares the customer's fields itself).
    store.touch_agent(node.id, 1_773_000_000).await.unwrap();
    store.customer_login_succeeded(dora.id).await.unwrap();
    store
        .update_customer_profile(dora.id, &EmailAddress::parse("dora@example.org").unwrap(), Language::En)
        .await
        .unwrap();
    let emil_before = seen(&store, &emil_session).await;
    let emil_contract = store.contracts(emil.id).await.unwrap()[0].id;
    store.add_domain(emil.id, emil_contract, &DomainName::parse("emil.de").unwrap(), "AUTH").await.unwrap();
    step(seen(&store, &session).await, "writes the dashboard does not show", false, false);
    let emil_after = seen(&store, &emil_session).await;
    assert_ne!(emil_after.own, emil_before.own, "emil's own version moved with his domain");
    assert_eq!(store.customer(CustomerId(emil.id.0)).await.unwrap().data_version, emil_after);
}

#[tokio::test]
async fn versions_move_with_the_data_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
    versions_move_with_the_data(store).await;
}

#[tokio::test]
async fn versions_move_with_the_data_on_postgres() {
    let Some(admin) = hostwerk_store::testing::postgres_url("versions_move_with_the_data_on_postgres") else {
        return;
    };
    let url = hostwerk_store::testing::fresh_postgres_database(&admin).await.unwrap();
    versions_move_with_the_data(Store::connect(&url).await.unwrap()).await;
}
