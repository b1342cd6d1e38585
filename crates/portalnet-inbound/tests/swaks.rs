//! The listener on a real socket, driven by the real `swaks` client and by raw TCP for what no
//! honest client sends (smuggling, endless lines).

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portalnet_inbound::{Envelope, ListenerConfig, MailHandler, Protocol, Refusal, parse, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(60);

/// Accepts every recipient but `unknown*`; delivery fails for `full*` (452).
#[derive(Default)]
struct Recorder {
    delivered: Mutex<Vec<(Envelope, Vec<u8>)>>,
}

impl Recorder {
    fn delivered(&self) -> Vec<(Envelope, Vec<u8>)> {
        self.delivered.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl MailHandler for Recorder {
    fn check_recipient(&self, rcpt: &str) -> Result<(), Refusal> {
        if rcpt.starts_with("unknown") { Err(Refusal::unknown_recipient()) } else { Ok(()) }
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

struct Server {
    addr: SocketAddr,
    recorder: Arc<Recorder>,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Server {
    async fn start(config: ListenerConfig) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let recorder = Arc::new(Recorder::default());
        let handler: Arc<dyn MailHandler> = recorder.clone();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, config, handler, shutdown.clone()));
        Server { addr, recorder, shutdown, task }
    }

    fn port(&self) -> String {
        self.addr.port().to_string()
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("server stops after shutdown")
            .expect("server task");
    }

    /// Runs swaks against this server; returns its exit code and transcript.
    async fn swaks(&self, args: &[&str]) -> (i32, String) {
        let server = format!("127.0.0.1:{}", self.port());
        let child = tokio::process::Command::new("swaks")
            .args(["--server", &server, "--timeout", "20", "--helo", "client.test"])
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(DEADLINE, child)
            .await
            .expect("swaks finished in time")
            .expect("swaks runs (is it installed at /usr/bin/swaks?)");
        let transcript =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), transcript)
    }

    /// Sends `script` in one go and reads replies until the server closes.
    async fn raw(&self, script: &[u8]) -> String {
        let talk = async {
            let stream = TcpStream::connect(self.addr).await.expect("connect");
            let (mut rd, mut wr) = stream.into_split();
            let script = script.to_vec();
            let writer = tokio::spawn(async move {
                let _ = wr.write_all(&script).await;
                wr
            });
            let mut out = Vec::new();
            let _ = rd.read_to_end(&mut out).await;
            drop(writer.await);
            String::from_utf8_lossy(&out).into_owned()
        };
        tokio::time::timeout(DEADLINE, talk).await.expect("raw session ended in time")
    }
}

fn config(protocol: Protocol) -> ListenerConfig {
    ListenerConfig {
        max_message_bytes: 1_000_000,
        max_recipients: 3,
        ..ListenerConfig::new(protocol, "mx.portal.test")
    }
}

#[tokio::test]
async fn swaks_plain_mail_with_attachments_is_delivered() {
    let server = Server::start(config(Protocol::Smtp)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = dir.path().join("Umowa źródłowa.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 not really").expect("write file");
    let attach = format!("@{}", pdf.display());
    let (code, transcript) = server
        .swaks(&[
            "--from",
            "Jan@Example.PL",
            "--to",
            "task-1@portal.test",
            "--header",
            "Subject: Faktura za marzec",
            "--header",
            "Message-ID: <swaks-1@example.pl>",
            "--body",
            "Proszę o zapłatę.",
            "--attach",
            &attach,
        ])
        .await;
    assert_eq!(code, 0, "{transcript}");
    let delivered = server.recorder.delivered();
    assert_eq!(delivered.len(), 1, "{transcript}");
    let (envelope, data) = &delivered[0];
    assert_eq!(envelope.mail_from, "Jan@Example.PL");
    assert_eq!(envelope.recipients, ["task-1@portal.test"]);
    assert_eq!(envelope.helo, "client.test");
    let msg = parse(data).expect("delivered mail parses");
    assert_eq!(msg.subject, "Faktura za marzec");
    assert_eq!(msg.message_id.as_deref(), Some("swaks-1@example.pl"));
    assert!(msg.text.contains("Proszę o zapłatę."), "{:?}", msg.text);
    assert_eq!(msg.attachments.len(), 1, "{msg:?}");
    assert_eq!(msg.attachments[0].bytes, &b"%PDF-1.4 not really"[..]);
    assert!(msg.attachments[0].name.ends_with(".pdf"), "{:?}", msg.attachments[0].name);
    server.stop().await;
}

#[tokio::test]
async fn swaks_raw_data_file_with_pipelining() {
    let server = Server::start(config(Protocol::Smtp)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let eml = dir.path().join("raw.eml");
    std::fs::write(
        &eml,
        "From: anna@example.com\r\nTo: task-1@portal.test\r\nSubject: =?utf-8?B?0J7RgtGH0ZHRgg==?=\r\n\r\n.leading dot\r\nbody\r\n",
    )
    .expect("write eml");
    let data = format!("@{}", eml.display());
    let (code, transcript) = server
        .swaks(&["--pipeline", "--from", "anna@example.com", "--to", "task-1@portal.test", "--data", &data])
        .await;
    assert_eq!(code, 0, "{transcript}");
    let delivered = server.recorder.delivered();
    let msg = parse(&delivered[0].1).expect("parses");
    assert_eq!(msg.subject, "Отчёт");
    assert_eq!(msg.text, ".leading dot\nbody");
    server.stop().await;
}

#[tokio::test]
async fn swaks_unknown_recipient_is_refused_at_rcpt() {
    let server = Server::start(config(Protocol::Smtp)).await;
    let (code, transcript) = server.swaks(&["--from", "a@example.com", "--to", "unknown@portal.test"]).await;
    assert_eq!(code, 24, "no RCPT accepted: {transcript}");
    assert!(transcript.contains("550 5.1.1"), "{transcript}");
    assert!(server.recorder.delivered().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn swaks_message_over_the_limit_gets_552() {
    let server = Server::start(config(Protocol::Smtp)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let big = dir.path().join("big.txt");
    std::fs::write(
        &big,
        "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv\r\n".repeat(16_000),
    )
    .expect("write body");
    let body = format!("@{}", big.display());
    let (code, transcript) =
        server.swaks(&["--from", "a@example.com", "--to", "task@portal.test", "--body", &body]).await;
    assert_eq!(
        code,
        26,
        "refused after DATA: {}",
        transcript.lines().rev().take(10).collect::<Vec<_>>().join("\n")
    );
    assert!(transcript.contains("552 5.3.4"), "no 552 in transcript");
    assert!(server.recorder.delivered().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn swaks_too_many_recipients_get_452() {
    let server = Server::start(config(Protocol::Smtp)).await;
    let (code, transcript) = server
        .swaks(&[
            "--from",
            "a@example.com",
            "--to",
            "a@portal.test,b@portal.test,c@portal.test,d@portal.test",
        ])
        .await;
    assert!(transcript.contains("452 4.5.3"), "{transcript}");
    let delivered = server.recorder.delivered();
    assert_eq!(delivered.len(), 1, "exit {code}: {transcript}");
    assert_eq!(delivered[0].0.recipients, ["a@portal.test", "b@portal.test", "c@portal.test"]);
    server.stop().await;
}

#[tokio::test]
async fn swaks_lmtp_answers_per_recipient() {
    let server = Server::start(config(Protocol::Lmtp)).await;
    let (_, transcript) = server
        .swaks(&["--protocol", "LMTP", "--from", "a@example.com", "--to", "ok@portal.test,full@portal.test"])
        .await;
    assert!(transcript.contains("LHLO client.test"), "{transcript}");
    assert!(transcript.contains("250 2.0.0 <ok@portal.test> Delivered"), "{transcript}");
    assert!(transcript.contains("452 4.2.2 <full@portal.test> Mailbox full"), "{transcript}");
    let delivered = server.recorder.delivered();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].0.recipients, ["ok@portal.test", "full@portal.test"]);

    // EHLO is not LMTP.
    let (code, transcript) = server.swaks(&["--from", "a@example.com", "--to", "ok@portal.test"]).await;
    assert_ne!(code, 0, "{transcript}");
    assert!(transcript.contains("500 5.5.1"), "{transcript}");
    server.stop().await;
}

const ENVELOPE: &str =
    "EHLO attacker.test\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<task-1@portal.test>\r\nDATA\r\n";
const SMUGGLED: &str = "MAIL FROM:<ceo@bank.test>\r\nRCPT TO:<task-1@portal.test>\r\nDATA\r\nFrom: ceo@bank.test\r\nSubject: smuggled\r\n\r\nPay now.\r\n.\r\n";

#[tokio::test]
async fn smuggling_attempts_are_refused_and_not_delivered() {
    for protocol in [Protocol::Smtp, Protocol::Lmtp] {
        let server = Server::start(config(protocol)).await;
        let hello = if protocol == Protocol::Lmtp { "LHLO" } else { "EHLO" };
        for (name, end) in [
            ("<LF>.<CR><LF>", "\n.\r\n"),
            ("<CR>.<LF>", "\r.\n"),
            ("<CR><LF>.<LF>", "\r\n.\n"),
            ("bare LF", "\n"),
        ] {
            let script = format!(
                "{}Subject: outer\r\n\r\nouter{end}{SMUGGLED}QUIT\r\n",
                ENVELOPE.replacen("EHLO", hello, 1)
            );
            let replies = server.raw(script.as_bytes()).await;
            assert!(replies.contains("550 5.6.0"), "{protocol:?} {name}: {replies}");
            assert!(replies.ends_with("221 2.0.0 Bye\r\n"), "{protocol:?} {name}: {replies}");
            assert!(server.recorder.delivered().is_empty(), "{protocol:?} {name}: delivered");
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn over_long_lines_are_refused() {
    let server = Server::start(config(Protocol::Smtp)).await;
    let long = "x".repeat(5000);
    let replies = server.raw(format!("NOOP {long}\r\nQUIT\r\n").as_bytes()).await;
    assert!(replies.contains("500 5.5.2 Line too long"), "{replies}");
    assert!(replies.ends_with("221 2.0.0 Bye\r\n"), "{replies}");

    let replies = server.raw(format!("{ENVELOPE}Subject: x\r\n\r\n{long}\r\n.\r\nQUIT\r\n").as_bytes()).await;
    assert!(replies.contains("500 5.5.2 Line too long"), "{replies}");
    assert!(server.recorder.delivered().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn default_limit_refuses_26_mb_by_size_and_by_count() {
    let server = Server::start(ListenerConfig::new(Protocol::Smtp, "mx.portal.test")).await;
    let replies = server.raw(b"EHLO c\r\nMAIL FROM:<a@example.com> SIZE=27262976\r\nQUIT\r\n").await;
    assert!(replies.contains("250-SIZE 26214400"), "{replies}");
    assert!(replies.contains("552 5.3.4"), "{replies}");

    let line = format!("{}\r\n", "y".repeat(998));
    let mut script = ENVELOPE.as_bytes().to_vec();
    script.extend_from_slice(line.repeat(26 * 1024).as_bytes());
    script.extend_from_slice(b".\r\nQUIT\r\n");
    let replies = server.raw(&script).await;
    assert!(replies.contains("552 5.3.4"), "{replies}");
    assert!(server.recorder.delivered().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn shutdown_closes_open_connections() {
    let server = Server::start(config(Protocol::Lmtp)).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let mut greeting = [0u8; 64];
    let n =
        tokio::time::timeout(DEADLINE, stream.read(&mut greeting)).await.expect("greeting").expect("read");
    assert!(greeting[..n].starts_with(b"220 "));
    server.stop().await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut rest)).await.expect("closed");
    assert!(String::from_utf8_lossy(&rest).contains("421 4.3.2"));
}
