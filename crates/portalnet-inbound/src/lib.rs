//! Inbound e-mail for a portal: everything about receiving mail that needs no storage.
//!
//! - [`serve`] / [`serve_connection`]: an SMTP or LMTP listener (tokio). The portal supplies a
//!   [`MailHandler`] that checks recipients at `RCPT TO` and takes complete messages.
//! - [`parse`]: raw message → [`InboundMessage`] (subject, text, attachments, ids, a content
//!   hash so redeliveries can be collapsed by `(Message-ID, hash)`; the hash leaves out the
//!   header fields relays add, [`RELAY_FIELDS`], so a retry through another relay is the same
//!   message). HTML-only bodies become text with `html2text`; subjects are decoded leniently
//!   (encoded-words split inside a character are joined first).
//! - [`is_automatic`]: whether a message is a bounce, auto-reply or our own mail coming back.
//! - [`strip_reply`]: the part of a reply its author newly wrote.
//!
//! Choices:
//! - **Bare LF and bare CR are refused, not normalised**, in commands (500 5.5.2) and in
//!   message data (550 5.6.0 after the end of data; nothing is delivered). Only
//!   `<CR><LF>.<CR><LF>` ends a message. SMTP smuggling works when two servers disagree about
//!   where a message ends (`<LF>.<CR><LF>`, `<CR>.<LF>`, ...); normalising would make us guess,
//!   refusing leaves no case to disagree on. RFC 5321 §2.3.8 forbids both in the first place,
//!   and Postfix, which relays to us in production, never sends them.
//! - **Bounded memory**: lines are read into a buffer of `max_line_len` (1000 octets with
//!   CRLF, RFC 5321/5322) and longer ones are discarded while read, then refused with 500
//!   5.5.2; a message buffer never grows past `max_message_bytes` (25 MiB): a bigger message is
//!   counted, drained without buffering to its end marker and refused with 552 5.3.4, so the
//!   sender's server bounces it. Connections are capped by `max_connections`.
//! - **Synchronous handler**: the portal's storage is synchronous, so [`MailHandler::deliver`]
//!   is a plain method run on tokio's blocking pool; `check_recipient` runs inline and should
//!   be a quick lookup.
//! - `smtp-proto` parses commands; this crate does the line framing itself, because the
//!   framing is where the smuggling defence lives. `mail-parser` 0.11 (with `full_encoding`
//!   for ISO-2022-JP and other multi-byte charsets) parses MIME.
//! - Only what is advertised is accepted: `PIPELINING`, `SIZE`, `8BITMIME`,
//!   `ENHANCEDSTATUSCODES`. No STARTTLS or AUTH: the listener sits behind a local MTA or serves
//!   development. `BDAT` closes the connection, since its chunk would otherwise be read as
//!   commands.

mod attachment;
mod autoreply;
mod config;
mod conn;
mod data;
mod encoded_words;
mod error;
mod handler;
mod html_text;
mod message;
mod reply;
mod server;
mod session;
mod trace;

pub use attachment::Attachment;
pub use autoreply::is_automatic;
pub use config::{ListenerConfig, Protocol};
pub use error::Error;
pub use handler::{Envelope, MailHandler, Refusal};
pub use message::{AutoSignals, InboundMessage, MAX_PARTS, NO_SUBJECT, parse, parse_owned};
pub use reply::strip_reply;
pub use server::serve;
pub use session::serve_connection;
pub use trace::{RELAY_FIELDS, content_hash, is_relay_field};
