use super::Portal;
use crate::error::{NodeError, NodeResult};
use portalnet_core::Error;
use portalnet_core::group::{Group, GroupRole, NewGroup};
use portalnet_core::permissions::Actor;
use portalnet_core::validate;

impl Portal {
    /// Any active user may create a group and becomes its owner.
    pub fn create_group(&self, actor: &Actor, new: NewGroup) -> NodeResult<Group> {
        let t = &self.tables;
        let now = self.now();
        t.db.write(|tx| {
            let id = tx.next_id("group")?;
            let group = new.into_group(id, &actor.login, now);
            t.groups.tx_put(tx, &id, &group)?;
            Ok::<_, NodeError>(group)
        })
    }

    pub fn get_group(&self, _actor: &Actor, id: u64) -> NodeResult<Group> {
        self.group(id)
    }

    pub fn list_groups(&self, _actor: &Actor) -> NodeResult<Vec<Group>> {
        Ok(self.tables.groups.iter().map(|kv| kv.map(|(_, g)| g)).collect::<Result<_, _>>()?)
    }

    pub fn add_member(&self, actor: &Actor, id: u64, login: &str, role: GroupRole) -> NodeResult<Group> {
        let login = validate::login("login", login)?;
        let user = self.user(&login)?;
        if !user.is_active() {
            return Err(NodeError::Domain(Error::precondition(format!(
                "user `{login}` is dismissed and cannot join groups"
            ))));
        }
        let t = &self.tables;
        t.db.write(|tx| {
            let mut group = t
                .groups
                .tx_get(tx, &id)?
                .ok_or_else(|| NodeError::Domain(Error::not_found(format!("group {id} not found"))))?;
            if group.add_member(actor, &login, role)? {
                t.groups.tx_put(tx, &id, &group)?;
            }
            Ok(group)
        })
    }
}
