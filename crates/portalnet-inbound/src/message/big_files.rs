//! Large base64 files decoded where they lie, so that accepting a 25 MB mail
//! (R19) holds the message once, not the message and a decoded copy of its file
//! (issue 12: the peak was 1.76× the message).
//!
//! Before mail-parser runs, every large base64 leaf part of a multipart message
//! is decoded inside the received buffer (base64 decodes shorter than it reads,
//! so the writes stay behind the reads), and the decoded files are rotated to the
//! front of the buffer. mail-parser then reads the rest, in which those parts have
//! an empty body, and the attachments take their bytes as shared slices of the
//! same buffer ([`Bytes`]): nothing is copied and nothing else is allocated.
//!
//! Only what mail-parser would decode the same way is taken: a part whose body is
//! plain base64 (alphabet, line breaks, final padding) between CRLF-delimited
//! boundaries, not text (text files keep their original bytes, see
//! `original_text`), not a message, at least [`MIN_BYTES`] long. Anything else is
//! left in place for mail-parser, as before. A decoded part that mail-parser does
//! not see at the same place fails the parse rather than lose the file.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use mail_parser::{MessageParser, MimeHeaders};
use std::ops::Range;

/// Encoded parts shorter than this are left to mail-parser (copying them costs
/// little, and the rotation below is cheaper with few parts).
pub(super) const MIN_BYTES: usize = 256 * 1024;

/// Multiparts nested deeper than this are left to mail-parser.
const MAX_DEPTH: usize = 8;

/// A decoded file: where its bytes lie in the buffer, and where its (now empty)
/// body begins in the part of the buffer that mail-parser reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DecodedFile {
    pub bytes: Range<usize>,
    pub body_at: usize,
}

/// Decodes the large base64 files of `raw` in place (see the module docs).
/// Returns where mail-parser must start reading, and the files; `raw` shrinks.
pub(super) fn decode_in_place(raw: &mut Vec<u8>) -> (usize, Vec<DecodedFile>) {
    let mut bodies = Vec::new();
    // A message shorter than a large part has none: most mail costs nothing here.
    if raw.len() < MIN_BYTES {
        return (0, Vec::new());
    }
    if let Some(header_end) = find(raw, b"\r\n\r\n", 0) {
        walk(raw, 0..header_end + 4, raw.len(), 0, &mut bodies);
    }
    if bodies.is_empty() {
        return (0, Vec::new());
    }
    // Decode each body where it lies and close the gaps, front to back: the
    // write position never passes the read position.
    let (mut read, mut write) = (0, 0);
    let mut placed = Vec::with_capacity(bodies.len());
    for body in bodies {
        raw.copy_within(read..body.start, write);
        write += body.start - read;
        let start = write;
        write += decode_base64(raw, body.clone(), write);
        placed.push(start..write);
        read = body.end;
    }
    raw.copy_within(read.., write);
    raw.truncate(write + (raw.len() - read));
    // Rotate each file to the front, after the ones already there: the buffer
    // becomes the files, then the message without them.
    let mut front = 0;
    let mut files = Vec::with_capacity(placed.len());
    for file in placed {
        let len = file.len();
        if let Some(span) = raw.get_mut(front..file.end) {
            span.rotate_right(len);
        }
        // The part's empty body: where the file began, less the files before it.
        files.push(DecodedFile { bytes: front..front + len, body_at: file.start - front });
        front += len;
    }
    (front, files)
}

/// The bodies of the large base64 leaves in the entity whose header is
/// `raw[header]` and whose body runs to `end`.
fn walk(raw: &[u8], header: Range<usize>, end: usize, depth: usize, out: &mut Vec<Range<usize>>) {
    let Some(h) = raw.get(header.clone()).and_then(|h| MessageParser::default().parse_headers(h)) else {
        return;
    };
    let body = header.end..end;
    let Some(ct) = h.content_type() else { return };
    if ct.c_type.eq_ignore_ascii_case("multipart") {
        if depth >= MAX_DEPTH {
            return;
        }
        let Some(boundary) = ct.attribute("boundary").filter(|b| !b.is_empty()) else { return };
        // A part shorter than a large file holds none; one without a header is
        // text/plain: nothing to take from either.
        for part in parts(raw, body, boundary.as_bytes()).into_iter().filter(|p| p.len() >= MIN_BYTES) {
            let area = raw.get(..part.end).unwrap_or_default();
            if let Some(e) = find(area, b"\r\n\r\n", part.start) {
                walk(raw, part.start..e + 4, part.end, depth + 1, out);
            }
        }
        return;
    }
    let base64 = h.content_transfer_encoding().is_some_and(|e| e.trim().eq_ignore_ascii_case("base64"));
    let skipped = ["text", "message"].iter().any(|t| ct.c_type.eq_ignore_ascii_case(t));
    if depth > 0
        && base64
        && !skipped
        && body.len() >= MIN_BYTES
        && raw.get(body.clone()).is_some_and(plain_base64)
    {
        out.push(body);
    }
}

/// The parts of a multipart body: what lies between its CRLF-delimited
/// boundary lines, up to the closing one. Empty if it is not closed.
fn parts(raw: &[u8], body: Range<usize>, boundary: &[u8]) -> Vec<Range<usize>> {
    let mut delimiter = b"\r\n--".to_vec();
    delimiter.extend_from_slice(boundary);
    let area = raw.get(..body.end).unwrap_or_default();
    // The CRLF ending the header's blank line also opens the first delimiter.
    let mut at = body.start.saturating_sub(2);
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    while let Some(d) = find(area, &delimiter, at) {
        if let Some(start) = open.take() {
            out.push(start..d);
        }
        let after = d + delimiter.len();
        if area.get(after..after + 2) == Some(b"--") {
            return out;
        }
        let Some(line_end) = find(area, b"\r\n", after) else { break };
        open = Some(line_end + 2);
        at = line_end;
    }
    Vec::new()
}

/// Base64 alphabet characters and line breaks.
const PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'\r' | b'\n');
        i += 1;
    }
    t
};

/// Whether `body` is base64 that decodes whole: alphabet characters and line
/// breaks, a multiple of four characters, padding only at the end.
fn plain_base64(body: &[u8]) -> bool {
    let end = body.iter().rposition(|b| !matches!(b, b'\r' | b'\n')).map_or(0, |p| p + 1);
    let data = body.get(..end).unwrap_or_default();
    let padding = data.iter().rev().take_while(|&&b| b == b'=').count();
    let data = data.get(..data.len() - padding).unwrap_or_default();
    let breaks = memchr::memchr2_iter(b'\r', b'\n', data).count();
    padding <= 2
        && data.iter().all(|&b| PLAIN[usize::from(b)])
        && (data.len() - breaks + padding).is_multiple_of(4)
}

/// Lenient where mail-parser is: unused bits of the last character may be set.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes the checked base64 in `buf[from]` to `buf[to..]` (`to <= from.start`)
/// and returns the decoded length. Each chunk is read out before its bytes are
/// written, and the writes never pass the chunk read.
fn decode_base64(buf: &mut [u8], from: Range<usize>, to: usize) -> usize {
    const CHUNK: usize = 64 * 1024;
    let mut text: Vec<u8> = Vec::with_capacity(CHUNK + 4);
    let mut out = vec![0u8; CHUNK / 4 * 3 + 3];
    let (mut read, mut write) = (from.start, to);
    while read < from.end {
        let end = (read + CHUNK).min(from.end);
        text.extend(buf.get(read..end).unwrap_or_default().iter().filter(|b| !matches!(b, b'\r' | b'\n')));
        read = end;
        let whole = if read == from.end { text.len() } else { text.len() / 4 * 4 };
        let n = BASE64.decode_slice(text.get(..whole).unwrap_or_default(), &mut out).unwrap_or(0);
        if let (Some(dst), Some(src)) = (buf.get_mut(write..write + n), out.get(..n)) {
            dst.copy_from_slice(src);
        }
        write += n;
        text.drain(..whole);
    }
    write - to
}

/// [`crate::trace::find`] from `from` on.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    crate::trace::find(haystack.get(from..)?, needle).map(|p| p + from)
}

#[cfg(test)]
mod tests;
