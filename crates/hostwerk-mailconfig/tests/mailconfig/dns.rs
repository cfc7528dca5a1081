//! The suggested DNS records and their zone-file lines.
#![allow(clippy::unwrap_used)]

use hostwerk_mailconfig::{dns_records, DomainName, MailConfig, RecordData};

#[test]
fn demo_records() {
    let domain = DomainName::parse("example.org").unwrap();
    let lines: Vec<String> = dns_records(&MailConfig::demo(), &domain).iter().map(|r| r.zone_line()).collect();
    assert_eq!(
        lines,
        vec![
            "_imaps._tcp.example.org. 3600 IN SRV 0 1 993 sslmail.hostwerk.example.",
            "_pop3s._tcp.example.org. 3600 IN SRV 10 1 995 sslmail.hostwerk.example.",
            "_imap._tcp.example.org. 3600 IN SRV 0 0 0 .",
            "_pop3._tcp.example.org. 3600 IN SRV 0 0 0 .",
            "_submissions._tcp.example.org. 3600 IN SRV 0 1 465 smtp.hostwerk.example.",
            "_submission._tcp.example.org. 3600 IN SRV 10 1 587 smtp.hostwerk.example.",
            "_autodiscover._tcp.example.org. 3600 IN SRV 0 1 443 panel.hostwerk.example.",
            "autoconfig.example.org. 3600 IN CNAME panel.hostwerk.example.",
            "autodiscover.example.org. 3600 IN CNAME panel.hostwerk.example.",
        ]
    );
}

#[test]
fn without_starttls_submission_is_not_offered() {
    let mut cfg = MailConfig::demo();
    cfg.outgoing.starttls = false;
    cfg.dns_ttl = 300;
    let records = dns_records(&cfg, &DomainName::parse("kunde.de").unwrap());
    let submission = records.iter().find(|r| r.name == "_submission._tcp.kunde.de.").unwrap();
    assert_eq!(submission.data, RecordData::Srv { priority: 0, weight: 0, port: 0, target: ".".into() });
    assert!(records.iter().all(|r| r.ttl == 300));
}

#[test]
fn serializes_with_type_tag() {
    let records = dns_records(&MailConfig::demo(), &DomainName::parse("example.org").unwrap());
    let json = serde_json::to_value(&records).unwrap();
    assert_eq!(json[0]["type"], "SRV");
    assert_eq!(json[0]["name"], "_imaps._tcp.example.org.");
    assert_eq!(json[0]["port"], 993);
    assert_eq!(json[0]["target"], "sslmail.hostwerk.example.");
    assert_eq!(json[8]["type"], "CNAME");
    assert_eq!(json[8]["target"], "panel.hostwerk.example.");
}
