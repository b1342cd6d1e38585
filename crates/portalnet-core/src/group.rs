//! Workgroups (projects): an owner, moderators and members, and a settings record
//! that later capabilities extend (extranet availability, invite policy).

use crate::error::{Error, Result, text};
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

/// Who may invite new people into a group (R5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitePolicy {
    /// Only the owner.
    #[default]
    Owner,
    /// The owner and moderators; a plain member's invitation admits the person to
    /// the portal but not to the group (R6).
    Moderators,
    /// Every member.
    Members,
}

impl InvitePolicy {
    pub fn name(self) -> &'static str {
        match self {
            InvitePolicy::Owner => "owner",
            InvitePolicy::Moderators => "moderators",
            InvitePolicy::Members => "members",
        }
    }
}

/// Per-group settings. Every field has a default so stored groups stay readable as
/// fields are added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GroupSettings {
    /// Available in extranet: external users may be invited (R2).
    pub extranet: bool,
    pub invite_policy: InvitePolicy,
}

/// What an invitation by a given person into a group does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRight {
    /// The invitee joins the portal and the group.
    Full,
    /// R6: the invitee joins the portal as an extranet user, not the group.
    PortalOnly,
}

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

    /// Whether `actor` may invite an external person into this group, and with what
    /// effect (R2, R5, R6). Under the owner-only policy anyone but the owner (or an
    /// admin) is refused outright: R6 speaks only of the owner-and-moderators
    /// policy, and an owner who chose "owner only" would not expect others'
    /// invitations to let people into the portal.
    pub fn invite_right(&self, actor: &Actor) -> Result<InviteRight> {
        if !self.settings.extranet {
            return Err(Error::precondition(text!(
                "error-group-not-extranet",
                group = self.id,
                name = &self.name
            )));
        }
        if actor.admin {
            return Ok(InviteRight::Full);
        }
        let Some(role) = self.role_of(&actor.login) else {
            return Err(Error::denied(text!("error-invite-not-member", group = self.id)));
        };
        match (self.settings.invite_policy, role) {
            (_, GroupRole::Owner) => Ok(InviteRight::Full),
            (InvitePolicy::Owner, _) => {
                Err(Error::denied(text!("error-invite-owner-only", group = self.id, owner = self.owner())))
            }
            (InvitePolicy::Moderators, GroupRole::Moderator) => Ok(InviteRight::Full),
            (InvitePolicy::Moderators, GroupRole::Member) => Ok(InviteRight::PortalOnly),
            (InvitePolicy::Members, _) => Ok(InviteRight::Full),
        }
    }

    /// Changes settings or names; only the owner or an admin.
    pub fn update(&mut self, actor: &Actor, patch: GroupPatch) -> Result<()> {
        if !actor.admin && self.role_of(&actor.login) != Some(GroupRole::Owner) {
            return Err(Error::denied(text!("error-group-owner-only", group = self.id)));
        }
        if patch == GroupPatch::default() {
            return Err(Error::invalid(text!("error-empty-update")));
        }
        if let Some(n) = patch.name {
            self.name = validate::name("group name", &n)?;
        }
        if let Some(d) = patch.description {
            self.description = validate::text("group description", &d, 64 * 1024)?;
        }
        if let Some(x) = patch.extranet {
            self.settings.extranet = x;
        }
        if let Some(p) = patch.invite_policy {
            self.settings.invite_policy = p;
        }
        Ok(())
    }

    /// Adds or re-roles a member. Only the owner, a moderator or an admin may; the
    /// owner role cannot be given this way.
    pub fn add_member(&mut self, actor: &Actor, login: &str, role: GroupRole) -> Result<bool> {
        let may = actor.admin
            || matches!(self.role_of(&actor.login), Some(GroupRole::Owner | GroupRole::Moderator));
        if !may {
            return Err(Error::denied(text!("error-add-member-denied", group = self.id)));
        }
        if role == GroupRole::Owner {
            return Err(Error::invalid(text!("error-one-owner")));
        }
        if self.role_of(login) == Some(GroupRole::Owner) {
            return Err(Error::precondition(text!("error-owner-role-fixed", login = login, group = self.id)));
        }
        let changed = self.members.insert(login.to_string(), role) != Some(role);
        Ok(changed)
    }
}

/// A change to a group; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub extranet: Option<bool>,
    pub invite_policy: Option<InvitePolicy>,
}

/// A validated request to create a group; the creator becomes its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub description: String,
    pub settings: GroupSettings,
}

impl NewGroup {
    pub fn new(name: &str, description: &str, limits: &crate::limits::Limits) -> Result<Self> {
        Ok(Self {
            name: validate::name("group name", name)?,
            description: validate::text("group description", description, limits.max_description_bytes)?,
            settings: GroupSettings::default(),
        })
    }

    pub fn into_group(self, id: GroupId, owner: &str, now: Timestamp) -> Group {
        Group {
            id,
            name: self.name,
            description: self.description,
            members: BTreeMap::from([(owner.to_string(), GroupRole::Owner)]),
            settings: self.settings,
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

    /// R2, R5, R6 as a table: policy × role → what an invitation does.
    #[test]
    fn invite_rights_table() {
        use InvitePolicy::*;
        let mut g = NewGroup::new("Ext", "", &Default::default()).unwrap().into_group(1, "own", Timestamp(0));
        g.members.insert("mod".into(), GroupRole::Moderator);
        g.members.insert("mem".into(), GroupRole::Member);
        // R2: without the extranet flag nobody invites, not even the owner.
        assert!(
            matches!(g.invite_right(&actor("own", false)), Err(Error::FailedPrecondition(m)) if m.to_string().contains("--extranet"))
        );
        g.settings.extranet = true;
        let full = Ok(InviteRight::Full);
        let table: &[(InvitePolicy, &str, Result<InviteRight>)] = &[
            (Owner, "own", full.clone()),
            (Owner, "mod", Err(Error::denied(""))),
            (Owner, "mem", Err(Error::denied(""))),
            (Moderators, "own", full.clone()),
            (Moderators, "mod", full.clone()),
            (Moderators, "mem", Ok(InviteRight::PortalOnly)),
            (Members, "own", full.clone()),
            (Members, "mod", full.clone()),
            (Members, "mem", full.clone()),
            (Members, "outsider", Err(Error::denied(""))),
            (Owner, "root", full.clone()),
        ];
        for (policy, who, want) in table {
            g.settings.invite_policy = *policy;
            let got = g.invite_right(&actor(who, *who == "root"));
            match (want, &got) {
                (Ok(w), Ok(r)) => assert_eq!(w, r, "{policy:?} {who}"),
                (Err(_), Err(Error::PermissionDenied(_))) => {}
                _ => panic!("{policy:?} {who}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn only_the_owner_changes_settings() {
        let mut g = NewGroup::new("Ext", "", &Default::default()).unwrap().into_group(1, "own", Timestamp(0));
        g.members.insert("mod".into(), GroupRole::Moderator);
        let patch = GroupPatch { extranet: Some(true), ..Default::default() };
        assert!(matches!(g.update(&actor("mod", false), patch.clone()), Err(Error::PermissionDenied(_))));
        g.update(&actor("own", false), patch).unwrap();
        assert!(g.settings.extranet);
        assert!(g.update(&actor("own", false), GroupPatch::default()).is_err());
    }
}
