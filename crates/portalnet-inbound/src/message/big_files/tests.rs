//! The in-place path must give exactly what mail-parser gives (`parse`), and must
//! actually be taken for large files: both are checked on each sample.

use super::super::{InboundMessage, parse, parse_owned};
use super::*;
use base64::engine::general_purpose::STANDARD as B64;

/// Deterministic bytes that are not text.
fn file(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed).collect()
}

/// Base64 in lines of `width` characters, CRLF-ended.
fn lines(bytes: &[u8], width: usize) -> String {
    let text = B64.encode(bytes);
    let chunks: Vec<&str> =
        text.as_bytes().chunks(width).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    chunks.join("\r\n")
}

fn part(content_type: &str, name: &str, bytes: &[u8], width: usize) -> String {
    format!(
        "Content-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; \
         filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}",
        lines(bytes, width)
    )
}

fn multipart(kind: &str, boundary: &str, parts: &[String]) -> String {
    let mut out = format!("Content-Type: multipart/{kind}; boundary=\"{boundary}\"\r\n\r\n");
    for p in parts {
        out.push_str(&format!("--{boundary}\r\n{p}\r\n"));
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    out
}

fn message(body: &str) -> Vec<u8> {
    format!(
        "From: Anna <anna@example.org>\r\nTo: t@portal.test\r\nSubject: files\r\n\
         Message-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\n{body}"
    )
    .into_bytes()
}

const TEXT: &str = "Content-Type: text/plain; charset=utf-8\r\n\r\nThe files, as promised.";

/// Both paths agree, and `taken` files went the in-place way.
fn check(raw: &[u8], taken: usize) -> InboundMessage {
    let mut copy = raw.to_vec();
    let (_, files) = decode_in_place(&mut copy);
    assert_eq!(files.len(), taken, "files decoded in place");
    let classic = parse(raw).expect("mail-parser reads it");
    let owned = parse_owned(raw.to_vec()).expect("the in-place path reads it");
    assert_eq!(owned, classic);
    owned
}

#[test]
fn one_large_file_is_decoded_in_place_and_equals_mail_parser() {
    let big = file(400_000, 7);
    let raw = message(&multipart(
        "mixed",
        "b1",
        &[
            TEXT.into(),
            part("application/pdf", "umowa.pdf", &big, 76),
            part("image/png", "s.png", b"small", 76),
        ],
    ));
    let msg = check(&raw, 1);
    assert_eq!(msg.attachments.len(), 2);
    assert_eq!(msg.attachments[0].name, "umowa.pdf");
    assert_eq!(msg.attachments[0].bytes, big);
    assert_eq!(msg.text, "The files, as promised.");
}

#[test]
fn every_padding_and_line_width_decodes_the_same() {
    for (len, width) in [(300_000, 76), (300_001, 64), (300_002, 76), (300_003, 1000), (300_004, 4)] {
        let big = file(len, len as u8);
        let raw = message(&multipart(
            "mixed",
            "pad",
            &[TEXT.into(), part("application/zip", "a.zip", &big, width)],
        ));
        let msg = check(&raw, 1);
        assert_eq!(msg.attachments[0].bytes, big, "{len} bytes in lines of {width}");
    }
}

#[test]
fn nested_parts_and_several_files_keep_their_order() {
    let (a, b, c) = (file(MIN_BYTES, 1), file(500_000, 2), file(270_000, 3));
    let alternative = multipart(
        "alternative",
        "inner-1",
        &[TEXT.into(), "Content-Type: text/html\r\n\r\n<p>The files</p>".into()],
    );
    let related = multipart("related", "inner-2", &[part("application/octet-stream", "b.bin", &b, 76)]);
    let raw = message(&multipart(
        "mixed",
        "outer",
        &[
            alternative.trim_end().into(),
            part("application/pdf", "a.pdf", &a, 76),
            related.trim_end().into(),
            part("video/mp4", "c.mp4", &c, 76),
        ],
    ));
    let msg = check(&raw, 3);
    let names: Vec<&str> = msg.attachments.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["a.pdf", "b.bin", "c.mp4"]);
    assert_eq!(msg.attachments[1].bytes, b);
}

#[test]
fn what_mail_parser_must_read_itself_is_left_in_place() {
    let big = file(300_000, 9);
    // A text file keeps its own bytes (original_text), a broken encoding is read
    // leniently by mail-parser, a small file is not worth it, and a part with no
    // closing boundary is not ours to cut.
    let mut broken = lines(&big, 76);
    broken.insert(1000, '*');
    let cases = [
        multipart("mixed", "t", &[TEXT.into(), part("text/csv", "a.csv", &big, 76)]),
        multipart(
            "mixed",
            "x",
            &[format!("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{broken}")],
        ),
        multipart("mixed", "s", &[part("application/pdf", "s.pdf", &file(1000, 1), 76)]),
        multipart("mixed", "open", &[part("application/pdf", "a.pdf", &big, 76)]).replace("--open--\r\n", ""),
    ];
    for body in cases {
        check(&message(&body), 0);
    }
}

#[test]
fn a_file_holding_the_boundary_stays_whole() {
    // The decoded bytes carry the message's own boundary line: mail-parser never
    // sees them, so they cannot end the part.
    let mut big = file(300_000, 4);
    big.splice(
        1000..1000,
        b"\r\n--same\r\nContent-Type: text/plain\r\n\r\nnot a part\r\n--same--\r\n".iter().copied(),
    );
    let raw = message(&multipart(
        "mixed",
        "same",
        &[TEXT.into(), part("application/octet-stream", "x.eml.bin", &big, 76)],
    ));
    let msg = check(&raw, 1);
    assert_eq!(msg.attachments.len(), 1);
    assert_eq!(msg.attachments[0].bytes, big);
}

#[test]
fn the_buffer_shrinks_and_holds_the_files_first() {
    let big = file(300_000, 5);
    let mut raw =
        message(&multipart("mixed", "b", &[TEXT.into(), part("application/pdf", "a.pdf", &big, 76)]));
    let before = raw.len();
    let (front, files) = decode_in_place(&mut raw);
    assert_eq!(front, big.len());
    assert_eq!(raw.get(files[0].bytes.clone()), Some(&big[..]));
    assert!(raw.len() < before - big.len() / 3, "the encoded text is gone");
    let rest = String::from_utf8(raw[front..].to_vec()).expect("the rest is the text of the message");
    assert!(rest.contains("filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n\r\n--b--"));
}

#[test]
fn a_last_character_with_stray_bits_decodes_as_mail_parser_does() {
    // 300,001 bytes end in one byte: `xy==`, where the low four bits of `y` are
    // unused. Senders that set them are read leniently by mail-parser.
    let big = file(300_001, 6);
    let mut text = lines(&big, 76);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let at = text.len() - 3;
    let y = text.as_bytes()[at];
    let v = ALPHABET.iter().position(|&c| c == y).expect("an alphabet character");
    text.replace_range(at..at + 1, &(ALPHABET[v | 1] as char).to_string());
    let body = multipart(
        "mixed",
        "bits",
        &[format!("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{text}")],
    );
    let msg = check(&message(&body), 1);
    assert_eq!(msg.attachments[0].bytes, big);
}

mod damaged {
    use super::*;
    use proptest::prelude::*;

    const PIECES: [&str; 7] = ["\r\n--cut\r\n", "\r\n--cut--\r\n", "\r\n\r\n", "=", "*", "--cut", "\r\n"];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        /// Cut, damaged or with boundaries added anywhere, a message with large
        /// files never panics, and what the in-place path reads is what
        /// mail-parser reads, unless it refuses (never an emptied file).
        #[test]
        fn damaged_messages_read_the_same_or_are_refused(
            at in 0.0..1.0f64, piece in 0usize..PIECES.len(), cut in proptest::bool::ANY, seed in 0u8..255,
        ) {
            let (a, b) = (file(MIN_BYTES + 3, seed), file(MIN_BYTES + 100, seed ^ 0x55));
            let mut raw = message(&multipart(
                "mixed",
                "cut",
                &[TEXT.into(), part("application/pdf", "a.pdf", &a, 76), part("image/jpeg", "b.jpg", &b, 60)],
            ));
            let pos = ((raw.len() as f64) * at) as usize;
            if cut {
                raw.truncate(pos);
            } else {
                raw.splice(pos..pos, PIECES[piece].bytes());
            }
            let classic = parse(&raw);
            match parse_owned(raw.clone()) {
                Ok(owned) => prop_assert_eq!(Some(owned), classic.ok()),
                Err(e) => prop_assert!(matches!(e, crate::Error::ParserFailed) || classic.is_err(), "{e}"),
            }
        }
    }
}
