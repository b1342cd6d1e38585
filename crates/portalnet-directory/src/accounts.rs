//! Network accounts (R11): a person's global identity, owning one e-mail address
//! that is unique across the directory (compared case-insensitively). An entry
//! published with an e-mail is linked to the account of that e-mail, which is
//! created when none has it; an account left without addresses is deleted, and its
//! e-mail is free again.

use crate::error::{Error, Result};
use crate::portals::portal_id;
use crate::records::{Account, AccountRecord, EntryKey};
use crate::{Directory, MAX_ADDRESSES_PER_ACCOUNT};
use portalnet_core::validate;
use portalnet_store::WriteTx;
use std::collections::{BTreeSet, HashMap};

/// The counter (in the store's `meta` tree) that numbers accounts.
const ACCOUNT_SEQ: &str = "dir_accounts";

/// The accounts one write touches, each written once at the end ([`Self::finish`]):
/// a batch linking thousands of addresses to one account does not rewrite it
/// thousands of times.
pub(crate) struct AccountChanges<'d> {
    dir: &'d Directory,
    loaded: HashMap<u64, AccountRecord>,
    dirty: BTreeSet<u64>,
}

impl<'d> AccountChanges<'d> {
    pub fn new(dir: &'d Directory) -> Self {
        Self { dir, loaded: HashMap::new(), dirty: BTreeSet::new() }
    }

    fn load(&mut self, tx: &WriteTx<'_>, id: u64, email: &str) -> Result<&mut AccountRecord> {
        if !self.loaded.contains_key(&id) {
            let record = self
                .dir
                .accounts
                .tx_get(tx, &id)?
                .unwrap_or_else(|| AccountRecord { email: email.to_string(), addresses: Vec::new() });
            self.loaded.insert(id, record);
        }
        self.loaded.get_mut(&id).ok_or_else(|| Error::FailedPrecondition("account vanished".into()))
    }

    /// Links `addr` to the account owning `email`, creating it; returns its id.
    pub fn link(&mut self, tx: &mut WriteTx<'_>, email: &str, addr: &str) -> Result<u64> {
        let key = validate::email_key(email);
        let id = match self.dir.emails.tx_get(tx, &key)? {
            Some(id) => id,
            None => {
                let id = tx.next_id(ACCOUNT_SEQ)?;
                self.dir.emails.tx_put(tx, &key, &id)?;
                self.loaded.insert(id, AccountRecord { email: email.to_string(), addresses: Vec::new() });
                id
            }
        };
        let account = self.load(tx, id, email)?;
        if let Err(at) = account.addresses.binary_search_by(|a| a.as_str().cmp(addr)) {
            if account.addresses.len() >= MAX_ADDRESSES_PER_ACCOUNT {
                return Err(Error::FailedPrecondition(format!(
                    "the e-mail address of {addr} is already linked to {MAX_ADDRESSES_PER_ACCOUNT} \
                     addresses, the most one Network account may have"
                )));
            }
            account.addresses.insert(at, addr.to_string());
        }
        self.dirty.insert(id);
        Ok(id)
    }

    /// Unlinks `addr` from account `id`.
    pub fn unlink(&mut self, tx: &WriteTx<'_>, id: u64, addr: &str) -> Result<()> {
        let account = self.load(tx, id, "")?;
        if let Ok(at) = account.addresses.binary_search_by(|a| a.as_str().cmp(addr)) {
            account.addresses.remove(at);
        }
        self.dirty.insert(id);
        Ok(())
    }

    /// Writes the touched accounts; deletes those left without addresses and frees
    /// their e-mail.
    pub fn finish(self, tx: &mut WriteTx<'_>) -> Result<()> {
        for id in self.dirty {
            let Some(account) = self.loaded.get(&id) else { continue };
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
    /// The Network account that `login@portal_id` is linked to.
    pub fn account_of(&self, portal_id: &str, login: &str) -> Result<Option<Account>> {
        let id = self::portal_id(portal_id)?;
        let Some(entry) = self.entries.get(&EntryKey::new(&id, login.trim()))? else { return Ok(None) };
        Ok(self.accounts.get(&entry.account)?.map(|a| Account { email: a.email, addresses: a.addresses }))
    }

    /// The account linked to `login@portal_id` takes `new_email` (R11); its old
    /// e-mail is free afterwards. The stored entries of every address linked to the
    /// account carry the new e-mail. AlreadyExists when another account owns it.
    pub fn change_account_email(&self, portal_id: &str, login: &str, new_email: &str) -> Result<Account> {
        let id = self::portal_id(portal_id)?;
        let login = validate::login("login", login)?;
        let new_email = validate::email("new e-mail", new_email)?;
        let new_key = validate::email_key(&new_email);
        let key = EntryKey::new(&id, &login);
        self.db.write(|tx| {
            let entry = self.entries.tx_get(tx, &key)?.ok_or_else(|| {
                Error::not_found(format!("{} is not published in the directory", key.address()))
            })?;
            let account_id = entry.account;
            let mut account = self.accounts.tx_get(tx, &account_id)?.ok_or_else(|| {
                Error::FailedPrecondition(format!("{} has no Network account", key.address()))
            })?;
            // A portal speaks only for its own people: an account that also holds
            // addresses of other portals is not one portal's to change (otherwise a
            // portal could publish someone's e-mail, join their account, and move it).
            let foreign = account.addresses.iter().filter(|a| !a.ends_with(&format!("@{id}"))).count();
            if foreign > 0 {
                return Err(Error::PermissionDenied(format!(
                    "the Network account of {} is linked to {foreign} address(es) on other portals; \
                     a portal changes only accounts of its own people",
                    key.address()
                )));
            }
            match self.emails.tx_get(tx, &new_key)? {
                Some(owner) if owner != account_id => {
                    return Err(Error::AlreadyExists(
                        "this e-mail address belongs to another Network account".into(),
                    ));
                }
                _ => {}
            }
            let old_key = validate::email_key(&account.email);
            if old_key != new_key && self.emails.tx_get(tx, &old_key)? == Some(account_id) {
                self.emails.tx_remove(tx, &old_key);
            }
            self.emails.tx_put(tx, &new_key, &account_id)?;
            account.email = new_email.clone();
            for addr in &account.addresses {
                let Some((login, portal)) = addr.split_once('@') else { continue };
                let k = EntryKey::new(portal, login);
                if let Some(mut e) = self.entries.tx_get(tx, &k)? {
                    e.email = new_email.clone();
                    self.entries.tx_put(tx, &k, &e)?;
                }
            }
            self.accounts.tx_put(tx, &account_id, &account)?;
            Ok(Account { email: account.email, addresses: account.addresses })
        })
    }
}
