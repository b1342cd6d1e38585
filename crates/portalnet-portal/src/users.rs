//! Users: employees added by administrators, dismissal, renames, languages, e-mail changes, seats.

use super::{Portal, require_admin};
use crate::error::{PortalError, PortalResult};
use crate::paging::{Page, PageReq, table_rows};
use portalnet_core::Error;
use portalnet_core::error::text;
use portalnet_core::invitation::check_seat;
use portalnet_core::permissions::Actor;
use portalnet_core::user::{NewUser, User, UserKind, UserState};
use portalnet_core::validate;
use portalnet_store::WriteTx;
use portalnet_store::schema::SETTINGS_KEY;

/// What an administrator changes about a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserPatch<'a> {
    pub display_name: Option<&'a str>,
    pub position: Option<&'a str>,
    /// `Some("")` returns the user to the portal's language.
    pub language: Option<&'a str>,
}

impl Portal {
    pub fn add_user(&self, actor: &Actor, new: NewUser) -> PortalResult<User> {
        require_admin(actor, "add users")?;
        let user = new.into_user(self.now());
        let t = &self.tables;
        t.db.write(|tx| {
            if t.users.tx_get(tx, &user.login)?.is_some() {
                return Err(PortalError::Domain(Error::exists(text!(
                    "error-user-exists",
                    login = &user.login
                ))));
            }
            self.check_email_unused(tx, &user.email, None, true)?;
            check_seat(self.seats(tx)?, self.active_users(tx)?)?;
            t.put_user(tx, &user)?;
            self.directory_changed(tx)
        })?;
        self.directory_wake.notify_one();
        Ok(user)
    }

    /// Employees list everyone; extranet users may not browse employees (R7).
    /// One page, by login.
    pub fn list_users(
        &self,
        actor: &Actor,
        include_dismissed: bool,
        page: &PageReq,
    ) -> PortalResult<Page<User>> {
        if actor.kind == UserKind::Extranet {
            return Err(PortalError::Domain(Error::denied(text!("error-extranet-no-browse"))));
        }
        let rows = table_rows(&self.tables.users, &[], page)
            .filter(|r| include_dismissed || r.as_ref().map_or(true, |(_, u)| u.is_active()));
        page.collect(rows)
    }

    /// Extranet users see only the members of their groups (R12), and no one's
    /// e-mail address but their own (least information).
    pub fn get_user(&self, actor: &Actor, login: &str) -> PortalResult<User> {
        let login = validate::login("login", login)?;
        if let Some(visible) = self.visible_logins(actor)?
            && !visible.contains(&login)
        {
            return Err(PortalError::Domain(Error::not_found(text!("error-user-not-found", login = &login))));
        }
        let mut user = self.user(&login)?;
        if actor.kind == UserKind::Extranet && user.login != actor.login {
            user.email.clear();
        }
        Ok(user)
    }

    pub fn dismiss_user(&self, actor: &Actor, login: &str) -> PortalResult<User> {
        require_admin(actor, "dismiss users")?;
        let login = validate::login("login", login)?;
        if login == actor.login {
            return Err(PortalError::Domain(Error::precondition(text!("error-dismiss-self"))));
        }
        self.change_user(&login, |user| {
            if user.state == UserState::Dismissed {
                return Err(Error::precondition(text!("error-already-dismissed", login = &login)));
            }
            user.state = UserState::Dismissed;
            Ok(())
        })
    }

    /// Renames a user, changes their position or their language (`Some("")`: back to
    /// the portal's); the directory follows.
    pub fn update_user(&self, actor: &Actor, login: &str, patch: UserPatch<'_>) -> PortalResult<User> {
        require_admin(actor, "change users")?;
        let login = validate::login("login", login)?;
        let UserPatch { display_name, position, language } = patch;
        if display_name.is_none() && position.is_none() && language.is_none() {
            return Err(PortalError::invalid(text!("error-user-empty-update")));
        }
        let name = display_name.map(|n| validate::name("display name", n)).transpose()?;
        let position =
            position.map(|p| validate::optional_line("position", p, validate::MAX_NAME_CHARS)).transpose()?;
        let language = language.map(validate::language).transpose()?;
        self.change_user(&login, move |u| {
            if let Some(n) = name {
                u.display_name = n;
            }
            if let Some(p) = position {
                u.position = p;
            }
            if let Some(l) = language {
                u.language = l;
            }
            Ok(())
        })
    }

    /// R9: an extranet user becomes an employee, keeping groups and tasks.
    pub fn move_to_intranet(&self, actor: &Actor, login: &str) -> PortalResult<User> {
        require_admin(actor, "move users to the intranet")?;
        let login = validate::login("login", login)?;
        self.change_user(&login, |user| {
            if user.kind == UserKind::Employee {
                return Err(Error::precondition(text!("error-already-employee", login = &login)));
            }
            if !user.is_active() {
                return Err(Error::precondition(text!("error-is-dismissed", login = &login)));
            }
            user.kind = UserKind::Employee;
            Ok(())
        })
    }

    /// R10: never allowed; the error says what to do instead.
    pub fn move_to_extranet(&self, actor: &Actor, login: &str) -> PortalResult<User> {
        require_admin(actor, "change users")?;
        let login = validate::login("login", login)?;
        let user = self.user(&login)?;
        if user.kind == UserKind::Extranet {
            return Err(PortalError::Domain(Error::precondition(text!(
                "error-already-extranet",
                login = &login
            ))));
        }
        Err(PortalError::Domain(Error::precondition(text!("error-no-move-to-extranet", login = &login))))
    }

    /// Changes a user's address (admins only); frees the old one (R11).
    pub fn set_email(&self, actor: &Actor, login: &str, email: &str) -> PortalResult<User> {
        require_admin(actor, "change e-mail addresses")?;
        let login = validate::login("login", login)?;
        let email = validate::email("email", email)?;
        let t = &self.tables;
        t.db.write(|tx| {
            let mut user = t.users.tx_get(tx, &login)?.ok_or_else(|| {
                PortalError::Domain(Error::not_found(text!("error-user-not-found", login = &login)))
            })?;
            self.check_email_unused(tx, &email, Some(&login), true)?;
            user.email = email.clone();
            t.put_user(tx, &user)?;
            self.directory_changed(tx)?;
            Ok(user)
        })
        .inspect(|_| self.directory_wake.notify_one())
    }

    /// Fails when another user of this portal has `email` (before asking the
    /// directory to move a Network account to it).
    pub fn check_email_free_for(&self, login: &str, email: &str) -> PortalResult<()> {
        self.tables.db.write(|tx| self.check_email_unused(tx, email, Some(login), false))
    }

    /// After the directory moved the caller's Network account to `email` (R11).
    pub fn apply_account_email(&self, login: &str, email: &str) -> PortalResult<User> {
        let email = email.to_string();
        self.change_user(login, move |u| {
            u.email = email;
            Ok(())
        })
    }

    /// The plan: seat limit and seats taken (R8); for employees.
    /// From the user counters kept with every user write (no scan of users).
    pub fn plan(&self, actor: &Actor) -> PortalResult<(u32, portalnet_store::index::UserCounts)> {
        super::require_employee(actor, "the plan and its seats")?;
        let seats = self.tables.portal_settings()?.map_or(0, |s| s.seats);
        Ok((seats, self.tables.idx.user_counts()?))
    }

    pub fn set_seats(&self, actor: &Actor, seats: u32) -> PortalResult<()> {
        require_admin(actor, "change the plan")?;
        let t = &self.tables;
        t.db.write(|tx| {
            let key = SETTINGS_KEY.to_string();
            let mut s = t.settings.tx_get(tx, &key)?.ok_or_else(|| {
                PortalError::Internal("the portal's settings are missing from storage".into())
            })?;
            s.seats = seats;
            t.settings.tx_put(tx, &key, &s)?;
            Ok(())
        })
    }

    fn change_user(
        &self,
        login: &str,
        f: impl FnOnce(&mut User) -> portalnet_core::Result<()>,
    ) -> PortalResult<User> {
        let t = &self.tables;
        t.db.write(|tx| {
            let mut user = t.users.tx_get(tx, &login.to_string())?.ok_or_else(|| {
                PortalError::Domain(Error::not_found(text!("error-user-not-found", login = &login)))
            })?;
            f(&mut user)?;
            t.put_user(tx, &user)?;
            self.directory_changed(tx)?;
            Ok(user)
        })
        .inspect(|_| self.directory_wake.notify_one())
    }

    /// E-mail addresses are unique on a portal, compared case-insensitively. The
    /// refusal names the user who has the address only to an administrator
    /// (`to_admin`), who manages users anyway; anyone else learns no login.
    fn check_email_unused(
        &self,
        tx: &WriteTx<'_>,
        email: &str,
        except: Option<&str>,
        to_admin: bool,
    ) -> PortalResult<()> {
        // By the e-mail index: never a scan of every user inside the writer lock.
        if let Some(login) = self.tables.tx_user_by_email(tx, email)?
            && Some(login.as_str()) != except
        {
            let msg = if to_admin {
                text!("error-email-used-by", email = email, login = &login)
            } else {
                text!("error-email-used", email = email)
            };
            return Err(PortalError::Domain(Error::exists(msg)));
        }
        Ok(())
    }
}
