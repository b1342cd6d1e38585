//! Tasks, their comments and files, and the append-only history of changes.
//!
//! Every mutation is a pure function from (task, actor, request, time) to the new
//! task plus one [`Change`] that the store appends to the history in the same
//! transaction.

use crate::address;
use crate::error::{Error, Result, text};
use crate::group::GroupId;
use crate::limits::Limits;
use crate::permissions::{Action, Relation, authorize};
use crate::time::Timestamp;
use crate::validate;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

pub type TaskId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    New,
    InProgress,
    AwaitingControl,
    Completed,
    Deferred,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 5] = [
        TaskStatus::New,
        TaskStatus::InProgress,
        TaskStatus::AwaitingControl,
        TaskStatus::Completed,
        TaskStatus::Deferred,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TaskStatus::New => "new",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::AwaitingControl => "awaiting_control",
            TaskStatus::Completed => "completed",
            TaskStatus::Deferred => "deferred",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|st| st.name() == norm)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    pub id: u64,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    /// Set on a replica: the portal that orders this task and its id there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home: Option<TaskHome>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub creator: String,
    pub responsible: String,
    #[serde(default)]
    pub accomplices: Vec<String>,
    #[serde(default)]
    pub observers: Vec<String>,
    pub status: TaskStatus,
    #[serde(default)]
    pub deadline: Option<Timestamp>,
    #[serde(default)]
    pub group: Option<GroupId>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Number of history entries; the version of the latest one.
    pub version: u64,
    #[serde(default)]
    pub files: Vec<FileMeta>,
    #[serde(default)]
    pub comment_count: u32,
}

impl Task {
    /// A task is overdue when its deadline has passed and it is not completed.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status != TaskStatus::Completed && self.deadline.is_some_and(|d| d < now)
    }

    /// Every login that takes part, creator first, without repeats.
    pub fn participants(&self) -> Vec<&str> {
        // A set, not `Vec::contains`: a replica's task comes from another portal's
        // event, whose lists no local limit has bounded.
        let mut seen: HashSet<&str> = HashSet::new();
        [self.creator.as_str(), self.responsible.as_str()]
            .into_iter()
            .chain(self.accomplices.iter().map(String::as_str))
            .chain(self.observers.iter().map(String::as_str))
            .filter(|p| seen.insert(p))
            .collect()
    }

    fn bump(&mut self, now: Timestamp) -> u64 {
        self.version += 1;
        self.updated_at = now;
        self.version
    }
}

/// Where a replicated task lives: its home portal orders its history (R17).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TaskHome {
    pub portal: String,
    pub task: TaskId,
}

/// One entry of a task's append-only history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub task_id: TaskId,
    pub version: u64,
    pub at: Timestamp,
    pub actor: String,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Created { title: String, responsible: String },
    Updated { fields: Vec<FieldChange> },
    Status { from: TaskStatus, to: TaskStatus },
    Comment { comment_id: u64 },
    File { file_id: u64, name: String, size: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Created { .. } => "created",
            Change::Updated { .. } => "updated",
            Change::Status { .. } => "status",
            Change::Comment { .. } => "comment",
            Change::File { .. } => "file",
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Change::Created { title, responsible } => {
                format!("created \"{title}\", responsible {responsible}")
            }
            Change::Updated { fields } => fields
                .iter()
                .map(|f| format!("{}: \"{}\" → \"{}\"", f.field, f.from, f.to))
                .collect::<Vec<_>>()
                .join("; "),
            Change::Status { from, to } => format!("status {} → {}", from.name(), to.name()),
            Change::Comment { comment_id } => format!("comment #{comment_id}"),
            Change::File { name, size, .. } => format!("attached \"{name}\" ({size} bytes)"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub task_id: TaskId,
    pub id: u64,
    pub author: String,
    pub text: String,
    pub created_at: Timestamp,
}

/// A validated request to create a task. Participant logins are checked for form
/// here and for existence by the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: String,
    /// `None`: the creator is responsible.
    pub responsible: Option<String>,
    pub accomplices: Vec<String>,
    pub observers: Vec<String>,
    pub deadline: Option<Timestamp>,
    pub group: Option<GroupId>,
}

impl NewTask {
    pub fn validate(mut self, limits: &Limits) -> Result<Self> {
        self.title = title(&self.title, limits)?;
        self.description = validate::text("description", &self.description, limits.max_description_bytes)?;
        if let Some(r) = &self.responsible {
            self.responsible = Some(address::participant("responsible", r)?);
        }
        self.accomplices = logins("accomplices", &self.accomplices)?;
        self.observers = logins("observers", &self.observers)?;
        let n = 2 + self.accomplices.len() + self.observers.len();
        if n > limits.max_participants {
            return Err(Error::invalid(text!(
                "error-too-many-participants",
                max = limits.max_participants,
                n = n
            )));
        }
        if let Some(d) = self.deadline {
            deadline(d)?;
        }
        Ok(self)
    }

    /// Names this portal's (`me`) own people by their bare login; call after
    /// [`NewTask::validate`] (which lowercases portal ids).
    pub fn localize(mut self, me: &str) -> Self {
        self.responsible = self.responsible.map(|r| local(r, me));
        self.accomplices = local_list(self.accomplices, me);
        self.observers = local_list(self.observers, me);
        self
    }

    pub fn into_task(self, id: TaskId, creator: &str, now: Timestamp) -> (Task, Change) {
        let responsible = self.responsible.unwrap_or_else(|| creator.to_string());
        let task = Task {
            id,
            home: None,
            title: self.title,
            description: self.description,
            creator: creator.to_string(),
            responsible,
            accomplices: self.accomplices,
            observers: self.observers,
            status: TaskStatus::New,
            deadline: self.deadline,
            group: self.group,
            created_at: now,
            updated_at: now,
            version: 1,
            files: Vec::new(),
            comment_count: 0,
        };
        let change = Change::Created { title: task.title.clone(), responsible: task.responsible.clone() };
        (task, change)
    }
}

/// A validated edit. `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub responsible: Option<String>,
    pub accomplices: Option<Vec<String>>,
    pub observers: Option<Vec<String>>,
    /// `Some(None)` clears the deadline.
    pub deadline: Option<Option<Timestamp>>,
    /// `Some(None)` removes the task from its group.
    pub group: Option<Option<GroupId>>,
}

impl TaskPatch {
    pub fn is_empty(&self) -> bool {
        *self == TaskPatch::default()
    }

    pub fn validate(mut self, limits: &Limits) -> Result<Self> {
        if self.is_empty() {
            return Err(Error::invalid(text!("error-empty-update")));
        }
        if let Some(t) = &self.title {
            self.title = Some(title(t, limits)?);
        }
        if let Some(d) = &self.description {
            self.description = Some(validate::text("description", d, limits.max_description_bytes)?);
        }
        if let Some(r) = &self.responsible {
            self.responsible = Some(address::participant("responsible", r)?);
        }
        if let Some(a) = &self.accomplices {
            self.accomplices = Some(logins("accomplices", a)?);
        }
        if let Some(o) = &self.observers {
            self.observers = Some(logins("observers", o)?);
        }
        if let Some(Some(d)) = self.deadline {
            deadline(d)?;
        }
        Ok(self)
    }

    /// Names this portal's (`me`) own people by their bare login; call after
    /// [`TaskPatch::validate`] (which lowercases portal ids).
    pub fn localize(mut self, me: &str) -> Self {
        self.responsible = self.responsible.map(|r| local(r, me));
        self.accomplices = self.accomplices.map(|l| local_list(l, me));
        self.observers = self.observers.map(|l| local_list(l, me));
        self
    }

    /// Applies the edit as `rel` allows. Returns the change to record, or `None`
    /// when every given field already had its value (nothing is recorded then).
    pub fn apply(
        self,
        task: &mut Task,
        rel: Relation,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<Option<Change>> {
        authorize(rel, Action::Edit, task.id, task.status)?;
        let mut next = task.clone();
        let mut fields = Vec::new();
        let mut diff = |field: &str, from: String, to: String| {
            if from != to {
                fields.push(FieldChange { field: field.into(), from, to });
            }
        };
        if let Some(v) = self.title {
            diff("title", next.title.clone(), v.clone());
            next.title = v;
        }
        if let Some(v) = self.description {
            diff("description", excerpt(&next.description), excerpt(&v));
            next.description = v;
        }
        if let Some(v) = self.responsible {
            diff("responsible", next.responsible.clone(), v.clone());
            next.responsible = v;
        }
        if let Some(v) = self.accomplices {
            diff("accomplices", next.accomplices.join(","), v.join(","));
            next.accomplices = v;
        }
        if let Some(v) = self.observers {
            diff("observers", next.observers.join(","), v.join(","));
            next.observers = v;
        }
        if let Some(v) = self.deadline {
            diff("deadline", fmt_opt(next.deadline.map(|t| t.0)), fmt_opt(v.map(|t| t.0)));
            next.deadline = v;
        }
        if let Some(v) = self.group {
            diff("group", fmt_opt(next.group), fmt_opt(v));
            next.group = v;
        }
        let n = 2 + next.accomplices.len() + next.observers.len();
        if n > limits.max_participants {
            return Err(Error::invalid(text!(
                "error-edit-too-many-participants",
                max = limits.max_participants,
                n = n
            )));
        }
        if fields.is_empty() {
            return Ok(None);
        }
        next.bump(now);
        *task = next;
        Ok(Some(Change::Updated { fields }))
    }
}

/// Changes the status as `rel` allows.
pub fn set_status(task: &mut Task, rel: Relation, to: TaskStatus, now: Timestamp) -> Result<Change> {
    authorize(rel, Action::SetStatus(to), task.id, task.status)?;
    let from = task.status;
    task.status = to;
    task.bump(now);
    Ok(Change::Status { from, to })
}

/// Adds a comment as `rel` allows; `comment_id` is allotted by the caller.
pub fn add_comment(
    task: &mut Task,
    rel: Relation,
    author: &str,
    text: &str,
    comment_id: u64,
    limits: &Limits,
    now: Timestamp,
) -> Result<(Comment, Change)> {
    authorize(rel, Action::Comment, task.id, task.status)?;
    let text = validate::text("comment", text, limits.max_comment_bytes)?;
    if text.trim().is_empty() {
        return Err(Error::invalid(text!("error-comment-required")));
    }
    task.comment_count = task.comment_count.saturating_add(1);
    task.bump(now);
    let comment =
        Comment { task_id: task.id, id: comment_id, author: author.to_string(), text, created_at: now };
    Ok((comment, Change::Comment { comment_id }))
}

/// Checks a file before its bytes are stored, and records it on the task.
pub fn attach_file(
    task: &mut Task,
    rel: Relation,
    meta: FileMeta,
    limits: &Limits,
    now: Timestamp,
) -> Result<Change> {
    authorize(rel, Action::Attach, task.id, task.status)?;
    check_file(&meta.name, &meta.content_type, meta.size, limits)?;
    if task.files.len() >= limits.max_files_per_task {
        return Err(Error::precondition(text!("error-too-many-files", task = task.id, n = task.files.len())));
    }
    let change = Change::File { file_id: meta.id, name: meta.name.clone(), size: meta.size };
    task.files.push(meta);
    task.bump(now);
    Ok(change)
}

/// Validates a file's name, type and size against the limits.
pub fn check_file(name: &str, content_type: &str, size: u64, limits: &Limits) -> Result<()> {
    let n = name.trim();
    if n.is_empty() {
        return Err(Error::invalid(text!("error-file-name-required")));
    }
    if n.contains(['/', '\\']) || n == "." || n == ".." {
        return Err(Error::invalid(text!("error-file-name-path", name = crate::quote(n))));
    }
    validate::optional_line("file name", n, limits.max_file_name_chars)?;
    if content_type.len() > 127 || content_type.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(text!("error-content-type")));
    }
    if size > limits.max_file_bytes {
        return Err(Error::invalid(text!(
            "error-file-too-big",
            name = crate::quote(n),
            size = size,
            max = limits.max_file_bytes
        )));
    }
    Ok(())
}

fn title(t: &str, limits: &Limits) -> Result<String> {
    let t = validate::optional_line("title", t, limits.max_title_chars)?;
    if t.is_empty() {
        return Err(Error::invalid(text!("error-title-required")));
    }
    Ok(t)
}

/// Validates a list of participants and drops repeats, keeping the first of each.
/// Linear (a set), so a request with hundreds of thousands of names is refused by
/// the participant limit at once rather than after minutes of comparisons.
fn logins(field: &str, list: &[String]) -> Result<Vec<String>> {
    let valid = list.iter().map(|l| address::participant(field, l)).collect::<Result<Vec<_>>>()?;
    Ok(distinct(valid))
}

/// `list` without repeats, in first-seen order.
fn distinct(list: Vec<String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::with_capacity(list.len());
    list.into_iter().filter(|l| seen.insert(l.clone())).collect()
}

/// The participant as this portal stores it: `login@<this portal>` becomes the
/// bare login (the form the directory search gives for the portal's own people,
/// R16), so the person finds the task under their own login.
fn local(p: String, me: &str) -> String {
    address::localize(&p, me)
}

fn local_list(list: Vec<String>, me: &str) -> Vec<String> {
    distinct(list.into_iter().map(|p| local(p, me)).collect())
}

fn deadline(d: Timestamp) -> Result<()> {
    // 1970..=9999: rejects garbage and negative values early.
    if d.0 <= 0 || d.0 > 253_402_300_799_000 {
        return Err(Error::invalid(text!("error-deadline-range")));
    }
    Ok(())
}

fn excerpt(s: &str) -> String {
    let e: String = s.chars().take(60).collect();
    if e.len() < s.len() { format!("{e}…") } else { e }
}

fn fmt_opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_task() -> Task {
        let nt = NewTask {
            title: "  Fix the roof ".into(),
            description: "leaks\n".into(),
            responsible: Some("bob".into()),
            accomplices: vec!["carol".into(), "carol".into()],
            observers: vec![],
            deadline: Some(Timestamp(1_000)),
            group: None,
        };
        nt.validate(&Limits::default()).unwrap().into_task(1, "alice", Timestamp(10)).0
    }

    fn creator() -> Relation {
        Relation { creator: true, ..Default::default() }
    }

    #[test]
    fn create_validates_and_normalises() {
        let t = new_task();
        assert_eq!(t.title, "Fix the roof");
        assert_eq!(t.description, "leaks");
        assert_eq!(t.accomplices, vec!["carol"]);
        assert_eq!(t.version, 1);
        assert_eq!(t.participants(), vec!["alice", "bob", "carol"]);
        let bad = NewTask {
            title: " ".into(),
            description: String::new(),
            responsible: None,
            accomplices: vec![],
            observers: vec![],
            deadline: None,
            group: None,
        };
        assert!(matches!(bad.validate(&Limits::default()), Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn patch_records_only_real_changes() {
        let mut t = new_task();
        let limits = Limits::default();
        let same = TaskPatch { title: Some("Fix the roof".into()), ..Default::default() };
        assert_eq!(same.apply(&mut t, creator(), &limits, Timestamp(20)).unwrap(), None);
        assert_eq!(t.version, 1);
        let p = TaskPatch { title: Some("Fix roof".into()), deadline: Some(None), ..Default::default() };
        let ch = p.apply(&mut t, creator(), &limits, Timestamp(20)).unwrap().unwrap();
        assert_eq!(ch.kind(), "updated");
        assert!(ch.summary().contains("title"), "{}", ch.summary());
        assert_eq!((t.version, t.deadline, t.updated_at), (2, None, Timestamp(20)));
        assert!(TaskPatch::default().validate(&limits).is_err());
    }

    #[test]
    fn denied_edit_changes_nothing() {
        let mut t = new_task();
        let before = t.clone();
        let responsible = Relation { responsible: true, ..Default::default() };
        let p = TaskPatch { title: Some("x y".into()), ..Default::default() };
        assert!(matches!(
            p.apply(&mut t, responsible, &Limits::default(), Timestamp(5)),
            Err(Error::PermissionDenied(_))
        ));
        assert_eq!(t, before);
    }

    #[test]
    fn overdue() {
        let mut t = new_task();
        assert!(!t.is_overdue(Timestamp(999)));
        assert!(t.is_overdue(Timestamp(1_001)));
        t.status = TaskStatus::Completed;
        assert!(!t.is_overdue(Timestamp(1_001)));
    }

    #[test]
    fn files_are_checked() {
        let limits = Limits { max_file_bytes: 10, ..Default::default() };
        assert!(check_file("a.txt", "text/plain", 10, &limits).is_ok());
        let e = check_file("a.txt", "text/plain", 11, &limits).unwrap_err();
        assert!(e.to_string().contains("limit is 10 bytes"), "{e}");
        assert!(check_file("../a", "", 1, &limits).is_err());
        assert!(check_file("", "", 1, &limits).is_err());
        assert!(check_file("a", "text plain", 1, &limits).is_err());
    }

    #[test]
    fn statuses_parse() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.name()), Some(s));
        }
        assert_eq!(TaskStatus::parse("In-Progress"), Some(TaskStatus::InProgress));
        assert_eq!(TaskStatus::parse("done"), None);
    }
}
