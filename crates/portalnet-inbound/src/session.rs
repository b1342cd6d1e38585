//! One SMTP or LMTP conversation.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use smtp_proto::{MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MailFrom, RcptTo, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use crate::config::{ListenerConfig, Protocol};
use crate::conn::{Conn, Ending, Stop};
use crate::data::{Data, Fault, read_data};
use crate::error::Error;
use crate::handler::{Envelope, MailHandler, Refusal};

/// Refused commands tolerated per connection before it is closed with 421 (like Postfix's
/// `smtpd_hard_error_limit`); this also slows anyone guessing secret task addresses.
const MAX_ERRORS: usize = 20;

/// Serves one client on any byte stream (TCP, a Unix socket, an in-memory pipe) until it
/// quits, goes quiet for `idle_timeout`, misbehaves too often, or `shutdown` fires; a
/// delivery under way is finished first.
///
/// I/O errors are returned; protocol errors are answered and never end the task abruptly.
pub async fn serve_connection<S>(
    stream: S,
    peer: Option<SocketAddr>,
    config: &ListenerConfig,
    handler: Arc<dyn MailHandler>,
    shutdown: CancellationToken,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut session = Session::new(stream, peer, config, handler, shutdown);
    session.run().await
}

pub(crate) struct Session<'a, S> {
    conn: Conn<S>,
    config: &'a ListenerConfig,
    handler: Arc<dyn MailHandler>,
    peer: Option<SocketAddr>,
    helo: Option<String>,
    mail_from: Option<String>,
    recipients: Vec<String>,
    errors: usize,
    /// Largest message buffer held so far, for the tests' memory bound.
    pub(crate) peak_message: usize,
}

enum Flow {
    Continue,
    Close,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Session<'a, S> {
    pub(crate) fn new(
        stream: S,
        peer: Option<SocketAddr>,
        config: &'a ListenerConfig,
        handler: Arc<dyn MailHandler>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            conn: Conn::new(stream, config.max_line_len, config.idle_timeout, shutdown),
            config,
            handler,
            peer,
            helo: None,
            mail_from: None,
            recipients: Vec::new(),
            errors: 0,
            peak_message: 0,
        }
    }

    #[cfg(test)]
    pub(crate) fn line_capacity(&self) -> usize {
        self.conn.line_capacity()
    }

    pub(crate) async fn run(&mut self) -> Result<(), Error> {
        let proto = match self.config.protocol {
            Protocol::Smtp => "ESMTP",
            Protocol::Lmtp => "LMTP",
        };
        let greeting = format!("{} {proto} portalnet", self.config.hostname);
        self.conn.reply_plain(220, &greeting);
        let result = self.commands().await;
        let host = self.config.hostname.clone();
        match result {
            Ok(()) => Ok(()),
            Err(Stop::Timeout) => {
                self.conn.say_goodbye(421, [4, 4, 2], &format!("{host} Idle timeout, closing")).await;
                Ok(())
            }
            Err(Stop::Shutdown) => {
                self.conn.say_goodbye(421, [4, 3, 2], &format!("{host} Service shutting down")).await;
                Ok(())
            }
            Err(Stop::Io(err)) => Err(Error::Io(err)),
        }
    }

    async fn commands(&mut self) -> Result<(), Stop> {
        loop {
            let line = self.conn.next_line(self.config.max_line_len).await?;
            let flow = match line.ending {
                Ending::Eof => return Ok(()),
                _ if line.too_long => self.error(500, [5, 5, 2], "Line too long").await?,
                Ending::BareLf => {
                    self.error(500, [5, 5, 2], "Bare LF not allowed; end lines with CRLF").await?
                }
                Ending::CrLf if self.conn.line().contains(&b'\r') => {
                    self.error(500, [5, 5, 2], "Bare CR not allowed; end lines with CRLF").await?
                }
                Ending::CrLf => self.command().await?,
            };
            if let Flow::Close = flow {
                return self.conn.flush().await;
            }
            if self.errors >= MAX_ERRORS {
                self.conn.say_goodbye(421, [4, 7, 0], "Too many errors, closing").await;
                return Ok(());
            }
        }
    }

    async fn error(&mut self, code: u16, esc: [u8; 3], text: &str) -> Result<Flow, Stop> {
        self.errors += 1;
        self.conn.reply(code, esc, text).await?;
        Ok(Flow::Continue)
    }

    async fn command(&mut self) -> Result<Flow, Stop> {
        // smtp-proto wants the line with its end; it was checked to be a clean CRLF line.
        let mut raw = Vec::with_capacity(self.conn.line().len() + 2);
        raw.extend_from_slice(self.conn.line());
        raw.extend_from_slice(b"\r\n");
        let parsed = Request::parse(&mut raw.iter()).map(Request::into_owned);
        let request = match parsed {
            Ok(request) => request,
            Err(err) => return self.parse_error(err).await,
        };
        let lmtp = self.config.protocol == Protocol::Lmtp;
        match request {
            Request::Ehlo { .. } | Request::Helo { .. } if lmtp => {
                self.error(500, [5, 5, 1], "This is LMTP: use LHLO").await
            }
            Request::Lhlo { .. } if !lmtp => {
                self.error(500, [5, 5, 1], "This is SMTP: use EHLO or HELO").await
            }
            Request::Ehlo { host } | Request::Lhlo { host } => {
                self.reset();
                self.helo = Some(host);
                let lines = [
                    self.config.hostname.clone(),
                    "PIPELINING".to_string(),
                    format!("SIZE {}", self.config.max_message_bytes),
                    "8BITMIME".to_string(),
                    "ENHANCEDSTATUSCODES".to_string(),
                ];
                self.conn.reply_lines(&lines);
                Ok(Flow::Continue)
            }
            Request::Helo { host } => {
                self.reset();
                self.helo = Some(host);
                let text = self.config.hostname.clone();
                self.ok(250, [2, 0, 0], &text).await
            }
            Request::Mail { from } => self.mail(from).await,
            Request::Rcpt { to } => self.rcpt(to).await,
            Request::Data => self.data().await,
            Request::Rset => {
                self.reset();
                self.ok(250, [2, 0, 0], "OK").await
            }
            Request::Noop { .. } => self.ok(250, [2, 0, 0], "OK").await,
            Request::Vrfy { .. } => {
                self.ok(252, [2, 5, 0], "Cannot VRFY user, but will accept message and attempt delivery")
                    .await
            }
            Request::Help { .. } => self.ok(214, [2, 0, 0], "See RFC 5321 and RFC 2033").await,
            Request::Quit => {
                self.conn.reply(221, [2, 0, 0], "Bye").await?;
                Ok(Flow::Close)
            }
            Request::Bdat { .. } => {
                // The chunk follows the command at once and would otherwise be read as commands.
                self.conn.reply(503, [5, 5, 1], "CHUNKING not offered; closing").await?;
                Ok(Flow::Close)
            }
            Request::StartTls
            | Request::Auth { .. }
            | Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => self.error(502, [5, 5, 1], "Command not implemented").await,
        }
    }

    async fn ok(&mut self, code: u16, esc: [u8; 3], text: &str) -> Result<Flow, Stop> {
        self.conn.reply(code, esc, text).await?;
        Ok(Flow::Continue)
    }

    async fn parse_error(&mut self, err: smtp_proto::Error) -> Result<Flow, Stop> {
        use smtp_proto::Error as E;
        match err {
            E::UnknownCommand => self.error(500, [5, 5, 1], "Command unrecognized").await,
            E::InvalidSenderAddress => self.error(501, [5, 1, 7], "Bad sender address syntax").await,
            E::InvalidRecipientAddress => self.error(501, [5, 1, 3], "Bad recipient address syntax").await,
            E::SyntaxError { syntax } => self.error(501, [5, 5, 4], &format!("Syntax: {syntax}")).await,
            E::InvalidParameter { param } => {
                self.error(501, [5, 5, 4], &format!("Invalid {param} parameter")).await
            }
            E::UnsupportedParameter { param } => {
                let text = format!("Unsupported parameter {}", truncate(&param, 64));
                self.error(555, [5, 5, 4], &text).await
            }
            E::NeedsMoreData { .. } | E::ResponseTooLong | E::InvalidResponse { .. } => {
                self.error(500, [5, 5, 2], "Syntax error").await
            }
        }
    }

    async fn mail(&mut self, from: MailFrom<String>) -> Result<Flow, Stop> {
        if self.helo.is_none() {
            let hello = if self.config.protocol == Protocol::Lmtp { "LHLO" } else { "EHLO/HELO" };
            return self.error(503, [5, 5, 1], &format!("Send {hello} first")).await;
        }
        if self.mail_from.is_some() {
            return self.error(503, [5, 5, 1], "Nested MAIL command").await;
        }
        // Parameters we did not advertise (SMTPUTF8, BINARYMIME, REQUIRETLS, ...) are refused.
        if from.flags & !(MAIL_BODY_7BIT | MAIL_BODY_8BITMIME) != 0 {
            return self.error(555, [5, 5, 4], "Unsupported MAIL parameter").await;
        }
        if from.size > self.config.max_message_bytes {
            return self.error(552, [5, 3, 4], "Message size exceeds fixed maximum message size").await;
        }
        self.mail_from = Some(from.address);
        self.ok(250, [2, 1, 0], "OK").await
    }

    async fn rcpt(&mut self, to: RcptTo<String>) -> Result<Flow, Stop> {
        if self.mail_from.is_none() {
            return self.error(503, [5, 5, 1], "Need MAIL before RCPT").await;
        }
        if self.recipients.len() >= self.config.max_recipients {
            // 452 rather than 552 (RFC 5321 §4.5.3.1.10): the client sends the rest later.
            return self.ok(452, [4, 5, 3], "Too many recipients").await;
        }
        if to.address.is_empty() {
            return self.error(501, [5, 1, 3], "Bad recipient address syntax").await;
        }
        match self.handler.check_recipient(&to.address) {
            Ok(()) => {
                self.recipients.push(to.address);
                self.ok(250, [2, 1, 5], "OK").await
            }
            Err(refusal) => {
                if refusal_code(&refusal).0 >= 500 {
                    self.errors += 1;
                }
                self.refuse(&refusal, None).await?;
                Ok(Flow::Continue)
            }
        }
    }

    async fn data(&mut self) -> Result<Flow, Stop> {
        if self.mail_from.is_none() {
            return self.error(503, [5, 5, 1], "Need MAIL command").await;
        }
        if self.recipients.is_empty() {
            return self.error(554, [5, 5, 1], "No valid recipients").await;
        }
        self.conn.reply_plain(354, "End data with <CR><LF>.<CR><LF>");
        let data = read_data(
            &mut self.conn,
            self.config.max_line_len,
            self.config.max_message_bytes,
            &mut self.peak_message,
        )
        .await?;
        let results = match data {
            Data::Closed => return Ok(Flow::Close),
            Data::Refused(fault) => {
                if fault == Fault::BareNewline {
                    self.errors += 1;
                }
                let refusal = match fault {
                    Fault::TooBig => {
                        Refusal::new(552, [5, 3, 4], "Message size exceeds fixed maximum message size")
                    }
                    Fault::LineTooLong => Refusal::new(500, [5, 5, 2], "Line too long"),
                    Fault::BareNewline => Refusal::new(
                        550,
                        [5, 6, 0],
                        "Bare LF or CR in message; lines must end with CRLF (RFC 5321 2.3.8)",
                    ),
                };
                vec![Err(refusal); self.recipients.len()]
            }
            Data::Complete(message) => self.deliver(message).await,
        };
        self.answer_data(&results).await?;
        self.reset();
        Ok(Flow::Continue)
    }

    async fn deliver(&mut self, message: Vec<u8>) -> Vec<Result<(), Refusal>> {
        let envelope = Envelope {
            mail_from: self.mail_from.clone().unwrap_or_default(),
            recipients: self.recipients.clone(),
            helo: self.helo.clone().unwrap_or_default(),
            peer: self.peer,
        };
        let count = envelope.recipients.len();
        let handler = Arc::clone(&self.handler);
        let joined = tokio::task::spawn_blocking(move || handler.deliver(&envelope, message)).await;
        let mut results = match joined {
            Ok(results) => results,
            Err(err) => {
                tracing::error!(error = %err, "mail handler failed while delivering");
                Vec::new()
            }
        };
        if results.len() != count {
            if !results.is_empty() {
                tracing::warn!(
                    expected = count,
                    got = results.len(),
                    "mail handler answered for the wrong number of recipients"
                );
            }
            results.resize(count, Err(Refusal::temporary("Delivery failed, try again later")));
        }
        results
    }

    /// LMTP: one reply per recipient (RFC 2033 §4.2); SMTP: the first failure, or 250.
    async fn answer_data(&mut self, results: &[Result<(), Refusal>]) -> Result<(), Stop> {
        match self.config.protocol {
            Protocol::Lmtp => {
                let recipients = std::mem::take(&mut self.recipients);
                for (rcpt, result) in recipients.iter().zip(results) {
                    match result {
                        Ok(()) => self.conn.reply(250, [2, 0, 0], &format!("<{rcpt}> Delivered")).await?,
                        Err(refusal) => self.refuse(refusal, Some(rcpt)).await?,
                    }
                }
                self.recipients = recipients;
                Ok(())
            }
            Protocol::Smtp => match results.iter().find_map(|r| r.as_ref().err()) {
                Some(refusal) => self.refuse(refusal, None).await,
                None => self.conn.reply(250, [2, 0, 0], "Message accepted").await,
            },
        }
    }

    async fn refuse(&mut self, refusal: &Refusal, rcpt: Option<&str>) -> Result<(), Stop> {
        let (code, esc) = refusal_code(refusal);
        let text = match rcpt {
            Some(rcpt) => format!("<{rcpt}> {}", refusal.text),
            None => refusal.text.clone(),
        };
        self.conn.reply(code, esc, &text).await
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.recipients.clear();
    }
}

/// A refusal's code made valid: only 4xx/5xx refuse, and the enhanced code must agree with it.
fn refusal_code(refusal: &Refusal) -> (u16, [u8; 3]) {
    let [class, subject, detail] = refusal.enhanced;
    match refusal.code {
        code @ 400..=599 if u16::from(class) == code / 100 && subject < 10 && detail < 10 => {
            (code, refusal.enhanced)
        }
        code @ 400..=499 => (code, [4, 0, 0]),
        code @ 500..=599 => (code, [5, 0, 0]),
        _ => (451, [4, 3, 0]),
    }
}

fn truncate(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => Cow::Owned(format!("{}...", text.get(..end).unwrap_or(text))),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests;
