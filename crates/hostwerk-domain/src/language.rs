//! The two languages of the user interface and the choice between them from Accept-Language.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A user-interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    De,
    En,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the language must be \"de\" or \"en\"")]
pub struct LanguageError;

impl Language {
    pub fn parse(input: &str) -> Result<Self, LanguageError> {
        match input.trim().to_ascii_lowercase().as_str() {
            "de" => Ok(Language::De),
            "en" => Ok(Language::En),
            _ => Err(LanguageError),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Language::De => "de",
            Language::En => "en",
        }
    }

    /// Picks the best supported language from an `Accept-Language` header value (German when none fits).
    pub fn negotiate(accept_language: &str) -> Self {
        let mut best: Option<(u16, Language)> = None;
        for part in accept_language.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let q = (quality.clamp(0.0, 1.0) * 1000.0) as u16;
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary {
                "de" => Language::De,
                "en" => Language::En,
                _ => continue,
            };
            if q > 0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates() {
        assert_eq!(Language::negotiate("en-US,en;q=0.9,de;q=0.8"), Language::En);
        assert_eq!(Language::negotiate("fr-FR, de;q=0.5, en;q=0.4"), Language::De);
        assert_eq!(Language::negotiate("fr"), Language::De);
        assert_eq!(Language::negotiate(""), Language::De);
        assert_eq!(Language::negotiate("en;q=0, de;q=0.1"), Language::De);
    }

    #[test]
    fn parses() {
        assert_eq!(Language::parse("EN").unwrap(), Language::En);
        assert!(Language::parse("fr").is_err());
    }
}
