use super::{Portal, require_admin};
use crate::error::{NodeError, NodeResult};
use portalnet_core::Error;
use portalnet_core::permissions::Actor;
use portalnet_core::user::{NewUser, User, UserState};
use portalnet_core::validate::{self, email_key};

impl Portal {
    pub fn add_user(&self, actor: &Actor, new: NewUser) -> NodeResult<User> {
        require_admin(actor, "add users")?;
        let user = new.into_user(self.now());
        let t = &self.tables;
        t.db.write(|tx| {
            if t.users.tx_get(tx, &user.login)?.is_some() {
                return Err(NodeError::Domain(Error::exists(format!(
                    "user `{}` already exists",
                    user.login
                ))));
            }
            // E-mail addresses are unique on a portal, compared case-insensitively.
            let key = email_key(&user.email);
            for kv in t.users.iter() {
                let (_, other) = kv?;
                if email_key(&other.email) == key {
                    return Err(NodeError::Domain(Error::exists(format!(
                        "e-mail {} is already used by `{}`",
                        user.email, other.login
                    ))));
                }
            }
            t.users.tx_put(tx, &user.login, &user)?;
            Ok(())
        })?;
        Ok(user)
    }

    pub fn list_users(&self, _actor: &Actor, include_dismissed: bool) -> NodeResult<Vec<User>> {
        let mut out = Vec::new();
        for kv in self.tables.users.iter() {
            let (_, u) = kv?;
            if include_dismissed || u.is_active() {
                out.push(u);
            }
        }
        Ok(out)
    }

    pub fn get_user(&self, _actor: &Actor, login: &str) -> NodeResult<User> {
        self.user(&validate::login("login", login)?)
    }

    pub fn dismiss_user(&self, actor: &Actor, login: &str) -> NodeResult<User> {
        require_admin(actor, "dismiss users")?;
        let login = validate::login("login", login)?;
        if login == actor.login {
            return Err(NodeError::Domain(Error::precondition(
                "you cannot dismiss yourself; ask another administrator",
            )));
        }
        let t = &self.tables;
        t.db.write(|tx| {
            let mut user = t.users.tx_get(tx, &login)?.ok_or_else(|| {
                NodeError::Domain(Error::not_found(format!("user `{login}` not found on this portal")))
            })?;
            if user.state == UserState::Dismissed {
                return Err(NodeError::Domain(Error::precondition(format!(
                    "user `{login}` is already dismissed"
                ))));
            }
            user.state = UserState::Dismissed;
            t.users.tx_put(tx, &login, &user)?;
            Ok(user)
        })
    }
}
