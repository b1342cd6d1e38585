//! Groups: creating (with invitations, R1), changing, members and their roles.

use super::{Invited, Portal};
use crate::error::{PortalError, PortalResult};
use crate::paging::{Page, PageReq, table_rows};
use portalnet_core::Error;
use portalnet_core::error::text;
use portalnet_core::group::{Group, GroupPatch, GroupRole, NewGroup};
use portalnet_core::limits::MAX_INVITES_PER_CALL;
use portalnet_core::permissions::Actor;
use portalnet_core::user::UserKind;
use portalnet_core::validate;

impl Portal {
    /// Any employee may create a group and becomes its owner; `invite` are e-mail
    /// addresses invited in the same write (R1).
    pub fn create_group(
        &self,
        actor: &Actor,
        new: NewGroup,
        invite: &[String],
    ) -> PortalResult<(Group, Vec<Invited>)> {
        if actor.kind == UserKind::Extranet {
            return Err(PortalError::Domain(Error::denied(text!("error-extranet-no-groups"))));
        }
        check_invite_count(invite.len())?;
        let emails: Vec<String> =
            invite.iter().map(|e| validate::email("invited e-mail", e)).collect::<Result<_, _>>()?;
        let t = &self.tables;
        let now = self.now();
        let out = t.db.write(|tx| {
            let id = tx.next_id("group")?;
            let group = new.into_group(id, &actor.login, now);
            t.put_group(tx, &group)?;
            let mut invited = Vec::with_capacity(emails.len());
            for e in &emails {
                invited.push(self.invite_in(tx, actor, &group, e, None)?);
            }
            Ok::<_, PortalError>((group, invited))
        })?;
        if !out.1.is_empty() {
            self.mail_wake.notify_one();
        }
        Ok(out)
    }

    pub fn update_group(&self, actor: &Actor, id: u64, patch: GroupPatch) -> PortalResult<Group> {
        let t = &self.tables;
        t.db.write(|tx| {
            let mut g = t.groups.tx_get(tx, &id)?.ok_or_else(|| group_not_found(id))?;
            if actor.kind == UserKind::Extranet && !g.is_member(&actor.login) {
                return Err(group_not_found(id));
            }
            g.update(actor, patch)?;
            t.put_group(tx, &g)?;
            Ok(g)
        })
    }

    /// Extranet users see only their own groups (R12).
    pub fn get_group(&self, actor: &Actor, id: u64) -> PortalResult<Group> {
        let g = self.group(id)?;
        if actor.kind == UserKind::Extranet && !g.is_member(&actor.login) {
            return Err(group_not_found(id));
        }
        Ok(g)
    }

    /// One page, by id: every group for employees, their own for extranet users
    /// (read through the membership index).
    pub fn list_groups(&self, actor: &Actor, page: &PageReq) -> PortalResult<Page<Group>> {
        if actor.kind != UserKind::Extranet {
            return page.collect(table_rows(&self.tables.groups, &[], page));
        }
        let after = page.after_id()?;
        let ids = self.tables.groups_of(&actor.login)?;
        let rows = ids.into_iter().filter(|id| after.is_none_or(|a| *id > a)).filter_map(|id| {
            match self.tables.groups.get(&id) {
                Ok(g) => g.map(|g| Ok((id.to_be_bytes().to_vec(), g))),
                Err(e) => Some(Err(e.into())),
            }
        });
        page.collect(rows)
    }

    pub fn add_member(&self, actor: &Actor, id: u64, login: &str, role: GroupRole) -> PortalResult<Group> {
        let login = validate::login("login", login)?;
        // R7: an extranet user cannot pick from the portal's employees.
        if let Some(visible) = self.visible_logins(actor)?
            && !visible.contains(&login)
        {
            return Err(PortalError::Domain(Error::denied(text!("error-extranet-add-own"))));
        }
        let user = self.user(&login)?;
        if !user.is_active() {
            return Err(PortalError::Domain(Error::precondition(text!(
                "error-dismissed-no-groups",
                login = &login
            ))));
        }
        let t = &self.tables;
        t.db.write(|tx| {
            let mut group = t.groups.tx_get(tx, &id)?.ok_or_else(|| group_not_found(id))?;
            if actor.kind == UserKind::Extranet && !group.is_member(&actor.login) {
                return Err(group_not_found(id));
            }
            if user.kind == UserKind::Extranet && !group.settings.extranet {
                return Err(PortalError::Domain(Error::precondition(text!(
                    "error-extranet-user-group",
                    login = &login,
                    group = id
                ))));
            }
            if group.add_member(actor, &login, role)? {
                t.put_group(tx, &group)?;
            }
            Ok(group)
        })
    }
}

/// Refuses more invitations in one call than [`MAX_INVITES_PER_CALL`], before any
/// address is read.
fn check_invite_count(n: usize) -> PortalResult<()> {
    if n <= MAX_INVITES_PER_CALL {
        return Ok(());
    }
    Err(PortalError::Domain(Error::invalid(text!(
        "error-too-many-invitations",
        max = MAX_INVITES_PER_CALL,
        n = n
    ))))
}

fn group_not_found(id: u64) -> PortalError {
    PortalError::Domain(Error::not_found(text!("error-group-not-found", group = id)))
}
