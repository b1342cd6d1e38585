//! Task reports (R24): counts of tasks per person, status or group, overdue included.
//! Pure aggregation over the tasks the caller may see.

use crate::task::{Task, TaskStatus};
use crate::time::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBy {
    Responsible,
    Status,
    Group,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportRow {
    pub key: String,
    /// By responsible: "employee" or "extranet" (filled in by the caller).
    pub kind: String,
    pub total: u32,
    pub new: u32,
    pub in_progress: u32,
    pub awaiting_control: u32,
    pub completed: u32,
    pub deferred: u32,
    pub overdue: u32,
}

impl ReportRow {
    fn count(&mut self, t: &Task, now: Timestamp) {
        self.total += 1;
        match t.status {
            TaskStatus::New => self.new += 1,
            TaskStatus::InProgress => self.in_progress += 1,
            TaskStatus::AwaitingControl => self.awaiting_control += 1,
            TaskStatus::Completed => self.completed += 1,
            TaskStatus::Deferred => self.deferred += 1,
        }
        if t.is_overdue(now) {
            self.overdue += 1;
        }
    }
}

/// Rows sorted by key, and the totals. `group_name` names a group id (tasks without
/// a group are reported under `(no group)`).
pub fn task_report<'a>(
    tasks: impl IntoIterator<Item = &'a Task>,
    by: ReportBy,
    now: Timestamp,
    group_name: impl Fn(u64) -> String,
) -> (Vec<ReportRow>, ReportRow) {
    let mut rows: BTreeMap<String, ReportRow> = BTreeMap::new();
    let mut totals = ReportRow { key: "total".into(), ..Default::default() };
    for t in tasks {
        let key = match by {
            ReportBy::Responsible => t.responsible.clone(),
            ReportBy::Status => t.status.name().to_string(),
            ReportBy::Group => t.group.map(&group_name).unwrap_or_else(|| "(no group)".into()),
        };
        rows.entry(key.clone()).or_insert_with(|| ReportRow { key, ..Default::default() }).count(t, now);
        totals.count(t, now);
    }
    (rows.into_values().collect(), totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use crate::task::NewTask;

    fn task(id: u64, resp: &str, status: TaskStatus, deadline: Option<i64>) -> Task {
        let nt = NewTask {
            title: format!("t{id}"),
            description: String::new(),
            responsible: Some(resp.into()),
            accomplices: vec![],
            observers: vec![],
            deadline: deadline.map(Timestamp),
            group: id.is_multiple_of(2).then_some(9),
        };
        let mut t = nt.validate(&Limits::default()).unwrap().into_task(id, "boss", Timestamp(0)).0;
        t.status = status;
        t
    }

    #[test]
    fn counts_per_person_with_overdue() {
        let tasks = [
            task(1, "ann", TaskStatus::New, Some(50)),
            task(2, "ann", TaskStatus::Completed, Some(50)),
            task(3, "bob", TaskStatus::InProgress, Some(500)),
            task(4, "bob", TaskStatus::Deferred, None),
        ];
        let (rows, totals) = task_report(&tasks, ReportBy::Responsible, Timestamp(100), |g| format!("g{g}"));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].key.as_str(), rows[0].total, rows[0].new, rows[0].completed, rows[0].overdue),
            ("ann", 2, 1, 1, 1)
        );
        assert_eq!(
            (rows[1].key.as_str(), rows[1].in_progress, rows[1].deferred, rows[1].overdue),
            ("bob", 1, 1, 0)
        );
        assert_eq!((totals.total, totals.overdue), (4, 1));
        let (rows, _) = task_report(&tasks, ReportBy::Group, Timestamp(100), |g| format!("g{g}"));
        assert_eq!(
            rows.iter().map(|r| (r.key.as_str(), r.total)).collect::<Vec<_>>(),
            [("(no group)", 2), ("g9", 2)]
        );
        let (rows, _) = task_report(&tasks, ReportBy::Status, Timestamp(100), |g| format!("g{g}"));
        assert_eq!(rows.len(), 4);
    }
}
