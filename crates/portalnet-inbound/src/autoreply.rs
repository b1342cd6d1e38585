//! Mail that must get neither a task nor an answer: bounces, auto-replies, lists.

use crate::message::InboundMessage;

/// Why `msg` must be dropped without an answer or a task, or `None` when a person sent it.
///
/// `envelope_from` is the SMTP reverse path when known: `Some("")` is the null path `<>` of
/// bounces and auto-replies (RFC 5321 §4.5.5), `None` means no envelope (e.g. a stored file).
/// `own_addresses` are the portal's outgoing addresses; mail from them is our own coming back,
/// and answering it could loop.
pub fn is_automatic(
    msg: &InboundMessage,
    envelope_from: Option<&str>,
    own_addresses: &[String],
) -> Option<&'static str> {
    let auto = &msg.auto;
    if auto.auto_submitted.as_deref().is_some_and(|v| !is_no(v)) {
        return Some("Auto-Submitted header");
    }
    if auto.x_autoreply {
        return Some("X-Autoreply/X-Autorespond header");
    }
    if auto.precedence.as_deref().is_some_and(|v| matches!(v, "bulk" | "junk" | "list")) {
        return Some("Precedence bulk/junk/list");
    }
    if auto.delivery_report {
        return Some("delivery status report");
    }
    if envelope_from.is_some_and(|from| bare(from).is_empty()) {
        return Some("null reverse path");
    }
    let is_own = |addr: &str| own_addresses.iter().any(|own| bare(own).eq_ignore_ascii_case(bare(addr)));
    if msg.from.as_deref().is_some_and(is_own) || envelope_from.is_some_and(is_own) {
        return Some("sent from the portal's own address");
    }
    None
}

/// RFC 3834 §5: only `no` (maybe with parameters or a comment) marks a person's message.
fn is_no(value: &str) -> bool {
    let keyword = value.split([';', '(']).next().unwrap_or(value).trim();
    keyword.eq_ignore_ascii_case("no")
}

fn bare(addr: &str) -> &str {
    addr.trim().trim_start_matches('<').trim_end_matches('>').trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{AutoSignals, NO_SUBJECT};

    fn msg(from: Option<&str>, auto: AutoSignals) -> InboundMessage {
        InboundMessage {
            message_id: None,
            from: from.map(str::to_string),
            subject: NO_SUBJECT.to_string(),
            text: String::new(),
            attachments: Vec::new(),
            in_reply_to: Vec::new(),
            references: Vec::new(),
            content_hash: [0; 32],
            auto,
        }
    }

    /// (case, envelope sender, header signals, From, dropped?)
    type Case<'a> = (&'a str, Option<&'a str>, AutoSignals, Option<&'a str>, bool);

    #[test]
    fn table() {
        let own = vec!["noreply@portal.example".to_string(), "<tasks@portal.example>".to_string()];
        let person = Some("jan@example.pl");
        let submitted = |v: &str| AutoSignals { auto_submitted: Some(v.into()), ..Default::default() };
        let precedence = |v: &str| AutoSignals { precedence: Some(v.into()), ..Default::default() };
        #[rustfmt::skip]
        let cases: Vec<Case<'_>> = vec![
            ("person", person, AutoSignals::default(), Some("jan@example.pl"), false),
            ("Auto-Submitted: no", person, submitted("no"), Some("jan@example.pl"), false),
            ("Auto-Submitted: no with comment", person, submitted("no (person)"), Some("j@x"), false),
            ("Auto-Submitted: auto-replied", person, submitted("auto-replied"), Some("j@x"), true),
            ("Auto-Submitted: auto-generated", person, submitted("auto-generated"), Some("j@x"), true),
            ("Auto-Submitted: empty", person, submitted(""), Some("j@x"), true),
            ("X-Autoreply", person, AutoSignals { x_autoreply: true, ..Default::default() }, Some("j@x"), true),
            ("Precedence: bulk", person, precedence("bulk"), Some("j@x"), true),
            ("Precedence: junk", person, precedence("junk"), Some("j@x"), true),
            ("Precedence: list", person, precedence("list"), Some("j@x"), true),
            ("Precedence: first-class", person, precedence("first-class"), Some("j@x"), false),
            ("delivery report", person, AutoSignals { delivery_report: true, ..Default::default() }, Some("j@x"), true),
            ("MAIL FROM:<>", Some(""), AutoSignals::default(), Some("j@x"), true),
            ("MAIL FROM:<> as written", Some("<>"), AutoSignals::default(), Some("j@x"), true),
            ("no envelope", None, AutoSignals::default(), Some("j@x"), false),
            ("From: own address", person, AutoSignals::default(), Some("noreply@portal.example"), true),
            ("envelope: own address", Some("TASKS@portal.example"), AutoSignals::default(), Some("j@x"), true),
            ("no From", person, AutoSignals::default(), None, false),
        ];
        for (name, envelope, auto, from, dropped) in cases {
            let got = is_automatic(&msg(from, auto), envelope, &own);
            assert_eq!(got.is_some(), dropped, "{name}: {got:?}");
        }
    }

    #[test]
    fn works_on_a_parsed_bounce() {
        let raw = b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nSubject: Undelivered\r\n\
            Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n\
            --r\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n--r--\r\n";
        let parsed = crate::message::parse(raw).map_err(|e| e.to_string());
        let reason = parsed.as_ref().ok().and_then(|m| is_automatic(m, Some("jan@example.pl"), &[]));
        assert_eq!(reason, Some("delivery status report"));
    }
}
