//! `task ...`: tasks, comments, attachments and history.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use portalnet_proto::v1::{
    AddCommentRequest, CreateTaskRequest, DownloadFileResponse, GetFileRequest, GetTaskRequest,
    HistoryRequest, InfoRequest, ListCommentsRequest, ListTasksRequest, LoginList, SetStatusRequest,
    UpdateTaskRequest, UploadFileMeta, UploadFileRequest, upload_file_request::Part,
};
use sha2::{Digest, Sha256};

use crate::args::{TaskCmd, split_logins};
use crate::client::Conn;
use crate::commands::portal::human_bytes;
use crate::mime;
use crate::output::Output;
use crate::paging::{self, PageArgs};
use crate::table::{Table, clean, clean_multiline, key_values};
use crate::views::{CommentView, DownloadView, FileView, HistoryView, TaskDetailView, TaskView, VerifyView};

/// Bytes per upload message (the portal stores them as they come).
const CHUNK_BYTES: usize = 64 * 1024;

pub async fn run(conn: &Conn, cmd: TaskCmd, out: &Output) -> Result<()> {
    match cmd {
        TaskCmd::Create { title, description, responsible, accomplices, observers, deadline, group } => {
            let req = CreateTaskRequest {
                title,
                description,
                responsible: responsible.unwrap_or_default(),
                accomplices,
                observers,
                deadline: deadline.unwrap_or(0),
                group_id: group.unwrap_or(0),
            };
            let task = conn.tasks().create_task(req).await?.into_inner();
            out.show(&TaskView::from(task), task_block)
        }
        TaskCmd::List { status, responsible, group, pages, all } => {
            let pages = PageArgs { all_pages: pages.all_pages || all, ..pages };
            let tasks = paging::fetch(pages, "tasks", |page_size, page_token| {
                let req = ListTasksRequest {
                    status: status.map_or(0, |s| s as i32),
                    responsible: responsible.clone().unwrap_or_default(),
                    group_id: group.unwrap_or(0),
                    page_size,
                    page_token,
                };
                let mut client = conn.tasks();
                async move {
                    let r = client.list_tasks(req).await?.into_inner();
                    Ok((r.tasks, r.next_page_token))
                }
            })
            .await?;
            let views: Vec<TaskView> = tasks.into_iter().map(TaskView::from).collect();
            out.show(&views, |v| task_table(v))
        }
        TaskCmd::Show { id } => {
            let mut tasks = conn.tasks();
            let task = tasks.get_task(GetTaskRequest { id }).await?.into_inner();
            let every = PageArgs { all_pages: true, ..PageArgs::default() };
            let comments = paging::fetch(every, "comments", |page_size, page_token| {
                let mut client = conn.tasks();
                async move {
                    let req = ListCommentsRequest { task_id: id, page_size, page_token };
                    let r = client.list_comments(req).await?.into_inner();
                    Ok((r.comments, r.next_page_token))
                }
            })
            .await?;
            let view = TaskDetailView {
                task: TaskView::from(task),
                comments: comments.into_iter().map(CommentView::from).collect(),
            };
            out.show(&view, task_detail)
        }
        TaskCmd::Update {
            id,
            title,
            description,
            responsible,
            accomplices,
            observers,
            deadline,
            clear_deadline,
            group,
            no_group,
        } => {
            let req = UpdateTaskRequest {
                id,
                title,
                description,
                responsible,
                accomplices: accomplices.map(|s| LoginList { logins: split_logins(&s) }),
                observers: observers.map(|s| LoginList { logins: split_logins(&s) }),
                deadline: if clear_deadline { -1 } else { deadline.unwrap_or(0) },
                group_id: group.unwrap_or(0),
                clear_group: no_group,
            };
            let task = conn.tasks().update_task(req).await?.into_inner();
            out.show(&TaskView::from(task), task_block)
        }
        TaskCmd::Status { id, status } => {
            let req = SetStatusRequest { id, status: status as i32 };
            let task = conn.tasks().set_status(req).await?.into_inner();
            out.show(&TaskView::from(task), |t| {
                if t.pending.iter().any(|p| p.state == "pending") {
                    format!(
                        "task {} is {}; the change waits for its home portal {}\n",
                        t.id,
                        t.status,
                        t.home.as_deref().unwrap_or("")
                    )
                } else {
                    format!("task {} is now {}\n", t.id, t.status)
                }
            })
        }
        TaskCmd::Comment { id, text } => {
            let comment =
                conn.tasks().add_comment(AddCommentRequest { task_id: id, text }).await?.into_inner();
            out.show(&CommentView::from(comment), |c| {
                if c.pending {
                    format!(
                        "comment sent to the home portal of task {}; it appears once applied\n",
                        c.task_id
                    )
                } else {
                    format!("comment {} added to task {}\n", c.id, c.task_id)
                }
            })
        }
        TaskCmd::Attach { id, path, name, content_type } => {
            attach(conn, id, &path, name, content_type, out).await
        }
        TaskCmd::Download { id, file_id, out: path, force } => {
            download(conn, id, file_id, path, force, out).await
        }
        TaskCmd::History { id, verify: true } => {
            let v = conn
                .tasks()
                .verify_history(HistoryRequest { task_id: id, ..Default::default() })
                .await?
                .into_inner();
            let view = VerifyView::from(v);
            out.show(&view, verify_block)?;
            if !view.ok {
                bail!("the history of task {id} does not verify");
            }
            Ok(())
        }
        TaskCmd::History { id, verify: false } => {
            // Every page: refusals come with each page, so keep them once.
            let every = PageArgs { all_pages: true, ..PageArgs::default() };
            let refusals = std::cell::RefCell::new(Vec::new());
            let entries = paging::fetch(every, "history entries", |page_size, page_token| {
                let mut client = conn.tasks();
                let refusals = &refusals;
                async move {
                    let req = HistoryRequest { task_id: id, page_size, page_token };
                    let r = client.history(req).await?.into_inner();
                    *refusals.borrow_mut() = r.refusals;
                    Ok((r.entries, r.next_page_token))
                }
            })
            .await?;
            let mut views: Vec<HistoryView> = entries.into_iter().map(HistoryView::from).collect();
            views.extend(refusals.into_inner().into_iter().map(HistoryView::from));
            // A refusal follows the version it refused (stable: entries first).
            views.sort_by_key(|v| v.version);
            out.show(&views, |v| history_table(v))
        }
    }
}

async fn max_file_bytes(conn: &Conn) -> Result<u64> {
    Ok(conn.portal().info(InfoRequest {}).await?.into_inner().max_file_bytes)
}

async fn attach(
    conn: &Conn,
    task_id: u64,
    path: &Path,
    name: Option<String>,
    content_type: Option<String>,
    out: &Output,
) -> Result<()> {
    let name = match name {
        Some(n) => n,
        None => path
            .file_name()
            .and_then(|n| n.to_str())
            .map(String::from)
            .ok_or_else(|| anyhow!("cannot take a file name from {}; pass --name", path.display()))?,
    };
    let content_type = content_type.unwrap_or_else(|| mime::guess(&name).to_string());
    // Open before asking the portal, so a typo in the path fails without a round trip;
    // the size comes from the open handle, so it is the file we will read.
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let meta = file.metadata().with_context(|| format!("cannot inspect {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    let size = meta.len();
    let limit = max_file_bytes(conn).await?;
    if limit > 0 && size > limit {
        bail!(
            "{} is {} but the portal accepts files up to {}",
            path.display(),
            human_bytes(size),
            human_bytes(limit)
        );
    }
    // Streamed: one message naming the task and file, then chunks read from the
    // file as they are sent, hashed on the way so the portal's record can be checked.
    let (tx, rx) = tokio::sync::mpsc::channel::<UploadFileRequest>(4);
    let first = UploadFileRequest { part: Some(Part::Meta(UploadFileMeta { task_id, name, content_type })) };
    tx.send(first).await.map_err(|_| anyhow!("the upload ended before it started"))?;
    let shown = path.display().to_string();
    let reading = send_chunks(tokio::fs::File::from_std(file), &tx, limit, &shown);
    let mut tasks = conn.tasks();
    let call = tasks.upload_file(tokio_stream::wrappers::ReceiverStream::new(rx));
    // Declared after `tx`, so an error return drops the call (cancelling the
    // upload: the portal keeps nothing) before the stream could end normally.
    tokio::pin!(call);
    let (sent, sha) = tokio::select! {
        read = reading => read?,
        // The portal answered before the whole file was sent: it refused it.
        answer = &mut call => {
            answer?;
            bail!("the portal answered before {} was sent", path.display());
        }
    };
    drop(tx);
    let info = call.await?.into_inner();
    if !info.pending && (info.size != sent || !info.sha256.eq_ignore_ascii_case(&sha)) {
        bail!(
            "the portal recorded {} bytes (SHA-256 {}); sent {sent} bytes (SHA-256 {sha})",
            info.size,
            info.sha256
        );
    }
    out.show(&FileView::from(info), |f| {
        format!("attached file {} '{}' ({}) to task {task_id}\n", f.id, f.name, human_bytes(f.size))
    })
}

/// Sends the file's bytes as upload chunks; its size and SHA-256 as sent. Refuses
/// a file that grows past `limit` (0: none) while being read.
async fn send_chunks(
    mut file: tokio::fs::File,
    tx: &tokio::sync::mpsc::Sender<UploadFileRequest>,
    limit: u64,
    shown: &str,
) -> Result<(u64, String)> {
    use tokio::io::AsyncReadExt as _;
    let mut hasher = Sha256::new();
    let mut sent = 0u64;
    loop {
        let mut buf = vec![0u8; CHUNK_BYTES];
        let n = file.read(&mut buf).await.with_context(|| format!("cannot read {shown}"))?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        sent += n as u64;
        if limit > 0 && sent > limit {
            bail!("{shown} grew past the portal's limit of {} while being read", human_bytes(limit));
        }
        hasher.update(&buf);
        let chunk = UploadFileRequest { part: Some(Part::Chunk(buf)) };
        if tx.send(chunk).await.is_err() {
            // The call ended (the portal answered): its answer says why.
            break;
        }
    }
    Ok((sent, hex(&hasher.finalize())))
}

async fn download(
    conn: &Conn,
    task_id: u64,
    file_id: u64,
    path: Option<PathBuf>,
    force: bool,
    out: &Output,
) -> Result<()> {
    use portalnet_proto::v1::download_file_response::Part as Down;
    // An --out that is a directory receives the file under its own name.
    let (dir, explicit) = match path {
        Some(p) if p.is_dir() => (p, None),
        Some(p) => (PathBuf::new(), Some(p)),
        None => (PathBuf::new(), None),
    };
    if let Some(p) = &explicit
        && !force
        && p.exists()
    {
        bail!("{} already exists; pass --force to overwrite it", p.display());
    }
    // Streamed: the file's record first, then chunks written as they arrive.
    let mut stream = conn.tasks().download_file(GetFileRequest { task_id, file_id }).await?.into_inner();
    let info = match stream.message().await? {
        Some(DownloadFileResponse { part: Some(Down::Info(info)) }) => info,
        _ => bail!("the portal sent file {file_id} without its metadata"),
    };
    let path =
        match explicit {
            Some(p) => p,
            None => dir.join(safe_file_name(&info.name).ok_or_else(|| {
                anyhow!("the file's name '{}' is not usable here; pass --out PATH", info.name)
            })?),
        };
    let mut file = create_file(&path, force)?;
    let received = receive_chunks(&mut stream, &mut file, &info, file_id).await;
    let bytes = match received {
        Ok(n) => n,
        Err(e) => {
            // Nothing half-written stays under the file's name.
            drop(file);
            let _ = std::fs::remove_file(&path);
            return Err(e.context(format!("{} removed", path.display())));
        }
    };
    let view = DownloadView { file: FileView::from(info), path: path.display().to_string(), bytes };
    out.show(&view, |d| format!("saved '{}' ({}) to {}\n", d.file.name, human_bytes(d.bytes), d.path))
}

/// Writes the chunks of a download to `file`, checking size and SHA-256 against `info`.
async fn receive_chunks(
    stream: &mut tonic::Streaming<DownloadFileResponse>,
    file: &mut File,
    info: &portalnet_proto::v1::FileInfo,
    file_id: u64,
) -> Result<u64> {
    use portalnet_proto::v1::download_file_response::Part as Down;
    let mut hasher = Sha256::new();
    let mut got = 0u64;
    while let Some(msg) = stream.message().await? {
        let Some(Down::Chunk(bytes)) = msg.part else { bail!("the portal sent file {file_id} out of order") };
        got += bytes.len() as u64;
        if got > info.size {
            bail!("file {file_id} arrived longer than its {} bytes", info.size);
        }
        hasher.update(&bytes);
        file.write_all(&bytes).context("cannot write the file")?;
    }
    if got != info.size {
        bail!("file {file_id} arrived with {got} bytes, expected {}", info.size);
    }
    if !info.sha256.is_empty() && !hex(&hasher.finalize()).eq_ignore_ascii_case(&info.sha256) {
        bail!("file {file_id} arrived damaged: its SHA-256 does not match the portal's");
    }
    file.flush().context("cannot write the file")?;
    Ok(got)
}

/// The last path component of a name chosen by someone else, so a file called
/// `../../.bashrc` lands in the current directory as `.bashrc`, never above it.
fn safe_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next()?.trim();
    if last.is_empty() || last == "." || last == ".." || last.chars().any(char::is_control) {
        return None;
    }
    Some(last.to_string())
}

fn create_file(path: &Path, force: bool) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        // create_new: no window between an existence check and the write.
        opts.create_new(true);
    }
    opts.open(path).map_err(|e| match e.kind() {
        ErrorKind::AlreadyExists => {
            anyhow!("{} already exists; pass --force to overwrite it", path.display())
        }
        _ => anyhow!("cannot create {}: {e}", path.display()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn deadline_text(t: &TaskView) -> String {
    let d = t.deadline.table();
    if t.overdue { format!("{d} (overdue)") } else { d }
}

fn group_text(t: &TaskView) -> String {
    t.group_id.map_or("-".into(), |g| g.to_string())
}

fn list_text(l: &[String]) -> String {
    if l.is_empty() { "-".into() } else { l.join(", ") }
}

fn verify_block(v: &VerifyView) -> String {
    let mut text = if v.ok {
        format!("verified: {} events, every signature by {} and the hash chain check out\n", v.events, v.home)
    } else {
        format!("NOT VERIFIED: {} events from {}\n", v.events, v.home)
    };
    text.push_str(&format!("head hash: {}\n", v.head_hash));
    for p in &v.problems {
        text.push_str(&format!("problem: {}\n", clean(p)));
    }
    text
}

fn task_block(t: &TaskView) -> String {
    let mut text = task_fields(t);
    if let Some(home) = &t.home {
        text.push_str(&format!("home: portal {home} (task {} there)\n", t.home_task_id));
    }
    for p in &t.pending {
        let reason = if p.reason.is_empty() { String::new() } else { format!(": {}", clean(&p.reason)) };
        text.push_str(&format!("{} change by {}: {}{reason}\n", p.state, p.actor, p.summary));
    }
    text
}

fn task_fields(t: &TaskView) -> String {
    key_values(&[
        ("id", t.id.to_string()),
        ("title", t.title.clone()),
        ("status", t.status.into()),
        ("creator", t.creator.clone()),
        ("responsible", t.responsible.clone()),
        ("accomplices", list_text(&t.accomplices)),
        ("observers", list_text(&t.observers)),
        ("deadline", deadline_text(t)),
        ("group", group_text(t)),
        ("created", t.created_at.table()),
        ("updated", t.updated_at.table()),
        ("version", t.version.to_string()),
        ("files", t.files.len().to_string()),
        ("comments", t.comment_count.to_string()),
        ("description", t.description.clone()),
    ])
}

fn task_detail(d: &TaskDetailView) -> String {
    let mut text = task_block(&d.task);
    if !d.task.files.is_empty() {
        let mut files = Table::new(&["FILE", "NAME", "TYPE", "SIZE", "BY", "UPLOADED"]).right(&[0, 3]);
        for f in &d.task.files {
            files.row(vec![
                f.id.to_string(),
                f.name.clone(),
                f.content_type.clone(),
                f.size.to_string(),
                f.uploaded_by.clone(),
                f.uploaded_at.table(),
            ]);
        }
        text.push('\n');
        text.push_str(&files.render());
    }
    for c in &d.comments {
        text.push('\n');
        text.push_str(&format!("comment {} by {} at {}\n", c.id, clean(&c.author), c.created_at.table()));
        for line in clean_multiline(&c.text).lines() {
            text.push_str(format!("  {line}").trim_end());
            text.push('\n');
        }
    }
    text
}

fn task_table(tasks: &[TaskView]) -> String {
    let mut t = Table::new(&["ID", "STATUS", "RESPONSIBLE", "DEADLINE", "GROUP", "TITLE"]).right(&[0]);
    for task in tasks {
        t.row(vec![
            task.id.to_string(),
            task.status.into(),
            task.responsible.clone(),
            deadline_text(task),
            group_text(task),
            task.title.clone(),
        ]);
    }
    if t.is_empty() { "no tasks\n".into() } else { t.render() }
}

fn history_table(entries: &[HistoryView]) -> String {
    let mut t = Table::new(&["VERSION", "AT", "ACTOR", "KIND", "HASH", "SUMMARY"]).right(&[0]);
    for e in entries {
        let hash: String = e.hash.chars().take(12).collect();
        t.row(vec![
            e.version.to_string(),
            e.at.table(),
            e.actor.clone(),
            e.kind.clone(),
            hash,
            e.summary.clone(),
        ]);
    }
    if t.is_empty() { "no history\n".into() } else { t.render() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloaded_names_stay_in_the_directory() {
        assert_eq!(safe_file_name("report.pdf").as_deref(), Some("report.pdf"));
        assert_eq!(safe_file_name("../../.bashrc").as_deref(), Some(".bashrc"));
        assert_eq!(safe_file_name("C:\\Users\\x\\a.txt").as_deref(), Some("a.txt"));
        assert_eq!(safe_file_name("dir/"), None);
        assert_eq!(safe_file_name(".."), None);
        assert_eq!(safe_file_name("a\u{1b}b"), None);
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn existing_files_are_not_overwritten_without_force() {
        let dir = std::env::temp_dir().join(format!("portalctl-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f.txt");
        let _ = std::fs::remove_file(&p);
        create_file(&p, false).unwrap().write_all(b"one").unwrap();
        assert!(create_file(&p, false).unwrap_err().to_string().contains("--force"));
        create_file(&p, true).unwrap().write_all(b"three").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"three");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
