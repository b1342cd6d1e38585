//! Samples built the way real clients write them, in the charsets our users' mail comes in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use encoding_rs::{Encoding, ISO_2022_JP, KOI8_R, UTF_8, WINDOWS_1250, WINDOWS_1251};

use super::*;

const POLISH: &str = "Zażółć gęślą jaźń — faktura";
const RUSSIAN: &str = "Съешь же ещё этих мягких булок";
const JAPANESE: &str = "会議の議事録について";

fn encode(charset: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = charset.encode(text);
    assert!(!unmappable, "{text:?} does not fit {}", charset.name());
    bytes.into_owned()
}

/// RFC 2047 B-encoded word.
fn b_word(charset: &'static Encoding, text: &str) -> String {
    format!("=?{}?B?{}?=", charset.name(), B64.encode(encode(charset, text)))
}

/// RFC 2047 Q-encoded word.
fn q_word(charset: &'static Encoding, text: &str) -> String {
    let mut out = format!("=?{}?Q?", charset.name());
    for b in encode(charset, text) {
        match b {
            b' ' => out.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => out.push(b as char),
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out.push_str("?=");
    out
}

/// RFC 2231 extended parameter value: `charset''percent-encoded`.
fn rfc2231(charset: &'static Encoding, text: &str) -> String {
    let mut out = format!("{}''", charset.name());
    for b in encode(charset, text) {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A single-part text/plain message whose headers are already ASCII.
fn plain(charset: &str, subject: &str, cte: &str, body: &[u8]) -> Vec<u8> {
    let mut raw = format!(
        "From: Jan Kowalski <Jan.Kowalski@Example.PL>\r\n\
         To: task-7f3a@portal.example\r\n\
         Subject: {subject}\r\n\
         Message-ID: <abc.123@example.pl>\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset={charset}\r\n\
         Content-Transfer-Encoding: {cte}\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(body);
    raw
}

fn parsed(raw: &[u8]) -> InboundMessage {
    match parse(raw) {
        Ok(msg) => msg,
        Err(err) => panic!("sample did not parse: {err}"),
    }
}

#[test]
fn charsets_in_subject_and_body() {
    struct Case {
        name: &'static str,
        charset: &'static Encoding,
        text: &'static str,
    }
    let cases = [
        Case { name: "windows-1250 (Polish)", charset: WINDOWS_1250, text: POLISH },
        Case { name: "KOI8-R (Russian)", charset: KOI8_R, text: RUSSIAN },
        Case { name: "windows-1251 (Russian)", charset: WINDOWS_1251, text: RUSSIAN },
        Case { name: "ISO-2022-JP", charset: ISO_2022_JP, text: JAPANESE },
        Case { name: "UTF-8", charset: UTF_8, text: "Grüße — Zażółć — Съешь — 会議" },
    ];
    for case in cases {
        // B-encoded subject, 8-bit body.
        let body = encode(case.charset, &format!("{}\r\nsecond line\r\n", case.text));
        let raw = plain(case.charset.name(), &b_word(case.charset, case.text), "8bit", &body);
        let msg = parsed(&raw);
        assert_eq!(msg.subject, case.text, "{}: B subject", case.name);
        assert_eq!(msg.text, format!("{}\nsecond line", case.text), "{}: 8bit body", case.name);

        // Q-encoded subject, base64 body.
        let raw = plain(
            case.charset.name(),
            &q_word(case.charset, case.text),
            "base64",
            B64.encode(&body).as_bytes(),
        );
        let msg = parsed(&raw);
        assert_eq!(msg.subject, case.text, "{}: Q subject", case.name);
        assert_eq!(msg.text, format!("{}\nsecond line", case.text), "{}: base64 body", case.name);
    }
}

#[test]
fn quoted_printable_body_and_split_encoded_words() {
    let subject =
        format!("{}\r\n {}", b_word(WINDOWS_1250, "Zażółć gęślą "), b_word(WINDOWS_1250, "jaźń — faktura"));
    let raw =
        plain("windows-1250", &subject, "quoted-printable", b"Dzi=EAkuj=EA=2C\r\ndo zobaczenia=\r\n!\r\n");
    let msg = parsed(&raw);
    assert_eq!(msg.subject, POLISH);
    assert_eq!(msg.text, "Dziękuję,\ndo zobaczenia!");
}

/// A quoted-printable part whose last line ends in a soft line break right before the
/// boundary keeps its last bytes, as a body (Polish, windows-1250), an HTML body
/// (Russian, KOI8-R) and a file. mail-parser alone cut them (`Hello=` gave `Hel`).
#[test]
fn quoted_printable_soft_break_before_a_boundary_keeps_the_last_bytes() {
    let qp = |bytes: Vec<u8>| bytes.iter().map(|b| format!("={b:02X}")).collect::<String>();
    let polish = qp(encode(WINDOWS_1250, "gęślą"));
    let russian = qp(encode(KOI8_R, "булок"));
    let raw = format!(
        "From: a@example.org\r\nSubject: qp\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=windows-1250\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\nZa=\r\n{polish}=\r\n\
         --b\r\nContent-Type: text/html; charset=koi8-r\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>{russian}</p>=\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"f.bin\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\nHello=\r\n\
         --b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=\"g.bin\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\nHi=\r\n--b--\r\n"
    );
    let msg = parsed(raw.as_bytes());
    assert_eq!(msg.text, "Zagęślą\n\nбулок");
    let files: Vec<(&str, &[u8])> = msg.attachments.iter().map(|a| (a.name.as_str(), &a.bytes[..])).collect();
    assert_eq!(files, [("f.bin", &b"Hello"[..]), ("g.bin", &b"Hi"[..])]);
}

#[test]
fn addresses_ids_and_hash() {
    let raw = b"From: \"Kowalski, Jan\" <Jan.Kowalski@Example.PL>\r\n\
        Subject: Re: task\r\n\
        Message-ID: <CAB+x=1@mail.gmail.com>\r\n\
        In-Reply-To: <task-12.abc@portal.example>\r\n\
        References: <root@portal.example>\r\n <task-12.abc@portal.example>\r\n\
        \r\nbody\r\n";
    let msg = parsed(raw);
    assert_eq!(msg.from.as_deref(), Some("jan.kowalski@example.pl"));
    assert_eq!(msg.message_id.as_deref(), Some("CAB+x=1@mail.gmail.com"));
    assert_eq!(msg.in_reply_to, ["task-12.abc@portal.example"]);
    assert_eq!(msg.references, ["root@portal.example", "task-12.abc@portal.example"]);
    assert_eq!(msg.content_hash, crate::trace::content_hash(raw));
    assert_eq!(msg.content_hash_hex().len(), 64);
}

#[test]
fn missing_or_blank_subject() {
    for raw in [&b"From: a@b.c\r\n\r\nhello\r\n"[..], b"From: a@b.c\r\nSubject:   \r\n\r\nhello\r\n"] {
        let msg = parsed(raw);
        assert_eq!(msg.subject, NO_SUBJECT);
        assert_eq!(msg.text, "hello");
        assert_eq!(msg.message_id, None);
    }
}

#[test]
fn html_only_mail_becomes_readable_text() {
    let raw = b"From: a@b.c\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <html><head><style>p{color:red}</style></head><body>\
        <p>Hello&nbsp;<b>team</b>,</p><p>Please review &amp; sign.</p>\
        <ul><li>one</li><li>two</li></ul></body></html>\r\n";
    let msg = parsed(raw);
    for expected in ["Hello", "team", "Please review & sign.", "one", "two"] {
        assert!(msg.text.contains(expected), "{expected:?} missing from {:?}", msg.text);
    }
    assert!(!msg.text.contains('<'), "tags left in {:?}", msg.text);
    assert!(!msg.text.contains("color:red"), "style left in {:?}", msg.text);
}

#[test]
fn alternative_prefers_plain_text() {
    let raw = b"From: a@b.c\r\nSubject: alt\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
        --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain version\r\n\
        --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html version</p>\r\n\
        --b1--\r\n";
    let msg = parsed(raw);
    assert_eq!(msg.text, "plain version");
    assert!(msg.attachments.is_empty());
}

#[test]
fn attachments_with_encoded_names() {
    let pdf = b"%PDF-1.4 fake".to_vec();
    let png = vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255];
    let txt = encode(KOI8_R, RUSSIAN);
    let parts = [
        // RFC 2231 with charset, in Content-Disposition.
        format!(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*={}\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            rfc2231(WINDOWS_1250, "Umowa źródłowa.pdf"),
            B64.encode(&pdf)
        ),
        // RFC 2047 in the Content-Type name (what Outlook writes), with a Windows path.
        format!(
            "Content-Type: image/png; name=\"{}\"\r\nContent-Disposition: attachment\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b_word(WINDOWS_1251, "C:\\Документы\\Схема.png"),
            B64.encode(&png)
        ),
        // RFC 2231 continuation, ISO-2022-JP is not allowed there so UTF-8.
        format!(
            "Content-Type: text/plain; charset=koi8-r\r\nContent-Disposition: attachment;\r\n \
             filename*0*={};\r\n filename*1*=%2Etxt\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            rfc2231(UTF_8, JAPANESE),
            B64.encode(&txt)
        ),
        // No name at all.
        format!(
            "Content-Type: application/pdf\r\nContent-Disposition: attachment\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            B64.encode(&pdf)
        ),
    ];
    let mut raw = b"From: a@b.c\r\nSubject: files\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n\
        --XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n"
        .to_vec();
    for part in &parts {
        raw.extend_from_slice(b"--XX\r\n");
        raw.extend_from_slice(part.as_bytes());
    }
    raw.extend_from_slice(b"--XX--\r\n");

    let msg = parsed(&raw);
    assert_eq!(msg.text, "See attached.");
    let got: Vec<(&str, &str)> =
        msg.attachments.iter().map(|a| (a.name.as_str(), a.content_type.as_str())).collect();
    let japanese_txt = format!("{JAPANESE}.txt");
    assert_eq!(
        got,
        [
            ("Umowa źródłowa.pdf", "application/pdf"),
            ("Схема.png", "image/png"),
            (japanese_txt.as_str(), "text/plain"),
            ("attachment-4.pdf", "application/pdf"),
        ]
    );
    assert_eq!(msg.attachments[0].bytes, pdf);
    assert_eq!(msg.attachments[1].bytes, png);
    // A text file keeps its own charset.
    assert_eq!(msg.attachments[2].bytes, txt);
    assert_eq!(msg.attachments[3].bytes, pdf);
}

#[test]
fn unencoded_text_file_and_forwarded_message() {
    let raw = b"From: a@b.c\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n\
        --m\r\nContent-Type: text/plain\r\n\r\nFYI\r\n\
        --m\r\nContent-Type: text/csv; charset=windows-1250\r\n\
        Content-Disposition: attachment; filename=\"a.csv\"\r\n\r\nZa\xbf\xf3\xb3\xe6;1\r\n\
        --m\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.z\r\nSubject: inner\r\n\r\ninner body\r\n\
        --m--\r\n";
    let msg = parsed(raw);
    assert_eq!(msg.text, "FYI");
    assert_eq!(msg.attachments.len(), 2);
    assert_eq!(msg.attachments[0].name, "a.csv");
    assert_eq!(msg.attachments[0].bytes, &b"Za\xbf\xf3\xb3\xe6;1"[..]);
    assert_eq!(msg.attachments[1].content_type, "message/rfc822");
    assert_eq!(msg.attachments[1].name, "attachment-2.eml");
    assert!(msg.attachments[1].bytes.starts_with(b"From: x@y.z"));
}

#[test]
fn auto_signals_are_read() {
    let raw = b"From: MAILER-DAEMON@example.com\r\nSubject: Undelivered\r\n\
        Auto-Submitted: Auto-Replied\r\nX-Autoreply: yes\r\nPrecedence: Bulk\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
        --r\r\nContent-Type: text/plain\r\n\r\nCould not deliver.\r\n\
        --r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\
        --r--\r\n";
    let msg = parsed(raw);
    assert_eq!(msg.auto.auto_submitted.as_deref(), Some("auto-replied"));
    assert!(msg.auto.x_autoreply);
    assert_eq!(msg.auto.precedence.as_deref(), Some("bulk"));
    assert!(msg.auto.delivery_report);

    let plain = parsed(b"From: a@b.c\r\nSubject: hi\r\n\r\nhi\r\n");
    assert_eq!(plain.auto, AutoSignals::default());
}

#[test]
fn garbage_and_edge_inputs_do_not_panic() {
    let cases: &[&[u8]] = &[
        b"",
        b"\r\n",
        b"\x00\x01\x02\xff\xfe",
        b"no colon here at all",
        b"Subject: =?x-unknown?B?////?=\r\n\r\n",
        b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n",
        b"Content-Type: multipart/mixed\r\n\r\nno boundary\r\n",
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
        b"From: <>\r\nSubject: \xff\xfe\r\n\r\n\xc3\x28",
    ];
    for raw in cases {
        match parse(raw) {
            Ok(msg) => assert!(!msg.subject.is_empty()),
            Err(Error::NotAMessage) => {}
            Err(other) => panic!("{raw:?}: unexpected {other}"),
        }
    }
}

#[test]
fn too_many_parts_are_refused() {
    let mut raw = b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n".to_vec();
    for i in 0..=MAX_PARTS {
        raw.extend_from_slice(format!("--p\r\nContent-Type: text/plain\r\n\r\n{i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"--p--\r\n");
    assert!(matches!(parse(&raw), Err(Error::TooManyParts { max: MAX_PARTS, .. })));
}

mod props {
    use proptest::prelude::*;

    use super::super::parse;

    const SAMPLE: &[u8] = b"From: Jan <jan@example.pl>\r\nSubject: =?utf-8?B?WmHFvMOzxYLEhw==?=\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
        --b\r\nContent-Type: text/plain; charset=windows-1250\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\r\nDzi=EAkuj=EA\r\n\
        --b\r\nContent-Type: application/pdf; name*=utf-8''%C5%BC.pdf\r\n\
        Content-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n\
        --b--\r\n";

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&raw);
        }

        #[test]
        fn mutated_messages_never_panic(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..32)
        ) {
            let mut raw = SAMPLE.to_vec();
            for (at, byte, op) in edits {
                if raw.is_empty() {
                    raw.push(byte);
                    continue;
                }
                let i = at.index(raw.len());
                match op {
                    0 => raw[i] = byte,
                    1 => raw.insert(i, byte),
                    _ => { raw.remove(i); }
                }
            }
            if let Ok(msg) = parse(&raw) {
                prop_assert!(!msg.subject.is_empty());
                prop_assert!(msg.attachments.iter().all(|a| !a.name.is_empty() && !a.name.contains(['/', '\\'])));
            }
        }
    }
}

#[test]
fn subject_split_inside_a_character_is_whole() {
    // Found 3: "Faktura żółta" with "ż" (C5 BC) cut between two UTF-8 words, as some clients fold.
    let raw = b"From: a@b.c\r\nSubject: =?UTF-8?B?RmFrdHVyYSDF?=\r\n =?UTF-8?B?vMOzxYJ0YQ==?=\r\n\r\nx\r\n";
    assert_eq!(parsed(raw).subject, "Faktura żółta");
    let raw =
        "From: a@b.c\r\nSubject: =?utf-8?Q?=D0=9F=D1?= =?utf-8?Q?=80=D0=B8=D0=B2=D0=B5=D1=82?=\r\n\r\nx\r\n";
    assert_eq!(parsed(raw.as_bytes()).subject, "Привет");
}

#[test]
fn html_only_blocks_stay_apart() {
    // Found 2: adjacent paragraphs, list items and table cells must not run together.
    let raw = b"From: a@b.c\r\nSubject: html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <p>Alpha</p><p>Beta</p><ul><li>Gamma</li><li>Delta</li></ul>\
        <table><tr><td>Eps</td><td>Zeta</td></tr></table><a href=\"https://x.example/a\">link</a>\r\n";
    let t = parsed(raw).text;
    for glued in ["AlphaBeta", "GammaDelta", "EpsZeta"] {
        assert!(!t.contains(glued), "{glued} in {t:?}");
    }
    assert!(t.contains("Alpha\n\nBeta") && t.contains("https://x.example/a"), "{t:?}");
}

#[test]
fn a_relay_retry_hashes_the_same() {
    // Found 1: a second delivery with another Received chain is the same message.
    let msg = "From: a@b.c\r\nSubject: s\r\nMessage-ID: <r1@b.c>\r\n\r\nbody\r\n";
    let relayed = format!("Received: from mx9.example.net\r\nDelivered-To: x@y.z\r\n{msg}");
    assert_eq!(parsed(msg.as_bytes()).content_hash, parsed(relayed.as_bytes()).content_hash);
    assert_ne!(
        parsed(msg.as_bytes()).content_hash,
        parsed(msg.replace("body", "other").as_bytes()).content_hash
    );
}
