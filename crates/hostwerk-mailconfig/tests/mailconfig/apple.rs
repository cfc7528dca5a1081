//! The Apple configuration profile, read back with the plist parser.
#![allow(clippy::unwrap_used)]

use hostwerk_mailconfig::{apple_mobileconfig, EmailAddress, MailConfig, ProfileUuids, MOBILECONFIG_MIME_TYPE};
use plist::{Dictionary, Value};

fn profile(display_name: &str, uuids: ProfileUuids) -> (Dictionary, Dictionary) {
    let email = EmailAddress::parse("anna.berg@example.org").unwrap();
    let bytes = apple_mobileconfig(&MailConfig::demo(), &email, display_name, uuids).unwrap();
    assert!(bytes.starts_with(b"<?xml"), "an XML property list");
    let top = Value::from_reader_xml(bytes.as_slice()).unwrap().into_dictionary().unwrap();
    let content = top.get("PayloadContent").unwrap().as_array().unwrap();
    assert_eq!(content.len(), 1);
    let mail = content[0].as_dictionary().unwrap().clone();
    (top, mail)
}

fn string<'a>(d: &'a Dictionary, key: &str) -> &'a str {
    d.get(key).and_then(Value::as_string).unwrap_or_else(|| panic!("no string {key}"))
}

fn uint(d: &Dictionary, key: &str) -> u64 {
    d.get(key).and_then(Value::as_unsigned_integer).unwrap_or_else(|| panic!("no integer {key}"))
}

fn boolean(d: &Dictionary, key: &str) -> bool {
    d.get(key).and_then(Value::as_boolean).unwrap_or_else(|| panic!("no boolean {key}"))
}

#[test]
fn profile_fields_match_the_configuration() {
    let uuids = ProfileUuids::random();
    let (top, mail) = profile("Anna Berg", uuids);
    let cfg = MailConfig::demo();

    assert_eq!(string(&top, "PayloadType"), "Configuration");
    assert_eq!(uint(&top, "PayloadVersion"), 1);
    assert_eq!(string(&top, "PayloadUUID"), uuids.profile.to_string().to_uppercase());
    assert_eq!(string(&top, "PayloadIdentifier"), "example.hostwerk.mailconfig.anna.berg.at.example.org");
    assert_eq!(string(&top, "PayloadOrganization"), cfg.display_name);
    assert!(string(&top, "PayloadDisplayName").contains("anna.berg@example.org"));

    assert_eq!(string(&mail, "PayloadType"), "com.apple.mail.managed");
    assert_eq!(uint(&mail, "PayloadVersion"), 1);
    assert_eq!(string(&mail, "PayloadUUID"), uuids.payload.to_string().to_uppercase());
    assert_eq!(string(&mail, "PayloadIdentifier"), "example.hostwerk.mailconfig.anna.berg.at.example.org.email");
    assert_eq!(string(&mail, "PayloadOrganization"), cfg.display_name);
    assert!(!string(&mail, "PayloadDisplayName").is_empty());
    assert_eq!(string(&mail, "EmailAccountType"), "EmailTypeIMAP");
    assert_eq!(string(&mail, "EmailAccountName"), "Anna Berg");
    assert_eq!(string(&mail, "EmailAddress"), "anna.berg@example.org");
    assert_eq!(string(&mail, "IncomingMailServerHostName"), "sslmail.hostwerk.example");
    assert_eq!(uint(&mail, "IncomingMailServerPortNumber"), 993);
    assert!(boolean(&mail, "IncomingMailServerUseSSL"));
    assert_eq!(string(&mail, "IncomingMailServerUsername"), "anna.berg@example.org");
    assert_eq!(string(&mail, "IncomingMailServerAuthentication"), "EmailAuthPassword");
    assert_eq!(string(&mail, "OutgoingMailServerHostName"), "smtp.hostwerk.example");
    assert_eq!(uint(&mail, "OutgoingMailServerPortNumber"), 465);
    assert!(boolean(&mail, "OutgoingMailServerUseSSL"));
    assert_eq!(string(&mail, "OutgoingMailServerUsername"), "anna.berg@example.org");
    assert_eq!(string(&mail, "OutgoingMailServerAuthentication"), "EmailAuthPassword");
    assert!(boolean(&mail, "OutgoingPasswordSameAsIncomingPassword"));
    assert!(mail.get("IncomingPassword").is_none(), "no password in the profile");
}

#[test]
fn two_profiles_have_different_uuids() {
    let (a_top, a_mail) = profile("", ProfileUuids::random());
    let (b_top, b_mail) = profile("", ProfileUuids::random());
    let ids = [
        string(&a_top, "PayloadUUID"),
        string(&a_mail, "PayloadUUID"),
        string(&b_top, "PayloadUUID"),
        string(&b_mail, "PayloadUUID"),
    ];
    for (i, x) in ids.iter().enumerate() {
        assert_eq!(uuid::Uuid::parse_str(x).unwrap().get_version_num(), 4);
        for y in &ids[i + 1..] {
            assert_ne!(x, y);
        }
    }
    assert!(a_mail.get("EmailAccountName").is_none(), "a blank name is left to the device");
    assert_eq!(string(&a_top, "PayloadIdentifier"), string(&b_top, "PayloadIdentifier"), "stable, so it replaces");
}

#[test]
fn mime_type() {
    assert_eq!(MOBILECONFIG_MIME_TYPE, "application/x-apple-aspen-config");
}

#[test]
fn names_with_markup_survive() {
    let email = EmailAddress::parse("anna@example.org").unwrap();
    let mut cfg = MailConfig::demo();
    cfg.display_name = "A & B <GmbH>".into();
    let bytes = apple_mobileconfig(&cfg, &email, "Anna <&> \"B\"", ProfileUuids::random()).unwrap();
    let top = Value::from_reader_xml(bytes.as_slice()).unwrap().into_dictionary().unwrap();
    assert_eq!(string(&top, "PayloadOrganization"), "A & B <GmbH>");
    let mail = top.get("PayloadContent").unwrap().as_array().unwrap()[0].as_dictionary().unwrap();
    assert_eq!(string(mail, "EmailAccountName"), "Anna <&> \"B\"");
}
