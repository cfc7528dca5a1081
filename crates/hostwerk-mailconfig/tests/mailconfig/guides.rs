//! The setup guides carry the mailbox's own values in both languages.
#![allow(clippy::unwrap_used)]

use hostwerk_mailconfig::{guide, mailbox_settings, Client, EmailAddress, Language, MailConfig};

#[test]
fn every_guide_names_hosts_ports_and_user() {
    let mut cfg = MailConfig::demo();
    // Distinct values, so a guide cannot pass by naming the wrong one.
    cfg.incoming.ssl_host = "imap-ssl.example.net".into();
    cfg.incoming.imap_ssl_port = 10993;
    cfg.incoming.pop3_ssl_port = 10995;
    cfg.outgoing.ssl_host = "smtp-ssl.example.net".into();
    cfg.outgoing.smtp_ssl_port = 10465;
    let email = EmailAddress::parse("kim.lee@kunde.de").unwrap();
    let settings = mailbox_settings(&cfg, &email);
    for lang in [Language::De, Language::En] {
        for client in Client::ALL {
            let g = guide(client, lang, &settings);
            assert!((5..=9).contains(&g.steps.len()), "{client:?} {lang:?}: {} steps", g.steps.len());
            assert!(g.title.contains("kim.lee@kunde.de"), "{client:?} {lang:?}");
            let all = g.steps.join("\n");
            for needle in ["imap-ssl.example.net", "10993", "smtp-ssl.example.net", "10465", "kim.lee@kunde.de", "SSL"]
            {
                assert!(all.contains(needle), "{client:?} {lang:?} lacks {needle}:\n{all}");
            }
            assert!(!all.contains('{') && !all.contains('}'), "{client:?} {lang:?}: unfilled placeholder");
            assert!(!all.contains("mail.hostwerk.example"), "{client:?} {lang:?}: a plain host in a guide");
        }
    }
}

#[test]
fn languages_differ_and_name_the_real_menus() {
    let email = EmailAddress::parse("anna@example.org").unwrap();
    let settings = mailbox_settings(&MailConfig::demo(), &email);
    let de = guide(Client::Thunderbird, Language::De, &settings);
    let en = guide(Client::Thunderbird, Language::En, &settings);
    assert!(de.steps[0].contains("Konten-Einstellungen") && de.steps[0].contains("E-Mail-Konto hinzufügen"));
    assert!(de.steps.iter().any(|s| s.contains("Manuell einrichten")));
    assert!(en.steps[0].contains("Account Settings") && en.steps[0].contains("Add Mail Account"));
    assert!(guide(Client::Outlook, Language::De, &settings).steps[0].contains("Konto hinzufügen"));
    assert!(guide(Client::AppleMail, Language::En, &settings).steps[0].contains("Other Mail Account"));
    assert!(guide(Client::Ios, Language::De, &settings).steps[0].contains("Mail-Account hinzufügen"));
    assert!(guide(Client::Android, Language::En, &settings).steps.iter().any(|s| s.contains("Personal (IMAP)")));
    let json = serde_json::to_value(&de).unwrap();
    assert_eq!(json["title"], de.title);
    assert_eq!(json["steps"].as_array().unwrap().len(), de.steps.len());
}
