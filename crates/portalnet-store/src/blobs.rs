//! Content-addressed file bytes beside the database: `<data>/blobs/<sha256 prefix>/<sha256>`.
//!
//! File bytes stay out of sled (whose page cache would keep them in memory). A
//! blob is written to a temporary file while its SHA-256 is computed, synced,
//! renamed to its final name and its folder synced, all *before* the storage
//! commit that names it; so a record never names a blob that a crash can take
//! back. A crash between the two leaves a blob no record names (an orphan) or a
//! temporary file: [`BlobStore::collect_garbage`] removes both at start, before
//! anything else writes. Identical content is stored once.

use crate::error::StoreError;
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Hex SHA-256 of no bytes: the empty file needs no blob on disk.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Bytes read or written at a time when streaming a blob.
pub const CHUNK_BYTES: usize = 64 * 1024;

const TMP_DIR: &str = "tmp";

/// The blob folder of a data folder. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    /// Names temporary files apart within this process (the pid, apart from others).
    next_tmp: AtomicU64,
}

/// What was removed by [`BlobStore::collect_garbage`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub orphans: usize,
    pub temporary: usize,
}

/// A blob being written: bytes go to a temporary file and into the hash as they
/// come. Dropped unfinished, its temporary file is removed.
pub struct BlobWriter {
    store: BlobStore,
    file: Option<File>,
    tmp: PathBuf,
    hasher: Sha256,
    size: u64,
}

/// A blob written and synced under a temporary name, not yet in the store:
/// [`StagedBlob::commit`] moves it in, [`StagedBlob::into_bytes`] reads it back
/// (a file bound for another portal). Dropped, its temporary file is removed.
pub struct StagedBlob {
    store: BlobStore,
    tmp: Option<PathBuf>,
    sha256: String,
    size: u64,
}

/// A stored blob's identity: hex SHA-256 and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobId {
    pub sha256: String,
    pub size: u64,
}

impl BlobStore {
    /// Opens (creating) the blob folder `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        fs::create_dir_all(dir.join(TMP_DIR)).map_err(|e| io("create the blob folder", dir, e))?;
        Ok(Self { inner: Arc::new(Inner { dir: dir.to_path_buf(), next_tmp: AtomicU64::new(0) }) })
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Starts a blob.
    pub fn writer(&self) -> Result<BlobWriter, StoreError> {
        let n = self.inner.next_tmp.fetch_add(1, Ordering::Relaxed);
        let tmp = self.inner.dir.join(TMP_DIR).join(format!("{}-{n}", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io("create a temporary blob", &tmp, e))?;
        Ok(BlobWriter { store: self.clone(), file: Some(file), tmp, hasher: Sha256::new(), size: 0 })
    }

    /// Stores `bytes` (synced) and returns its id.
    pub fn put(&self, bytes: &[u8]) -> Result<BlobId, StoreError> {
        let mut w = self.writer()?;
        for chunk in bytes.chunks(CHUNK_BYTES) {
            w.write(chunk)?;
        }
        w.finish()?.commit()
    }

    /// Where the blob `sha256` lives; `None` for a name that is not a hex SHA-256.
    fn path(&self, sha256: &str) -> Option<PathBuf> {
        if !is_sha256(sha256) {
            return None;
        }
        let prefix = sha256.get(..2)?;
        Some(self.inner.dir.join(prefix).join(sha256))
    }

    /// Whether the blob is stored.
    pub fn contains(&self, sha256: &str) -> bool {
        sha256 == EMPTY_SHA256 || self.path(sha256).is_some_and(|p| p.is_file())
    }

    /// Opens a stored blob for reading (`None`: not stored).
    pub fn open_blob(&self, sha256: &str) -> Result<Option<BlobReader>, StoreError> {
        if sha256 == EMPTY_SHA256 {
            return Ok(Some(BlobReader { file: None }));
        }
        let Some(path) = self.path(sha256) else { return Ok(None) };
        match File::open(&path) {
            Ok(f) => Ok(Some(BlobReader { file: Some(f) })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("open a blob", &path, e)),
        }
    }

    /// A whole blob in memory (`None`: not stored). For what must travel in one
    /// message (replication); downloads stream with [`BlobStore::open_blob`].
    pub fn read(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(mut r) = self.open_blob(sha256)? else { return Ok(None) };
        let mut out = Vec::new();
        r.read_to_end(&mut out).map_err(|e| io("read a blob", &self.inner.dir, e))?;
        Ok(Some(out))
    }

    /// Every stored blob's hex SHA-256, and stray entries (not named like a blob).
    fn list(&self) -> Result<(Vec<String>, Vec<PathBuf>), StoreError> {
        let dir = &self.inner.dir;
        let mut blobs = Vec::new();
        let mut stray = Vec::new();
        for e in fs::read_dir(dir).map_err(|e| io("list the blob folder", dir, e))? {
            let e = e.map_err(|e| io("list the blob folder", dir, e))?;
            let name = e.file_name().to_string_lossy().to_string();
            if name == TMP_DIR {
                continue;
            }
            let is_prefix =
                name.len() == 2 && name.chars().all(|c| c.is_ascii_hexdigit() && !c.is_uppercase());
            if !is_prefix || !e.path().is_dir() {
                continue;
            }
            for b in fs::read_dir(e.path()).map_err(|err| io("list the blob folder", &e.path(), err))? {
                let b = b.map_err(|err| io("list the blob folder", &e.path(), err))?;
                let sha = b.file_name().to_string_lossy().to_string();
                if is_sha256(&sha) && sha.starts_with(&name) {
                    blobs.push(sha);
                } else {
                    stray.push(b.path());
                }
            }
        }
        Ok((blobs, stray))
    }

    /// Removes every temporary file and every blob `named` says no record names.
    /// Call it at start, before anything writes: a blob written for a commit still
    /// under way is not yet named.
    pub fn collect_garbage(
        &self,
        named: impl Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<Collected, StoreError> {
        let mut out = Collected::default();
        let tmp = self.inner.dir.join(TMP_DIR);
        for e in fs::read_dir(&tmp).map_err(|e| io("list temporary blobs", &tmp, e))? {
            let e = e.map_err(|e| io("list temporary blobs", &tmp, e))?;
            remove(&e.path())?;
            out.temporary += 1;
        }
        let (blobs, stray) = self.list()?;
        for p in stray {
            // Half-renamed or foreign files in a prefix folder: no record can name them.
            remove(&p)?;
            out.orphans += 1;
        }
        for sha in blobs {
            if !named(&sha)? {
                if let Some(p) = self.path(&sha) {
                    remove(&p)?;
                }
                out.orphans += 1;
            }
        }
        Ok(out)
    }

    /// The hex SHA-256 of every stored blob (tests, the operator).
    pub fn stored(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.list()?.0)
    }

    /// Temporary files present now (tests).
    pub fn temporary_files(&self) -> Result<usize, StoreError> {
        let tmp = self.inner.dir.join(TMP_DIR);
        Ok(fs::read_dir(&tmp).map_err(|e| io("list temporary blobs", &tmp, e))?.count())
    }
}

impl BlobWriter {
    /// Appends bytes (hashed as they pass).
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let Some(f) = self.file.as_mut() else { return Ok(()) };
        f.write_all(bytes).map_err(|e| io("write a temporary blob", &self.tmp, e))?;
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Syncs the bytes and closes the file; the blob is complete but not yet stored.
    pub fn finish(mut self) -> Result<StagedBlob, StoreError> {
        let f = self.file.take();
        if let Some(f) = f {
            f.sync_all().map_err(|e| io("sync a temporary blob", &self.tmp, e))?;
        }
        let hasher = std::mem::take(&mut self.hasher);
        let sha256 = hex::encode(hasher.finalize());
        let tmp = std::mem::take(&mut self.tmp);
        Ok(StagedBlob { store: self.store.clone(), tmp: Some(tmp), sha256, size: self.size })
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl StagedBlob {
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Moves the blob into the store under its SHA-256 (the same content already
    /// there is kept, this copy dropped) and syncs the folder: after this returns,
    /// a commit may name it.
    pub fn commit(mut self) -> Result<BlobId, StoreError> {
        let id = BlobId { sha256: self.sha256.clone(), size: self.size };
        let Some(tmp) = self.tmp.take() else { return Ok(id) };
        if self.sha256 == EMPTY_SHA256 {
            remove(&tmp)?;
            return Ok(id);
        }
        let Some(dest) = self.store.path(&self.sha256) else {
            return Err(StoreError::Corrupt { what: "blob name".into(), reason: self.sha256.clone() });
        };
        let Some(folder) = dest.parent() else {
            return Err(StoreError::Corrupt { what: "blob path".into(), reason: dest.display().to_string() });
        };
        if dest.is_file() {
            // Deduplicated: the stored copy is the same bytes (and was synced).
            remove(&tmp)?;
            return Ok(id);
        }
        let new_folder = !folder.is_dir();
        fs::create_dir_all(folder).map_err(|e| io("create a blob folder", folder, e))?;
        fs::rename(&tmp, &dest).map_err(|e| io("store a blob", &dest, e))?;
        sync_dir(folder)?;
        if new_folder {
            sync_dir(self.store.dir())?;
        }
        Ok(id)
    }

    /// The bytes, read back from the temporary file (which is then removed).
    pub fn into_bytes(mut self) -> Result<Vec<u8>, StoreError> {
        let Some(tmp) = self.tmp.take() else { return Ok(Vec::new()) };
        let bytes = fs::read(&tmp).map_err(|e| io("read a temporary blob", &tmp, e));
        let _ = fs::remove_file(&tmp);
        bytes
    }
}

impl Drop for StagedBlob {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let _ = fs::remove_file(tmp);
        }
    }
}

/// A stored blob opened for reading.
pub struct BlobReader {
    file: Option<File>,
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.read(buf),
            None => Ok(0),
        }
    }
}

/// Whether `s` is a lowercase hex SHA-256.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io("sync the blob folder", dir, e))
}

fn remove(p: &Path) -> Result<(), StoreError> {
    match fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("remove a blob", p, e)),
    }
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io { what: format!("{what} ({})", path.display()), source: e }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_read_dedup_and_garbage() {
        let tmp = tempfile::tempdir().unwrap();
        let store = BlobStore::open(&tmp.path().join("blobs")).unwrap();
        let a = store.put(b"hello").unwrap();
        let again = store.put(b"hello").unwrap();
        assert_eq!(a, again);
        assert_eq!(store.stored().unwrap(), vec![a.sha256.clone()]);
        assert_eq!(store.read(&a.sha256).unwrap().unwrap(), b"hello");
        assert_eq!(store.read(EMPTY_SHA256).unwrap().unwrap(), b"");
        assert!(store.read(&"0".repeat(64)).unwrap().is_none());
        assert!(store.read("../../etc/passwd").unwrap().is_none());
        // An unfinished writer and a dropped staged blob leave nothing.
        let mut w = store.writer().unwrap();
        w.write(b"partial").unwrap();
        drop(w);
        let mut w = store.writer().unwrap();
        w.write(b"staged").unwrap();
        drop(w.finish().unwrap());
        assert_eq!(store.temporary_files().unwrap(), 0);
        // A crash leaves a temporary file and an orphan: both collected.
        let b = store.put(b"orphan").unwrap();
        fs::write(store.dir().join(TMP_DIR).join("999-1"), b"x").unwrap();
        let got = store.collect_garbage(|sha| Ok(sha == a.sha256)).unwrap();
        assert_eq!(got, Collected { orphans: 1, temporary: 1 });
        assert!(store.contains(&a.sha256));
        assert!(!store.contains(&b.sha256));
    }
}
