//! SMTP transport against a real capture server: Python's aiosmtpd (`pip install aiosmtpd`).

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use portalnet_mail::{MailError, Mailbox, Outgoing, Transport, render};

/// Capture server: writes each accepted message to `<out>/<n>.eml` (bytes as received) and its
/// envelope to `<out>/<n>.env`; refuses recipients `reject@...` with 550 and `busy@...` with 451.
const CAPTURE_PY: &str = r#"
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

class Capture:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject@"):
            return "550 5.1.1 No such user"
        if address.startswith("busy@"):
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.out, str(self.count))
        with open(base + ".env", "w") as f:
            f.write(envelope.mail_from + "\n" + "\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted"

async def main(host, port, out):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Capture(out), hostname="capture.test"), host, port)
    async with server:
        await server.serve_forever()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
"#;

const STARTUP_DEADLINE: Duration = Duration::from_secs(20);

struct CaptureServer {
    child: Child,
    port: u16,
    out: PathBuf,
    _tmp: tempfile::TempDir,
}

impl Drop for CaptureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

fn require_aiosmtpd() {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "the SMTP tests need python3 with aiosmtpd: run `pip install aiosmtpd` (python3 -c 'import aiosmtpd' failed)"
    );
}

impl CaptureServer {
    fn start() -> Self {
        require_aiosmtpd();
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = tmp.path().join("capture.py");
        std::fs::write(&script, CAPTURE_PY).expect("write capture.py");
        let out = tmp.path().join("captured");
        std::fs::create_dir(&out).expect("create captured dir");
        let stderr_path = tmp.path().join("stderr.log");
        let stderr = File::create(&stderr_path).expect("create stderr log");
        let port = free_port();
        let child = Command::new("python3")
            .arg(&script)
            .args(["127.0.0.1", &port.to_string()])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn python3");
        let mut server = CaptureServer { child, port, out, _tmp: tmp };
        server.wait_until_listening(&stderr_path);
        server
    }

    fn wait_until_listening(&mut self, stderr_path: &Path) {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + STARTUP_DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(stderr_path).unwrap_or_default();
                panic!("capture SMTP server exited early ({status}):\n{log}");
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "capture SMTP server not listening on {addr} after {STARTUP_DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn transport(&self) -> Transport {
        Transport::Smtp { host: "127.0.0.1".into(), port: self.port }
    }

    /// The captured messages, in arrival order, as (envelope lines, message bytes).
    fn captured(&self) -> Vec<(String, Vec<u8>)> {
        (1..)
            .map(|n| self.out.join(n.to_string()))
            .take_while(|base| base.with_extension("eml").exists())
            .map(|base| {
                let envelope = std::fs::read_to_string(base.with_extension("env")).expect("read .env");
                (envelope, std::fs::read(base.with_extension("eml")).expect("read .eml"))
            })
            .collect()
    }
}

fn outgoing(to: &str) -> Outgoing {
    Outgoing {
        from: Mailbox { name: Some("Łukasz Ślązak".into()), address: "portal@acme.example".into() },
        to: to.into(),
        subject: "Zaproszenie — Łukasz Ślązak / Приглашение".into(),
        text: "Zażółć gęślą jaźń.\n.a line starting with a dot\nПривет".into(),
        html: "<p>Zażółć gęślą jaźń — <b>Привет</b></p>".into(),
        message_id: Some("smtp-test-1@acme.example".into()),
        ..Outgoing::default()
    }
}

#[tokio::test]
async fn delivers_rendered_message_to_a_real_smtp_server() {
    let server = CaptureServer::start();
    let mail = outgoing("guest@example.org");
    let rendered = render(&mail).expect("render");
    server.transport().deliver("bounce@acme.example", &mail.to, &rendered, "m1").await.expect("deliver");

    let captured = server.captured();
    assert_eq!(captured.len(), 1, "exactly one message captured");
    let (envelope, bytes) = &captured[0];
    assert_eq!(envelope, "bounce@acme.example\nguest@example.org\n");
    // lettre's DATA ends with "\r\n.\r\n" even after a final CRLF, so one empty line may be added.
    let received = String::from_utf8_lossy(bytes);
    let sent = String::from_utf8_lossy(&rendered);
    assert_eq!(received.strip_suffix("\r\n").filter(|r| *r == sent).unwrap_or(&received), sent);

    let msg = MessageParser::default().parse(bytes).expect("parseable");
    assert_eq!(msg.subject(), Some(mail.subject.as_str()));
    assert_eq!(msg.message_id(), Some("smtp-test-1@acme.example"));
    assert_eq!(msg.from().and_then(|a| a.first()).and_then(|a| a.name()), Some("Łukasz Ślązak"));
    assert_eq!(msg.text_body_count(), 1);
    assert_eq!(msg.html_body_count(), 1);
    let text = msg.body_text(0).expect("text part").replace("\r\n", "\n");
    assert_eq!(text.trim_end(), mail.text);
    assert_eq!(msg.body_html(0).as_deref().map(str::trim_end), Some(mail.html.as_str()));
}

#[tokio::test]
async fn relay_5xx_is_a_permanent_error() {
    let server = CaptureServer::start();
    let rendered = render(&outgoing("reject@example.org")).expect("render");
    let err = server
        .transport()
        .deliver("portal@acme.example", "reject@example.org", &rendered, "m1")
        .await
        .expect_err("550 must fail");
    assert!(matches!(err, MailError::SmtpPermanent { .. }), "{err:?}");
    assert!(err.is_permanent());
    assert!(server.captured().is_empty());
}

#[tokio::test]
async fn relay_4xx_is_a_temporary_error() {
    let server = CaptureServer::start();
    let rendered = render(&outgoing("busy@example.org")).expect("render");
    let err = server
        .transport()
        .deliver("portal@acme.example", "busy@example.org", &rendered, "m1")
        .await
        .expect_err("451 must fail");
    assert!(matches!(err, MailError::SmtpTemporary { .. }), "{err:?}");
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn refused_connection_is_a_temporary_error() {
    let port = free_port(); // bound and released: nobody listens there now
    let transport = Transport::Smtp { host: "127.0.0.1".into(), port };
    let rendered = render(&outgoing("guest@example.org")).expect("render");
    let err = transport
        .deliver("portal@acme.example", "guest@example.org", &rendered, "m1")
        .await
        .expect_err("nobody listening");
    assert!(matches!(err, MailError::SmtpTemporary { .. }), "{err:?}");
    assert!(!err.is_permanent());
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}
