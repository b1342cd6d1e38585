//! A real SMTP capture server for tests: Python's aiosmtpd (`pip install aiosmtpd`;
//! `.ci/run` installs it), writing each message it accepts to `<dir>/<n>.eml`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CAPTURE_PY: &str = r#"
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

class Capture:
    def __init__(self, out):
        self.out, self.count = out, 0
    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.out, str(self.count))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".tmp", base + ".eml")
        return "250 Message accepted"

async def main(port, out):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Capture(out), hostname="capture.test"), "127.0.0.1", port)
    async with server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
"#;

pub struct CaptureSmtp {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    _tmp: tempfile::TempDir,
}

impl CaptureSmtp {
    /// Starts the server on `port` and waits until it accepts connections.
    pub fn start(port: u16) -> Self {
        let ok = Command::new("python3").args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
        assert!(ok, "this test needs python3 with aiosmtpd: run `pip install aiosmtpd`");
        let tmp = tempfile::tempdir().expect("tempdir");
        let script = tmp.path().join("capture.py");
        std::fs::write(&script, CAPTURE_PY).expect("write capture.py");
        let dir = tmp.path().join("mail");
        std::fs::create_dir_all(&dir).expect("mail dir");
        let child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start aiosmtpd");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < crate::DEADLINE, "capture SMTP server did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dir, _tmp: tmp }
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
            })
            .unwrap_or_default();
        files.sort_by_key(|p| p.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<u32>().ok()));
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }
}

impl Drop for CaptureSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
