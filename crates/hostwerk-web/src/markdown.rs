//! Markdown for blog posts, rendered safely: raw HTML in the source is shown as text, and links and images
//! keep only http(s), mailto and relative targets, so a post can never inject script into a page.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // A colon before any slash, '?' or '#' is a scheme.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => matches!(scheme, "http" | "https" | "mailto"),
        _ => true,
    }
}

/// The post's Markdown as HTML.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Link { link_type, dest_url: CowStr::from("#"), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) if !safe_url(&dest_url) => {
            Event::Start(Tag::Image { link_type, dest_url: CowStr::from("#"), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events);
    out
}

/// The text up to the end of the first paragraph, for listings and the feed (at most `max` characters): a
/// heading or other block before it is kept, parted from what follows by a space, as are lines.
pub fn excerpt(markdown: &str, max: usize) -> String {
    let mut text = String::new();
    let space = |text: &mut String| {
        if !text.is_empty() && !text.ends_with(' ') {
            text.push(' ');
        }
    };
    for event in Parser::new(markdown) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => space(&mut text),
            Event::End(TagEnd::Paragraph) if !text.trim().is_empty() => break,
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            // The end of any other block (heading, list item, quote, table cell …) parts words.
            Event::End(_) => space(&mut text),
            _ => {}
        }
    }
    let text = text.trim_end().to_owned();
    if text.chars().count() > max {
        let cut: String = text.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_script_links_are_neutralised() {
        let html = to_html("Hallo <script>alert(1)</script> *Welt*\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [y](https://ok.example/) [z](/blog)");
        assert!(!html.contains("<script>") && html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("<em>Welt</em>"));
        assert!(
            html.contains(r##"<a href="#">x</a>"##)
                && html.contains(r#"href="https://ok.example/""#)
                && html.contains(r#"href="/blog""#)
        );
        assert!(!to_html("[a](JavaScript:alert(1))").contains("avascript"));
        assert!(!to_html("[a]( data:text/html,x)").contains("data:"));
    }

    #[test]
    fn excerpts() {
        assert_eq!(excerpt("Erster *Absatz* hier.\n\nZweiter.", 100), "Erster Absatz hier.");
        assert_eq!(excerpt("abcdefghij", 4), "abcd…");
        // Blocks are parted by whitespace (issue 16: "hostwerkWir verlosen…").
        assert_eq!(excerpt("# hostwerk\nWir verlosen Tickets.\n\nMehr.", 100), "hostwerk Wir verlosen Tickets.");
        assert_eq!(excerpt("## hostwerk\n\nWir verlosen *drei* Tickets.", 100), "hostwerk Wir verlosen drei Tickets.");
        assert_eq!(excerpt("- eins\n- zwei\n\nDanach.", 100), "eins zwei Danach.");
        assert_eq!(excerpt("> Zitat\n\nText", 100), "Zitat", "a paragraph in a quote ends the excerpt too");
        assert_eq!(excerpt("Zeile eins\nZeile zwei", 100), "Zeile eins Zeile zwei");
    }
}
