//! Tasks: create, list, change, status, comments and files, within the rules of R12–R17.

use super::Portal;
use super::events::Extra;
use crate::error::{PortalError, PortalResult};
use crate::paging::{Ids, MergeIds, Page, PageReq, all_ids, rows_of, table_rows};
use base64::Engine as _;
use portalnet_core::address;
use portalnet_core::error::text;
use portalnet_core::permissions::{Action, Actor, authorize};
use portalnet_core::task::{
    self, Change, Comment, FileMeta, HistoryEntry, NewTask, Task, TaskPatch, TaskStatus, check_file,
};
use portalnet_core::user::UserKind;
use portalnet_core::{Error, Timestamp};
use portalnet_store::WriteTx;
use portalnet_store::index::{Indexes, status_byte, str_prefix};
use portalnet_store::replication::{ProposalOp, ProposalRecord};
use portalnet_store::{BlobReader, StagedBlob};

/// What a status change did: applied here, or sent to the task's home portal.
#[derive(Debug, Clone)]
pub enum StatusSet {
    Done(Task),
    Pending(ProposalRecord),
}

#[derive(Debug, Clone)]
pub enum Commented {
    Done(Comment),
    Pending(ProposalRecord),
}

#[derive(Debug, Clone)]
pub enum Attached {
    Done(FileMeta),
    Pending(ProposalRecord),
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub status: Option<TaskStatus>,
    pub responsible: Option<String>,
    pub group: Option<u64>,
}

impl TaskFilter {
    /// Names the list and its filters, for page tokens: a token of one filter is
    /// refused with another.
    pub fn list_key(&self) -> String {
        format!(
            "tasks|status={}|responsible={}|group={}",
            self.status.map_or("", |s| s.name()),
            self.responsible.as_deref().unwrap_or_default(),
            self.group.map(|g| g.to_string()).unwrap_or_default()
        )
    }
}

impl Portal {
    pub fn create_task(&self, actor: &Actor, new: NewTask) -> PortalResult<Task> {
        let new = new.validate(self.limits())?.localize(self.portal_id());
        if let Some(g) = new.group {
            self.check_group_for_task(actor, g)?;
        }
        let now = self.now();
        self.write(|tx| {
            let id = tx.next_id("task")?;
            let (task, change) = new.into_task(id, &actor.login, now);
            self.check_task_people(actor, &task)?;
            self.record(tx, &task, &actor.login, change, Extra::default(), now)?;
            Ok(task)
        })
    }

    pub fn get_task(&self, actor: &Actor, id: u64) -> PortalResult<Task> {
        let task = self.task(id)?;
        authorize(self.relation(actor, &task)?, Action::View, id, task.status)?;
        Ok(task)
    }

    /// One page of the tasks the actor may see, filtered, by id. Reads only what
    /// can be in the answer: an administrator pages through the primary key (or the
    /// index of the filter), anyone else through their own tasks (participant index)
    /// and the tasks of their groups (group index), merged in id order.
    pub fn list_tasks(&self, actor: &Actor, filter: &TaskFilter, page: &PageReq) -> PortalResult<Page<Task>> {
        let after = page.after_id()?;
        let idx = &self.tables.idx;
        let my_groups: Vec<u64> = self.tables.groups_of(&actor.login)?;
        let ids: Ids<'_> = if actor.admin {
            if let Some(g) = filter.group {
                Box::new(Indexes::ids_under(&idx.task_group, &g.to_be_bytes(), after))
            } else if let Some(r) = &filter.responsible {
                Box::new(Indexes::ids_under(&idx.task_participant, &str_prefix(r), after))
            } else if let Some(s) = filter.status {
                Box::new(Indexes::ids_under(&idx.task_status, &[status_byte(s)], after))
            } else {
                all_ids(&self.tables.tasks, after)
            }
        } else {
            let mut sources: Vec<Ids<'_>> =
                vec![Box::new(Indexes::ids_under(&idx.task_participant, &str_prefix(&actor.login), after))];
            for g in &my_groups {
                if filter.group.is_none_or(|f| f == *g) {
                    sources.push(Box::new(Indexes::ids_under(&idx.task_group, &g.to_be_bytes(), after)));
                }
            }
            Box::new(MergeIds::new(sources))
        };
        let rows = rows_of(&self.tables.tasks, ids).filter_map(|row| {
            let (id, task) = match row {
                Ok(row) => row,
                Err(e) => return Some(Err(e)),
            };
            let in_group = task.group.is_some_and(|g| my_groups.contains(&g));
            let rel = portalnet_core::permissions::Relation::of(actor, &task, in_group);
            if authorize(rel, Action::View, task.id, task.status).is_err()
                || filter.status.is_some_and(|s| s != task.status)
                || filter.responsible.as_ref().is_some_and(|r| *r != task.responsible)
                || filter.group.is_some_and(|g| Some(g) != task.group)
            {
                return None;
            }
            Some(Ok((id.to_be_bytes().to_vec(), task)))
        });
        page.collect(rows)
    }

    pub fn update_task(&self, actor: &Actor, id: u64, patch: TaskPatch) -> PortalResult<Task> {
        let patch = patch.validate(self.limits())?.localize(self.portal_id());
        if let Some(home) = self.task(id)?.home {
            self.get_task(actor, id)?;
            return Err(PortalError::Domain(Error::denied(text!(
                "error-edit-elsewhere",
                task = id,
                portal = &home.portal
            ))));
        }
        if let Some(Some(g)) = patch.group {
            self.check_group_for_task(actor, g)?;
        }
        self.mutate(actor, id, |task, rel, now| {
            let change = patch.apply(task, rel, self.limits(), now)?;
            if change.is_some() {
                self.check_task_people(actor, task)?;
            }
            Ok(change)
        })
    }

    /// Changes the status. On a replica the change goes to the task's home as a
    /// proposal; the task is returned as it stands, with the proposal pending.
    pub fn set_status(&self, actor: &Actor, id: u64, to: TaskStatus) -> PortalResult<StatusSet> {
        if self.task(id)?.home.is_some() {
            return Ok(StatusSet::Pending(self.propose(actor, id, ProposalOp::Status { to })?));
        }
        let task =
            self.mutate(actor, id, |task, rel, now| Ok(Some(task::set_status(task, rel, to, now)?)))?;
        Ok(StatusSet::Done(task))
    }

    /// Adds a comment. On a replica the comment goes to the task's home as a
    /// proposal: the answer is then `Commented::Pending`.
    pub fn add_comment(&self, actor: &Actor, id: u64, text: &str) -> PortalResult<Commented> {
        let t = &self.tables;
        let now = self.now();
        if self.task(id)?.home.is_some() {
            let op = ProposalOp::Comment { text: text.to_string() };
            return Ok(Commented::Pending(self.propose(actor, id, op)?));
        }
        self.write(|tx| {
            let mut task = self.tx_task(tx, id)?;
            let before = task.clone();
            let rel = self.relation(actor, &task)?;
            let comment_id = tx.next_id("comment")?;
            let (comment, change) =
                task::add_comment(&mut task, rel, &actor.login, text, comment_id, self.limits(), now)?;
            t.comments.tx_put(tx, &(id, comment_id), &comment)?;
            let extra = Extra { comment: Some(&comment), ..Extra::default() };
            self.record(tx, &task, &actor.login, change, Extra { before: Some(&before), ..extra }, now)?;
            Ok(Commented::Done(comment))
        })
    }

    pub fn list_comments(&self, actor: &Actor, id: u64) -> PortalResult<Vec<Comment>> {
        self.get_task(actor, id)?;
        Ok(self
            .tables
            .comments
            .scan_raw(&id.to_be_bytes())
            .map(|kv| kv.map(|(_, c)| c))
            .collect::<Result<_, _>>()?)
    }

    /// Stores a file's bytes and records it on the task (see [`Portal::attach_staged`]).
    /// For bytes already in memory (the unary call, tests); uploads stream into a
    /// [`StagedBlob`] instead.
    pub fn attach_file(
        &self,
        actor: &Actor,
        id: u64,
        name: &str,
        content_type: &str,
        content: Vec<u8>,
    ) -> PortalResult<Attached> {
        let mut w = self.tables.blobs.writer()?;
        for chunk in content.chunks(portalnet_store::blobs::CHUNK_BYTES) {
            w.write(chunk)?;
        }
        drop(content);
        self.attach_staged(actor, id, name, content_type, w.finish()?)
    }

    /// Records a file whose bytes are written (and synced) under a temporary name.
    /// On a task homed here the blob moves into the blob store (synced) before the
    /// one write that records the file, its history entry and its reference to the
    /// blob; on a replica the bytes go to the home portal as a proposal. The caller
    /// has refused anything over the limit while the bytes arrived.
    pub fn attach_staged(
        &self,
        actor: &Actor,
        id: u64,
        name: &str,
        content_type: &str,
        staged: StagedBlob,
    ) -> PortalResult<Attached> {
        let content_type =
            if content_type.trim().is_empty() { "application/octet-stream" } else { content_type.trim() };
        check_file(name, content_type, staged.size(), self.limits())?;
        let held = self.task(id)?;
        if held.home.is_some() {
            let size = staged.size();
            let content = staged.into_bytes()?;
            let op = ProposalOp::File {
                name: name.trim().to_string(),
                content_type: content_type.to_string(),
                size,
                content_b64: base64::engine::general_purpose::STANDARD.encode(&content),
            };
            return Ok(Attached::Pending(self.propose(actor, id, op)?));
        }
        // Refused before the blob is stored, so a refusal leaves no orphan behind.
        authorize(self.relation(actor, &held)?, Action::Attach, id, held.status)?;
        // Synced and in place before the commit that names it.
        let blob = staged.commit()?;
        let t = &self.tables;
        let now = self.now();
        self.write(|tx| {
            let mut task = self.tx_task(tx, id)?;
            let before = task.clone();
            let rel = self.relation(actor, &task)?;
            let file_id = tx.next_id("file")?;
            let meta = FileMeta {
                id: file_id,
                name: name.trim().to_string(),
                content_type: content_type.to_string(),
                size: blob.size,
                sha256: blob.sha256.clone(),
                uploaded_by: actor.login.clone(),
                uploaded_at: now,
            };
            let change = task::attach_file(&mut task, rel, meta.clone(), self.limits(), now)?;
            t.add_blob_ref(tx, &blob.sha256, id, file_id);
            let extra = Extra { file: Some(&meta), ..Extra::default() };
            self.record(tx, &task, &actor.login, change, Extra { before: Some(&before), ..extra }, now)?;
            Ok(Attached::Done(meta))
        })
    }

    /// A file of a task the actor may see, opened for reading from the blob store.
    pub fn open_file(&self, actor: &Actor, id: u64, file_id: u64) -> PortalResult<(FileMeta, BlobReader)> {
        let task = self.get_task(actor, id)?;
        let not_found = || {
            PortalError::Domain(Error::not_found(text!("error-file-not-found", file = file_id, task = id)))
        };
        let meta = task.files.into_iter().find(|f| f.id == file_id).ok_or_else(not_found)?;
        let reader = self.tables.blobs.open_blob(&meta.sha256)?.ok_or_else(|| {
            PortalError::Internal(format!("task {id} file {file_id}: blob {} is missing", meta.sha256))
        })?;
        Ok((meta, reader))
    }

    /// [`Portal::open_file`], read whole (tests; the deprecated unary call, for small files).
    pub fn get_file(&self, actor: &Actor, id: u64, file_id: u64) -> PortalResult<(FileMeta, Vec<u8>)> {
        let (meta, mut reader) = self.open_file(actor, id, file_id)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.size).unwrap_or(0));
        std::io::Read::read_to_end(&mut reader, &mut bytes).map_err(|e| {
            PortalError::Internal(format!("task {id} file {file_id}: cannot read its blob: {e}"))
        })?;
        Ok((meta, bytes))
    }

    /// The bytes of file `file_id` of task `id` (any task held here), for what
    /// carries a file in one message (replication). Empty when it is not held.
    pub fn file_bytes(&self, id: u64, file_id: u64) -> PortalResult<Vec<u8>> {
        let Some(task) = self.tables.tasks.get(&id)? else { return Ok(Vec::new()) };
        let Some(meta) = task.files.iter().find(|f| f.id == file_id) else { return Ok(Vec::new()) };
        Ok(self.tables.blobs.read(&meta.sha256)?.unwrap_or_default())
    }

    /// One page of a task's comments, oldest first.
    pub fn comments_page(&self, actor: &Actor, id: u64, page: &PageReq) -> PortalResult<Page<Comment>> {
        self.get_task(actor, id)?;
        page.collect(table_rows(&self.tables.comments, &id.to_be_bytes(), page))
    }

    /// One page of a task's history, oldest first.
    pub fn history_page(&self, actor: &Actor, id: u64, page: &PageReq) -> PortalResult<Page<HistoryEntry>> {
        self.get_task(actor, id)?;
        page.collect(table_rows(&self.tables.history, &id.to_be_bytes(), page))
    }

    pub fn history(&self, actor: &Actor, id: u64) -> PortalResult<Vec<HistoryEntry>> {
        self.get_task(actor, id)?;
        Ok(self
            .tables
            .history
            .scan_raw(&id.to_be_bytes())
            .map(|kv| kv.map(|(_, h)| h))
            .collect::<Result<_, _>>()?)
    }

    pub fn task(&self, id: u64) -> PortalResult<Task> {
        self.tables.tasks.get(&id)?.ok_or_else(|| task_not_found(id))
    }

    pub(crate) fn tx_task(&self, tx: &WriteTx<'_>, id: u64) -> PortalResult<Task> {
        self.tables.tasks.tx_get(tx, &id)?.ok_or_else(|| task_not_found(id))
    }

    /// Loads, changes and records a task in one write. `f` returns `None` when
    /// nothing changed (nothing is written then).
    fn mutate(
        &self,
        actor: &Actor,
        id: u64,
        f: impl FnOnce(
            &mut Task,
            portalnet_core::permissions::Relation,
            Timestamp,
        ) -> PortalResult<Option<Change>>,
    ) -> PortalResult<Task> {
        let now = self.now();
        self.write(|tx| {
            let mut task = self.tx_task(tx, id)?;
            let before = task.clone();
            let rel = self.relation(actor, &task)?;
            if let Some(change) = f(&mut task, rel, now)? {
                self.record(
                    tx,
                    &task,
                    &actor.login,
                    change,
                    Extra { before: Some(&before), ..Extra::default() },
                    now,
                )?;
            }
            Ok(task)
        })
    }

    /// Every participant exists and is active; an extranet actor names only people
    /// they share a group with (R7); extranet users take part only in tasks of
    /// their own groups (R12).
    fn check_task_people(&self, actor: &Actor, task: &Task) -> PortalResult<()> {
        let visible = self.visible_logins(actor)?;
        let group = task.group.map(|g| self.group(g)).transpose()?;
        let me = self.portal_id();
        let mut remote = false;
        for p in task.participants() {
            // People of other portals are checked against the directory by the caller
            // (R16); here only that this portal may work across portals at all.
            if address::is_email(p) {
                // People without a portal take part by e-mail (R21, R23).
                if actor.kind == UserKind::Extranet {
                    return Err(PortalError::Domain(Error::denied(text!("error-extranet-no-email-people"))));
                }
                continue;
            }
            let (login, portal) = address::split(p);
            if portal.is_some_and(|portal| portal != me) {
                if actor.kind == UserKind::Extranet {
                    return Err(PortalError::Domain(Error::denied(text!("error-extranet-no-remote"))));
                }
                remote = true;
                continue;
            }
            let login = login.to_string();
            let login = login.as_str();
            if visible.as_ref().is_some_and(|v| !v.contains(login)) {
                return Err(PortalError::Domain(Error::denied(text!(
                    "error-extranet-pick-members",
                    login = login
                ))));
            }
            let user = self.user(login)?;
            if !user.is_active() {
                return Err(PortalError::Domain(Error::precondition(text!(
                    "error-dismissed-no-tasks",
                    login = login
                ))));
            }
            if user.kind == UserKind::Extranet && !group.as_ref().is_some_and(|g| g.is_member(login)) {
                return Err(PortalError::Domain(Error::precondition(text!(
                    "error-extranet-needs-group",
                    login = login
                ))));
            }
            if remote && user.kind == UserKind::Extranet {
                return Err(PortalError::Domain(Error::precondition(text!(
                    "error-extranet-not-shared",
                    login = login
                ))));
            }
        }
        if remote {
            self.check_own_network()?;
        }
        Ok(())
    }

    /// Only members (and admins) put tasks in a group. To an extranet user a group
    /// outside their own does not exist (R12): it is refused as missing, so they
    /// cannot tell it from one that is; employees see every group, so they are told
    /// they are not a member.
    fn check_group_for_task(&self, actor: &Actor, id: u64) -> PortalResult<()> {
        let g = self.group(id)?;
        if actor.admin || g.is_member(&actor.login) {
            return Ok(());
        }
        if actor.kind == UserKind::Extranet {
            return Err(PortalError::Domain(Error::not_found(text!("error-group-not-found", group = id))));
        }
        Err(PortalError::Domain(Error::denied(text!("error-not-group-member", group = id))))
    }
}

fn task_not_found(id: u64) -> PortalError {
    PortalError::Domain(Error::not_found(text!("error-task-not-found", task = id)))
}
