//! A client connection: bounded, CRLF-aware line reading and batched replies.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// Bytes read from the socket at a time.
const READ_BUF: usize = 16 * 1024;
/// Replies waiting beyond this are sent even while pipelined commands remain unread.
const WRITE_BATCH: usize = 16 * 1024;

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    CrLf,
    /// A LF without CR before it: forbidden by RFC 5321 §2.3.8 and the root of SMTP smuggling.
    BareLf,
    /// The client closed the connection (any partial line is dropped).
    Eof,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    pub(crate) ending: Ending,
    /// Longer than the limit; its content was discarded, not buffered.
    pub(crate) too_long: bool,
}

/// Why reading or writing stopped.
#[derive(Debug)]
pub(crate) enum Stop {
    Timeout,
    Shutdown,
    Io(io::Error),
}

pub(crate) struct Conn<S> {
    stream: S,
    rbuf: Box<[u8]>,
    rpos: usize,
    rend: usize,
    wbuf: Vec<u8>,
    /// The current line without its CRLF; never more than the line limit.
    line: Vec<u8>,
    idle: Duration,
    shutdown: CancellationToken,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(stream: S, max_line: usize, idle: Duration, shutdown: CancellationToken) -> Self {
        Self {
            stream,
            rbuf: vec![0; READ_BUF].into_boxed_slice(),
            rpos: 0,
            rend: 0,
            wbuf: Vec::new(),
            line: Vec::with_capacity(max_line),
            idle,
            shutdown,
        }
    }

    /// The content of the line last read by [`Conn::next_line`], without CRLF.
    pub(crate) fn line(&self) -> &[u8] {
        &self.line
    }

    #[cfg(test)]
    pub(crate) fn line_capacity(&self) -> usize {
        self.line.capacity()
    }

    /// Reads the next line of at most `max` octets including CRLF.
    ///
    /// Only LF ends a line; whether CR came before it is reported, never guessed. A longer
    /// line is read to its end and discarded, so memory stays bounded whatever the client sends.
    pub(crate) async fn next_line(&mut self, max: usize) -> Result<Line, Stop> {
        self.line.clear();
        // Content plus the CR, which is kept until the LF shows it was a CRLF.
        let limit = max.saturating_sub(1);
        let mut too_long = false;
        let mut last = None;
        loop {
            if self.rpos >= self.rend && self.fill().await? == 0 {
                return Ok(Line { ending: Ending::Eof, too_long });
            }
            let avail = self.rbuf.get(self.rpos..self.rend).unwrap_or_default();
            let lf = avail.iter().position(|&b| b == b'\n');
            let chunk = avail.get(..lf.unwrap_or(avail.len())).unwrap_or_default();
            if let Some(&b) = chunk.last() {
                last = Some(b);
            }
            if !too_long {
                if self.line.len() + chunk.len() > limit {
                    too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            self.rpos += chunk.len() + usize::from(lf.is_some());
            if lf.is_some() {
                let ending = if last == Some(b'\r') {
                    self.line.pop_if(|b| *b == b'\r');
                    Ending::CrLf
                } else {
                    Ending::BareLf
                };
                return Ok(Line { ending, too_long });
            }
        }
    }

    /// Queues a reply; it is sent before the next read would wait (RFC 2920 pipelining).
    pub(crate) async fn reply(&mut self, code: u16, esc: [u8; 3], text: &str) -> Result<(), Stop> {
        let [a, b, c] = esc;
        self.wbuf.extend_from_slice(format!("{code} {a}.{b}.{c} {}\r\n", sanitize(text)).as_bytes());
        if self.wbuf.len() >= WRITE_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Queues a reply without an enhanced status code: RFC 2034 gives those to 2xx, 4xx and
    /// 5xx completions only, not to the greeting or 354.
    pub(crate) fn reply_plain(&mut self, code: u16, text: &str) {
        self.wbuf.extend_from_slice(format!("{code} {}\r\n", sanitize(text)).as_bytes());
    }

    /// Queues a multi-line 250 reply.
    pub(crate) fn reply_lines(&mut self, lines: &[String]) {
        for (i, line) in lines.iter().enumerate() {
            let sep = if i + 1 == lines.len() { ' ' } else { '-' };
            self.wbuf.extend_from_slice(format!("250{sep}{}\r\n", sanitize(line)).as_bytes());
        }
    }

    /// Sends queued replies.
    pub(crate) async fn flush(&mut self) -> Result<(), Stop> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        let Self { stream, wbuf, idle, shutdown, .. } = self;
        let write = async {
            stream.write_all(wbuf).await?;
            stream.flush().await
        };
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return Err(Stop::Shutdown),
            written = tokio::time::timeout(*idle, write) => match written {
                Err(_) => return Err(Stop::Timeout),
                Ok(result) => result.map_err(Stop::Io)?,
            },
        }
        wbuf.clear();
        Ok(())
    }

    /// Sends what is queued, then waits for more input; 0 means the client closed.
    async fn fill(&mut self) -> Result<usize, Stop> {
        self.flush().await?;
        let Self { stream, rbuf, idle, shutdown, .. } = self;
        let n = tokio::select! {
            biased;
            () = shutdown.cancelled() => return Err(Stop::Shutdown),
            read = tokio::time::timeout(*idle, stream.read(rbuf)) => match read {
                Err(_) => return Err(Stop::Timeout),
                Ok(result) => result.map_err(Stop::Io)?,
            },
        };
        self.rpos = 0;
        self.rend = n;
        Ok(n)
    }

    /// Sends queued replies and a last one, ignoring failures: the connection is ending anyway.
    pub(crate) async fn say_goodbye(&mut self, code: u16, esc: [u8; 3], text: &str) {
        let [a, b, c] = esc;
        self.wbuf.extend_from_slice(format!("{code} {a}.{b}.{c} {}\r\n", sanitize(text)).as_bytes());
        // Bounded even at shutdown: a client that stopped reading must not hold us up.
        let limit = self.idle.min(Duration::from_secs(5));
        let Self { stream, wbuf, .. } = self;
        let write = async {
            stream.write_all(wbuf).await?;
            stream.shutdown().await
        };
        let _ = tokio::time::timeout(limit, write).await;
        self.wbuf.clear();
    }
}

/// Reply text must stay on one line: control characters (CR, LF, ...) become spaces.
fn sanitize(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}
