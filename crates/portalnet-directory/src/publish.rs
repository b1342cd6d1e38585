//! Publishing a portal's people: validated, then written in one atomic write with
//! their account links; the name index follows (when the portal's network is on).

use crate::accounts::AccountChanges;
use crate::error::{Error, Result};
use crate::index::Changes;
use crate::portals::portal_id;
use crate::records::{Entry, EntryKey, EntryRecord};
use crate::{Directory, MAX_POSITION_CHARS, MAX_REMOVES, MAX_UPSERTS};
use portalnet_core::validate;
use portalnet_store::Key;
use std::collections::HashSet;

fn clean_entry(e: &Entry) -> Result<Entry> {
    let login = validate::login("login", &e.login)?;
    Ok(Entry {
        display_name: validate::name(&format!("display name of {login}"), &e.display_name)?,
        position: validate::optional_line(&format!("position of {login}"), &e.position, MAX_POSITION_CHARS)?,
        email: validate::email(&format!("e-mail of {login}"), &e.email)?,
        login,
    })
}

/// Logins at or after `from` and before `to` (`None`: no end); the default holds
/// every login.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginRange {
    pub from: String,
    pub to: Option<String>,
}

impl LoginRange {
    fn holds(&self, login: &str) -> bool {
        login >= self.from.as_str() && self.to.as_deref().is_none_or(|to| login < to)
    }
}

impl Directory {
    /// Upserts and removes entries of `portal_id`'s people; with `replace_all`, every
    /// entry not in `upsert` is removed. Each entry is keyed by (portal, login), its
    /// address is `login@portal_id`, and it is linked to the Network account of its
    /// e-mail when that account consents (see `accounts.rs`: an account that holds
    /// no address of this portal gets a link request instead). All or nothing: one invalid entry refuses the whole call. Returns the
    /// number of entries the portal has now.
    ///
    /// Entries of a portal whose network is off are stored but not searchable.
    pub fn publish(
        &self,
        portal_id: &str,
        upsert: Vec<Entry>,
        remove: Vec<String>,
        replace_all: bool,
    ) -> Result<u32> {
        self.publish_in(portal_id, upsert, remove, replace_all.then(LoginRange::default))
    }

    /// [`Directory::publish`] with `replace_all` limited to the entries whose login
    /// lies in `range`: a portal with more people than one call may carry
    /// ([`MAX_UPSERTS`]) replaces them a range per call, in login order.
    pub fn publish_range(&self, portal_id: &str, upsert: Vec<Entry>, range: LoginRange) -> Result<u32> {
        self.publish_in(portal_id, upsert, Vec::new(), Some(range))
    }

    fn publish_in(
        &self,
        portal_id: &str,
        upsert: Vec<Entry>,
        remove: Vec<String>,
        replace: Option<LoginRange>,
    ) -> Result<u32> {
        let id = self::portal_id(portal_id)?;
        if upsert.len() > MAX_UPSERTS {
            return Err(Error::invalid(format!(
                "{} entries in one publish; the limit is {MAX_UPSERTS}: send them in batches",
                upsert.len()
            )));
        }
        if remove.len() > MAX_REMOVES {
            return Err(Error::invalid(format!(
                "{} removals in one publish; the limit is {MAX_REMOVES}",
                remove.len()
            )));
        }
        let mut upserts = Vec::with_capacity(upsert.len());
        let mut logins = HashSet::with_capacity(upsert.len());
        for e in &upsert {
            let e = clean_entry(e)?;
            if !logins.insert(e.login.clone()) {
                return Err(Error::invalid(format!("login {} appears twice in one publish", e.login)));
            }
            upserts.push(e);
        }
        // Folded before the write lock: the index needs them only after it.
        let folded: Vec<String> =
            upserts.iter().map(|e| crate::index::folded_name(&e.display_name)).collect();
        let mut removals = Vec::with_capacity(remove.len());
        for login in &remove {
            let login = validate::login("login to remove", login)?;
            if logins.contains(&login) {
                return Err(Error::invalid(format!("login {login} is both upserted and removed")));
            }
            removals.push(login);
        }

        self.write_indexed(|tx| {
            let mut portal = self.known(tx, &id)?;
            let visible = portal.network_enabled;
            // Every row the loops below read, in three round trips on PostgreSQL
            // instead of several per person (the embedded engine skips this).
            let keys: Vec<EntryKey> = upserts
                .iter()
                .map(|e| &e.login)
                .chain(&removals)
                .map(|login| EntryKey::new(&id, login))
                .collect();
            // A portal publishing about as many people as it has (its first
            // publish, a full refresh) reads its whole range once, whatever the
            // engine; a small change reads its rows one by one.
            if portal.entries as usize <= keys.len().saturating_mul(2) {
                self.entries.tx_prefetch_prefix(tx, &EntryKey::portal_prefix(&id), &keys)?;
            } else {
                self.entries.tx_prefetch(tx, &keys)?;
            }
            if tx.is_shared() {
                let mut emails: Vec<String> = upserts.iter().map(|e| validate::email_key(&e.email)).collect();
                for key in &keys {
                    if let Some(old) = self.entries.tx_get(tx, key)? {
                        emails.push(validate::email_key(&old.email));
                    }
                }
                self.emails.tx_prefetch(tx, &emails)?;
                let mut ids = Vec::new();
                for e in &emails {
                    if let Some(id) = self.emails.tx_get(tx, e)? {
                        ids.push(id);
                    }
                }
                self.accounts.tx_prefetch(tx, &ids)?;
            }
            let mut index = Changes::default();
            let mut accounts = AccountChanges::new(self);
            if let Some(range) = &replace {
                for (k, _) in tx.scan_prefix(self.entries.tree(), &EntryKey::portal_prefix(&id))? {
                    if let Some(key) = EntryKey::from_bytes(&k)
                        && range.holds(&key.login)
                        && !logins.contains(&key.login)
                    {
                        removals.push(key.login);
                    }
                }
            }
            for login in removals {
                let key = EntryKey::new(&id, &login);
                let Some(old) = self.entries.tx_get(tx, &key)? else { continue };
                if visible {
                    index.remove(&old.display_name, key.address());
                }
                accounts.release(tx, &old, &key.address())?;
                self.entries.tx_remove(tx, &key);
                portal.entries = portal.entries.saturating_sub(1);
            }
            for (e, folded) in upserts.into_iter().zip(folded) {
                let key = EntryKey::new(&id, &e.login);
                let addr = key.address();
                let old = self.entries.tx_get(tx, &key)?;
                let (account, reindex) = match &old {
                    // Unchanged and linked: nothing to do. Unchanged but unlinked:
                    // ask again, the account may have gone or its e-mail moved.
                    Some(old)
                        if old.display_name == e.display_name
                            && old.position == e.position
                            && old.email == e.email
                            && old.account.is_some() =>
                    {
                        continue;
                    }
                    Some(old) => {
                        // The e-mail it published before, or its account's now (the
                        // owner moved the account to the e-mail this portal now has).
                        let same_email = validate::email_key(&old.email) == validate::email_key(&e.email)
                            || match old.account {
                                Some(linked) => accounts.holds_email(tx, linked, &e.email)?,
                                None => false,
                            };
                        let account = match old.account {
                            Some(linked) if same_email => Some(linked),
                            _ => {
                                accounts.release(tx, old, &addr)?;
                                accounts.link_or_request(tx, &e.email, &addr, &id)?
                            }
                        };
                        // The index shows the position too: a new one is a reindex.
                        let reindex =
                            visible && (old.display_name != e.display_name || old.position != e.position);
                        if reindex {
                            index.remove(&old.display_name, addr.clone());
                        }
                        (account, reindex)
                    }
                    None => {
                        portal.entries = portal.entries.saturating_add(1);
                        (accounts.link_or_request(tx, &e.email, &addr, &id)?, visible)
                    }
                };
                if reindex {
                    index.add_folded(folded, &e.display_name, &e.position, addr);
                }
                let record = EntryRecord {
                    display_name: e.display_name,
                    position: e.position,
                    email: e.email,
                    account,
                };
                self.entries.tx_put(tx, &key, &record)?;
            }
            accounts.finish(tx)?;
            self.portals.tx_put(tx, &id, &portal)?;
            Ok::<_, Error>((portal.entries, index))
        })
    }

    /// One stored entry, e-mail included (for the portal that published it).
    pub fn entry(&self, portal_id: &str, login: &str) -> Result<Option<Entry>> {
        let id = self::portal_id(portal_id)?;
        let login = login.trim();
        Ok(self.entries.get(&EntryKey::new(&id, login))?.map(|r| Entry {
            login: login.to_string(),
            display_name: r.display_name,
            position: r.position,
            email: r.email,
        }))
    }

    /// The people behind `login@portal` addresses that are published by portals
    /// with the network on (R16); unknown and hidden addresses are left out.
    pub fn lookup_addresses(&self, addresses: &[String]) -> Result<Vec<crate::records::Person>> {
        if addresses.len() > MAX_LOOKUP {
            return Err(Error::invalid(format!("look up at most {MAX_LOOKUP} addresses at a time")));
        }
        let mut out = Vec::new();
        for a in addresses {
            let Some((login, portal)) = a.trim().split_once('@') else { continue };
            let Ok(portal) = self::portal_id(portal) else { continue };
            if !self.visible(&portal)? {
                continue;
            }
            if let Some(r) = self.entries.get(&EntryKey::new(&portal, login))? {
                out.push(crate::records::Person {
                    display_name: r.display_name,
                    position: r.position,
                    address: format!("{login}@{portal}"),
                    portal_id: portal,
                });
            }
        }
        Ok(out)
    }
}

/// Addresses one lookup may ask about.
pub const MAX_LOOKUP: usize = 100;
