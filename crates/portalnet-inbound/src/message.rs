//! A received message parsed into what a task needs: sender, subject, text, files.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::attachment::{Attachment, clean_name, fallback_name};
use crate::error::Error;
use big_files::DecodedFile;
use bytes::Bytes;
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Encoding, HeaderValue, Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// Most MIME parts a message may have (bodies, attachments and containers together).
pub const MAX_PARTS: usize = 500;

/// Subject given to messages without one.
pub const NO_SUBJECT: &str = "(no subject)";

/// What a portal needs from one received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// `Message-ID` without angle brackets.
    pub message_id: Option<String>,
    /// The first `From` address, ASCII letters in lower case (nothing else folded).
    pub from: Option<String>,
    /// Decoded, trimmed; [`NO_SUBJECT`] when missing or blank.
    pub subject: String,
    /// The text/plain body parts joined (HTML converted to text when that is all there is),
    /// with `\n` line ends.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// `In-Reply-To` ids without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` ids without angle brackets, oldest first.
    pub references: Vec<String>,
    /// SHA-256 of the message without the header fields relays add or change
    /// ([`crate::RELAY_FIELDS`]): with `message_id` it identifies a redelivery of the same
    /// mail, also one retried through another relay.
    pub content_hash: [u8; 32],
    /// Header facts that tell a machine-sent message, read by [`crate::is_automatic`].
    pub auto: AutoSignals,
}

/// The headers and structure that mark a message as sent by a machine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoSignals {
    /// `Auto-Submitted` value, lower case (RFC 3834).
    pub auto_submitted: Option<String>,
    /// `X-Autoreply` or `X-Autorespond` is present (Exchange, vacation scripts).
    pub x_autoreply: bool,
    /// `Precedence` value, lower case.
    pub precedence: Option<String>,
    /// `multipart/report` or a `message/delivery-status` part: a bounce or receipt (RFC 6522).
    pub delivery_report: bool,
}

impl InboundMessage {
    /// `content_hash` as lower-case hex.
    pub fn content_hash_hex(&self) -> String {
        hex::encode(self.content_hash)
    }
}

/// Reads a raw RFC 5322 message.
///
/// Whatever can be read is returned: broken encodings decode lossily, a missing part is left
/// out. Fails only when there is no header at all, when the message has more than
/// [`MAX_PARTS`] parts, or when the MIME parser itself breaks.
pub fn parse(raw: &[u8]) -> Result<InboundMessage, Error> {
    let content_hash = crate::trace::content_hash(raw);
    parse_rest(raw, content_hash, &Bytes::new(), &[])
}

/// [`parse`], taking the message: its large base64 files are decoded inside it and
/// the attachments share its buffer (`message/big_files.rs`), so accepting a
/// 25 MB file holds about the message once instead of the message and its file.
pub fn parse_owned(mut raw: Vec<u8>) -> Result<InboundMessage, Error> {
    let content_hash = crate::trace::content_hash(&raw);
    let (front, files) = catch_unwind(AssertUnwindSafe(|| big_files::decode_in_place(&mut raw)))
        .map_err(|_| Error::ParserFailed)?;
    let buffer = Bytes::from(raw);
    parse_rest(buffer.get(front..).unwrap_or_default(), content_hash, &buffer, &files)
}

/// Parses `raw`; `files` were decoded out of it into `buffer` (see `parse_owned`).
fn parse_rest(
    raw: &[u8],
    content_hash: [u8; 32],
    buffer: &Bytes,
    files: &[DecodedFile],
) -> Result<InboundMessage, Error> {
    // mail-parser promises not to panic; this keeps a bug there from taking the listener or the
    // node down with it.
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        MessageParser::default().parse(raw).map(|msg| read(msg, content_hash, buffer, files))
    }))
    .map_err(|_| Error::ParserFailed)?;
    parsed.ok_or(Error::NotAMessage)?
}

fn read(
    mut msg: Message<'_>,
    content_hash: [u8; 32],
    buffer: &Bytes,
    files: &[DecodedFile],
) -> Result<InboundMessage, Error> {
    if msg.parts.len() > MAX_PARTS {
        return Err(Error::TooManyParts { count: msg.parts.len(), max: MAX_PARTS });
    }
    // Every file decoded ahead must be a leaf part where mail-parser sees it;
    // otherwise its bytes would be lost (an empty attachment): refuse instead.
    let leaf_at = |at: usize| {
        msg.parts.iter().any(|p| {
            p.offset_body as usize == at && !matches!(p.body, PartType::Multipart(_) | PartType::Message(_))
        })
    };
    if !files.iter().all(|f| leaf_at(f.body_at)) {
        return Err(Error::ParserFailed);
    }
    // Taken first: the attachments' decoded bodies move out of the parsed message
    // (no copy of a large file while the parse holds it too).
    let attachments = attachments(&mut msg, buffer, files);
    let msg = &msg;
    // Our own lenient decoding first (words split mid-character), mail-parser's otherwise.
    let lenient = msg.header_raw("Subject").and_then(crate::encoded_words::decode);
    let subject =
        lenient.as_deref().or(msg.subject()).map(str::trim).filter(|s| !s.is_empty()).unwrap_or(NO_SUBJECT);
    Ok(InboundMessage {
        message_id: msg.message_id().map(clean_id).filter(|id| !id.is_empty()),
        from: msg
            .from()
            .and_then(|from| from.iter().find_map(|addr| addr.address()))
            // ASCII case only: Unicode lowercasing folds look-alikes (the Kelvin
            // sign U+212A becomes `k`), and this address decides whose reply it is.
            .map(|addr| addr.trim().to_ascii_lowercase())
            .filter(|addr| !addr.is_empty()),
        subject: subject.to_string(),
        text: body_text(msg),
        attachments,
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        content_hash,
        auto: auto_signals(msg),
    })
}

fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.as_ref()).collect(),
        _ => Vec::new(),
    };
    raw.into_iter().map(clean_id).filter(|id| !id.is_empty()).collect()
}

/// All inline text parts in order; mail-parser lists an HTML part here when a message or
/// alternative has no plain-text version, and `html2text` converts it.
fn body_text(msg: &Message<'_>) -> String {
    let parts: Vec<String> = msg
        .text_body
        .iter()
        .filter_map(|id| msg.part(*id))
        .filter_map(|part| {
            let redecoded = qp_from_raw(msg, part).map(|bytes| in_charset(part, bytes));
            match &part.body {
                PartType::Text(text) => Some(redecoded.unwrap_or_else(|| text.to_string())),
                PartType::Html(html) => {
                    Some(crate::html_text::html_to_text(redecoded.as_deref().unwrap_or(html)))
                }
                _ => None,
            }
        })
        .map(|text| normalize_newlines(&text))
        .filter(|text| !text.trim().is_empty())
        .collect();
    parts.join("\n\n").trim_end().to_string()
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

fn attachments(msg: &mut Message<'_>, buffer: &Bytes, files: &[DecodedFile]) -> Vec<Attachment> {
    let ids = msg.attachments.clone();
    let mut out = Vec::with_capacity(ids.len());
    for (i, id) in ids.into_iter().enumerate() {
        let Some(part) = msg.parts.get(id as usize) else { break };
        let content_type = content_type(part);
        let name = part
            .attachment_name()
            .and_then(clean_name)
            .unwrap_or_else(|| fallback_name(i + 1, &content_type));
        let decoded = files.iter().find(|f| f.body_at == part.offset_body as usize);
        let bytes = match (decoded, original_text(msg, part)) {
            (Some(f), _) => buffer.slice(f.bytes.clone()),
            (None, Some(b)) => Bytes::from(b),
            (None, None) => Bytes::from(msg.parts.get_mut(id as usize).map(take_body).unwrap_or_default()),
        };
        out.push(Attachment { name, content_type, bytes });
    }
    out
}

/// A text part as the sender attached it. mail-parser converts text parts to UTF-8, which
/// would change a windows-1250 CSV into another file; so text parts are decoded from the raw
/// bytes by their transfer encoding only. A quoted-printable file is too ([`qp_from_raw`]).
/// `None` for other parts (and broken encodings).
fn original_text(msg: &Message<'_>, part: &MessagePart<'_>) -> Option<Vec<u8>> {
    match part.body {
        PartType::Binary(_) | PartType::InlineBinary(_) => qp_from_raw(msg, part),
        PartType::Text(_) | PartType::Html(_) if !part.is_encoding_problem => msg
            .raw_message
            .get(part.offset_body as usize..part.offset_end as usize)
            .and_then(|raw| match part.encoding {
                Encoding::None => Some(raw.to_vec()),
                Encoding::Base64 => base64_decode(raw),
                Encoding::QuotedPrintable => quoted_printable_decode(raw),
            }),
        _ => None,
    }
}

/// A quoted-printable part decoded again from its raw bytes. mail-parser 0.11.9's MIME
/// decoder (`decode_quoted_printable_mime`) cuts the last bytes off a part whose last line
/// ends in a soft line break right before the boundary (`Hello=` gives `Hel`); its plain
/// decoder, given the part's bytes without the boundary, does not. `None` for other
/// encodings and for malformed input, where the parser's lenient result stands.
fn qp_from_raw(msg: &Message<'_>, part: &MessagePart<'_>) -> Option<Vec<u8>> {
    if !matches!(part.encoding, Encoding::QuotedPrintable) {
        return None;
    }
    msg.raw_message.get(part.offset_body as usize..part.offset_end as usize).and_then(quoted_printable_decode)
}

/// Text bytes in the part's declared charset, as mail-parser turns them into UTF-8.
fn in_charset(part: &MessagePart<'_>, bytes: Vec<u8>) -> String {
    let charset = part.content_type().and_then(|ct| ct.attribute("charset"));
    match charset.and_then(|c| charset_decoder(c.as_bytes())) {
        Some(decode) => decode(&bytes),
        None => {
            String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        }
    }
}

/// The part's decoded bytes, moved out of the parsed message when it owns them (a
/// decoded base64 file is not copied); the part is left empty.
fn take_body(part: &mut MessagePart<'_>) -> Vec<u8> {
    match std::mem::replace(&mut part.body, PartType::Multipart(Vec::new())) {
        PartType::Text(t) | PartType::Html(t) => t.into_owned().into_bytes(),
        PartType::Binary(b) | PartType::InlineBinary(b) => b.into_owned(),
        other => {
            part.body = other;
            part.contents().to_vec()
        }
    }
}

fn content_type(part: &MessagePart<'_>) -> String {
    if let Some(ct) = part.content_type()
        && let Some(sub) = &ct.c_subtype
    {
        return format!("{}/{}", ct.c_type, sub).to_ascii_lowercase();
    }
    match part.body {
        PartType::Message(_) => "message/rfc822",
        PartType::Text(_) => "text/plain",
        PartType::Html(_) => "text/html",
        _ => "application/octet-stream",
    }
    .to_string()
}

fn auto_signals(msg: &Message<'_>) -> AutoSignals {
    let text =
        |name: &str| msg.header(name).and_then(HeaderValue::as_text).map(|v| v.trim().to_ascii_lowercase());
    let is_report = |part: &MessagePart<'_>| {
        part.is_content_type("multipart", "report")
            || part.is_content_type("message", "delivery-status")
            || part.is_content_type("message", "global-delivery-status")
    };
    AutoSignals {
        auto_submitted: text("Auto-Submitted"),
        x_autoreply: msg.header("X-Autoreply").is_some() || msg.header("X-Autorespond").is_some(),
        precedence: text("Precedence"),
        delivery_report: msg.parts.iter().any(is_report),
    }
}

mod big_files;
#[cfg(test)]
mod tests;
