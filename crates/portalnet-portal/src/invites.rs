//! Invitations of external users (R1–R6, R8, R11). The invitation, its token index
//! and the e-mail that carries the token are committed in one write; the mailer
//! delivers the e-mail afterwards.

use super::{Portal, hash_token, new_token};
use crate::error::{PortalError, PortalResult};
use crate::paging::{Ids, MergeIds, Page, PageReq, all_ids, rows_of};
use portalnet_core::Error;
use portalnet_core::error::{Text, text};
use portalnet_core::group::{Group, GroupRole, InviteRight};
use portalnet_core::invitation::{Invitation, InvitationState, check_seat, login_from_email};
use portalnet_core::permissions::Actor;
use portalnet_core::user::{User, UserKind, UserState};
use portalnet_core::validate;
use portalnet_store::WriteTx;
use portalnet_store::index::{Indexes, str_prefix};
use portalnet_store::schema::TokenRecord;

/// The result of an invitation, with what the inviter should know (R6).
pub struct Invited {
    pub invitation: Invitation,
    /// What the inviter should know (R6), said in the inviter's language at the edge.
    pub notice: Option<Text>,
}

/// What accepting an invitation produced.
pub struct Accepted {
    pub user: User,
    pub api_token: String,
    pub groups: Vec<u64>,
}

impl Portal {
    /// Invites `email` into a group; `language` is the invitee's (empty: the portal's).
    pub fn invite(&self, actor: &Actor, email: &str, group_id: u64, language: &str) -> PortalResult<Invited> {
        let email = validate::email("email", email)?;
        let language = validate::language(language)?;
        let out = self.tables.db.write(|tx| {
            let group = self.visible_group(tx, actor, group_id)?;
            self.invite_in(tx, actor, &group, &email, language)
        })?;
        self.mail_wake.notify_one();
        Ok(out)
    }

    /// Invites `email` into `group` inside the caller's write (also used when a
    /// group is created with invitations, R1).
    pub(super) fn invite_in(
        &self,
        tx: &mut WriteTx<'_>,
        actor: &Actor,
        group: &Group,
        email: &str,
        language: Option<portalnet_mail::Lang>,
    ) -> PortalResult<Invited> {
        let t = &self.tables;
        let now = self.now();
        let right = group.invite_right(actor)?;
        self.check_address_free(tx, email, None)?;
        check_seat(self.seats(tx)?, self.active_users(tx)?)?;
        let token = new_token();
        let id = tx.next_id("invitation")?;
        let invitation = Invitation {
            id,
            email: email.to_string(),
            group: group.id,
            inviter: actor.login.clone(),
            token_hash: hash_token(&token),
            state: InvitationState::Pending,
            created_at: now,
            expires_at: now.plus_millis(self.options.invite_ttl_ms),
            admits_to_group: right == InviteRight::Full,
            accepted_login: None,
            language,
        };
        t.put_invitation(tx, &invitation)?;
        t.invitation_tokens.tx_put(tx, &invitation.token_hash, &id)?;
        self.enqueue_invitation_mail(tx, &invitation, group, &token)?;
        let notice = match right {
            InviteRight::Full => None,
            InviteRight::PortalOnly => {
                Some(text!("notice-portal-only", group = group.id, name = &group.name, email = email))
            }
        };
        Ok(Invited { invitation, notice })
    }

    pub fn list_invitations(
        &self,
        actor: &Actor,
        group: Option<u64>,
        all: bool,
        page: &PageReq,
    ) -> PortalResult<Page<Invitation>> {
        let now = self.now();
        let idx = &self.tables.idx;
        let after = page.after_id()?;
        // Read only what may be in the answer: an administrator pages the table (or
        // the group's invitations); anyone else their own invitations and those of
        // the groups they own or moderate (R7), merged in id order.
        let ids: Ids<'_> = if actor.admin {
            match group {
                Some(g) => Box::new(Indexes::ids_under(&idx.invitation_group, &g.to_be_bytes(), after)),
                None => all_ids(&self.tables.invitations, after),
            }
        } else {
            let mut sources: Vec<Ids<'_>> =
                vec![Box::new(Indexes::ids_under(&idx.invitation_inviter, &str_prefix(&actor.login), after))];
            for g in self.tables.groups_of(&actor.login)? {
                if group.is_some_and(|f| f != g) {
                    continue;
                }
                let manages = self.tables.groups.get(&g)?.is_some_and(|g| {
                    matches!(g.role_of(&actor.login), Some(GroupRole::Owner | GroupRole::Moderator))
                });
                if manages {
                    sources.push(Box::new(Indexes::ids_under(
                        &idx.invitation_group,
                        &g.to_be_bytes(),
                        after,
                    )));
                }
            }
            Box::new(MergeIds::new(sources))
        };
        let rows = rows_of(&self.tables.invitations, ids).filter_map(|row| {
            let (id, inv) = match row {
                Ok(row) => row,
                Err(e) => return Some(Err(e)),
            };
            if group.is_some_and(|g| g != inv.group)
                || (!all && inv.state_at(now) != InvitationState::Pending)
            {
                return None;
            }
            match self.may_manage(actor, &inv) {
                Ok(true) => Some(Ok((id.to_be_bytes().to_vec(), redacted(actor, inv)))),
                Ok(false) => None,
                Err(e) => Some(Err(e)),
            }
        });
        page.collect(rows)
    }

    /// A new token and expiry, and the e-mail again; the old token stops working.
    pub fn resend_invitation(&self, actor: &Actor, id: u64) -> PortalResult<Invitation> {
        let t = &self.tables;
        let now = self.now();
        let token = new_token();
        let inv = t.db.write(|tx| {
            let mut inv = self.managed_invitation(tx, actor, id)?;
            let old = inv.token_hash.clone();
            inv.renew(hash_token(&token), now, self.options.invite_ttl_ms)?;
            let group = t.groups.tx_get(tx, &inv.group)?.ok_or_else(|| group_gone(inv.group))?;
            t.invitation_tokens.tx_remove(tx, &old);
            t.invitation_tokens.tx_put(tx, &inv.token_hash, &id)?;
            t.put_invitation(tx, &inv)?;
            self.enqueue_invitation_mail(tx, &inv, &group, &token)?;
            Ok::<_, PortalError>(inv)
        })?;
        self.mail_wake.notify_one();
        Ok(redacted(actor, inv))
    }

    pub fn revoke_invitation(&self, actor: &Actor, id: u64) -> PortalResult<Invitation> {
        let t = &self.tables;
        let now = self.now();
        t.db.write(|tx| {
            let mut inv = self.managed_invitation(tx, actor, id)?;
            // The token stays indexed so that using it says "withdrawn", not "unknown".
            inv.revoke(now)?;
            t.put_invitation(tx, &inv)?;
            Ok(inv)
        })
        .map(|inv| redacted(actor, inv))
    }

    /// The pending invitation a token belongs to, with its group (for the web page).
    pub fn invitation_by_token(&self, token: &str) -> PortalResult<(Invitation, Option<Group>)> {
        let t = &self.tables;
        let id = t.invitation_tokens.get(&hash_token(token.trim()))?.ok_or_else(unknown_token)?;
        let inv = t.invitations.get(&id)?.ok_or_else(unknown_token)?;
        inv.check_acceptable(self.now())?;
        let group = t.groups.get(&inv.group)?;
        Ok((inv, group))
    }

    /// R4: the invitee becomes an extranet user of the portal (and a member of the
    /// group unless R6 applied), with a first API token. The seat check and the new
    /// user commit together, so two acceptances cannot both take the last seat.
    pub fn accept_invitation(&self, token: &str, display_name: &str, login: &str) -> PortalResult<Accepted> {
        let display_name = validate::name("display name", display_name)?;
        let wanted = if login.trim().is_empty() { None } else { Some(validate::login("login", login)?) };
        let t = &self.tables;
        let now = self.now();
        let api_token = new_token();
        t.db.write(|tx| {
            let id = t.invitation_tokens.tx_get(tx, &hash_token(token.trim()))?.ok_or_else(unknown_token)?;
            let mut inv = t.invitations.tx_get(tx, &id)?.ok_or_else(unknown_token)?;
            inv.check_acceptable(now)?;
            // The address may have been taken since the invitation was sent.
            self.check_address_free(tx, &inv.email, Some(inv.id))?;
            check_seat(self.seats(tx)?, self.active_users(tx)?)?;
            let login = match wanted {
                Some(l) => {
                    if t.users.tx_get(tx, &l)?.is_some() {
                        return Err(PortalError::Domain(Error::exists(text!(
                            "error-login-taken",
                            login = &l
                        ))));
                    }
                    l
                }
                None => {
                    // Point look-ups of the candidate logins, not a list of every user.
                    let failed = std::cell::Cell::new(None);
                    let login = login_from_email(&inv.email, |l| {
                        t.users
                            .tx_get(tx, &l.to_string())
                            .unwrap_or_else(|e| {
                                failed.set(Some(e));
                                None
                            })
                            .is_some()
                    });
                    if let Some(e) = failed.take() {
                        return Err(e.into());
                    }
                    login
                }
            };
            let user = User {
                login: login.clone(),
                display_name: display_name.clone(),
                email: inv.email.clone(),
                position: String::new(),
                kind: UserKind::Extranet,
                state: UserState::Active,
                admin: false,
                created_at: now,
                language: inv.language,
            };
            t.put_user(tx, &user)?;
            let mut groups = Vec::new();
            if inv.admits_to_group {
                let mut g = t.groups.tx_get(tx, &inv.group)?.ok_or_else(|| group_gone(inv.group))?;
                if !g.settings.extranet {
                    return Err(PortalError::Domain(Error::precondition(text!(
                        "error-group-left-extranet",
                        group = g.id
                    ))));
                }
                g.members.insert(login.clone(), GroupRole::Member);
                t.put_group(tx, &g)?;
                groups.push(g.id);
            }
            t.tokens.tx_put(
                tx,
                &hash_token(&api_token),
                &TokenRecord { login: login.clone(), created_at: now },
            )?;
            inv.state = InvitationState::Accepted;
            inv.accepted_login = Some(login);
            // The token stays indexed so that reusing it says "already used".
            t.put_invitation(tx, &inv)?;
            Ok(Accepted { user, api_token: api_token.clone(), groups })
        })
    }

    /// R11: an address that belongs to a user of this portal (active or dismissed)
    /// or to a pending invitation cannot be invited.
    fn check_address_free(&self, tx: &WriteTx<'_>, email: &str, except: Option<u64>) -> PortalResult<()> {
        let t = &self.tables;
        // By the e-mail indexes: never a scan of every user or invitation.
        if let Some(login) = t.tx_user_by_email(tx, email)?
            && let Some(u) = t.users.tx_get(tx, &login)?
        {
            // Least information: the inviter learns that the address is taken,
            // not by whom (an administrator can look it up).
            let id = if u.is_active() { "error-email-of-user" } else { "error-email-of-dismissed" };
            let text = Text::new(id, vec![("email", email.into())]);
            return Err(PortalError::Domain(Error::exists(text)));
        }
        let now = self.now();
        for inv in t.tx_invitations_to(tx, email)? {
            if Some(inv.id) != except && inv.state_at(now) == InvitationState::Pending {
                return Err(PortalError::Domain(Error::exists(text!(
                    "error-email-invited",
                    email = email,
                    id = inv.id
                ))));
            }
        }
        Ok(())
    }

    /// Active users: each takes a seat (R8). A counter kept with every user write.
    pub(super) fn active_users(&self, tx: &WriteTx<'_>) -> PortalResult<usize> {
        Ok(self.tables.idx.tx_active_users(tx)? as usize)
    }

    fn visible_group(&self, tx: &WriteTx<'_>, actor: &Actor, id: u64) -> PortalResult<Group> {
        let g = self.tables.groups.tx_get(tx, &id)?.ok_or_else(|| group_gone(id))?;
        if actor.kind == UserKind::Extranet && !g.is_member(&actor.login) {
            return Err(group_gone(id));
        }
        Ok(g)
    }

    /// The inviter, an admin, and the group's owner and moderators manage an invitation.
    fn may_manage(&self, actor: &Actor, inv: &Invitation) -> PortalResult<bool> {
        if actor.admin || inv.inviter == actor.login {
            return Ok(true);
        }
        let g = self.tables.groups.get(&inv.group)?;
        Ok(g.is_some_and(|g| {
            matches!(g.role_of(&actor.login), Some(GroupRole::Owner | GroupRole::Moderator))
        }))
    }

    fn managed_invitation(&self, tx: &WriteTx<'_>, actor: &Actor, id: u64) -> PortalResult<Invitation> {
        let not_found =
            || PortalError::Domain(Error::not_found(text!("error-invitation-not-found", id = id)));
        let inv = self.tables.invitations.tx_get(tx, &id)?.ok_or_else(not_found)?;
        if !self.may_manage(actor, &inv)? {
            return Err(not_found());
        }
        Ok(inv)
    }

    fn enqueue_invitation_mail(
        &self,
        tx: &mut WriteTx<'_>,
        inv: &Invitation,
        group: &Group,
        token: &str,
    ) -> PortalResult<()> {
        let inviter = self
            .tables
            .users
            .tx_get(tx, &inv.inviter)?
            .map(|u| u.display_name)
            .unwrap_or_else(|| inv.inviter.clone());
        let link = format!("{}/invite/{token}", self.options.web_url.trim_end_matches('/'));
        let lang = inv.language.unwrap_or(self.options.language);
        let expires = self.datetime(lang, inv.expires_at);
        let mail = portalnet_mail::invitation(&portalnet_mail::Invitation {
            portal_name: &self.settings.display_name,
            from: &self.options.mail_from,
            to: &inv.email,
            inviter_name: &inviter,
            group_name: inv.admits_to_group.then_some(group.name.as_str()),
            accept_link: &link,
            token,
            expires: &expires,
            lang,
        });
        self.enqueue_mail(tx, &mail)
    }
}

/// Least information: an extranet user who manages an invitation someone else
/// sent (as a group's moderator) sees it without the invitee's address.
fn redacted(actor: &Actor, mut inv: Invitation) -> Invitation {
    if actor.kind == UserKind::Extranet && inv.inviter != actor.login {
        inv.email.clear();
    }
    inv
}

fn unknown_token() -> PortalError {
    PortalError::Domain(Error::not_found(text!("error-invitation-link-unknown")))
}

fn group_gone(id: u64) -> PortalError {
    PortalError::Domain(Error::not_found(text!("error-group-not-found", group = id)))
}
