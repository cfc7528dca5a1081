//! The defects a newcomer's first walk through the demo found (issue 16), over real HTTP: line breaks in
//! service messages, the giveaway's rules on the staff and post pages, the customer-menu password's rules,
//! the demo's mail host names, and the small texts (one notice per page, the reminder form, country codes,
//! blog excerpts, the home page's blog link, the remote-support OS name and the note staff write).

#![allow(clippy::unwrap_used)]

use crate::support;

use chrono::{Duration, Utc};
use chrono_tz::Europe::Berlin;
use hostwerk_web::demo::DEMO_PHONE_PASSWORD;
use reqwest::StatusCode;
use support::{customer, location, staff, texts, Browser, TestApp};

async fn post(b: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
    let r = b.submit(page, action, fields).await;
    let status = r.status();
    let to = location(&r);
    (status, to, r.text().await.unwrap())
}

/// How often `needle` occurs in `html`.
fn count(html: &str, needle: &str) -> usize {
    html.matches(needle).count()
}

/// Berlin local time `secs` from now, as the giveaway form's datetime-local field holds it.
fn berlin_in(secs: i64) -> String {
    (Utc::now() + Duration::seconds(secs)).with_timezone(&Berlin).format("%Y-%m-%dT%H:%M:%S").to_string()
}

#[tokio::test]
async fn service_messages_keep_their_line_breaks_and_stay_escaped() {
    let app = TestApp::spawn().await;
    let erika = customer(&app, "K1000001", "demo-password-1").await;
    let text = "Guten Tag,\nmeine Seite zeigt <b>nichts</b> an.\n\nViele Grüße\nErika";
    let (status, to, _) = post(
        &erika,
        "/menu/service",
        "/menu/service",
        &[("channel", "support"), ("category", "contract"), ("subject", "Seite leer"), ("text", text)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let case: i64 = to.trim_start_matches("/menu/service/").split('?').next().unwrap().parse().unwrap();
    let lines = "<p>Guten Tag,<br>meine Seite zeigt &lt;b&gt;nichts&lt;&#x2f;b&gt; an.</p><p>Viele Grüße<br>Erika</p>";

    // The customer's page: the lines are separated, the text escaped.
    let (_, page) = erika.get_text(&format!("/menu/service/{case}")).await;
    assert!(page.contains(lines), "{page}");
    assert!(!page.contains("<b>nichts</b>"));
    // One notice after the redirect, not two.
    let (_, page) = erika.get_text(&to).await;
    assert_eq!(count(&page, r#"role="status""#), 1, "{page}");

    // Staff see the same lines, and their reply keeps its own.
    let support = staff(&app, "support", "demo-support-1").await;
    let (_, page) = support.get_text(&format!("/staff/cases/{case}")).await;
    assert!(page.contains(lines), "{page}");
    let (status, to, _) = post(
        &support,
        "/staff",
        &format!("/staff/cases/{case}/reply"),
        &[
            ("text", "Hallo Frau Mustermann,\r\nbitte laden Sie neu.\r\n\r\nIhr Support"),
            ("status", "waiting_for_customer"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = support.get_text(&to).await;
    assert_eq!(count(&page, r#"role="status""#), 1, "one notice on the staff case page");
    let (_, page) = erika.get_text(&format!("/menu/service/{case}")).await;
    assert!(page.contains("<p>Hallo Frau Mustermann,<br>bitte laden Sie neu.</p><p>Ihr Support</p>"), "{page}");

    // An error shows once too, and the form is still there.
    let (status, _, page) = post(&erika, "/menu", &format!("/menu/service/{case}/reply"), &[("text", "  ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&page, r#"role="alert""#), 1, "{page}");
}

#[tokio::test]
async fn giveaway_rules_on_the_staff_page_and_the_post() {
    let app = TestApp::spawn_with(|c| c.comments_per_minute = 100).await;
    let chef = staff(&app, "chef", "demo-chef-1").await;
    let (status, to, _) = post(
        &chef,
        "/staff/blog",
        "/staff/blog/posts",
        &[("title", "Tickets zu gewinnen"), ("body", "Kommentiert!"), ("category", "Juhuu"), ("tags", "")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = chef.get_text(&to).await;
    assert_eq!(count(&page, r#"role="status""#), 1, "one notice on the staff blog page");
    let slug = "tickets-zu-gewinnen";
    let create = format!("/staff/blog/{slug}/giveaway");
    let draw = format!("/staff/blog/{slug}/giveaway/draw");

    // "ziehen" without a giveaway: the staff page with a message, not a bare 404.
    let (status, _, page) = post(&chef, "/staff/blog", &draw, &[("beacon", "runde 7")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&page, "#error"), vec!["Dieser Beitrag hat kein Gewinnspiel, das gezogen werden könnte."]);
    assert!(page.contains(r#"id="new-post""#), "the staff blog page");

    // A closing time in the past is refused; the form keeps what was typed.
    let past = berlin_in(-3600);
    let fields = [
        ("prize", "ein Konferenzticket"),
        ("winners", "2"),
        ("closes_at", past.as_str()),
        ("exclusions", "bruder@example.org"),
    ];
    let (status, _, page) = post(&chef, "/staff/blog", &create, &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(texts(&page, "#error"), vec!["Das Ende der Teilnahme muss in der Zukunft liegen."]);
    assert!(page.contains(r#"value="ein Konferenzticket""#) && page.contains(&format!(r#"value="{past}""#)));
    assert!(page.contains(r#"value="2""#) && page.contains(">bruder@example.org</textarea>"), "{page}");
    assert!(app.store.giveaway_of_post(app.store.post_by_slug(slug).await.unwrap().id).await.unwrap().is_none());

    // Open: the post takes entries; the staff page offers the draw, no second giveaway.
    let closes = berlin_in(3);
    let fields =
        [("prize", "ein Konferenzticket"), ("winners", "1"), ("closes_at", closes.as_str()), ("exclusions", "")];
    let (status, _, _) = post(&chef, "/staff/blog", &create, &fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let visitor = app.browser();
    let (_, page) = visitor.get_text(&format!("/blog/{slug}")).await;
    assert_eq!(texts(&page, "#giveaway-open").len(), 1, "{page}");
    assert_eq!(texts(&page, "#comment-form button").len(), 1, "the entry form while open");
    let (_, page) = chef.get_text("/staff/blog").await;
    assert!(!page.contains(&format!(r#"action="{create}""#)), "no second giveaway form");
    assert!(page.contains(&format!(r#"action="{draw}""#)));
    let r = visitor
        .submit(
            &format!("/blog/{slug}"),
            &format!("/blog/{slug}"),
            &[("name", "Daniel"), ("email", "daniel@example.org"), ("text", "Dabei!"), ("website", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for c in app.store.pending_comments().await.unwrap() {
        let (status, _, _) = post(&chef, "/staff/blog", &format!("/staff/blog/comments/{}/approve", c.id), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }

    // Closed, not drawn: no entry form, a "closed" note.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let (_, page) = visitor.get_text(&format!("/blog/{slug}")).await;
    assert!(texts(&page, "#comment-form").is_empty(), "no entry form after closing");
    assert_eq!(texts(&page, "#giveaway-closed").len(), 1, "{page}");
    assert_eq!(texts(&page, "#comments-closed").len(), 1);

    // Drawn: the result, still no entry form; the staff page has no giveaway forms for the post.
    let (status, to, _) = post(&chef, "/staff/blog", &draw, &[("beacon", "")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{to}");
    let (_, page) = visitor.get_text(&format!("/blog/{slug}")).await;
    assert_eq!(texts(&page, "#giveaway-drawn").len(), 1, "{page}");
    assert_eq!(texts(&page, "#winners li").len(), 1);
    assert!(texts(&page, "#comment-form").is_empty());
    let (_, page) = chef.get_text("/staff/blog").await;
    assert!(!page.contains(&format!(r#"action="{create}""#)) && !page.contains(&format!(r#"action="{draw}""#)));
    assert!(page.contains(&format!(r##"href="/blog/{slug}#giveaway""##)), "the result link");
}

#[tokio::test]
async fn an_advisory_for_an_unknown_tariff_comes_back_with_its_text() {
    let app = TestApp::spawn().await;
    let chef = staff(&app, "chef", "demo-chef-1").await;
    let fields = [
        ("title", "Lücke in PHP 8.1"),
        ("severity", "critical"),
        ("tariffs", "shared-m, gold-plus"),
        ("body", "Bitte aktualisieren Sie\nIhre PHP-Version."),
    ];
    let (status, _, page) = post(&chef, "/staff/blog", "/staff/blog/advisories", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert_eq!(count(&page, r#"role="alert""#), 1);
    assert!(page.contains("Tarif, den es nicht gibt"), "{page}");
    assert!(page.contains(r#"value="Lücke in PHP 8.1""#) && page.contains(r#"value="shared-m, gold-plus""#));
    assert!(page.contains(r#"<option value="critical" selected>"#), "{page}");
    assert!(page.contains(">Bitte aktualisieren Sie\nIhre PHP-Version.</textarea>"));
    assert!(app.store.post_by_slug("luecke-in-php-8-1").await.is_err(), "nothing was published");
}

#[tokio::test]
async fn the_menu_password_has_the_telephone_passwords_rules() {
    let app = TestApp::spawn().await;
    let erika = customer(&app, "K1000001", "demo-password-1").await;
    for (new, message) in [
        ("passwort123", "gehört zu den häufigsten Passwörtern"),
        ("PASSWORT123", "gehört zu den häufigsten Passwörtern"),
        ("Mustermann-2026", "darf Ihren Namen nicht enthalten"),
        ("meine-K1000001", "darf Ihre Kundennummer nicht enthalten"),
    ] {
        let fields = [("current", "demo-password-1"), ("password", new), ("password_repeat", new)];
        let (status, _, page) = post(&erika, "/menu/password", "/menu/password", &fields).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{new}");
        assert!(page.contains(message), "{new}: {page}");
    }
    // The reset link has the same rules (and stays usable after a refused password).
    let b = app.browser();
    let r = b.submit("/password-reminder", "/password-reminder", &[("login", "K1000001")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mail = support::smtp::decoded(&app.smtp.wait_for("erika@example.com", "password-reset?token=").await.data);
    let token = mail.split("token=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    let page = format!("/password-reset?token={token}");
    let (status, _, html) = post(
        &b,
        &page,
        "/password-reset",
        &[("token", &token), ("password", "passwort123"), ("password_repeat", "passwort123")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("häufigsten Passwörtern"), "{html}");
    let fresh = "Zwetschgen-Datschi-7";
    let (status, to, _) =
        post(&b, &page, "/password-reset", &[("token", &token), ("password", fresh), ("password_repeat", fresh)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/login?done=password_reset"));
    // Staff passwords too.
    let admin = staff(&app, "admin", "demo-admin-1").await;
    let fields = [("login", "neu"), ("display_name", "Neu Hier"), ("role", "support"), ("password", "password1234")];
    let (status, _, html) = post(&admin, "/staff/admin/staff", "/staff/admin/staff", &fields).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("häufigsten Passwörtern"), "{html}");
}

#[tokio::test]
async fn demo_mail_settings_name_the_demo_providers_own_hosts() {
    let app = TestApp::spawn().await;
    let erika = customer(&app, "K1000001", "demo-password-1").await;
    let (_, _, mailbox) = support::ids_of(&app, "K1000001").await;
    let (status, page) = erika.get_text(&format!("/menu/mailboxes/{mailbox}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("sslmail.hostwerk.example") && page.contains("smtp.hostwerk.example"), "{page}");
    let (_, guide) = erika.get_text(&format!("/menu/mailboxes/{mailbox}/guide/thunderbird")).await;
    let (_, xml) = app.browser().get_text("/mail/config-v1.1.xml?emailaddress=info@mustermann-shop.de").await;
    assert!(xml.contains("sslmail.hostwerk.example"), "{xml}");
    for text in [&page, &guide, &xml] {
        assert!(!text.contains("ispgateway"), "a third party's host in the demo: {text}");
    }
}

#[tokio::test]
async fn small_texts() {
    let app = TestApp::spawn().await;
    let b = app.browser();

    // The home page links the blog.
    let (_, home) = b.get_text("/").await;
    assert!(home.contains(r#"href="/blog""#), "{home}");

    // An empty reminder form is an error, not the success text; the typed value stays.
    let (status, _, page) = post(&b, "/password-reminder", "/password-reminder", &[("login", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Bitte geben Sie Ihre Kundennummer") && texts(&page, "p.notice").is_empty(), "{page}");
    let (status, _, page) = post(&b, "/password-reminder", "/password-reminder", &[("login", "erika")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(r#"value="erika""#));

    // "XX" is no country.
    let order = [
        ("tariff", "shared-s"),
        ("billing_months", "12"),
        ("name", "Xaver Land"),
        ("email", "xaver@example.net"),
        ("street", "Weg 1"),
        ("postal_code", "12345"),
        ("city", "Ort"),
        ("country", "XX"),
        ("password", "Kartoffelsalat-mit-Gurke"),
        ("phone_password", "Brezel-und-Obatzda"),
    ];
    let (status, _, page) = post(&b, "/order", "/order", &order).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("ISO-3166-1-Code") && page.contains(r#"value="XX""#), "{page}");
    let mut at = order;
    at[7] = ("country", "at");
    assert_eq!(post(&b, "/order", "/order", &at).await.0, StatusCode::SEE_OTHER);

    // The blog list parts a heading from the text.
    let chef = staff(&app, "chef", "demo-chef-1").await;
    let body = "# hostwerk\nWir verlosen drei Tickets.\n\nMehr dazu unten.";
    let fields = [("title", "Verlosung"), ("body", body), ("category", "Juhuu"), ("tags", "")];
    assert_eq!(post(&chef, "/staff/blog", "/staff/blog/posts", &fields).await.0, StatusCode::SEE_OTHER);
    let (_, list) = b.get_text("/blog").await;
    assert!(texts(&list, ".post-summary p").iter().any(|p| p == "hostwerk Wir verlosen drei Tickets."), "{list}");

    // Remote support: the staff list names the system properly, and the note's form says who reads it.
    let support = staff(&app, "support", "demo-support-1").await;
    let fields = [("password", DEMO_PHONE_PASSWORD)];
    assert_eq!(post(&support, "/staff", "/staff/customers/K1000001/verify", &fields).await.0, StatusCode::SEE_OTHER);
    assert_eq!(post(&support, "/staff", "/staff/customers/K1000001/remote-invite", &[]).await.0, StatusCode::SEE_OTHER);
    let mail = support::smtp::decoded(&app.smtp.wait_for("erika@example.com", "Fernwartung").await.data);
    let link = mail.split_whitespace().find(|w| w.contains("/remote/")).unwrap().to_owned();
    let path = link.trim_start_matches(&app.base).to_owned();
    let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
    let visitor = reqwest::Client::builder().cookie_store(true).user_agent(mac).build().unwrap();
    let csrf = support::csrf_of(&visitor.get(app.url(&path)).send().await.unwrap().text().await.unwrap());
    let r = visitor.post(app.url(&format!("{path}/consent"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, list) = support.get_text("/staff/remote").await;
    let row = texts(&list, "#remote-sessions tbody tr").remove(0);
    assert!(row.contains("(macOS)") && !row.contains("(macos)"), "{row}");
    let session: i64 = texts(&list, "#remote-sessions tbody td")[0].parse().unwrap();
    let (status, to, _) = post(&support, "/staff", &format!("/staff/remote/{session}/start"), &[]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/staff/remote?done=recorded"));
    let (_, list) = support.get_text(&to).await;
    assert_eq!(count(&list, r#"role="status""#), 1, "one notice on the remote page");
    let hint = texts(&list, &format!("#note-hint-{session}"));
    assert_eq!(hint, vec!["Der Kunde sieht diese Notiz in seinem Kundenmenü unter „Kundenservice“."]);
    assert!(list.contains(&format!(r#"aria-describedby="note-hint-{session}""#)));
}
