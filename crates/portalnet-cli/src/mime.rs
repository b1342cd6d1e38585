//! Content type of an attachment guessed from its extension; `--content-type`
//! overrides it. Only common office/web types: anything else is a byte stream.

pub fn guess(file_name: &str) -> &'static str {
    let ext = match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => return "application/octet-stream",
    };
    match ext.as_str() {
        "txt" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::guess;

    #[test]
    fn common_extensions() {
        assert_eq!(guess("report.PDF"), "application/pdf");
        assert_eq!(guess("photo.jpeg"), "image/jpeg");
        assert_eq!(guess("notes.txt"), "text/plain");
        assert_eq!(guess("archive.tar.gz"), "application/octet-stream");
        assert_eq!(guess("Makefile"), "application/octet-stream");
        assert_eq!(guess(".txt"), "application/octet-stream");
    }
}
