use super::{Portal, TaskFilter};
use crate::error::NodeResult;
use portalnet_core::address;
use portalnet_core::permissions::Actor;
use portalnet_core::report::{ReportBy, ReportRow, task_report};
use portalnet_core::user::UserKind;

impl Portal {
    /// Counts over the tasks the actor may see (R24: every kind of task counts,
    /// those given to extranet users and to e-mail participants too).
    pub fn task_report(&self, actor: &Actor, by: ReportBy) -> NodeResult<TaskReport> {
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
        let mut extranet_people = std::collections::BTreeMap::new();
        let mut is_extranet = |login: &str| -> NodeResult<bool> {
            if let Some(k) = extranet_people.get(login) {
                return Ok(*k);
            }
            let k = self.tables.users.get(&login.to_string())?.is_some_and(|u| u.kind == UserKind::Extranet);
            extranet_people.insert(login.to_string(), k);
            Ok(k)
        };
        let (mut with_email, mut with_extranet) = (0u32, 0u32);
        for t in &tasks {
            if !address::email_participants(t).is_empty() {
                with_email += 1;
            }
            let mut ext = false;
            for p in t.participants() {
                ext = ext || (!p.contains(['@', ':']) && is_extranet(p)?);
            }
            with_extranet += u32::from(ext);
        }
        if by == ReportBy::Responsible {
            for r in &mut rows {
                if address::is_email(&r.key) {
                    r.kind = "e-mail".into();
                    continue;
                }
                r.kind = match self.tables.users.get(&r.key)?.map(|u| u.kind) {
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
