//! How a mail listener is set up: LMTP or SMTP, its domain, sizes and limits.

use std::time::Duration;

/// Which dialect the listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// RFC 5321: one reply after DATA for all recipients. For development and direct delivery.
    Smtp,
    /// RFC 2033: one reply per recipient after DATA. What Postfix speaks to the portal.
    Lmtp,
}

/// How a listener behaves; [`ListenerConfig::new`] gives the defaults.
#[derive(Debug, Clone)]
pub struct ListenerConfig {
    pub protocol: Protocol,
    /// Name in the greeting and the EHLO/LHLO reply.
    pub hostname: String,
    /// Largest message accepted, counted after dot-unstuffing with CRLF line ends; advertised
    /// as `SIZE`. Also the most a connection ever buffers for a message.
    pub max_message_bytes: usize,
    /// RCPT commands accepted per transaction; more get 452 4.5.3.
    pub max_recipients: usize,
    /// Longest line accepted, CRLF included, for commands and message lines alike. RFC 5321
    /// §4.5.3.1.6 and RFC 5322 §2.1.1 put text lines at 1000 octets (998 + CRLF); commands with
    /// ESMTP parameters fit in the same bound. Longer lines are refused with 500 5.5.2, never
    /// buffered.
    pub max_line_len: usize,
    /// A connection that sends nothing for this long is closed with 421 4.4.2 (RFC 5321
    /// §4.5.3.2.7 suggests 5 minutes).
    pub idle_timeout: Duration,
    /// Connections served at once; more are told 421 4.7.0 and closed. Together with
    /// `max_message_bytes` this bounds the listener's memory.
    pub max_connections: usize,
}

impl ListenerConfig {
    /// 25 MiB (R19).
    pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 26_214_400;
    pub const DEFAULT_MAX_RECIPIENTS: usize = 50;
    pub const DEFAULT_MAX_LINE_LEN: usize = 1000;
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
    pub const DEFAULT_MAX_CONNECTIONS: usize = 32;

    /// The defaults for `protocol`, announcing itself as `hostname`.
    pub fn new(protocol: Protocol, hostname: impl Into<String>) -> Self {
        Self {
            protocol,
            hostname: hostname.into(),
            max_message_bytes: Self::DEFAULT_MAX_MESSAGE_BYTES,
            max_recipients: Self::DEFAULT_MAX_RECIPIENTS,
            max_line_len: Self::DEFAULT_MAX_LINE_LEN,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}
