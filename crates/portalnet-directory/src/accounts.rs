//! Network accounts (R11): a person's global identity, owning one e-mail address
//! that is unique across the directory (compared case-insensitively), joined only
//! with its consent.
//!
//! An entry published with an e-mail nobody owns creates an account; its address
//! becomes the **owner**, whose portal speaks for the account. Every other address
//! published with an owned e-mail joins only with the owner's consent: it stays
//! unlinked and a link request is recorded, which the owner's portal approves
//! ([`Directory::approve_link`]). The cases linked without a request are those
//! where the publishing portal is the one that would approve anyway:
//! - an address of the owner's portal (it speaks for the account);
//! - the take-over of an account emptied earlier in the same write, and a new
//!   address of the owner's portal after the owner's address left earlier in the
//!   same write (a login renamed in one publish keeps the account and, when it
//!   was the owner, stays the owner).
//!
//! An address of another portal — even one with an approved address already —
//! asks again: a linked portal that renames a login in one publish cannot be told
//! from one that replaces the person with somebody else carrying the e-mail, so
//! its new login waits for the owner's approval like any other (the old one's
//! link is gone with it). Requests are bounded per requesting portal
//! ([`MAX_LINK_REQUESTS_PER_PORTAL`]) and in all ([`MAX_LINK_REQUESTS`]).
//!
//! So a portal that publishes someone else's e-mail neither joins, moves nor
//! freezes their account, nor crowds out the requests of other portals. An
//! account left without addresses is deleted, and its e-mail is free again; when
//! the owner's address goes, the first remaining address — every one of them
//! linked by the owner's consent — becomes the owner.
//!
//! The account as answered to a portal ([`Directory::link_requests`],
//! [`Directory::approve_link`], [`Directory::change_account_email`]) leaves out
//! addresses and requests of other portals whose network is off: the directory
//! shows their people to nobody.

use crate::error::{Error, Result};
use crate::portals::portal_id;
use crate::records::{Account, AccountRecord, EntryKey, EntryRecord};
use crate::{Directory, MAX_ADDRESSES_PER_ACCOUNT, MAX_LINK_REQUESTS};
use portalnet_core::validate;
use portalnet_store::WriteTx;
use std::collections::{BTreeSet, HashMap};

/// The counter (in the store's `meta` tree) that numbers accounts.
const ACCOUNT_SEQ: &str = "dir_accounts";

/// Link requests one account keeps from one requesting portal; more from it are
/// not recorded (the entries stay unlinked). A person seldom has more than one
/// login on a portal; a few leave room for a login renamed while the old one still
/// waits. Without this bound one hostile portal could fill the account's
/// [`MAX_LINK_REQUESTS`] with logins carrying the person's e-mail, and the
/// person's real request from their other portal would not be recorded; now
/// filling it takes `MAX_LINK_REQUESTS / MAX_LINK_REQUESTS_PER_PORTAL` portals,
/// each enrolled by the directory's operator.
pub const MAX_LINK_REQUESTS_PER_PORTAL: usize = 3;

/// Whether `addr` (`login@portal`) is an address of `portal`.
fn on_portal(addr: &str, portal: &str) -> bool {
    portal_of(addr) == Some(portal)
}

/// The portal of `addr` (`login@portal`).
fn portal_of(addr: &str) -> Option<&str> {
    addr.rsplit_once('@').map(|(_, p)| p)
}

fn insert_sorted(list: &mut Vec<String>, addr: &str) -> bool {
    match list.binary_search_by(|a| a.as_str().cmp(addr)) {
        Ok(_) => false,
        Err(at) => {
            list.insert(at, addr.to_string());
            true
        }
    }
}

fn remove_sorted(list: &mut Vec<String>, addr: &str) {
    if let Ok(at) = list.binary_search_by(|a| a.as_str().cmp(addr)) {
        list.remove(at);
    }
}

fn full(addr: &str) -> Error {
    Error::FailedPrecondition(format!(
        "the e-mail address of {addr} is already linked to {MAX_ADDRESSES_PER_ACCOUNT} addresses, the most \
         one Network account may have"
    ))
}

/// The accounts one write touches, each written once at the end ([`Self::finish`]):
/// a batch linking thousands of addresses to one account does not rewrite it
/// thousands of times.
pub(crate) struct AccountChanges<'d> {
    dir: &'d Directory,
    loaded: HashMap<u64, AccountRecord>,
    dirty: BTreeSet<u64>,
    /// Accounts whose owner's address left earlier in this write while others
    /// stayed, with the owner's portal: until [`Self::finish`] hands the account
    /// over, that portal still speaks for it (their `owner` is empty meanwhile).
    vacated: HashMap<u64, String>,
}

impl<'d> AccountChanges<'d> {
    pub fn new(dir: &'d Directory) -> Self {
        Self { dir, loaded: HashMap::new(), dirty: BTreeSet::new(), vacated: HashMap::new() }
    }

    /// The account `id`, loaded once per write; `None` when it does not exist.
    fn load(&mut self, tx: &WriteTx<'_>, id: u64) -> Result<Option<&mut AccountRecord>> {
        if !self.loaded.contains_key(&id) {
            let Some(record) = self.dir.accounts.tx_get(tx, &id)? else { return Ok(None) };
            self.loaded.insert(id, record);
        }
        Ok(self.loaded.get_mut(&id))
    }

    /// Whether the account `id` exists and is the account of `email` (compared
    /// as keys): an entry linked to it that is published with its e-mail keeps
    /// its link, also after the owner changed the account's e-mail.
    pub fn holds_email(&mut self, tx: &WriteTx<'_>, id: u64, email: &str) -> Result<bool> {
        let key = validate::email_key(email);
        Ok(self.load(tx, id)?.is_some_and(|a| validate::email_key(&a.email) == key))
    }

    /// Links `addr` (an address of `portal`) to the account owning `email`, or
    /// creates that account with `addr` as owner, and returns its id; unless
    /// `portal` is the owner's (see the module's doc), records a link request
    /// instead and returns `None` (the entry stays unlinked until the owner
    /// approves).
    pub fn link_or_request(
        &mut self,
        tx: &mut WriteTx<'_>,
        email: &str,
        addr: &str,
        portal: &str,
    ) -> Result<Option<u64>> {
        let key = validate::email_key(email);
        let Some(id) = self.dir.emails.tx_get(tx, &key)? else {
            let id = tx.next_id(ACCOUNT_SEQ)?;
            self.dir.emails.tx_put(tx, &key, &id)?;
            self.loaded.insert(id, AccountRecord::founded(email, addr));
            self.dirty.insert(id);
            return Ok(Some(id));
        };
        // The owner's portal while the owner's address is away within this write.
        let vacated = self.vacated.remove(&id);
        let account = self
            .load(tx, id)?
            .ok_or_else(|| Error::FailedPrecondition(format!("the Network account of {addr} is missing")))?;
        if account.addresses.is_empty() {
            // Emptied earlier in this write (a login renamed in one publish): it
            // would be deleted at `finish`, so it is free, and this address takes
            // it over as it would a new account, without the old owner's requests.
            *account = AccountRecord::founded(email, addr);
            self.dirty.insert(id);
            return Ok(Some(id));
        }
        let linked = account.addresses.binary_search_by(|a| a.as_str().cmp(addr)).is_ok();
        // The portal that speaks for the account: the owner's, also while its
        // owner's address is away within this write.
        let speaks = portal_of(&account.owner).or(vacated.as_deref()) == Some(portal);
        if linked || speaks {
            if !linked && account.addresses.len() >= MAX_ADDRESSES_PER_ACCOUNT {
                return Err(full(addr));
            }
            insert_sorted(&mut account.addresses, addr);
            remove_sorted(&mut account.requests, addr);
            let keep_vacated = account.owner.is_empty() && !speaks;
            if account.owner.is_empty() && speaks {
                // The owner's portal renamed the owner's login (or replaced it):
                // the new address owns the account, as the old one did.
                account.owner = addr.to_string();
            }
            self.dirty.insert(id);
            if keep_vacated && let Some(speaker) = vacated {
                self.vacated.insert(id, speaker);
            }
            return Ok(Some(id));
        }
        let from_portal = account.requests.iter().filter(|r| on_portal(r, portal)).count();
        if account.requests.len() < MAX_LINK_REQUESTS
            && from_portal < MAX_LINK_REQUESTS_PER_PORTAL
            && insert_sorted(&mut account.requests, addr)
        {
            self.dirty.insert(id);
        }
        if let Some(speaker) = vacated {
            self.vacated.insert(id, speaker);
        }
        Ok(None)
    }

    /// Undoes what [`Self::link_or_request`] did for the entry `old` at `addr`:
    /// unlinks it, or withdraws its link request.
    pub fn release(&mut self, tx: &WriteTx<'_>, old: &EntryRecord, addr: &str) -> Result<()> {
        let id = match old.account {
            Some(id) => id,
            None => match self.dir.emails.tx_get(tx, &validate::email_key(&old.email))? {
                Some(id) => id,
                None => return Ok(()),
            },
        };
        let Some(account) = self.load(tx, id)? else { return Ok(()) };
        if old.account.is_some() {
            remove_sorted(&mut account.addresses, addr);
            if account.owner == addr {
                // Handed over at `finish`, unless the owner's portal links a new
                // address to it first (a login renamed in one publish).
                account.owner.clear();
                if !account.addresses.is_empty()
                    && let Some(portal) = portal_of(addr)
                {
                    self.vacated.insert(id, portal.to_string());
                }
            }
        } else {
            remove_sorted(&mut account.requests, addr);
        }
        self.dirty.insert(id);
        Ok(())
    }

    /// Writes the touched accounts; deletes those left without addresses and frees
    /// their e-mail. An account whose owner's address left hands over to its first
    /// remaining address: every one of them was linked by the owner's consent
    /// (approved, or published by the owner's own portal).
    pub fn finish(mut self, tx: &mut WriteTx<'_>) -> Result<()> {
        for id in self.dirty {
            let Some(account) = self.loaded.get_mut(&id) else { continue };
            if account.owner.is_empty()
                && let Some(first) = account.addresses.first()
            {
                account.owner = first.clone();
            }
            if account.addresses.is_empty() {
                self.dir.accounts.tx_remove(tx, &id);
                let key = validate::email_key(&account.email);
                if self.dir.emails.tx_get(tx, &key)? == Some(id) {
                    self.dir.emails.tx_remove(tx, &key);
                }
            } else {
                self.dir.accounts.tx_put(tx, &id, account)?;
            }
        }
        Ok(())
    }
}

impl Directory {
    /// The Network account that `login@portal_id` is linked to (`None` also while
    /// its link request waits for approval).
    pub fn account_of(&self, portal_id: &str, login: &str) -> Result<Option<Account>> {
        let id = self::portal_id(portal_id)?;
        let Some(entry) = self.entries.get(&EntryKey::new(&id, login.trim()))? else { return Ok(None) };
        let Some(account) = entry.account else { return Ok(None) };
        Ok(self.accounts.get(&account)?.map(|a| a.view()))
    }

    /// `account` as answered to `caller`, the owner's portal: addresses and requests
    /// of other portals whose network is off are left out, as the directory shows
    /// their people to nobody; they appear again once it is switched on.
    fn shown_to(&self, caller: &str, account: &AccountRecord) -> Result<Account> {
        let mut portals: Vec<String> = account
            .addresses
            .iter()
            .chain(&account.requests)
            .filter_map(|a| portal_of(a))
            .filter(|p| *p != caller)
            .map(str::to_string)
            .collect();
        portals.sort_unstable();
        portals.dedup();
        // One read for them all (one query on PostgreSQL).
        let records = self.portals.get_many(&portals)?;
        let visible: BTreeSet<&str> = portals
            .iter()
            .zip(&records)
            .filter(|(_, r)| r.as_ref().is_some_and(|r| r.network_enabled))
            .map(|(p, _)| p.as_str())
            .collect();
        Ok(account.view_where(|a| portal_of(a).is_some_and(|p| p == caller || visible.contains(p))))
    }

    /// The account linked to `login@portal`, which must be owned by an address of
    /// `portal`: only the owner's portal speaks for an account.
    fn owned_account(&self, tx: &WriteTx<'_>, key: &EntryKey, what: &str) -> Result<(u64, AccountRecord)> {
        let entry = self.entries.tx_get(tx, key)?.ok_or_else(|| {
            Error::not_found(format!("{} is not published in the directory", key.address()))
        })?;
        let id = entry.account.ok_or_else(|| {
            Error::FailedPrecondition(format!(
                "{} is not linked to a Network account: its e-mail belongs to an account that has not \
                 approved it",
                key.address()
            ))
        })?;
        let account = self
            .accounts
            .tx_get(tx, &id)?
            .ok_or_else(|| Error::FailedPrecondition(format!("{} has no Network account", key.address())))?;
        if !on_portal(&account.owner, &key.portal) {
            return Err(Error::PermissionDenied(format!(
                "the Network account of {} is owned by an address on another portal; {what} there",
                key.address()
            )));
        }
        Ok((id, account))
    }

    /// The account linked to `login@portal_id` takes `new_email` (R11); its old
    /// e-mail is free afterwards. Allowed to the owner's portal only, whatever other
    /// portals published. The stored entries of every linked address carry the new
    /// e-mail; pending link requests (made under the old e-mail) are dropped. An
    /// address still waiting for approval leaves that request and gets an account
    /// of its own under `new_email`. AlreadyExists when another account owns it.
    pub fn change_account_email(&self, portal_id: &str, login: &str, new_email: &str) -> Result<Account> {
        let id = self::portal_id(portal_id)?;
        let login = validate::login("login", login)?;
        let new_email = validate::email("new e-mail", new_email)?;
        let new_key = validate::email_key(&new_email);
        let key = EntryKey::new(&id, &login);
        let account = self.db.write(|tx| {
            let entry = self.entries.tx_get(tx, &key)?.ok_or_else(|| {
                Error::not_found(format!("{} is not published in the directory", key.address()))
            })?;
            let taken = |tx: &WriteTx<'_>, mine: Option<u64>| -> Result<()> {
                match self.emails.tx_get(tx, &new_key)? {
                    Some(owner) if Some(owner) != mine => Err(Error::AlreadyExists(
                        "this e-mail address belongs to another Network account".into(),
                    )),
                    _ => Ok(()),
                }
            };
            if entry.account.is_none() {
                taken(tx, None)?;
                let mut accounts = AccountChanges::new(self);
                accounts.release(tx, &entry, &key.address())?;
                let account = accounts.link_or_request(tx, &new_email, &key.address(), &id)?;
                accounts.finish(tx)?;
                let record = EntryRecord { email: new_email.clone(), account, ..entry };
                self.entries.tx_put(tx, &key, &record)?;
                let created = match account {
                    Some(a) => self.accounts.tx_get(tx, &a)?,
                    None => None,
                };
                return created.ok_or_else(|| {
                    Error::FailedPrecondition("the new Network account was not created".into())
                });
            }
            let (account_id, mut account) = self.owned_account(tx, &key, "its e-mail is changed")?;
            taken(tx, Some(account_id))?;
            let old_key = validate::email_key(&account.email);
            if old_key != new_key && self.emails.tx_get(tx, &old_key)? == Some(account_id) {
                self.emails.tx_remove(tx, &old_key);
            }
            self.emails.tx_put(tx, &new_key, &account_id)?;
            account.email = new_email.clone();
            if old_key != new_key {
                account.requests.clear();
            }
            // The owner's portal's own entries carry the new e-mail; another
            // portal's keep the one it published, which its next refresh publishes
            // again: their link is to the account, not to an e-mail (`publish`
            // keeps it for either), so the old e-mail stays free (R11).
            for addr in account.addresses.iter().filter(|a| on_portal(a, &id)) {
                let Some((login, portal)) = addr.split_once('@') else { continue };
                let k = EntryKey::new(portal, login);
                if let Some(mut e) = self.entries.tx_get(tx, &k)? {
                    e.email = new_email.clone();
                    self.entries.tx_put(tx, &k, &e)?;
                }
            }
            self.accounts.tx_put(tx, &account_id, &account)?;
            Ok(account)
        })?;
        self.shown_to(&id, &account)
    }

    /// The account of `login@portal_id` with its link requests; for the owner's
    /// portal only. Those of portals whose network is off are left out.
    pub fn link_requests(&self, portal_id: &str, login: &str) -> Result<Account> {
        let id = self::portal_id(portal_id)?;
        let login = validate::login("login", login)?;
        let key = EntryKey::new(&id, &login);
        let account = self
            .db
            .write(|tx| Ok::<_, Error>(self.owned_account(tx, &key, "its link requests are answered")?.1))?;
        self.shown_to(&id, &account)
    }

    /// The person `login@portal_id`, through their own (the owner's) portal, agrees
    /// that `address` joins their Network account: its entry is linked, its request
    /// removed. NotFound when `address` did not ask, or asked from another portal
    /// whose network is off (not shown, so not approved; its request stays until
    /// that portal is seen again); a request whose entry no longer carries the
    /// account's e-mail is dropped (FailedPrecondition).
    pub fn approve_link(&self, portal_id: &str, login: &str, address: &str) -> Result<Account> {
        let id = self::portal_id(portal_id)?;
        let login = validate::login("login", login)?;
        let address = address.trim();
        let (other_login, other_portal) = address
            .split_once('@')
            .ok_or_else(|| Error::invalid(format!("{address} is not an address: expected login@portal")))?;
        let other = EntryKey::new(&self::portal_id(other_portal)?, &validate::login("login", other_login)?);
        let addr = other.address();
        let key = EntryKey::new(&id, &login);
        let account = self.db.write(|tx| {
            let (account_id, mut account) = self.owned_account(tx, &key, "link requests are answered")?;
            let hidden = other.portal != id
                && !self.portals.tx_get(tx, &other.portal)?.is_some_and(|p| p.network_enabled);
            if hidden || account.requests.binary_search(&addr).is_err() {
                return Err(Error::not_found(format!(
                    "{addr} has not asked to join the Network account of {}",
                    key.address()
                )));
            }
            let pending = self.entries.tx_get(tx, &other)?.filter(|e| {
                e.account.is_none() && validate::email_key(&e.email) == validate::email_key(&account.email)
            });
            remove_sorted(&mut account.requests, &addr);
            let Some(mut entry) = pending else {
                self.accounts.tx_put(tx, &account_id, &account)?;
                return Ok(Err(Error::FailedPrecondition(format!(
                    "{addr} no longer carries this account's e-mail; its request is withdrawn"
                ))));
            };
            if account.addresses.len() >= MAX_ADDRESSES_PER_ACCOUNT {
                return Err(full(&addr));
            }
            insert_sorted(&mut account.addresses, &addr);
            entry.account = Some(account_id);
            self.entries.tx_put(tx, &other, &entry)?;
            self.accounts.tx_put(tx, &account_id, &account)?;
            Ok(Ok(account))
        })??;
        self.shown_to(&id, &account)
    }
}
