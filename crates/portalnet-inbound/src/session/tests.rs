//! The protocol driven over an in-memory pipe: scripts in, replies and deliveries out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::config::{ListenerConfig, Protocol};
use crate::handler::{Envelope, MailHandler, Refusal};

/// Accepts every recipient but `unknown*` (550) and `odd*` (a malformed 2xx refusal);
/// delivery fails for `full*` (452).
#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<(Envelope, Vec<u8>)>>,
}

impl MailHandler for Recorder {
    fn check_recipient(&self, rcpt: &str) -> Result<(), Refusal> {
        if rcpt.starts_with("unknown") {
            Err(Refusal::unknown_recipient())
        } else if rcpt.starts_with("odd") {
            Err(Refusal::new(250, [2, 0, 0], "not\r\nreally"))
        } else {
            Ok(())
        }
    }

    fn deliver(&self, envelope: &Envelope, data: Vec<u8>) -> Vec<Result<(), Refusal>> {
        if let Ok(mut delivered) = self.delivered.lock() {
            delivered.push((envelope.clone(), data));
        }
        let result = |rcpt: &String| {
            if rcpt.starts_with("full") { Err(Refusal::new(452, [4, 2, 2], "Mailbox full")) } else { Ok(()) }
        };
        envelope.recipients.iter().map(result).collect()
    }
}

struct Outcome {
    replies: String,
    delivered: Vec<(Envelope, Vec<u8>)>,
    peak_message: usize,
    line_capacity: usize,
}

impl Outcome {
    /// The final line of each reply, as its three-digit code.
    fn codes(&self) -> Vec<u16> {
        self.replies
            .split("\r\n")
            .filter(|l| l.len() >= 4 && l.as_bytes().get(3) == Some(&b' '))
            .filter_map(|l| l.get(..3)?.parse().ok())
            .collect()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => panic!("no runtime: {err}"),
    }
}

/// Sends `input` in one go (everything pipelined), closes the sending side, collects replies.
fn run(config: &ListenerConfig, input: &[u8]) -> Outcome {
    let recorder = Arc::new(Recorder::default());
    let handler: Arc<dyn MailHandler> = recorder.clone();
    let (client, server) = tokio::io::duplex(4096);
    let (replies, peak_message, line_capacity) = runtime().block_on(async {
        let mut session = Session::new(server, None, config, handler, CancellationToken::new());
        let serving = async move {
            let _ = session.run().await;
            (session.peak_message, session.line_capacity())
            // `session` drops here, closing the pipe so the reader below ends.
        };
        let (mut rd, mut wr) = tokio::io::split(client);
        let sending = async move {
            let _ = wr.write_all(input).await;
            let _ = wr.shutdown().await;
        };
        let reading = async move {
            let mut out = Vec::new();
            let _ = rd.read_to_end(&mut out).await;
            out
        };
        let ((peak, cap), (), out) = tokio::join!(serving, sending, reading);
        (String::from_utf8_lossy(&out).into_owned(), peak, cap)
    });
    let delivered = recorder.delivered.lock().map(|d| d.clone()).unwrap_or_default();
    Outcome { replies, delivered, peak_message, line_capacity }
}

fn smtp() -> ListenerConfig {
    ListenerConfig::new(Protocol::Smtp, "mx.portal.test")
}

fn lmtp() -> ListenerConfig {
    ListenerConfig::new(Protocol::Lmtp, "mx.portal.test")
}

const ENVELOPE: &str = "EHLO client.test\r\nMAIL FROM:<jan@example.pl>\r\nRCPT TO:<task-1@portal.test>\r\n";

struct Case {
    name: &'static str,
    config: ListenerConfig,
    input: String,
    codes: &'static [u16],
    /// Messages handed to the handler, as delivered bytes.
    delivered: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let small = ListenerConfig { max_message_bytes: 100, max_recipients: 2, max_line_len: 80, ..smtp() };
    let long = "x".repeat(200);
    vec![
        Case {
            name: "plain delivery with dot-unstuffing",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\nSubject: hi\r\n\r\nhello\r\n..dot\r\n.\r\nQUIT\r\n"),
            codes: &[220, 250, 250, 250, 354, 250, 221],
            delivered: &["Subject: hi\r\n\r\nhello\r\n.dot\r\n"],
        },
        Case {
            name: "two messages on one connection, RSET and NOOP",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\na\r\n.\r\nRSET\r\nNOOP\r\nMAIL FROM:<>\r\nRCPT TO:<t@p>\r\nDATA\r\nb\r\n.\r\nQUIT\r\n"),
            codes: &[220, 250, 250, 250, 354, 250, 250, 250, 250, 250, 354, 250, 221],
            delivered: &["a\r\n", "b\r\n"],
        },
        Case {
            name: "MAIL before EHLO, nested MAIL, RCPT before MAIL, DATA before RCPT",
            config: smtp(),
            input: "MAIL FROM:<a@b>\r\nRCPT TO:<t@p>\r\nHELO c\r\nDATA\r\nMAIL FROM:<a@b>\r\nMAIL FROM:<a@b>\r\nDATA\r\nQUIT\r\n".into(),
            codes: &[220, 503, 503, 250, 503, 250, 503, 554, 221],
            delivered: &[],
        },
        Case {
            name: "LMTP refuses HELO and EHLO, takes LHLO",
            config: lmtp(),
            input: "HELO c\r\nEHLO c\r\nLHLO c\r\nQUIT\r\n".into(),
            codes: &[220, 500, 500, 250, 221],
            delivered: &[],
        },
        Case {
            name: "SMTP refuses LHLO",
            config: smtp(),
            input: "LHLO c\r\nQUIT\r\n".into(),
            codes: &[220, 500, 221],
            delivered: &[],
        },
        Case {
            name: "SIZE over the limit at MAIL",
            config: smtp(),
            input: "EHLO c\r\nMAIL FROM:<a@b> SIZE=26214401\r\nMAIL FROM:<a@b> SIZE=26214400 BODY=8BITMIME\r\nQUIT\r\n".into(),
            codes: &[220, 250, 552, 250, 221],
            delivered: &[],
        },
        Case {
            name: "parameters not offered are refused",
            config: smtp(),
            input: "EHLO c\r\nMAIL FROM:<a@b> BODY=BINARYMIME\r\nMAIL FROM:<a@b> SMTPUTF8\r\nMAIL FROM:<a@b> FOO=BAR\r\nQUIT\r\n".into(),
            codes: &[220, 250, 555, 555, 555, 221],
            delivered: &[],
        },
        Case {
            name: "unknown and malformed recipients",
            config: smtp(),
            input: "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<unknown@p>\r\nRCPT TO:<odd@p>\r\nRCPT TO:<>\r\nRCPT TO:bad\r\nDATA\r\nQUIT\r\n".into(),
            codes: &[220, 250, 250, 550, 451, 501, 501, 554, 221],
            delivered: &[],
        },
        Case {
            name: "too many recipients",
            config: small.clone(),
            input: "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@p>\r\nRCPT TO:<b@p>\r\nRCPT TO:<c@p>\r\nQUIT\r\n".into(),
            codes: &[220, 250, 250, 250, 250, 452, 221],
            delivered: &[],
        },
        Case {
            name: "message over the limit is drained and refused",
            config: small.clone(),
            input: format!("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@p>\r\nDATA\r\n{}.\r\nNOOP\r\n", "0123456789012345678\r\n".repeat(20)),
            codes: &[220, 250, 250, 250, 354, 552, 250],
            delivered: &[],
        },
        Case {
            name: "message exactly at the limit is taken",
            config: small.clone(),
            input: format!("EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@p>\r\nDATA\r\n{}.\r\n", "012345678901234567\r\n".repeat(5)),
            codes: &[220, 250, 250, 250, 354, 250],
            delivered: &["012345678901234567\r\n012345678901234567\r\n012345678901234567\r\n012345678901234567\r\n012345678901234567\r\n"],
        },
        Case {
            name: "over-long command line",
            config: small.clone(),
            input: format!("NOOP {long}\r\nNOOP\r\n"),
            codes: &[220, 500, 250],
            delivered: &[],
        },
        Case {
            name: "over-long data line",
            config: ListenerConfig { max_line_len: 80, ..smtp() },
            input: format!("{ENVELOPE}DATA\r\n{long}\r\n.\r\nNOOP\r\n"),
            codes: &[220, 250, 250, 250, 354, 500, 250],
            delivered: &[],
        },
        Case {
            name: "bare LF ending a command",
            config: smtp(),
            input: "EHLO c\nNOOP\r\nQUIT\r\n".into(),
            codes: &[220, 500, 250, 221],
            delivered: &[],
        },
        Case {
            name: "bare CR inside a command",
            config: smtp(),
            input: "NOOP\rMAIL FROM:<a@b>\r\nQUIT\r\n".into(),
            codes: &[220, 500, 221],
            delivered: &[],
        },
        Case {
            name: "bare LF in data",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\nline one\nline two\r\n.\r\nQUIT\r\n"),
            codes: &[220, 250, 250, 250, 354, 550, 221],
            delivered: &[],
        },
        Case {
            name: "smuggling with <LF>.<CR><LF>",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\nSubject: outer\r\n\r\nouter\n.\r\nMAIL FROM:<ceo@bank.test>\r\nRCPT TO:<task-1@portal.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n.\r\nQUIT\r\n"),
            codes: &[220, 250, 250, 250, 354, 550, 221],
            delivered: &[],
        },
        Case {
            name: "smuggling with <CR>.<LF>",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\nouter\r\r.\nMAIL FROM:<ceo@bank.test>\r\nRCPT TO:<task-1@portal.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"),
            codes: &[220, 250, 250, 250, 354, 550, 221],
            delivered: &[],
        },
        Case {
            name: "smuggling with <CR><LF>.<LF>",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\nouter\r\n.\nMAIL FROM:<ceo@bank.test>\r\nDATA\r\nsmuggled\r\n.\r\nQUIT\r\n"),
            codes: &[220, 250, 250, 250, 354, 550, 221],
            delivered: &[],
        },
        Case {
            name: "client leaves during data: nothing delivered",
            config: smtp(),
            input: format!("{ENVELOPE}DATA\r\nhalf a message\r\n"),
            codes: &[220, 250, 250, 250, 354],
            delivered: &[],
        },
        Case {
            name: "LMTP answers per recipient",
            config: lmtp(),
            input: "LHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<ok@p>\r\nRCPT TO:<full@p>\r\nRCPT TO:<unknown@p>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n".into(),
            codes: &[220, 250, 250, 250, 250, 550, 354, 250, 452, 221],
            delivered: &["x\r\n"],
        },
        Case {
            name: "LMTP refusal of the whole message is repeated per recipient",
            config: lmtp(),
            input: "LHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<a@p>\r\nRCPT TO:<b@p>\r\nDATA\r\nbad\nline\r\n.\r\nQUIT\r\n".into(),
            codes: &[220, 250, 250, 250, 250, 354, 550, 550, 221],
            delivered: &[],
        },
        Case {
            name: "SMTP answers the first failure once",
            config: smtp(),
            input: "EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<ok@p>\r\nRCPT TO:<full@p>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n".into(),
            codes: &[220, 250, 250, 250, 250, 354, 452, 221],
            delivered: &["x\r\n"],
        },
        Case {
            name: "VRFY, HELP, unknown and unimplemented commands",
            config: smtp(),
            input: "VRFY jan\r\nHELP\r\nFOO bar\r\nSTARTTLS\r\nEXPN list\r\nQUIT\r\n".into(),
            codes: &[220, 252, 214, 500, 502, 502, 221],
            delivered: &[],
        },
        Case {
            name: "BDAT closes the connection",
            config: smtp(),
            input: format!("{ENVELOPE}BDAT 5 LAST\r\nQUIT\r\nNOOP\r\n"),
            codes: &[220, 250, 250, 250, 503],
            delivered: &[],
        },
        Case {
            name: "too many errors",
            config: smtp(),
            input: "FOO\r\n".repeat(30),
            codes: &[220, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 421],
            delivered: &[],
        },
    ]
}

#[test]
fn protocol_table() {
    let mut failures = Vec::new();
    for case in cases() {
        let out = run(&case.config, case.input.as_bytes());
        let delivered: Vec<String> =
            out.delivered.iter().map(|(_, d)| String::from_utf8_lossy(d).into_owned()).collect();
        if out.codes() != case.codes || delivered != case.delivered {
            failures.push(format!(
                "{}:\n  codes {:?}, want {:?}\n  delivered {delivered:?}, want {:?}\n  replies {:?}",
                case.name,
                out.codes(),
                case.codes,
                case.delivered,
                out.replies
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn greeting_and_capabilities() {
    let out = run(&smtp(), b"EHLO client.test\r\nQUIT\r\n");
    assert!(out.replies.starts_with("220 mx.portal.test ESMTP"), "{}", out.replies);
    for cap in ["250-PIPELINING", "250-SIZE 26214400", "250-8BITMIME", "250 ENHANCEDSTATUSCODES"] {
        assert!(out.replies.contains(cap), "{cap} missing: {}", out.replies);
    }
    let out = run(&lmtp(), b"LHLO client.test\r\n");
    assert!(out.replies.starts_with("220 mx.portal.test LMTP"), "{}", out.replies);
    assert!(out.replies.contains("250 ENHANCEDSTATUSCODES"));
}

#[test]
fn envelope_reaches_the_handler() {
    let out = run(
        &lmtp(),
        b"LHLO relay.test\r\nMAIL FROM:<>\r\nRCPT TO:<a@p>\r\nRCPT TO:<b@p>\r\nDATA\r\nx\r\n.\r\n",
    );
    let Some((envelope, _)) = out.delivered.first() else { panic!("nothing delivered: {}", out.replies) };
    assert_eq!(envelope.mail_from, "");
    assert_eq!(envelope.recipients, ["a@p", "b@p"]);
    assert_eq!(envelope.helo, "relay.test");
    assert!(out.replies.contains("250 2.0.0 <a@p> Delivered"), "{}", out.replies);
}

#[test]
fn refusal_text_cannot_break_the_reply_line() {
    let out = run(&smtp(), b"EHLO c\r\nMAIL FROM:<a@b>\r\nRCPT TO:<odd@p>\r\n");
    assert!(out.replies.contains("451 4.3.0 not  really\r\n"), "{}", out.replies);
}

#[test]
fn oversized_message_is_never_buffered() {
    let config = ListenerConfig { max_message_bytes: 10_000, ..smtp() };
    let mut input = ENVELOPE.as_bytes().to_vec();
    input.extend_from_slice(b"DATA\r\n");
    for _ in 0..20_000 {
        input.extend_from_slice(b"0123456789012345678901234567890123456789\r\n");
    }
    input.extend_from_slice(b".\r\nQUIT\r\n");
    let out = run(&config, &input);
    assert_eq!(out.codes(), [220, 250, 250, 250, 354, 552, 221]);
    assert!(out.peak_message <= 10_000, "held {} bytes", out.peak_message);
    assert!(out.delivered.is_empty());
}

#[test]
fn idle_client_is_told_and_dropped() {
    let config = ListenerConfig { idle_timeout: Duration::from_millis(100), ..smtp() };
    let handler: Arc<dyn MailHandler> = Arc::new(Recorder::default());
    let replies = runtime().block_on(async {
        let (mut client, server) = tokio::io::duplex(1024);
        let serving = async move {
            let mut session = Session::new(server, None, &config, handler, CancellationToken::new());
            let _ = session.run().await;
        };
        let reading = async move {
            let mut out = Vec::new();
            let _ = client.write_all(b"EHLO c\r\n").await;
            // Never closes: only the server's timeout ends this.
            let _ = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut out)).await;
            out
        };
        tokio::join!(serving, reading).1
    });
    let replies = String::from_utf8_lossy(&replies);
    assert!(replies.ends_with("421 4.4.2 mx.portal.test Idle timeout, closing\r\n"), "{replies}");
}

#[test]
fn shutdown_ends_an_open_session() {
    let config = smtp();
    let handler: Arc<dyn MailHandler> = Arc::new(Recorder::default());
    let shutdown = CancellationToken::new();
    let replies = runtime().block_on(async {
        let (mut client, server) = tokio::io::duplex(1024);
        let token = shutdown.clone();
        let serving = async move {
            let mut session = Session::new(server, None, &config, handler, token);
            let _ = session.run().await;
        };
        let reading = async move {
            let mut out = Vec::new();
            let _ = client.write_all(b"EHLO c\r\n").await;
            let mut buf = [0u8; 512];
            // Wait for the EHLO answer, then stop the server.
            while !String::from_utf8_lossy(&out).contains("250 ENHANCEDSTATUSCODES") {
                match client.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
            shutdown.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(10), client.read_to_end(&mut out)).await;
            out
        };
        tokio::join!(serving, reading).1
    });
    let replies = String::from_utf8_lossy(&replies);
    assert!(replies.ends_with("421 4.3.2 mx.portal.test Service shutting down\r\n"), "{replies}");
}

mod props {
    use proptest::prelude::*;

    use super::*;

    const MAX_MESSAGE: usize = 300;
    const MAX_LINE: usize = 64;

    fn config(lmtp: bool) -> ListenerConfig {
        let protocol = if lmtp { Protocol::Lmtp } else { Protocol::Smtp };
        ListenerConfig {
            max_message_bytes: MAX_MESSAGE,
            max_line_len: MAX_LINE,
            max_recipients: 3,
            ..ListenerConfig::new(protocol, "mx.test")
        }
    }

    fn check(out: &Outcome) -> Result<(), TestCaseError> {
        prop_assert!(out.peak_message <= MAX_MESSAGE, "held {}", out.peak_message);
        prop_assert!(out.line_capacity <= MAX_LINE, "line buffer {}", out.line_capacity);
        for (_, data) in &out.delivered {
            prop_assert!(data.len() <= MAX_MESSAGE);
            // Whatever was delivered is made of clean CRLF lines.
            let text = data.split(|&b| b == b'\n');
            for line in text.clone().take(text.count().saturating_sub(1)) {
                prop_assert!(line.ends_with(b"\r") && !line[..line.len() - 1].contains(&b'\r'));
            }
        }
        Ok(())
    }

    const SCRIPT: &[u8] = b"LHLO c\r\nEHLO c\r\nMAIL FROM:<a@b> SIZE=100\r\nRCPT TO:<x@p>\r\nRCPT TO:<full@p>\r\n\
        DATA\r\nSubject: s\r\n\r\n..body\r\nline\r\n.\r\nRSET\r\nVRFY x\r\nMAIL FROM:<>\r\nRCPT TO:<y@p>\r\nDATA\r\nz\r\n.\r\nQUIT\r\n";

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_streams(input in proptest::collection::vec(any::<u8>(), 0..1500), lmtp in any::<bool>()) {
            let out = run(&config(lmtp), &input);
            check(&out)?;
        }

        #[test]
        fn mutated_sessions(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'.'), any::<u8>()], 0u8..3), 0..12),
            lmtp in any::<bool>(),
        ) {
            let mut input = SCRIPT.to_vec();
            for (at, byte, op) in edits {
                let i = at.index(input.len());
                match op {
                    0 => input[i] = byte,
                    1 => input.insert(i, byte),
                    _ => { input.remove(i); }
                }
            }
            let out = run(&config(lmtp), &input);
            check(&out)?;
        }
    }
}
