//! The tokens file: who may do what to which repository. Tokens are stored only as SHA-256 hashes.

use std::path::Path;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ServerError;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Read files and list them; nothing else.
    ReadOnly,
    /// Read, create a repository that does not exist yet, and add new files. Never delete or
    /// overwrite, with one exception: lock files may be deleted.
    AppendOnly,
    /// Everything a repository client does, including deleting files (`forget`, `prune`).
    Maintenance,
}

impl Access {
    /// The spelling used in the tokens file.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::ReadOnly => "read-only",
            Access::AppendOnly => "append-only",
            Access::Maintenance => "maintenance",
        }
    }

    /// Parses the spelling used in the tokens file.
    pub fn parse(s: &str) -> Option<Access> {
        match s {
            "read-only" => Some(Access::ReadOnly),
            "append-only" => Some(Access::AppendOnly),
            "maintenance" => Some(Access::Maintenance),
            _ => None,
        }
    }
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the tokens file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// A name for logs (never the token itself).
    pub name: String,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
    /// What the token may do.
    pub access: Access,
    /// Repository names the token may use, or `["*"]` for all.
    pub repos: Vec<String>,
}

impl Token {
    /// Whether the token may use repository `repo`.
    pub fn allows_repo(&self, repo: &str) -> bool {
        self.repos.iter().any(|r| r == "*" || r == repo)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<Token>,
}

/// All tokens the server accepts.
#[derive(Debug, Clone, Default)]
pub struct TokenSet {
    tokens: Vec<(Token, [u8; 32])>,
}

/// SHA-256 of a token, lower-case hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether `name` is a valid repository name: `[a-z0-9][a-z0-9._-]*`, at most 64 characters.
pub fn valid_repo_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-'))
}

impl TokenSet {
    /// Builds a set from entries, validating each.
    pub fn new(tokens: Vec<Token>) -> Result<TokenSet, ServerError> {
        let mut out: Vec<(Token, [u8; 32])> = Vec::with_capacity(tokens.len());
        for (i, t) in tokens.into_iter().enumerate() {
            let bad = |m: String| ServerError::Tokens(format!("token #{} ({:?}): {m}", i + 1, t.name));
            if t.name.trim().is_empty() {
                return Err(bad("empty name".into()));
            }
            let mut hash = [0u8; 32];
            if t.sha256.len() != 64
                || t.sha256.bytes().any(|c| c.is_ascii_uppercase())
                || hex::decode_to_slice(&t.sha256, &mut hash).is_err()
            {
                return Err(bad("sha256 must be 64 lower-case hex digits".into()));
            }
            if t.repos.is_empty() {
                return Err(bad("repos is empty (use [\"*\"] for all repositories)".into()));
            }
            if let Some(r) = t.repos.iter().find(|r| *r != "*" && !valid_repo_name(r)) {
                return Err(bad(format!("invalid repository name {r:?} (use [a-z0-9][a-z0-9._-]* or \"*\")")));
            }
            if out.iter().any(|(o, _)| o.name == t.name) {
                return Err(bad("duplicate name".into()));
            }
            if out.iter().any(|(_, h)| *h == hash) {
                return Err(bad("duplicate sha256".into()));
            }
            out.push((t, hash));
        }
        Ok(TokenSet { tokens: out })
    }

    /// Parses the TOML text of a tokens file.
    pub fn parse(text: &str) -> Result<TokenSet, ServerError> {
        let f: TokensFile = toml::from_str(text).map_err(|e| ServerError::Tokens(e.to_string()))?;
        TokenSet::new(f.token)
    }

    /// Reads and parses a tokens file.
    pub fn load(path: &Path) -> Result<TokenSet, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Tokens(format!("cannot read {}: {e}", path.display())))?;
        TokenSet::parse(&text).map_err(|e| match e {
            ServerError::Tokens(m) => ServerError::Tokens(format!("{}: {m}", path.display())),
            e => e,
        })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Finds the entry of a presented token by hashing it; every entry is compared in constant time.
    pub fn authenticate(&self, presented: &str) -> Option<&Token> {
        let h: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        let mut found = None;
        for (t, hash) in &self.tokens {
            if bool::from(hash.ct_eq(&h)) {
                found = Some(t);
            }
        }
        found
    }
}

/// Draws a new token (256 bits from the OS random number generator, hex) and returns it with its SHA-256 hex.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

/// The `[[token]]` block for a tokens file.
pub fn token_toml(name: &str, sha256: &str, access: Access, repos: &[String]) -> String {
    let q = |s: &str| toml::Value::String(s.to_string()).to_string();
    let repos: Vec<String> = repos.iter().map(|r| q(r)).collect();
    format!(
        "[[token]]\nname = {}\nsha256 = {}\naccess = {}\nrepos = [{}]\n",
        q(name),
        q(sha256),
        q(access.as_str()),
        repos.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_authenticate() {
        let (tok, hash) = new_token();
        assert_eq!(tok.len(), 64);
        let text = token_toml("web001-agent", &hash, Access::AppendOnly, &["web001".into()]);
        let set = TokenSet::parse(&text).unwrap();
        let t = set.authenticate(&tok).unwrap();
        assert_eq!(t.name, "web001-agent");
        assert_eq!(t.access, Access::AppendOnly);
        assert!(t.allows_repo("web001"));
        assert!(!t.allows_repo("web002"));
        assert!(set.authenticate("wrong").is_none());
        assert!(set.authenticate("").is_none());
    }

    #[test]
    fn rejects_bad_files() {
        let h = "0".repeat(64);
        for bad in [
            format!("[[token]]\nname = \"a\"\nsha256 = \"{h}\"\naccess = \"everything\"\nrepos = [\"x\"]\n"),
            "[[token]]\nname = \"a\"\nsha256 = \"abc\"\naccess = \"read-only\"\nrepos = [\"x\"]\n".to_string(),
            format!("[[token]]\nname = \"a\"\nsha256 = \"{h}\"\naccess = \"read-only\"\nrepos = []\n"),
            format!("[[token]]\nname = \"a\"\nsha256 = \"{h}\"\naccess = \"read-only\"\nrepos = [\"../x\"]\n"),
            format!("[[token]]\nname = \"a\"\nsha256 = \"{h}\"\naccess = \"read-only\"\nrepos = [\"x\"]\nextra = 1\n"),
            "[[token]]\nname = \"a\"\n".to_string(),
        ] {
            assert!(TokenSet::parse(&bad).is_err(), "{bad}");
        }
        assert!(valid_repo_name("web001"));
        assert!(valid_repo_name("a.b_c-d"));
        for n in ["", ".", "..", "-a", "A", "a/b", "a b", "a%2e"] {
            assert!(!valid_repo_name(n), "{n}");
        }
    }
}
