//! Files outside the database, streamed (issue 12, point 6), against real
//! `portald` processes: a mail-borne 18 MB file downloads through `portalctl`,
//! byte for byte; an upload one byte past the limit is refused and leaves no
//! blob; the node's memory stays bounded storing many large files; and SIGKILL
//! during uploads loses no acknowledged file and leaves no orphan blob.

use portalnet_proto::v1 as pb;
use portalnet_tests::mailnode::{MailNode, Via};
use portalnet_tests::{Clients, Node, Process, ctl, new_task};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::Path;
use tonic::Code;

/// The one per-file limit (R19).
const LIMIT: usize = portalnet_core::limits::MAX_FILE_BYTES as usize;
const CHUNK: usize = 64 * 1024;

/// Bytes that differ everywhere (a misplaced chunk shows), from a seed.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Streams `len` bytes of `pattern(len, seed)` to task `task` as `name`; the chunks
/// are made as they are sent, so the test holds no more than the node should.
async fn upload(
    c: &Clients,
    task: u64,
    name: &str,
    len: usize,
    seed: u64,
) -> Result<pb::FileInfo, tonic::Status> {
    let bytes = pattern(len, seed);
    let mut msgs = vec![pb::UploadFileRequest {
        part: Some(pb::upload_file_request::Part::Meta(pb::UploadFileMeta {
            task_id: task,
            name: name.into(),
            content_type: String::new(),
        })),
    }];
    msgs.extend(
        bytes
            .chunks(CHUNK)
            .map(|c| pb::UploadFileRequest { part: Some(pb::upload_file_request::Part::Chunk(c.to_vec())) }),
    );
    let mut c = c.clone();
    c.tasks.upload_file(tokio_stream::iter(msgs)).await.map(tonic::Response::into_inner)
}

/// Downloads a file through the streamed call: its record and its bytes.
async fn download(c: &Clients, task: u64, file: u64) -> Result<(pb::FileInfo, Vec<u8>), tonic::Status> {
    use pb::download_file_response::Part;
    let mut c = c.clone();
    let mut s =
        c.tasks.download_file(pb::GetFileRequest { task_id: task, file_id: file }).await?.into_inner();
    let mut info = None;
    let mut bytes = Vec::new();
    while let Some(m) = s.message().await? {
        match m.part {
            Some(Part::Info(i)) => info = Some(i),
            Some(Part::Chunk(b)) => {
                assert!(b.len() <= CHUNK, "chunks of at most 64 KiB");
                bytes.extend_from_slice(&b)
            }
            None => {}
        }
    }
    Ok((info.expect("the file's record first"), bytes))
}

/// A message as a mail client writes it: text and one base64 attachment, CRLF.
fn mail_with_attachment(to: &str, subject: &str, name: &str, file: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(file);
    let mut m = format!(
        "From: a@example.org\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nattached\r\n\
         --b1\r\nContent-Type: application/octet-stream; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    for line in b64.as_bytes().chunks(76) {
        m.extend_from_slice(line);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(b"--b1--\r\n");
    m
}

/// What a process holds in memory now, and at most since the last reset (bytes).
fn mem(pid: u32) -> (u64, u64) {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |field: &str| -> u64 {
        s.lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
            * 1024
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

/// Starts the peak (VmHWM) afresh at the current RSS.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn pid(p: &Process) -> u32 {
    p.child.as_ref().expect("running").id()
}

/// The blobs in a data folder, and its temporary blob files.
fn blobs_on_disk(dir: &Path) -> (BTreeSet<String>, usize) {
    let root = dir.join("blobs");
    let mut blobs = BTreeSet::new();
    for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name == "tmp" || !e.path().is_dir() {
            continue;
        }
        for b in std::fs::read_dir(e.path()).into_iter().flatten().flatten() {
            blobs.insert(b.file_name().to_string_lossy().to_string());
        }
    }
    let tmp = std::fs::read_dir(root.join("tmp")).map(|d| d.count()).unwrap_or(0);
    (blobs, tmp)
}

/// The SHA-256 of every non-empty file of every task the admin sees.
async fn named_blobs(admin: &Clients) -> BTreeSet<String> {
    let mut a = admin.clone();
    let tasks = a.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks;
    tasks.iter().flat_map(|t| t.files.iter()).filter(|f| f.size > 0).map(|f| f.sha256.clone()).collect()
}

/// A mail-borne 18 MB file (a 24.6 MB message) downloads through the API with
/// `portalctl task download`, byte for byte; the node's peak memory accepting
/// the message is printed against the message's size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_borne_18mb_file_downloads_through_portalctl() {
    let m = MailNode::start("alpha.test", None).await.unwrap();
    let token = m.employee("anna", "Anna Nowak").await.unwrap();
    let anna = m.node.clients(&token).await.unwrap();
    let addr = m.task_address(&token);
    let dir = tempfile::tempdir().unwrap();
    let file = pattern(18_000_000, 18);
    let message = dir.path().join("message.eml");
    let eml = mail_with_attachment(&addr, "Plans", "plan.bin", &file);
    std::fs::write(&message, &eml).unwrap();
    let message_bytes = eml.len() as u64;
    assert!(message_bytes > 24_000_000, "a 24 MB message: {message_bytes}");
    drop(eml);
    let node = pid(&m.node);
    let (rss_before, _) = mem(node);
    reset_peak(node);
    let (code, t) = m
        .swaks(
            Via::Lmtp,
            &[
                "--from",
                "a@example.org",
                "--to",
                &addr,
                "--data",
                &format!("@{}", message.display()),
                "--suppress-data",
            ],
        )
        .await;
    assert_eq!(code, 0, "{t}");
    let (rss_after, peak) = mem(node);
    let growth = peak.saturating_sub(rss_before);
    let ratio = growth as f64 / message_bytes as f64;
    eprintln!(
        "accepting a {message_bytes}-byte mail: RSS {rss_before} -> peak {peak} (+{growth}, {ratio:.2}x the message), {rss_after} after"
    );
    let mut c = anna.clone();
    let tasks = c.tasks.list_tasks(pb::ListTasksRequest::default()).await.unwrap().into_inner().tasks;
    let task = tasks.iter().find(|t| t.title == "Plans").expect("the task the mail made");
    let f = &task.files[0];
    assert_eq!((f.size, f.sha256.as_str()), (file.len() as u64, sha(&file).as_str()));

    // Through portalctl: streamed, written as it comes, checked against the SHA-256.
    let out = dir.path().join("got.bin");
    let o = ctl(
        &m.node,
        &token,
        &["task", "download", &task.id.to_string(), &f.id.to_string(), "--out", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(&out).unwrap() == file, "the download is the mailed file, byte for byte");
    // The deprecated whole-file call refuses it, naming the streamed one.
    let e = c.tasks.get_file(pb::GetFileRequest { task_id: task.id, file_id: f.id }).await.unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(e.message().contains("DownloadFile"), "{e:?}");
    // One blob, named by the file.
    let (blobs, tmp) = blobs_on_disk(&m.node.dir);
    assert_eq!((blobs, tmp), (BTreeSet::from([f.sha256.clone()]), 0));
    // The attachment is decoded inside the received message and stored from
    // there (portalnet_inbound::parse_owned): about 1.0x here; 1.73x when
    // mail-parser decoded a copy, 2.6x before the blob store. Issue 12: <= 1.5x.
    assert!(ratio <= 1.5, "peak memory accepting the mail: {ratio:.2}x the message");
}

/// The limit: exactly 25 MiB streams in through `portalctl task attach` and back
/// out; one byte more is refused with INVALID_ARGUMENT naming the limit, and
/// nothing of it stays (no blob, no temporary file, no file on the task).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_stream_up_to_the_limit_and_one_byte_more_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let node = Process::init_and_run(&tmp.path().join("alpha.test"), "alpha.test").await.unwrap();
    let token = node.admin_token();
    let admin = node.clients(&token).await.unwrap();
    let mut a = admin.clone();
    let t = a.tasks.create_task(new_task("Files", "", &[])).await.unwrap().into_inner();

    let exact = pattern(LIMIT, 25);
    let path = tmp.path().join("exact.bin");
    std::fs::write(&path, &exact).unwrap();
    let o = ctl(&node, &token, &["--json", "task", "attach", &t.id.to_string(), path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(info["size"], LIMIT as u64, "{info}");
    let (got_info, got) = download(&admin, t.id, info["id"].as_u64().unwrap()).await.unwrap();
    assert_eq!(got_info.sha256, sha(&exact));
    assert!(got == exact, "25 MiB back, byte for byte");
    let before = blobs_on_disk(&node.dir);

    let e = upload(&admin, t.id, "big.bin", LIMIT + 1, 26).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains(&LIMIT.to_string()), "names the limit: {e:?}");
    assert_eq!(blobs_on_disk(&node.dir), before, "no blob, no temporary file left");
    let files = a.tasks.get_task(pb::GetTaskRequest { id: t.id }).await.unwrap().into_inner().files;
    assert_eq!(files.len(), 1);

    // portalctl refuses a larger file before sending it.
    let over = tmp.path().join("over.bin");
    std::fs::write(&over, pattern(LIMIT + 1, 27)).unwrap();
    let o = ctl(&node, &token, &["task", "attach", &t.id.to_string(), over.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("26214400"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Identical content is stored once; an upload that names no task first is refused.
    let again = ctl(
        &node,
        &token,
        &["task", "attach", &t.id.to_string(), path.to_str().unwrap(), "--name", "copy.bin"],
    );
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(blobs_on_disk(&node.dir), before, "deduplicated");
    let mut c = admin.clone();
    let chunk_first =
        vec![pb::UploadFileRequest { part: Some(pb::upload_file_request::Part::Chunk(vec![1, 2, 3])) }];
    let e = c.tasks.upload_file(tokio_stream::iter(chunk_first)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
}

/// Ten files of 20 MB go in and come out again: the node's memory does not
/// grow with them (it held them in its database cache before: 34 mails of 24 MB
/// took it from 21 MB to 721 MB).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_stays_bounded_storing_many_large_files() {
    const N: usize = 10;
    const SIZE: usize = 20_000_000;
    let tmp = tempfile::tempdir().unwrap();
    let node = Process::init_and_run(&tmp.path().join("alpha.test"), "alpha.test").await.unwrap();
    let admin = node.clients(&node.admin_token()).await.unwrap();
    let mut a = admin.clone();
    let t = a.tasks.create_task(new_task("Big files", "", &[])).await.unwrap().into_inner();
    // Warm up (TLS, first allocations) before the baseline.
    upload(&admin, t.id, "warm.bin", 1_000_000, 999).await.unwrap();
    let p = pid(&node);
    let (rss_before, _) = mem(p);
    let mut ids = Vec::new();
    for i in 0..N {
        let f = upload(&admin, t.id, &format!("f{i}.bin"), SIZE, i as u64).await.unwrap();
        assert_eq!(f.size, SIZE as u64);
        ids.push(f.id);
    }
    for (i, id) in ids.iter().enumerate() {
        let (info, bytes) = download(&admin, t.id, *id).await.unwrap();
        assert_eq!(info.sha256, sha(&pattern(SIZE, i as u64)), "file {i}");
        assert_eq!(sha(&bytes), info.sha256);
    }
    let (rss_after, peak) = mem(p);
    let growth = rss_after.saturating_sub(rss_before);
    let total = (N * SIZE) as u64;
    eprintln!(
        "{N} x {SIZE} bytes stored and read back: RSS {rss_before} -> {rss_after} (+{growth}, {:.3}x of {total}); peak {peak}",
        growth as f64 / total as f64
    );
    assert!(growth < total / 8, "RSS grew by {growth} storing {total} bytes of files");
}

/// SIGKILL during concurrent uploads, five rounds: after each restart every
/// acknowledged file downloads intact, and the blob folder holds exactly the
/// blobs the tasks name (orphans of uploads cut short are gone, no temporary files).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_uploads_keeps_every_acknowledged_file_and_no_orphan() {
    const WRITERS: u64 = 6;
    const ROUNDS: u64 = 5;
    let tmp = tempfile::tempdir().unwrap();
    let mut node = Process::init_and_run(&tmp.path().join("alpha.test"), "alpha.test").await.unwrap();
    let token = node.admin_token();
    let mut acked: Vec<(u64, u64, String)> = Vec::new();
    for round in 0..ROUNDS {
        let admin = node.clients(&token).await.unwrap();
        let mut a = admin.clone();
        let t = a.tasks.create_task(new_task(&format!("Round {round}"), "", &[])).await.unwrap().into_inner();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut writers = tokio::task::JoinSet::new();
        for w in 0..WRITERS {
            let (admin, tx) = (admin.clone(), tx.clone());
            writers.spawn(async move {
                for i in 0u64.. {
                    let seed = round * 1_000_000 + w * 1000 + i;
                    // 0.2 to 3 MB, different each time.
                    let len = 200_000 + (seed.wrapping_mul(2_654_435_761) % 2_800_000) as usize;
                    match upload(&admin, t.id, &format!("w{w}-{i}.bin"), len, seed).await {
                        Ok(f) => {
                            if tx.send((t.id, f.id, sha(&pattern(len, seed)), f.sha256)).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            // The kill cuts it (a transport error); nothing else should.
                            assert!(
                                matches!(e.code(), Code::Unknown | Code::Unavailable | Code::Cancelled),
                                "round {round} writer {w}: upload {i} refused: {e:?}"
                            );
                            return;
                        }
                    }
                }
            });
        }
        drop(tx);
        // Once this round has acknowledged uploads, kill at a moment that depends on
        // the clock: some uploads acknowledged, others half sent.
        let mut this_round = 0;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
        while this_round < 2 {
            let got =
                tokio::time::timeout_at(deadline, rx.recv()).await.expect("uploads acknowledged in time");
            let (task, file, want, said) = got.expect("writers still uploading");
            assert_eq!(want, said, "the node recorded what was sent");
            acked.push((task, file, want));
            this_round += 1;
        }
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let delay = u64::from(nanos % 500);
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        node.kill().unwrap();
        while writers.join_next().await.is_some() {}
        while let Some((task, file, want, said)) = rx.recv().await {
            assert_eq!(want, said, "the node recorded what was sent");
            acked.push((task, file, want));
        }
        node.run().await.unwrap();
        let admin = node.clients(&token).await.unwrap();
        for (task, file, want) in &acked {
            let (info, bytes) = download(&admin, *task, *file).await.unwrap_or_else(|e| {
                panic!("round {round}: acknowledged file {file} of task {task} is lost: {e:?}")
            });
            assert_eq!(&info.sha256, want);
            assert_eq!(&sha(&bytes), want, "round {round}: file {file} intact");
        }
        let named = named_blobs(&admin).await;
        let (on_disk, temporary) = blobs_on_disk(&node.dir);
        assert_eq!(temporary, 0, "round {round}: temporary files removed at start");
        assert_eq!(on_disk, named, "round {round}: exactly the named blobs are stored (no orphans)");
        eprintln!(
            "round {round}: killed {delay} ms after the round's 2nd ack; {} acknowledged files so far, all intact",
            acked.len()
        );
    }
    // Uploads cut by the kills left something to clean at some start (a
    // temporary blob or an orphan), and the start cleaned it.
    let log = std::fs::read_to_string(&node.log).unwrap_or_default();
    assert!(log.contains("blob store cleaned at start"), "no start found anything to clean");
}
