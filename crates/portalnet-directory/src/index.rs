//! The name index: in memory, rebuilt from the stored entries when the directory
//! opens, and changed right after each write that changes who is searchable.
//!
//! Every indexed person (a published entry of a portal whose network is on, whose
//! name has at least one word) has a slot holding their folded name and address,
//! what a search shows of them (display name and position, so that a page of
//! results is answered from memory, without reading storage), and a **label**: a `u64` whose order is the rank order of (folded name,
//! address), the tie-break of every search. Labels are spaced out, so a new person
//! takes a label between their neighbours'; when a gap runs out, everybody is
//! labelled again (order kept, so no list needs re-sorting).
//!
//! Posting lists hold person ids sorted by label:
//! - `words`: each distinct folded word (of the first [`MAX_INDEXED_WORDS`] of a
//!   name) → the people with that exact word;
//! - `short`: each prefix of 1 to [`SHORT_PREFIX`] characters of those words → the
//!   people with a word starting so, each once.
//!
//! So the people matching a query word, in rank order, are one `short` list (short
//! words, the common case) or a merge of the `words` lists in the word's key range,
//! and a search reads only as far into them as the page it returns needs
//! (see `search.rs`), however many people share the prefix.

use crate::MAX_INDEXED_WORDS;
use crate::fold;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Prefixes up to this many characters have their own list.
pub(crate) const SHORT_PREFIX: usize = 3;

/// The folded words of a display name joined by one space: what is ranked and
/// matched.
pub(crate) fn folded_name(display_name: &str) -> String {
    fold::words(display_name).join(" ")
}

/// One change of who is searchable, gathered in a write and applied after it
/// commits: (folded name, address `login@portal`).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Changes {
    remove: Vec<(String, String)>,
    add: Vec<(String, String)>,
    /// What search shows of each of `add`, in the same order: (display name,
    /// position). Absent from changes logged by earlier versions: such people
    /// are shown from storage.
    #[serde(default)]
    shown: Vec<(String, String)>,
}

impl Changes {
    pub fn add(&mut self, display_name: &str, position: &str, address: String) {
        self.add_folded(folded_name(display_name), display_name, position, address);
    }
    /// [`Self::add`] with the display name already folded ([`folded_name`]).
    pub fn add_folded(&mut self, folded: String, display_name: &str, position: &str, address: String) {
        self.add.push((folded, address));
        self.shown.push((display_name.to_string(), position.to_string()));
    }
    pub fn remove(&mut self, display_name: &str, address: String) {
        self.remove.push((folded_name(display_name), address));
    }
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.add.is_empty()
    }
}

/// In the change log of a shared database (`lib.rs`): the changes as applied.
impl portalnet_store::Record for Changes {
    const NAME: &'static str = "directory index change";
    const VERSION: u16 = 1;
}

/// `Slot::shown_len` of a person whose display name and position are not held.
const NOT_SHOWN: u16 = u16::MAX;

/// 32 bytes besides its text (a million of them).
struct Slot {
    /// Folded name, address, display name, position; empty for a free slot.
    text: Box<str>,
    /// Byte lengths: names, addresses and positions are at most a few hundred
    /// characters (validated when published), so `u16` holds them.
    name_len: u16,
    address_len: u16,
    /// Length of the display name, or [`NOT_SHOWN`].
    shown_len: u16,
    label: u64,
}

impl Slot {
    fn free() -> Slot {
        Slot { text: Box::default(), name_len: 0, address_len: 0, shown_len: 0, label: 0 }
    }

    fn new(name: &str, address: &str, shown: Option<(&str, &str)>) -> Slot {
        // Longer than a u16 cannot be published; cut at a character boundary
        // rather than trusting that here.
        fn cut(s: &str) -> (&str, u16) {
            let mut n = s.len().min(usize::from(u16::MAX - 1));
            while !s.is_char_boundary(n) {
                n -= 1;
            }
            (s.get(..n).unwrap_or_default(), u16::try_from(n).unwrap_or(u16::MAX - 1))
        }
        let (name, name_len) = cut(name);
        let (address, address_len) = cut(address);
        let (display, position) = shown.unwrap_or_default();
        let (display, display_len) = cut(display);
        let parts = [name, address, display, cut(position).0];
        Slot {
            text: parts.concat().into_boxed_str(),
            name_len,
            address_len,
            shown_len: if shown.is_some() { display_len } else { NOT_SHOWN },
            label: 0,
        }
    }
    fn name(&self) -> &str {
        self.text.get(..self.name_len as usize).unwrap_or_default()
    }
    fn address(&self) -> &str {
        let from = self.name_len as usize;
        self.text.get(from..from + self.address_len as usize).unwrap_or_default()
    }
    /// (display name, position), when held.
    fn shown(&self) -> Option<(&str, &str)> {
        if self.shown_len == NOT_SHOWN {
            return None;
        }
        let from = self.name_len as usize + self.address_len as usize;
        let rest = self.text.get(from..)?;
        Some((rest.get(..self.shown_len as usize)?, rest.get(self.shown_len as usize..)?))
    }
}

#[derive(Default)]
pub(crate) struct NameIndex {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Indexed ids in rank order.
    order: Vec<u32>,
    words: BTreeMap<Box<str>, Vec<u32>>,
    short: HashMap<Box<str>, Vec<u32>>,
}

/// The lists a person belongs to.
fn keys_of(name: &str) -> (Vec<&str>, Vec<&str>) {
    let mut words: Vec<&str> = Vec::new();
    for w in name.split(' ').filter(|w| !w.is_empty()) {
        if words.len() >= MAX_INDEXED_WORDS {
            break;
        }
        if !words.contains(&w) {
            words.push(w);
        }
    }
    let mut prefixes: Vec<&str> = Vec::new();
    for w in &words {
        for (n, (i, c)) in w.char_indices().enumerate() {
            if n >= SHORT_PREFIX {
                break;
            }
            if let Some(p) = w.get(..i + c.len_utf8())
                && !prefixes.contains(&p)
            {
                prefixes.push(p);
            }
        }
    }
    (words, prefixes)
}

impl NameIndex {
    /// People indexed.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn label(&self, id: u32) -> u64 {
        self.slots.get(id as usize).map_or(0, |s| s.label)
    }

    pub fn name(&self, id: u32) -> &str {
        self.slots.get(id as usize).map_or("", Slot::name)
    }

    pub fn address(&self, id: u32) -> &str {
        self.slots.get(id as usize).map_or("", Slot::address)
    }

    /// (display name, position) of `id`, unless only storage has them (people
    /// added by a change logged before the index held them).
    pub fn shown(&self, id: u32) -> Option<(&str, &str)> {
        self.slots.get(id as usize).and_then(Slot::shown)
    }

    /// The people with the exact word `word`, by rank.
    pub fn exact(&self, word: &str) -> &[u32] {
        self.words.get(word).map_or(&[], Vec::as_slice)
    }

    /// The lists whose union is the people with a word starting with `prefix`:
    /// one list for a short prefix, else those of the words in its key range.
    pub fn prefix_lists(&self, prefix: &str) -> Vec<&[u32]> {
        if prefix.chars().count() <= SHORT_PREFIX {
            return self.short.get(prefix).map(|l| vec![l.as_slice()]).unwrap_or_default();
        }
        self.words
            .range::<str, _>((std::ops::Bound::Included(prefix), std::ops::Bound::Unbounded))
            .take_while(|(w, _)| w.starts_with(prefix))
            .map(|(_, l)| l.as_slice())
            .collect()
    }

    fn rank(&self, a: u32, b: u32) -> Ordering {
        fn key(s: Option<&Slot>) -> Option<(&str, &str)> {
            s.map(|s| (s.name(), s.address()))
        }
        key(self.slots.get(a as usize)).cmp(&key(self.slots.get(b as usize)))
    }

    /// Where (name, address) is or would go in `order`.
    fn find(&self, name: &str, address: &str) -> Result<usize, usize> {
        self.order.binary_search_by(|&id| {
            let s = self.slots.get(id as usize);
            s.map(|s| (s.name(), s.address())).cmp(&Some((name, address)))
        })
    }

    /// Applies one write's changes: removals first (a renamed person is removed
    /// under the old name and added under the new one).
    pub fn apply(&mut self, changes: Changes) {
        if changes.is_empty() {
            return;
        }
        // Removals.
        let mut gone: Vec<u32> = Vec::with_capacity(changes.remove.len());
        for (name, address) in &changes.remove {
            if let Ok(at) = self.find(name, address)
                && let Some(&id) = self.order.get(at)
            {
                gone.push(id);
            }
        }
        if !gone.is_empty() {
            let mut per_list: HashMap<(bool, String), Vec<u32>> = HashMap::new();
            for &id in &gone {
                let (words, prefixes) = keys_of(self.name(id));
                for w in words {
                    per_list.entry((true, w.to_string())).or_default().push(id);
                }
                for p in prefixes {
                    per_list.entry((false, p.to_string())).or_default().push(id);
                }
            }
            for ((is_word, key), ids) in per_list {
                let list =
                    if is_word { self.words.get_mut(key.as_str()) } else { self.short.get_mut(key.as_str()) };
                let Some(list) = list else { continue };
                remove_ids(list, &ids, &self.slots);
                if list.is_empty() {
                    if is_word {
                        self.words.remove(key.as_str());
                    } else {
                        self.short.remove(key.as_str());
                    }
                }
            }
            remove_ids(&mut self.order, &gone, &self.slots);
            for id in gone {
                self.release(id);
            }
        }

        // Additions: slots, then their place in the rank order, then the lists.
        let mut new: Vec<u32> = Vec::with_capacity(changes.add.len());
        let mut shown = changes.shown.iter().map(|(d, p)| (d.as_str(), p.as_str()));
        for (name, address) in &changes.add {
            let shown = shown.next();
            new.extend(self.slot(name, address, shown));
        }
        self.index_new(new);
    }

    /// A person who is not in the index yet: their slot, to be indexed with
    /// others by [`Self::index_new`] (building the index at open, one person
    /// at a time, holds nothing per person but the slot).
    pub fn add_slot(&mut self, display_name: &str, position: &str, address: &str) -> Option<u32> {
        self.slot(&folded_name(display_name), address, Some((display_name, position)))
    }

    /// A new slot for a (folded) name; none for a name without words.
    fn slot(&mut self, name: &str, address: &str, shown: Option<(&str, &str)>) -> Option<u32> {
        if name.is_empty() {
            return None;
        }
        let slot = Slot::new(name, address, shown);
        Some(match self.free.pop() {
            Some(id) => {
                if let Some(s) = self.slots.get_mut(id as usize) {
                    *s = slot;
                }
                id
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        })
    }

    /// Puts new slots in the rank order and in their lists.
    pub fn index_new(&mut self, mut new: Vec<u32>) {
        // Stable: of one person added twice, the later stays (see below).
        new.sort_by(|&a, &b| self.rank(a, b));
        // Someone added twice: indexed once, showing what was added last.
        let mut once: Vec<u32> = Vec::with_capacity(new.len());
        for id in new {
            match once.last().copied().filter(|&k| self.rank(k, id) == Ordering::Equal) {
                Some(first) => self.take_over(first, id),
                None => once.push(id),
            }
        }
        // Those already indexed under the same name and address are found
        // by the merge, which leaves them where they are.
        let kept = self.merge_into_order(&once);
        if kept.is_empty() {
            return;
        }
        let mut per_list: HashMap<(bool, &str), Vec<u32>> = HashMap::new();
        // `kept` is in rank order, so each list's additions are too.
        for &id in &kept {
            let slot = self.slots.get(id as usize);
            let (words, prefixes) = keys_of(slot.map_or("", Slot::name));
            for w in words {
                per_list.entry((true, w)).or_default().push(id);
            }
            for p in prefixes {
                per_list.entry((false, p)).or_default().push(id);
            }
        }
        let per_list: Vec<((bool, String), Vec<u32>)> =
            per_list.into_iter().map(|((w, k), ids)| ((w, k.to_string()), ids)).collect();
        for ((is_word, key), ids) in per_list {
            let list = if is_word {
                self.words.entry(key.into_boxed_str()).or_default()
            } else {
                self.short.entry(key.into_boxed_str()).or_default()
            };
            insert_ids(list, ids, &self.slots);
        }
    }

    /// `held` (indexed, or about to be) takes the text of `id`, the same person
    /// added again, and keeps its label and place; `id` is freed.
    fn take_over(&mut self, held: u32, id: u32) {
        let label = self.label(held);
        self.slots.swap(held as usize, id as usize);
        if let Some(s) = self.slots.get_mut(held as usize) {
            s.label = label;
        }
        self.release(id);
    }

    fn release(&mut self, id: u32) {
        if let Some(s) = self.slots.get_mut(id as usize) {
            *s = Slot::free();
            self.free.push(id);
        }
    }

    /// Merges `new` (rank order, no two equal) into `order`, labels them, and
    /// returns those it added: one already indexed under the same name and
    /// address is not added again, its slot takes the new text instead.
    ///
    /// Each run of new people finds its place by binary search and the indexed
    /// people between runs are copied as slices: a batch costs
    /// `new · log(order)` comparisons, not `order` (a publish of 10,000 into a
    /// million would otherwise compare a million names).
    fn merge_into_order(&mut self, new: &[u32]) -> Vec<u32> {
        let old = std::mem::take(&mut self.order);
        let mut merged = Vec::with_capacity(old.len() + new.len());
        let mut added = Vec::with_capacity(new.len());
        let (mut i, mut j) = (0, 0);
        let mut gaps_hold = true;
        let mut prev_label = 0u64;
        while let Some(&first) = new.get(j) {
            // Indexed people ranked before the next new one keep their labels.
            let rest = old.get(i..).unwrap_or_default();
            let before = rest.partition_point(|&o| self.rank(o, first) == Ordering::Less);
            if before > 0 {
                merged.extend_from_slice(rest.get(..before).unwrap_or_default());
                i += before;
                prev_label = self.label(old.get(i - 1).copied().unwrap_or_default());
            }
            if let Some(&held) = old.get(i).filter(|&&o| self.rank(o, first) == Ordering::Equal) {
                self.take_over(held, first);
                j += 1;
                continue;
            }
            // A run of new people before the next indexed one: spread them evenly
            // over the gap.
            let start = j;
            while let Some(&n) = new.get(j) {
                if old.get(i).is_some_and(|&o| self.rank(o, n) != Ordering::Greater) {
                    break;
                }
                j += 1;
            }
            let next_label = old.get(i).map_or(u64::MAX, |&o| self.label(o));
            let run = (j - start) as u64;
            let step = next_label.saturating_sub(prev_label) / (run + 1);
            if step == 0 {
                gaps_hold = false;
            }
            for (k, &id) in new.get(start..j).unwrap_or_default().iter().enumerate() {
                let label = prev_label + step * (k as u64 + 1);
                if let Some(s) = self.slots.get_mut(id as usize) {
                    s.label = label;
                }
                merged.push(id);
                added.push(id);
            }
            prev_label += step * run;
        }
        merged.extend_from_slice(old.get(i..).unwrap_or_default());
        self.order = merged;
        if !gaps_hold {
            self.relabel();
        }
        added
    }

    /// Spreads the labels evenly again, in the same order.
    fn relabel(&mut self) {
        let step = u64::MAX / (self.order.len() as u64 + 1);
        for (k, &id) in self.order.iter().enumerate() {
            if let Some(s) = self.slots.get_mut(id as usize) {
                s.label = step * (k as u64 + 1);
            }
        }
    }

    /// Memory the index holds, roughly, in bytes (for the bench and metrics).
    pub fn heap_bytes(&self) -> usize {
        let slots = self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.slots.iter().map(|s| s.text.len()).sum::<usize>();
        let lists = |m: &mut dyn Iterator<Item = (usize, usize)>| -> usize {
            m.map(|(k, cap)| k + 16 + 24 + cap * 4).sum()
        };
        slots
            + self.order.capacity() * 4
            + lists(&mut self.words.iter().map(|(k, v)| (k.len(), v.capacity())))
            + lists(&mut self.short.iter().map(|(k, v)| (k.len(), v.capacity())))
    }
}

/// Removes `ids` from a list sorted by label.
fn remove_ids(list: &mut Vec<u32>, ids: &[u32], slots: &[Slot]) {
    let label = |id: u32| slots.get(id as usize).map_or(0, |s| s.label);
    if ids.len() <= 16 {
        for &id in ids {
            let l = label(id);
            let from = list.partition_point(|&x| label(x) < l);
            if let Some(off) = list.get(from..).and_then(|rest| rest.iter().position(|&x| x == id)) {
                list.remove(from + off);
            }
        }
    } else {
        let set: HashSet<u32> = ids.iter().copied().collect();
        list.retain(|x| !set.contains(x));
    }
}

/// Adds `ids` (sorted by label, none in the list) to a list sorted by label.
fn insert_ids(list: &mut Vec<u32>, ids: Vec<u32>, slots: &[Slot]) {
    let label = |id: u32| slots.get(id as usize).map_or(0, |s| s.label);
    if list.is_empty() {
        *list = ids;
        list.shrink_to_fit();
    } else if ids.len() <= 16 {
        for id in ids {
            let at = list.partition_point(|&x| label(x) < label(id));
            list.insert(at, id);
        }
    } else {
        // Each new id finds its place by binary search and the ids between are
        // copied as slices: `ids · log(list)` label reads instead of one per
        // listed id (labels are scattered over the slots, so each is a cache
        // miss, and a short prefix's list holds a large part of the Network).
        let old = std::mem::take(list);
        let mut merged = Vec::with_capacity(old.len() + ids.len());
        let mut rest = old.as_slice();
        for id in ids {
            let l = label(id);
            let at = rest.partition_point(|&x| label(x) <= l);
            merged.extend_from_slice(rest.get(..at).unwrap_or_default());
            rest = rest.get(at..).unwrap_or_default();
            merged.push(id);
        }
        merged.extend_from_slice(rest);
        *list = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(add: &[(&str, &str)], remove: &[(&str, &str)]) -> Changes {
        let mut c = Changes::default();
        for (n, a) in add {
            c.add(n, "", (*a).to_string());
        }
        for (n, a) in remove {
            c.remove(n, (*a).to_string());
        }
        c
    }

    /// Every list sorted by label, every label in rank order, no id twice.
    fn check(ix: &NameIndex) {
        for w in ix.order.windows(2) {
            assert_eq!(ix.rank(w[0], w[1]), Ordering::Less);
            assert!(ix.label(w[0]) < ix.label(w[1]));
        }
        for list in ix.words.values().chain(ix.short.values()) {
            for w in list.windows(2) {
                assert!(ix.label(w[0]) < ix.label(w[1]));
            }
        }
    }

    #[test]
    fn keys_are_distinct_words_and_short_prefixes() {
        let (w, p) = keys_of("anna annabel an ёж");
        assert_eq!(w, ["anna", "annabel", "an", "ёж"]);
        assert_eq!(p, ["a", "an", "ann", "ё", "ёж"]);
    }

    #[test]
    fn people_added_again_are_indexed_once_showing_the_last_text() {
        let mut ix = NameIndex::default();
        let mut c = Changes::default();
        for i in 0..40 {
            c.add("Anna Berg", "Old", format!("a{i:02}@p.test"));
        }
        ix.apply(c);
        // Half of them again (one of those twice in the same batch), between
        // new people, in one batch large enough to merge lists.
        let mut c = Changes::default();
        for i in (0..40).step_by(2) {
            c.add("Anna Berg", "Newer", format!("a{i:02}@p.test"));
            c.add("Anna Berg", "New", format!("b{i:02}@p.test"));
        }
        c.add("Anna Berg", "Newest", "a00@p.test".to_string());
        ix.apply(c);
        check(&ix);
        assert_eq!(ix.len(), 60);
        assert_eq!(ix.exact("anna").len(), 60);
        assert_eq!(ix.prefix_lists("be").concat().len(), 60);
        let shown = |addr: &str| {
            let at = ix.find("anna berg", addr).expect("indexed");
            ix.shown(ix.order[at]).map(|(_, p)| p.to_string())
        };
        assert_eq!(shown("a00@p.test").as_deref(), Some("Newest"));
        assert_eq!(shown("a02@p.test").as_deref(), Some("Newer"));
        assert_eq!(shown("a01@p.test").as_deref(), Some("Old"));
        assert_eq!(shown("b02@p.test").as_deref(), Some("New"));
        // Freed slots are reused, not leaked.
        assert_eq!(ix.slots.len() - ix.free.len(), 60);
    }

    #[test]
    fn labels_follow_rank_through_inserts_and_relabels() {
        let mut ix = NameIndex::default();
        // Many inserts at one spot exhaust the gap there and force relabels.
        for i in 0..200 {
            ix.apply(changes(&[("Anna B", &format!("x{:03}@p.test", 999 - i))], &[]));
            check(&ix);
        }
        ix.apply(changes(&[("Anna A", "a@p.test"), ("Anna C", "c@p.test")], &[("Anna B", "x999@p.test")]));
        check(&ix);
        assert_eq!(ix.len(), 201);
        assert_eq!(ix.exact("anna").len(), 201);
        assert_eq!(ix.exact("b").len(), 199);
        assert_eq!(ix.prefix_lists("an").concat().len(), 201);
        // Removing everybody empties every list.
        let all: Vec<(String, String)> =
            ix.order.iter().map(|&id| (ix.name(id).to_string(), ix.address(id).to_string())).collect();
        let mut c = Changes::default();
        for (n, a) in all {
            c.remove.push((n, a));
        }
        ix.apply(c);
        assert_eq!(ix.len(), 0);
        assert!(ix.words.is_empty() && ix.short.is_empty());
    }
}
