//! HTML-only mail as text, with `html2text`: paragraphs, line breaks, list items and
//! table cells stay apart, link targets are kept (as numbered references after the
//! text), scripts and styles are dropped.

/// HTML past this many bytes is cut before conversion: a task description is far
/// shorter, and the converter's time and memory grow with its input.
pub const MAX_HTML_BYTES: usize = 1024 * 1024;

/// Lines are not rewrapped: the description keeps the sender's lines.
const WIDTH: usize = 10_000;

/// The text of an HTML body; empty when nothing readable is in it.
pub fn html_to_text(html: &str) -> String {
    // At most MAX_HTML_BYTES, cut on a character.
    let end = html.char_indices().map(|(i, _)| i).take_while(|i| *i <= MAX_HTML_BYTES).last().unwrap_or(0);
    let input = if html.len() <= MAX_HTML_BYTES { html } else { html.get(..end).unwrap_or_default() };
    // No `**bold**` or `_italic_` marks: a description is plain text, not Markdown.
    let text = html2text::config::plain_no_decorate()
        .link_footnotes(true)
        .string_from_read(input.as_bytes(), WIDTH)
        // A converter failure (it has none on valid UTF-8) loses the formatting, not the words.
        .unwrap_or_else(|_| mail_parser::decoders::html::html_to_text(input));
    tidy(&text)
}

/// Trailing blanks off every line, at most one empty line in a row, no blank ends.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn blocks_stay_apart() {
        let t = html_to_text(
            "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>\
             <p>First paragraph</p><p>Second<br>line two</p>\
             <ul><li>apples</li><li>pears</li></ul><ol><li>one</li><li>two</li></ol>\
             <table><tr><td>cell A</td><td>cell B</td></tr><tr><td>cell C</td><td>cell D</td></tr></table>\
             <p>See <a href=\"https://example.org/spec\">the spec</a>, <b>bold</b> <i>it</i>.</p></body></html>",
        );
        assert!(t.contains("First paragraph\n\nSecond\nline two"), "{t}");
        assert!(t.contains("* apples\n* pears"), "{t}");
        assert!(t.contains("1. one\n2. two"), "{t}");
        for pair in [("cell A", "cell B"), ("cell C", "cell D")] {
            assert!(!t.contains(&format!("{}{}", pair.0, pair.1)), "{t}");
        }
        assert!(t.contains("cell A") && t.contains("cell D"), "{t}");
        assert!(t.contains("https://example.org/spec"), "{t}");
        assert!(t.contains(", bold it."), "no emphasis marks: {t}");
        assert!(!t.contains("color:red") && !t.contains("alert"), "{t}");
    }

    #[test]
    fn deep_nesting_and_huge_input_are_bounded() {
        let deep = "<div>".repeat(20_000) + "x" + &"</div>".repeat(20_000);
        assert!(html_to_text(&deep).contains('x'));
        let big = "<p>ż</p>".repeat(200_000);
        assert!(html_to_text(&big).len() <= super::MAX_HTML_BYTES);
    }
}
