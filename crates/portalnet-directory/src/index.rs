//! Upkeep of the name index: one key per distinct folded word of a display name,
//! `word ‖ 0 ‖ portal ‖ 0 ‖ login`, whose value is the whole folded name. Only the
//! people of portals whose network is on are indexed.

use crate::error::Result;
use crate::fold;
use crate::records::{EntryKey, IndexedName, name_key};
use crate::{Directory, MAX_INDEXED_WORDS};
use portalnet_store::{WriteTx, encode};

/// The folded words of a display name joined by one space: the index value.
pub(crate) fn folded_name(display_name: &str) -> String {
    fold::words(display_name).join(" ")
}

impl Directory {
    /// Writes the index keys of one person.
    pub(crate) fn index_person(
        &self,
        tx: &mut WriteTx<'_>,
        key: &EntryKey,
        display_name: &str,
    ) -> Result<()> {
        let value = encode(&IndexedName(folded_name(display_name)))?;
        for word in fold::distinct_words(display_name, MAX_INDEXED_WORDS) {
            tx.insert(&self.names, &name_key(&word, &key.portal, &key.login), value.clone());
        }
        Ok(())
    }

    /// Removes the index keys of one person.
    pub(crate) fn unindex_person(&self, tx: &mut WriteTx<'_>, key: &EntryKey, display_name: &str) {
        for word in fold::distinct_words(display_name, MAX_INDEXED_WORDS) {
            tx.remove(&self.names, &name_key(&word, &key.portal, &key.login));
        }
    }

    /// Indexes (`visible`) or unindexes every stored person of `portal`.
    pub(crate) fn reindex_portal(&self, tx: &mut WriteTx<'_>, portal: &str, visible: bool) -> Result<()> {
        let prefix = EntryKey::portal_prefix(portal);
        for (k, v) in tx.scan_prefix(self.entries.tree(), &prefix)? {
            let Some(key) = <EntryKey as portalnet_store::Key>::from_bytes(&k) else { continue };
            let entry: crate::records::EntryRecord = portalnet_store::decode(&v)?;
            if visible {
                self.index_person(tx, &key, &entry.display_name)?;
            } else {
                self.unindex_person(tx, &key, &entry.display_name);
            }
        }
        Ok(())
    }
}
