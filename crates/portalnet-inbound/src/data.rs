//! Reading the message after DATA.

use tokio::io::{AsyncRead, AsyncWrite};

use crate::conn::{Conn, Ending, Stop};

/// Why a message was read to its end but not kept. Ordered by precedence: the most serious
/// fault seen is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Fault {
    TooBig,
    LineTooLong,
    /// Bare LF or bare CR: a smuggling attempt or a broken client; either way not delivered.
    BareNewline,
}

pub(crate) enum Data {
    /// The message, CRLF line ends, dot-stuffing removed.
    Complete(Vec<u8>),
    Refused(Fault),
    /// The client went away before the end-of-data marker.
    Closed,
}

/// Reads up to the end-of-data marker.
///
/// Only `<CR><LF>.<CR><LF>` ends the data (counting the CRLF of the DATA command): a "." line
/// after a bare LF, or ended by one, is data. So `<LF>.<CR><LF>` or `<CR>.<LF>` cannot end the
/// message here while a sender's server reads them as data — the disagreement SMTP smuggling
/// needs. After a fault everything is read and discarded to the real marker, so the reply
/// lands where the client expects it and the sender's server bounces the message. At most
/// `max_bytes` are ever buffered; `peak` records the largest buffer held, for tests.
pub(crate) async fn read_data<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut Conn<S>,
    max_line: usize,
    max_bytes: usize,
    peak: &mut usize,
) -> Result<Data, Stop> {
    let mut message = Vec::new();
    let mut size = 0usize;
    let mut fault: Option<Fault> = None;
    let mut after_crlf = true;
    loop {
        let line = conn.next_line(max_line).await?;
        let content = conn.line();
        if line.ending == Ending::Eof {
            return Ok(Data::Closed);
        }
        if after_crlf && line.ending == Ending::CrLf && !line.too_long && content == b"." {
            break;
        }
        after_crlf = line.ending == Ending::CrLf;

        let line_fault = if line.ending == Ending::BareLf || content.contains(&b'\r') {
            Some(Fault::BareNewline)
        } else if line.too_long {
            Some(Fault::LineTooLong)
        } else {
            None
        };
        fault = fault.max(line_fault);
        if fault.is_none() {
            let unstuffed = content.strip_prefix(b".").unwrap_or(content);
            size = size.saturating_add(unstuffed.len() + 2);
            if size > max_bytes {
                fault = Some(Fault::TooBig);
            } else {
                push_bounded(&mut message, unstuffed, max_bytes);
                push_bounded(&mut message, b"\r\n", max_bytes);
                *peak = (*peak).max(message.capacity());
            }
        }
        if fault.is_some() && message.capacity() > 0 {
            // Nothing more is kept; give the memory back while the rest is drained.
            message = Vec::new();
        }
    }
    Ok(match fault {
        Some(fault) => Data::Refused(fault),
        None => Data::Complete(message),
    })
}

/// Past this size the buffer is reserved up to the limit at once.
const RESERVE_ALL_PAST: usize = 1 << 20;

/// Appends, growing the buffer geometrically but never past `max` (the caller has checked that
/// the bytes fit), so a 25 MiB limit never means a 32 MiB allocation. Past
/// [`RESERVE_ALL_PAST`] the rest up to `max` is reserved in one step: reserved pages are not
/// touched until written, so memory follows what arrives, while each geometric step held the
/// old and the new buffer at once (a 24 MB mail peaked at 2.1× its size under mimalloc, which
/// copies a growing block where glibc remaps it).
fn push_bounded(buf: &mut Vec<u8>, bytes: &[u8], max: usize) {
    let needed = buf.len() + bytes.len();
    if needed > buf.capacity() {
        let target = if buf.capacity() >= RESERVE_ALL_PAST {
            max
        } else {
            buf.capacity().saturating_mul(2).max(4096).min(max)
        };
        buf.reserve_exact(target.max(needed) - buf.len());
    }
    buf.extend_from_slice(bytes);
}
