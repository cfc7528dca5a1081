//! Outlook Autodiscover: the request parser against real and hostile bodies, and the responses read back.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, UNIX_EPOCH};

use hostwerk_mailconfig::autodiscover::{OUTLOOK_RESPONSE_SCHEMA, REQUEST_SCHEMA, RESPONSE_SCHEMA};
use hostwerk_mailconfig::{
    autodiscover_error, autodiscover_error_at, autodiscover_response, parse_autodiscover_request, AutodiscoverError,
    EmailAddress, MailConfig, MAX_AUTODISCOVER_REQUEST_BYTES,
};
use proptest::prelude::*;

/// The exact body Outlook sends.
const OUTLOOK_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>user@example.org</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;

fn parse(body: &str) -> Result<EmailAddress, AutodiscoverError> {
    parse_autodiscover_request(body.as_bytes())
}

fn request(inner: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{REQUEST_SCHEMA}"><Request>{inner}</Request></Autodiscover>"#
    )
}

#[test]
fn parses_outlooks_request() {
    assert_eq!(parse(OUTLOOK_BODY).unwrap().as_str(), "user@example.org");
}

#[test]
fn parses_variants_outlook_and_others_send() {
    // Pretty-printed with a BOM, CRLF line ends and a LegacyDN element.
    let pretty = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"{REQUEST_SCHEMA}\">\r\n  <Request>\r\n    <EMailAddress> Kim.Lee@Kunde.DE </EMailAddress>\r\n    <LegacyDN>/o=x/ou=y</LegacyDN>\r\n    <AcceptableResponseSchema>{OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema>\r\n  </Request>\r\n</Autodiscover>\r\n"
    );
    assert_eq!(parse(&pretty).unwrap().as_str(), "Kim.Lee@kunde.de");
    // A prefixed namespace, a comment, character references and CDATA.
    let prefixed = format!(
        r#"<a:Autodiscover xmlns:a="{REQUEST_SCHEMA}"><!-- hi --><a:Request><a:EMailAddress>us&#101;r&#x40;<![CDATA[example.org]]></a:EMailAddress><a:AcceptableResponseSchema>{OUTLOOK_RESPONSE_SCHEMA}</a:AcceptableResponseSchema></a:Request></a:Autodiscover>"#
    );
    assert_eq!(parse(&prefixed).unwrap().as_str(), "user@example.org");
    let amp = request(&format!(
        "<EMailAddress>a&amp;b@example.org</EMailAddress><AcceptableResponseSchema>{OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema>"
    ));
    assert_eq!(parse(&amp).unwrap().as_str(), "a&b@example.org");
}

#[test]
fn rejects_a_billion_laughs() {
    let body = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>&lol9;@example.org</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;
    assert_eq!(parse(body), Err(AutodiscoverError::Dtd));
}

#[test]
fn rejects_an_external_entity() {
    let body = r#"<?xml version="1.0" encoding="utf-8"?><!DOCTYPE Autodiscover [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>&xxe;</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;
    assert_eq!(parse(body), Err(AutodiscoverError::Dtd));
    // Lower case and an ENTITY without DOCTYPE are refused too.
    assert_eq!(parse("<!doctype x><x/>"), Err(AutodiscoverError::Dtd));
    assert_eq!(parse("<x><!ENTITY a 'b'></x>"), Err(AutodiscoverError::Dtd));
    // A reference to an entity that was never declared.
    let undeclared = request(&format!(
        "<EMailAddress>&xxe;@example.org</EMailAddress><AcceptableResponseSchema>{OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema>"
    ));
    assert_eq!(parse(&undeclared), Err(AutodiscoverError::Entity));
}

#[test]
fn rejects_an_oversized_body() {
    let padding = " ".repeat(MAX_AUTODISCOVER_REQUEST_BYTES);
    let body = OUTLOOK_BODY.replace("<Request>", &format!("<Request>{padding}"));
    assert_eq!(parse(&body), Err(AutodiscoverError::TooLarge));
    // Just under the limit still works.
    let fits = OUTLOOK_BODY
        .replace("<Request>", &format!("<Request>{}", " ".repeat(MAX_AUTODISCOVER_REQUEST_BYTES - OUTLOOK_BODY.len())));
    assert_eq!(fits.len(), MAX_AUTODISCOVER_REQUEST_BYTES);
    assert!(parse(&fits).is_ok());
}

#[test]
fn rejects_malformed_bodies() {
    let malformed = [
        "",
        "   ",
        "not xml at all",
        "<Autodiscover",
        &OUTLOOK_BODY[..OUTLOOK_BODY.len() - 5],
        &OUTLOOK_BODY.replace("</Request>", "</Requests>"),
        &OUTLOOK_BODY.replace("</Request>", ""),
        &format!("{OUTLOOK_BODY}<Autodiscover xmlns=\"{REQUEST_SCHEMA}\"/>"),
        &format!("{OUTLOOK_BODY}trailing"),
        &format!("leading{OUTLOOK_BODY}"),
        &OUTLOOK_BODY.replace("<Request>", "<Request a=>"),
        &OUTLOOK_BODY.replace(
            "<EMailAddress>user@example.org</EMailAddress>",
            "<EMailAddress>a</EMailAddress><EMailAddress>b@example.org</EMailAddress>",
        ),
        &OUTLOOK_BODY.replace("user@", "user&#0;@"),
    ];
    for body in malformed {
        let err = parse(body).unwrap_err();
        assert!(matches!(err, AutodiscoverError::Malformed(_) | AutodiscoverError::Entity), "{body:?}: {err:?}");
        assert_eq!(err.error_code(), 600);
    }
    assert_eq!(parse_autodiscover_request(b"<a>\xff\xfe</a>"), Err(AutodiscoverError::NotUtf8));
}

#[test]
fn rejects_wrong_schema_and_bad_addresses() {
    let no_ns = OUTLOOK_BODY.replace(&format!(" xmlns=\"{REQUEST_SCHEMA}\""), "");
    assert_eq!(parse(&no_ns), Err(AutodiscoverError::WrongRequestSchema));
    let mobilesync = OUTLOOK_BODY.replace("outlook/requestschema", "mobilesync/requestschema");
    assert_eq!(parse(&mobilesync), Err(AutodiscoverError::WrongRequestSchema));
    let other_root =
        OUTLOOK_BODY.replace("Autodiscover xmlns", "Discover xmlns").replace("</Autodiscover>", "</Discover>");
    assert_eq!(parse(&other_root), Err(AutodiscoverError::WrongRequestSchema));

    let wrong_response = OUTLOOK_BODY.replace("responseschema/2006a", "responseschema/2006");
    let err = parse(&wrong_response).unwrap_err();
    assert_eq!(err, AutodiscoverError::UnsupportedResponseSchema);
    assert_eq!(err.error_code(), 601);
    let no_response = OUTLOOK_BODY
        .replace(&format!("<AcceptableResponseSchema>{OUTLOOK_RESPONSE_SCHEMA}</AcceptableResponseSchema>"), "");
    assert_eq!(parse(&no_response), Err(AutodiscoverError::UnsupportedResponseSchema));

    let no_email = OUTLOOK_BODY.replace("<EMailAddress>user@example.org</EMailAddress>", "");
    assert_eq!(parse(&no_email), Err(AutodiscoverError::MissingEmailAddress));
    let empty_email = OUTLOOK_BODY.replace("<EMailAddress>user@example.org</EMailAddress>", "<EMailAddress/>");
    assert_eq!(parse(&empty_email), Err(AutodiscoverError::MissingEmailAddress));
    for bad in ["user", "user@localhost", "a b@example.org", "<b>x</b>@example.org"] {
        let body = OUTLOOK_BODY.replace("user@example.org", bad);
        let err = parse(&body).unwrap_err();
        assert!(
            matches!(err, AutodiscoverError::InvalidEmailAddress | AutodiscoverError::Malformed(_)),
            "{bad}: {err:?}"
        );
    }
    // The email in a nested element that is not directly under Request does not count.
    let nested = OUTLOOK_BODY.replace(
        "<EMailAddress>user@example.org</EMailAddress>",
        "<X><EMailAddress>user@example.org</EMailAddress></X>",
    );
    assert_eq!(parse(&nested), Err(AutodiscoverError::MissingEmailAddress));
}

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children().find(|n| n.is_element() && n.tag_name().name() == name).unwrap_or_else(|| panic!("no <{name}>"))
}

fn text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    child(node, name).text().unwrap_or("")
}

#[test]
fn response_lists_each_protocol() {
    let cfg = MailConfig::demo();
    let email = EmailAddress::parse("user@example.org").unwrap();
    let xml = autodiscover_response(&cfg, &email);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert!(root.has_tag_name((RESPONSE_SCHEMA, "Autodiscover")));
    let response = child(root, "Response");
    assert_eq!(response.tag_name().namespace(), Some(OUTLOOK_RESPONSE_SCHEMA));
    let account = child(response, "Account");
    assert_eq!(account.tag_name().namespace(), Some(OUTLOOK_RESPONSE_SCHEMA));
    assert_eq!(text(account, "AccountType"), "email");
    assert_eq!(text(account, "Action"), "settings");

    let protocols: Vec<_> = account.children().filter(|n| n.has_tag_name("Protocol")).collect();
    let expected = [
        ("IMAP", "sslmail.hostwerk.example", "993"),
        ("POP3", "sslmail.hostwerk.example", "995"),
        ("SMTP", "smtp.hostwerk.example", "465"),
    ];
    assert_eq!(protocols.len(), expected.len());
    for (p, (kind, server, port)) in protocols.iter().zip(expected) {
        assert_eq!(text(*p, "Type"), kind);
        assert_eq!(text(*p, "Server"), server);
        assert_eq!(text(*p, "Port"), port);
        assert_eq!(text(*p, "DomainRequired"), "off");
        assert_eq!(text(*p, "LoginName"), "user@example.org");
        assert_eq!(text(*p, "SPA"), "off");
        assert_eq!(text(*p, "SSL"), "on");
        assert_eq!(text(*p, "Encryption"), "SSL");
        assert_eq!(text(*p, "AuthRequired"), "on");
        let smtp_only = p.children().any(|n| n.has_tag_name((OUTLOOK_RESPONSE_SCHEMA, "UsePOPAuth")));
        assert_eq!(smtp_only, kind == "SMTP");
        if kind == "SMTP" {
            assert_eq!(text(*p, "UsePOPAuth"), "off");
            assert_eq!(text(*p, "SMTPLast"), "off");
        }
    }
}

#[test]
fn same_shape_for_any_address() {
    let cfg = MailConfig::demo();
    let a = autodiscover_response(&cfg, &EmailAddress::parse("exists@example.org").unwrap());
    let b = autodiscover_response(&cfg, &EmailAddress::parse("nobody@example.org").unwrap());
    assert_eq!(a.replace("exists@", "nobody@"), b);
}

#[test]
fn error_response_has_the_documented_shape() {
    let time = UNIX_EPOCH + Duration::from_nanos(1_700_000_000 * 1_000_000_000 + 123_456_789);
    let xml = autodiscover_error_at(600, "Invalid Request", time, 1054084152);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert!(root.has_tag_name((RESPONSE_SCHEMA, "Autodiscover")));
    let error = child(child(root, "Response"), "Error");
    assert_eq!(error.tag_name().namespace(), Some(RESPONSE_SCHEMA));
    assert_eq!(error.attribute("Time"), Some("22:13:20.1234567"));
    assert_eq!(error.attribute("Id"), Some("1054084152"));
    assert_eq!(text(error, "ErrorCode"), "600");
    assert_eq!(text(error, "Message"), "Invalid Request");
    assert_eq!(text(error, "DebugData"), "");

    let err = parse("<x/>").unwrap_err();
    let now = autodiscover_error(err.error_code(), err.response_message());
    let doc = roxmltree::Document::parse(&now).unwrap();
    let error = doc.descendants().find(|n| n.has_tag_name((RESPONSE_SCHEMA, "Error"))).unwrap();
    assert_eq!(text(error, "ErrorCode"), "600");
    let time = error.attribute("Time").unwrap();
    assert_eq!(time.len(), "HH:MM:SS.fffffff".len());
    assert!(error.attribute("Id").unwrap().parse::<u32>().is_ok());

    // A message with markup stays text.
    let xml = autodiscover_error(601, "<b>&\"'");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(
        doc.descendants().find(|n| n.has_tag_name((RESPONSE_SCHEMA, "Message"))).unwrap().text(),
        Some("<b>&\"'")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_arbitrary_bytes(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_autodiscover_request(&body);
    }

    #[test]
    fn never_panics_on_mutated_requests(cut in 0..OUTLOOK_BODY.len(), insert in "[<>&;#x0-9a-zA-Z!\\[\\]/=\"' -]{0,12}") {
        let mut body = OUTLOOK_BODY.as_bytes().to_vec();
        body.splice(cut..cut, insert.bytes());
        let _ = parse_autodiscover_request(&body);
        let mut truncated = OUTLOOK_BODY.as_bytes().to_vec();
        truncated.truncate(cut);
        prop_assert!(parse_autodiscover_request(&truncated).is_err());
    }

    #[test]
    fn round_trips_valid_addresses(local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]", domain in "[a-z]{1,10}\\.(de|org|com)") {
        let address = format!("{local}@{domain}");
        prop_assume!(!local.contains(".."));
        let body = OUTLOOK_BODY.replace("user@example.org", &address);
        let parsed = parse_autodiscover_request(body.as_bytes()).unwrap();
        prop_assert_eq!(parsed.as_str(), address.as_str());
    }
}
