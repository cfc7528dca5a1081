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
    /// Every text as a ready template value per language (templates look texts up on every render).
    values_de: HashMap<String, minijinja::Value>,
    values_en: HashMap<String, minijinja::Value>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let de: Table = toml::from_str(include_str!("../i18n/de.toml")).unwrap_or_default();
        let en: Table = toml::from_str(include_str!("../i18n/en.toml")).unwrap_or_default();
        let messages_de: Table = toml::from_str(include_str!("../i18n/messages.de.toml")).unwrap_or_default();
        let as_values = |table: &Table| -> HashMap<String, minijinja::Value> {
            table.iter().map(|(k, v)| (k.clone(), minijinja::Value::from(v.as_str()))).collect()
        };
        // German falls back to the English text where a key has no German one, as `t` does.
        let mut values_de = as_values(&en);
        values_de.extend(as_values(&messages_de));
        values_de.extend(as_values(&de));
        let values_en = as_values(&en);
        Tables { de, en, messages_de, values_de, values_en }
    })
}

/// [`t`] as a template value, without copying the text.
pub(crate) fn t_value(lang: Language, key: &str) -> minijinja::Value {
    let tables = tables();
    let values = match lang {
        Language::De => &tables.values_de,
        Language::En => &tables.values_en,
    };
    values.get(key).cloned().unwrap_or_else(|| minijinja::Value::from(key))
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

/// A failure the user can act on, whose text comes from the i18n tables: a key, and the values that are put
/// into its `{name}` placeholders. Each area's error enum implements it, so no text is matched anywhere and a
/// reworded message changes one line of a table.
pub trait Localized {
    /// The i18n key of the message.
    fn key(&self) -> &'static str;
    /// The values of the message's placeholders.
    fn args(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// The message in `lang`.
    fn message(&self, lang: Language) -> String {
        fill(&t(lang, self.key()), self.args())
    }
}

/// `text` with each `{name}` replaced by its value.
pub fn fill<K: AsRef<str>, V: AsRef<str>>(text: &str, args: impl IntoIterator<Item = (K, V)>) -> String {
    args.into_iter()
        .fold(text.to_owned(), |text, (name, value)| text.replace(&format!("{{{}}}", name.as_ref()), value.as_ref()))
}

/// For tests: every example (one per variant of an error enum) has a text of its own in German and English
/// that uses every value it carries and leaves no placeholder unfilled. Returns the problems found.
#[cfg(test)]
pub fn check_localized<E: Localized + std::fmt::Debug>(examples: &[E]) -> Vec<String> {
    let tables = tables();
    let mut problems = Vec::new();
    for e in examples {
        let key = e.key();
        for (lang, table) in [("de", &tables.de), ("en", &tables.en)] {
            let Some(text) = table.get(key) else {
                problems.push(format!("{e:?}: no {lang} text for {key}"));
                continue;
            };
            if text == key || text.trim().is_empty() {
                problems.push(format!("{e:?}: the {lang} text of {key} is no text"));
            }
            for (name, _) in e.args() {
                if !text.contains(&format!("{{{name}}}")) {
                    problems.push(format!("{e:?}: the {lang} text of {key} does not show {{{name}}}"));
                }
            }
            let filled = fill(text, e.args());
            if filled.contains('{') {
                problems.push(format!("{e:?}: the {lang} text of {key} keeps a placeholder: {filled}"));
            }
        }
        if tables.de.get(key) == tables.en.get(key) {
            problems.push(format!("{e:?}: {key} is not translated (German = English)"));
        }
    }
    problems
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

    #[test]
    fn template_values_agree_with_t() {
        let tables = tables();
        let keys = tables.de.keys().chain(tables.en.keys()).chain(tables.messages_de.keys());
        for key in keys.map(String::as_str).chain(["no such key"]) {
            for lang in [Language::De, Language::En] {
                assert_eq!(t_value(lang, key).as_str(), Some(t(lang, key).as_str()), "{key} in {lang:?}");
            }
        }
    }
}
