//! What the listener asks its owner (the node): the envelope and the `MailHandler` trait.

use std::fmt;
use std::net::SocketAddr;

/// The SMTP envelope of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse path from `MAIL FROM`, as sent; empty for the null path `<>` (bounces).
    pub mail_from: String,
    /// The recipients accepted at `RCPT TO`, in order; [`MailHandler::deliver`] answers for
    /// each of them.
    pub recipients: Vec<String>,
    /// The name the client gave in HELO/EHLO/LHLO.
    pub helo: String,
    /// The client's address, when the transport has one.
    pub peer: Option<SocketAddr>,
}

/// A refusal of a recipient or of a delivery, as an SMTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 4xx (try again later) or 5xx (give up and bounce). Anything else is sent as 451.
    pub code: u16,
    /// The RFC 3463 enhanced status code, e.g. `[5, 1, 1]`.
    pub enhanced: [u8; 3],
    /// Human text for the sender's bounce; line breaks are replaced when sent.
    pub text: String,
}

impl Refusal {
    pub fn new(code: u16, enhanced: [u8; 3], text: impl Into<String>) -> Self {
        Self { code, enhanced, text: text.into() }
    }

    /// 550 5.1.1: no such mailbox here.
    pub fn unknown_recipient() -> Self {
        Self::new(550, [5, 1, 1], "No such recipient here")
    }

    /// 451 4.3.0: something on our side failed; the sender should retry.
    pub fn temporary(text: impl Into<String>) -> Self {
        Self::new(451, [4, 3, 0], text)
    }

    /// 554 5.6.0: the message itself cannot be taken (e.g. it does not parse).
    pub fn permanent(text: impl Into<String>) -> Self {
        Self::new(554, [5, 6, 0], text)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c] = self.enhanced;
        write!(f, "{} {a}.{b}.{c} {}", self.code, self.text)
    }
}

/// What the listener asks of the portal. Implementations must be cheap to share across
/// connections.
///
/// Both methods are synchronous because the portal's storage is: `check_recipient` runs inline
/// (it should be a quick lookup), `deliver` runs on tokio's blocking pool via
/// `spawn_blocking`, so it may write and flush storage without stalling other connections.
pub trait MailHandler: Send + Sync + 'static {
    /// Called at `RCPT TO`; an error is sent to the client as the reply to that command.
    fn check_recipient(&self, rcpt: &str) -> Result<(), Refusal>;

    /// Called once per complete, accepted message with its raw bytes (CRLF line ends, dot
    /// stuffing removed), given away so that it can be parsed in place
    /// ([`crate::parse_owned`]). Returns one result per `envelope.recipients`, in order: LMTP sends each
    /// as its own reply, SMTP sends the first failure or 250. A missing result counts as a
    /// temporary failure.
    fn deliver(&self, envelope: &Envelope, data: Vec<u8>) -> Vec<Result<(), Refusal>>;
}
