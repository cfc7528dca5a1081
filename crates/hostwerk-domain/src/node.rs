//! Nodes: the provider's webservers and backup servers.

use std::fmt;

use serde::{Deserialize, Serialize};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(NodeName::parse("Web042").unwrap().as_str(), "web042");
        assert!(NodeName::parse("backup7.example.net").is_ok());
        assert!(NodeName::parse("web 1").is_err());
        assert_eq!(NodeRole::parse("backup_server").unwrap(), NodeRole::BackupServer);
        assert!(NodeRole::parse("db").is_err());
    }
}
