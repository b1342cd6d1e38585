//! API tokens: `pn_` + 256 random bits (base64url). Only their SHA-256 is stored;
//! a token names exactly one user, and a dismissed user's tokens stop working.

use super::Portal;
use crate::error::{PortalError, PortalResult};
use base64::Engine;
use portalnet_core::error::text;
use portalnet_core::permissions::Actor;
use portalnet_core::user::{NewUser, User};
use portalnet_core::{Error, Timestamp};
use portalnet_store::StoreError;
use portalnet_store::schema::{SETTINGS_KEY, Tables, TokenRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn new_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("pn_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Writes a new portal: its settings, the `admin` user and the admin's token.
/// Returns the token. Refuses a folder that already holds a portal.
pub fn init_portal(
    tables: &Tables,
    settings: portalnet_core::settings::PortalSettings,
    now: Timestamp,
) -> PortalResult<String> {
    let admin = NewUser::new(
        "admin",
        "Portal administrator",
        &format!("admin@{}", settings.portal_id),
        "administrator",
        true,
    )?
    .into_user(now);
    let token = new_token();
    tables.db.write(|tx| {
        if tables.settings.tx_get(tx, &SETTINGS_KEY.to_string())?.is_some() {
            return Err(PortalError::Domain(Error::exists(text!("error-portal-exists"))));
        }
        tables.settings.tx_put(tx, &SETTINGS_KEY.to_string(), &settings)?;
        tables.put_user(tx, &admin)?;
        tables.tokens.tx_put(
            tx,
            &hash_token(&token),
            &TokenRecord { login: admin.login.clone(), created_at: now },
        )?;
        Ok::<_, PortalError>(())
    })?;
    tables.db.sync()?;
    Ok(token)
}

impl Portal {
    /// The user a bearer token acts as.
    /// The user a token names, with the language they read (None: the portal's).
    pub fn authenticate(&self, token: Option<&str>) -> PortalResult<(Actor, Option<portalnet_mail::Lang>)> {
        let Some(token) = token.map(str::trim).filter(|t| !t.is_empty()) else {
            return Err(PortalError::Unauthenticated(crate::error::AuthRefusal::Missing));
        };
        let rec = self
            .tables
            .tokens
            .get(&hash_token(token))?
            .ok_or(PortalError::Unauthenticated(crate::error::AuthRefusal::Unknown))?;
        let user = self.tables.users.get(&rec.login)?.ok_or_else(|| {
            PortalError::Store(StoreError::Corrupt {
                what: "token".into(),
                reason: "names a missing user".into(),
            })
        })?;
        if !user.is_active() {
            return Err(PortalError::Unauthenticated(crate::error::AuthRefusal::Dismissed(user.login)));
        }
        Ok((actor_of(&user), user.language))
    }

    /// Issues a new token for an active user (admins only). Returned once.
    pub fn issue_token(&self, actor: &Actor, login: &str) -> PortalResult<String> {
        super::require_admin(actor, "issue API tokens")?;
        let login = portalnet_core::validate::login("login", login)?;
        let user = self.user(&login)?;
        if !user.is_active() {
            return Err(PortalError::Domain(Error::precondition(text!(
                "error-dismissed-no-token",
                login = login
            ))));
        }
        let token = new_token();
        let rec = TokenRecord { login, created_at: self.now() };
        self.tables.db.write(|tx| self.tables.tokens.tx_put(tx, &hash_token(&token), &rec))?;
        Ok(token)
    }
}

pub fn actor_of(user: &User) -> Actor {
    Actor { login: user.login.clone(), admin: user.admin, kind: user.kind }
}
