//! Proto ↔ domain, at the boundary. Requests become validated domain values through
//! `TryFrom` (on [`Checked`], since both sides are foreign types here); structural
//! checks (required fields, enum values) happen here, length limits in `core`.

use crate::grpc::error::NodeError;
use portalnet_core::Timestamp;
use portalnet_core::error::text;
use portalnet_core::group::{Group, GroupRole, InvitePolicy};
use portalnet_core::invitation::{Invitation, InvitationState};
use portalnet_core::report::{ReportBy, ReportRow};
use portalnet_core::task::{Comment, FileMeta, HistoryEntry, NewTask, Task, TaskPatch, TaskStatus};
use portalnet_core::user::{NewUser, User, UserKind, UserState};
use portalnet_proto::v1 as pb;
use portalnet_store::replication::{ProposalRecord, ProposalState};

/// A request that passed the boundary's checks.
pub struct Checked<T>(pub T);

fn required_id(field: &str, id: u64) -> Result<u64, NodeError> {
    if id == 0 { Err(NodeError::invalid(text!("error-id-required", field = field))) } else { Ok(id) }
}

pub fn task_id(id: u64) -> Result<u64, NodeError> {
    required_id("task id", id)
}

pub fn group_id(id: u64) -> Result<u64, NodeError> {
    required_id("group id", id)
}

pub fn status(v: i32) -> Result<TaskStatus, NodeError> {
    let s = match pb::TaskStatus::try_from(v) {
        Ok(pb::TaskStatus::New) => TaskStatus::New,
        Ok(pb::TaskStatus::InProgress) => TaskStatus::InProgress,
        Ok(pb::TaskStatus::AwaitingControl) => TaskStatus::AwaitingControl,
        Ok(pb::TaskStatus::Completed) => TaskStatus::Completed,
        Ok(pb::TaskStatus::Deferred) => TaskStatus::Deferred,
        _ => {
            return Err(NodeError::invalid(text!("error-status-required")));
        }
    };
    Ok(s)
}

pub fn optional_status(v: i32) -> Result<Option<TaskStatus>, NodeError> {
    if v == 0 { Ok(None) } else { status(v).map(Some) }
}

pub fn role(v: i32) -> Result<GroupRole, NodeError> {
    match pb::GroupRole::try_from(v) {
        Ok(pb::GroupRole::Unspecified) | Ok(pb::GroupRole::Member) => Ok(GroupRole::Member),
        Ok(pb::GroupRole::Moderator) => Ok(GroupRole::Moderator),
        Ok(pb::GroupRole::Owner) => Ok(GroupRole::Owner),
        Err(_) => Err(NodeError::invalid(text!("error-bad-role"))),
    }
}

/// `None` for unspecified (callers choose the default or "unchanged").
pub fn invite_policy(v: i32) -> Result<Option<InvitePolicy>, NodeError> {
    match pb::InvitePolicy::try_from(v) {
        Ok(pb::InvitePolicy::Unspecified) => Ok(None),
        Ok(pb::InvitePolicy::Owner) => Ok(Some(InvitePolicy::Owner)),
        Ok(pb::InvitePolicy::Moderators) => Ok(Some(InvitePolicy::Moderators)),
        Ok(pb::InvitePolicy::Members) => Ok(Some(InvitePolicy::Members)),
        Err(_) => Err(NodeError::invalid(text!("error-bad-invite-policy"))),
    }
}

pub fn invitation_to_proto(i: &Invitation, group_name: &str, now: Timestamp) -> pb::Invitation {
    pb::Invitation {
        id: i.id,
        email: i.email.clone(),
        group_id: i.group,
        group_name: group_name.to_string(),
        inviter: i.inviter.clone(),
        state: match i.state_at(now) {
            InvitationState::Pending => pb::InvitationState::Pending,
            InvitationState::Accepted => pb::InvitationState::Accepted,
            InvitationState::Expired => pb::InvitationState::Expired,
            InvitationState::Revoked => pb::InvitationState::Revoked,
        } as i32,
        created_at: i.created_at.0,
        expires_at: i.expires_at.0,
        admits_to_group: i.admits_to_group,
        accepted_login: i.accepted_login.clone().unwrap_or_default(),
        language: i.language.map(|l| l.code().to_string()).unwrap_or_default(),
    }
}

pub fn invite_response(
    i: &portalnet_portal::Invited,
    group_name: &str,
    now: Timestamp,
) -> pb::InviteResponse {
    pb::InviteResponse {
        invitation: Some(invitation_to_proto(&i.invitation, group_name, now)),
        notice: i.notice.as_ref().map(|t| t.in_lang(crate::reply_lang::current())).unwrap_or_default(),
    }
}

pub fn report_by(v: i32) -> Result<ReportBy, NodeError> {
    match pb::ReportBy::try_from(v) {
        Ok(pb::ReportBy::Unspecified) | Ok(pb::ReportBy::Responsible) => Ok(ReportBy::Responsible),
        Ok(pb::ReportBy::Status) => Ok(ReportBy::Status),
        Ok(pb::ReportBy::Group) => Ok(ReportBy::Group),
        Err(_) => Err(NodeError::invalid(text!("error-bad-report-by"))),
    }
}

fn deadline(ms: i64) -> Result<Option<Timestamp>, NodeError> {
    match ms {
        0 => Ok(None),
        ms if ms > 0 => Ok(Some(Timestamp(ms))),
        _ => Err(NodeError::invalid(text!("error-bad-deadline"))),
    }
}

impl TryFrom<pb::AddUserRequest> for Checked<NewUser> {
    type Error = NodeError;
    fn try_from(r: pb::AddUserRequest) -> Result<Self, NodeError> {
        let language = portalnet_core::validate::language(&r.language)?;
        Ok(Checked(
            NewUser::new(&r.login, &r.display_name, &r.email, &r.position, r.admin)?.with_language(language),
        ))
    }
}

impl TryFrom<pb::CreateTaskRequest> for Checked<NewTask> {
    type Error = NodeError;
    fn try_from(r: pb::CreateTaskRequest) -> Result<Self, NodeError> {
        Ok(Checked(NewTask {
            title: r.title,
            description: r.description,
            responsible: Some(r.responsible).filter(|s| !s.trim().is_empty()),
            accomplices: r.accomplices,
            observers: r.observers,
            deadline: deadline(r.deadline)?,
            group: (r.group_id != 0).then_some(r.group_id),
        }))
    }
}

impl TryFrom<pb::UpdateTaskRequest> for Checked<(u64, TaskPatch)> {
    type Error = NodeError;
    fn try_from(r: pb::UpdateTaskRequest) -> Result<Self, NodeError> {
        let id = task_id(r.id)?;
        let dl = match r.deadline {
            0 => None,
            -1 => Some(None),
            ms => Some(deadline(ms)?),
        };
        if r.clear_group && r.group_id != 0 {
            return Err(NodeError::invalid(text!("error-group-and-clear")));
        }
        let group = if r.clear_group { Some(None) } else { (r.group_id != 0).then_some(Some(r.group_id)) };
        let patch = TaskPatch {
            title: r.title,
            description: r.description,
            responsible: r.responsible,
            accomplices: r.accomplices.map(|l| l.logins),
            observers: r.observers.map(|l| l.logins),
            deadline: dl,
            group,
        };
        Ok(Checked((id, patch)))
    }
}

/// Domain → proto.
pub trait ToProto {
    type Proto;
    fn to_proto(&self) -> Self::Proto;
}

impl ToProto for User {
    type Proto = pb::User;
    fn to_proto(&self) -> pb::User {
        pb::User {
            login: self.login.clone(),
            display_name: self.display_name.clone(),
            email: self.email.clone(),
            position: self.position.clone(),
            kind: match self.kind {
                UserKind::Employee => pb::UserKind::Employee,
                UserKind::Extranet => pb::UserKind::Extranet,
            } as i32,
            state: match self.state {
                UserState::Active => pb::UserState::Active,
                UserState::Dismissed => pb::UserState::Dismissed,
            } as i32,
            admin: self.admin,
            created_at: self.created_at.0,
            language: self.language.map(|l| l.code().to_string()).unwrap_or_default(),
        }
    }
}

impl ToProto for Group {
    type Proto = pb::Group;
    fn to_proto(&self) -> pb::Group {
        pb::Group {
            id: self.id,
            name: self.name.clone(),
            description: self.description.clone(),
            owner: self.owner().to_string(),
            members: self
                .members
                .iter()
                .map(|(login, r)| pb::GroupMember {
                    login: login.clone(),
                    role: match r {
                        GroupRole::Owner => pb::GroupRole::Owner,
                        GroupRole::Moderator => pb::GroupRole::Moderator,
                        GroupRole::Member => pb::GroupRole::Member,
                    } as i32,
                })
                .collect(),
            created_at: self.created_at.0,
            extranet: self.settings.extranet,
            invite_policy: match self.settings.invite_policy {
                InvitePolicy::Owner => pb::InvitePolicy::Owner,
                InvitePolicy::Moderators => pb::InvitePolicy::Moderators,
                InvitePolicy::Members => pb::InvitePolicy::Members,
            } as i32,
        }
    }
}

pub fn status_to_proto(s: TaskStatus) -> pb::TaskStatus {
    match s {
        TaskStatus::New => pb::TaskStatus::New,
        TaskStatus::InProgress => pb::TaskStatus::InProgress,
        TaskStatus::AwaitingControl => pb::TaskStatus::AwaitingControl,
        TaskStatus::Completed => pb::TaskStatus::Completed,
        TaskStatus::Deferred => pb::TaskStatus::Deferred,
    }
}

impl ToProto for FileMeta {
    type Proto = pb::FileInfo;
    fn to_proto(&self) -> pb::FileInfo {
        pb::FileInfo {
            id: self.id,
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            sha256: self.sha256.clone(),
            uploaded_by: self.uploaded_by.clone(),
            uploaded_at: self.uploaded_at.0,
            pending: false,
        }
    }
}

/// A task as of `now` (the overdue flag depends on it).
pub fn task_to_proto(t: &Task, now: Timestamp) -> pb::Task {
    pb::Task {
        id: t.id,
        title: t.title.clone(),
        description: t.description.clone(),
        creator: t.creator.clone(),
        responsible: t.responsible.clone(),
        accomplices: t.accomplices.clone(),
        observers: t.observers.clone(),
        status: status_to_proto(t.status) as i32,
        deadline: t.deadline.map_or(0, |d| d.0),
        group_id: t.group.unwrap_or(0),
        created_at: t.created_at.0,
        updated_at: t.updated_at.0,
        version: t.version,
        files: t.files.iter().map(ToProto::to_proto).collect(),
        comment_count: t.comment_count,
        overdue: t.is_overdue(now),
        home: t.home.as_ref().map(|h| h.portal.clone()).unwrap_or_default(),
        home_task_id: t.home.as_ref().map_or(t.id, |h| h.task),
        pending: Vec::new(),
    }
}

impl ToProto for ProposalRecord {
    type Proto = pb::PendingChange;
    fn to_proto(&self) -> pb::PendingChange {
        let (state, reason) = match &self.state {
            ProposalState::Pending => ("pending", String::new()),
            ProposalState::Applied { .. } => ("applied", String::new()),
            ProposalState::Rejected { reason, .. } => ("rejected", reason.clone()),
        };
        pb::PendingChange {
            id: self.id.to_string(),
            actor: self.actor.clone(),
            summary: self.op.summary(),
            state: state.into(),
            reason,
            created_at: self.created_at.0,
        }
    }
}

impl ToProto for Comment {
    type Proto = pb::Comment;
    fn to_proto(&self) -> pb::Comment {
        pb::Comment {
            task_id: self.task_id,
            id: self.id,
            author: self.author.clone(),
            text: self.text.clone(),
            created_at: self.created_at.0,
            pending: false,
        }
    }
}

impl ToProto for HistoryEntry {
    type Proto = pb::HistoryEntry;
    fn to_proto(&self) -> pb::HistoryEntry {
        pb::HistoryEntry {
            version: self.version,
            at: self.at.0,
            actor: self.actor.clone(),
            kind: self.change.kind().to_string(),
            summary: self.change.summary(),
            hash: String::new(),
        }
    }
}

impl ToProto for ReportRow {
    type Proto = pb::TaskReportRow;
    fn to_proto(&self) -> pb::TaskReportRow {
        pb::TaskReportRow {
            key: self.key.clone(),
            kind: self.kind.clone(),
            total: self.total,
            new: self.new,
            in_progress: self.in_progress,
            awaiting_control: self.awaiting_control,
            completed: self.completed,
            deferred: self.deferred,
            overdue: self.overdue,
        }
    }
}
