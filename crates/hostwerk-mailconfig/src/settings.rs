//! The server settings of one mailbox, in the order a customer should try them (implicit TLS first).

use serde::ser::{Serialize, SerializeStruct, Serializer};

use hostwerk_domain::EmailAddress;

use crate::config::MailConfig;

/// Whether a server delivers mail to the client or accepts mail from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Incoming,
    Outgoing,
}

/// The mail protocol of a server setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Imap,
    Pop3,
    Smtp,
}

impl Protocol {
    /// The name as clients show it: `IMAP`, `POP3`, `SMTP`.
    pub fn label(self) -> &'static str {
        match self {
            Protocol::Imap => "IMAP",
            Protocol::Pop3 => "POP3",
            Protocol::Smtp => "SMTP",
        }
    }

    pub fn direction(self) -> Direction {
        match self {
            Protocol::Imap | Protocol::Pop3 => Direction::Incoming,
            Protocol::Smtp => Direction::Outgoing,
        }
    }
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Security {
    /// Implicit TLS from the first byte (993, 995, 465); clients call it "SSL/TLS".
    #[serde(rename = "ssl_tls")]
    SslTls,
    /// A plain connection upgraded with STARTTLS (143, 110, 587).
    #[serde(rename = "starttls")]
    StartTls,
    /// No encryption.
    #[serde(rename = "none")]
    None,
}

impl Security {
    /// The name as clients show it: `SSL/TLS`, `STARTTLS`, `none`.
    pub fn label(self) -> &'static str {
        match self {
            Security::SslTls => "SSL/TLS",
            Security::StartTls => "STARTTLS",
            Security::None => "none",
        }
    }
}

/// One way to reach one server for one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServerSetting {
    pub direction: Direction,
    pub protocol: Protocol,
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The login name: always the full e-mail address.
    pub username: String,
    /// `true` for the implicit-TLS settings the provider recommends; `false` for the plain ports, whether they
    /// offer STARTTLS or nothing.
    pub recommended: bool,
}

/// All server settings of one mailbox. Built only by [`mailbox_settings`], so the recommended IMAP, POP3 and
/// SMTP settings are always there.
///
/// Serializes as `{"email": "...", "servers": [...]}` with the servers in the order of [`Self::servers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSettings {
    email: EmailAddress,
    imap: ServerSetting,
    pop3: ServerSetting,
    smtp: ServerSetting,
    imap_plain: ServerSetting,
    pop3_plain: ServerSetting,
    submission: ServerSetting,
    smtp_plain: ServerSetting,
}

impl MailboxSettings {
    pub fn email(&self) -> &EmailAddress {
        &self.email
    }

    /// The recommended (implicit TLS) setting of a protocol.
    pub fn recommended(&self, protocol: Protocol) -> &ServerSetting {
        match protocol {
            Protocol::Imap => &self.imap,
            Protocol::Pop3 => &self.pop3,
            Protocol::Smtp => &self.smtp,
        }
    }

    /// Every setting: first the recommended ones (IMAP 993, POP3 995, SMTP 465), then the plain ports
    /// (IMAP 143, POP3 110, SMTP 587, SMTP 25) with STARTTLS where configured, else unencrypted.
    pub fn servers(&self) -> Vec<&ServerSetting> {
        vec![&self.imap, &self.pop3, &self.smtp, &self.imap_plain, &self.pop3_plain, &self.submission, &self.smtp_plain]
    }
}

impl Serialize for MailboxSettings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("MailboxSettings", 2)?;
        s.serialize_field("email", self.email.as_str())?;
        s.serialize_field("servers", &self.servers())?;
        s.end()
    }
}

/// The settings for `email`. The user name is the full address; nothing depends on whether the mailbox exists.
pub fn mailbox_settings(cfg: &MailConfig, email: &EmailAddress) -> MailboxSettings {
    let setting = |protocol: Protocol, host: &str, port: u16, security: Security| ServerSetting {
        direction: protocol.direction(),
        protocol,
        host: host.to_owned(),
        port,
        security,
        username: email.as_str().to_owned(),
        recommended: security == Security::SslTls,
    };
    let (inc, out) = (&cfg.incoming, &cfg.outgoing);
    let plain_in = if inc.starttls { Security::StartTls } else { Security::None };
    let plain_out = if out.starttls { Security::StartTls } else { Security::None };
    MailboxSettings {
        email: email.clone(),
        imap: setting(Protocol::Imap, &inc.ssl_host, inc.imap_ssl_port, Security::SslTls),
        pop3: setting(Protocol::Pop3, &inc.ssl_host, inc.pop3_ssl_port, Security::SslTls),
        smtp: setting(Protocol::Smtp, &out.ssl_host, out.smtp_ssl_port, Security::SslTls),
        imap_plain: setting(Protocol::Imap, &inc.plain_host, inc.imap_plain_port, plain_in),
        pop3_plain: setting(Protocol::Pop3, &inc.plain_host, inc.pop3_plain_port, plain_in),
        submission: setting(Protocol::Smtp, &out.plain_host, out.submission_port, plain_out),
        smtp_plain: setting(Protocol::Smtp, &out.plain_host, out.smtp_plain_port, plain_out),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn recommended_first_then_plain() {
        let mut cfg = MailConfig::demo();
        let email = EmailAddress::parse("anna@example.org").unwrap();
        let s = mailbox_settings(&cfg, &email);
        let rows: Vec<_> =
            s.servers().iter().map(|x| (x.protocol, x.host.as_str(), x.port, x.security, x.recommended)).collect();
        assert_eq!(
            rows,
            vec![
                (Protocol::Imap, "sslmail.hostwerk.example", 993, Security::SslTls, true),
                (Protocol::Pop3, "sslmail.hostwerk.example", 995, Security::SslTls, true),
                (Protocol::Smtp, "smtp.hostwerk.example", 465, Security::SslTls, true),
                (Protocol::Imap, "mail.hostwerk.example", 143, Security::StartTls, false),
                (Protocol::Pop3, "mail.hostwerk.example", 110, Security::StartTls, false),
                (Protocol::Smtp, "smtp.hostwerk.example", 587, Security::StartTls, false),
                (Protocol::Smtp, "smtp.hostwerk.example", 25, Security::StartTls, false),
            ]
        );
        assert!(s.servers().iter().all(|x| x.username == "anna@example.org"));
        assert_eq!(s.recommended(Protocol::Smtp).direction, Direction::Outgoing);

        cfg.incoming.starttls = false;
        cfg.outgoing.starttls = false;
        let s = mailbox_settings(&cfg, &email);
        assert!(s.servers().iter().filter(|x| !x.recommended).all(|x| x.security == Security::None));
    }

    #[test]
    fn serializes_to_json() {
        let email = EmailAddress::parse("anna@example.org").unwrap();
        let json = serde_json::to_value(mailbox_settings(&MailConfig::demo(), &email)).unwrap();
        assert_eq!(json["email"], "anna@example.org");
        assert_eq!(json["servers"].as_array().unwrap().len(), 7);
        let first = &json["servers"][0];
        assert_eq!(first["direction"], "incoming");
        assert_eq!(first["protocol"], "imap");
        assert_eq!(first["host"], "sslmail.hostwerk.example");
        assert_eq!(first["port"], 993);
        assert_eq!(first["security"], "ssl_tls");
        assert_eq!(first["username"], "anna@example.org");
        assert_eq!(first["recommended"], true);
        assert_eq!(json["servers"][6]["recommended"], false);
        assert_eq!(json["servers"][6]["security"], "starttls");
    }
}
