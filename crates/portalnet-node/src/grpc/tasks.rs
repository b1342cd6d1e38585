//! The gRPC `TaskService`: tasks homed here directly, tasks homed elsewhere as proposals.

use super::State;
use crate::grpc::convert::{Checked, ToProto, optional_status, status, task_id, task_to_proto};
use crate::grpc::error::IntoStatus;
use crate::grpc::error::NodeError;
use crate::grpc::error::to_status;
use crate::replication::Peers;
use portalnet_core::error::text;
use portalnet_core::task::{Change, Task};
use portalnet_core::validate;
use portalnet_portal::TaskFilter;
use portalnet_portal::paging::PageReq;
use portalnet_portal::{Attached, Commented, StatusSet};
use portalnet_proto::v1::{self as pb, task_service_server::TaskService};
use portalnet_store::replication::ProposalOp;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

pub struct TaskSvc(pub Arc<State>);

/// The largest file the deprecated whole-file calls (`AttachFile`, `GetFile`)
/// move in one message; larger ones stream (`UploadFile`, `DownloadFile`).
pub const UNARY_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// A file request's (task, file) ids, both required.
fn file_ids(r: &pb::GetFileRequest) -> Result<(u64, u64), NodeError> {
    let id = task_id(r.task_id)?;
    if r.file_id == 0 {
        return Err(NodeError::invalid(text!("error-id-required", field = "file id")));
    }
    Ok((id, r.file_id))
}

pub use portalnet_portal::PROPOSAL_WAIT;

impl TaskSvc {
    fn reply(&self, t: &Task) -> Result<Response<pb::Task>, Status> {
        Ok(Response::new(self.tasks_proto(std::slice::from_ref(t))?.remove(0)))
    }

    /// Tasks as sent, with the changes made here that their homes have not applied.
    fn tasks_proto(&self, tasks: &[Task]) -> Result<Vec<pb::Task>, Status> {
        let replicas: Vec<u64> = tasks.iter().filter(|t| t.home.is_some()).map(|t| t.id).collect();
        let mut pending = self.0.portal.open_proposals(&replicas).map_err(to_status)?;
        let now = self.0.portal.now();
        Ok(tasks
            .iter()
            .map(|t| pb::Task {
                pending: pending.remove(&t.id).unwrap_or_default().iter().map(ToProto::to_proto).collect(),
                ..task_to_proto(t, now)
            })
            .collect())
    }

    /// R13–R16 at the home portal (the portal's rules, the directory's answers).
    async fn check_cross_portal(&self, task: Option<&Task>, named: &[String]) -> Result<(), Status> {
        let peers = self.0.replicator.as_ref().map(|r| r.peers.as_ref());
        self.0.portal.check_cross_portal(peers, task, named).await.map_err(to_status)
    }

    /// The home's answer to proposal `pid`, if it comes within [`PROPOSAL_WAIT`].
    async fn await_proposal(&self, task: u64, pid: u64) -> Result<Option<u64>, Status> {
        self.0.portal.await_proposal(task, pid, PROPOSAL_WAIT).await.map_err(to_status)
    }

    /// What event `version` of task `id` recorded (for a proposal's reply).
    fn change_at(&self, id: u64, version: u64) -> Result<Option<Change>, Status> {
        self.0.portal.change_at(id, version).map_err(to_status)
    }

    /// The answer to an upload: the file as recorded, or as proposed to the
    /// task's home (waiting up to [`PROPOSAL_WAIT`] for it to be applied).
    async fn attached_reply(&self, id: u64, attached: Attached) -> Result<Response<pb::FileInfo>, Status> {
        match attached {
            Attached::Done(meta) => Ok(Response::new(meta.to_proto())),
            Attached::Pending(p) => {
                let applied = self.await_proposal(id, p.id).await?;
                if let Some(v) = applied
                    && let Some(Change::File { file_id, .. }) = self.change_at(id, v)?
                    && let Some(f) =
                        self.0.portal.task(id).map_err(to_status)?.files.into_iter().find(|f| f.id == file_id)
                {
                    return Ok(Response::new(f.to_proto()));
                }
                let ProposalOp::File { name, content_type, size, .. } = p.op else {
                    return Err(NodeError::Internal("proposal mismatch".into()).into_status());
                };
                Ok(Response::new(pb::FileInfo {
                    name,
                    content_type,
                    size,
                    uploaded_by: p.actor,
                    uploaded_at: p.created_at.0,
                    pending: true,
                    ..Default::default()
                }))
            }
        }
    }
}

#[tonic::async_trait]
impl TaskService for TaskSvc {
    async fn create_task(&self, req: Request<pb::CreateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked(new): Checked<portalnet_core::task::NewTask> =
            req.into_inner().try_into().map_err(to_status)?;
        // Validated (limits, spelling) before the Network is asked about anyone.
        let p = &self.0.portal;
        let new =
            new.validate(p.limits()).map_err(NodeError::Domain).map_err(to_status)?.localize(p.portal_id());
        let named: Vec<String> =
            new.responsible.iter().chain(&new.accomplices).chain(&new.observers).cloned().collect();
        self.check_cross_portal(None, &named).await?;
        let task = self.0.write(move |p| p.create_task(&actor, new)).await?;
        self.reply(&task)
    }

    async fn get_task(&self, req: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let task = self
            .0
            .portal
            .get_task(&actor, task_id(req.get_ref().id).map_err(to_status)?)
            .map_err(to_status)?;
        self.reply(&task)
    }

    async fn list_tasks(
        &self,
        req: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let filter = TaskFilter {
            status: optional_status(r.status).map_err(to_status)?,
            responsible: if r.responsible.trim().is_empty() {
                None
            } else {
                Some(
                    validate::login("responsible", &r.responsible)
                        .map_err(crate::NodeError::from)
                        .map_err(to_status)?,
                )
            },
            group: (r.group_id != 0).then_some(r.group_id),
        };
        let page = PageReq::parse(r.page_size, &r.page_token, &filter.list_key()).map_err(to_status)?;
        let page = self.0.portal.list_tasks(&actor, &filter, &page).map_err(to_status)?;
        Ok(Response::new(pb::ListTasksResponse {
            tasks: self.tasks_proto(&page.items)?,
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_task(&self, req: Request<pb::UpdateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked((id, patch)): Checked<(u64, portalnet_core::task::TaskPatch)> =
            req.into_inner().try_into().map_err(to_status)?;
        let held = self.0.portal.get_task(&actor, id).map_err(to_status)?;
        let p = &self.0.portal;
        let patch =
            patch.validate(p.limits()).map_err(NodeError::Domain).map_err(to_status)?.localize(p.portal_id());
        let named: Vec<String> = patch
            .responsible
            .iter()
            .chain(patch.accomplices.iter().flatten())
            .chain(patch.observers.iter().flatten())
            .cloned()
            .collect();
        self.check_cross_portal(Some(&held), &named).await?;
        let task = self.0.write(move |p| p.update_task(&actor, id, patch)).await?;
        self.reply(&task)
    }

    async fn set_status(&self, req: Request<pb::SetStatusRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let (id, to) =
            (task_id(req.get_ref().id).map_err(to_status)?, status(req.get_ref().status).map_err(to_status)?);
        let held = self.0.portal.get_task(&actor, id).map_err(to_status)?;
        self.check_cross_portal(Some(&held), &[]).await?;
        let a = actor.clone();
        match self.0.write(move |p| p.set_status(&a, id, to)).await? {
            StatusSet::Done(task) => self.reply(&task),
            StatusSet::Pending(p) => {
                self.await_proposal(id, p.id).await?;
                self.reply(&self.0.portal.get_task(&actor, id).map_err(to_status)?)
            }
        }
    }

    async fn add_comment(
        &self,
        req: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let actor = self.0.actor(&req)?;
        let id = task_id(req.get_ref().task_id).map_err(to_status)?;
        let held = self.0.portal.get_task(&actor, id).map_err(to_status)?;
        self.check_cross_portal(Some(&held), &[]).await?;
        let text = req.into_inner().text;
        match self.0.write(move |p| p.add_comment(&actor, id, &text)).await? {
            Commented::Done(c) => Ok(Response::new(c.to_proto())),
            Commented::Pending(p) => {
                let applied = self.await_proposal(id, p.id).await?;
                if let Some(v) = applied
                    && let Some(Change::Comment { comment_id }) = self.change_at(id, v)?
                    && let Some(c) = self
                        .0
                        .portal
                        .tables
                        .comments
                        .get(&(id, comment_id))
                        .map_err(crate::NodeError::from)
                        .map_err(to_status)?
                {
                    return Ok(Response::new(c.to_proto()));
                }
                let ProposalOp::Comment { text } = p.op else {
                    return Err(NodeError::Internal("proposal mismatch".into()).into_status());
                };
                Ok(Response::new(pb::Comment {
                    task_id: id,
                    id: 0,
                    author: p.actor,
                    text,
                    created_at: p.created_at.0,
                    pending: true,
                }))
            }
        }
    }

    async fn list_comments(
        &self,
        req: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.get_ref();
        let id = task_id(r.task_id).map_err(to_status)?;
        let page =
            PageReq::parse(r.page_size, &r.page_token, &format!("comments|{id}")).map_err(to_status)?;
        let page = self.0.portal.comments_page(&actor, id, &page).map_err(to_status)?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: page.items.iter().map(ToProto::to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn upload_file(
        &self,
        req: Request<tonic::Streaming<pb::UploadFileRequest>>,
    ) -> Result<Response<pb::FileInfo>, Status> {
        use pb::upload_file_request::Part;
        let actor = self.0.actor(&req)?;
        let mut stream = req.into_inner();
        let starts = || NodeError::invalid(text!("error-upload-starts-with-file"));
        let Some(pb::UploadFileRequest { part: Some(Part::Meta(meta)) }) = stream.message().await? else {
            return Err(starts().into_status());
        };
        let id = task_id(meta.task_id).map_err(to_status)?;
        let held = self.0.portal.get_task(&actor, id).map_err(to_status)?;
        let content_type = meta.content_type.trim().to_string();
        // Name and type are refused before a byte is stored.
        let limits = self.0.portal.limits().clone();
        let ct = if content_type.is_empty() { "application/octet-stream" } else { &content_type };
        portalnet_core::task::check_file(&meta.name, ct, 0, &limits)
            .map_err(NodeError::Domain)
            .map_err(to_status)?;
        self.check_cross_portal(Some(&held), &[]).await?;
        // Bytes are hashed and written as they come (off the async workers); the
        // transfer holds one message at a time, never the file. Dropped before it
        // is finished (a refusal, a broken stream), the temporary blob is removed.
        let mut writer = self.0.run(|p| Ok(p.tables.blobs.writer()?)).await?;
        while let Some(msg) = stream.message().await? {
            let Some(Part::Chunk(bytes)) = msg.part else { return Err(starts().into_status()) };
            if writer.size().saturating_add(bytes.len() as u64) > limits.max_file_bytes {
                let name = portalnet_core::quote(&meta.name);
                let refusal = NodeError::invalid(text!(
                    "error-file-over-limit",
                    name = name,
                    max = limits.max_file_bytes
                ));
                super::blocking(move || drop(writer)).await?;
                return Err(refusal.into_status());
            }
            writer = super::blocking(move || writer.write(&bytes).map(|()| writer))
                .await?
                .map_err(NodeError::from)
                .map_err(to_status)?;
        }
        let staged =
            super::blocking(move || writer.finish()).await?.map_err(NodeError::from).map_err(to_status)?;
        let name = meta.name;
        let attached =
            self.0.write(move |p| p.attach_staged(&actor, id, &name, &content_type, staged)).await?;
        self.attached_reply(id, attached).await
    }

    type DownloadFileStream =
        std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::DownloadFileResponse, Status>> + Send>>;

    async fn download_file(
        &self,
        req: Request<pb::GetFileRequest>,
    ) -> Result<Response<Self::DownloadFileStream>, Status> {
        use pb::download_file_response::Part;
        use tokio_stream::StreamExt as _;
        let actor = self.0.actor(&req)?;
        let (id, file_id) = file_ids(req.get_ref()).map_err(to_status)?;
        let (meta, reader) = self.0.run(move |p| p.open_file(&actor, id, file_id)).await?;
        let info = pb::DownloadFileResponse { part: Some(Part::Info(meta.to_proto())) };
        let chunks = crate::blob_stream::chunks(reader).map(move |c| match c {
            Ok(bytes) => Ok(pb::DownloadFileResponse { part: Some(Part::Chunk(bytes)) }),
            Err(e) => {
                Err(NodeError::Internal(format!("task {id} file {file_id}: reading its blob: {e}"))
                    .into_status())
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(info)).chain(chunks))))
    }

    async fn attach_file(
        &self,
        req: Request<pb::AttachFileRequest>,
    ) -> Result<Response<pb::FileInfo>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let id = task_id(r.task_id).map_err(to_status)?;
        let held = self.0.portal.get_task(&actor, id).map_err(to_status)?;
        self.check_cross_portal(Some(&held), &[]).await?;
        let (name, content_type, content) = (r.name, r.content_type, r.content);
        let attached =
            self.0.write(move |p| p.attach_file(&actor, id, &name, &content_type, content)).await?;
        self.attached_reply(id, attached).await
    }

    async fn get_file(
        &self,
        req: Request<pb::GetFileRequest>,
    ) -> Result<Response<pb::GetFileResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let (id, file_id) = file_ids(req.get_ref()).map_err(to_status)?;
        // Deprecated whole-file reply: small files only, so no call holds a large
        // file in memory (DownloadFile streams any size). Read off the async workers.
        let (meta, content) = self
            .0
            .run(move |p| {
                let (meta, _) = p.open_file(&actor, id, file_id)?;
                if meta.size > UNARY_FILE_BYTES {
                    return Err(NodeError::precondition(text!(
                        "error-file-needs-stream",
                        file = file_id,
                        size = meta.size,
                        max = UNARY_FILE_BYTES
                    )));
                }
                p.get_file(&actor, id, file_id)
            })
            .await?;
        Ok(Response::new(pb::GetFileResponse { info: Some(meta.to_proto()), content }))
    }

    async fn history(
        &self,
        req: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let id = task_id(req.get_ref().task_id).map_err(to_status)?;
        let page =
            PageReq::parse(req.get_ref().page_size, &req.get_ref().page_token, &format!("history|{id}"))
                .map_err(to_status)?;
        let page = self.0.portal.history_page(&actor, id, &page).map_err(to_status)?;
        let entries = page.items;
        let hashes: std::collections::HashMap<u64, String> =
            self.0.portal.event_hashes(id).map_err(to_status)?.into_iter().collect();
        let refusals = self.0.portal.delivery_refusals(id).map_err(to_status)?;
        Ok(Response::new(pb::HistoryResponse {
            refusals: refusals
                .into_iter()
                .map(|r| pb::DeliveryRefusal {
                    portal_id: r.portal,
                    version: r.version,
                    reason: r.reason,
                    at: r.at.0,
                })
                .collect(),
            entries: entries
                .iter()
                .map(|e| pb::HistoryEntry {
                    hash: hashes.get(&e.version).cloned().unwrap_or_default(),
                    ..e.to_proto()
                })
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn verify_history(
        &self,
        req: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::VerifyHistoryResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let id = task_id(req.get_ref().task_id).map_err(to_status)?;
        let p = &self.0.portal;
        let (home, _) = p.home_of(&actor, id).map_err(to_status)?;
        let keys = if home == p.portal_id() {
            let mut keys = vec![p.options.signing_key.verifying_key()];
            // History signed before a key rotation: the directory keeps the old keys.
            if let Some(r) = &self.0.replicator
                && let Ok(rec) = r.peers.record(&home, Duration::from_secs(60)).await
            {
                keys.extend(Peers::keys(&rec));
            }
            keys
        } else {
            let r = self.0.replicator()?;
            Peers::keys(&r.peers.record(&home, Duration::from_secs(60)).await?)
        };
        // Hashing and a signature check per event: off the async workers.
        let report = self.0.run(move |p| p.verify_history(&actor, id, &keys)).await?;
        Ok(Response::new(pb::VerifyHistoryResponse {
            ok: report.ok,
            events: report.events,
            head_hash: report.head_hash,
            home: report.home,
            problems: report.problems,
        }))
    }
}
