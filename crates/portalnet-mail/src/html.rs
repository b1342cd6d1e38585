//! HTML escaping for the HTML parts of messages.

/// Escape text for HTML element content and double- or single-quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
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

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<script>alert("x" + 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn escapes_ampersand_once_and_keeps_unicode() {
        assert_eq!(escape_html("Tom & Jerry &amp; Łukasz"), "Tom &amp; Jerry &amp;amp; Łukasz");
        assert_eq!(escape_html(""), "");
    }
}
