//! Step-by-step setup guides for the common mail clients, in German and English, filled with the mailbox's
//! own values (the recommended implicit-TLS servers, ports and the full address as user name).
//!
//! The texts live in the modules `de` and `en` as tables; `{placeholders}` in them are filled in one pass, so a value
//! that happens to contain braces is never filled in again. Menu names follow the clients' current versions
//! (Thunderbird 115+, classic Outlook for Microsoft 365, Mail on macOS 13+, iOS 17/18, the Gmail app).

mod de;
mod en;

use serde::{Deserialize, Serialize};

use hostwerk_domain::Language;

use crate::settings::{MailboxSettings, Protocol};

/// A mail client with a guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    Thunderbird,
    Outlook,
    AppleMail,
    Ios,
    Android,
}

impl Client {
    pub const ALL: [Client; 5] =
        [Client::Thunderbird, Client::Outlook, Client::AppleMail, Client::Ios, Client::Android];

    /// The name in URLs and JSON: `thunderbird`, `outlook`, `apple-mail`, `ios`, `android`.
    pub fn slug(self) -> &'static str {
        match self {
            Client::Thunderbird => "thunderbird",
            Client::Outlook => "outlook",
            Client::AppleMail => "apple-mail",
            Client::Ios => "ios",
            Client::Android => "android",
        }
    }

    /// The client for a slug (see [`Self::slug`]).
    pub fn from_slug(slug: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.slug() == slug)
    }
}

/// A filled-in guide: a title and the steps in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Guide {
    pub title: String,
    pub steps: Vec<String>,
}

/// The text of one guide before filling in: a title and the steps, with `{placeholders}`.
pub(crate) struct GuideText {
    pub(crate) title: &'static str,
    pub(crate) steps: &'static [&'static str],
}

/// The guide for `client` in `lang`, with the values of `settings`.
pub fn guide(client: Client, lang: Language, settings: &MailboxSettings) -> Guide {
    let text = match lang {
        Language::De => de::guide(client),
        Language::En => en::guide(client),
    };
    let imap = settings.recommended(Protocol::Imap);
    let pop3 = settings.recommended(Protocol::Pop3);
    let smtp = settings.recommended(Protocol::Smtp);
    let (imap_port, pop3_port, smtp_port) = (imap.port.to_string(), pop3.port.to_string(), smtp.port.to_string());
    let values: [(&str, &str); 8] = [
        ("address", settings.email().as_str()),
        ("username", imap.username.as_str()),
        ("imap_host", imap.host.as_str()),
        ("imap_port", &imap_port),
        ("pop3_host", pop3.host.as_str()),
        ("pop3_port", &pop3_port),
        ("smtp_host", smtp.host.as_str()),
        ("smtp_port", &smtp_port),
    ];
    Guide { title: fill(text.title, &values), steps: text.steps.iter().map(|s| fill(s, &values)).collect() }
}

/// Replaces each `{name}` with its value in one pass; unknown names are left as they are.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let value =
            after.find('}').and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, *v)));
        match value {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fills_in_one_pass() {
        let values = [("a", "{b}"), ("b", "x")];
        assert_eq!(fill("{a}-{b}-{c}-{", &values), "{b}-x-{c}-{");
    }

    const PLACEHOLDERS: [&str; 8] =
        ["address", "username", "imap_host", "imap_port", "pop3_host", "pop3_port", "smtp_host", "smtp_port"];

    #[test]
    fn every_placeholder_is_known() {
        for lang in [Language::De, Language::En] {
            for client in Client::ALL {
                let text = match lang {
                    Language::De => de::guide(client),
                    Language::En => en::guide(client),
                };
                let all = format!("{}\n{}", text.title, text.steps.join("\n"));
                for piece in all.split('{').skip(1) {
                    let name = piece.split('}').next().unwrap();
                    assert!(PLACEHOLDERS.contains(&name), "{client:?} {lang:?}: {{{name}}}");
                }
                assert!((5..=9).contains(&text.steps.len()), "{client:?} {lang:?}");
            }
        }
    }

    #[test]
    fn slugs_round_trip() {
        for c in Client::ALL {
            assert_eq!(Client::from_slug(c.slug()), Some(c));
        }
        assert_eq!(Client::from_slug("eudora"), None);
    }
}
