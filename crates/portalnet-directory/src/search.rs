//! Finding people (R16): by name, and by exact e-mail. Only people of portals whose
//! network is on are found, and the e-mail address is never returned.
//!
//! A name search folds the query into words (see [`crate::fold`]); a person matches
//! when every query word is a prefix of some word of their display name.
//!
//! Ranking: (1) the query equals the whole folded name, (2) more query words equal
//! to a whole word of the name, (3) the rest; ties by folded name, then address.
//! The order is total, so pages of the same data neither repeat nor skip anyone.
//!
//! Every match is ranked, however common the prefix: the in-memory index
//! (`index.rs`) keeps each list in rank order, so each tier is read best first and
//! only as far as the page needs. (1) is a binary search in the list of the first
//! query word; (2) intersects the exact-word lists (leapfrog, galloping); the other
//! tiers walk the matches of the query word with the fewest, best first, and stop
//! once the page is decided: as soon as no later match can have more whole-word
//! hits than those already held (past the last person with an exact word, that
//! word can no longer be whole). A single word needs at most one page of its
//! matches; several rare-together words may walk all matches of the rarest one.

use crate::error::{Error, Result};
use crate::fold;
use crate::index::NameIndex;
use crate::records::{EntryKey, Person};
use crate::{DEFAULT_LIMIT, Directory, MAX_LIMIT, MAX_QUERY_CHARS, MAX_QUERY_WORDS, MAX_WINDOW};
use portalnet_core::validate;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The people matching every one of `words` (distinct, folded), best first, at
/// most `want` of them. `full` is the whole query, folded.
pub(crate) fn ranked(ix: &NameIndex, words: &[&str], full: &str, want: usize) -> Vec<u32> {
    let Some(&first) = words.first() else { return Vec::new() };
    let n = words.len();
    let sources: Vec<Vec<&[u32]>> = words.iter().map(|w| ix.prefix_lists(w)).collect();
    if want == 0 || sources.iter().any(Vec::is_empty) {
        return Vec::new();
    }
    // (1) The whole name: a run of the first word's exact list, which is in name order.
    let mut out = Vec::new();
    let first_exact = ix.exact(first);
    let from = first_exact.partition_point(|&id| ix.name(id) < full);
    let full_run = first_exact.get(from..).unwrap_or_default();
    out.extend(full_run.iter().take_while(|&&id| ix.name(id) == full).take(want));
    if out.len() >= want {
        return out;
    }
    // (2) Every word whole.
    let exacts: Vec<&[u32]> = words.iter().map(|w| ix.exact(w)).collect();
    if exacts.iter().all(|e| !e.is_empty()) {
        intersect(ix, &exacts, |id| {
            if ix.name(id) != full {
                out.push(id);
            }
            out.len() < want
        });
        if out.len() >= want {
            return out;
        }
    }
    // (3) Fewer whole words: walk the rarest word's matches in rank order, one
    // bucket per number of whole words (0..n).
    let size = |lists: &Vec<&[u32]>| lists.iter().map(|l| l.len()).sum::<usize>();
    let driver = sources.iter().enumerate().min_by_key(|(_, s)| size(s)).map_or(0, |(i, _)| i);
    let last_exact: Vec<u64> = exacts.iter().map(|e| e.last().map_or(0, |&id| ix.label(id))).collect();
    let need = want - out.len();
    // Bucket n holds only people whole in every word through a word past the
    // indexed ones (a name of more than `MAX_INDEXED_WORDS` words), missing from (2).
    let mut buckets: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
    // One word: its matches one by one. Several: only the people matching all,
    // found by leapfrogging the words' matches, so that people matching one word
    // alone are jumped over, not read.
    let matches: Box<dyn Iterator<Item = u32>> = if n == 1 {
        Box::new(Merge::new(ix, sources.get(driver).map(Vec::as_slice).unwrap_or_default()))
    } else {
        Box::new(Conjunction::new(ix, &sources))
    };
    for id in matches {
        let name = ix.name(id);
        if name == full {
            continue;
        }
        let Some(whole) = whole_words(name, words) else { continue };
        if whole == n && exacts.iter().all(|e| contains(ix, e, id)) {
            continue;
        }
        let Some(bucket) = buckets.get_mut(whole) else { continue };
        if bucket.len() < need {
            bucket.push(id);
        }
        // Later matches rank after this one: they can be whole only in words with
        // an exact match still ahead. Held matches with at least that many whole
        // words outrank all of them.
        let label = ix.label(id);
        let best_ahead = last_exact.iter().filter(|&&l| l > label).count().min(n - 1);
        if buckets.get(best_ahead..).unwrap_or_default().iter().map(Vec::len).sum::<usize>() >= need {
            break;
        }
    }
    for b in buckets.iter().rev() {
        out.extend(b);
    }
    out.truncate(want);
    out
}

/// Whether `id` is in `list` (sorted by label).
fn contains(ix: &NameIndex, list: &[u32], id: u32) -> bool {
    let label = ix.label(id);
    list.get(list.partition_point(|&x| ix.label(x) < label)) == Some(&id)
}

/// How many of `words` are whole words of `name`, if every one starts a word.
fn whole_words(name: &str, words: &[&str]) -> Option<usize> {
    let mut whole = 0;
    for w in words {
        let mut hit = false;
        for nw in name.split(' ') {
            if nw == *w {
                whole += 1;
                hit = true;
                break;
            }
            hit |= nw.starts_with(w);
        }
        if !hit {
            return None;
        }
    }
    Some(whole)
}

/// The union of lists sorted by label, in label order, each person once.
struct Merge<'a> {
    ix: &'a NameIndex,
    lists: &'a [&'a [u32]],
    heap: BinaryHeap<Reverse<(u64, usize, usize)>>,
    last: Option<u64>,
}

impl<'a> Merge<'a> {
    fn new(ix: &'a NameIndex, lists: &'a [&'a [u32]]) -> Self {
        let heap = lists
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.first().map(|&id| Reverse((ix.label(id), i, 0))))
            .collect();
        Merge { ix, lists, heap, last: None }
    }
}

impl Iterator for Merge<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        loop {
            let Reverse((label, list, at)) = self.heap.pop()?;
            let l = self.lists.get(list).copied().unwrap_or_default();
            if let Some(&next) = l.get(at + 1) {
                self.heap.push(Reverse((self.ix.label(next), list, at + 1)));
            }
            // A person with two words in the range is in two lists, same label.
            if self.last == Some(label) {
                continue;
            }
            self.last = Some(label);
            if let Some(&id) = l.get(at) {
                return Some(id);
            }
        }
    }
}

/// The people in the union of some lists sorted by label, readable from any label on.
struct Union<'a> {
    lists: &'a [&'a [u32]],
    pos: Vec<usize>,
}

impl Union<'_> {
    /// The first person at or after `target`, and their label.
    fn seek(&mut self, ix: &NameIndex, target: u64) -> Option<(u64, u32)> {
        let mut best: Option<(u64, u32)> = None;
        for (list, at) in self.lists.iter().zip(self.pos.iter_mut()) {
            *at = seek(ix, list, *at, target);
            if let Some(&id) = list.get(*at) {
                let label = ix.label(id);
                if best.is_none_or(|(b, _)| label < b) {
                    best = Some((label, id));
                }
            }
        }
        best
    }
}

/// The people in every one of several unions, in label order (leapfrog join).
struct Conjunction<'a> {
    ix: &'a NameIndex,
    unions: Vec<Union<'a>>,
    target: u64,
}

impl<'a> Conjunction<'a> {
    fn new(ix: &'a NameIndex, sources: &'a [Vec<&'a [u32]>]) -> Self {
        let unions = sources.iter().map(|lists| Union { lists, pos: vec![0; lists.len()] }).collect();
        Conjunction { ix, unions, target: 0 }
    }
}

impl Iterator for Conjunction<'_> {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        let k = self.unions.len();
        let (mut agree, mut i, mut found) = (0usize, 0usize, 0u32);
        while agree < k {
            let (label, id) = self.unions.get_mut(i)?.seek(self.ix, self.target)?;
            if label == self.target {
                agree += 1;
            } else {
                (self.target, agree) = (label, 1);
            }
            found = id;
            i = (i + 1) % k;
        }
        self.target = self.target.checked_add(1)?;
        Some(found)
    }
}

/// Calls `visit` with the people in every list, in label order, while it returns
/// true (leapfrog join: each list gallops to the largest label seen).
fn intersect(ix: &NameIndex, lists: &[&[u32]], mut visit: impl FnMut(u32) -> bool) {
    let k = lists.len();
    let mut pos = vec![0usize; k];
    let (mut target, mut agree, mut i) = (0u64, 0usize, 0usize);
    while let (Some(list), Some(at)) = (lists.get(i), pos.get(i).copied()) {
        let p = seek(ix, list, at, target);
        let Some(&id) = list.get(p) else { return };
        let label = ix.label(id);
        if label == target {
            agree += 1;
        } else {
            (target, agree) = (label, 1);
        }
        let mut next = p;
        if agree == k {
            if !visit(id) {
                return;
            }
            next = p + 1;
            let Some(&after) = list.get(next) else { return };
            // Counted when this list comes round again, like every other.
            (target, agree) = (ix.label(after), 0);
        }
        if let Some(slot) = pos.get_mut(i) {
            *slot = next;
        }
        i = (i + 1) % k;
    }
}

/// The first index at or after `from` whose label is at least `target`.
fn seek(ix: &NameIndex, list: &[u32], from: usize, target: u64) -> usize {
    let below = |at: usize| list.get(at).is_some_and(|&id| ix.label(id) < target);
    if !below(from) {
        return from;
    }
    // Gallop: list[lo] is below the target, list[hi] (if any) is not.
    let (mut lo, mut step) = (from, 1usize);
    let mut hi = from + 1;
    while below(hi) {
        lo = hi;
        step *= 2;
        hi = lo.saturating_add(step);
    }
    let hi = hi.min(list.len());
    lo + 1 + list.get(lo + 1..hi).unwrap_or_default().partition_point(|&id| ix.label(id) < target)
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
        let (offset, window) = (offset as usize, (offset + limit) as usize);
        // The page from memory; storage only for people the index holds no
        // display name of (added by a change an earlier version logged).
        let mut people = Vec::with_capacity(limit as usize);
        let mut unshown: Vec<(usize, EntryKey)> = Vec::new();
        let more = {
            let ix = self.index.read().unwrap_or_else(|p| p.into_inner());
            let ids = ranked(&ix, &distinct, &full, window + 1);
            for &id in ids.get(offset..ids.len().min(window)).unwrap_or_default() {
                let address = ix.address(id);
                let Some((login, portal)) = address.split_once('@') else { continue };
                let (display_name, position) = match ix.shown(id) {
                    Some((d, p)) => (d.to_string(), p.to_string()),
                    None => {
                        unshown.push((people.len(), EntryKey::new(portal, login)));
                        (String::new(), String::new())
                    }
                };
                people.push(Person {
                    display_name,
                    position,
                    address: address.to_string(),
                    portal_id: portal.to_string(),
                });
            }
            ids.len() > window
        };
        if !unshown.is_empty() {
            // One read for them all (one query on PostgreSQL, not one per person).
            let keys: Vec<EntryKey> = unshown.iter().map(|(_, k)| k.clone()).collect();
            let entries = self.entries.get_many(&keys)?;
            let mut gone = Vec::new();
            for ((at, _), entry) in unshown.iter().zip(entries) {
                match (entry, people.get_mut(*at)) {
                    (Some(e), Some(p)) => (p.display_name, p.position) = (e.display_name, e.position),
                    // Removed since the index was read: left out.
                    _ => gone.push(*at),
                }
            }
            for at in gone.into_iter().rev() {
                people.remove(at);
            }
        }
        Ok((people, more))
    }

    /// The person whose Network account owns `email` (case-insensitive): the
    /// account's owner, if their portal's network is on; otherwise another address
    /// linked to the account (the first visible one in address order), as every
    /// linked address joined by the owner's consent; `None` when none is visible.
    /// The e-mail is not returned.
    pub fn lookup_email(&self, email: &str) -> Result<Option<Person>> {
        let email = validate::email("e-mail", email)?;
        let Some(id) = self.emails.get(&validate::email_key(&email))? else { return Ok(None) };
        let Some(account) = self.accounts.get(&id)? else { return Ok(None) };
        let owner = account.addresses.iter().filter(|a| **a == account.owner);
        for addr in owner.chain(account.addresses.iter().filter(|a| **a != account.owner)) {
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

#[cfg(test)]
mod tests {
    use crate::records::Entry;
    use crate::{Directory, ENROLMENT_TTL_MS};
    use portalnet_core::Timestamp;

    /// People added to the index by a change logged before the index held what
    /// search shows (no `shown` in the logged JSON) are shown from storage; one
    /// removed from storage since is left out.
    #[test]
    fn people_indexed_by_an_older_log_are_shown_from_storage() {
        let tmp = tempfile::tempdir().unwrap();
        let db = portalnet_store::Db::open(tmp.path()).unwrap();
        let d = Directory::open(&db).unwrap();
        let t0 = Timestamp(1_700_000_000_000);
        let secret = "an-enrolment-secret-long-enough";
        d.enrol("alpha.test", secret, t0, ENROLMENT_TTL_MS).unwrap();
        d.register("alpha.test", "https://alpha.test:1", [1; 32], Some(secret), t0).unwrap();
        d.set_network("alpha.test", true, t0).unwrap();
        let entry = |login: &str, name: &str| Entry {
            login: login.into(),
            display_name: name.into(),
            position: format!("position of {login}"),
            email: format!("{login}@mail.example"),
        };
        d.publish(
            "alpha.test",
            vec![entry("jan", "Jan Kowalski"), entry("ola", "Ola Kowalska")],
            vec![],
            false,
        )
        .unwrap();
        // As an older node would have logged them: removed and added again
        // without what search shows.
        let old: crate::index::Changes = serde_json::from_str(
            r#"{"remove":[["jan kowalski","jan@alpha.test"],["ola kowalska","ola@alpha.test"]],
                "add":[["jan kowalski","jan@alpha.test"],["ola kowalska","ola@alpha.test"]]}"#,
        )
        .unwrap();
        d.index.write().unwrap().apply(old);
        {
            let ix = d.index.read().unwrap();
            assert!((0..2).all(|id| ix.shown(id).is_none()), "the old change holds no display names");
        }
        let (people, _) = d.search("kowal", 20, 0).unwrap();
        let shown: Vec<(&str, &str)> =
            people.iter().map(|p| (p.display_name.as_str(), p.position.as_str())).collect();
        assert_eq!(shown, [("Jan Kowalski", "position of jan"), ("Ola Kowalska", "position of ola")]);
        // Ola leaves storage while the index still holds her: left out.
        let ola = crate::records::EntryKey::new("alpha.test", "ola");
        db.write(|tx| {
            d.entries.tx_remove(tx, &ola);
            Ok::<_, crate::Error>(())
        })
        .unwrap();
        let (people, _) = d.search("kowal", 20, 0).unwrap();
        assert_eq!(people.iter().map(|p| p.address.as_str()).collect::<Vec<_>>(), ["jan@alpha.test"]);
    }
}
