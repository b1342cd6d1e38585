//! Finding people (R16): by name, and by exact e-mail. Only people of portals whose
//! network is on are found, and the e-mail address is never returned.
//!
//! A name search folds the query into words (see [`crate::fold`]); a person matches
//! when every query word is a prefix of some word of their display name. The query
//! word with the fewest index hits (counted up to [`SCAN_LIMIT`]) drives a key-range
//! scan of the name index; the other words are checked on the folded name stored
//! with each key. At most [`SCAN_LIMIT`] index keys are examined: for prefixes more
//! common than that, the results are ranked among the first hits in key order,
//! where the driving word's whole-word matches come first.
//!
//! Ranking: (1) the query equals the whole folded name, (2) more query words equal
//! to a whole word of the name, (3) the rest; ties by folded name, then address.
//! The order is total, so pages of the same data neither repeat nor skip anyone.

use crate::error::{Error, Result};
use crate::fold;
use crate::records::{EntryKey, IndexedName, Person, address, split_name_key};
use crate::{DEFAULT_LIMIT, Directory, MAX_LIMIT, MAX_QUERY_CHARS, MAX_QUERY_WORDS, MAX_WINDOW, SCAN_LIMIT};
use portalnet_core::validate;
use portalnet_store::decode;
use std::collections::HashSet;

struct Hit {
    full: bool,
    whole: usize,
    name: String,
    address: String,
    portal: String,
    login: String,
}

impl Directory {
    /// People whose display name matches `query`, best first, and whether a next
    /// page exists. `limit` 0 means [`DEFAULT_LIMIT`]; above [`MAX_LIMIT`], a query
    /// under 2 characters, or `offset + limit` above [`MAX_WINDOW`] is refused.
    pub fn search(&self, query: &str, limit: u32, offset: u32) -> Result<(Vec<Person>, bool)> {
        let query = query.trim();
        let chars = query.chars().count();
        if chars < 2 {
            return Err(Error::invalid("type at least 2 characters of a name to search"));
        }
        if chars > MAX_QUERY_CHARS {
            return Err(Error::invalid(format!(
                "the search is {chars} characters long; the limit is {MAX_QUERY_CHARS}"
            )));
        }
        let limit = match limit {
            0 => DEFAULT_LIMIT,
            l if l > MAX_LIMIT => {
                return Err(Error::invalid(format!("limit {l} is too large; the most is {MAX_LIMIT}")));
            }
            l => l,
        };
        if offset.saturating_add(limit) > MAX_WINDOW {
            return Err(Error::invalid(format!(
                "only the first {MAX_WINDOW} results can be paged through: refine the search"
            )));
        }
        let words = fold::words(query);
        if words.is_empty() {
            return Err(Error::invalid("the search has no letters or digits"));
        }
        if words.len() > MAX_QUERY_WORDS {
            return Err(Error::invalid(format!(
                "the search has {} words; the limit is {MAX_QUERY_WORDS}",
                words.len()
            )));
        }
        let full = words.join(" ");
        let mut distinct: Vec<&str> = Vec::with_capacity(words.len());
        for w in &words {
            if !distinct.contains(&w.as_str()) {
                distinct.push(w);
            }
        }
        let Some(driver) = self.driving_word(&distinct)? else { return Ok((Vec::new(), false)) };

        let mut seen: HashSet<(String, String)> = HashSet::new();
        let mut hits: Vec<Hit> = Vec::new();
        for kv in self.names.scan_prefix(driver.as_bytes()).take(SCAN_LIMIT) {
            let (k, v) = kv?;
            let Some((_, portal, login)) = split_name_key(&k) else { continue };
            let IndexedName(name) = decode(&v)?;
            let name_words: Vec<&str> = name.split(' ').collect();
            if !distinct.iter().all(|q| name_words.iter().any(|w| w.starts_with(q))) {
                continue;
            }
            if !seen.insert((portal.to_string(), login.to_string())) {
                continue;
            }
            let whole = distinct.iter().filter(|q| name_words.contains(q)).count();
            hits.push(Hit {
                full: name == full,
                whole,
                address: address(login, portal),
                portal: portal.to_string(),
                login: login.to_string(),
                name,
            });
        }
        hits.sort_by(|a, b| {
            b.full
                .cmp(&a.full)
                .then(b.whole.cmp(&a.whole))
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.address.cmp(&b.address))
        });
        let (offset, limit) = (offset as usize, limit as usize);
        let more = hits.len() > offset + limit;
        let mut people = Vec::with_capacity(limit.min(hits.len()));
        for hit in hits.into_iter().skip(offset).take(limit) {
            // Removed since the index was read: leave it out.
            let Some(entry) = self.entries.get(&EntryKey::new(&hit.portal, &hit.login))? else { continue };
            people.push(Person {
                display_name: entry.display_name,
                position: entry.position,
                portal_id: hit.portal,
                address: hit.address,
            });
        }
        Ok((people, more))
    }

    /// The query word with the fewest index hits (longest words are tried first and
    /// win ties); `None` when some word has none, so nobody can match.
    fn driving_word<'q>(&self, words: &[&'q str]) -> Result<Option<&'q str>> {
        let mut by_length: Vec<&str> = words.to_vec();
        by_length.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        let Some(&first) = by_length.first() else { return Ok(None) };
        if by_length.len() == 1 {
            return Ok(Some(first));
        }
        let mut best: Option<(&str, usize)> = None;
        for w in by_length {
            let bound = best.map_or(SCAN_LIMIT + 1, |(_, n)| n);
            let mut n = 0;
            for kv in self.names.scan_prefix(w.as_bytes()).take(bound) {
                kv?;
                n += 1;
            }
            if n == 0 {
                return Ok(None);
            }
            if best.is_none_or(|(_, b)| n < b) {
                best = Some((w, n));
            }
        }
        Ok(best.map(|(w, _)| w))
    }

    /// The person whose Network account owns `email` (case-insensitive), if their
    /// portal's network is on. Of an account linked to several addresses, the first
    /// visible one in address order. The e-mail is not returned.
    pub fn lookup_email(&self, email: &str) -> Result<Option<Person>> {
        let email = validate::email("e-mail", email)?;
        let Some(id) = self.emails.get(&validate::email_key(&email))? else { return Ok(None) };
        let Some(account) = self.accounts.get(&id)? else { return Ok(None) };
        for addr in account.addresses {
            let Some((login, portal)) = addr.split_once('@') else { continue };
            if !self.visible(portal)? {
                continue;
            }
            let Some(entry) = self.entries.get(&EntryKey::new(portal, login))? else { continue };
            return Ok(Some(Person {
                display_name: entry.display_name,
                position: entry.position,
                portal_id: portal.to_string(),
                address: addr.clone(),
            }));
        }
        Ok(None)
    }
}
