//! The DNS records a hosted domain should publish so that clients find the mail servers by themselves.
//!
//! - SRV records per RFC 6186 and RFC 8314: `_imaps._tcp` (993, priority 0) and `_pop3s._tcp` (995, priority
//!   10: IMAP is preferred, RFC 6186 §3.4 lets priorities order the services), `_submissions._tcp` (465,
//!   priority 0) and `_submission._tcp` (587, priority 10, so implicit TLS wins as RFC 8314 §5.1 asks).
//!   `_submission._tcp` names the relay only when STARTTLS is configured on it; otherwise its target is `.`.
//! - `_imap._tcp` and `_pop3._tcp` always have the target `.` (priority 0, weight 0, port 0), which RFC 6186 §4
//!   defines as "service not available": discovery leads clients to implicit TLS only. The plain ports stay
//!   usable for customers who enter them by hand (the provider recommends encryption but does not force it).
//! - `autoconfig.<domain>` and `autodiscover.<domain>` as CNAMEs to [`MailConfig::autoconfig_target`] (the
//!   panel), for Thunderbird and Outlook. The panel needs a certificate for these names (Outlook only talks
//!   HTTPS to `autodiscover.<domain>`); `_autodiscover._tcp` (SRV, port 443, to the panel) is Outlook's
//!   fallback that works without one, after the user confirms the redirect.

use std::fmt;

use serde::Serialize;

use hostwerk_domain::DomainName;

use crate::config::MailConfig;

/// The data of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "UPPERCASE")]
pub enum RecordData {
    /// `priority weight port target.`; the target `.` means "not offered".
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: String,
    },
    Cname {
        target: String,
    },
}

/// One resource record, owner and target written as absolute names (with the final dot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DnsRecord {
    pub name: String,
    pub ttl: u32,
    #[serde(flatten)]
    pub data: RecordData,
}

impl DnsRecord {
    /// The record as a zone-file line: `_imaps._tcp.example.org. 3600 IN SRV 0 1 993 sslmail.hostwerk.example.`
    pub fn zone_line(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for DnsRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.data {
            RecordData::Srv { priority, weight, port, target } => {
                write!(f, "{} {} IN SRV {priority} {weight} {port} {target}", self.name, self.ttl)
            }
            RecordData::Cname { target } => write!(f, "{} {} IN CNAME {target}", self.name, self.ttl),
        }
    }
}

/// The records for `domain`, SRV records first.
pub fn dns_records(cfg: &MailConfig, domain: &DomainName) -> Vec<DnsRecord> {
    let (inc, out) = (&cfg.incoming, &cfg.outgoing);
    let record =
        |label: &str, data: RecordData| DnsRecord { name: format!("{label}.{domain}."), ttl: cfg.dns_ttl, data };
    let srv = |label: &str, priority: u16, port: u16, host: &str| {
        record(label, RecordData::Srv { priority, weight: 1, port, target: format!("{host}.") })
    };
    let none = |label: &str| record(label, RecordData::Srv { priority: 0, weight: 0, port: 0, target: ".".into() });

    let mut records = vec![
        srv("_imaps._tcp", 0, inc.imap_ssl_port, &inc.ssl_host),
        srv("_pop3s._tcp", 10, inc.pop3_ssl_port, &inc.ssl_host),
        none("_imap._tcp"),
        none("_pop3._tcp"),
        srv("_submissions._tcp", 0, out.smtp_ssl_port, &out.ssl_host),
    ];
    records.push(if out.starttls {
        srv("_submission._tcp", 10, out.submission_port, &out.plain_host)
    } else {
        none("_submission._tcp")
    });
    records.push(srv("_autodiscover._tcp", 0, 443, &cfg.autoconfig_target));
    let cname = |label: &str| record(label, RecordData::Cname { target: format!("{}.", cfg.autoconfig_target) });
    records.push(cname("autoconfig"));
    records.push(cname("autodiscover"));
    records
}
