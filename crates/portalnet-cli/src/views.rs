//! JSON shapes of what the CLI prints, decoupled from the generated proto types so
//! enums read as lowercase words and times as RFC 3339 (null when unset).

use portalnet_proto::v1 as pb;
use serde::Serialize;

use crate::names::{kind_name, report_by_name, role_name, state_name, status_name};
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
        }
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
}

impl From<pb::Comment> for CommentView {
    fn from(c: pb::Comment) -> Self {
        Self {
            id: c.id,
            task_id: c.task_id,
            author: c.author,
            text: c.text,
            created_at: Millis(c.created_at),
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
}

impl From<pb::HistoryEntry> for HistoryView {
    fn from(h: pb::HistoryEntry) -> Self {
        Self { version: h.version, at: Millis(h.at), actor: h.actor, kind: h.kind, summary: h.summary }
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
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReportRowView {
    pub key: String,
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
}

impl From<pb::TaskReportResponse> for ReportView {
    fn from(r: pb::TaskReportResponse) -> Self {
        let rows: Vec<ReportRowView> = r.rows.into_iter().map(ReportRowView::from).collect();
        // Should the portal omit the totals, sum the rows rather than print zeros.
        let totals = match r.totals {
            Some(t) => ReportRowView::from(t),
            None => rows.iter().fold(
                ReportRowView {
                    key: "total".into(),
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
        Self { by: report_by_name(r.by), rows, totals }
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
        let r = ReportView::from(pb::TaskReportResponse {
            by: pb::ReportBy::Status as i32,
            rows: vec![row("a", 2), row("b", 3)],
            totals: None,
        });
        assert_eq!(r.by, "status");
        assert_eq!((r.totals.total, r.totals.new), (5, 5));
    }
}
