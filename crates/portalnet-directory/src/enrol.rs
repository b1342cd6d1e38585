//! Enrolment: the proof of a portal id. The directory's operator enrols an id and
//! hands the portal a one-time secret; the first registration of that id must
//! carry it. Only the secret's SHA-256 is stored, with an expiry; a registration
//! uses it up in the same write that stores the portal.

use crate::Directory;
use crate::error::{Error, Result};
use crate::portals::portal_id;
use crate::records::Enrolment;
use portalnet_core::time::Timestamp;
use portalnet_store::WriteTx;
use sha2::{Digest, Sha256};

/// How long an enrolment secret is valid unless the operator says otherwise.
pub const ENROLMENT_TTL_MS: i64 = 7 * 24 * 3600 * 1000;
/// A secret shorter than this cannot hold 128 random bits in any usual encoding.
pub const MIN_SECRET_CHARS: usize = 22;
const MAX_SECRET_CHARS: usize = 200;

/// SHA-256 of a secret (surrounding whitespace ignored), in hex: the stored form.
pub fn secret_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.trim().as_bytes()))
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Directory {
    /// Stores an enrolment of `portal_id` for the secret whose SHA-256 (hex) is
    /// given, valid until `expires_at`. Enrolling an id that is already registered
    /// is allowed and changes nothing for it (a registered portal needs no secret).
    pub fn add_enrolment(
        &self,
        portal_id: &str,
        secret_sha256: &str,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Enrolment> {
        let id = self::portal_id(portal_id)?;
        if !is_sha256_hex(secret_sha256) {
            return Err(Error::invalid(
                "an enrolment is stored as the secret's SHA-256: 64 lowercase hex digits",
            ));
        }
        if expires_at <= created_at {
            return Err(Error::invalid("an enrolment must expire after it is created"));
        }
        let hash = secret_sha256.to_string();
        let record =
            Enrolment { portal_id: id, secret_sha256: hash.clone(), created_at, expires_at, used_at: None };
        self.db.write(|tx| {
            if self.enrolments.tx_get(tx, &hash)?.is_some() {
                return Err(Error::AlreadyExists("this enrolment secret is already stored".into()));
            }
            self.enrolments.tx_put(tx, &hash, &record)?;
            Ok(record.clone())
        })
    }

    /// Enrols `portal_id` for `secret` (hashed here), valid for `ttl_ms` from `now`.
    pub fn enrol(&self, portal_id: &str, secret: &str, now: Timestamp, ttl_ms: i64) -> Result<Enrolment> {
        let s = secret.trim();
        if s.chars().count() < MIN_SECRET_CHARS || s.len() > MAX_SECRET_CHARS {
            return Err(Error::invalid(format!(
                "an enrolment secret has {MIN_SECRET_CHARS} to {MAX_SECRET_CHARS} characters"
            )));
        }
        self.add_enrolment(portal_id, &secret_sha256(s), now, now.plus_millis(ttl_ms))
    }

    /// Every stored enrolment (used and expired ones too), oldest first.
    pub fn enrolments(&self) -> Result<Vec<Enrolment>> {
        let mut all: Vec<Enrolment> =
            self.enrolments.iter().map(|r| r.map(|(_, e)| e).map_err(Error::from)).collect::<Result<_>>()?;
        all.sort_by(|a, b| (a.created_at, &a.portal_id).cmp(&(b.created_at, &b.portal_id)));
        Ok(all)
    }

    /// Whether `secret` enrols exactly `id`, unused and unexpired, without using
    /// it up: read before a registration's envelope is verified, so that a caller
    /// without one (any key will sign) leaves nothing behind, not even a nonce.
    /// [`Directory::register`] checks again, in its write.
    pub fn check_enrolment(&self, id: &str, secret: Option<&str>, now: Timestamp) -> Result<()> {
        let id = self::portal_id(id)?;
        let found = match secret.map(str::trim).filter(|s| !s.is_empty()) {
            Some(secret) => self.enrolments.get(&secret_sha256(secret))?,
            None => None,
        };
        admits(found.as_ref(), &id, secret, now)
    }

    /// Checks that `secret` enrols exactly `id`, unused and unexpired, and marks it
    /// used in `tx`. Every refusal says what to do.
    pub(crate) fn redeem(
        &self,
        tx: &mut WriteTx<'_>,
        id: &str,
        secret: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        let Some(secret) = secret.map(str::trim).filter(|s| !s.is_empty()) else {
            return admits(None, id, None, now);
        };
        let hash = secret_sha256(secret);
        let mut e = self.enrolments.tx_get(tx, &hash)?;
        admits(e.as_ref(), id, Some(secret), now)?;
        if let Some(e) = e.as_mut() {
            e.used_at = Some(now);
            self.enrolments.tx_put(tx, &hash, e)?;
        }
        Ok(())
    }
}

/// Whether the enrolment `e` found for `secret` admits `id` at `now`. Every
/// refusal says what to do.
fn admits(e: Option<&Enrolment>, id: &str, secret: Option<&str>, now: Timestamp) -> Result<()> {
    let ask = format!(
        "ask the directory's operator for an enrolment secret (`portald directory enrol --dir DIR {id}`) \
         and link the portal with it (`portald link ... --enrolment SECRET`)"
    );
    if secret.map(str::trim).is_none_or(str::is_empty) {
        return Err(Error::PermissionDenied(format!(
            "portal {id} is not registered with this directory, and a new portal id is registered only \
             with proof: {ask}"
        )));
    }
    let Some(e) = e else {
        return Err(Error::PermissionDenied(format!(
            "the enrolment secret presented for {id} is not known to this directory; {ask}"
        )));
    };
    if e.portal_id != id {
        return Err(Error::PermissionDenied(format!(
            "the enrolment secret presented is for another portal id, not {id}; {ask}"
        )));
    }
    if let Some(used) = e.used_at {
        return Err(Error::PermissionDenied(format!(
            "the enrolment secret for {id} was already used (at {}); {ask}",
            used.to_utc_string()
        )));
    }
    if now >= e.expires_at {
        return Err(Error::PermissionDenied(format!(
            "the enrolment secret for {id} expired at {}; {ask}",
            e.expires_at.to_utc_string()
        )));
    }
    Ok(())
}
