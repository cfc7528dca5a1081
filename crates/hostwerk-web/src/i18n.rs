//! German and English texts of the user interface, looked up by key (or by an English message).

use std::collections::HashMap;
use std::sync::OnceLock;

use hostwerk_domain::Language;

type Table = HashMap<String, String>;

struct Tables {
    de: Table,
    en: Table,
    /// German for the English messages of errors (domain parse errors, service errors).
    messages_de: Table,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        de: toml::from_str(include_str!("../i18n/de.toml")).unwrap_or_default(),
        en: toml::from_str(include_str!("../i18n/en.toml")).unwrap_or_default(),
        messages_de: toml::from_str(include_str!("../i18n/messages.de.toml")).unwrap_or_default(),
    })
}

/// The text for `key` in `lang`; an English message without a key stands for itself in English.
pub(crate) fn t(lang: Language, key: &str) -> String {
    let tables = tables();
    let found = match lang {
        Language::De => tables.de.get(key).or_else(|| tables.messages_de.get(key)).or_else(|| tables.en.get(key)),
        Language::En => tables.en.get(key),
    };
    found.cloned().unwrap_or_else(|| key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let de: Table = toml::from_str(include_str!("../i18n/de.toml")).unwrap();
        let en: Table = toml::from_str(include_str!("../i18n/en.toml")).unwrap();
        let missing_en: Vec<_> = de.keys().filter(|k| !en.contains_key(*k)).collect();
        let missing_de: Vec<_> = en.keys().filter(|k| !de.contains_key(*k)).collect();
        assert!(missing_en.is_empty(), "keys without English text: {missing_en:?}");
        assert!(missing_de.is_empty(), "keys without German text: {missing_de:?}");
    }

    #[test]
    fn messages_translate() {
        assert_eq!(t(Language::En, "nav.logout"), "Log out");
        assert_eq!(t(Language::De, "nav.logout"), "Abmelden");
        assert_eq!(t(Language::En, "some unknown message"), "some unknown message");
        let messages: Table = toml::from_str(include_str!("../i18n/messages.de.toml")).unwrap();
        assert!(!messages.is_empty());
    }
}
