//! Transactions that read before they write, running while other connections write, on SQLite and on PostgreSQL.
//!
//! On SQLite a transaction that starts as a reader and then writes cannot wait for the write lock once another
//! connection has committed since its read began: SQLite answers "database is locked" at once, whatever the busy
//! timeout. Write transactions therefore take the write lock when they begin; this test fails without that.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use hostwerk_domain::backup_job::BackupJobKind;
use hostwerk_store::testing::seeded_customer;
use hostwerk_store::{NewBackupJob, Store};

const TASKS: usize = 8;
const ROUNDS: usize = 40;

async fn read_then_write_under_load(store: Store) {
    let (carla, _, node) = seeded_customer(&store, "shared-s", "carla@example.de").await;
    let contract_id = store.contracts(carla.id).await.unwrap()[0].id;

    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for round in 0..ROUNDS {
                // Half the tasks queue jobs (a read, then an insert, in one transaction); the others write
                // single statements, as agents reporting in do.
                let result = if task % 2 == 0 {
                    store
                        .insert_backup_job(&NewBackupJob {
                            customer_id: carla.id,
                            contract_id,
                            kind: BackupJobKind::OnDemand,
                            params: "{}",
                            requested_by_kind: "customer",
                            requested_by_name: "K1000001",
                            estimate_seconds: 60,
                            now: 1_773_000_000 + i64::try_from(round).unwrap(),
                        })
                        .await
                        .map(|_| ())
                } else {
                    store.touch_agent(node.id, 1_773_000_000 + i64::try_from(task * ROUNDS + round).unwrap()).await
                };
                if let Err(e) = result {
                    failures.push(format!("task {task} round {round}: {e}"));
                }
            }
            failures
        }));
    }
    let mut failures = Vec::new();
    for t in tasks {
        failures.extend(t.await.unwrap());
    }
    assert!(failures.is_empty(), "{} of {} writes failed: {failures:#?}", failures.len(), TASKS * ROUNDS);
    let queued = store.open_backup_jobs().await.unwrap().len();
    assert_eq!(queued, TASKS.div_ceil(2) * ROUNDS, "every job was queued once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_then_write_under_load_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
    read_then_write_under_load(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_then_write_under_load_on_postgres() {
    let Some(admin) = hostwerk_store::testing::postgres_url("read_then_write_under_load_on_postgres") else {
        return;
    };
    let url = hostwerk_store::testing::fresh_postgres_database(&admin).await.unwrap();
    read_then_write_under_load(Store::connect(&url).await.unwrap()).await;
}
