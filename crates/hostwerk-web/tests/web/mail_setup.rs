//! Mail setup over real HTTP: the mailbox settings page and guides, the DNS page, and the autoconfiguration
//! endpoints parsed with real parsers (roxmltree for XML, plist for the Apple profile) and checked against the
//! configuration — including Outlook's documented request body, malformed, hostile and oversized bodies.

#![allow(clippy::unwrap_used)]

use crate::support;

use hostwerk_mailconfig::MailConfig;
use reqwest::StatusCode;
use support::{texts, TestApp};

const OUTLOOK_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>info@mustermann-shop.de</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children().find(|c| c.tag_name().name() == name).unwrap_or_else(|| panic!("no <{name}>"))
}

fn text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    child(node, name).text().unwrap_or("")
}

#[tokio::test]
async fn thunderbird_autoconfig_matches_the_configuration() {
    let app = TestApp::spawn().await;
    let cfg = MailConfig::demo();
    for (path, address) in [
        ("/mail/config-v1.1.xml?emailaddress=info%40mustermann-shop.de", "info@mustermann-shop.de"),
        // an address that does not exist gets the same answer
        (
            "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=nobody%40mustermann-shop.de",
            "nobody@mustermann-shop.de",
        ),
    ] {
        let r = app.api().get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
        let body = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&body).unwrap();
        let root = doc.root_element();
        assert_eq!((root.tag_name().name(), root.attribute("version")), ("clientConfig", Some("1.1")));
        let provider = child(root, "emailProvider");
        assert_eq!(provider.attribute("id"), Some(cfg.provider_id.as_str()));
        assert_eq!(text(provider, "domain"), "mustermann-shop.de");
        assert_eq!(text(provider, "displayName"), cfg.display_name);
        let incoming: Vec<_> = provider.children().filter(|c| c.tag_name().name() == "incomingServer").collect();
        let imap = incoming.iter().find(|s| s.attribute("type") == Some("imap")).unwrap();
        assert_eq!(
            (text(*imap, "hostname"), text(*imap, "port"), text(*imap, "socketType")),
            (cfg.incoming.ssl_host.as_str(), "993", "SSL")
        );
        assert_eq!((text(*imap, "username"), text(*imap, "authentication")), ("%EMAILADDRESS%", "password-cleartext"));
        let pop3 = incoming.iter().find(|s| s.attribute("type") == Some("pop3")).unwrap();
        assert_eq!((text(*pop3, "port"), text(*pop3, "socketType")), ("995", "SSL"));
        let smtp = child(provider, "outgoingServer");
        assert_eq!(smtp.attribute("type"), Some("smtp"));
        assert_eq!(
            (text(smtp, "hostname"), text(smtp, "port"), text(smtp, "socketType")),
            (cfg.outgoing.ssl_host.as_str(), "465", "SSL")
        );
        assert!(!body.contains(address) || body.contains("%EMAILADDRESS%"));
    }
    // by host name, as Thunderbird asks autoconfig.<domain>
    let r = app
        .api()
        .get(app.url("/mail/config-v1.1.xml"))
        .header("host", "autoconfig.erika-mustermann.de")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("<domain>erika-mustermann.de</domain>"));
    // a domain not hosted here, and garbage
    let r = app.api().get(app.url("/mail/config-v1.1.xml?emailaddress=a%40example.com")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = app.api().get(app.url("/mail/config-v1.1.xml?emailaddress=%3Cscript%3E")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

async fn autodiscover(app: &TestApp, path: &str, body: impl Into<reqwest::Body>) -> (StatusCode, String) {
    let r = app.api().post(app.url(path)).header("content-type", "text/xml").body(body).send().await.unwrap();
    let status = r.status();
    (status, r.text().await.unwrap())
}

#[tokio::test]
async fn outlook_autodiscover_answers_and_refuses_safely() {
    let app = TestApp::spawn().await;
    let cfg = MailConfig::demo();
    for path in ["/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"] {
        let (status, body) = autodiscover(&app, path, OUTLOOK_BODY).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let doc = roxmltree::Document::parse(&body).unwrap();
        let response = child(doc.root_element(), "Response");
        assert_eq!(
            response.tag_name().namespace(),
            Some("http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a")
        );
        let account = child(response, "Account");
        assert_eq!((text(account, "AccountType"), text(account, "Action")), ("email", "settings"));
        let protocols: Vec<_> = account.children().filter(|c| c.tag_name().name() == "Protocol").collect();
        let find = |t: &str| *protocols.iter().find(|p| text(**p, "Type") == t).unwrap_or_else(|| panic!("no {t}"));
        for (t, host, port) in [
            ("IMAP", &cfg.incoming.ssl_host, "993"),
            ("POP3", &cfg.incoming.ssl_host, "995"),
            ("SMTP", &cfg.outgoing.ssl_host, "465"),
        ] {
            let p = find(t);
            assert_eq!((text(p, "Server"), text(p, "Port")), (host.as_str(), port), "{t}");
            assert_eq!((text(p, "SSL"), text(p, "SPA"), text(p, "Encryption")), ("on", "off", "SSL"), "{t}");
            assert_eq!(text(p, "LoginName"), "info@mustermann-shop.de");
        }
    }
    // unknown mailbox on a hosted domain: the same shape
    let (status, body) =
        autodiscover(&app, "/autodiscover/autodiscover.xml", OUTLOOK_BODY.replace("info@", "gibtsnicht@")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<LoginName>gibtsnicht@mustermann-shop.de</LoginName>"));

    // hostile and broken bodies: the documented error response, never a panic or a 500
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>&lol2;</EMailAddress></Request></Autodiscover>"#;
    let external = r#"<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Autodiscover><Request><EMailAddress>&xxe;</EMailAddress></Request></Autodiscover>"#;
    for bad in [
        laughs,
        external,
        "<Autodiscover>",
        "",
        "not xml at all",
        &OUTLOOK_BODY.replace("info@mustermann-shop.de", "kein-at"),
    ] {
        let (status, body) = autodiscover(&app, "/autodiscover/autodiscover.xml", bad.to_owned()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        let doc = roxmltree::Document::parse(&body).unwrap();
        let error = child(child(doc.root_element(), "Response"), "Error");
        assert!(["600", "601"].contains(&text(error, "ErrorCode")), "{body}");
        assert!(!body.contains("passwd"));
    }
    let oversized = format!("{}{}", OUTLOOK_BODY, " ".repeat(20_000));
    let (status, body) = autodiscover(&app, "/autodiscover/autodiscover.xml", oversized).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(roxmltree::Document::parse(&body).is_ok());
    // a domain not hosted here
    let (status, body) =
        autodiscover(&app, "/autodiscover/autodiscover.xml", OUTLOOK_BODY.replace("mustermann-shop.de", "example.com"))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<ErrorCode>601</ErrorCode>"));
}

#[tokio::test]
async fn autoconfig_is_rate_limited() {
    let app = TestApp::spawn().await;
    let mut statuses = Vec::new();
    for _ in 0..70 {
        let r = app
            .api()
            .get(app.url("/mail/config-v1.1.xml?emailaddress=info%40mustermann-shop.de"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert!(statuses[..60].iter().all(|s| *s == StatusCode::OK));
    assert!(statuses[60..].iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
}

#[tokio::test]
async fn the_mailbox_pages_and_the_apple_profile() {
    let app = TestApp::spawn().await;
    let cfg = MailConfig::demo();
    let erika = app.browser();
    erika.login("K1000001", "demo-password-1").await;
    let customer = app.store.customer_by_number("K1000001".parse().unwrap()).await.unwrap();
    let mailbox = app.store.mailboxes(customer.id).await.unwrap().remove(0);
    let (status, page) = erika.get_text(&format!("/menu/mailboxes/{}", mailbox.id)).await;
    assert_eq!(status, StatusCode::OK);
    let recommended = texts(&page, "#mail-servers tr.recommended");
    let plain = texts(&page, "#mail-servers tr.not-recommended");
    assert_eq!(recommended.len(), 3);
    assert!(recommended[0].contains(&cfg.incoming.ssl_host) && recommended[0].contains("993"));
    assert!(recommended.iter().any(|r| r.contains(&cfg.outgoing.ssl_host) && r.contains("465")));
    assert!(plain.iter().any(|r| r.contains("143")) && plain.iter().any(|r| r.contains("587")));
    let first_plain = page.find("not-recommended").unwrap();
    assert!(page.find("class=\"recommended\"").unwrap() < first_plain, "SSL first");

    for client in ["thunderbird", "outlook", "apple-mail", "ios", "android"] {
        let (status, page) = erika.get_text(&format!("/menu/mailboxes/{}/guide/{client}", mailbox.id)).await;
        assert_eq!(status, StatusCode::OK, "{client}");
        let steps = texts(&page, "#guide-steps li").join("\n");
        assert!(
            steps.contains(&cfg.incoming.ssl_host) && steps.contains("465") && steps.contains(mailbox.address.as_str()),
            "{client}: {steps}"
        );
    }
    let en = app.browser_en();
    en.login("K1000001", "demo-password-1").await;
    let (_, page) = en.get_text(&format!("/menu/mailboxes/{}/guide/thunderbird", mailbox.id)).await;
    assert!(texts(&page, "#guide-title")[0].contains("Thunderbird"));

    let r = erika.get(&format!("/menu/mailboxes/{}/mobileconfig", mailbox.id)).await;
    assert_eq!(r.headers()["content-type"], "application/x-apple-aspen-config");
    let profile: plist::Value = plist::from_bytes(&r.bytes().await.unwrap()).unwrap();
    let dict = profile.as_dictionary().unwrap();
    assert_eq!(dict["PayloadType"].as_string(), Some("Configuration"));
    let payload = dict["PayloadContent"].as_array().unwrap()[0].as_dictionary().unwrap();
    assert_eq!(payload["PayloadType"].as_string(), Some("com.apple.mail.managed"));
    assert_eq!(payload["EmailAccountType"].as_string(), Some("EmailTypeIMAP"));
    assert_eq!(payload["IncomingMailServerHostName"].as_string(), Some(cfg.incoming.ssl_host.as_str()));
    assert_eq!(payload["OutgoingMailServerPortNumber"].as_unsigned_integer(), Some(465));
    assert_eq!(payload["IncomingMailServerUseSSL"].as_boolean(), Some(true));

    // another customer's mailbox is not found
    let max = app.browser();
    max.login("K1000002", "demo-password-2").await;
    assert_eq!(max.get(&format!("/menu/mailboxes/{}", mailbox.id)).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(max.get(&format!("/menu/mailboxes/{}/mobileconfig", mailbox.id)).await.status(), StatusCode::NOT_FOUND);

    // the domain page lists the SRV records and the autoconfig names
    let domain = app.store.domains(customer.id).await.unwrap().remove(0);
    let (_, page) = erika.get_text(&format!("/menu/domains/{}", domain.id)).await;
    let records = texts(&page, "#dns-records").remove(0);
    for prefix in ["_imaps._tcp", "_pop3s._tcp", "_submissions._tcp", "_submission._tcp"] {
        assert!(records.contains(&format!("{prefix}.{}.", domain.name)), "{prefix}: {records}");
    }
    assert!(records.contains("993") && records.contains("465"));
    assert!(
        page.contains(&format!("autoconfig.{}", domain.name))
            && page.contains(&format!("autodiscover.{}", domain.name))
    );
}
