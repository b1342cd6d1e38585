//! A `portald` process with its inbound mail listeners on (LMTP and SMTP), and the
//! tools to talk to it as mail servers and people do: the real `swaks` client, raw
//! TCP for what no honest client sends, and the `.eml` files (or a capture relay)
//! its outgoing mail lands in.

use crate::smtp::free_port;
use crate::{Clients, Node, Process, new_user, wait_for};
use anyhow::Result;
use portalnet_proto::v1 as pb;
use std::path::PathBuf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct MailNode {
    pub node: Process,
    pub lmtp: String,
    pub smtp: String,
    _tmp: tempfile::TempDir,
}

#[derive(Clone, Copy, Debug)]
pub enum Via {
    Lmtp,
    Smtp,
}

impl MailNode {
    /// `portald init` + mail listeners on free ports (+ an SMTP relay for outgoing
    /// mail when given; `.eml` files otherwise) + `portald run`.
    pub async fn start(portal: &str, relay: Option<u16>) -> Result<Self> {
        Self::start_with(portal, relay, |_| {}).await
    }

    /// As [`MailNode::start`], with `portald.toml` changed by `edit` before the start.
    pub async fn start_with(
        portal: &str,
        relay: Option<u16>,
        edit: impl FnOnce(&mut portalnet_node::config::NodeConfig),
    ) -> Result<Self> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join(portal);
        let mut node = Process::init(&dir, portal)?;
        let mut cfg = portalnet_node::config::NodeConfig::load(&dir)?;
        cfg.mail.smtp_relay = relay.map(|p| format!("127.0.0.1:{p}"));
        edit(&mut cfg);
        // A free port can be taken by another test before portald binds it: then
        // portald exits saying so, and it starts again on other ports.
        let mut attempt = 0;
        loop {
            let (lmtp, smtp) = (format!("127.0.0.1:{}", free_port()), format!("127.0.0.1:{}", free_port()));
            cfg.mail.lmtp_listen = Some(lmtp.parse()?);
            cfg.mail.smtp_listen = Some(smtp.parse()?);
            cfg.save(&dir)?;
            match node.run().await {
                Ok(()) => return Ok(Self { node, lmtp, smtp, _tmp: tmp }),
                Err(e) if attempt < 5 && format!("{e:#}").contains("Address already in use") => {
                    node.kill()?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    pub async fn admin(&self) -> Result<Clients> {
        self.node.clients(&self.node.admin_token()).await
    }

    /// Adds an employee; returns their API token.
    pub async fn employee(&self, login: &str, name: &str) -> Result<String> {
        let mut admin = self.admin().await?;
        admin.users.add_user(new_user(login, name)).await?;
        let t = admin.users.issue_token(pb::IssueTokenRequest { login: login.into() }).await?.into_inner();
        Ok(t.token)
    }

    /// The secret task address of the token's owner, as `portalctl mail address show`
    /// prints it.
    pub fn task_address(&self, token: &str) -> String {
        let v = crate::ctl_json(&self.node, token, &["mail", "address", "show"]);
        v["address"].as_str().expect("address in JSON").to_string()
    }

    /// Runs swaks against the LMTP or SMTP listener; returns its exit code and transcript.
    pub async fn swaks(&self, via: Via, args: &[&str]) -> (i32, String) {
        let server = match via {
            Via::Lmtp => &self.lmtp,
            Via::Smtp => &self.smtp,
        };
        let mut cmd = tokio::process::Command::new("swaks");
        cmd.args(["--server", server, "--timeout", "60", "--helo", "client.test"]);
        if let Via::Lmtp = via {
            cmd.args(["--protocol", "LMTP"]);
        }
        let out = tokio::time::timeout(crate::DEADLINE * 4, cmd.args(args).output())
            .await
            .expect("swaks finished in time")
            .expect("swaks runs (Debian package swaks; .ci/run installs it)");
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), text)
    }

    /// Writes `script` to the listener and returns everything it answered.
    pub async fn raw(&self, via: Via, script: &[u8]) -> String {
        let addr = match via {
            Via::Lmtp => &self.lmtp,
            Via::Smtp => &self.smtp,
        };
        let talk = async {
            let stream = tokio::net::TcpStream::connect(addr.as_str()).await.expect("connect");
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
        tokio::time::timeout(crate::DEADLINE, talk).await.expect("raw session ended in time")
    }

    /// Waits until `n` messages to `to` were written; returns them in order.
    pub async fn wait_mail(&self, to: &str, n: usize) -> Vec<Sent> {
        wait_for(&format!("{n} message(s) to {to}"), || {
            let got = messages_to(&self.sent(), to);
            async move { (got.len() >= n).then_some(got) }
        })
        .await
        .expect("mail written in time")
    }

    /// Where outgoing mail is written without a relay.
    pub fn outbox_dir(&self) -> PathBuf {
        self.node.dir.join("mail/outbox")
    }

    /// Outgoing messages written so far, in the order they were queued.
    pub fn sent(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.outbox_dir())
            .map(|d| {
                d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
            })
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }
}

/// Outgoing messages addressed to `to`, parsed (owned fields only).
pub fn messages_to(all: &[Vec<u8>], to: &str) -> Vec<Sent> {
    all.iter()
        .filter_map(|raw| {
            let m = mail_parser::MessageParser::default().parse(raw)?;
            let rcpt = m.to()?.first()?.address()?.to_string();
            (rcpt == to).then(|| Sent {
                subject: m.subject().unwrap_or_default().to_string(),
                text: m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                html: m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
                reply_to: m
                    .reply_to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or_default()
                    .to_string(),
                message_id: m.message_id().unwrap_or_default().to_string(),
                in_reply_to: m.in_reply_to().as_text().unwrap_or_default().to_string(),
                references: m.references().as_text().unwrap_or_default().to_string(),
                auto_submitted: m.header_raw("Auto-Submitted").unwrap_or_default().trim().to_string(),
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub reply_to: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub references: String,
    pub auto_submitted: String,
}

impl Sent {
    /// The task page link in the text part.
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http://") && w.contains("/t/"))
            .expect("a task page link in the notice")
            .to_string()
    }
}
