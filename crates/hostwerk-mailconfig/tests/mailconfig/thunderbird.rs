//! The Thunderbird autoconfig file, read back with a real XML parser.
#![allow(clippy::unwrap_used)]

use hostwerk_mailconfig::{thunderbird_config, thunderbird_config_for_domain, DomainName, EmailAddress, MailConfig};

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    node.children().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).unwrap_or_else(|| panic!("no <{name}>"))
}

/// (type, hostname, port, socketType) of every incoming/outgoing server, in document order.
fn servers(doc: &roxmltree::Document, element: &str) -> Vec<(String, String, u16, String)> {
    doc.descendants()
        .filter(|n| n.has_tag_name(element))
        .map(|n| {
            assert_eq!(child_text(n, "username"), "%EMAILADDRESS%");
            assert_eq!(child_text(n, "authentication"), "password-cleartext");
            (
                n.attribute("type").unwrap().to_owned(),
                child_text(n, "hostname").to_owned(),
                child_text(n, "port").parse().unwrap(),
                child_text(n, "socketType").to_owned(),
            )
        })
        .collect()
}

fn owned(rows: &[(&str, &str, u16, &str)]) -> Vec<(String, String, u16, String)> {
    rows.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), *c, d.to_string())).collect()
}

#[test]
fn demo_config_lists_ssl_then_starttls() {
    let cfg = MailConfig::demo();
    let email = EmailAddress::parse("anna@Example.ORG").unwrap();
    let xml = thunderbird_config(&cfg, &email);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "clientConfig");
    assert_eq!(root.attribute("version"), Some("1.1"));
    let provider = root.children().find(|n| n.has_tag_name("emailProvider")).unwrap();
    assert_eq!(provider.attribute("id"), Some("hostwerk.example"));
    assert_eq!(child_text(provider, "domain"), "example.org");
    assert_eq!(child_text(provider, "displayName"), cfg.display_name);
    assert_eq!(child_text(provider, "displayShortName"), cfg.display_short_name);

    assert_eq!(
        servers(&doc, "incomingServer"),
        owned(&[
            ("imap", "sslmail.hostwerk.example", 993, "SSL"),
            ("pop3", "sslmail.hostwerk.example", 995, "SSL"),
            ("imap", "mail.hostwerk.example", 143, "STARTTLS"),
            ("pop3", "mail.hostwerk.example", 110, "STARTTLS"),
        ])
    );
    assert_eq!(
        servers(&doc, "outgoingServer"),
        owned(&[("smtp", "smtp.hostwerk.example", 465, "SSL"), ("smtp", "smtp.hostwerk.example", 587, "STARTTLS"),])
    );
    let login = doc.descendants().find(|n| n.has_tag_name("loginPage")).unwrap();
    assert_eq!(login.attribute("url"), Some("https://webmail.hostwerk.example/"));
    assert!(!xml.contains("anna"), "the file does not depend on the local part");
}

#[test]
fn without_starttls_only_ssl_is_offered() {
    let mut cfg = MailConfig::demo();
    cfg.incoming.starttls = false;
    cfg.outgoing.starttls = false;
    cfg.incoming.imap_ssl_port = 10993;
    let xml = thunderbird_config_for_domain(&cfg, &DomainName::parse("kunde.de").unwrap());
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        servers(&doc, "incomingServer"),
        owned(&[("imap", "sslmail.hostwerk.example", 10993, "SSL"), ("pop3", "sslmail.hostwerk.example", 995, "SSL")])
    );
    assert_eq!(servers(&doc, "outgoingServer"), owned(&[("smtp", "smtp.hostwerk.example", 465, "SSL")]));
    assert_eq!(doc.descendants().find(|n| n.has_tag_name("domain")).unwrap().text(), Some("kunde.de"));
}

#[test]
fn names_are_escaped() {
    let mut cfg = MailConfig::demo();
    cfg.display_name = "Müller & Söhne <\"Mail\">".into();
    cfg.display_short_name = "M&S's".into();
    cfg.webmail_url = "https://webmail.example.net/?a=1&b=\"2\"".into();
    let email = EmailAddress::parse("o'neil@example.org").unwrap();
    let xml = thunderbird_config(&cfg, &email);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let text = |name: &str| doc.descendants().find(|n| n.has_tag_name(name)).unwrap().text().unwrap().to_owned();
    assert_eq!(text("displayName"), "Müller & Söhne <\"Mail\">");
    assert_eq!(text("displayShortName"), "M&S's");
    let login = doc.descendants().find(|n| n.has_tag_name("loginPage")).unwrap();
    assert_eq!(login.attribute("url"), Some("https://webmail.example.net/?a=1&b=\"2\""));
}
