//! Task reports by responsible person, status or group, over the tasks the caller sees.

use super::{Portal, TaskFilter};
use crate::error::PortalResult;
use crate::paging::{MAX_PAGE_SIZE, PageReq};
use portalnet_core::address;
use portalnet_core::permissions::Actor;
use portalnet_core::report::{ReportBy, ReportRow, task_report};
use portalnet_core::user::UserKind;
use portalnet_store::index::{Indexes, TaskCounts, str_prefix};
use std::collections::{BTreeMap, BTreeSet};

/// How a report row's key names a group before [`Portal::name_groups`] (no group
/// name or login starts with a NUL).
const GROUP_ID: &str = "\0group:";

impl Portal {
    /// Counts over the tasks the actor may see (R24: every kind of task counts,
    /// those given to extranet users and to e-mail participants too). An
    /// administrator sees every task: the counts come from the totals kept with
    /// each task write, overdue ones from the index of open deadlines (only tasks
    /// past their deadline are read). Anyone else: their own tasks via the indexes.
    pub fn task_report(&self, actor: &Actor, by: ReportBy) -> PortalResult<TaskReport> {
        // Rows are counted per group id and named afterwards: two groups may share
        // a name, and each keeps its own row.
        let by_id = |id: u64| format!("{GROUP_ID}{id}");
        let (mut rows, totals, with_email, with_extranet) = if actor.admin {
            self.report_from_totals(by, &by_id)?
        } else {
            self.report_from_tasks(actor, by, &by_id)?
        };
        if by == ReportBy::Group {
            self.name_groups(&mut rows);
        }
        if by == ReportBy::Responsible {
            for r in &mut rows {
                r.kind = if address::is_email(&r.key) {
                    "e-mail".into()
                } else if address::split(&r.key).1.is_some() {
                    String::new()
                } else {
                    match self.tables.users.get(&r.key)?.map(|u| u.kind) {
                        Some(UserKind::Extranet) => "extranet".into(),
                        Some(UserKind::Employee) => "employee".into(),
                        None => String::new(),
                    }
                };
            }
        }
        Ok(TaskReport {
            rows,
            totals,
            with_email_participants: with_email,
            with_extranet_participants: with_extranet,
        })
    }

    /// Replaces the group-id keys of `rows` by the groups' names, adding ` (#id)`
    /// to a name that two rows would otherwise share (two groups of one name, or
    /// a group named like the row of tasks without one), and sorts by the result.
    fn name_groups(&self, rows: &mut [ReportRow]) {
        let name = |id: u64| -> String {
            self.tables
                .groups
                .get(&id)
                .ok()
                .flatten()
                .map(|g| g.name)
                .unwrap_or_else(|| format!("group {id}"))
        };
        let named: Vec<(Option<u64>, String)> = rows
            .iter()
            .map(|r| match r.key.strip_prefix(GROUP_ID).and_then(|id| id.parse::<u64>().ok()) {
                Some(id) => (Some(id), name(id)),
                None => (None, r.key.clone()),
            })
            .collect();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, n) in &named {
            *seen.entry(n.as_str()).or_default() += 1;
        }
        let keys: Vec<String> = named
            .iter()
            .map(|(id, n)| match id {
                Some(id) if seen.get(n.as_str()).is_some_and(|c| *c > 1) => format!("{n} (#{id})"),
                _ => n.clone(),
            })
            .collect();
        for (r, key) in rows.iter_mut().zip(keys) {
            r.key = key;
        }
        rows.sort_by(|a, b| a.key.cmp(&b.key));
    }

    fn report_from_tasks(
        &self,
        actor: &Actor,
        by: ReportBy,
        name: &dyn Fn(u64) -> String,
    ) -> PortalResult<(Vec<ReportRow>, ReportRow, u32, u32)> {
        let mut tasks = Vec::new();
        let mut page = PageReq::first(MAX_PAGE_SIZE, "report");
        loop {
            let p = self.list_tasks(actor, &TaskFilter::default(), &page)?;
            let last = p.items.last().map(|t| t.id);
            tasks.extend(p.items);
            match last {
                Some(id) if !p.next_page_token.is_empty() => page.after = Some(id.to_be_bytes().to_vec()),
                _ => break,
            }
        }
        let (rows, totals) = task_report(&tasks, by, self.now(), name);
        let extranet: BTreeSet<String> = self.tables.extranet_logins()?.into_iter().collect();
        let (mut with_email, mut with_extranet) = (0u32, 0u32);
        for t in &tasks {
            with_email += u32::from(!address::email_participants(t).is_empty());
            with_extranet += u32::from(t.participants().iter().any(|p| extranet.contains(*p)));
        }
        Ok((rows, totals, with_email, with_extranet))
    }

    fn report_from_totals(
        &self,
        by: ReportBy,
        name: &dyn Fn(u64) -> String,
    ) -> PortalResult<(Vec<ReportRow>, ReportRow, u32, u32)> {
        let idx = &self.tables.idx;
        let key_of = |raw: &str| -> String {
            match by {
                ReportBy::Group if raw.is_empty() => "(no group)".into(),
                ReportBy::Group => raw.parse::<u64>().map(name).unwrap_or_else(|_| raw.to_string()),
                _ => raw.to_string(),
            }
        };
        let prefix = match by {
            ReportBy::Responsible => "responsible\0",
            ReportBy::Status => "status\0",
            ReportBy::Group => "group\0",
        };
        let mut rows: BTreeMap<String, ReportRow> = BTreeMap::new();
        for (raw, c) in idx.totals_under(prefix)? {
            let key = key_of(&raw);
            let row = rows.entry(key.clone()).or_insert_with(|| ReportRow { key, ..Default::default() });
            add_counts(row, &c);
        }
        let all = idx.totals("all")?;
        let mut totals = ReportRow { key: "total".into(), ..Default::default() };
        add_counts(&mut totals, &all);
        for d in idx.overdue(self.now().0) {
            let d = d?;
            let key = match by {
                ReportBy::Responsible => d.responsible.clone(),
                ReportBy::Status => d.status.name().to_string(),
                ReportBy::Group => key_of(&d.group.map(|g| g.to_string()).unwrap_or_default()),
            };
            if let Some(r) = rows.get_mut(&key) {
                r.overdue += 1;
            }
            totals.overdue += 1;
        }
        // Tasks with an extranet participant: the union of those users' tasks.
        let mut with_extranet: BTreeSet<u64> = BTreeSet::new();
        for login in self.tables.extranet_logins()? {
            for id in Indexes::ids_under(&idx.task_participant, &str_prefix(&login), None) {
                with_extranet.insert(id?);
            }
        }
        let with_email = u32::try_from(all.with_email.max(0)).unwrap_or(u32::MAX);
        let with_extranet = u32::try_from(with_extranet.len()).unwrap_or(u32::MAX);
        Ok((rows.into_values().collect(), totals, with_email, with_extranet))
    }
}

fn add_counts(row: &mut ReportRow, c: &TaskCounts) {
    let n = |v: i64| u32::try_from(v.max(0)).unwrap_or(u32::MAX);
    row.total += n(c.total);
    row.new += n(c.new);
    row.in_progress += n(c.in_progress);
    row.awaiting_control += n(c.awaiting_control);
    row.completed += n(c.completed);
    row.deferred += n(c.deferred);
}

pub struct TaskReport {
    pub rows: Vec<ReportRow>,
    pub totals: ReportRow,
    /// Counted tasks with an e-mail participant (R24).
    pub with_email_participants: u32,
    /// Counted tasks with an extranet participant (R24).
    pub with_extranet_participants: u32,
}
