//! How a received e-mail becomes task fields (R19, R20, R22). Mail is whatever a
//! stranger sent, so nothing here refuses: over-long or odd text is cut and cleaned
//! to fit the portal's limits, and the cut is said in the text.

use crate::limits::Limits;

/// The title of a task made from mail with an empty subject.
pub const NO_SUBJECT: &str = "(no subject)";

/// The largest file a message may bring: the one per-file limit (R19), also when
/// a portal set a smaller upload limit, since a 25 MB message may carry one
/// attachment of nearly that size.
pub const MAX_MAIL_BYTES: u64 = crate::limits::MAX_FILE_BYTES;

/// Subject → title: one line, no control characters, at most the title limit.
pub fn title(subject: &str, limits: &Limits) -> String {
    let one_line: String = subject.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>();
    let words: Vec<&str> = one_line.split_whitespace().collect();
    let t = words.join(" ");
    if t.is_empty() {
        return NO_SUBJECT.to_string();
    }
    cut_chars(&t, limits.max_title_chars)
}

/// Body → description, at most the description limit.
pub fn description(text: &str, limits: &Limits) -> String {
    cut_text(&clean_text(text), limits.max_description_bytes)
}

/// Reply text → comment, at most the comment limit.
pub fn comment(text: &str, limits: &Limits) -> String {
    cut_text(&clean_text(text), limits.max_comment_bytes)
}

/// An attachment's name as a task file name: no path, no control characters,
/// within the name limit; `attachment-N` when it has none.
pub fn file_name(name: Option<&str>, index: usize, limits: &Limits) -> String {
    let base = name.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().filter(|c| !c.is_control()).collect::<String>().trim().to_string();
    if clean.is_empty() || clean == "." || clean == ".." {
        return format!("attachment-{}", index + 1);
    }
    cut_chars(&clean, limits.max_file_name_chars)
}

/// A MIME type fit for a task file, `application/octet-stream` otherwise.
pub fn content_type(ct: &str) -> String {
    let ct = ct.trim();
    if ct.is_empty() || ct.len() > 127 || ct.chars().any(|c| c.is_whitespace() || c.is_control()) {
        "application/octet-stream".to_string()
    } else {
        ct.to_ascii_lowercase()
    }
}

/// Line ends as `\n`, no control characters but tabs, no trailing blank space.
fn clean_text(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let kept: String = unified.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    kept.trim_end().to_string()
}

fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

const CUT_NOTE: &str = "\n\n[… the rest of the message was cut here: it is longer than the portal allows]";

fn cut_text(s: &str, max_bytes: usize) -> String {
    if s.len() <= max_bytes {
        return s.to_string();
    }
    let mut end = max_bytes.saturating_sub(CUT_NOTE.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{CUT_NOTE}", s.get(..end).unwrap_or_default().trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;
    use proptest::prelude::*;

    #[test]
    fn subjects_become_titles() {
        let l = Limits::default();
        assert_eq!(title("", &l), NO_SUBJECT);
        assert_eq!(title("  \t ", &l), NO_SUBJECT);
        assert_eq!(title("Re:\r\n  Zażółć\tgęślą", &l), "Re: Zażółć gęślą");
        let long = "ж".repeat(1000);
        assert_eq!(title(&long, &l).chars().count(), l.max_title_chars);
    }

    #[test]
    fn names_lose_paths() {
        let l = Limits::default();
        assert_eq!(file_name(Some("C:\\Users\\x\\raport.pdf"), 0, &l), "raport.pdf");
        assert_eq!(file_name(Some("../../etc/passwd"), 0, &l), "passwd");
        assert_eq!(file_name(None, 2, &l), "attachment-3");
        assert_eq!(file_name(Some(".."), 0, &l), "attachment-1");
    }

    proptest! {
        /// Whatever arrives, the result passes the validation the task rules apply.
        #[test]
        fn results_always_validate(s in any::<String>(), n in proptest::option::of(any::<String>())) {
            let l = Limits { max_description_bytes: 300, max_comment_bytes: 200, max_title_chars: 20, ..Limits::default() };
            let t = title(&s, &l);
            prop_assert!(validate::optional_line("title", &t, l.max_title_chars).is_ok());
            prop_assert!(validate::text("description", &description(&s, &l), l.max_description_bytes).is_ok());
            prop_assert!(validate::text("comment", &comment(&s, &l), l.max_comment_bytes).is_ok());
            let f = file_name(n.as_deref(), 0, &l);
            prop_assert!(crate::task::check_file(&f, &content_type(&s), 1, &l).is_ok(), "{f:?}");
        }
    }
}
