//! Finding people (R16): by name, and by exact e-mail. Only people of portals whose
//! network is on are found, and the e-mail address is never returned.
//!
//! A name search folds the query into words (see [`crate::fold`]); a person matches
//! when every query word is a prefix of some word of their display name. One query
//! word drives a key-range scan of the name index; the other words are checked on
//! the folded name stored with each key. The longest word drives first; when its
//! scan reaches [`SCAN_LIMIT`] keys, the other words' hits are counted (up to that
//! bound) and a rarer word, if any, drives instead. A word with no hit at all ends
//! the search at once. At most [`SCAN_LIMIT`] index keys are ranked: for prefixes
//! more common than that, the results are ranked among the first hits in key
//! order, where the driving word's whole-word matches come first.
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

struct Query<'q> {
    /// Distinct folded words.
    words: &'q [&'q str],
    /// All folded words joined by one space.
    full: &'q str,
}

/// One matching person, as read from the index.
struct Hit {
    full: bool,
    whole: usize,
    /// Folded name.
    name: String,
    /// The index key `word ‖ 0 ‖ portal ‖ 0 ‖ login`, and where its parts start.
    key: Vec<u8>,
    portal_at: usize,
    login_at: usize,
}

impl Hit {
    /// The person of one index key if they match every query word; `None` too for
    /// a second key of the same person (only the key of their first name word that
    /// starts with `driver` counts), so nobody is listed twice.
    fn new(key: Vec<u8>, value: &[u8], driver: &str, q: &Query<'_>) -> Result<Option<Hit>> {
        let Some((word, portal, _)) = split_name_key(&key) else { return Ok(None) };
        let (portal_at, login_at) = (word.len() + 1, word.len() + portal.len() + 2);
        let IndexedName(name) = decode(value)?;
        if name.split(' ').find(|w| w.starts_with(driver)) != Some(word) {
            return Ok(None);
        }
        if !q.words.iter().all(|qw| name.split(' ').any(|w| w.starts_with(qw))) {
            return Ok(None);
        }
        let whole = q.words.iter().filter(|qw| name.split(' ').any(|w| w == **qw)).count();
        Ok(Some(Hit { full: name == q.full, whole, name, key, portal_at, login_at }))
    }

    fn portal(&self) -> &str {
        std::str::from_utf8(&self.key[self.portal_at..self.login_at - 1]).unwrap_or_default()
    }

    fn login(&self) -> &str {
        std::str::from_utf8(&self.key[self.login_at..]).unwrap_or_default()
    }

    /// The bytes of `login@portal`, without building it.
    fn address_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        self.key[self.login_at..]
            .iter()
            .chain(b"@")
            .chain(&self.key[self.portal_at..self.login_at - 1])
            .copied()
    }
}

/// Best first: full-name matches, then more whole-word matches, then by folded
/// name, then by address. Total: no two hits have the same address.
fn rank(a: &Hit, b: &Hit) -> std::cmp::Ordering {
    b.full
        .cmp(&a.full)
        .then(b.whole.cmp(&a.whole))
        .then_with(|| a.name.cmp(&b.name))
        .then_with(|| a.address_bytes().cmp(b.address_bytes()))
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
        // The longest word is likely the rarest: it drives first. When its scan
        // stops at the bound, a word with fewer index hits (if any) drives instead.
        let mut order = distinct.clone();
        order.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        let query = Query { words: &distinct, full: &full };
        let Some((&first, others)) = order.split_first() else { return Ok((Vec::new(), false)) };
        let (mut hits, capped) = self.candidates(first, &query)?;
        if capped {
            let mut best = SCAN_LIMIT;
            let mut rarer = None;
            for &w in others {
                let n = self.count_hits(w, best)?;
                if n == 0 {
                    return Ok((Vec::new(), false));
                }
                if n < best {
                    (best, rarer) = (n, Some(w));
                }
            }
            if let Some(w) = rarer {
                hits = self.candidates(w, &query)?.0;
            }
        }

        let (offset, limit) = (offset as usize, limit as usize);
        let window = offset + limit;
        let more = hits.len() > window;
        if more {
            hits.select_nth_unstable_by(window, rank);
            hits.truncate(window);
        }
        hits.sort_unstable_by(rank);
        let mut people = Vec::with_capacity(limit.min(hits.len()));
        for hit in hits.iter().skip(offset) {
            let (portal, login) = (hit.portal(), hit.login());
            // Removed since the index was read: leave it out.
            let Some(entry) = self.entries.get(&EntryKey::new(portal, login))? else { continue };
            people.push(Person {
                display_name: entry.display_name,
                position: entry.position,
                portal_id: portal.to_string(),
                address: address(login, portal),
            });
        }
        Ok((people, more))
    }

    /// The people whose index keys start with `driver` and who match every query
    /// word, each once, from at most [`SCAN_LIMIT`] keys; and whether the scan
    /// stopped at that bound.
    fn candidates(&self, driver: &str, query: &Query<'_>) -> Result<(Vec<Hit>, bool)> {
        let mut hits = Vec::new();
        let mut scanned = 0;
        for kv in self.names.scan_prefix(driver.as_bytes()).take(SCAN_LIMIT) {
            scanned += 1;
            let (key, value) = kv?;
            let Some(hit) = Hit::new(key, &value, driver, query)? else { continue };
            hits.push(hit);
        }
        Ok((hits, scanned >= SCAN_LIMIT))
    }

    /// Index keys starting with `word`, counted up to `bound`.
    fn count_hits(&self, word: &str, bound: usize) -> Result<usize> {
        let mut n = 0;
        for kv in self.names.scan_prefix(word.as_bytes()).take(bound) {
            kv?;
            n += 1;
        }
        Ok(n)
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
