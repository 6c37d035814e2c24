//! A tiny HTML writer for the link pages: text and attribute values from the outside (an
//! organisation's name, a door's name, a token) can only enter through [`Html::text`] and
//! [`Html::element`]'s attribute values, and both escape them. Markup itself (tag and
//! attribute names) can only be `&'static str`, written in this crate.
//!
//! The page's one stylesheet is inline and fixed; the Content-Security-Policy allows exactly
//! it, by its SHA-256 hash, and nothing else (no scripts, images, fonts, frames or forms).

use std::sync::LazyLock;

use base64::Engine as _;

/// Escapes `text` for an HTML text node or a double- or single-quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A piece of HTML that is safe to put in a page: built only from escaped text and
/// elements whose names are fixed in the code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// Text, escaped.
    pub fn text(text: &str) -> Self {
        Html(escape(text))
    }

    /// `<tag attr="value"…>content</tag>`, every attribute value escaped.
    pub fn element(tag: &'static str, attrs: &[(&'static str, &str)], content: Html) -> Self {
        let mut out = format!("<{tag}");
        for (name, value) in attrs {
            out.push_str(&format!(" {name}=\"{}\"", escape(value)));
        }
        out.push('>');
        out.push_str(&content.0);
        out.push_str(&format!("</{tag}>"));
        Html(out)
    }

    /// `<tag>content</tag>`.
    pub fn tag(tag: &'static str, content: Html) -> Self {
        Self::element(tag, &[], content)
    }

    /// `<tag>text</tag>`, the text escaped.
    pub fn tag_text(tag: &'static str, text: &str) -> Self {
        Self::element(tag, &[], Html::text(text))
    }

    /// The pieces one after the other.
    pub fn concat(parts: impl IntoIterator<Item = Html>) -> Self {
        Html(parts.into_iter().map(|p| p.0).collect())
    }

    /// Appends `more`.
    pub fn push(&mut self, more: Html) {
        self.0.push_str(&more.0);
    }

    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The pages' only style: system fonts, one column, large tap targets; text and buttons
/// at least 7:1 against their background.
const STYLE: &str = "body{margin:0;font:17px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;\
color:#1a1a1a;background:#f4f5f7}\
main{max-width:34rem;margin:0 auto;padding:1.5rem 1.25rem}\
h1{font-size:1.6rem;line-height:1.25;margin:.5rem 0 1rem}\
h2{font-size:1.15rem;margin:1.75rem 0 .5rem}\
.card{background:#fff;border:1px solid #c4c9d0;border-radius:12px;padding:1rem 1.25rem}\
dl{margin:0}dt{font-weight:600;margin-top:.5rem}dd{margin:0}\
ul{padding-left:1.25rem}\
.button{display:block;text-align:center;padding:.85rem 1rem;margin:.75rem 0;border-radius:10px;\
font-weight:600;text-decoration:none;border:2px solid #0a4a82;color:#0a4a82;background:#fff}\
.primary{background:#0a4a82;color:#fff}\
.button:focus-visible{outline:3px solid #b35c00;outline-offset:2px}\
.note{color:#3d3d3d}";

/// `'sha256-…'` of [`STYLE`], the one source the policy allows.
static STYLE_HASH: LazyLock<String> = LazyLock::new(|| {
    let digest = ring::digest::digest(&ring::digest::SHA256, STYLE.as_bytes());
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest.as_ref()))
});

/// The Content-Security-Policy of every page: nothing may load but the inline style.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; img-src 'none'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'",
        *STYLE_HASH
    )
}

/// A whole page: language, character set, viewport, `noindex`, the title (escaped) and
/// the style, then `body` inside `<main>`.
pub fn document(title: &str, body: Html) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{}\n</main>\n</body>\n</html>\n",
        escape(title),
        body.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_come_out_as_text() {
        assert_eq!(escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
        assert_eq!(escape("Tom & Jerry's"), "Tom &amp; Jerry&#39;s");
        assert_eq!(escape("Café ☕"), "Café ☕");
    }

    #[test]
    fn attribute_values_cannot_close_their_quotes() {
        let a = Html::element("a", &[("href", "x\" onclick=\"evil()")], Html::text("<b>go</b>"));
        assert_eq!(a.as_str(), "<a href=\"x&quot; onclick=&quot;evil()\">&lt;b&gt;go&lt;/b&gt;</a>");
    }

    #[test]
    fn the_policy_allows_exactly_the_pages_style() {
        let page = document("t", Html::default());
        let style = page.split("<style>").nth(1).and_then(|s| s.split("</style>").next()).unwrap_or_default();
        let digest = ring::digest::digest(&ring::digest::SHA256, style.as_bytes());
        let hash = base64::engine::general_purpose::STANDARD.encode(digest.as_ref());
        assert!(content_security_policy().contains(&format!("style-src 'sha256-{hash}';")));
        assert!(content_security_policy().starts_with("default-src 'none';"));
    }

    #[test]
    fn a_hostile_title_is_escaped() {
        let page = document("</title><script>x</script>", Html::default());
        assert!(!page.contains("<script>"));
        assert!(page.contains("&lt;/title&gt;&lt;script&gt;"));
    }
}
