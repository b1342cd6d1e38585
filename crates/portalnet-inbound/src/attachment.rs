//! Files carried by a message: decoded names made safe to store, and their bytes.

/// A file carried by a message, decoded from its transfer encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// A bare file name: decoded (RFC 2047/2231), without path components or control
    /// characters, never empty (`attachment-N.ext` when the sender gave none).
    pub name: String,
    /// `type/subtype`, lower case; `application/octet-stream` when unknown.
    pub content_type: String,
    /// Shared, not copied: a large file is a slice of the received message
    /// (`message/big_files.rs`), and a message to several recipients shares it.
    pub bytes: bytes::Bytes,
}

/// Longest name kept, in bytes: what common file systems accept.
const MAX_NAME_BYTES: usize = 255;

/// A safe file name from what the sender wrote, or `None` if nothing usable is left.
///
/// Senders put full paths (`C:\Users\x\a.pdf`) or hostile ones (`../../etc/passwd`) in names;
/// only the last component is kept, and leading dots are dropped so no name is hidden or
/// special (`.`, `..`).
pub(crate) fn clean_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let no_controls: String = last.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let trimmed = no_controls.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(truncate_keeping_extension(trimmed, MAX_NAME_BYTES))
}

/// Cuts `name` to at most `max` bytes on a char boundary, keeping a short extension.
fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let ext = name.rfind('.').and_then(|dot| name.get(dot..)).filter(|e| e.len() <= 16).unwrap_or("");
    let mut end = max.saturating_sub(ext.len());
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", name.get(..end).unwrap_or_default())
}

/// `attachment-N.ext` (N counts from 1), the extension guessed from the content type.
pub(crate) fn fallback_name(index: usize, content_type: &str) -> String {
    let ext = match content_type {
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "text/plain" => "txt",
        "text/html" => "html",
        "text/calendar" => "ics",
        "text/csv" => "csv",
        "message/rfc822" => "eml",
        _ => "bin",
    };
    format!("attachment-{index}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned() {
        let cases: &[(&str, Option<&str>)] = &[
            ("report.pdf", Some("report.pdf")),
            ("C:\\Users\\jan\\Pulpit\\umowa.docx", Some("umowa.docx")),
            ("../../etc/passwd", Some("passwd")),
            ("/tmp/", None),
            ("..", None),
            (".hidden", Some("hidden")),
            ("  spaced name.txt  ", Some("spaced name.txt")),
            ("bad\u{0}\r\nname.txt", Some("bad   name.txt")),
            ("", None),
            ("Отчёт за март.xlsx", Some("Отчёт за март.xlsx")),
        ];
        for (raw, want) in cases {
            assert_eq!(clean_name(raw).as_deref(), *want, "{raw:?}");
        }
    }

    #[test]
    fn long_names_keep_extension_and_char_boundaries() {
        let long = format!("{}.pdf", "ż".repeat(300));
        let cleaned = clean_name(&long).unwrap_or_default();
        assert!(cleaned.len() <= MAX_NAME_BYTES);
        assert!(cleaned.ends_with(".pdf"));
    }

    #[test]
    fn fallback_names_follow_content_type() {
        assert_eq!(fallback_name(1, "application/pdf"), "attachment-1.pdf");
        assert_eq!(fallback_name(3, "application/x-unknown"), "attachment-3.bin");
    }
}
