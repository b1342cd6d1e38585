//! Task reports by responsible person, status or group, over the tasks the caller sees.

use super::{Portal, TaskFilter};
use crate::error::PortalResult;
use portalnet_core::address;
use portalnet_core::permissions::Actor;
use portalnet_core::report::{ReportBy, ReportRow, task_report};
use portalnet_core::user::UserKind;

impl Portal {
    /// Counts over the tasks the actor may see (R24: every kind of task counts,
    /// those given to extranet users and to e-mail participants too).
    pub fn task_report(&self, actor: &Actor, by: ReportBy) -> PortalResult<TaskReport> {
        let tasks = self.list_tasks(actor, &TaskFilter::default())?;
        let groups = self.list_groups(actor)?;
        let name = |id: u64| {
            groups
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.name.clone())
                .unwrap_or_else(|| format!("group {id}"))
        };
        let (mut rows, totals) = task_report(&tasks, by, self.now(), name);
        // The kind of each local person, looked up once per report.
        let mut kinds: std::collections::BTreeMap<String, Option<UserKind>> = Default::default();
        let mut kind_of = |p: &str| -> PortalResult<Option<UserKind>> {
            if address::is_email(p) || address::split(p).1.is_some() {
                return Ok(None);
            }
            if let Some(k) = kinds.get(p) {
                return Ok(*k);
            }
            let k = self.tables.users.get(&p.to_string())?.map(|u| u.kind);
            kinds.insert(p.to_string(), k);
            Ok(k)
        };
        let (mut with_email, mut with_extranet) = (0u32, 0u32);
        for t in &tasks {
            with_email += u32::from(!address::email_participants(t).is_empty());
            for p in t.participants() {
                if kind_of(p)? == Some(UserKind::Extranet) {
                    with_extranet += 1;
                    break;
                }
            }
        }
        if by == ReportBy::Responsible {
            for r in &mut rows {
                r.kind = match kind_of(&r.key)? {
                    _ if address::is_email(&r.key) => "e-mail".into(),
                    Some(UserKind::Extranet) => "extranet".into(),
                    Some(UserKind::Employee) => "employee".into(),
                    None => String::new(),
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
}

pub struct TaskReport {
    pub rows: Vec<ReportRow>,
    pub totals: ReportRow,
    /// Counted tasks with an e-mail participant (R24).
    pub with_email_participants: u32,
    /// Counted tasks with an extranet participant (R24).
    pub with_extranet_participants: u32,
}
