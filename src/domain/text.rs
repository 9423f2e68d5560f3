//! HTML escaping for the pages this crate writes by hand (the simulator's
//! landing page, the audit's notes, the interim run report) and for the text
//! the report's templates place unescaped. One place, so the pages cannot
//! disagree about what is safe.
//!
//! The handlebars templates escape their own values (`{{x}}`) with
//! handlebars' escaper; these functions are for text that does not pass
//! through one.

/// Escapes `text` for HTML element content and for a quoted attribute value:
/// `&`, `<`, `>`, `"` and `'` (as `&#39;`, which every HTML version reads).
pub(crate) fn escape_html(text: &str) -> String {
    escape(text, true)
}

/// Escapes `text` for element content only (`&`, `<`, `>`), never an
/// attribute: quotes stay as they are. For the report's transcripts inside
/// `<pre>`, whose JSON bodies are mostly quotes: escaping them too would grow
/// a 5 000-exchange report by a fifth.
pub(crate) fn escape_html_text(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if quotes => out.push_str("&quot;"),
            '\'' if quotes => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_special_characters_are_escaped() {
        assert_eq!(
            escape_html("<script>\"x\"&'y'</script>"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn element_text_escapes_markup_but_keeps_quotes() {
        assert_eq!(
            escape_html_text(r#"</pre><b a="1">&'"#),
            r#"&lt;/pre&gt;&lt;b a="1"&gt;&amp;'"#
        );
    }

    #[test]
    fn text_without_markup_is_unchanged() {
        let plain = "Golive mug, 249,00 NOK (ref acme-1) ø æ å = `x`";
        assert_eq!(escape_html(plain), plain);
        assert_eq!(escape_html_text(plain), plain);
    }
}
