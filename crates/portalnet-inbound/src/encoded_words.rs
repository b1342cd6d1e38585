//! Lenient RFC 2047 decoding of a header's text. Some clients split a long subject
//! into encoded-words in the middle of a multi-byte character (UTF-8, Shift_JIS
//! ...); decoding each word on its own then yields U+FFFD. Here adjacent words in
//! the same charset are joined as bytes first and decoded once.

use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;

/// One run of a header: plain text, or the bytes of encoded-words in one charset.
enum Piece {
    Text(String),
    Words { charset: String, bytes: Vec<u8> },
}

/// The decoded text of a raw (possibly folded) header value, or `None` when it holds
/// no encoded-word or names a charset we cannot decode (the caller keeps its own).
pub fn decode(raw: &str) -> Option<String> {
    if !raw.contains("=?") {
        return None;
    }
    let unfolded: String = raw.replace("\r\n", "").replace('\n', "");
    let mut pieces: Vec<Piece> = Vec::new();
    let mut rest = unfolded.as_str();
    while !rest.is_empty() {
        let Some(start) = rest.find("=?") else {
            push_text(&mut pieces, rest);
            break;
        };
        match word(rest.get(start..)?) {
            Some((charset, bytes, len)) => {
                let before = rest.get(..start)?;
                // Blanks between two encoded-words are not part of the text (RFC 2047 §6.2).
                let between_words = matches!(pieces.last(), Some(Piece::Words { .. }))
                    && before.chars().all(char::is_whitespace);
                if !between_words {
                    push_text(&mut pieces, before);
                }
                match pieces.last_mut() {
                    Some(Piece::Words { charset: c, bytes: b })
                        if between_words && c.eq_ignore_ascii_case(&charset) =>
                    {
                        b.extend_from_slice(&bytes)
                    }
                    _ => pieces.push(Piece::Words { charset, bytes }),
                }
                rest = rest.get(start + len..)?;
            }
            None => {
                push_text(&mut pieces, rest.get(..start + 2)?);
                rest = rest.get(start + 2..)?;
            }
        }
    }
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(&t),
            Piece::Words { charset, bytes } => out.push_str(&decode_charset(&charset, &bytes)?),
        }
    }
    Some(out)
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(Piece::Text(t)) => t.push_str(text),
        _ => pieces.push(Piece::Text(text.to_string())),
    }
}

/// `=?charset?B|Q?text?=` at the start of `s`: (charset, decoded bytes, length in `s`).
fn word(s: &str) -> Option<(String, Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (charset, after) = inner.split_once('?')?;
    let (enc, after) = after.split_once('?')?;
    let end = after.find("?=")?;
    let text = after.get(..end)?;
    if charset.is_empty() || text.contains(char::is_whitespace) || charset.contains(char::is_whitespace) {
        return None;
    }
    // RFC 2231 §5: `charset*language`.
    let charset = charset.split('*').next().unwrap_or(charset).to_string();
    let bytes = match enc {
        "B" | "b" => base64_decode(text.as_bytes())?,
        "Q" | "q" => q_decode(text.as_bytes()),
        _ => return None,
    };
    let len = 2 + inner.len() - after.len() + end + 2;
    Some((charset, bytes, len))
}

fn q_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'_' => out.push(b' '),
            b'=' if let (Some(hi), Some(lo)) =
                (text.get(i + 1).and_then(|b| hex(*b)), text.get(i + 2).and_then(|b| hex(*b))) =>
            {
                out.push(hi << 4 | lo);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn decode_charset(charset: &str, bytes: &[u8]) -> Option<String> {
    let lower = charset.to_ascii_lowercase();
    if lower == "utf-8" || lower == "utf8" || lower == "us-ascii" {
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    if let Some(decoder) = charset_decoder(charset.as_bytes()) {
        return Some(decoder(bytes));
    }
    let enc = encoding_rs::Encoding::for_label(charset.as_bytes())?;
    Some(enc.decode_without_bom_handling(bytes).0.into_owned())
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn a_character_split_across_words_survives() {
        // "Zażółć" in UTF-8 with "ó" (C3 B3) cut between two words.
        let raw = "=?UTF-8?Q?Za=C5=BC=C3?=\r\n =?UTF-8?Q?=B3=C5=82=C4=87?= x";
        assert_eq!(decode(raw).as_deref(), Some("Zażółć x"));
        // "Привет" in base64 cut after 3 bytes (mid-character).
        let raw = "=?utf-8?B?0J/R?= =?utf-8?B?gNC40LLQtdGC?=";
        assert_eq!(decode(raw).as_deref(), Some("Привет"));
    }

    #[test]
    fn different_charsets_and_plain_text_keep_their_order() {
        let raw = "Re: =?windows-1250?Q?Za=BF=F3=B3=E6?= and =?KOI8-R?B?8NLJ18XU?= end";
        assert_eq!(decode(raw).as_deref(), Some("Re: Zażółć and Привет end"));
        assert_eq!(decode("=?utf-8*pl?Q?=C5=BC?=").as_deref(), Some("ż"));
        assert_eq!(decode("plain"), None);
        assert_eq!(decode("=?x-unknown-9?Q?a?="), None);
        // Broken words stay text.
        assert_eq!(decode("a =?utf-8?Q?b").as_deref(), Some("a =?utf-8?Q?b"));
        assert_eq!(decode("=?utf-8?Q?a b?=").as_deref(), Some("=?utf-8?Q?a b?="));
        assert_eq!(decode("=?=?").as_deref(), Some("=?=?"));
        assert_eq!(decode("=?utf-8?Q?=E?=").as_deref(), Some("=E"));
    }
}
