//! Test support: a real server on port 0 over a real database, a real SMTP sink, and a browser-like client.

#![allow(dead_code, clippy::unwrap_used)]

pub mod smtp;

use std::net::SocketAddr;

use hostwerk_store::Store;
use hostwerk_web::{AppState, Config};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};

pub struct TestApp {
    pub base: String,
    /// The metrics' own listen address (`serve --metrics-listen`).
    pub metrics_base: String,
    pub store: Store,
    pub smtp: smtp::SmtpSink,
    /// The running app's state (for tests that act as an agent through the use cases).
    pub state: AppState,
    _dir: Option<tempfile::TempDir>,
}

impl TestApp {
    /// A demo-seeded app on a fresh SQLite database.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`Self::spawn`], with the configuration changed by `tweak` (short call contexts, say).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&Store::sqlite_url(dir.path())).await.unwrap();
        Self::start(store, Some(dir), tweak).await
    }

    /// A demo-seeded app on a fresh PostgreSQL database, if `HOSTWERK_TEST_POSTGRES_URL` is set.
    pub async fn spawn_postgres() -> Option<Self> {
        Self::spawn_postgres_with(|_| {}).await
    }

    /// Like [`Self::spawn_postgres`], with the configuration changed by `tweak`.
    pub async fn spawn_postgres_with(tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let url = hostwerk_store::testing::postgres_url("customer_story_on_postgres")?;
        let db = hostwerk_store::testing::fresh_postgres_database(&url).await.unwrap();
        let store = Store::connect(&db).await.unwrap();
        Some(Self::start(store, None, tweak).await)
    }

    async fn start(store: Store, dir: Option<tempfile::TempDir>, tweak: impl FnOnce(&mut Config)) -> Self {
        let smtp = smtp::SmtpSink::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let mut config = Config {
            public_url: format!("http://{addr}"),
            smtp: Some(hostwerk_web::config::SmtpConfig { host: "127.0.0.1".into(), port: smtp.port }),
            ..Config::default()
        };
        tweak(&mut config);
        store.seed_tariffs(&hostwerk_domain::TariffCatalog::demo()).await.unwrap();
        hostwerk_web::demo::seed(&store, &config.webspace_root).await.unwrap();
        let state = AppState::new(store.clone(), config);
        tokio::spawn(hostwerk_web::serve(listener, state.clone(), std::future::pending()));
        let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics_base = format!("http://{}", metrics.local_addr().unwrap());
        tokio::spawn(hostwerk_web::serve_metrics(metrics, state.clone(), std::future::pending()));
        Self { base: format!("http://{addr}"), metrics_base, store, smtp, state, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client that keeps cookies and does not follow redirects (so tests see them).
    pub fn browser(&self) -> Browser {
        let client = Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
        Browser { client, base: self.base.clone() }
    }

    /// Like [`Self::browser`], asking for English pages.
    pub fn browser_en(&self) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("accept-language", reqwest::header::HeaderValue::from_static("en-US,en;q=0.9"));
        let client =
            Client::builder().cookie_store(true).redirect(Policy::none()).default_headers(headers).build().unwrap();
        Browser { client, base: self.base.clone() }
    }

    pub fn api(&self) -> Client {
        Client::builder().redirect(Policy::none()).build().unwrap()
    }

    /// An API token for a customer or staff login (with the code of a demo account's second factor).
    pub async fn token(&self, staff: bool, login: &str, password: &str) -> String {
        let path = if staff { "/api/v1/staff/auth/token" } else { "/api/v1/auth/token" };
        let mut body = serde_json::json!({"login": login, "password": password});
        if let Some(secret) = demo_totp_secret(login).filter(|_| staff) {
            body["code"] = serde_json::Value::from(authenticator_code(&self.base, login, secret).await);
        }
        let r = self.api().post(self.url(path)).json(&body).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "token for {login}");
        let body: serde_json::Value = r.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }
}

/// The TOTP key of a demo account with a second factor (admin, chef).
pub fn demo_totp_secret(login: &str) -> Option<&'static str> {
    hostwerk_web::demo::LOGINS.iter().find(|l| l.login == login).and_then(|l| l.totp_secret)
}

/// The code of `secret` for the time step `step` (Unix time / 30), as an authenticator app computes it.
pub fn totp_code(secret: &str, step: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, "test".into()).unwrap();
    totp.generate(u64::try_from(step * 30).unwrap())
}

pub fn now_step() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(30)
}

/// Like a person with an authenticator app: a code the panel has not seen yet for this account (each code
/// works once), from the steps it accepts (now, or one either side); waits for the next step when those are
/// used up. Remembers the steps used per server and login.
pub async fn authenticator_code(base: &str, login: &str, secret: &str) -> String {
    static USED: std::sync::Mutex<Vec<(String, i64)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{base} {login}");
    loop {
        let now = now_step();
        let step = {
            let mut used = USED.lock().unwrap();
            let last = used.iter().filter(|(k, _)| *k == key).map(|(_, s)| *s).max().unwrap_or(i64::MIN);
            // The current step first: its code stays valid for a step either side, so a slow request (a
            // loaded machine, argon2 first) still arrives in time; the previous step would expire soonest.
            let step = now.max(last.saturating_add(1));
            if step <= now + 1 {
                used.push((key.clone(), step));
                Some(step)
            } else {
                None
            }
        };
        match step {
            Some(step) => return totp_code(secret, step),
            None => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
        }
    }
}

/// A browser signed in as the customer (the login answers with a redirect).
pub async fn customer(app: &TestApp, number: &str, password: &str) -> Browser {
    let b = app.browser();
    assert_eq!(b.login(number, password).await.status(), StatusCode::SEE_OTHER, "{number} signs in");
    b
}

/// A browser signed in as the staff member (the login answers with a redirect).
pub async fn staff(app: &TestApp, login: &str, password: &str) -> Browser {
    let b = app.browser();
    assert_eq!(b.staff_login(login, password).await.status(), StatusCode::SEE_OTHER, "{login} signs in");
    b
}

pub struct Browser {
    pub client: Client,
    pub base: String,
}

/// The value of the first `name="csrf"` field on a page.
pub fn csrf_of(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(r#"input[name="csrf"]"#).unwrap();
    doc.select(&sel).next().and_then(|e| e.value().attr("value")).map(str::to_owned).expect("page has a csrf field")
}

/// The text of the elements matching `selector`.
pub fn texts(html: &str, selector: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).map(|e| e.text().collect::<String>().trim().to_owned()).collect()
}

/// The attribute `attr` of the elements matching `selector`.
pub fn attrs(html: &str, selector: &str, attr: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(selector).unwrap();
    doc.select(&sel).filter_map(|e| e.value().attr(attr).map(str::to_owned)).collect()
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        let s = r.status();
        (s, r.text().await.unwrap())
    }

    /// Loads `page` for its CSRF token, then posts `fields` (plus the token) to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let (_, html) = self.get_text(page).await;
        let token = csrf_of(&html);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf", &token));
        self.client.post(format!("{}{action}", self.base)).form(&form).send().await.unwrap()
    }

    /// Posts without a CSRF token.
    pub async fn post_raw(&self, action: &str, fields: &[(&str, &str)]) -> Response {
        self.client.post(format!("{}{action}", self.base)).form(fields).send().await.unwrap()
    }

    pub async fn login(&self, login: &str, password: &str) -> Response {
        self.submit("/login", "/login", &[("login", login), ("password", password)]).await
    }

    /// Answers the pending second step of a staff login of `login` (a demo account) with its next code.
    pub async fn staff_second_factor(&self, login: &str) -> Response {
        let code = authenticator_code(&self.base, login, demo_totp_secret(login).unwrap()).await;
        self.submit("/staff/login/second-factor", "/staff/login/second-factor", &[("code", &code)]).await
    }

    /// Logs in at the staff console; a demo account's second factor is answered with its next code.
    pub async fn staff_login(&self, login: &str, password: &str) -> Response {
        let r = self.submit("/staff/login", "/staff/login", &[("login", login), ("password", password)]).await;
        match demo_totp_secret(login) {
            Some(secret) if location(&r) == "/staff/login/second-factor" => {
                let code = authenticator_code(&self.base, login, secret).await;
                self.submit("/staff/login/second-factor", "/staff/login/second-factor", &[("code", &code)]).await
            }
            _ => r,
        }
    }
}

/// The first contract, domain and mailbox (0 without one) of the customer `number`.
pub async fn ids_of(app: &TestApp, number: &str) -> (i64, i64, i64) {
    let c = app.store.customer_by_number(number.parse().unwrap()).await.unwrap();
    let contract = app.store.contracts(c.id).await.unwrap()[0].id;
    let domain = app.store.domains(c.id).await.unwrap()[0].id;
    let mailbox = app.store.mailboxes(c.id).await.unwrap().first().map_or(0, |m| m.id);
    (contract, domain, mailbox)
}

pub fn location(r: &Response) -> String {
    r.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned()
}

/// The token of the newest link `…{marker}TOKEN` in the mails to `to` (waits for one).
pub async fn link_token(app: &TestApp, to: &str, marker: &str) -> String {
    let mail = app.smtp.wait_for(to, marker).await;
    let text = smtp::decoded(&mail.data);
    let at = text.rfind(marker).unwrap() + marker.len();
    text[at..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect()
}

/// Orders with `fields` in `b` and opens the link mailed to the address, as the orderer would: returns the
/// answer to the confirmation (a redirect to `/order/done`, the browser signed in as the new customer).
pub async fn order_and_confirm(app: &TestApp, b: &Browser, fields: &[(&str, &str)]) -> Response {
    let r = b.submit("/order", "/order", fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the order is taken");
    assert_eq!(location(&r), "/order/sent");
    let email = fields.iter().find(|(k, _)| *k == "email").map(|(_, v)| *v).unwrap();
    // mail goes to the address as parsed: the domain in lower case
    let (local, domain) = email.rsplit_once('@').unwrap();
    let token = link_token(app, &format!("{local}@{}", domain.to_lowercase()), "/order/confirm?token=").await;
    let page = format!("/order/confirm?token={token}");
    b.submit(&page, "/order/confirm", &[("token", &token)]).await
}
