//! Directory sessions: a portal proves its key once, with a signed `OpenSession`,
//! and then makes read-only calls (search, e-mail and address lookups) with the
//! token it got instead of signing each. A signature check costs about as much as
//! a whole echo RPC, and on a shared database each signed call also claims its
//! nonce there; a token is checked with one HMAC and the portal's record.
//!
//! A token is `1 ‖ expires_at (i64 BE) ‖ HMAC-SHA-256(secret, tag ‖ origin ‖
//! expires_at ‖ public key)`, 41 bytes. It names no portal: the request's
//! `origin` does, and the MAC binds the two. It is refused once expired
//! ([`SESSION_TTL_MS`] after it was opened), or as soon as the portal's key
//! changes (rotation) or the portal is gone, since the MAC covers the key the
//! directory holds *now* (through another node of a shared database: within
//! [`crate::KEY_CACHE_MS`]). The secret is 32 random bytes kept in the `meta` tree,
//! made by the first node that needs it (writes are serialised across nodes),
//! so every directory node sharing the database accepts every node's tokens.
//!
//! Only read-only calls accept a token: a stolen one (it travels inside TLS
//! only) lets its holder search as that portal until it expires, never write.
//! Replays need no nonce here: replaying a search changes nothing.

use crate::Directory;
use crate::error::{Error, Result};
use crate::portals::portal_id;
use hmac::{Hmac, Mac};
use portalnet_core::Timestamp;
use rand::RngCore;
use sha2::Sha256;

/// How long a session is valid: 10 minutes.
pub const SESSION_TTL_MS: i64 = 10 * 60 * 1000;

const VERSION: u8 = 1;
const TOKEN_LEN: usize = 1 + 8 + 32;
const TAG: &[u8] = b"portalnet-directory-session-v1\0";
/// The secret's key in the store's `meta` tree.
const SECRET_KEY: &[u8] = b"dir/session_secret";

/// A session token and when it stops being accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token: Vec<u8>,
    pub expires_at: Timestamp,
}

fn refused(why: &str) -> Error {
    Error::Unauthenticated(format!(
        "the directory session {why}; open a new one (OpenSession) or sign the request"
    ))
}

impl Directory {
    /// A session for `portal_id`, whose signed request the caller has verified.
    pub fn open_session(&self, portal_id: &str, now: Timestamp) -> Result<Session> {
        let id = self::portal_id(portal_id)?;
        let portal = self
            .portals
            .get(&id)?
            .ok_or_else(|| Error::not_found(format!("portal {id} is not registered in this directory")))?;
        let expires_at = Timestamp(now.0.saturating_add(SESSION_TTL_MS));
        let mut token = Vec::with_capacity(TOKEN_LEN);
        token.push(VERSION);
        token.extend_from_slice(&expires_at.0.to_be_bytes());
        token.extend_from_slice(
            &self.session_mac(&id, &portal.public_key, expires_at)?.finalize().into_bytes(),
        );
        Ok(Session { token, expires_at })
    }

    /// Whether `token` is a live session of `portal_id` (the request's origin).
    /// [`Error::Unauthenticated`] when not, saying why.
    pub fn check_session(&self, portal_id: &str, token: &[u8], now: Timestamp) -> Result<()> {
        let (Some(&VERSION), Some(expires), Some(tag)) =
            (token.first(), token.get(1..9), token.get(9..).filter(|t| t.len() == 32))
        else {
            return Err(refused("token is malformed"));
        };
        let expires_at = Timestamp(i64::from_be_bytes(expires.try_into().unwrap_or_default()));
        if expires_at <= now {
            return Err(refused("has expired"));
        }
        let (id, key) = self.portal_key(portal_id)?.ok_or_else(|| refused("is not valid for this portal"))?;
        // Constant time: no timing hint of how much of a forged tag was right.
        self.session_mac(&id, &key, expires_at)?
            .verify_slice(tag)
            .map_err(|_| refused("is not valid for this portal or its current key"))
    }

    /// The MAC of a token of portal `id` (normalised) holding `key`.
    fn session_mac(&self, id: &str, key: &[u8; 32], expires_at: Timestamp) -> Result<Hmac<Sha256>> {
        let secret = self.session_secret()?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&secret)
            .map_err(|_| Error::FailedPrecondition("session secret of a wrong length".into()))?;
        mac.update(TAG);
        mac.update(&u32::try_from(id.len()).unwrap_or(u32::MAX).to_be_bytes());
        mac.update(id.as_bytes());
        mac.update(&expires_at.0.to_be_bytes());
        mac.update(key);
        Ok(mac)
    }

    /// The secret every node sharing the database signs tokens with: read once,
    /// made by the first caller when the database has none.
    pub(crate) fn session_secret(&self) -> Result<[u8; 32]> {
        if let Some(s) = self.session_secret.get() {
            return Ok(*s);
        }
        let meta = self.db.tree("meta")?;
        let stored = |b: Option<Vec<u8>>| b.and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok());
        // Every start after the first finds it: a read, no write and no flush.
        let secret = match stored(meta.get(SECRET_KEY)?) {
            Some(s) => s,
            None => {
                let secret = self.db.write(|tx| {
                    // Another node may have made it since the read above.
                    if let Some(s) = stored(tx.get(&meta, SECRET_KEY)?) {
                        return Ok::<_, Error>(s);
                    }
                    let mut s = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut s);
                    tx.insert(&meta, SECRET_KEY, s.to_vec());
                    Ok(s)
                })?;
                // Made durable before a token signed with it leaves: a restart
                // must not make a new secret while tokens of the old one are out.
                self.db.sync()?;
                secret
            }
        };
        Ok(*self.session_secret.get_or_init(|| secret))
    }
}
