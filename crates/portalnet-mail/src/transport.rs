//! Handing rendered messages over: `.eml` files or a plain-SMTP relay.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::MailError;
use crate::message::parse_address;

/// How long to wait on the relay for each SMTP step.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where rendered messages go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Write each message as `<dir>/<id>.eml` (the default install needs no mail server).
    Files { dir: PathBuf },
    /// Plain SMTP, no TLS and no auth, to a relay such as Postfix on loopback.
    Smtp { host: String, port: u16 },
}

impl Transport {
    /// Deliver an already rendered message to `to`, with `from` as the envelope sender.
    ///
    /// `id` names the delivery (letters, digits, `-`, `_`, `.`; not starting with `.`); delivering
    /// the same id again is safe for `Files` (it overwrites `<id>.eml`). Over SMTP a retry after an
    /// unclear failure may deliver twice, as with any SMTP client.
    pub async fn deliver(&self, from: &str, to: &str, rendered: &[u8], id: &str) -> Result<(), MailError> {
        let sender = parse_address("envelope from", from)?;
        let recipient = parse_address("envelope to", to)?;
        let envelope = Envelope::new(Some(sender), vec![recipient])
            .map_err(|e| MailError::Build { reason: e.to_string() })?;
        match self {
            Self::Files { dir } => write_eml(dir, id, rendered).await,
            Self::Smtp { host, port } => send_smtp(host, *port, &envelope, rendered).await,
        }
    }
}

fn check_id(id: &str) -> Result<(), MailError> {
    let invalid = |reason| MailError::InvalidId { id: id.to_owned(), reason };
    if id.is_empty() || id.len() > 200 {
        return Err(invalid("must be 1 to 200 characters"));
    }
    if id.starts_with('.') {
        return Err(invalid("may not start with '.'"));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(invalid("only letters, digits, '-', '_' and '.' are allowed"));
    }
    Ok(())
}

async fn write_eml(dir: &Path, id: &str, rendered: &[u8]) -> Result<(), MailError> {
    check_id(id)?;
    let dir = dir.to_owned();
    let path = dir.join(format!("{id}.eml"));
    let bytes = rendered.to_vec();
    let task_path = path.clone();
    tokio::task::spawn_blocking(move || write_atomically(&dir, &task_path, &bytes))
        .await
        .map_err(|e| MailError::Io { path, source: std::io::Error::other(e) })?
}

/// Write to a temporary file in `dir`, fsync it, rename it over `path`, fsync `dir`: a reader
/// (or a crash) sees the old file or the whole new one, never a partial one.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), MailError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| MailError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut tmp =
        tempfile::Builder::new().prefix(".").suffix(".eml.tmp").tempfile_in(dir).map_err(io(dir))?;
    let tmp_path = tmp.path().to_owned();
    tmp.write_all(bytes).map_err(io(&tmp_path))?;
    tmp.as_file().sync_all().map_err(io(&tmp_path))?;
    // On failure the temporary file is removed when the returned `PersistError` drops.
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    #[cfg(unix)]
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(())
}

async fn send_smtp(host: &str, port: u16, envelope: &Envelope, rendered: &[u8]) -> Result<(), MailError> {
    let relay = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(port)
        .timeout(Some(SMTP_TIMEOUT))
        .build();
    match transport.send_raw(envelope, rendered).await {
        Ok(_) => Ok(()),
        // 5xx, or a client-side refusal (e.g. the relay lacks 8BITMIME/SMTPUTF8 this message needs).
        Err(e) if e.is_permanent() || e.is_client() => {
            Err(MailError::SmtpPermanent { relay, source: Box::new(e) })
        }
        // 4xx, refused connection, timeouts, broken connections, garbled replies.
        Err(e) => Err(MailError::SmtpTemporary { relay, source: Box::new(e) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"Subject: hi\r\n\r\nbody\r\n";

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn files_writes_eml_atomically_creating_the_dir() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("outbox").join("mail");
        let transport = Transport::Files { dir: dir.clone() };
        transport
            .deliver("portal@acme.example", "guest@example.org", MSG, "01J-abc_1.2")
            .await
            .expect("deliver");
        assert_eq!(std::fs::read(dir.join("01J-abc_1.2.eml")).expect("read"), MSG);
        assert_eq!(names(&dir), ["01J-abc_1.2.eml"], "no temporary file may be left behind");
    }

    #[tokio::test]
    async fn files_redelivery_overwrites_the_same_file() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let transport = Transport::Files { dir: tmp.path().to_owned() };
        for body in [&b"first"[..], b"second, longer than the first", b"third"] {
            transport.deliver("portal@acme.example", "guest@example.org", body, "m1").await.expect("deliver");
            assert_eq!(std::fs::read(tmp.path().join("m1.eml")).expect("read"), body);
        }
        assert_eq!(names(tmp.path()), ["m1.eml"]);
    }

    #[tokio::test]
    async fn files_rejects_ids_that_are_not_plain_file_names() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let transport = Transport::Files { dir: tmp.path().join("out") };
        let long = "x".repeat(201);
        for id in ["", ".hidden", "../escape", "a/b", "a\\b", "ł", "a b", long.as_str()] {
            match transport.deliver("portal@acme.example", "guest@example.org", MSG, id).await {
                Err(e @ MailError::InvalidId { .. }) => assert!(e.is_permanent()),
                other => panic!("expected InvalidId for {id:?}, got {other:?}"),
            }
        }
        assert!(!tmp.path().join("out").exists(), "nothing may be written");
    }

    #[tokio::test]
    async fn bad_envelope_addresses_name_the_field() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let transport = Transport::Files { dir: tmp.path().to_owned() };
        let err = transport.deliver("portal@acme.example", "nobody", MSG, "m1").await.expect_err("bad to");
        assert!(matches!(err, MailError::InvalidAddress { field: "envelope to", .. }), "{err:?}");
        let err = transport.deliver("", "guest@example.org", MSG, "m1").await.expect_err("bad from");
        assert!(matches!(err, MailError::InvalidAddress { field: "envelope from", .. }), "{err:?}");
    }

    #[tokio::test]
    async fn files_io_failure_is_temporary() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let not_a_dir = tmp.path().join("file");
        std::fs::write(&not_a_dir, b"x").expect("write");
        let transport = Transport::Files { dir: not_a_dir };
        let err =
            transport.deliver("portal@acme.example", "guest@example.org", MSG, "m1").await.expect_err("io");
        assert!(matches!(err, MailError::Io { .. }), "{err:?}");
        assert!(!err.is_permanent());
    }
}
