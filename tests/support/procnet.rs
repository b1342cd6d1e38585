//! Networks of separate `portald` processes for cross-portal tests: a directory
//! process and portal processes linked to it over TLS on loopback, network on
//! (activation delay 0: processes read the real clock), one person per portal.

use crate::{Clients, Node, Process, bin, wait_for};
use anyhow::{Context, Result, bail};
use portalnet_proto::v1 as pb;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub struct DirProcess {
    pub dir: PathBuf,
    pub endpoint: String,
    pub cert: PathBuf,
    /// A fixed port, so a restarted directory is where the portals know it.
    listen: String,
    child: Option<Child>,
    /// More arguments of `portald directory` (`--database URL`).
    args: Vec<String>,
    /// Other nodes of the same directory: portals are linked to all of them.
    pub peers: Vec<String>,
}

impl DirProcess {
    pub async fn start(dir: &Path) -> Result<Self> {
        Self::start_with(dir, Vec::new()).await
    }

    /// [`DirProcess::start`] with more arguments of `portald directory`.
    pub async fn start_with(dir: &Path, args: Vec<String>) -> Result<Self> {
        let listen = format!("127.0.0.1:{}", crate::smtp::free_port());
        let mut d = Self {
            dir: dir.to_path_buf(),
            endpoint: String::new(),
            cert: dir.join("tls/cert.pem"),
            listen,
            child: None,
            args,
            peers: Vec::new(),
        };
        d.run().await?;
        Ok(d)
    }

    /// Starts the directory process (again), on the same port and data folder.
    pub async fn run(&mut self) -> Result<()> {
        let _ = std::fs::remove_file(self.dir.join("endpoint"));
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.with_extension("log"))?;
        let child = Command::new(bin("portald"))
            .args(["directory", "--dir"])
            .arg(&self.dir)
            .args(["--id", "directory.test", "--listen", &self.listen])
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        let d = self.dir.clone();
        self.endpoint = wait_for("the directory's endpoint file", || {
            let d = d.clone();
            async move { std::fs::read_to_string(d.join("endpoint")).ok().filter(|s| !s.is_empty()) }
        })
        .await?;
        Ok(())
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for DirProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One portal process and its person.
pub struct PNode {
    pub id: String,
    pub p: Process,
    pub login: String,
    pub address: String,
    pub token: String,
}

impl PNode {
    pub async fn user(&self) -> Result<Clients> {
        self.p.clients(&self.token).await
    }

    pub async fn admin(&self) -> Result<Clients> {
        self.p.clients(&self.p.admin_token()).await
    }
}

/// `portald directory enrol` for `id`, as the directory's operator runs it while
/// the directory serves; returns the secret it prints.
pub fn enrol(dir: &DirProcess, id: &str) -> Result<String> {
    let out =
        Command::new(bin("portald")).args(["directory", "enrol", "--dir"]).arg(&dir.dir).arg(id).output()?;
    if !out.status.success() {
        bail!("portald directory enrol {id} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8(out.stdout).context("the secret is not UTF-8")?.trim().to_string())
}

/// Initialises portal `id` in `root/id`, enrols it with `dir`, links it to `dir`, lets `edit` adjust its
/// configuration, and starts it on a port that stays the same across restarts.
pub async fn start_portal(
    root: &Path,
    dir: &DirProcess,
    id: &str,
    person: (&str, &str),
    edit: impl FnOnce(&mut portalnet_node::config::NodeConfig),
) -> Result<PNode> {
    let pdir = root.join(id);
    let run = |args: &[&str]| -> Result<()> {
        let out = Command::new(bin("portald")).args(args).output()?;
        if !out.status.success() {
            bail!("portald {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    let pd = pdir.to_string_lossy().into_owned();
    run(&["init", "--dir", &pd, "--portal", id, "--listen", "127.0.0.1:0"])?;
    let secret = enrol(dir, id)?;
    let ca = dir.cert.to_string_lossy().into_owned();
    let endpoints =
        std::iter::once(dir.endpoint.clone()).chain(dir.peers.iter().cloned()).collect::<Vec<_>>();
    let endpoints = endpoints.join(",");
    run(&[
        "link",
        "--dir",
        &pd,
        "--directory",
        &endpoints,
        "--directory-ca",
        &ca,
        "--activation-delay-secs",
        "0",
        "--enrolment",
        &secret,
    ])?;
    // A fixed port, so a restarted portal is where the others last saw it.
    let port = crate::smtp::free_port();
    let mut cfg = portalnet_node::config::NodeConfig::load(&pdir)?;
    cfg.listen = format!("127.0.0.1:{port}").parse()?;
    cfg.replication.max_backoff_secs = 2;
    edit(&mut cfg);
    cfg.save(&pdir)?;
    let mut p =
        Process { dir: pdir.clone(), child: None, endpoint: String::new(), log: pdir.join("portald.log") };
    p.run().await.with_context(|| format!("starting {id}"))?;
    let mut admin = p.clients(&p.admin_token()).await?;
    crate::fed::enable(&mut admin).await?;
    let token = crate::fed::add_person(&mut admin, person.0, person.1).await?;
    Ok(PNode { id: id.into(), p, login: person.0.into(), address: format!("{}@{id}", person.0), token })
}

/// Waits until `address` can be found from `from` (R16).
pub async fn findable(from: &Clients, address: &str) -> Result<()> {
    let (login, _) = address.split_once('@').unwrap_or((address, ""));
    wait_for(&format!("{address} findable"), || {
        let (mut c, q, a) = (from.clone(), login.to_string(), address.to_string());
        async move {
            let r = c.network.search(pb::SearchRequest { query: q, limit: 50, offset: 0 }).await.ok()?;
            r.into_inner().people.iter().any(|p| p.address == a).then_some(())
        }
    })
    .await
}
