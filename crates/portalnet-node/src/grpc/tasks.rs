//! The gRPC `TaskService`: tasks homed here directly, tasks homed elsewhere as proposals.

use super::State;
use crate::app::TaskFilter;
use crate::app::paging::PageReq;
use crate::app::{Attached, Commented, StatusSet};
use crate::convert::{Checked, ToProto, optional_status, status, task_id, task_to_proto};
use crate::replication::Peers;
use portalnet_core::address;
use portalnet_core::task::{Change, Task};
use portalnet_core::validate;
use portalnet_proto::v1::{self as pb, task_service_server::TaskService};
use portalnet_store::replication::{ProposalOp, ProposalState};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tonic::{Request, Response, Status};

pub struct TaskSvc(pub Arc<State>);

/// How long a change to a task homed elsewhere waits for its home's answer before
/// the call returns with the change pending.
pub const PROPOSAL_WAIT: Duration = Duration::from_secs(3);

impl TaskSvc {
    fn reply(&self, t: &Task) -> Result<Response<pb::Task>, Status> {
        Ok(Response::new(self.tasks_proto(std::slice::from_ref(t))?.remove(0)))
    }

    /// Tasks as sent, with the changes made here that their homes have not applied.
    fn tasks_proto(&self, tasks: &[Task]) -> Result<Vec<pb::Task>, Status> {
        let replicas: Vec<u64> = tasks.iter().filter(|t| t.home.is_some()).map(|t| t.id).collect();
        let mut pending = self.0.portal.open_proposals(&replicas)?;
        let now = self.0.portal.now();
        Ok(tasks
            .iter()
            .map(|t| pb::Task {
                pending: pending.remove(&t.id).unwrap_or_default().iter().map(ToProto::to_proto).collect(),
                ..task_to_proto(t, now)
            })
            .collect())
    }

    /// R13–R16 at the home portal, before a change to a task homed here: every
    /// portal with a participant (now or after the change) has the network on and
    /// active, and every newly named person of another portal is published.
    async fn check_cross_portal(&self, task: Option<&Task>, named: &[String]) -> Result<(), Status> {
        let p = &self.0.portal;
        let me = p.portal_id();
        if task.is_some_and(|t| t.home.is_some()) {
            return Ok(());
        }
        // A malformed address is the caller's mistake, whatever the network's state.
        for a in named {
            address::participant("participant", a).map_err(crate::error::NodeError::Domain)?;
        }
        let held: Vec<&str> = task.map(|t| t.participants()).unwrap_or_default();
        let new_people: Vec<String> = named
            .iter()
            .filter(|a| address::split(a).1.is_some_and(|portal| portal != me))
            .filter(|a| !held.contains(&a.as_str()))
            .cloned()
            .collect();
        let mut portals: BTreeSet<String> = task.map(|t| address::remote_portals(t, me)).unwrap_or_default();
        portals.extend(new_people.iter().filter_map(|a| address::split(a).1.map(str::to_string)));
        if portals.is_empty() {
            return Ok(());
        }
        p.check_own_network()?;
        let r = self.0.replicator()?;
        for portal in &portals {
            if let Some(why) = r.peers.blocked(portal, p.now()).await {
                return Err(why.into_status());
            }
        }
        r.peers.check_people(&new_people, p.now()).await
    }

    /// Waits (up to [`PROPOSAL_WAIT`]) for the home's answer to proposal `pid`, and
    /// for its event to arrive here. `Ok(Some(version))` when applied.
    /// The proposal is durable already ([`State::write`]).
    async fn await_proposal(&self, task: u64, pid: u64) -> Result<Option<u64>, Status> {
        let p = &self.0.portal;
        let deadline = tokio::time::Instant::now() + PROPOSAL_WAIT;
        loop {
            let changed = p.replica_changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match p.proposal(pid)?.map(|r| r.state) {
                Some(ProposalState::Applied { version }) if p.task(task)?.version >= version => {
                    return Ok(Some(version));
                }
                Some(ProposalState::Rejected { reason, code }) => {
                    let home = p.task(task)?.home.map(|h| h.portal).unwrap_or_default();
                    return Err(Status::new(
                        tonic::Code::from(code),
                        format!("portal {home} refused: {reason}"),
                    ));
                }
                _ => {}
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return Ok(None);
            }
        }
    }

    /// What event `version` of task `id` recorded (for a proposal's reply).
    fn change_at(&self, id: u64, version: u64) -> Result<Option<Change>, Status> {
        Ok(self
            .0
            .portal
            .tables
            .history
            .get(&(id, version))
            .map_err(crate::NodeError::from)?
            .map(|h| h.change))
    }
}

#[tonic::async_trait]
impl TaskService for TaskSvc {
    async fn create_task(&self, req: Request<pb::CreateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked(new): Checked<portalnet_core::task::NewTask> = req.into_inner().try_into()?;
        let named: Vec<String> =
            new.responsible.iter().chain(&new.accomplices).chain(&new.observers).cloned().collect();
        self.check_cross_portal(None, &named).await?;
        let task = self.0.write(move |p| p.create_task(&actor, new)).await?;
        self.reply(&task)
    }

    async fn get_task(&self, req: Request<pb::GetTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let task = self.0.portal.get_task(&actor, task_id(req.get_ref().id)?)?;
        self.reply(&task)
    }

    async fn list_tasks(
        &self,
        req: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::ListTasksResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let filter = TaskFilter {
            status: optional_status(r.status)?,
            responsible: if r.responsible.trim().is_empty() {
                None
            } else {
                Some(validate::login("responsible", &r.responsible).map_err(crate::NodeError::from)?)
            },
            group: (r.group_id != 0).then_some(r.group_id),
        };
        let page = PageReq::parse(r.page_size, &r.page_token, &filter.list_key())?;
        let page = self.0.portal.list_tasks(&actor, &filter, &page)?;
        Ok(Response::new(pb::ListTasksResponse {
            tasks: self.tasks_proto(&page.items)?,
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_task(&self, req: Request<pb::UpdateTaskRequest>) -> Result<Response<pb::Task>, Status> {
        let actor = self.0.actor(&req)?;
        let Checked((id, patch)): Checked<(u64, portalnet_core::task::TaskPatch)> =
            req.into_inner().try_into()?;
        let held = self.0.portal.get_task(&actor, id)?;
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
        let (id, to) = (task_id(req.get_ref().id)?, status(req.get_ref().status)?);
        let held = self.0.portal.get_task(&actor, id)?;
        self.check_cross_portal(Some(&held), &[]).await?;
        let a = actor.clone();
        match self.0.write(move |p| p.set_status(&a, id, to)).await? {
            StatusSet::Done(task) => self.reply(&task),
            StatusSet::Pending(p) => {
                self.await_proposal(id, p.id).await?;
                self.reply(&self.0.portal.get_task(&actor, id)?)
            }
        }
    }

    async fn add_comment(
        &self,
        req: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::Comment>, Status> {
        let actor = self.0.actor(&req)?;
        let id = task_id(req.get_ref().task_id)?;
        let held = self.0.portal.get_task(&actor, id)?;
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
                        .map_err(crate::NodeError::from)?
                {
                    return Ok(Response::new(c.to_proto()));
                }
                let ProposalOp::Comment { text } = p.op else {
                    return Err(Status::internal("proposal mismatch"));
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
        let id = task_id(r.task_id)?;
        let page = PageReq::parse(r.page_size, &r.page_token, &format!("comments|{id}"))?;
        let page = self.0.portal.comments_page(&actor, id, &page)?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: page.items.iter().map(ToProto::to_proto).collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn attach_file(
        &self,
        req: Request<pb::AttachFileRequest>,
    ) -> Result<Response<pb::FileInfo>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.into_inner();
        let id = task_id(r.task_id)?;
        let held = self.0.portal.get_task(&actor, id)?;
        self.check_cross_portal(Some(&held), &[]).await?;
        let (name, content_type, content) = (r.name, r.content_type, r.content);
        match self.0.write(move |p| p.attach_file(&actor, id, &name, &content_type, content)).await? {
            Attached::Done(meta) => Ok(Response::new(meta.to_proto())),
            Attached::Pending(p) => {
                let applied = self.await_proposal(id, p.id).await?;
                if let Some(v) = applied
                    && let Some(Change::File { file_id, .. }) = self.change_at(id, v)?
                    && let Some(f) = self.0.portal.task(id)?.files.into_iter().find(|f| f.id == file_id)
                {
                    return Ok(Response::new(f.to_proto()));
                }
                let ProposalOp::File { name, content_type, size, .. } = p.op else {
                    return Err(Status::internal("proposal mismatch"));
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

    async fn get_file(
        &self,
        req: Request<pb::GetFileRequest>,
    ) -> Result<Response<pb::GetFileResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let r = req.get_ref();
        let id = task_id(r.task_id)?;
        if r.file_id == 0 {
            return Err(crate::error::NodeError::invalid(portalnet_core::error::text!(
                "error-id-required",
                field = "file id"
            ))
            .into());
        }
        let file_id = r.file_id;
        // The bytes are a storage read of up to the file limit: off the async workers.
        let (meta, content) = self.0.run(move |p| p.get_file(&actor, id, file_id)).await?;
        Ok(Response::new(pb::GetFileResponse { info: Some(meta.to_proto()), content }))
    }

    async fn history(
        &self,
        req: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryResponse>, Status> {
        let actor = self.0.actor(&req)?;
        let id = task_id(req.get_ref().task_id)?;
        let page =
            PageReq::parse(req.get_ref().page_size, &req.get_ref().page_token, &format!("history|{id}"))?;
        let page = self.0.portal.history_page(&actor, id, &page)?;
        let entries = page.items;
        let hashes: std::collections::HashMap<u64, String> =
            self.0.portal.event_hashes(id)?.into_iter().collect();
        let refusals = self.0.portal.delivery_refusals(id)?;
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
        let id = task_id(req.get_ref().task_id)?;
        let p = &self.0.portal;
        let (home, _) = p.home_of(&actor, id)?;
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
