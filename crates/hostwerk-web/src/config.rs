//! The panel's configuration (`hostwerk.toml`): public URL, mail delivery, sessions and provider details.

use serde::Deserialize;

/// Settings of the web application. Every field has a default suitable for the demo.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The URL customers reach the panel at; used in e-mail links. Cookies are `Secure` when it is https.
    pub public_url: String,
    /// The provider's name, shown in pages and mails.
    pub provider_name: String,
    /// Sender address of mails.
    pub mail_from: String,
    /// Deliver mail through this SMTP relay; without it, mails only go to the outbox (`/staff/outbox`).
    pub smtp: Option<SmtpConfig>,
    /// Directory on the webservers under which contract webspaces live.
    pub webspace_root: String,
    /// Lifetime of a login session in minutes.
    pub session_minutes: i64,
    /// Lifetime of an API token in days.
    pub api_token_days: i64,
    /// Path of a tariff catalog in TOML; the demo catalog is used when empty.
    pub tariffs: Option<std::path::PathBuf>,
    /// How long a verified phone call lets support act for the customer, in seconds (default 30 minutes).
    pub call_context_secs: i64,
    /// Phone checks one staff member may make per ten minutes before being throttled.
    pub phone_checks_per_10min: u32,
}

/// An SMTP relay (plain SMTP, e.g. the local MTA on port 25).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
}

fn default_smtp_port() -> u16 {
    25
}

impl Default for Config {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            provider_name: "hostwerk Demo-Hosting".into(),
            mail_from: "kundenservice@hostwerk.invalid".into(),
            smtp: None,
            webspace_root: "/var/www".into(),
            session_minutes: 120,
            api_token_days: 30,
            tariffs: None,
            call_context_secs: hostwerk_domain::phone::CALL_CONTEXT_SECS,
            phone_checks_per_10min: 30,
        }
    }
}

impl Config {
    /// Whether cookies must carry the `Secure` flag.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
