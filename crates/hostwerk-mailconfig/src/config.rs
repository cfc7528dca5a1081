//! The provider's mail-client configuration: host names, ports and names, loaded from TOML and validated.

use serde::{Deserialize, Serialize};

use hostwerk_domain::DomainName;

/// The demo configuration as TOML, the way it would stand under `[mail_client]` in `hostwerk.toml`.
pub const DEMO_MAIL_CONFIG_TOML: &str = include_str!("mail_client.demo.toml");

/// Why a mail-client configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("mail client configuration: {0}")]
    Toml(String),
    #[error("mail client configuration: {field} = {value:?} is not a host name like mail.example.net")]
    Host { field: &'static str, value: String },
    #[error("mail client configuration: {field} must be a port between 1 and 65535")]
    Port { field: &'static str },
    #[error("mail client configuration: {field} must be a non-empty text of at most 200 characters without control characters")]
    Text { field: &'static str },
    #[error("mail client configuration: webmail_url = {0:?} must be an https:// address with a host name")]
    WebmailUrl(String),
    #[error("mail client configuration: dns_ttl must be between 1 and 2147483647 seconds")]
    Ttl,
}

/// The servers that deliver mail to the client (IMAP, POP3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomingServers {
    /// The host for implicit TLS (IMAPS, POP3S), e.g. `sslmail.hostwerk.example`.
    pub ssl_host: String,
    /// The host for the plain ports (143, 110), e.g. `mail.hostwerk.example`.
    pub plain_host: String,
    #[serde(default = "default_imap_ssl")]
    pub imap_ssl_port: u16,
    #[serde(default = "default_pop3_ssl")]
    pub pop3_ssl_port: u16,
    #[serde(default = "default_imap_plain")]
    pub imap_plain_port: u16,
    #[serde(default = "default_pop3_plain")]
    pub pop3_plain_port: u16,
    /// Whether the plain ports offer STARTTLS (then they are listed as STARTTLS, otherwise as unencrypted).
    #[serde(default)]
    pub starttls: bool,
}

/// The servers that accept mail from the client (SMTP submission).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingServers {
    /// The host for implicit TLS (port 465), e.g. `smtp.hostwerk.example`.
    pub ssl_host: String,
    /// The host for the plain ports (587, 25).
    pub plain_host: String,
    #[serde(default = "default_smtp_ssl")]
    pub smtp_ssl_port: u16,
    #[serde(default = "default_submission")]
    pub submission_port: u16,
    #[serde(default = "default_smtp_plain")]
    pub smtp_plain_port: u16,
    /// Whether the plain ports offer STARTTLS.
    #[serde(default)]
    pub starttls: bool,
}

/// How the provider's mail servers are reached; the input of every document in this crate.
///
/// Deserializing validates (host names, ports, texts, the webmail address) and normalizes host names to lower
/// case, so a `MailConfig` read from TOML is always valid. A value built by hand can be checked with
/// [`MailConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawMailConfig")]
pub struct MailConfig {
    /// The provider's identifier, a domain name (Thunderbird's `emailProvider id`; reversed, the prefix of the
    /// Apple profile identifiers).
    pub provider_id: String,
    /// The provider's name as clients show it (`displayName`, `PayloadOrganization`).
    pub display_name: String,
    /// A short form of the name (`displayShortName`).
    pub display_short_name: String,
    /// The webmail login page; always `https://`.
    pub webmail_url: String,
    /// The host that serves the autoconfig and Autodiscover documents (the panel): the target of the
    /// `autoconfig.<domain>` and `autodiscover.<domain>` CNAMEs and the `_autodiscover._tcp` SRV record.
    pub autoconfig_target: String,
    /// The TTL of the suggested DNS records, in seconds.
    pub dns_ttl: u32,
    pub incoming: IncomingServers,
    pub outgoing: OutgoingServers,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMailConfig {
    provider_id: String,
    display_name: String,
    display_short_name: String,
    webmail_url: String,
    autoconfig_target: String,
    #[serde(default = "default_ttl")]
    dns_ttl: u32,
    incoming: IncomingServers,
    outgoing: OutgoingServers,
}

fn default_imap_ssl() -> u16 {
    993
}
fn default_pop3_ssl() -> u16 {
    995
}
fn default_imap_plain() -> u16 {
    143
}
fn default_pop3_plain() -> u16 {
    110
}
fn default_smtp_ssl() -> u16 {
    465
}
fn default_submission() -> u16 {
    587
}
fn default_smtp_plain() -> u16 {
    25
}
fn default_ttl() -> u32 {
    3600
}

impl TryFrom<RawMailConfig> for MailConfig {
    type Error = ConfigError;

    fn try_from(raw: RawMailConfig) -> Result<Self, ConfigError> {
        let mut cfg = MailConfig {
            provider_id: raw.provider_id,
            display_name: raw.display_name,
            display_short_name: raw.display_short_name,
            webmail_url: raw.webmail_url,
            autoconfig_target: raw.autoconfig_target,
            dns_ttl: raw.dns_ttl,
            incoming: raw.incoming,
            outgoing: raw.outgoing,
        };
        cfg.normalize()?;
        Ok(cfg)
    }
}

impl MailConfig {
    /// The demo configuration: the demo provider's own servers under the reserved name `hostwerk.example`
    /// (`sslmail.`, `mail.`, `smtp.`, `webmail.` and `panel.hostwerk.example`) with the standard ports and
    /// STARTTLS on the plain ports; never a third party's hosts. Equal to [`DEMO_MAIL_CONFIG_TOML`] parsed.
    pub fn demo() -> Self {
        MailConfig {
            provider_id: "hostwerk.example".into(),
            display_name: "hostwerk Webhosting (Demo)".into(),
            display_short_name: "hostwerk".into(),
            webmail_url: "https://webmail.hostwerk.example/".into(),
            autoconfig_target: "panel.hostwerk.example".into(),
            dns_ttl: 3600,
            incoming: IncomingServers {
                ssl_host: "sslmail.hostwerk.example".into(),
                plain_host: "mail.hostwerk.example".into(),
                imap_ssl_port: 993,
                pop3_ssl_port: 995,
                imap_plain_port: 143,
                pop3_plain_port: 110,
                starttls: true,
            },
            outgoing: OutgoingServers {
                ssl_host: "smtp.hostwerk.example".into(),
                plain_host: "smtp.hostwerk.example".into(),
                smtp_ssl_port: 465,
                submission_port: 587,
                smtp_plain_port: 25,
                starttls: true,
            },
        }
    }

    /// Parses and validates a configuration in TOML (the fields of [`MailConfig`] at the top level).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.message().to_owned()))
    }

    /// Checks every field, as deserializing does.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.clone().normalize()
    }

    /// Validates every field and lower-cases the host names.
    fn normalize(&mut self) -> Result<(), ConfigError> {
        normalize_host("provider_id", &mut self.provider_id)?;
        normalize_host("autoconfig_target", &mut self.autoconfig_target)?;
        normalize_host("incoming.ssl_host", &mut self.incoming.ssl_host)?;
        normalize_host("incoming.plain_host", &mut self.incoming.plain_host)?;
        normalize_host("outgoing.ssl_host", &mut self.outgoing.ssl_host)?;
        normalize_host("outgoing.plain_host", &mut self.outgoing.plain_host)?;
        check_text("display_name", &self.display_name)?;
        check_text("display_short_name", &self.display_short_name)?;
        check_webmail_url(&self.webmail_url)?;
        for (field, port) in [
            ("incoming.imap_ssl_port", self.incoming.imap_ssl_port),
            ("incoming.pop3_ssl_port", self.incoming.pop3_ssl_port),
            ("incoming.imap_plain_port", self.incoming.imap_plain_port),
            ("incoming.pop3_plain_port", self.incoming.pop3_plain_port),
            ("outgoing.smtp_ssl_port", self.outgoing.smtp_ssl_port),
            ("outgoing.submission_port", self.outgoing.submission_port),
            ("outgoing.smtp_plain_port", self.outgoing.smtp_plain_port),
        ] {
            if port == 0 {
                return Err(ConfigError::Port { field });
            }
        }
        if self.dns_ttl == 0 || self.dns_ttl > i32::MAX as u32 {
            return Err(ConfigError::Ttl);
        }
        Ok(())
    }
}

fn normalize_host(field: &'static str, value: &mut String) -> Result<(), ConfigError> {
    let parsed = DomainName::parse(value).map_err(|_| ConfigError::Host { field, value: value.clone() })?;
    *value = parsed.as_str().to_owned();
    Ok(())
}

fn check_text(field: &'static str, value: &str) -> Result<(), ConfigError> {
    if value.trim().is_empty() || value.chars().count() > 200 || value.chars().any(char::is_control) {
        return Err(ConfigError::Text { field });
    }
    Ok(())
}

fn check_webmail_url(url: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::WebmailUrl(url.to_owned());
    let rest = url.strip_prefix("https://").ok_or_else(bad)?;
    if url.len() > 2000 || url.chars().any(|c| c.is_control() || c.is_whitespace() || "\"<>\\`{}|^".contains(c)) {
        return Err(bad());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.rsplit_once(':') {
        Some((host, port)) => {
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(bad());
            }
            host
        }
        None => authority,
    };
    DomainName::parse(host).map_err(|_| bad())?;
    if host != host.trim() || host.contains('@') {
        return Err(bad());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn demo_toml_is_the_demo() {
        assert_eq!(MailConfig::from_toml(DEMO_MAIL_CONFIG_TOML).unwrap(), MailConfig::demo());
        // The demo points customers at the demo provider's own (reserved) names only (issue 16).
        let demo = MailConfig::demo();
        let hosts = [
            demo.provider_id.as_str(),
            demo.autoconfig_target.as_str(),
            demo.incoming.ssl_host.as_str(),
            demo.incoming.plain_host.as_str(),
            demo.outgoing.ssl_host.as_str(),
            demo.outgoing.plain_host.as_str(),
        ];
        for host in hosts {
            assert!(host == "hostwerk.example" || host.ends_with(".hostwerk.example"), "{host}");
        }
        assert!(demo.webmail_url.starts_with("https://webmail.hostwerk.example/"));
        assert!(!DEMO_MAIL_CONFIG_TOML.contains("ispgateway"));
        MailConfig::demo().validate().unwrap();
    }

    #[test]
    fn ports_default_and_hosts_are_lower_cased() {
        let text = r#"
            provider_id = "Example.NET"
            display_name = "Example"
            display_short_name = "Ex"
            webmail_url = "https://webmail.example.net:8443/login?x=1"
            autoconfig_target = "panel.example.net."
            [incoming]
            ssl_host = "IMAP.example.net"
            plain_host = "mail.example.net"
            [outgoing]
            ssl_host = "smtp.example.net"
            plain_host = "smtp.example.net"
        "#;
        let cfg = MailConfig::from_toml(text).unwrap();
        assert_eq!(cfg.provider_id, "example.net");
        assert_eq!(cfg.autoconfig_target, "panel.example.net");
        assert_eq!(cfg.incoming.ssl_host, "imap.example.net");
        assert_eq!(
            (cfg.incoming.imap_ssl_port, cfg.incoming.pop3_ssl_port, cfg.incoming.imap_plain_port),
            (993, 995, 143)
        );
        assert_eq!(cfg.incoming.pop3_plain_port, 110);
        assert_eq!(
            (cfg.outgoing.smtp_ssl_port, cfg.outgoing.submission_port, cfg.outgoing.smtp_plain_port),
            (465, 587, 25)
        );
        assert!(!cfg.incoming.starttls && !cfg.outgoing.starttls);
        assert_eq!(cfg.dns_ttl, 3600);
    }

    #[test]
    fn embeds_in_a_larger_file() {
        #[derive(Deserialize)]
        struct File {
            mail_client: MailConfig,
        }
        let text = format!(
            "[mail_client]\n{}",
            DEMO_MAIL_CONFIG_TOML
                .replace("[incoming]", "[mail_client.incoming]")
                .replace("[outgoing]", "[mail_client.outgoing]")
        );
        let file: File = toml::from_str(&text).unwrap();
        assert_eq!(file.mail_client, MailConfig::demo());
    }

    #[test]
    fn rejects_bad_values() {
        let demo = MailConfig::demo();
        type Change = fn(&mut MailConfig);
        let cases: Vec<(Change, &str)> = vec![
            (|c| c.incoming.ssl_host = String::new(), "incoming.ssl_host"),
            (|c| c.incoming.plain_host = "mail pool.example".into(), "incoming.plain_host"),
            (|c| c.outgoing.ssl_host = "localhost".into(), "outgoing.ssl_host"),
            (|c| c.outgoing.plain_host = "smtp_relay.example.net".into(), "outgoing.plain_host"),
            (|c| c.autoconfig_target = "1.2.3.4".into(), "autoconfig_target"),
            (|c| c.provider_id = "-x.de".into(), "provider_id"),
            (|c| c.incoming.imap_ssl_port = 0, "incoming.imap_ssl_port"),
            (|c| c.outgoing.submission_port = 0, "outgoing.submission_port"),
            (|c| c.display_name = "  ".into(), "display_name"),
            (|c| c.display_short_name = "a\nb".into(), "display_short_name"),
            (|c| c.webmail_url = "http://webmail.example.net/".into(), "webmail_url"),
            (|c| c.webmail_url = "https://".into(), "webmail_url"),
            (|c| c.webmail_url = "https://web mail.example.net/".into(), "webmail_url"),
            (|c| c.webmail_url = "https://user@webmail.example.net/".into(), "webmail_url"),
            (|c| c.webmail_url = "https://webmail.example.net:0/".into(), "webmail_url"),
            (|c| c.dns_ttl = 0, "dns_ttl"),
        ];
        for (change, field) in cases {
            let mut cfg = demo.clone();
            change(&mut cfg);
            let err = cfg.validate().unwrap_err();
            assert!(err.to_string().contains(field), "{field}: {err}");
        }
    }

    #[test]
    fn toml_errors_name_the_problem() {
        let err = MailConfig::from_toml("provider_id = 3").unwrap_err();
        assert!(matches!(err, ConfigError::Toml(_)));
        let bad_port = DEMO_MAIL_CONFIG_TOML.replace("imap_ssl_port = 993", "imap_ssl_port = 0");
        let err = MailConfig::from_toml(&bad_port).unwrap_err();
        assert!(err.to_string().contains("incoming.imap_ssl_port"), "{err}");
        let typo = DEMO_MAIL_CONFIG_TOML.replace("starttls = true", "startls = true");
        assert!(MailConfig::from_toml(&typo).is_err());
    }
}
