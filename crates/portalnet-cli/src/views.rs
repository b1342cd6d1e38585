//! JSON shapes of what the CLI prints, decoupled from the generated proto types so
//! enums read as lowercase words and times as RFC 3339 (null when unset).

use anyhow::anyhow;
use portalnet_proto::v1 as pb;
use serde::Serialize;

use crate::names::{
    invitation_state_name, invite_policy_name, kind_name, report_by_name, role_name, state_name, status_name,
};
use crate::time::Millis;

#[derive(Debug, Serialize)]
pub struct UserView {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub position: String,
    pub kind: &'static str,
    pub state: &'static str,
    pub admin: bool,
    pub created_at: Millis,
    /// The language the person reads; empty: the portal's.
    pub language: String,
}

impl From<pb::User> for UserView {
    fn from(u: pb::User) -> Self {
        Self {
            login: u.login,
            display_name: u.display_name,
            email: u.email,
            position: u.position,
            kind: kind_name(u.kind),
            state: state_name(u.state),
            admin: u.admin,
            created_at: Millis(u.created_at),
            language: u.language,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TokenView {
    pub login: String,
    pub token: String,
}

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub login: String,
    pub role: &'static str,
}

#[derive(Debug, Serialize)]
pub struct GroupView {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub members: Vec<MemberView>,
    pub created_at: Millis,
    /// Available in extranet: external users may be invited (R2).
    pub extranet: bool,
    /// Who may invite: owner, moderators or members (R5).
    pub invite_policy: &'static str,
}

impl From<pb::Group> for GroupView {
    fn from(g: pb::Group) -> Self {
        Self {
            id: g.id,
            name: g.name,
            description: g.description,
            owner: g.owner,
            members: g
                .members
                .into_iter()
                .map(|m| MemberView { login: m.login, role: role_name(m.role) })
                .collect(),
            created_at: Millis(g.created_at),
            extranet: g.extranet,
            invite_policy: invite_policy_name(g.invite_policy),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct InvitationView {
    pub id: u64,
    pub email: String,
    pub group_id: u64,
    pub group_name: String,
    pub inviter: String,
    pub state: &'static str,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// False when the person joins the portal but not the group (R6).
    pub admits_to_group: bool,
    /// The login the invitation created once accepted, else "".
    pub accepted_login: String,
    /// The invitee's language; "" for the portal's.
    pub language: String,
}

impl From<pb::Invitation> for InvitationView {
    fn from(i: pb::Invitation) -> Self {
        Self {
            id: i.id,
            email: i.email,
            group_id: i.group_id,
            group_name: i.group_name,
            inviter: i.inviter,
            state: invitation_state_name(i.state),
            created_at: Millis(i.created_at),
            expires_at: Millis(i.expires_at),
            admits_to_group: i.admits_to_group,
            accepted_login: i.accepted_login,
            language: i.language,
        }
    }
}

/// A new invitation plus what the inviter should know ("" when nothing).
#[derive(Debug, Serialize)]
pub struct InviteView {
    #[serde(flatten)]
    pub invitation: InvitationView,
    pub notice: String,
}

impl TryFrom<pb::InviteResponse> for InviteView {
    type Error = anyhow::Error;

    fn try_from(r: pb::InviteResponse) -> anyhow::Result<Self> {
        let invitation =
            r.invitation.ok_or_else(|| anyhow!("the portal sent an invite reply without the invitation"))?;
        Ok(Self { invitation: InvitationView::from(invitation), notice: r.notice })
    }
}

/// `group create`: the group and the invitations sent with it.
#[derive(Debug, Serialize)]
pub struct CreateGroupView {
    pub group: GroupView,
    pub invitations: Vec<InviteView>,
}

impl TryFrom<pb::CreateGroupResponse> for CreateGroupView {
    type Error = anyhow::Error;

    fn try_from(r: pb::CreateGroupResponse) -> anyhow::Result<Self> {
        let group =
            r.group.ok_or_else(|| anyhow!("the portal created the group but did not send it back"))?;
        Ok(Self {
            group: GroupView::from(group),
            invitations: r
                .invitations
                .into_iter()
                .map(InviteView::try_from)
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

/// `invite accept`: the new user, their first API token and where they landed.
#[derive(Debug, Serialize)]
pub struct AcceptView {
    /// null should the portal leave it out; the token is still worth showing.
    pub user: Option<UserView>,
    pub api_token: String,
    pub group_ids: Vec<u64>,
    pub portal_id: String,
}

impl From<pb::AcceptResponse> for AcceptView {
    fn from(a: pb::AcceptResponse) -> Self {
        Self {
            user: a.user.map(UserView::from),
            api_token: a.api_token,
            group_ids: a.group_ids,
            portal_id: a.portal_id,
        }
    }
}

/// The plan's seats (R8); `seats` 0 means unlimited.
#[derive(Debug, Serialize)]
pub struct PlanView {
    pub seats: u32,
    pub used: u32,
    pub employees: u32,
    pub extranet: u32,
}

impl From<pb::Plan> for PlanView {
    fn from(p: pb::Plan) -> Self {
        Self { seats: p.seats, used: p.used, employees: p.employees, extranet: p.extranet }
    }
}

#[derive(Debug, Serialize)]
pub struct FileView {
    pub id: u64,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: Millis,
}

impl From<pb::FileInfo> for FileView {
    fn from(f: pb::FileInfo) -> Self {
        Self {
            id: f.id,
            name: f.name,
            content_type: f.content_type,
            size: f.size,
            sha256: f.sha256,
            uploaded_by: f.uploaded_by,
            uploaded_at: Millis(f.uploaded_at),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct TaskView {
    pub id: u64,
    pub title: String,
    pub description: String,
    pub creator: String,
    pub responsible: String,
    pub accomplices: Vec<String>,
    pub observers: Vec<String>,
    pub status: &'static str,
    pub deadline: Millis,
    pub overdue: bool,
    /// null when the task is in no group.
    pub group_id: Option<u64>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub version: u64,
    pub comment_count: u32,
    pub files: Vec<FileView>,
    /// The portal that orders this task; null when homed here.
    pub home: Option<String>,
    /// The task's id at its home portal.
    pub home_task_id: u64,
    /// Changes made here that the home portal has not applied (or refused).
    pub pending: Vec<PendingView>,
}

#[derive(Debug, Serialize)]
pub struct PendingView {
    pub id: String,
    pub actor: String,
    pub summary: String,
    pub state: String,
    pub reason: String,
    pub created_at: Millis,
}

impl From<pb::PendingChange> for PendingView {
    fn from(p: pb::PendingChange) -> Self {
        Self {
            id: p.id,
            actor: p.actor,
            summary: p.summary,
            state: p.state,
            reason: p.reason,
            created_at: Millis(p.created_at),
        }
    }
}

impl From<pb::Task> for TaskView {
    fn from(t: pb::Task) -> Self {
        Self {
            id: t.id,
            title: t.title,
            description: t.description,
            creator: t.creator,
            responsible: t.responsible,
            accomplices: t.accomplices,
            observers: t.observers,
            status: status_name(t.status),
            deadline: Millis(t.deadline),
            overdue: t.overdue,
            group_id: (t.group_id != 0).then_some(t.group_id),
            created_at: Millis(t.created_at),
            updated_at: Millis(t.updated_at),
            version: t.version,
            comment_count: t.comment_count,
            files: t.files.into_iter().map(FileView::from).collect(),
            home: (!t.home.is_empty()).then_some(t.home),
            home_task_id: t.home_task_id,
            pending: t.pending.into_iter().map(PendingView::from).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct CommentView {
    pub id: u64,
    pub task_id: u64,
    pub author: String,
    pub text: String,
    pub created_at: Millis,
    /// Sent to the task's home portal, not applied yet.
    pub pending: bool,
}

impl From<pb::Comment> for CommentView {
    fn from(c: pb::Comment) -> Self {
        Self {
            id: c.id,
            task_id: c.task_id,
            author: c.author,
            text: c.text,
            created_at: Millis(c.created_at),
            pending: c.pending,
        }
    }
}

/// `task show`: the task (with its files) plus its comments.
#[derive(Debug, Serialize)]
pub struct TaskDetailView {
    #[serde(flatten)]
    pub task: TaskView,
    pub comments: Vec<CommentView>,
}

#[derive(Debug, Serialize)]
pub struct HistoryView {
    pub version: u64,
    pub at: Millis,
    pub actor: String,
    pub kind: String,
    pub summary: String,
    /// Hex SHA-256 of the entry's signed event.
    pub hash: String,
}

impl From<pb::HistoryEntry> for HistoryView {
    fn from(h: pb::HistoryEntry) -> Self {
        Self {
            version: h.version,
            at: Millis(h.at),
            actor: h.actor,
            kind: h.kind,
            summary: h.summary,
            hash: h.hash,
        }
    }
}

/// A participating portal's refusal of one event, shown in the history as a row
/// of kind `refused` after the version it refused.
impl From<pb::DeliveryRefusal> for HistoryView {
    fn from(r: pb::DeliveryRefusal) -> Self {
        Self {
            version: r.version,
            at: Millis(r.at),
            actor: r.portal_id.clone(),
            kind: "refused".into(),
            summary: format!("portal {} refused this change: {}", r.portal_id, r.reason),
            hash: String::new(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct VerifyView {
    pub ok: bool,
    pub events: u64,
    pub head_hash: String,
    pub home: String,
    pub problems: Vec<String>,
}

impl From<pb::VerifyHistoryResponse> for VerifyView {
    fn from(v: pb::VerifyHistoryResponse) -> Self {
        Self { ok: v.ok, events: v.events, head_hash: v.head_hash, home: v.home, problems: v.problems }
    }
}

#[derive(Debug, Serialize)]
pub struct OutboxView {
    pub portal_id: String,
    pub depth: u64,
    pub oldest_age_ms: i64,
    pub last_error: String,
    pub last_attempt_at: Millis,
    pub last_success_at: Millis,
    pub failed_attempts: u32,
    pub next_attempt_at: Millis,
    pub delivered: u64,
    pub refused: u64,
    pub last_refusal: String,
}

impl From<pb::OutboxRow> for OutboxView {
    fn from(r: pb::OutboxRow) -> Self {
        Self {
            portal_id: r.portal_id,
            depth: r.depth,
            oldest_age_ms: r.oldest_age_ms,
            last_error: r.last_error,
            last_attempt_at: Millis(r.last_attempt_at),
            last_success_at: Millis(r.last_success_at),
            failed_attempts: r.failed_attempts,
            next_attempt_at: Millis(r.next_attempt_at),
            delivered: r.delivered,
            refused: r.refused,
            last_refusal: r.last_refusal,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WorkerView {
    pub name: String,
    pub state: String,
    pub last_error: String,
    pub next_try_at: Millis,
    pub failures: u32,
}

impl From<pb::WorkerRow> for WorkerView {
    fn from(r: pb::WorkerRow) -> Self {
        Self {
            name: r.name,
            state: r.state,
            last_error: r.last_error,
            next_try_at: Millis(r.next_try_at),
            failures: r.failures,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct DownloadView {
    pub file: FileView,
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct PortalView {
    pub portal_id: String,
    pub display_name: String,
    pub endpoints: Vec<String>,
    pub key_fingerprint: String,
    pub public_key: String,
    pub version: String,
    pub user_count: u32,
    pub max_file_bytes: u64,
    /// Base URL of the portal's web pages; "" when it serves none.
    pub web_url: String,
    /// Inbound mail listeners (R18–R22); "" when off.
    pub lmtp_listen: String,
    pub smtp_listen: String,
    /// Base URL of e-mail participants' task pages.
    pub task_page_url: String,
    /// Domain of task and reply addresses.
    pub mail_domain: String,
}

impl From<pb::PortalInfo> for PortalView {
    fn from(p: pb::PortalInfo) -> Self {
        Self {
            portal_id: p.portal_id,
            display_name: p.display_name,
            endpoints: p.endpoints,
            key_fingerprint: p.key_fingerprint,
            public_key: p.public_key,
            version: p.version,
            user_count: p.user_count,
            max_file_bytes: p.max_file_bytes,
            web_url: p.web_url,
            lmtp_listen: p.lmtp_listen,
            smtp_listen: p.smtp_listen,
            task_page_url: p.task_page_url,
            mail_domain: p.mail_domain,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRowView {
    pub key: String,
    /// By responsible only: "employee" or "extranet" ("" in the totals); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub total: u32,
    pub new: u32,
    pub in_progress: u32,
    pub awaiting_control: u32,
    pub completed: u32,
    pub deferred: u32,
    pub overdue: u32,
}

impl From<pb::TaskReportRow> for ReportRowView {
    fn from(r: pb::TaskReportRow) -> Self {
        Self {
            key: r.key,
            kind: Some(r.kind),
            total: r.total,
            new: r.new,
            in_progress: r.in_progress,
            awaiting_control: r.awaiting_control,
            completed: r.completed,
            deferred: r.deferred,
            overdue: r.overdue,
        }
    }
}

impl ReportRowView {
    /// The counts in column order (after the key).
    pub fn counts(&self) -> [u32; 7] {
        [
            self.total,
            self.new,
            self.in_progress,
            self.awaiting_control,
            self.completed,
            self.deferred,
            self.overdue,
        ]
    }
}

#[derive(Debug, Serialize)]
pub struct ReportView {
    pub by: &'static str,
    pub rows: Vec<ReportRowView>,
    pub totals: ReportRowView,
    /// Of the counted tasks, those with an e-mail participant (R24).
    pub with_email_participants: u32,
    /// Of the counted tasks, those with an extranet participant (R24).
    pub with_extranet_participants: u32,
}

impl ReportView {
    /// `requested` names the grouping asked for, used when the reply leaves `by` unset.
    /// Rows carry a kind only when keyed by responsible person.
    pub fn from_reply(r: pb::TaskReportResponse, requested: &'static str) -> Self {
        let by = match report_by_name(r.by) {
            "unspecified" => requested,
            by => by,
        };
        let (with_email_participants, with_extranet_participants) =
            (r.with_email_participants, r.with_extranet_participants);
        let mut rows: Vec<ReportRowView> = r.rows.into_iter().map(ReportRowView::from).collect();
        // Should the portal omit the totals, sum the rows rather than print zeros.
        let mut totals = match r.totals {
            Some(t) => ReportRowView::from(t),
            None => rows.iter().fold(
                ReportRowView {
                    key: "total".into(),
                    kind: None,
                    total: 0,
                    new: 0,
                    in_progress: 0,
                    awaiting_control: 0,
                    completed: 0,
                    deferred: 0,
                    overdue: 0,
                },
                |mut acc, r| {
                    acc.total = acc.total.saturating_add(r.total);
                    acc.new = acc.new.saturating_add(r.new);
                    acc.in_progress = acc.in_progress.saturating_add(r.in_progress);
                    acc.awaiting_control = acc.awaiting_control.saturating_add(r.awaiting_control);
                    acc.completed = acc.completed.saturating_add(r.completed);
                    acc.deferred = acc.deferred.saturating_add(r.deferred);
                    acc.overdue = acc.overdue.saturating_add(r.overdue);
                    acc
                },
            ),
        };
        if by == "responsible" {
            totals.kind = Some(String::new());
        } else {
            totals.kind = None;
            for row in &mut rows {
                row.kind = None;
            }
        }
        Self { by, rows, totals, with_email_participants, with_extranet_participants }
    }
}

/// `mail address show|reset` (R18).
#[derive(Debug, Serialize)]
pub struct MailAddressView {
    pub login: String,
    /// Empty when an administrator reset someone else's address.
    pub address: String,
    pub created_at: Millis,
}

impl From<pb::MailAddress> for MailAddressView {
    fn from(a: pb::MailAddress) -> Self {
        Self { login: a.login, address: a.address, created_at: Millis(a.created_at_ms) }
    }
}

/// `mail link list|revoke` (R21, R22).
#[derive(Debug, Serialize)]
pub struct TaskLinkView {
    pub task_id: u64,
    pub participant: String,
    pub revoked: bool,
    pub created_at: Millis,
    pub notices_sent: u32,
}

impl From<pb::TaskLink> for TaskLinkView {
    fn from(l: pb::TaskLink) -> Self {
        Self {
            task_id: l.task_id,
            participant: l.participant,
            revoked: l.revoked,
            created_at: Millis(l.created_at_ms),
            notices_sent: l.notices_sent,
        }
    }
}

/// `network enable|disable|status` (R13–R15); unset times are null.
#[derive(Debug, Serialize)]
pub struct NetworkView {
    pub enabled: bool,
    pub enabled_since: Millis,
    /// When cross-portal tasks become possible (enabled since + activation delay, R15).
    pub cross_portal_available_from: Millis,
    pub cross_portal_available_now: bool,
    /// "" when the portal is linked to no directory.
    pub directory_endpoint: String,
    /// People of this portal published in the directory.
    pub published: u32,
}

impl From<pb::NetworkStatus> for NetworkView {
    fn from(n: pb::NetworkStatus) -> Self {
        Self {
            enabled: n.enabled,
            enabled_since: Millis(n.enabled_since),
            cross_portal_available_from: Millis(n.cross_portal_available_from),
            cross_portal_available_now: n.cross_portal_available_now,
            directory_endpoint: n.directory_endpoint,
            published: n.published,
        }
    }
}

/// One person found in the Network directory (R16).
#[derive(Debug, Serialize)]
pub struct PersonView {
    pub name: String,
    pub position: String,
    pub portal: String,
    /// login@portal
    pub address: String,
}

impl From<pb::Person> for PersonView {
    fn from(p: pb::Person) -> Self {
        Self { name: p.display_name, position: p.position, portal: p.portal_id, address: p.address }
    }
}

/// `network search`: one page of people, and whether another follows.
#[derive(Debug, Serialize)]
pub struct SearchView {
    pub people: Vec<PersonView>,
    pub more: bool,
}

impl From<pb::SearchResponse> for SearchView {
    fn from(r: pb::SearchResponse) -> Self {
        Self { people: r.people.into_iter().map(PersonView::from).collect(), more: r.more }
    }
}

/// The caller's Network account (R11): the addresses linked to it, the owner
/// address (whose portal speaks for it) and addresses asking to join.
#[derive(Debug, Serialize)]
pub struct AccountView {
    pub addresses: Vec<String>,
    pub owner: String,
    pub requests: Vec<String>,
}

impl From<pb::Account> for AccountView {
    fn from(a: pb::Account) -> Self {
        Self { addresses: a.addresses, owner: a.owner, requests: a.requests }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_json_shape() {
        let t = pb::Task {
            id: 7,
            title: "T".into(),
            status: pb::TaskStatus::InProgress as i32,
            deadline: 1_796_169_599_000,
            ..Default::default()
        };
        let v = serde_json::to_value(TaskView::from(t)).unwrap();
        assert_eq!(v["status"], "in_progress");
        assert_eq!(v["deadline"], "2026-12-01T23:59:59Z");
        assert_eq!(v["group_id"], serde_json::Value::Null);
        assert_eq!(v["created_at"], serde_json::Value::Null);
    }

    #[test]
    fn missing_report_totals_are_summed() {
        let row = |k: &str, n| pb::TaskReportRow { key: k.into(), total: n, new: n, ..Default::default() };
        let r = ReportView::from_reply(
            pb::TaskReportResponse {
                by: pb::ReportBy::Status as i32,
                rows: vec![row("a", 2), row("b", 3)],
                totals: None,
                ..Default::default()
            },
            "status",
        );
        assert_eq!(r.by, "status");
        assert_eq!((r.totals.total, r.totals.new), (5, 5));
    }

    #[test]
    fn report_kinds_only_by_responsible() {
        let row = |k: &str, kind: &str| pb::TaskReportRow {
            key: k.into(),
            kind: kind.into(),
            total: 1,
            ..Default::default()
        };
        let reply = |by: pb::ReportBy| pb::TaskReportResponse {
            by: by as i32,
            rows: vec![row("anna", "employee"), row("jan", "extranet")],
            totals: Some(row("total", "employee")),
            ..Default::default()
        };
        let v = serde_json::to_value(ReportView::from_reply(reply(pb::ReportBy::Responsible), "responsible"))
            .unwrap();
        assert_eq!(v["by"], "responsible");
        assert_eq!(v["rows"][0]["kind"], "employee");
        assert_eq!(v["rows"][1]["kind"], "extranet");
        assert_eq!(v["totals"]["kind"], "");
        // The reply's own `by` wins; unset, the requested one is used.
        let v = serde_json::to_value(ReportView::from_reply(reply(pb::ReportBy::Unspecified), "responsible"))
            .unwrap();
        assert_eq!(
            (v["by"].as_str(), v["rows"][1]["kind"].as_str()),
            (Some("responsible"), Some("extranet"))
        );
        let v = serde_json::to_value(ReportView::from_reply(reply(pb::ReportBy::Group), "group")).unwrap();
        assert_eq!(v["by"], "group");
        assert!(v["rows"][0].get("kind").is_none(), "{v}");
        assert!(v["totals"].get("kind").is_none(), "{v}");
    }

    #[test]
    fn group_json_has_extranet_and_invite_policy() {
        let g = pb::Group {
            id: 3,
            name: "Contractors".into(),
            extranet: true,
            invite_policy: pb::InvitePolicy::Moderators as i32,
            ..Default::default()
        };
        let v = serde_json::to_value(GroupView::from(g)).unwrap();
        assert_eq!(v["extranet"], true);
        assert_eq!(v["invite_policy"], "moderators");
        let v = serde_json::to_value(GroupView::from(pb::Group::default())).unwrap();
        assert_eq!(v["extranet"], false);
        assert_eq!(v["invite_policy"], "unspecified");
    }

    fn invitation() -> pb::Invitation {
        pb::Invitation {
            id: 11,
            email: "jan@ext.test".into(),
            group_id: 3,
            group_name: "Contractors".into(),
            inviter: "anna".into(),
            state: pb::InvitationState::Pending as i32,
            created_at: 1000,
            expires_at: 1_796_169_599_000,
            admits_to_group: false,
            accepted_login: String::new(),
            language: String::new(),
        }
    }

    #[test]
    fn invite_json_is_the_invitation_plus_notice() {
        let r =
            pb::InviteResponse { invitation: Some(invitation()), notice: "not added to the group".into() };
        let v = serde_json::to_value(InviteView::try_from(r).unwrap()).unwrap();
        assert_eq!(v["id"], 11);
        assert_eq!(v["email"], "jan@ext.test");
        assert_eq!(v["group_id"], 3);
        assert_eq!(v["state"], "pending");
        assert_eq!(v["expires_at"], "2026-12-01T23:59:59Z");
        assert_eq!(v["admits_to_group"], false);
        assert_eq!(v["accepted_login"], "");
        assert_eq!(v["notice"], "not added to the group");
        let err = InviteView::try_from(pb::InviteResponse { invitation: None, notice: String::new() });
        assert!(err.unwrap_err().to_string().contains("without the invitation"));
    }

    #[test]
    fn create_group_json_has_group_and_invitations() {
        let r = pb::CreateGroupResponse {
            group: Some(pb::Group { id: 3, extranet: true, ..Default::default() }),
            invitations: vec![pb::InviteResponse { invitation: Some(invitation()), notice: String::new() }],
        };
        let v = serde_json::to_value(CreateGroupView::try_from(r).unwrap()).unwrap();
        assert_eq!(v["group"]["id"], 3);
        assert_eq!(v["group"]["extranet"], true);
        assert_eq!(v["invitations"][0]["id"], 11);
        assert_eq!(v["invitations"][0]["notice"], "");
        let r = pb::CreateGroupResponse { group: None, invitations: vec![] };
        assert!(CreateGroupView::try_from(r).is_err());
    }

    #[test]
    fn accept_json_shape() {
        let a = pb::AcceptResponse {
            user: Some(pb::User {
                login: "jan".into(),
                kind: pb::UserKind::Extranet as i32,
                state: pb::UserState::Active as i32,
                ..Default::default()
            }),
            api_token: "pn_secret".into(),
            group_ids: vec![3],
            portal_id: "alpha.test".into(),
        };
        let v = serde_json::to_value(AcceptView::from(a)).unwrap();
        assert_eq!(v["user"]["login"], "jan");
        assert_eq!(v["user"]["kind"], "extranet");
        assert_eq!(v["api_token"], "pn_secret");
        assert_eq!(v["group_ids"], serde_json::json!([3]));
        assert_eq!(v["portal_id"], "alpha.test");
        let v = serde_json::to_value(AcceptView::from(pb::AcceptResponse::default())).unwrap();
        assert_eq!(v["user"], serde_json::Value::Null);
        assert_eq!(v["group_ids"], serde_json::json!([]));
    }

    #[test]
    fn plan_and_portal_json() {
        let p = pb::Plan { seats: 0, used: 5, employees: 3, extranet: 2 };
        assert_eq!(
            serde_json::to_value(PlanView::from(p)).unwrap(),
            serde_json::json!({"seats": 0, "used": 5, "employees": 3, "extranet": 2})
        );
        let info = pb::PortalInfo { web_url: "https://alpha.test:8443".into(), ..Default::default() };
        assert_eq!(
            serde_json::to_value(PortalView::from(info)).unwrap()["web_url"],
            "https://alpha.test:8443"
        );
    }

    #[test]
    fn network_status_json() {
        let n = pb::NetworkStatus {
            enabled: true,
            enabled_since: 1_796_083_200_000,
            cross_portal_available_from: 1_796_169_599_000,
            cross_portal_available_now: false,
            directory_endpoint: "https://dir.test:7500".into(),
            published: 12,
        };
        assert_eq!(
            serde_json::to_value(NetworkView::from(n)).unwrap(),
            serde_json::json!({
                "enabled": true,
                "enabled_since": "2026-12-01T00:00:00Z",
                "cross_portal_available_from": "2026-12-01T23:59:59Z",
                "cross_portal_available_now": false,
                "directory_endpoint": "https://dir.test:7500",
                "published": 12
            })
        );
        assert_eq!(
            serde_json::to_value(NetworkView::from(pb::NetworkStatus::default())).unwrap(),
            serde_json::json!({
                "enabled": false,
                "enabled_since": null,
                "cross_portal_available_from": null,
                "cross_portal_available_now": false,
                "directory_endpoint": "",
                "published": 0
            })
        );
    }

    #[test]
    fn search_json_renames_person_fields() {
        let r = pb::SearchResponse {
            people: vec![pb::Person {
                display_name: "Anna Kowalska".into(),
                position: "Engineer".into(),
                portal_id: "beta.test".into(),
                address: "anna@beta.test".into(),
            }],
            more: true,
        };
        assert_eq!(
            serde_json::to_value(SearchView::from(r)).unwrap(),
            serde_json::json!({
                "people": [{
                    "name": "Anna Kowalska",
                    "position": "Engineer",
                    "portal": "beta.test",
                    "address": "anna@beta.test"
                }],
                "more": true
            })
        );
        assert_eq!(
            serde_json::to_value(SearchView::from(pb::SearchResponse::default())).unwrap(),
            serde_json::json!({"people": [], "more": false})
        );
    }

    #[test]
    fn account_json() {
        let a = pb::Account {
            addresses: vec!["anna@alpha.test".into(), "anna@beta.test".into()],
            owner: "anna@alpha.test".into(),
            requests: vec!["x@evil.test".into()],
        };
        assert_eq!(
            serde_json::to_value(AccountView::from(a)).unwrap(),
            serde_json::json!({
                "addresses": ["anna@alpha.test", "anna@beta.test"],
                "owner": "anna@alpha.test",
                "requests": ["x@evil.test"]
            })
        );
        assert_eq!(
            serde_json::to_value(AccountView::from(pb::Account::default())).unwrap(),
            serde_json::json!({"addresses": [], "owner": "", "requests": []})
        );
    }
}
