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
    /// Memory for rendered dashboards, reused while the customer's data is unchanged (MiB; 0 turns it off).
    pub dashboard_cache_mib: u64,
    /// Path of a tariff catalog in TOML; the demo catalog is used when empty.
    pub tariffs: Option<std::path::PathBuf>,
    /// How long a verified phone call lets support act for the customer, in seconds (default 30 minutes).
    pub call_context_secs: i64,
    /// Phone checks one staff member may make per ten minutes before being throttled.
    pub phone_checks_per_10min: u32,
    /// Where customer-service requests are announced (the support team's mailbox).
    pub support_email: String,
    /// Where requests to management are announced; support never gets these.
    pub management_email: String,
    /// The remote-support tool offered on invitation pages.
    pub remote_support: RemoteSupportConfig,
    /// How often node agents ask for the limits, in seconds (1–10; a change applies within this time).
    pub agent_poll_seconds: u64,
    /// Seconds between SIGTERM and SIGKILL when the agent ends a process.
    pub agent_grace_seconds: u64,
    /// The provider's mail servers, for mailbox settings, setup guides and client autoconfiguration.
    pub mail_client: hostwerk_mailconfig::MailConfig,
    /// The blog's categories.
    pub blog_categories: Vec<String>,
    /// Mail domains of the provider's staff: their addresses never take part in a giveaway.
    pub staff_email_domains: Vec<String>,
    /// Blog comments one client address may send per minute.
    pub comments_per_minute: u32,
    /// Backups: the nightly window, caps, the repositories of the webservers.
    pub backup: BackupConfig,
    /// Reverse proxies in front of the panel (addresses or networks, e.g. `["127.0.0.1", "10.0.0.0/8"]`): only
    /// from these peers is `X-Forwarded-For` believed, and the client is its last address that is not one of
    /// them. Rate limits key on that client. Empty (the default): the TCP peer is the client.
    pub trusted_proxies: Vec<ProxyNet>,
    /// Login security: who must have a second factor.
    pub security: SecurityConfig,
    /// Set by `hostwerk serve --demo`, never by the file: the outbox keeps the secrets of mails (reset and
    /// invitation links), because the demo delivers mail nowhere else.
    #[serde(skip)]
    pub demo: bool,
}

/// `[security]`: admin and management accounts always need a second factor (TOTP) before they can use the
/// console; support accounts too when `second_factor_for_support` is set. Customers choose for themselves.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    pub second_factor_for_support: bool,
}

/// One entry of `trusted_proxies`: an address (`10.0.0.5`) or a network (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProxyNet(ipnet::IpNet);

impl ProxyNet {
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        self.0.contains(&ip)
    }
}

impl TryFrom<String> for ProxyNet {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(Self(net));
        }
        s.parse::<std::net::IpAddr>()
            .map(|ip| Self(ipnet::IpNet::from(ip)))
            .map_err(|_| format!("trusted_proxies: {s:?} is neither an address nor a network like 10.0.0.0/8"))
    }
}

impl std::str::FromStr for ProxyNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::try_from(s.to_owned())
    }
}

/// How backups run: the nightly window, concurrency caps, the job queue's timings, where mail lives on the
/// webservers, and how the panel reaches each webserver's repository (to browse, download and maintain).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// The nightly window, `HH:MM-HH:MM` in `time_zone` (default 22:00-06:00).
    pub window: String,
    pub time_zone: String,
    /// Jobs one webserver runs at once.
    pub webserver_concurrency: usize,
    /// Jobs one backup server takes at once.
    pub backup_server_concurrency: usize,
    /// Whether restores skip admission control (default: no — a restore, too, must keep the nightly jobs in
    /// their window; it still runs before every queued nightly job).
    pub restores_bypass_admission: bool,
    /// How often the panel queues the night's jobs and looks for jobs whose agent stopped reporting, in seconds.
    pub tick_seconds: u64,
    /// A running job whose agent sent no heartbeat for this long is queued again (or failed after
    /// `max_attempts`).
    pub heartbeat_timeout_seconds: i64,
    pub max_attempts: i64,
    /// Estimated duration of a contract's first backup, in seconds (later ones use the last run's duration).
    pub default_estimate_seconds: i64,
    /// The least any job is estimated to take (connection, snapshot and index overhead), in seconds.
    pub min_estimate_seconds: i64,
    /// Days on-demand snapshots are kept (they count against the tariff's on-demand quota until then).
    pub on_demand_keep_days: u32,
    /// Days the safety snapshots taken before an in-place restore are kept.
    pub safety_keep_days: u32,
    /// Root of the mail folders on the webservers: a mailbox `local@domain` lives in `mail_root/domain/local`.
    pub mail_root: String,
    /// The repository of each webserver as the panel reaches it (maintenance rights: forget and prune).
    pub repositories: Vec<RepositoryConfig>,
    /// Run the jobs of the webservers whose repository is a local folder inside the panel (one-machine
    /// setups and the demo); otherwise `hostwerk agent` on each webserver runs them.
    pub local_worker: bool,
    /// Test support: a file holding an RFC 3339 time that the backup scheduler takes as "now" (advancing
    /// with real time since the file was written). Never set in production.
    pub test_clock_file: Option<std::path::PathBuf>,
}

/// One webserver's backup repository.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryConfig {
    /// The webserver's node name, e.g. `web001`.
    pub webserver: String,
    /// A folder, `rest:https://backup01.example.net:8443/web001`, or `s3:https://HOST/BUCKET/PREFIX`.
    pub location: String,
    /// File holding the repository password.
    pub password_file: std::path::PathBuf,
    /// File holding the repository server token (maintenance rights) for `rest:` locations.
    #[serde(default)]
    pub token_file: Option<std::path::PathBuf>,
    /// PEM file of the CA that signed the repository server's certificate (when not a public CA).
    #[serde(default)]
    pub ca_cert: Option<std::path::PathBuf>,
}

impl RepositoryConfig {
    /// The location and secrets, as the backup engine opens them.
    pub fn access(&self) -> hostwerk_backup::RepositoryAccess {
        hostwerk_backup::RepositoryAccess {
            location: self.location.clone(),
            password_file: self.password_file.clone(),
            token_file: self.token_file.clone(),
            ca_cert: self.ca_cert.clone(),
        }
    }
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            window: "22:00-06:00".into(),
            time_zone: "Europe/Berlin".into(),
            webserver_concurrency: 2,
            backup_server_concurrency: 4,
            restores_bypass_admission: false,
            tick_seconds: 30,
            heartbeat_timeout_seconds: 300,
            max_attempts: 3,
            default_estimate_seconds: 600,
            min_estimate_seconds: 60,
            on_demand_keep_days: 14,
            safety_keep_days: 7,
            mail_root: "/var/vmail".into(),
            repositories: Vec::new(),
            local_worker: false,
            test_clock_file: None,
        }
    }
}

/// The provider's remote-support tool: its name and a download per operating system.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteSupportConfig {
    pub tool_name: String,
    pub windows: String,
    pub macos: String,
    pub linux: String,
    pub ios: String,
    pub android: String,
    /// How long an invitation link is valid, in hours.
    pub invitation_hours: i64,
}

impl Default for RemoteSupportConfig {
    fn default() -> Self {
        // The seed's provider offers TeamViewer QuickSupport; these are the vendor's public download pages.
        Self {
            tool_name: "TeamViewer QuickSupport".into(),
            windows: "https://download.teamviewer.com/download/TeamViewerQS.exe".into(),
            macos: "https://download.teamviewer.com/download/TeamViewerQS.dmg".into(),
            linux: "https://www.teamviewer.com/de/download/linux/".into(),
            ios: "https://apps.apple.com/app/teamviewer-quicksupport/id661649585".into(),
            android: "https://play.google.com/store/apps/details?id=com.teamviewer.quicksupport.market".into(),
            invitation_hours: 24,
        }
    }
}

impl RemoteSupportConfig {
    /// The download for `os`.
    pub fn download(&self, os: hostwerk_domain::remote_support::ClientOs) -> &str {
        use hostwerk_domain::remote_support::ClientOs;
        match os {
            ClientOs::Windows => &self.windows,
            ClientOs::MacOs => &self.macos,
            ClientOs::Linux => &self.linux,
            ClientOs::Ios => &self.ios,
            ClientOs::Android => &self.android,
        }
    }
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
            dashboard_cache_mib: 32,
            tariffs: None,
            call_context_secs: hostwerk_domain::phone::CALL_CONTEXT_SECS,
            phone_checks_per_10min: 30,
            support_email: "support@hostwerk.invalid".into(),
            management_email: "geschaeftsleitung@hostwerk.invalid".into(),
            remote_support: RemoteSupportConfig::default(),
            agent_poll_seconds: 5,
            agent_grace_seconds: 5,
            mail_client: hostwerk_mailconfig::MailConfig::demo(),
            blog_categories: vec!["Allgemein".into(), "Juhuu".into(), "Fachchinesisch".into(), "Sicherheit".into()],
            trusted_proxies: Vec::new(),
            security: SecurityConfig::default(),
            demo: false,
            staff_email_domains: vec!["hostwerk.invalid".into()],
            comments_per_minute: 5,
            backup: BackupConfig::default(),
        }
    }
}

impl Config {
    /// Whether cookies must carry the `Secure` flag.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
