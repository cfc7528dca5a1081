//! The blog over real HTTP: posts rendered safely, category/tag pages and the Atom feed, comments held for
//! moderation with a honeypot and a rate limit, security advisories as banners for their audience, and a
//! giveaway from commitment to published, verifiable draw with mails to the winners.

#![allow(clippy::unwrap_used)]

use crate::support;

use chrono::{Duration, Utc};
use chrono_tz::Europe::Berlin;
use hostwerk_domain::giveaway::{verify, Commitment, PublishedDraw, Seed};
use reqwest::StatusCode;
use support::{texts, Browser, TestApp};

async fn chef(app: &TestApp) -> Browser {
    let b = app.browser();
    assert_eq!(b.staff_login("chef", "demo-chef-1").await.status(), StatusCode::SEE_OTHER);
    b
}

async fn publish(b: &Browser, title: &str, body: &str, category: &str, tags: &str) -> StatusCode {
    b.submit(
        "/staff/blog",
        "/staff/blog/posts",
        &[("title", title), ("body", body), ("category", category), ("tags", tags)],
    )
    .await
    .status()
}

async fn comment(app: &TestApp, slug: &str, name: &str, email: &str, text: &str) -> StatusCode {
    let b = app.browser();
    let (_, page) = b.get_text(&format!("/blog/{slug}")).await;
    let csrf = support::csrf_of(&page);
    b.client
        .post(app.url(&format!("/blog/{slug}")))
        .form(&[("name", name), ("email", email), ("text", text), ("website", ""), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
        .status()
}

async fn approve_all(app: &TestApp, b: &Browser) {
    for c in app.store.pending_comments().await.unwrap() {
        let r = b.submit("/staff/blog", &format!("/staff/blog/comments/{}/approve", c.id), &[]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn posts_comments_feed_and_advisories() {
    let app = TestApp::spawn().await;
    let chef = chef(&app).await;
    let body = "Wir freuen uns auf die **Konferenz**.\n\n<script>alert(1)</script>\n\nHier [klick](javascript:alert(1)) <img src=x onerror=alert(1)>";
    assert_eq!(
        publish(&chef, "Tickets für die Konferenz", body, "Juhuu", "Konferenz, Gewinnspiel").await,
        StatusCode::SEE_OTHER
    );
    let slug = "tickets-fuer-die-konferenz";
    let (status, page) = app.browser().get_text(&format!("/blog/{slug}")).await;
    assert_eq!(status, StatusCode::OK);
    let html = page.split("id=\"post-body\"").nth(1).unwrap();
    assert!(
        html.contains("<strong>Konferenz</strong>") && html.contains("&lt;script&gt;") && !html.contains("javascript:")
    );
    for list in ["/blog", "/blog/category/Juhuu", "/blog/tag/Konferenz"] {
        let (_, page) = app.browser().get_text(list).await;
        assert!(page.contains("Tickets für die Konferenz"), "{list}");
    }
    let (_, page) = app.browser().get_text("/blog/category/Fachchinesisch").await;
    assert!(!page.contains("Tickets für die Konferenz"));
    // bad input and roles
    assert_eq!(publish(&chef, "x", "y", "Juhuu", "").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(publish(&chef, "Anderer Beitrag", "y", "Erfunden", "").await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(publish(&chef, "Tickets für die Konferenz", "doppelt", "Juhuu", "").await, StatusCode::CONFLICT);
    let support = app.browser();
    support.staff_login("support", "demo-support-1").await;
    assert_eq!(support.get("/staff/blog").await.status(), StatusCode::FORBIDDEN);

    // the Atom feed parses and names the post
    let r = app.api().get(app.url("/blog/feed.atom")).send().await.unwrap();
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
    let xml = r.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().namespace(), Some("http://www.w3.org/2005/Atom"));
    let entry = doc.descendants().find(|n| n.has_tag_name("entry")).unwrap();
    let title = entry.children().find(|n| n.has_tag_name("title")).unwrap().text().unwrap();
    assert_eq!(title, "Tickets für die Konferenz");

    // comments: held, honeypot, bad address, rate limit; the e-mail address is never shown
    assert_eq!(comment(&app, slug, "Daniel", "daniel@example.org", "Ich will!").await, StatusCode::SEE_OTHER);
    let (_, page) = app.browser().get_text(&format!("/blog/{slug}")).await;
    assert!(!page.contains("Ich will!"), "held for moderation");
    let b = app.browser();
    let (_, page) = b.get_text(&format!("/blog/{slug}")).await;
    let csrf = support::csrf_of(&page);
    let r = b
        .client
        .post(app.url(&format!("/blog/{slug}")))
        .form(&[
            ("name", "Bot"),
            ("email", "bot@spam.example"),
            ("text", "cheap pills"),
            ("website", "http://spam"),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(comment(&app, slug, "Kein", "keine-adresse", "Hallo").await, StatusCode::UNPROCESSABLE_ENTITY);
    let mut statuses = Vec::new();
    for i in 0..6 {
        statuses.push(comment(&app, slug, "Flut", &format!("flut{i}@example.org"), "mehr").await);
    }
    // three comments above came from this address too: two more pass, then the limit of five per minute holds
    assert_eq!(statuses[..2], [StatusCode::SEE_OTHER, StatusCode::SEE_OTHER], "{statuses:?}");
    assert!(statuses[2..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let pending = app.store.pending_comments().await.unwrap();
    assert!(pending.iter().all(|c| c.name != "Bot"), "the honeypot comment was dropped");
    let daniel = pending.iter().find(|c| c.name == "Daniel").unwrap().id;
    chef.submit("/staff/blog", &format!("/staff/blog/comments/{daniel}/approve"), &[]).await;
    let (_, page) = app.browser().get_text(&format!("/blog/{slug}")).await;
    assert!(page.contains("Ich will!") && !page.contains("daniel@example.org"));

    // an advisory for SharedHosting M: a banner for K1000001 until dismissed, none for K1000002; on the blog
    let r = chef
        .submit(
            "/staff/blog",
            "/staff/blog/advisories",
            &[
                ("title", "SSL-Lücke in OS X"),
                ("body", "Bitte aktualisieren Sie Ihr System."),
                ("severity", "high"),
                ("tariffs", "shared-m"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let erika = app.browser();
    erika.login("K1000001", "demo-password-1").await;
    let (_, dash) = erika.get_text("/menu").await;
    let banner = texts(&dash, "aside.advisory");
    assert_eq!(banner.len(), 1);
    assert!(banner[0].contains("SSL-Lücke in OS X"));
    let max = app.browser();
    max.login("K1000002", "demo-password-2").await;
    assert!(texts(&max.get_text("/menu").await.1, "aside.advisory").is_empty());
    let id = app.store.advisories().await.unwrap()[0].id;
    assert_eq!(
        erika.submit("/menu", &format!("/menu/advisories/{id}/dismiss"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(texts(&erika.get_text("/menu").await.1, "aside.advisory").is_empty());
    assert_eq!(app.browser().get("/blog/ssl-luecke-in-os-x").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_giveaway_from_commitment_to_verified_draw() {
    // Every comment here comes from 127.0.0.1: lift the per-address limit the other test checks.
    let app = TestApp::spawn_with(|c| c.comments_per_minute = 100).await;
    let chef = chef(&app).await;
    publish(&chef, "Gewinnt Tickets", "Kommentiert und gewinnt!", "Juhuu", "Gewinnspiel").await;
    let slug = "gewinnt-tickets";
    let closes = (Utc::now() + Duration::seconds(4)).with_timezone(&Berlin).format("%Y-%m-%dT%H:%M:%S").to_string();
    let r = chef
        .submit(
            "/staff/blog",
            &format!("/staff/blog/{slug}/giveaway"),
            &[
                ("prize", "ein Konferenzticket"),
                ("winners", "3"),
                ("closes_at", &closes),
                ("exclusions", "bruder@example.org"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.browser().get_text(&format!("/blog/{slug}")).await;
    let commitment = texts(&page, "#commitment").remove(0);
    assert_eq!(commitment.len(), 64);

    let people = [
        ("Daniel Rad", "daniel@example.org"),
        ("Torben", "torben@example.org"),
        ("Phil", "phil@example.org"),
        ("Andreas", "andreas@example.org"),
        ("Torben", " Torben@Example.org "),
        ("Mitarbeiterin", "anna@hostwerk.invalid"),
        ("Bruder", "bruder@example.org"),
    ];
    for (name, email) in people {
        assert_eq!(comment(&app, slug, name, email, "Ich bin dabei").await, StatusCode::SEE_OTHER);
    }
    // not yet closed
    let r = chef.submit("/staff/blog", &format!("/staff/blog/{slug}/giveaway/draw"), &[("beacon", "")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    // A tab opened while the giveaway was open: after the closing the page offers no comment form any more,
    // but the stale form still sends, and the draw sets the late comment aside.
    let stale = app.browser();
    let csrf = support::csrf_of(&stale.get_text(&format!("/blog/{slug}")).await.1);
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert!(texts(&stale.get_text(&format!("/blog/{slug}")).await.1, "#comment-form").is_empty());
    let late = [("name", "Zu spät"), ("email", "spaet@example.org"), ("text", "Noch dabei?"), ("csrf", csrf.as_str())];
    let r = stale.client.post(app.url(&format!("/blog/{slug}"))).form(&late).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    approve_all(&app, &chef).await;

    let r = chef
        .submit("/staff/blog", &format!("/staff/blog/{slug}/giveaway/draw"), &[("beacon", "drand round 4711: 9f3c")])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.browser().get_text(&format!("/blog/{slug}")).await;
    let entries = texts(&page, "#entries li");
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert!(entries[1].starts_with("Torben") && entries[1].contains("zusammengefasst"), "{entries:?}");
    assert!(entries.iter().all(|e| !e.contains("Mitarbeiterin") && !e.contains("Bruder") && !e.contains("Zu spät")));
    let winners = texts(&page, "#winners li");
    assert_eq!(winners.len(), 3);

    // the published JSON verifies; the seed matches the commitment shown beforehand
    let json =
        app.api().get(app.url(&format!("/blog/{slug}/giveaway.json"))).send().await.unwrap().text().await.unwrap();
    let draw = PublishedDraw::from_json(&json).unwrap();
    assert_eq!(verify(&draw), Ok(()));
    assert_eq!(draw.commitment.to_hex(), commitment);
    assert_eq!(Commitment::of(&Seed::parse_hex(&draw.seed.to_hex()).unwrap()).to_hex(), commitment);
    assert_eq!(draw.beacon, "drand round 4711: 9f3c");
    // winners are mailed
    for w in draw.winner_entries() {
        let address = people.iter().find(|p| p.0 == w.display_name).unwrap().1.trim().to_lowercase();
        app.smtp.wait_for(&address, "Konferenzticket").await;
    }
    // drawn once
    let r = chef.submit("/staff/blog", &format!("/staff/blog/{slug}/giveaway/draw"), &[("beacon", "")]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}
