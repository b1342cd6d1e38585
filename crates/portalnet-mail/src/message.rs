//! Composing a message (text and HTML parts, headers) into RFC 5322 bytes.

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox as LettreMailbox, MultiPart, SinglePart};
use lettre::{Address, Message};

use crate::MailError;

/// A display name and an address, e.g. `Łukasz Ślązak <lukasz@example.org>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailbox {
    /// Display name; `None` or blank for the bare address. Non-ASCII is fine (RFC 2047 encoded).
    pub name: Option<String>,
    pub address: String,
}

/// One message to send: a plain-text part and (unless `html` is empty) an HTML alternative.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    pub from: Mailbox,
    /// A bare address (no display name).
    pub to: String,
    /// Control characters (line breaks, tabs) are written as spaces.
    pub subject: String,
    pub text: String,
    /// Empty means a text/plain-only message.
    pub html: String,
    pub reply_to: Option<String>,
    /// With or without angle brackets (`id@host` or `<id@host>`). `None` generates a fresh id on
    /// every render, so a node that may render twice should fix one.
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Extra headers such as `Auto-Submitted`; may not repeat a header `render` writes itself.
    pub headers: Vec<(String, String)>,
}

/// Headers `render` sets itself; `Outgoing::headers` may not supply them.
const RESERVED_HEADERS: &[&str] = &[
    "bcc",
    "cc",
    "content-transfer-encoding",
    "content-type",
    "date",
    "from",
    "in-reply-to",
    "message-id",
    "mime-version",
    "references",
    "reply-to",
    "sender",
    "subject",
    "to",
];

/// Render a complete RFC 5322 message (CRLF line ends, 7-bit clean: bodies are quoted-printable
/// or base64 as needed, non-ASCII header text RFC 2047 encoded).
pub fn render(mail: &Outgoing) -> Result<Vec<u8>, MailError> {
    let from_name = mail.from.name.as_deref().map(one_line).filter(|name| !name.trim().is_empty());
    let from = LettreMailbox::new(from_name, parse_address("from", &mail.from.address)?);
    let to = LettreMailbox::new(None, parse_address("to", &mail.to)?);

    let mut builder = Message::builder().from(from).to(to).subject(one_line(&mail.subject));
    if let Some(reply_to) = &mail.reply_to {
        builder = builder.reply_to(LettreMailbox::new(None, parse_address("reply_to", reply_to)?));
    }
    let message_id = mail.message_id.as_deref().map(|id| msg_id("Message-ID", id)).transpose()?;
    builder = builder.message_id(message_id);
    if let Some(id) = &mail.in_reply_to {
        builder = builder.in_reply_to(msg_id("In-Reply-To", id)?);
    }
    if !mail.references.is_empty() {
        let ids: Vec<String> =
            mail.references.iter().map(|id| msg_id("References", id)).collect::<Result<_, _>>()?;
        builder = builder.references(ids.join(" "));
    }
    for (name, value) in &mail.headers {
        builder = builder.raw_header(extra_header(name, value)?);
    }

    let built = if mail.html.is_empty() {
        builder.singlepart(SinglePart::plain(mail.text.clone()))
    } else {
        builder.multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
    };
    let message = built.map_err(|e| MailError::Build { reason: e.to_string() })?;
    Ok(message.formatted())
}

/// Parse a bare address, naming the field it came from on failure.
pub(crate) fn parse_address(field: &'static str, value: &str) -> Result<Address, MailError> {
    value.parse().map_err(|e: lettre::address::AddressError| MailError::InvalidAddress {
        field,
        value: value.to_owned(),
        reason: e.to_string(),
    })
}

/// Free text for a header: control characters become spaces.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Validate a message id (`left@right`, optionally in angle brackets) and return it as `<left@right>`.
fn msg_id(field: &str, value: &str) -> Result<String, MailError> {
    let invalid =
        |reason| MailError::InvalidHeader { field: field.to_owned(), value: value.to_owned(), reason };
    let bare = value.strip_prefix('<').and_then(|v| v.strip_suffix('>')).unwrap_or(value);
    let Some((left, right)) = bare.split_once('@') else {
        return Err(invalid("a message id must look like left@right"));
    };
    let atom = |part: &str| {
        !part.is_empty() && part.bytes().all(|b| b.is_ascii_graphic() && !b"()<>[]:;@\\,\"".contains(&b))
    };
    if !atom(left) || !atom(right) {
        return Err(invalid("a message id must look like left@right, printable ASCII without specials"));
    }
    Ok(format!("<{bare}>"))
}

fn extra_header(name: &str, value: &str) -> Result<HeaderValue, MailError> {
    let invalid =
        |reason| MailError::InvalidHeader { field: name.to_owned(), value: value.to_owned(), reason };
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(invalid("this header is set by render itself"));
    }
    if !name.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(invalid("a header name is printable ASCII without ':'"));
    }
    if value.contains(['\r', '\n']) {
        return Err(invalid("a header value may not contain line breaks"));
    }
    let name = HeaderName::new_from_ascii(name.to_owned())
        .map_err(|_| invalid("a header name is 1 to 76 characters"))?;
    Ok(HeaderValue::new(name, value.to_owned()))
}

#[cfg(test)]
mod tests {
    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;

    fn sample() -> Outgoing {
        Outgoing {
            from: Mailbox { name: Some("Acme Portal".into()), address: "portal@acme.example".into() },
            to: "guest@example.org".into(),
            subject: "Hello".into(),
            text: "Plain body\nsecond line".into(),
            html: "<p>HTML body</p>".into(),
            ..Outgoing::default()
        }
    }

    fn rendered(mail: &Outgoing) -> Vec<u8> {
        match render(mail) {
            Ok(bytes) => bytes,
            Err(e) => panic!("render failed: {e}"),
        }
    }

    #[test]
    fn renders_multipart_alternative_with_both_parts() {
        let bytes = rendered(&sample());
        let raw = String::from_utf8_lossy(&bytes);
        assert!(bytes.is_ascii(), "rendered message must be 7-bit clean");
        assert!(raw.contains("MIME-Version: 1.0\r\n"));
        assert!(raw.contains("Content-Type: multipart/alternative;"));
        assert!(raw.contains("Date: "));

        let msg = MessageParser::default().parse(&bytes).expect("parseable");
        let from = msg.from().and_then(|a| a.first()).expect("From");
        assert_eq!(from.name(), Some("Acme Portal"));
        assert_eq!(from.address(), Some("portal@acme.example"));
        assert_eq!(msg.to().and_then(|a| a.first()).and_then(|a| a.address()), Some("guest@example.org"));
        assert_eq!(msg.subject(), Some("Hello"));
        assert!(msg.message_id().is_some_and(|id| id.contains('@')), "generated Message-ID");
        assert_eq!(msg.text_body_count(), 1);
        assert_eq!(msg.html_body_count(), 1);
        assert_eq!(msg.body_text(0).as_deref().map(str::trim_end), Some("Plain body\r\nsecond line"));
        assert_eq!(msg.body_html(0).as_deref().map(str::trim_end), Some("<p>HTML body</p>"));
        let content_type = |part: &mail_parser::MessagePart| {
            let ct = part.content_type().expect("content type");
            (
                ct.ctype().to_owned(),
                ct.subtype().map(str::to_owned),
                ct.attribute("charset").map(str::to_owned),
            )
        };
        let utf8 = Some("utf-8".to_owned());
        let text = content_type(msg.text_part(0).expect("text part"));
        assert_eq!(text, ("text".into(), Some("plain".into()), utf8.clone()));
        let html = content_type(msg.html_part(0).expect("html part"));
        assert_eq!(html, ("text".into(), Some("html".into()), utf8));
        assert!(msg.reply_to().is_none());
        assert!(msg.header("In-Reply-To").is_none());
        assert!(msg.header("References").is_none());
    }

    #[test]
    fn empty_html_gives_text_only_message() {
        let bytes = rendered(&Outgoing { html: String::new(), ..sample() });
        let msg = MessageParser::default().parse(&bytes).expect("parseable");
        assert!(String::from_utf8_lossy(&bytes).contains("Content-Type: text/plain; charset=utf-8"));
        assert_eq!(msg.body_text(0).as_deref().map(str::trim_end), Some("Plain body\r\nsecond line"));
    }

    #[test]
    fn non_ascii_subject_names_and_bodies_round_trip() {
        let mail = Outgoing {
            from: Mailbox { name: Some("Łukasz Ślązak".into()), address: "portal@acme.example".into() },
            subject: "Zaproszenie — Łukasz Ślązak / Приглашение в группу «Отдел»".into(),
            text: "Zażółć gęślą jaźń. Съешь же ещё этих мягких французских булок.".into(),
            html: "<p>Zażółć gęślą jaźń — Привет</p>".into(),
            ..sample()
        };
        let bytes = rendered(&mail);
        assert!(bytes.is_ascii(), "non-ASCII must be encoded");
        let raw = String::from_utf8_lossy(&bytes);
        assert!(raw.contains("Subject: Zaproszenie =?utf-8?b?"), "RFC 2047 encoded subject:\n{raw}");

        let msg = MessageParser::default().parse(&bytes).expect("parseable");
        assert_eq!(msg.subject(), Some(mail.subject.as_str()));
        assert_eq!(msg.from().and_then(|a| a.first()).and_then(|a| a.name()), Some("Łukasz Ślązak"));
        assert_eq!(msg.body_text(0).as_deref().map(str::trim_end), Some(mail.text.as_str()));
        assert_eq!(msg.body_html(0).as_deref().map(str::trim_end), Some(mail.html.as_str()));
    }

    #[test]
    fn threading_reply_to_and_extra_headers() {
        let mail = Outgoing {
            reply_to: Some("task-1234@reply.acme.example".into()),
            message_id: Some("m1@acme.example".into()),
            in_reply_to: Some("<m0@acme.example>".into()),
            references: vec!["root@acme.example".into(), "<m0@acme.example>".into()],
            headers: vec![("Auto-Submitted".into(), "auto-generated".into())],
            ..sample()
        };
        let bytes = rendered(&mail);
        let raw = String::from_utf8_lossy(&bytes);
        assert!(raw.contains("Message-ID: <m1@acme.example>\r\n"));
        assert!(raw.contains("In-Reply-To: <m0@acme.example>\r\n"));
        assert!(raw.contains("References: <root@acme.example> <m0@acme.example>\r\n"));
        assert!(raw.contains("Auto-Submitted: auto-generated\r\n"));

        let msg = MessageParser::default().parse(&bytes).expect("parseable");
        assert_eq!(msg.message_id(), Some("m1@acme.example"));
        assert_eq!(
            msg.reply_to().and_then(|a| a.first()).and_then(|a| a.address()),
            Some("task-1234@reply.acme.example")
        );
        assert_eq!(msg.in_reply_to().as_text(), Some("m0@acme.example"));
        let refs: Vec<&str> =
            msg.references().as_text_list().expect("references").iter().map(|r| r.as_ref()).collect();
        assert_eq!(refs, ["root@acme.example", "m0@acme.example"]);
    }

    #[test]
    fn control_characters_cannot_inject_headers() {
        let mail = Outgoing {
            from: Mailbox { name: Some("Eve\r\nBcc: victim@example.org".into()), ..sample().from },
            subject: "Hi\r\nBcc: victim@example.org".into(),
            ..sample()
        };
        let bytes = rendered(&mail);
        let raw = String::from_utf8_lossy(&bytes);
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        let msg = MessageParser::default().parse(&bytes).expect("parseable");
        assert_eq!(msg.subject(), Some("Hi  Bcc: victim@example.org"));
    }

    #[test]
    fn bad_addresses_name_field_and_value() {
        let cases: [(Outgoing, &str, &str); 4] = [
            (Outgoing { to: "not an address".into(), ..sample() }, "to", "not an address"),
            (Outgoing { to: String::new(), ..sample() }, "to", ""),
            (
                Outgoing { from: Mailbox { name: None, address: "portal@".into() }, ..sample() },
                "from",
                "portal@",
            ),
            (Outgoing { reply_to: Some("a@b@c".into()), ..sample() }, "reply_to", "a@b@c"),
        ];
        for (mail, want_field, want_value) in cases {
            match render(&mail) {
                Err(ref e @ MailError::InvalidAddress { field, ref value, .. }) => {
                    assert_eq!((field, value.as_str()), (want_field, want_value));
                    assert!(e.is_permanent());
                    assert!(e.to_string().contains(want_field), "{e}");
                }
                other => panic!("expected InvalidAddress for {want_field}, got {other:?}"),
            }
        }
    }

    #[test]
    fn bad_message_ids_and_headers_are_rejected() {
        let bad = [
            Outgoing { message_id: Some("no-at-sign".into()), ..sample() },
            Outgoing { message_id: Some("<a b@c>".into()), ..sample() },
            Outgoing { in_reply_to: Some("ł@example.org".into()), ..sample() },
            Outgoing { references: vec!["ok@x".into(), "@x".into()], ..sample() },
            Outgoing { headers: vec![("Subject".into(), "again".into())], ..sample() },
            Outgoing { headers: vec![("X-Bad Name".into(), "v".into())], ..sample() },
            Outgoing { headers: vec![(String::new(), "v".into())], ..sample() },
            Outgoing { headers: vec![("X-Tag".into(), "a\r\nBcc: x@y".into())], ..sample() },
        ];
        for mail in bad {
            match render(&mail) {
                Err(e @ MailError::InvalidHeader { .. }) => assert!(e.is_permanent()),
                other => panic!("expected InvalidHeader for {mail:?}, got {other:?}"),
            }
        }
    }
}
