//! hostwerk-mailconfig: the documents that let mail clients configure themselves for a hosted mailbox.
//!
//! A provider describes its mail servers once ([`MailConfig`], loaded from TOML and validated); every function
//! here turns that description and a mailbox address or domain into a document, without I/O and without async:
//!
//! - [`mailbox_settings`]: the ordered list of server settings for one mailbox (JSON for the web layer);
//! - [`thunderbird_config`]: Thunderbird's autoconfig file (`/mail/config-v1.1.xml`);
//! - [`parse_autodiscover_request`], [`autodiscover_response`], [`autodiscover_error`]: Outlook's
//!   Autodiscover (POX, schema 2006/2006a), with a request parser that rejects DTDs, entities, oversized and
//!   malformed bodies without ever panicking;
//! - [`apple_mobileconfig`]: an Apple configuration profile (`application/x-apple-aspen-config`);
//! - [`dns_records`]: the SRV (RFC 6186, RFC 8314) and CNAME records a hosted domain should publish;
//! - [`guide`]: step-by-step setup guides for five clients in German and English, filled with the values.
//!
//! # Existing and non-existing mailboxes
//!
//! Every function takes any syntactically valid address and answers with the same shape of document whether
//! or not such a mailbox exists: the answer depends only on the configuration and on the address text. The web
//! layer does not look the mailbox up either, so these endpoints cannot be used to find out which addresses
//! exist. (The user name is always the full address, so nothing mailbox-specific is needed.)
//!
//! # Encryption
//!
//! The provider recommends, but does not force, encryption: implicit TLS (IMAP 993, POP3 995, SMTP 465) is what
//! every document offers first and what the mobileconfig, the Autodiscover answer and the guides use; the
//! plain ports (143, 110, 587, 25) appear in [`mailbox_settings`] flagged `recommended: false`, and as STARTTLS
//! alternatives in the Thunderbird file only where the configuration says STARTTLS is offered.

pub mod apple;
pub mod autodiscover;
pub mod config;
pub mod dns;
pub mod guides;
pub mod settings;
pub mod thunderbird;
mod xml;

pub use apple::{apple_mobileconfig, MobileconfigError, ProfileUuids, MOBILECONFIG_MIME_TYPE};
pub use autodiscover::{
    autodiscover_error, autodiscover_error_at, autodiscover_response, parse_autodiscover_request, AutodiscoverError,
    MAX_AUTODISCOVER_REQUEST_BYTES,
};
pub use config::{ConfigError, IncomingServers, MailConfig, OutgoingServers, DEMO_MAIL_CONFIG_TOML};
pub use dns::{dns_records, DnsRecord, RecordData};
pub use guides::{guide, Client, Guide};
pub use hostwerk_domain::{DomainName, EmailAddress, Language};
pub use settings::{mailbox_settings, Direction, MailboxSettings, Protocol, Security, ServerSetting};
pub use thunderbird::{thunderbird_config, thunderbird_config_for_domain};
pub use uuid::Uuid;
