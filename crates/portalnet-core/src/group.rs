//! Workgroups (projects): an owner, moderators and members, and a settings record
//! that later capabilities extend (extranet availability, invite policy).

use crate::error::{Error, Result};
use crate::permissions::Actor;
use crate::time::Timestamp;
use crate::validate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type GroupId = u64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupRole {
    Owner,
    Moderator,
    Member,
}

/// Per-group settings. Every field has a default so stored groups stay readable as
/// fields are added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupSettings {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Every member with their role; exactly one has [`GroupRole::Owner`].
    pub members: BTreeMap<String, GroupRole>,
    #[serde(default)]
    pub settings: GroupSettings,
    pub created_at: Timestamp,
}

impl Group {
    pub fn owner(&self) -> &str {
        self.members
            .iter()
            .find(|(_, r)| **r == GroupRole::Owner)
            .map(|(l, _)| l.as_str())
            .unwrap_or_default()
    }

    pub fn role_of(&self, login: &str) -> Option<GroupRole> {
        self.members.get(login).copied()
    }

    pub fn is_member(&self, login: &str) -> bool {
        self.members.contains_key(login)
    }

    /// Adds or re-roles a member. Only the owner, a moderator or an admin may; the
    /// owner role cannot be given this way.
    pub fn add_member(&mut self, actor: &Actor, login: &str, role: GroupRole) -> Result<bool> {
        let may = actor.admin
            || matches!(self.role_of(&actor.login), Some(GroupRole::Owner | GroupRole::Moderator));
        if !may {
            return Err(Error::denied(format!(
                "only the owner or a moderator of group {} may add members",
                self.id
            )));
        }
        if role == GroupRole::Owner {
            return Err(Error::invalid("a group has one owner; add the person as moderator or member"));
        }
        if self.role_of(login) == Some(GroupRole::Owner) {
            return Err(Error::precondition(format!(
                "{login} owns group {}; the owner's role cannot change",
                self.id
            )));
        }
        let changed = self.members.insert(login.to_string(), role) != Some(role);
        Ok(changed)
    }
}

/// A validated request to create a group; the creator becomes its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub description: String,
}

impl NewGroup {
    pub fn new(name: &str, description: &str, limits: &crate::limits::Limits) -> Result<Self> {
        Ok(Self {
            name: validate::name("group name", name)?,
            description: validate::text("group description", description, limits.max_description_bytes)?,
        })
    }

    pub fn into_group(self, id: GroupId, owner: &str, now: Timestamp) -> Group {
        Group {
            id,
            name: self.name,
            description: self.description,
            members: BTreeMap::from([(owner.to_string(), GroupRole::Owner)]),
            settings: GroupSettings::default(),
            created_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::UserKind;

    fn actor(login: &str, admin: bool) -> Actor {
        Actor { login: login.into(), admin, kind: UserKind::Employee }
    }

    #[test]
    fn who_may_add_members() {
        let mut g =
            NewGroup::new("Ops", "", &Default::default()).unwrap().into_group(1, "olga", Timestamp(0));
        g.add_member(&actor("olga", false), "mod", GroupRole::Moderator).unwrap();
        g.add_member(&actor("mod", false), "mem", GroupRole::Member).unwrap();
        assert!(matches!(
            g.add_member(&actor("mem", false), "x", GroupRole::Member),
            Err(Error::PermissionDenied(_))
        ));
        assert!(matches!(
            g.add_member(&actor("stranger", false), "x", GroupRole::Member),
            Err(Error::PermissionDenied(_))
        ));
        assert!(g.add_member(&actor("root", true), "x", GroupRole::Member).is_ok());
        assert!(matches!(
            g.add_member(&actor("olga", false), "x", GroupRole::Owner),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            g.add_member(&actor("mod", false), "olga", GroupRole::Member),
            Err(Error::FailedPrecondition(_))
        ));
        assert_eq!(g.owner(), "olga");
        assert_eq!(g.members.len(), 4);
    }
}
