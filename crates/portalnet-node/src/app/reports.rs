use super::{Portal, TaskFilter};
use crate::error::NodeResult;
use portalnet_core::permissions::Actor;
use portalnet_core::report::{ReportBy, ReportRow, task_report};

impl Portal {
    /// Counts over the tasks the actor may see (R24: every kind of task counts).
    pub fn task_report(&self, actor: &Actor, by: ReportBy) -> NodeResult<(Vec<ReportRow>, ReportRow)> {
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
        if by == ReportBy::Responsible {
            for r in &mut rows {
                r.kind = match self.tables.users.get(&r.key)?.map(|u| u.kind) {
                    Some(portalnet_core::user::UserKind::Extranet) => "extranet".into(),
                    Some(portalnet_core::user::UserKind::Employee) => "employee".into(),
                    None => String::new(),
                };
            }
        }
        Ok((rows, totals))
    }
}
