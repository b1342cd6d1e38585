//! The content hash that identifies one message across deliveries: header
//! fields that relays add or change on the way (trace fields, authentication
//! results, relay signatures) are left out, so a retry through another relay
//! hashes the same, while any change of what the sender wrote does not.

use sha2::{Digest, Sha256};

/// Header fields (lower case) a relay adds or rewrites; a name ending in `-` is a prefix.
/// RFC 5321 §4.4 trace fields, RFC 8601 `Authentication-Results`, RFC 8617 `ARC-*`,
/// DKIM signatures a relay may add, and what spam and virus filters stamp.
pub const RELAY_FIELDS: &[&str] = &[
    "received",
    "x-received",
    "return-path",
    "delivered-to",
    "x-original-to",
    "authentication-results",
    "arc-",
    "dkim-signature",
    "x-google-dkim-signature",
    "received-spf",
    "x-spam-",
    "x-virus-scanned",
];

/// Whether a header field of this name is one relays add or change.
pub fn is_relay_field(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    RELAY_FIELDS.iter().any(|f| if f.ends_with('-') { name.starts_with(f) } else { name == *f })
}

/// SHA-256 over the header fields other than [`RELAY_FIELDS`] (unfolded, blanks
/// collapsed, names in lower case, in order) and the body (line ends as `\n`).
pub fn content_hash(raw: &[u8]) -> [u8; 32] {
    let (head, body) = split_head(raw);
    let mut h = Sha256::new();
    h.update(b"portalnet-mail-content-v2\n");
    for (name, value) in fields(head) {
        if is_relay_field(&name) {
            continue;
        }
        h.update(name.as_bytes());
        h.update(b":");
        h.update(collapse(value).as_slice());
        h.update(b"\n");
    }
    h.update(b"\n");
    let mut prev_cr = false;
    for &b in body {
        // CRLF and LF hash alike: one hop may store a message with bare LF.
        if prev_cr && b != b'\n' {
            h.update(b"\r");
        }
        prev_cr = b == b'\r';
        if !prev_cr {
            h.update([b]);
        }
    }
    if prev_cr {
        h.update(b"\r");
    }
    h.finalize().into()
}

/// Header block and body, split at the first empty line.
fn split_head(raw: &[u8]) -> (&[u8], &[u8]) {
    let crlf = find(raw, b"\r\n\r\n").map(|i| (i, 4));
    let lf = find(raw, b"\n\n").map(|i| (i, 2));
    let cut = match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    match cut {
        Some((i, n)) => (&raw[..i], &raw[i + n..]),
        None => (raw, &[]),
    }
}

/// The first place of `needle` in `hay` (SIMD search: messages reach 25 MB).
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Header fields as (lower-case name, raw value with folds), continuation lines joined.
fn fields(head: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            if let Some(last) = out.last_mut() {
                last.1.push(b' ');
                last.1.extend_from_slice(line);
            }
            continue;
        }
        match line.iter().position(|&b| b == b':') {
            Some(i) => out.push((
                String::from_utf8_lossy(&line[..i]).trim().to_ascii_lowercase(),
                line[i + 1..].to_vec(),
            )),
            // Not a field (a broken line): kept as a nameless one, so it still counts.
            None => out.push((String::new(), line.to_vec())),
        }
    }
    out
}

/// Runs of blanks as one space, none at the ends: a relay may refold a field.
fn collapse(value: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len());
    for word in value.split(|b| b.is_ascii_whitespace()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &str = "From: a@example.org\r\nSubject: Hello\r\n  there\r\nMessage-ID: <m1@example.org>\r\n\r\nbody\r\nline\r\n";

    #[test]
    fn relay_fields_do_not_count() {
        let base = content_hash(MSG.as_bytes());
        let relayed = format!(
            "Return-Path: <a@example.org>\r\nReceived: from mx2.example.net by mx.portal.test; Tue, 1 Jul 2026 10:00:00 +0000\r\n\
             Received: from client\r\n\tby mx2.example.net\r\nDelivered-To: task+x@portal.test\r\nX-Original-To: task+x@portal.test\r\n\
             Authentication-Results: mx.portal.test; spf=pass\r\nARC-Seal: i=1; a=rsa-sha256; cv=none\r\n\
             ARC-Message-Signature: i=1\r\nDKIM-Signature: v=1; d=example.net\r\nX-Spam-Status: No\r\n{MSG}"
        );
        assert_eq!(content_hash(relayed.as_bytes()), base);
        // Refolded and with bare LF line ends: still the same message.
        let refolded = MSG.replace("Hello\r\n  there", "Hello there").replace("\r\n", "\n");
        assert_eq!(content_hash(refolded.as_bytes()), base);
    }

    #[test]
    fn what_the_sender_wrote_counts() {
        let base = content_hash(MSG.as_bytes());
        assert_ne!(content_hash(MSG.replace("body", "bodY").as_bytes()), base);
        assert_ne!(content_hash(MSG.replace("Hello", "Hallo").as_bytes()), base);
        assert_ne!(content_hash(format!("Cc: b@example.org\r\n{MSG}").as_bytes()), base);
        assert_ne!(content_hash(MSG.replace("line\r\n", "line\r\n\r\n").as_bytes()), base);
        assert!(!is_relay_field("Subject") && is_relay_field("ARC-Authentication-Results"));
    }

    #[test]
    fn odd_inputs_hash_without_panic() {
        for raw in [&b""[..], b"\r", b"\r\n\r\n", b"no colon\r\n\r\n", b"\n\n\n", b"a:\r\n \r\n"] {
            let _ = content_hash(raw);
        }
    }
}
