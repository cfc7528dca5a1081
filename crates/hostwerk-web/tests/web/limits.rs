//! Process limits over real HTTP: the customer's setting where the tariff allows it (with history, audit and
//! clear messages), the agent API with node tokens (limits of its node only, kill reports), and the kill log
//! the customer sees — on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

use crate::support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{attrs, ids_of, texts, TestApp};

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.api().request(method, app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn contract_id(app: &TestApp, token: &str) -> i64 {
    let (_, list) = send(app, reqwest::Method::GET, token, "/api/v1/me/contracts", None).await;
    list[0]["id"].as_i64().unwrap()
}

async fn node_token(app: &TestApp, name: &str) -> String {
    let node = app.store.node_by_name(&hostwerk_domain::NodeName::parse(name).unwrap()).await.unwrap();
    app.store.issue_node_token(node.id).await.unwrap()
}

async fn limits_story(app: &TestApp) {
    use reqwest::Method;
    let shared = app.token(false, "K1000001", "demo-password-1").await;
    let managed = app.token(false, "K1000002", "demo-password-2").await;
    let shared_contract = contract_id(app, &shared).await;
    let managed_contract = contract_id(app, &managed).await;
    let path = |id: i64| format!("/api/v1/me/contracts/{id}/process-limit");

    // SharedHosting: fixed at 180 s
    let (status, body) = send(app, Method::GET, &shared, &path(shared_contract), None).await;
    assert_eq!(
        (status, body["limit"].as_str(), body["adjustable"].as_bool()),
        (StatusCode::OK, Some("180"), Some(false))
    );
    let (status, _) = send(app, Method::PUT, &shared, &path(shared_contract), Some(json!({"limit": "off"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // another customer's contract is not found
    assert_eq!(
        send(app, Method::PUT, &shared, &path(managed_contract), Some(json!({"limit": "off"}))).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(app, Method::GET, &shared, &format!("/api/v1/me/contracts/{managed_contract}/process-kills"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // ManagedServer: 3600, then off; out of range and garbage refused with the message
    let (status, body) =
        send(app, Method::PUT, &managed, &path(managed_contract), Some(json!({"limit": "3600"}))).await;
    assert_eq!((status, body["limit"].as_str()), (StatusCode::OK, Some("3600")), "{body}");
    let (status, body) = send(app, Method::PUT, &managed, &path(managed_contract), Some(json!({"limit": "off"}))).await;
    assert_eq!((status, body["limit"].as_str()), (StatusCode::OK, Some("off")));
    assert_eq!(body["changes"].as_array().unwrap().len(), 2);
    assert_eq!(
        (body["changes"][0]["old_limit"].as_str(), body["changes"][0]["new_limit"].as_str()),
        (Some("3600"), Some("off"))
    );
    for bad in ["179", "43201", "abc", "", "-5", "99999999999999999999"] {
        let (status, body) =
            send(app, Method::PUT, &managed, &path(managed_contract), Some(json!({"limit": bad}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
    }
    let (_, body) = send(app, Method::PUT, &managed, &path(managed_contract), Some(json!({"limit": "179"}))).await;
    assert_eq!(body["error"], "the limit must be between 180 and 43200 seconds");
    let audits: Vec<_> = app
        .store
        .audit_log(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "contract.process_limit_changed")
        .collect();
    assert_eq!(audits.len(), 2);
    assert_eq!(audits[0].detail, "3600 -> off");

    // the agent of web002 sees K1000002's user (off), not web001's K1000001
    let web002 = node_token(app, "web002").await;
    let (status, limits) = send(app, Method::GET, &web002, "/api/v1/agent/limits", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(limits["node"], "web002");
    let users = limits["users"].as_array().unwrap();
    assert!(users.iter().any(|u| u["system_user"] == "k1000002c1" && u["limit"] == "off"), "{limits}");
    assert!(!users.iter().any(|u| u["system_user"] == "k1000001c1"));
    assert!(limits["poll_seconds"].as_u64().unwrap() <= 10);
    // bad tokens: garbage, a customer's, a staff member's, a rotated one
    for token in ["nonsense", shared.as_str(), &app.token(true, "admin", "demo-admin-1").await] {
        assert_eq!(send(app, Method::GET, token, "/api/v1/agent/limits", None).await.0, StatusCode::UNAUTHORIZED);
    }
    let web001_old = node_token(app, "web001").await;
    let web001 = node_token(app, "web001").await;
    assert_eq!(send(app, Method::GET, &web001_old, "/api/v1/agent/limits", None).await.0, StatusCode::UNAUTHORIZED);
    // a backup server gets no agent token
    let backup = app.store.node_by_name(&hostwerk_domain::NodeName::parse("backup01").unwrap()).await.unwrap();
    assert!(app.store.issue_node_token(backup.id).await.is_err());

    // kill reports: recorded for the node's own users only
    let report = |user: &str, pid: u32, signal: &str| json!({"time": 1_790_000_000u64, "uid": 1001, "user": user, "pid": pid, "comm": "php (cli)", "runtime_seconds": 181, "signal": signal});
    let (status, body) = send(
        app,
        Method::POST,
        &web001,
        "/api/v1/agent/kills",
        Some(json!({"kills": [report("k1000001c1", 4242, "TERM"), report("k1000002c1", 4343, "KILL")]})),
    )
    .await;
    assert_eq!(
        (status, body["recorded"].as_u64()),
        (StatusCode::ACCEPTED, Some(1)),
        "web001 may not report web002's user"
    );
    let (status, _) = send(
        app,
        Method::POST,
        &web001,
        "/api/v1/agent/kills",
        Some(json!({"kills": [report("k1000001c1", 1, "HUP")]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = send(app, Method::POST, &web001, "/api/v1/agent/kills", Some(json!({"kills": "nope"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, kills) =
        send(app, Method::GET, &shared, &format!("/api/v1/me/contracts/{shared_contract}/process-kills"), None).await;
    assert_eq!(
        (kills["kills"][0]["pid"].as_i64(), kills["kills"][0]["comm"].as_str()),
        (Some(4242), Some("php (cli)"))
    );
    let (_, kills) =
        send(app, Method::GET, &managed, &format!("/api/v1/me/contracts/{managed_contract}/process-kills"), None).await;
    assert_eq!(kills["kills"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn process_limits_on_sqlite() {
    limits_story(&TestApp::spawn().await).await;
}

#[tokio::test]
async fn process_limits_on_postgres() {
    let Some(app) = TestApp::spawn_postgres().await else {
        eprintln!("skipped: HOSTWERK_TEST_POSTGRES_URL is not set");
        return;
    };
    limits_story(&app).await;
}

#[tokio::test]
async fn the_server_configuration_page() {
    let app = TestApp::spawn().await;
    // SharedHosting: the fixed limit, no form
    let erika = app.browser();
    erika.login("K1000001", "demo-password-1").await;
    let (_, page) = erika.get_text("/menu/server").await;
    assert_eq!(texts(&page, ".fixed-limit").len(), 1);
    assert!(texts(&page, ".limit-form").is_empty());
    assert!(texts(&page, ".current-limit")[0].contains("180"));
    let id =
        app.store.contracts(app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap().id).await.unwrap()
            [0]
        .id;
    let r = erika.submit("/menu/server", &format!("/menu/server/{id}/limit"), &[("mode", "off")]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // the kill log on the page: what an agent of the contract's node reported
    let web001 = app.store.node_by_name(&hostwerk_domain::NodeName::parse("web001").unwrap()).await.unwrap();
    let kill = hostwerk_store::NewProcessKill {
        system_user: "k1000001c1",
        pid: 31337,
        comm: "php-cgi",
        runtime_seconds: 183,
        signal: "TERM",
        at: chrono::Utc::now().timestamp(),
    };
    assert_eq!(app.store.record_process_kills(web001.id, &[kill]).await.unwrap(), 1);
    let (_, page) = erika.get_text("/menu/server").await;
    let row = texts(&page, "table.kills tbody tr").remove(0);
    assert!(row.contains("php-cgi") && row.contains("31337") && row.contains("183 s") && row.contains("TERM"), "{row}");

    // ManagedServer: set 3600, then off; a value out of range shows the clear message
    let max = app.browser();
    max.login("K1000002", "demo-password-2").await;
    let id =
        app.store.contracts(app.store.customer_by_number("K1000002".parse().unwrap()).await.unwrap().id).await.unwrap()
            [0]
        .id;
    let action = format!("/menu/server/{id}/limit");
    let r = max.submit("/menu/server", &action, &[("mode", "on"), ("seconds", "3600")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = max.get_text("/menu/server").await;
    assert!(texts(&page, ".current-limit")[0].contains("3600"));
    let r = max.submit("/menu/server", &action, &[("mode", "on"), ("seconds", "50000")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#limit-error"), vec!["Die Grenze muss zwischen 180 und 43200 Sekunden liegen."]);
    let r = max.submit("/menu/server", &action, &[("mode", "off"), ("seconds", "")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = max.get_text("/menu/server").await;
    assert!(texts(&page, ".current-limit")[0].contains("abgeschaltet"));
    assert_eq!(texts(&page, ".limit-history li").len(), 2);

    // admin issues an agent token on the nodes page (shown once); support may not
    let admin = app.browser();
    admin.staff_login("admin", "demo-admin-1").await;
    let web001 = app.store.node_by_name(&hostwerk_domain::NodeName::parse("web001").unwrap()).await.unwrap();
    let r = admin.submit("/staff/admin/nodes", &format!("/staff/admin/nodes/{}/token", web001.id), &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let token = texts(&page, "#agent-token code").remove(0);
    assert_eq!(app.store.node_by_token(&token).await.unwrap().name.as_str(), "web001");
    let support = app.browser();
    support.staff_login("support", "demo-support-1").await;
    let r = support.submit("/staff", &format!("/staff/admin/nodes/{}/token", web001.id), &[]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// A form that comes back after an error keeps what was entered: the chosen mode as well as the number, so
/// correcting the number and saving sets the limit (issue 16, item 1).
#[tokio::test]
async fn a_rejected_limit_keeps_the_chosen_mode() {
    let app = TestApp::spawn().await;
    let max = app.browser();
    max.login("K1000002", "demo-password-2").await;
    let (id, _, _) = ids_of(&app, "K1000002").await;
    let action = format!("/menu/server/{id}/limit");
    assert_eq!(
        max.submit("/menu/server", &action, &[("mode", "off"), ("seconds", "")]).await.status(),
        StatusCode::SEE_OTHER
    );
    let r = max.submit("/menu/server", &action, &[("mode", "on"), ("seconds", "100")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert_eq!(attrs(&page, &format!("#contract-{id} input[name=mode][checked]"), "value"), vec!["on"]);
    assert_eq!(attrs(&page, &format!("#seconds-{id}"), "value"), vec!["100"]);
    // the form as the page now shows it, with the number corrected
    let mode = attrs(&page, &format!("#contract-{id} input[name=mode][checked]"), "value").remove(0);
    let r = max.submit("/menu/server", &action, &[("mode", &mode), ("seconds", "3600")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = max.get_text("/menu/server").await;
    assert!(texts(&page, ".current-limit")[0].contains("3600"), "{:?}", texts(&page, ".current-limit"));
    let history = texts(&page, ".limit-history li");
    assert!(history.iter().any(|h| h.contains("off → 3600")), "{history:?}");
    // a rejected "off"-to-number change with the contract on a limit keeps "off" when "off" was chosen
    let r = max.submit("/menu/server", &action, &[("mode", "off"), ("seconds", "abc")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "off ignores the number field");
}
