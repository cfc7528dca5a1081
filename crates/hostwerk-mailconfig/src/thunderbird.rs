//! Thunderbird's autoconfig file (`clientConfig` version 1.1, served at `/mail/config-v1.1.xml`).
//!
//! The servers come in order of preference: IMAP and POP3 over implicit TLS, then the STARTTLS variants when
//! the configuration offers STARTTLS on the plain ports; SMTP on 465, then 587 with STARTTLS. Unencrypted
//! variants are never offered to Thunderbird. The user name is the placeholder `%EMAILADDRESS%`, which
//! Thunderbird replaces with the address the user typed, so the file depends only on the domain.

use hostwerk_domain::{DomainName, EmailAddress};

use crate::config::MailConfig;
use crate::xml::XmlWriter;

/// The autoconfig document for the mailbox's domain.
pub fn thunderbird_config(cfg: &MailConfig, email: &EmailAddress) -> String {
    render(cfg, email.domain())
}

/// The autoconfig document for a domain (for requests that carry no address).
pub fn thunderbird_config_for_domain(cfg: &MailConfig, domain: &DomainName) -> String {
    render(cfg, domain.as_str())
}

fn render(cfg: &MailConfig, domain: &str) -> String {
    let (inc, out) = (&cfg.incoming, &cfg.outgoing);
    let mut incoming = vec![
        ("imap", inc.ssl_host.as_str(), inc.imap_ssl_port, "SSL"),
        ("pop3", inc.ssl_host.as_str(), inc.pop3_ssl_port, "SSL"),
    ];
    if inc.starttls {
        incoming.push(("imap", inc.plain_host.as_str(), inc.imap_plain_port, "STARTTLS"));
        incoming.push(("pop3", inc.plain_host.as_str(), inc.pop3_plain_port, "STARTTLS"));
    }
    let mut outgoing = vec![(out.ssl_host.as_str(), out.smtp_ssl_port, "SSL")];
    if out.starttls {
        outgoing.push((out.plain_host.as_str(), out.submission_port, "STARTTLS"));
    }

    let mut w = XmlWriter::new();
    w.open("clientConfig", &[("version", "1.1")]);
    w.open("emailProvider", &[("id", &cfg.provider_id)]);
    w.leaf("domain", domain);
    w.leaf("displayName", &cfg.display_name);
    w.leaf("displayShortName", &cfg.display_short_name);
    for (kind, host, port, socket) in incoming {
        w.open("incomingServer", &[("type", kind)]);
        server_body(&mut w, host, port, socket);
        w.close("incomingServer");
    }
    for (host, port, socket) in outgoing {
        w.open("outgoingServer", &[("type", "smtp")]);
        server_body(&mut w, host, port, socket);
        w.close("outgoingServer");
    }
    w.close("emailProvider");
    w.open("webMail", &[]);
    w.empty("loginPage", &[("url", &cfg.webmail_url)]);
    w.close("webMail");
    w.close("clientConfig");
    w.finish()
}

fn server_body(w: &mut XmlWriter, host: &str, port: u16, socket: &str) {
    w.leaf("hostname", host);
    w.leaf("port", &port.to_string());
    w.leaf("socketType", socket);
    w.leaf("authentication", "password-cleartext");
    w.leaf("username", "%EMAILADDRESS%");
}
