//! Nodes: the provider's webservers and backup servers.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::hostname::DomainName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeRole {
    Webserver,
    BackupServer,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    #[error("the role must be webserver or backup_server")]
    UnknownRole,
    #[error("a node name is a host name such as web042 or backup7.example.net")]
    MalformedName,
    #[error("the address is an IP address such as 10.0.0.42 or a full host name such as web042.example.net")]
    MalformedAddress,
}

impl NodeRole {
    pub fn parse(input: &str) -> Result<Self, NodeError> {
        match input.trim() {
            "webserver" => Ok(Self::Webserver),
            "backup_server" | "backupserver" => Ok(Self::BackupServer),
            _ => Err(NodeError::UnknownRole),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webserver => "webserver",
            Self::BackupServer => "backup_server",
        }
    }
}

impl fmt::Display for NodeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node's host name: DNS labels of letters, digits and hyphens (one label is enough).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeName(String);

impl NodeName {
    pub fn parse(input: &str) -> Result<Self, NodeError> {
        let s = input.trim().to_ascii_lowercase();
        let ok = !s.is_empty()
            && s.len() <= 253
            && s.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if ok {
            Ok(Self(s))
        } else {
            Err(NodeError::MalformedName)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the panel reaches a node: an IP address (v4 or v6) or a fully qualified host name. A single word such
/// as `keine-ip` is neither, so it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeAddress {
    Ip(IpAddr),
    Host(DomainName),
}

impl NodeAddress {
    pub fn parse(input: &str) -> Result<Self, NodeError> {
        let s = input.trim();
        // `[::1]` as it appears in URLs is the same address.
        let bare = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')).unwrap_or(s);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(Self::Ip(ip));
        }
        // Something made of digits and dots that is no IP address (10.0.0.256, 10.0.0) is a mistyped address,
        // not a host name; `DomainName` refuses an all-digit top-level label, which covers it.
        DomainName::parse(s).map(Self::Host).map_err(|_| NodeError::MalformedAddress)
    }
}

impl fmt::Display for NodeAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => write!(f, "{ip}"),
            Self::Host(h) => f.write_str(h.as_str()),
        }
    }
}

/// Within how many seconds of its last request a node's agent counts as online. Agents poll the panel at
/// least every 10 s (and the panel records a visit at most every 10 s), so a minute is several missed polls.
pub const AGENT_ONLINE_WITHIN_SECS: i64 = 60;

/// What the panel knows of a node's agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    /// No agent has ever called with this node's token.
    Never,
    /// The agent called within [`AGENT_ONLINE_WITHIN_SECS`].
    Online,
    /// The agent called, but not recently.
    Offline,
}

impl AgentStatus {
    /// The status at `now` (Unix seconds) of an agent last seen at `last_seen`.
    pub fn at(last_seen: Option<i64>, now: i64) -> Self {
        match last_seen {
            None => Self::Never,
            Some(seen) if now - seen <= AGENT_ONLINE_WITHIN_SECS => Self::Online,
            Some(_) => Self::Offline,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Online => "online",
            Self::Offline => "offline",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(NodeAddress::parse(" 10.0.0.42 ").unwrap(), NodeAddress::Ip("10.0.0.42".parse().unwrap()));
        assert_eq!(NodeAddress::parse("[2001:db8::1]").unwrap().to_string(), "2001:db8::1");
        assert_eq!(NodeAddress::parse("Web042.Example.NET").unwrap().to_string(), "web042.example.net");
        for bad in [
            "keine-ip",
            "",
            " ",
            "localhost",
            "10.0.0.256",
            "10.0.0",
            "1.2.3.4.5",
            "web 1.example.net",
            "http://10.0.0.1",
            "10.0.0.1:22",
            "-a.example.net",
            "a_b.example.net",
        ] {
            assert_eq!(NodeAddress::parse(bad), Err(NodeError::MalformedAddress), "{bad}");
        }
    }

    #[test]
    fn agent_status() {
        assert_eq!(AgentStatus::at(None, 1000), AgentStatus::Never);
        assert_eq!(AgentStatus::at(Some(1000 - AGENT_ONLINE_WITHIN_SECS), 1000), AgentStatus::Online);
        assert_eq!(AgentStatus::at(Some(1000 - AGENT_ONLINE_WITHIN_SECS - 1), 1000), AgentStatus::Offline);
    }

    proptest::proptest! {
        #[test]
        fn every_ip_address_parses_and_round_trips(ip in proptest::prelude::any::<IpAddr>()) {
            let parsed = NodeAddress::parse(&ip.to_string()).unwrap();
            proptest::prop_assert_eq!(&parsed, &NodeAddress::Ip(ip));
            proptest::prop_assert_eq!(NodeAddress::parse(&parsed.to_string()).unwrap(), parsed);
        }

        #[test]
        fn a_single_word_is_never_an_address(word in "[a-zA-Z][a-zA-Z0-9-]{0,30}") {
            proptest::prop_assert_eq!(NodeAddress::parse(&word), Err(NodeError::MalformedAddress));
        }

        #[test]
        fn what_parses_prints_as_it_parses(input in "\\PC{0,40}") {
            if let Ok(a) = NodeAddress::parse(&input) {
                let printed = a.to_string();
                proptest::prop_assert!(!printed.contains(char::is_whitespace));
                proptest::prop_assert_eq!(NodeAddress::parse(&printed).unwrap(), a);
            }
        }

        #[test]
        fn host_names_of_two_or_more_labels_parse(
            labels in proptest::collection::vec("[a-z][a-z0-9-]{0,10}[a-z0-9]", 1..4),
            top in "[a-z]{2,6}",
        ) {
            let name = format!("{}.{top}", labels.join("."));
            proptest::prop_assert_eq!(NodeAddress::parse(&name).unwrap().to_string(), name);
        }
    }

    #[test]
    fn parses() {
        assert_eq!(NodeName::parse("Web042").unwrap().as_str(), "web042");
        assert!(NodeName::parse("backup7.example.net").is_ok());
        assert!(NodeName::parse("web 1").is_err());
        assert_eq!(NodeRole::parse("backup_server").unwrap(), NodeRole::BackupServer);
        assert!(NodeRole::parse("db").is_err());
    }
}
