//! Server-rendered pages: minijinja templates embedded in the binary, compiled once per language with the
//! `t()` texts that name a fixed key already put in (see [`localize`]).

use axum::response::Html;
use hostwerk_domain::Language;
use minijinja::{Environment, Value};

use crate::error::PageError;

/// Every template: its name and source.
macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        &[$( ($name, include_str!(concat!("../templates/", $name))) ),+]
    };
}

/// The template environments, one per language.
pub(crate) struct Views {
    de: Environment<'static>,
    en: Environment<'static>,
}

impl std::fmt::Debug for Views {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Views")
    }
}

impl Views {
    pub fn new() -> Self {
        Self { de: environment(Language::De), en: environment(Language::En) }
    }

    /// Renders `name` with `ctx`, in the language `ctx.lang` names (German when it names none).
    pub fn render(&self, name: &str, ctx: Value) -> Result<Html<String>, PageError> {
        let lang = ctx.get_attr("lang").ok().and_then(|v| v.as_str().and_then(|s| Language::parse(s).ok()));
        let env = match lang.unwrap_or_default() {
            Language::De => &self.de,
            Language::En => &self.en,
        };
        let template = env.get_template(name).map_err(|e| PageError::Internal(format!("template {name}: {e}")))?;
        template.render(ctx).map(Html).map_err(|e| PageError::Internal(format!("rendering {name}: {e:#}")))
    }
}

/// The templates of one language: `t("key")` with a literal key is replaced by the text, and `t` itself (for
/// keys built at render time, `t("status." ~ code)`) looks up in that language.
fn environment(lang: Language) -> Environment<'static> {
    let mut env = Environment::new();
    let sources: &[(&str, &str)] = templates!(
        "base.html",
        "confirm.html",
        "error.html",
        "resend.html",
        "resume.html",
        "text.html",
        "case_timeline.html",
        "home.html",
        "login.html",
        "login_second_factor.html",
        "security.html",
        "recovery_codes.html",
        "order.html",
        "order_done.html",
        "order_sent.html",
        "order_confirm.html",
        "email_confirm.html",
        "reminder.html",
        "reset.html",
        "menu/nav.html",
        "menu/dashboard.html",
        "menu/contract.html",
        "menu/profile.html",
        "menu/password.html",
        "menu/phone.html",
        "menu/service.html",
        "menu/server.html",
        "menu/backups.html",
        "menu/backups_browse.html",
        "menu/mailbox.html",
        "menu/mail_guide.html",
        "menu/domain.html",
        "menu/case.html",
        "remote.html",
        "staff/nav.html",
        "staff/login.html",
        "staff/home.html",
        "staff/customer.html",
        "staff/call.html",
        "staff/staff_users.html",
        "staff/tariffs.html",
        "staff/domain_orders.html",
        "staff/nodes.html",
        "staff/outbox.html",
        "staff/audit.html",
        "staff/cases.html",
        "staff/case.html",
        "staff/remote.html",
        "staff/blog.html",
        "staff/backups.html",
        "staff/backups_plan.html",
        "staff/backups_customer.html",
        "blog/index.html",
        "blog/post.html",
        "blog/feed.xml",
    );
    for (name, source) in sources {
        let html = matches!(name.rsplit('.').next(), Some("html" | "htm" | "xml"));
        if let Err(e) = env.add_template_owned(*name, localize(source, lang, html)) {
            tracing::error!(template = name, error = %e, "template does not compile");
        }
    }
    env.add_function("t", move |key: &str| -> Value { crate::i18n::t_value(lang, key) });
    env.add_filter("paragraphs", paragraphs);
    env
}

/// A user's plain text as paragraphs of lines: a blank line parts paragraphs, `\r\n` counts as `\n`. The
/// templates print each line escaped with `<br>` between them (`text.html`), so line breaks survive and the
/// text never becomes markup.
fn paragraphs(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.to_owned());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `source` with every `t("key")` (or `t('key')`) inside a `{{ … }}` or `{% … %}` tag replaced by the text of
/// `key` in `lang` as a string literal, so rendering does not look the text up each time; a tag that is nothing
/// but such a call becomes the text itself, escaped as autoescape would (`html`) so it renders byte for byte
/// the same. Text outside tags, comments and calls whose argument is an expression are left as they are.
fn localize(source: &str, lang: Language, html: bool) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 4);
    let mut rest = source;
    while let Some(open) = find_tag_start(rest) {
        let (before, tag) = rest.split_at(open);
        out.push_str(before);
        let close = if tag.starts_with("{{") { "}}" } else { "%}" };
        let Some(end) = tag[2..].find(close).map(|i| i + 2 + close.len()) else {
            rest = tag;
            break;
        };
        let tag = &tag[..end];
        match static_text(tag, lang, html) {
            Some(text) => out.push_str(&text),
            None => out.push_str(&localize_tag(tag, lang)),
        }
        rest = &rest[open + end..];
    }
    out.push_str(rest);
    out
}

/// The output of a `{{ t("key") }}` tag as template text; `None` for any other tag, or when the text could be
/// read as template syntax.
fn static_text(tag: &str, lang: Language, html: bool) -> Option<String> {
    let inner = tag.strip_prefix("{{")?.strip_suffix("}}")?.trim();
    let call = inner.strip_prefix("t(")?;
    let (key, len) = string_literal_call(call)?;
    if len != call.len() {
        return None;
    }
    let text = crate::i18n::t(lang, key);
    if text.contains('{') || text.contains('}') {
        return None;
    }
    if !html {
        return Some(text);
    }
    Some(minijinja::HtmlEscape(&text).to_string())
}

/// Where the next `{{` or `{%` tag starts; skips `{# … #}` comments.
fn find_tag_start(s: &str) -> Option<usize> {
    let mut from = 0;
    loop {
        let at = from + s[from..].find('{')?;
        match s.as_bytes().get(at + 1) {
            Some(b'{' | b'%') => return Some(at),
            Some(b'#') => from = at + 2 + s[at + 2..].find("#}")? + 2,
            _ => from = at + 1,
        }
    }
}

/// One tag with its literal `t()` calls replaced.
fn localize_tag(tag: &str, lang: Language) -> String {
    let mut out = String::with_capacity(tag.len());
    let mut rest = tag;
    while let Some(at) = rest.find("t(") {
        let starts_name =
            at == 0 || !matches!(rest.as_bytes()[at - 1], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.');
        let call = &rest[at + 2..];
        let literal = starts_name.then(|| string_literal_call(call)).flatten();
        match literal {
            Some((key, len)) => {
                out.push_str(&rest[..at]);
                let text = crate::i18n::t(lang, key);
                out.push_str(&serde_json::to_string(&text).unwrap_or_else(|_| format!("t({:?})", key)));
                rest = &call[len..];
            }
            None => {
                out.push_str(&rest[..at + 2]);
                rest = call;
            }
        }
    }
    out.push_str(rest);
    out
}

/// For the text after `t(`: the key and the length up to and including `)` when the only argument is a plain
/// string literal (no escapes).
fn string_literal_call(call: &str) -> Option<(&str, usize)> {
    let trimmed = call.trim_start();
    let skipped = call.len() - trimmed.len();
    let quote = trimmed.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &trimmed[1..];
    let end = body.find(quote)?;
    let key = &body[..end];
    if key.contains('\\') {
        return None;
    }
    let after = &body[end + 1..];
    let after_trimmed = after.trim_start();
    if !after_trimmed.starts_with(')') {
        return None;
    }
    let len = skipped + 1 + end + 1 + (after.len() - after_trimmed.len()) + 1;
    Some((key, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders `source` once as written, with `t` looking texts up at render time, and once localized.
    fn both_ways(source: &str, lang: Language) -> (String, String) {
        let mut plain = Environment::new();
        plain.add_function("t", move |key: &str| -> Value { crate::i18n::t_value(lang, key) });
        plain.add_template_owned("x.html", source.to_owned()).unwrap();
        let mut localized = Environment::new();
        localized.add_function("t", move |key: &str| -> Value { crate::i18n::t_value(lang, key) });
        localized.add_template_owned("x.html", localize(source, lang, true)).unwrap();
        let ctx = minijinja::context! { code => "active", n => 2 };
        (
            plain.get_template("x.html").unwrap().render(&ctx).unwrap(),
            localized.get_template("x.html").unwrap().render(&ctx).unwrap(),
        )
    }

    #[test]
    fn localized_templates_render_the_same() {
        let source = r#"<p title="{{ t('nav.main') }}">{{ t("nav.logout") }}</p>
{{ t("status." ~ code) }} {{ t("common.month" if n == 1 else "common.months") }}
{% set x = t( "nav.profile" ) %}[{{ x }}] {{ t("nav.skip")|upper }} {{- t("nav.phone") -}}
{# {{ t("nav.backups") }} #} t("nav.server") {{ "t(\"nav.service\")" }} {{ "a" ~ t("no.such.key") }}
{{ t("contract.refund") }} {{ t("staff.backups") }} {{ t("event.customer_message") }} {{ t("mail.intro") }}"#;
        for lang in [Language::De, Language::En] {
            let (plain, localized) = both_ways(source, lang);
            assert_eq!(plain, localized, "{lang:?}");
        }
        let localized = localize(source, Language::En, true);
        assert!(localized.contains(">Log out</p>"), "{localized}");
        assert!(localized.contains(r#"{# {{ t("nav.backups") }} #}"#), "comments stay: {localized}");
        assert!(localized.contains(r#" t("nav.server") "#), "text outside tags stays: {localized}");
        assert!(localized.contains(r#"t("status." ~ code)"#), "computed keys stay calls: {localized}");
    }

    #[test]
    fn localized_text_is_escaped_like_autoescape() {
        assert_eq!(static_text(r#"{{ t("nav.logout") }}"#, Language::De, true).as_deref(), Some("Abmelden"));
        let (plain, localized) =
            both_ways(r#"{{ t("event.customer_message") }} {{ t("staff.backups") }}"#, Language::En);
        assert_eq!(plain, localized);
        assert_eq!(localized, "Customer&#x27;s message Backups daily&#x2f;monthly");
        assert_eq!(
            static_text(r#"{{ t("staff.backups") }}"#, Language::En, false).as_deref(),
            Some("Backups daily/monthly")
        );
    }

    #[test]
    fn user_text_keeps_its_line_breaks_and_stays_escaped() {
        assert_eq!(paragraphs("eins\r\nzwei\n\n\n  \ndrei\n"), vec![vec!["eins", "zwei"], vec!["drei"]]);
        assert!(paragraphs(" \n\n").is_empty());
        let mut env = Views::new().de;
        let source = r#"{% import "text.html" as text %}<div>{{ text.lines(body) }}</div>"#;
        env.add_template_owned("probe.html", source.to_owned()).unwrap();
        let html = env.get_template("probe.html").unwrap().render(minijinja::context! { body => "a <b>\nc\n\nd" });
        assert_eq!(html.unwrap(), "<div><p>a &lt;b&gt;<br>c</p><p>d</p></div>");
    }

    #[test]
    fn every_template_compiles() {
        let views = Views::new();
        for env in [&views.de, &views.en] {
            let names: Vec<String> = env.templates().map(|(name, _)| name.to_owned()).collect();
            for name in &names {
                assert!(env.get_template(name).is_ok(), "{name}");
            }
            assert!(names.len() >= 21);
        }
    }
}
