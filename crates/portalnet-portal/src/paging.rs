//! Pages of lists (Google AIP-158): a page size with a default and a maximum, and
//! opaque page tokens that carry the last key served and a fingerprint of the
//! request's filters. Pages are keyset pages: the next page starts after the last
//! key, so rows that exist throughout are served once, whatever is written between.

use crate::error::{PortalError, PortalResult};
use base64::Engine as _;
use portalnet_core::error::text;
use portalnet_store::index::trailing_id;
use portalnet_store::{Key, Record, StoreError, Table, decode};
use sha2::{Digest, Sha256};

/// Rows in a page when the request names no size (page_size 0: old clients).
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Larger page sizes are served as this many rows.
pub const MAX_PAGE_SIZE: usize = 1000;

const TOKEN_FORMAT: u8 = 1;

/// Which page a request asks for.
#[derive(Debug, Clone)]
pub struct PageReq {
    pub size: usize,
    /// The key of the last row of the previous page (`None`: the first page).
    pub after: Option<Vec<u8>>,
    fingerprint: [u8; 8],
}

/// One page of rows and the token of the next one (empty at the end).
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_page_token: String,
}

impl PageReq {
    /// `list` names the list and every filter of the request (`"tasks|status=new"`):
    /// a token made for other filters is refused.
    pub fn parse(page_size: i32, page_token: &str, list: &str) -> PortalResult<Self> {
        if page_size < 0 {
            return Err(PortalError::invalid(text!("error-page-size-negative", size = page_size)));
        }
        let size = match page_size as usize {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let fingerprint = fingerprint(list);
        let after = if page_token.is_empty() {
            None
        } else {
            let bad = || PortalError::invalid(text!("error-page-token-invalid"));
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(page_token.trim())
                .map_err(|_| bad())?;
            let [format, rest @ ..] = raw.as_slice() else { return Err(bad()) };
            if *format != TOKEN_FORMAT || rest.len() < 8 {
                return Err(bad());
            }
            let (fp, key) = rest.split_at(8);
            if fp != fingerprint {
                return Err(PortalError::invalid(text!("error-page-token-other-request")));
            }
            Some(key.to_vec())
        };
        Ok(Self { size, after, fingerprint })
    }

    /// The first page of `size` rows (callers inside the node).
    pub fn first(size: usize, list: &str) -> Self {
        Self { size: size.max(1), after: None, fingerprint: fingerprint(list) }
    }

    /// The token of the page after the row whose key is `last`.
    pub fn token_after(&self, last: &[u8]) -> String {
        let mut raw = vec![TOKEN_FORMAT];
        raw.extend_from_slice(&self.fingerprint);
        raw.extend_from_slice(last);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    }

    /// The `after` key read as an id (lists keyed by one number).
    pub fn after_id(&self) -> PortalResult<Option<u64>> {
        self.after
            .as_deref()
            .map(|k| {
                <[u8; 8]>::try_from(k)
                    .map(u64::from_be_bytes)
                    .map_err(|_| PortalError::invalid(text!("error-page-token-invalid")))
            })
            .transpose()
    }

    /// Collects a page from rows in key order that start after [`PageReq::after`]:
    /// `size` rows, and a next token when one more row follows.
    pub fn collect<T>(
        &self,
        rows: impl Iterator<Item = PortalResult<(Vec<u8>, T)>>,
    ) -> PortalResult<Page<T>> {
        let mut items = Vec::new();
        let mut last = None;
        for row in rows {
            let (key, item) = row?;
            if items.len() == self.size {
                return Ok(Page {
                    items,
                    next_page_token: last.map(|k: Vec<u8>| self.token_after(&k)).unwrap_or_default(),
                });
            }
            items.push(item);
            last = Some(key);
        }
        Ok(Page { items, next_page_token: String::new() })
    }
}

/// Rows of `table` under `prefix` after the page's `after` key, in key order, with
/// their key bytes: what [`PageReq::collect`] takes.
pub fn table_rows<'a, K: Key, V: Record>(
    table: &'a Table<K, V>,
    prefix: &[u8],
    page: &PageReq,
) -> impl Iterator<Item = PortalResult<(Vec<u8>, V)>> + use<'a, K, V> {
    // The successor of a key is the key and a 0 byte: the first key after it.
    let from = match &page.after {
        Some(k) => {
            let mut f = k.clone();
            f.push(0);
            f.max(prefix.to_vec())
        }
        None => prefix.to_vec(),
    };
    let prefix = prefix.to_vec();
    table
        .tree()
        .scan_from(&from)
        .take_while(move |kv| kv.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
        .map(|kv| {
            let (k, v) = kv?;
            Ok((k, decode::<V>(&v)?))
        })
}

fn fingerprint(list: &str) -> [u8; 8] {
    let d = Sha256::digest(list.as_bytes());
    let mut fp = [0u8; 8];
    fp.copy_from_slice(&d[..8]);
    fp
}

/// The rows of `ids` in `table`, in the ids' order; an id whose row is gone (removed
/// since the index was read) is left out.
pub(crate) fn rows_of<'a, V: Record + 'a>(
    table: &'a Table<u64, V>,
    ids: Ids<'a>,
) -> impl Iterator<Item = PortalResult<(u64, V)>> + 'a {
    ids.filter_map(move |id| {
        let id = match id {
            Ok(id) => id,
            Err(e) => return Some(Err(PortalError::from(e))),
        };
        match table.get(&id) {
            Ok(Some(row)) => Some(Ok((id, row))),
            Ok(None) => None,
            Err(e) => Some(Err(e.into())),
        }
    })
}

/// Ids (of tasks, invitations) in ascending order, read from an index.
pub(crate) type Ids<'a> = Box<dyn Iterator<Item = Result<u64, StoreError>> + 'a>;

/// Every id of `table` after `after`, in ascending order (an administrator's
/// unfiltered list).
pub(crate) fn all_ids<'a, V: Record + 'a>(table: &'a Table<u64, V>, after: Option<u64>) -> Ids<'a> {
    let from = after.map_or(0, |a| a.saturating_add(1));
    Box::new(
        table
            .tree()
            .scan_from(&from.to_be_bytes())
            .filter(move |_| after != Some(u64::MAX))
            .map(|kv| kv.map(|(k, _)| trailing_id(&k).unwrap_or_default())),
    )
}

/// Ids from several sources, each in ascending order, merged without repeats.
pub(crate) struct MergeIds<'a> {
    sources: Vec<std::iter::Peekable<Ids<'a>>>,
}

impl<'a> MergeIds<'a> {
    pub(crate) fn new(sources: Vec<Ids<'a>>) -> Self {
        Self { sources: sources.into_iter().map(Iterator::peekable).collect() }
    }
}

impl Iterator for MergeIds<'_> {
    type Item = Result<u64, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut min: Option<u64> = None;
        for s in &mut self.sources {
            match s.peek() {
                Some(Ok(id)) => min = Some(min.map_or(*id, |m| m.min(*id))),
                Some(Err(_)) => return s.next(),
                None => {}
            }
        }
        let min = min?;
        for s in &mut self.sources {
            if matches!(s.peek(), Some(Ok(id)) if *id == min) {
                s.next();
            }
        }
        Some(Ok(min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_other_filters() {
        let p = PageReq::parse(0, "", "tasks|status=new").unwrap();
        assert_eq!(p.size, DEFAULT_PAGE_SIZE);
        let token = p.token_after(&7u64.to_be_bytes());
        let next = PageReq::parse(5, &token, "tasks|status=new").unwrap();
        assert_eq!(next.after_id().unwrap(), Some(7));
        assert!(PageReq::parse(5, &token, "tasks|status=completed").is_err());
        assert!(PageReq::parse(5, "garbage!", "tasks|status=new").is_err());
        assert!(PageReq::parse(-1, "", "tasks").is_err());
        assert_eq!(PageReq::parse(1_000_000, "", "tasks").unwrap().size, MAX_PAGE_SIZE);
    }
}
