//! The application's own error pages over real HTTP (issue 16, item 11): unknown URLs, values that do not
//! parse and wrong methods answer a page of this site in the reader's language with a way back; a form with
//! an expired CSRF token comes back with its text and a fresh token; a form sent after the session ended is
//! carried through the login and sent afterwards; a page that needed a login is shown after it.

#![allow(clippy::unwrap_used)]

use crate::support;

use reqwest::StatusCode;
use support::{attrs, location, texts, Browser, TestApp};

const TEXT: &str = "Erste Zeile\nZweite Zeile mit <b>Markup</b> & Umlauten: äöü";

/// Posts `fields` to `action` the way a page of this site does (the browser marks it same-origin).
async fn post_from_page(b: &Browser, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    b.client
        .post(format!("{}{action}", b.base))
        .header("Sec-Fetch-Site", "same-origin")
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The hidden fields of the form `form` on a page, as a browser would send them.
fn form_of(html: &str, form: &str) -> Vec<(String, String)> {
    let names = attrs(html, &format!("{form} input[type=hidden]"), "name");
    let values = attrs(html, &format!("{form} input[type=hidden]"), "value");
    names.into_iter().zip(values).collect()
}

#[tokio::test]
async fn unknown_and_malformed_urls_get_our_page_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let de = app.browser();
    let r = de.get("/gibt-es-nicht").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#error-heading"), vec!["Seite nicht gefunden"]);
    assert_eq!(attrs(&page, "#error-back", "href"), vec!["/"]);
    assert_eq!(attrs(&page, "html", "lang"), vec!["de"]);

    let en = app.browser_en();
    let page = en.get_text("/no-such-page").await.1;
    assert_eq!(texts(&page, "#error-heading"), vec!["Page not found"]);
    assert_eq!(attrs(&page, "html", "lang"), vec!["en"]);

    // signed in: a value in the path that does not parse, an unknown contract, a wrong method
    de.login("K1000001", "demo-password-1").await;
    for (path, status) in [
        ("/menu/contracts/abc", StatusCode::BAD_REQUEST),
        ("/menu/contracts/999999", StatusCode::NOT_FOUND),
        ("/menu/mailboxes/1/delete", StatusCode::METHOD_NOT_ALLOWED),
        ("/menu/nichts", StatusCode::NOT_FOUND),
    ] {
        let r = de.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        let page = r.text().await.unwrap();
        assert_eq!(texts(&page, "#error-message").len(), 1, "{path}: {page}");
        assert_eq!(attrs(&page, "#error-back", "href"), vec!["/menu"], "{path}");
    }
    // the API keeps answering JSON
    let r = app.api().get(app.url("/api/v1/me/nothing")).send().await.unwrap();
    assert!(!r.headers().get("content-type").is_some_and(|v| v.to_str().unwrap().starts_with("text/html")));
}

#[tokio::test]
async fn an_expired_form_comes_back_with_its_text() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.login("K1000001", "demo-password-1").await;
    b.get("/menu/service").await;
    let fields = [
        ("csrf", "0000000000000000000000000000000000000000000000000000000000000000"),
        ("channel", "support"),
        ("category", "contract"),
        ("subject", "Frage zum Vertrag"),
        ("text", TEXT),
    ];
    let r = post_from_page(&b, "/menu/service", &fields).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#error-heading"), vec!["Formular abgelaufen"]);
    assert!(texts(&page, ".resend-value").iter().any(|v| v.contains("Zweite Zeile mit <b>Markup</b>")), "{page}");
    assert_eq!(attrs(&page, "#resend-form", "action"), vec!["/menu/service"]);
    let resend = form_of(&page, "#resend-form");
    assert!(resend.iter().any(|(k, v)| k == "text" && v == TEXT), "{resend:?}");
    assert!(resend.iter().any(|(k, v)| k == "csrf" && v.len() == 64 && !v.starts_with("0000")), "a fresh token");
    // sending it again opens the case with the text as written
    let r =
        post_from_page(&b, "/menu/service", &resend.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
            .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    let case = location(&r);
    assert!(case.starts_with("/menu/service/"), "{case}");
}

#[tokio::test]
async fn a_form_sent_after_logout_is_sent_after_logging_in_again() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    b.login("K1000001", "demo-password-1").await;
    let (_, list) = b.get_text("/menu/service").await;
    let token = support::csrf_of(&list);
    // the session ends in another tab
    b.submit("/menu", "/logout", &[]).await;
    let fields = [
        ("csrf", token.as_str()),
        ("channel", "support"),
        ("category", "contract"),
        ("subject", "Nach dem Abmelden"),
        ("text", TEXT),
    ];
    let r = post_from_page(&b, "/menu/service", &fields).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#session-ended").len(), 1, "the login page says why: {page}");
    let login_form = form_of(&page, "form[action='/login']");
    assert!(login_form.iter().any(|(k, v)| k == "next" && v == "/menu/service"), "{login_form:?}");
    assert!(login_form.iter().any(|(k, v)| k == "resume_form" && v.contains("Zweite")), "{login_form:?}");
    // a wrong password keeps the form along
    let mut wrong: Vec<(String, String)> = login_form.clone();
    wrong.push(("login".into(), "K1000001".into()));
    wrong.push(("password".into(), "falsch-falsch-falsch".into()));
    let r =
        post_from_page(&b, "/login", &wrong.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let page = r.text().await.unwrap();
    let login_form = form_of(&page, "form[action='/login']");
    assert!(login_form.iter().any(|(k, v)| k == "resume_form" && v.contains("Zweite")), "{login_form:?}");
    let mut right = login_form.clone();
    right.push(("login".into(), "K1000001".into()));
    right.push(("password".into(), "demo-password-1".into()));
    let r =
        post_from_page(&b, "/login", &right.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert_eq!(texts(&page, "#resume-heading").len(), 1, "{page}");
    let resend = form_of(&page, "#resend-form");
    let r =
        post_from_page(&b, "/menu/service", &resend.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>())
            .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&r).trim_start_matches("/menu/service/").split('?').next().unwrap().parse().unwrap();
    let (_, case) = b.get_text(&format!("/menu/service/{id}")).await;
    assert!(case.contains("Nach dem Abmelden"), "{case}");
}

#[tokio::test]
async fn a_page_that_needed_a_login_is_shown_after_it() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    let r = b.get("/menu/server?x=1").await;
    assert_eq!(location(&r), "/login?next=%2Fmenu%2Fserver%3Fx%3D1");
    let (_, page) = b.get_text(&location(&r)).await;
    assert_eq!(texts(&page, "#session-ended").len(), 1);
    let r = b
        .submit(
            &location(&r),
            "/login",
            &[("login", "K1000001"), ("password", "demo-password-1"), ("next", "/menu/server?x=1")],
        )
        .await;
    assert_eq!(location(&r), "/menu/server?x=1");
    // never another site
    for next in ["//evil.example/", "/\\evil.example", "https://evil.example/menu", "/menu\t/x", "/staff"] {
        let b = app.browser();
        let r = b
            .submit("/login", "/login", &[("login", "K1000001"), ("password", "demo-password-1"), ("next", next)])
            .await;
        assert_eq!(location(&r), "/menu", "{next:?}");
    }
    // staff the same
    let s = app.browser();
    let r = s.get("/staff/admin/nodes").await;
    assert_eq!(location(&r), "/staff/login?next=%2Fstaff%2Fadmin%2Fnodes");
    let r = s
        .submit(
            "/staff/login",
            "/staff/login",
            &[("login", "admin"), ("password", "demo-admin-1"), ("next", "/staff/admin/nodes")],
        )
        .await;
    // the admin's second factor first; `next` waits with the pending login
    assert_eq!(location(&r), "/staff/login/second-factor");
    let r = s.staff_second_factor("admin").await;
    assert_eq!(location(&r), "/staff/admin/nodes");
}

/// Issue 17, item 4 (part): the language switch's `back` accepts only same-site paths (the reported
/// `/%09/evil.example` and other bypass forms go to `/`), and every answer carries the security headers.
#[tokio::test]
async fn the_language_switch_never_leads_off_site_and_headers_are_set() {
    let app = TestApp::spawn().await;
    let b = app.browser();
    for back in [
        "/%09/evil.example",
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%252F/evil.example",
        "https://evil.example/",
        "/\n/evil.example",
    ] {
        let r = b.client.get(app.url("/lang/en")).query(&[("back", back)]).send().await.unwrap();
        assert_eq!(location(&r), "/", "{back:?}");
    }
    let r = b.client.get(app.url("/lang/en")).query(&[("back", "/blog?x=1")]).send().await.unwrap();
    assert_eq!(location(&r), "/blog?x=1");
    for path in ["/", "/login", "/gibt-es-nicht", "/api/v1/tariffs", "/static/app.css"] {
        let r = b.get(path).await;
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    }
    let https = TestApp::spawn_with(|c| c.public_url = "https://panel.hostwerk.example".into()).await;
    let r = https.browser().get("/").await;
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
}
