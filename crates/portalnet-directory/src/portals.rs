//! Registered portals: registration, key rotation, the network setting (R13, R15).

use crate::error::{Error, Result};
use crate::index::Changes;
use crate::records::{EntryKey, EntryShown, PortalRecord};
use crate::{Directory, MAX_ENDPOINT};
use portalnet_core::time::Timestamp;
use portalnet_core::validate;
use portalnet_store::Key;

/// Certificates (with a chain) stay well under this.
const MAX_CERTIFICATE: usize = 16 * 1024;

/// A portal id in its stored form (lowercase), or InvalidArgument.
pub(crate) fn portal_id(id: &str) -> Result<String> {
    Ok(validate::portal_id(id)?)
}

fn endpoint(value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Error::invalid("endpoint is required (e.g. `https://alpha.test:7443`)"));
    }
    if v.len() > MAX_ENDPOINT || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(format!(
            "endpoint is not valid: at most {MAX_ENDPOINT} bytes, no spaces or control characters"
        )));
    }
    Ok(v.to_string())
}

impl Directory {
    /// Registers a new portal (network off), or updates the endpoint of a known one
    /// presenting its current key. A new id needs `enrolment`: a secret enrolled
    /// for exactly that id, unused and unexpired, which this write uses up; a known
    /// portal needs none (it proves itself by its key) and its secret is ignored.
    /// A known portal presenting another key gets PermissionDenied: that takes
    /// [`Directory::rotate_key`]. A refusal writes nothing.
    pub fn register(
        &self,
        portal_id: &str,
        endpoint: &str,
        public_key: [u8; 32],
        enrolment: Option<&str>,
        now: Timestamp,
    ) -> Result<PortalRecord> {
        let id = self::portal_id(portal_id)?;
        let endpoint = self::endpoint(endpoint)?;
        self.db.write(|tx| {
            let record = match self.portals.tx_get(tx, &id)? {
                None => {
                    self.redeem(tx, &id, enrolment, now)?;
                    PortalRecord {
                        portal_id: id.clone(),
                        endpoint,
                        public_key,
                        network_enabled: false,
                        network_enabled_since: None,
                        registered_at: now,
                        previous_keys: Vec::new(),
                        key_rotated_at: None,
                        entries: 0,
                        tls_certificate: String::new(),
                    }
                }
                Some(known) if known.public_key == public_key => {
                    if known.endpoint == endpoint {
                        return Ok(known);
                    }
                    PortalRecord { endpoint, ..known }
                }
                Some(_) => {
                    return Err(Error::PermissionDenied(format!(
                        "portal {id} is registered with another key: register the new key with a rotation \
                         signed by the old one"
                    )));
                }
            };
            self.portals.tx_put(tx, &id, &record)?;
            Ok(record)
        })
    }

    /// Replaces a portal's key `from` by `new_key`; the caller has verified the
    /// rotation signature of `from`, which it read as the current key. The old key
    /// is kept in `previous_keys`. Rotating to the current key only updates the
    /// endpoint; a key used before is refused. When the current key is no longer
    /// `from` (another rotation, perhaps through another directory node, committed
    /// in between), the rotation is refused with PermissionDenied and writes
    /// nothing: a signature by a replaced key must not replace its successor.
    pub fn rotate_key(
        &self,
        portal_id: &str,
        from: [u8; 32],
        new_key: [u8; 32],
        endpoint: &str,
        now: Timestamp,
    ) -> Result<PortalRecord> {
        let id = self::portal_id(portal_id)?;
        let endpoint = self::endpoint(endpoint)?;
        self.db
            .write(|tx| {
                let mut record = self.known(tx, &id)?;
                if record.public_key != new_key && record.public_key != from {
                    return Err(Error::PermissionDenied(format!(
                        "portal {id}'s key changed while this rotation was checked: sign the rotation \
                         with the current key"
                    )));
                }
                if record.public_key != new_key {
                    if record.previous_keys.contains(&new_key) {
                        return Err(Error::FailedPrecondition(format!(
                            "portal {id} used this key before: rotate to a new key"
                        )));
                    }
                    record.previous_keys.push(record.public_key);
                    record.public_key = new_key;
                    record.key_rotated_at = Some(now);
                }
                record.endpoint = endpoint;
                self.portals.tx_put(tx, &id, &record)?;
                Ok(record)
            })
            .inspect(|_| {
                self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            })
    }

    /// Stores the TLS certificate (PEM) a registered portal presents to others.
    pub fn set_certificate(&self, portal_id: &str, pem: &str) -> Result<PortalRecord> {
        let id = self::portal_id(portal_id)?;
        if pem.len() > MAX_CERTIFICATE || !pem.contains("-----BEGIN CERTIFICATE-----") {
            return Err(Error::invalid(format!(
                "tls_certificate must be a PEM certificate of at most {MAX_CERTIFICATE} bytes"
            )));
        }
        self.db.write(|tx| {
            let mut record = self.known(tx, &id)?;
            if record.tls_certificate != pem {
                record.tls_certificate = pem.to_string();
                self.portals.tx_put(tx, &id, &record)?;
            }
            Ok(record)
        })
    }

    /// The current key of the portal registered under `portal_id`, if any, for
    /// checking its requests: kept in memory up to [`crate::KEY_CACHE_MS`] after it was
    /// read (a search would otherwise read and decode the portal's record, on
    /// PostgreSQL a query). A rotation through this node is seen at once; one
    /// through another node of a shared database within [`crate::KEY_CACHE_MS`].
    pub fn portal_key(&self, portal_id: &str) -> Result<Option<(String, [u8; 32])>> {
        Ok(self.cached(portal_id)?.map(|(id, (key, _))| (id, key)))
    }

    /// Whether the portal registered under `portal_id` has its network on (R13):
    /// a portal with it off neither shows its people nor reads others'. Cached as
    /// [`Directory::portal_key`] is; a change through this node is seen at once.
    pub fn network_on(&self, portal_id: &str) -> Result<bool> {
        Ok(self.cached(portal_id)?.is_some_and(|(_, (_, on))| on))
    }

    fn cached(&self, portal_id: &str) -> Result<Option<(String, crate::KnownPortal)>> {
        let Ok(id) = self::portal_id(portal_id) else { return Ok(None) };
        let fresh = std::time::Duration::from_millis(crate::KEY_CACHE_MS);
        if let Some((known, read)) = self.keys.lock().unwrap_or_else(|p| p.into_inner()).get(&id)
            && read.elapsed() < fresh
        {
            return Ok(Some((id, *known)));
        }
        let Some(record) = self.portals.get(&id)? else { return Ok(None) };
        let known = (record.public_key, record.network_enabled);
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.insert(id.clone(), (known, std::time::Instant::now()));
        Ok(Some((id, known)))
    }

    /// The portal registered under `portal_id`, if any.
    pub fn portal(&self, portal_id: &str) -> Result<Option<PortalRecord>> {
        let Ok(id) = self::portal_id(portal_id) else { return Ok(None) };
        Ok(self.portals.get(&id)?)
    }

    /// Every registered portal, in id order.
    pub fn portals(&self) -> Result<Vec<PortalRecord>> {
        self.portals.iter().map(|r| r.map(|(_, p)| p).map_err(Error::from)).collect()
    }

    /// Switches network communication on or off (R13). Switching on records `now`
    /// as `network_enabled_since` (R15); when already on, the earlier time stays.
    /// Switching off clears it and takes the portal's people out of search and
    /// e-mail lookup; they stay stored and come back when it is switched on again.
    pub fn set_network(&self, portal_id: &str, enabled: bool, now: Timestamp) -> Result<PortalRecord> {
        let id = self::portal_id(portal_id)?;
        self.write_indexed(|tx| {
            let mut record = self.known(tx, &id)?;
            let mut index = Changes::default();
            if record.network_enabled == enabled {
                return Ok::<_, Error>((record, index));
            }
            record.network_enabled = enabled;
            record.network_enabled_since = enabled.then_some(now);
            for (k, v) in tx.scan_prefix(self.entries.tree(), &EntryKey::portal_prefix(&id))? {
                let Some(key) = EntryKey::from_bytes(&k) else { continue };
                let EntryShown { display_name, position } = portalnet_store::decode(&v)?;
                if enabled {
                    index.add(&display_name, &position, key.address());
                } else {
                    index.remove(&display_name, key.address());
                }
            }
            self.portals.tx_put(tx, &id, &record)?;
            Ok((record, index))
        })
        .inspect(|_| {
            self.keys.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        })
    }

    pub(crate) fn known(&self, tx: &portalnet_store::WriteTx<'_>, id: &str) -> Result<PortalRecord> {
        self.portals
            .tx_get(tx, &id.to_string())?
            .ok_or_else(|| Error::not_found(format!("portal {id} is not registered with the directory")))
    }

    /// Whether `portal_id` is registered with its network on.
    pub(crate) fn visible(&self, portal_id: &str) -> Result<bool> {
        Ok(self.portals.get(&portal_id.to_string())?.is_some_and(|p| p.network_enabled))
    }
}
