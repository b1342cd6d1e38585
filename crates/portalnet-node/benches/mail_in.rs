//! Inbound mail (R18–R20): messages delivered over LMTP to an employee's secret
//! task address become tasks. Measured next to two baselines taken in the same run
//! on the same machine: the LMTP listener with a handler that drops every message
//! (protocol cost only), and a bare durable storage write (one ~1 KiB value and a
//! sled flush, what one acknowledged write costs at least).
//!
//! `cargo bench -p portalnet-node --bench mail_in`
//! (MAIL_BENCH_MESSAGES: small messages per measurement, default 2000.)
//!
//! The client pipelines MAIL, RCPT and DATA (the listener advertises PIPELINING),
//! waits for the 354, sends the message and waits for the 250: two round trips per
//! message; a message's latency runs from MAIL to that 250.
//!
//! Then one 24 MiB message (a single base64 attachment) goes to a task. Each big
//! message is measured in a fresh process (this binary run again with
//! MAIL_BENCH_CHILD set), so no allocation freed by an earlier measurement can hide
//! in the peak: the peak resident size (VmHWM) is reset through
//! /proc/self/clear_refs just before DATA and read after the 250. Three more fresh
//! processes split that peak into its parts: the LMTP session alone (drop handler),
//! the MIME parse alone (mail-parser on a borrowed message, and the node's
//! in-place parse of a message it owns), the sled write and flush of the attachment alone (where
//! files lived before issue 12), and its write to the blob store (where they live now).
//! One more repeats the node row with glibc's mmap threshold fixed, to tell
//! memory malloc keeps after a free from memory still in use.

use anyhow::{Context, Result, bail, ensure};
use base64::Engine;
use portalnet_inbound::{Envelope, ListenerConfig, MailHandler, Protocol, Refusal};
use portalnet_node::clock::SystemClock;
use portalnet_node::config::NodeConfig;
use portalnet_store::{Db, StoreError};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[path = "common/mod.rs"]
mod common;
use common::{Stats, measure};

const DOMAIN: &str = "alpha.test";
/// The whole big message as sent, CRLF line ends, before the end-of-data marker.
const BIG_MESSAGE_BYTES: usize = 24 * 1024 * 1024;
const CHILD_ENV: &str = "MAIL_BENCH_CHILD";
/// An environment variable set for one child.
type Env = Option<(&'static str, &'static str)>;
/// Child modes with extra environment, in the order they are printed. The second
/// node row fixes glibc's mmap threshold (no dynamic raise after a large free), so
/// every large buffer is its own mapping, returned when freed: next to the first
/// row it shows how much of the peak and of what stays resident is the allocator's.
const BIG_MODES: [(&str, Env, &str); 7] = [
    ("node", None, "LMTP -> task on the node"),
    ("node", Some(("MALLOC_MMAP_THRESHOLD_", "131072")), "  same, fixed mmap threshold"),
    ("session", None, "LMTP session only (drop)"),
    ("parse", None, "parse only (mail-parser)"),
    ("parse_owned", None, "parse only, in place (node's)"),
    ("store", None, "sled write+sync of the file"),
    ("blob", None, "blob store write+sync of it"),
];

fn main() -> Result<()> {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return big_child(&mode);
    }
    let n = std::env::var("MAIL_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000usize);
    // Every measurement runs with 1 and with 4 at a time; keep the count divisible.
    let n = (n.max(4) / 4) * 4;
    let rt = runtime()?;
    rt.block_on(small(n))?;
    drop(rt);
    println!();
    big()
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

// ---------------------------------------------------------------------------
// Small messages

async fn small(n: usize) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    println!(
        "portalnet bench: inbound mail over LMTP ({n} small messages per measurement, loopback, sled on disk)"
    );
    let sizes: Vec<usize> = (0..n).map(|i| small_message("size", i, "x@y.z").len()).collect();
    println!(
        "small messages: plain text, {}..{} bytes (mean {}), each with its own Message-ID",
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        sizes.iter().sum::<usize>() / sizes.len().max(1)
    );
    println!("{:<40} {:>10} {:>10} {:>10}", "measurement", "msg/s", "p50", "p99");
    let row =
        |name: &str, s: &Stats| println!("{name:<40} {:>10.0} {:>10.1?} {:>10.1?}", s.rate, s.p50, s.p99);

    // Baseline A: the listener alone.
    let cancel = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = ListenerConfig::new(Protocol::Lmtp, "bench");
    let server = tokio::spawn(portalnet_inbound::serve(listener, config, Arc::new(DropAll), cancel.clone()));
    let rcpt = format!("task+{}@{DOMAIN}", "0".repeat(32));
    let mut base_a = Vec::new();
    for conns in [1usize, 4] {
        let msgs =
            Arc::new((0..n).map(|i| small_message(&format!("a{conns}"), i, &rcpt)).collect::<Vec<_>>());
        let s = lmtp_run(addr, &rcpt, msgs, conns).await?;
        row(&format!("A: LMTP, drop handler, {conns} conn"), &s);
        base_a.push(s);
    }
    cancel.cancel();
    server.await?;

    // Baseline B: one durable write of ~1 KiB.
    let mut base_b = Vec::new();
    {
        let db = Db::open(&tmp.path().join("raw"))?;
        let tree = db.tree("bench")?;
        for writers in [1usize, 4] {
            let (db, tree) = (db.clone(), tree.clone());
            let s = measure(n, writers, move |i| {
                let (db, tree) = (db.clone(), tree.clone());
                async move {
                    tokio::task::spawn_blocking(move || {
                        let key = format!("w{writers}/{i:08}");
                        let value: Vec<u8> = (0..1024).map(|j| (i * 31 + j) as u8).collect();
                        db.write(|tx| {
                            tx.insert(&tree, key.as_bytes(), value);
                            Ok::<_, StoreError>(())
                        })
                        .expect("raw write");
                        db.sync().expect("raw sync");
                    })
                    .await
                    .expect("raw write task");
                }
            })
            .await;
            row(&format!("B: db write 1 KiB + sync, {writers} writer"), &s);
            base_b.push(s);
        }
    }

    // The real node: each message becomes a task, flushed before its 250.
    let node_dir = tmp.path().join("alpha");
    let (node, rcpt) = start_node(&node_dir).await?;
    let lmtp = node.lmtp_addr.context("the node has no LMTP listener")?;
    let mut real = Vec::new();
    for conns in [1usize, 4] {
        let msgs =
            Arc::new((0..n).map(|i| small_message(&format!("n{conns}"), i, &rcpt)).collect::<Vec<_>>());
        let s = lmtp_run(lmtp, &rcpt, msgs, conns).await?;
        row(&format!("node: LMTP -> task, {conns} conn"), &s);
        real.push(s);
    }
    let tasks = node.state.portal.tables.tasks.len();
    ensure!(tasks == 2 * n, "{tasks} tasks on the node after {} messages", 2 * n);

    println!();
    for (i, conns) in [1usize, 4].into_iter().enumerate() {
        let (a, b, r) = (&base_a[i], &base_b[i], &real[i]);
        println!(
            "{conns} at a time: node/A rate = {:.3} (p50 {:.1}x, p99 {:.1}x A); node/B rate = {:.2} (p50 {:.2}x, p99 {:.2}x B)",
            r.rate / a.rate,
            ratio(r.p50, a.p50),
            ratio(r.p99, a.p99),
            r.rate / b.rate,
            ratio(r.p50, b.p50),
            ratio(r.p99, b.p99),
        );
    }
    println!(
        "node after the run: {tasks} tasks, {} bytes on disk",
        node.state.portal.tables.db.size_on_disk()?
    );
    node.stop().await?;
    Ok(())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Accepts every recipient and drops every message.
struct DropAll;

impl MailHandler for DropAll {
    fn check_recipient(&self, _rcpt: &str) -> Result<(), Refusal> {
        Ok(())
    }

    fn deliver(&self, envelope: &Envelope, _data: Vec<u8>) -> Vec<Result<(), Refusal>> {
        vec![Ok(()); envelope.recipients.len()]
    }
}

/// A plain-text message of 1–2 KiB, as sent after DATA (ends with the `.` line).
/// `run` keeps Message-IDs and contents distinct between measurements, so no
/// delivery is taken for a redelivery.
fn small_message(run: &str, i: usize, rcpt: &str) -> Vec<u8> {
    let mut m = format!(
        "From: Sender Bench <sender@client.test>\r\nTo: <{rcpt}>\r\nSubject: Bench {run} message {i}: please \
         check the numbers\r\nDate: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <{run}.{i}@client.test>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    );
    for line in 0..10 + i % 13 {
        m.push_str(&format!(
            "Line {line} of message {i} ({run}): the quarterly numbers need a second look before Friday.\r\n"
        ));
    }
    m.push_str("Thanks,\r\nSender\r\n.\r\n");
    m.into_bytes()
}

/// Sends `msgs` (round robin) over `conns` connections at once, one message at a
/// time on each.
async fn lmtp_run(addr: SocketAddr, rcpt: &str, msgs: Arc<Vec<Vec<u8>>>, conns: usize) -> Result<Stats> {
    let mut clients = Vec::with_capacity(conns);
    for _ in 0..conns {
        clients.push(Lmtp::connect(addr).await?);
    }
    let started = Instant::now();
    let mut workers = Vec::with_capacity(conns);
    for (w, mut c) in clients.into_iter().enumerate() {
        let (msgs, rcpt) = (Arc::clone(&msgs), rcpt.to_string());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(msgs.len() / conns + 1);
            for msg in msgs.iter().skip(w).step_by(conns) {
                let t = Instant::now();
                c.send(&rcpt, msg).await?;
                lat.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>((lat, c))
        }));
    }
    let mut lat = Vec::with_capacity(msgs.len());
    let mut clients = Vec::with_capacity(conns);
    for w in workers {
        let (l, c) = w.await??;
        lat.extend(l);
        clients.push(c);
    }
    let elapsed = started.elapsed();
    for c in clients {
        c.quit().await?;
    }
    lat.sort();
    let pick = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    Ok(Stats { rate: lat.len() as f64 / elapsed.as_secs_f64(), p50: pick(0.50), p99: pick(0.99) })
}

/// A node in `dir` with its LMTP listener on, and the employee Anna; returns the
/// node and Anna's secret task address.
async fn start_node(dir: &Path) -> Result<(portalnet_node::NodeHandle, String)> {
    portalnet_node::init::init(dir, DOMAIN, "127.0.0.1:0".parse()?, &SystemClock)?;
    let mut config = NodeConfig::load(dir)?;
    config.mail.lmtp_listen = Some("127.0.0.1:0".parse()?);
    // One sender makes every task here: the per-sender and per-address limits
    // (R18's flood guard, 20 and 200 an hour) would refuse all but the first.
    config.mail.tasks_per_sender = Some(u32::MAX);
    config.mail.tasks_per_address = Some(u32::MAX);
    config.save(dir)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let node =
        portalnet_node::start(dir, Arc::new(SystemClock), Some(listener), CancellationToken::new()).await?;
    let portal = &node.state.portal;
    let admin = portal.tables.users.get(&"admin".to_string())?.context("no admin user after init")?;
    let admin = portalnet_portal::actor_of(&admin);
    let anna = portal.add_user(
        &admin,
        portalnet_core::user::NewUser::new("anna", "Anna Bench", &format!("anna@{DOMAIN}"), "", false)?,
    )?;
    let anna = portalnet_portal::actor_of(&anna);
    let rec = portal.task_address(&anna)?;
    let rcpt = portal.task_address_string(&rec);
    Ok((node, rcpt))
}

/// A minimal LMTP client: strict about reply codes, pipelining the envelope.
struct Lmtp {
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    line: String,
}

impl Lmtp {
    async fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        let mut c = Self { rd: BufReader::new(rd), wr, line: String::new() };
        c.expect(220).await?;
        c.wr.write_all(b"LHLO bench.client.test\r\n").await?;
        let caps = c.expect(250).await?;
        ensure!(caps.contains("PIPELINING"), "the listener does not offer PIPELINING:\n{caps}");
        Ok(c)
    }

    /// One reply, all its lines.
    async fn reply(&mut self) -> Result<(u16, String)> {
        let mut text = String::new();
        loop {
            self.line.clear();
            if self.rd.read_line(&mut self.line).await? == 0 {
                bail!("the server closed the connection; so far: {text}");
            }
            let line = self.line.trim_end();
            let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).context("not a reply")?;
            text.push_str(line);
            text.push('\n');
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok((code, text));
            }
        }
    }

    async fn expect(&mut self, code: u16) -> Result<String> {
        let (got, text) = self.reply().await?;
        ensure!(got == code, "expected {code}, got {text}");
        Ok(text)
    }

    /// MAIL and RCPT in one write; returns after both are accepted.
    async fn envelope(&mut self, rcpt: &str) -> Result<()> {
        let cmds = format!("MAIL FROM:<sender@client.test>\r\nRCPT TO:<{rcpt}>\r\n");
        self.wr.write_all(cmds.as_bytes()).await?;
        self.expect(250).await?;
        self.expect(250).await?;
        Ok(())
    }

    /// DATA, then `wire` (the message with its end marker) after the 354; returns
    /// when the last byte was handed to the socket and when the 250 came.
    async fn data(&mut self, wire: &[u8]) -> Result<(Duration, Duration)> {
        let t = Instant::now();
        self.wr.write_all(b"DATA\r\n").await?;
        self.expect(354).await?;
        self.wr.write_all(wire).await?;
        let sent = t.elapsed();
        self.expect(250).await?;
        Ok((sent, t.elapsed()))
    }

    /// One message: MAIL, RCPT and DATA pipelined, then the message.
    async fn send(&mut self, rcpt: &str, wire: &[u8]) -> Result<()> {
        let cmds = format!("MAIL FROM:<sender@client.test>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n");
        self.wr.write_all(cmds.as_bytes()).await?;
        self.expect(250).await?;
        self.expect(250).await?;
        self.expect(354).await?;
        self.wr.write_all(wire).await?;
        self.expect(250).await?;
        Ok(())
    }

    async fn quit(mut self) -> Result<()> {
        self.wr.write_all(b"QUIT\r\n").await?;
        self.expect(221).await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// One big message, each measurement in a fresh process

fn big() -> Result<()> {
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for (mode, env, name) in BIG_MODES {
        let mut cmd = std::process::Command::new(&exe);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd
            .env(CHILD_ENV, mode)
            .stderr(std::process::Stdio::inherit())
            .output()
            .with_context(|| format!("running the `{mode}` measurement"))?;
        ensure!(out.status.success(), "the `{mode}` measurement failed ({})", out.status);
        let vals: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("bench."))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        rows.push((name, vals));
    }
    let num = |v: &HashMap<String, String>, k: &str| -> f64 {
        v.get(k).and_then(|s| s.parse().ok()).unwrap_or(f64::NAN)
    };
    let first = &rows[0].1;
    let (size, file) = (num(first, "message_bytes"), num(first, "attachment_bytes"));
    println!(
        "one big message: {size:.0} bytes (limit {}), one base64 attachment of {file:.0} bytes; each row in a fresh process",
        ListenerConfig::DEFAULT_MAX_MESSAGE_BYTES
    );
    println!(
        "{:<30} {:>9} {:>9} {:>10} {:>12} {:>8} {:>10} {:>8}",
        "measurement", "wall", "sent", "MB/s", "peak growth", "x msg", "RSS growth", "x msg"
    );
    let mb = |b: f64| b / 1e6;
    for (name, v) in &rows {
        let (wall, sent) = (num(v, "wall_secs"), num(v, "sent_secs"));
        let sent = if sent.is_nan() { "-".to_string() } else { format!("{:.3}s", sent) };
        let (peak, rss) = (num(v, "hwm_growth"), num(v, "rss_growth"));
        println!(
            "{name:<30} {:>8.3}s {sent:>9} {:>10.1} {:>9.1} MB {:>8.2} {:>7.1} MB {:>8.2}",
            wall,
            mb(size) / wall,
            mb(peak),
            peak / size,
            mb(rss),
            rss / size
        );
    }
    println!();
    println!(
        "wall: node and session rows from writing DATA to the 250 (sent: until the last byte was written); \
         parse and store rows: that step alone; MB/s and x msg are against the whole message in every row"
    );
    println!(
        "fixed mmap threshold: MALLOC_MMAP_THRESHOLD_=131072 (glibc) keeps every large buffer its own mapping, \
         unmapped when freed; the difference to the row above is malloc keeping freed memory, not live data"
    );
    let resets: Vec<&str> =
        rows.iter().map(|(_, v)| v.get("peak_reset").map(String::as_str).unwrap_or("?")).collect();
    if resets.iter().all(|r| *r == "yes") {
        println!(
            "peak growth: VmHWM after - VmHWM right after resetting it (\"5\" > /proc/self/clear_refs), so the \
             message's own peak; RSS growth: VmRSS after - before (what stays resident)"
        );
    } else {
        println!(
            "peak growth: the peak could NOT be reset through /proc/self/clear_refs ({resets:?}); growth is \
             VmHWM after - VmHWM before, which understates the message's peak when an earlier peak was higher"
        );
    }
    Ok(())
}

/// Resident memory now and at its peak, in bytes.
struct Mem {
    rss: u64,
    hwm: u64,
}

fn mem() -> Result<Mem> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let field = |name: &str| -> Result<u64> {
        let value =
            status.lines().find_map(|l| l.strip_prefix(name)).with_context(|| format!("no {name}"))?;
        let kb: u64 = value.trim().trim_end_matches("kB").trim().parse()?;
        Ok(kb * 1024)
    };
    Ok(Mem { rss: field("VmRSS:")?, hwm: field("VmHWM:")? })
}

/// Resets the peak to the current resident size; false if the kernel refused.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The big message (with its end marker, ready to send) and its attachment's size.
/// Built in place, line by line: no large buffer is freed before the measurement,
/// so none can be reused unseen during it.
fn big_message(rcpt: &str) -> (Vec<u8>, usize) {
    let head = format!(
        "From: Sender Bench <sender@client.test>\r\nTo: <{rcpt}>\r\nSubject: The scans, all of them\r\n\
         Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <big.1@client.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"=_bench_boundary\"\r\n\r\n--=_bench_boundary\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nThe scans are attached.\r\n--=_bench_boundary\r\n\
         Content-Type: application/octet-stream; name=\"scans.bin\"\r\nContent-Disposition: attachment; \
         filename=\"scans.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    );
    let tail = "--=_bench_boundary--\r\n";
    // 57 bytes make one 76-character base64 line.
    let lines = (BIG_MESSAGE_BYTES - head.len() - tail.len()) / 78;
    let mut wire = Vec::with_capacity(head.len() + lines * 78 + tail.len() + 3);
    wire.extend_from_slice(head.as_bytes());
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut chunk = [0u8; 57];
    let mut encoded = [0u8; 76];
    for _ in 0..lines {
        for b in &mut chunk {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        let len =
            base64::engine::general_purpose::STANDARD.encode_slice(chunk, &mut encoded).expect("76 bytes");
        wire.extend_from_slice(&encoded[..len]);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(tail.as_bytes());
    wire.extend_from_slice(b".\r\n");
    (wire, lines * 57)
}

/// One big-message measurement in this (fresh) process; prints `bench.key=value` lines.
fn big_child(mode: &str) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let rt = runtime()?;
    let mut out: Vec<(&str, String)> = Vec::new();
    let (before, after, reset) = match mode {
        "node" => rt.block_on(async {
            let (node, rcpt) = start_node(&tmp.path().join("alpha")).await?;
            let (wire, file) = big_message(&rcpt);
            let mut c = Lmtp::connect(node.lmtp_addr.context("no LMTP listener")?).await?;
            c.envelope(&rcpt).await?;
            let before = mem()?;
            let reset = reset_peak();
            let before_hwm = mem()?.hwm;
            let (sent, wall) = c.data(&wire).await?;
            let after = mem()?;
            let portal = &node.state.portal;
            let (_, task) = portal.tables.tasks.iter().next().context("no task made")??;
            ensure!(portal.tables.tasks.len() == 1, "{} tasks", portal.tables.tasks.len());
            let stored = task.files.first().map(|f| f.size).unwrap_or(0);
            ensure!(stored == file as u64, "the task holds a file of {stored} bytes, not {file}");
            out.push(("message_bytes", (wire.len() - 3).to_string()));
            out.push(("attachment_bytes", file.to_string()));
            out.push(("sent_secs", sent.as_secs_f64().to_string()));
            out.push(("wall_secs", wall.as_secs_f64().to_string()));
            c.quit().await?;
            node.stop().await?;
            Ok::<_, anyhow::Error>((Mem { rss: before.rss, hwm: before_hwm }, after, reset))
        })?,
        "session" => rt.block_on(async {
            let cancel = CancellationToken::new();
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let config = ListenerConfig::new(Protocol::Lmtp, "bench");
            let server =
                tokio::spawn(portalnet_inbound::serve(listener, config, Arc::new(DropAll), cancel.clone()));
            let rcpt = format!("task+{}@{DOMAIN}", "0".repeat(32));
            let (wire, _) = big_message(&rcpt);
            let mut c = Lmtp::connect(addr).await?;
            c.envelope(&rcpt).await?;
            let before = mem()?;
            let reset = reset_peak();
            let before_hwm = mem()?.hwm;
            let (sent, wall) = c.data(&wire).await?;
            let after = mem()?;
            out.push(("sent_secs", sent.as_secs_f64().to_string()));
            out.push(("wall_secs", wall.as_secs_f64().to_string()));
            c.quit().await?;
            cancel.cancel();
            server.await?;
            Ok::<_, anyhow::Error>((Mem { rss: before.rss, hwm: before_hwm }, after, reset))
        })?,
        "parse" | "parse_owned" => {
            let (wire, file) = big_message("x@y.z");
            let mut raw = wire;
            raw.truncate(raw.len() - 3);
            let before = mem()?;
            let reset = reset_peak();
            let before_hwm = mem()?.hwm;
            let t = Instant::now();
            // parse: mail-parser on a borrowed message. parse_owned: what the node
            // does, the message given away and its file decoded inside it.
            let msg = if mode == "parse" {
                portalnet_inbound::parse(&raw)?
            } else {
                portalnet_inbound::parse_owned(std::mem::take(&mut raw))?
            };
            let wall = t.elapsed();
            let after = mem()?;
            let got = msg.attachments.first().map(|a| a.bytes.len()).unwrap_or(0);
            ensure!(got == file, "parsed an attachment of {got} bytes, not {file}");
            out.push(("wall_secs", wall.as_secs_f64().to_string()));
            drop(msg);
            (Mem { rss: before.rss, hwm: before_hwm }, after, reset)
        }
        "store" => {
            // Kept alive like in the other rows: freeing it would change how malloc serves the value.
            let (_wire, file) = big_message("x@y.z");
            let db = Db::open(&tmp.path().join("raw"))?;
            let tree = db.tree("file_blobs")?;
            let value: Vec<u8> = (0..file).map(|i| (i * 7 + i / 4096) as u8).collect();
            let before = mem()?;
            let reset = reset_peak();
            let before_hwm = mem()?.hwm;
            let t = Instant::now();
            db.write(|tx| {
                tx.insert(&tree, b"task/1/file/1", value);
                Ok::<_, StoreError>(())
            })?;
            db.sync()?;
            let wall = t.elapsed();
            let after = mem()?;
            out.push(("wall_secs", wall.as_secs_f64().to_string()));
            (Mem { rss: before.rss, hwm: before_hwm }, after, reset)
        }
        "blob" => {
            // What the node does with a file since issue 12: a synced file beside the database.
            let (_wire, file) = big_message("x@y.z");
            let blobs = portalnet_store::BlobStore::open(&tmp.path().join("blobs"))?;
            let value: Vec<u8> = (0..file).map(|i| (i * 7 + i / 4096) as u8).collect();
            let before = mem()?;
            let reset = reset_peak();
            let before_hwm = mem()?.hwm;
            let t = Instant::now();
            blobs.put(&value)?;
            let wall = t.elapsed();
            let after = mem()?;
            out.push(("wall_secs", wall.as_secs_f64().to_string()));
            (Mem { rss: before.rss, hwm: before_hwm }, after, reset)
        }
        other => bail!("unknown {CHILD_ENV} mode `{other}`"),
    };
    out.push(("peak_reset", if reset { "yes" } else { "no" }.to_string()));
    out.push(("hwm_growth", after.hwm.saturating_sub(before.hwm).to_string()));
    out.push(("rss_growth", (after.rss as i64 - before.rss as i64).to_string()));
    for (k, v) in out {
        println!("bench.{k}={v}");
    }
    Ok(())
}
