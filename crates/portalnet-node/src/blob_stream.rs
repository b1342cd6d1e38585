//! Streaming a stored file: chunks read from its blob on the blocking pool and
//! handed over a small channel, so a download holds a few chunks, never the file.
//! A blocking thread is taken for one read at a time, never while the client is
//! slow to take what was read: a client that stops reading holds an async task and
//! a few chunks, not one of the blocking threads every write needs.

use portalnet_store::BlobReader;
use portalnet_store::blobs::CHUNK_BYTES;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt as _};

/// Chunks in flight per download: what one transfer costs in memory, at most.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A download whose client takes nothing for this long is ended (a reader at a
/// few KB/s still takes a chunk well within it).
const STALLED: Duration = Duration::from_secs(300);

/// The blob's bytes as chunks of [`CHUNK_BYTES`] (the last one shorter); an
/// error ends the stream. Reading stops when the stream is dropped, or has been
/// taken nothing from for [`STALLED`]; then it ends with an error (`TimedOut`), so
/// a download cut short never looks complete.
pub fn chunks(reader: BlobReader) -> impl Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let finished = Arc::new(AtomicBool::new(false));
    tokio::spawn(pump(reader, tx, finished.clone()));
    let cut_short = tokio_stream::once(()).filter_map(move |()| {
        (!finished.load(Ordering::Acquire)).then(|| {
            Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the download was not taken for too long"))
        })
    });
    ReceiverStream::new(rx).chain(cut_short)
}

/// Reads chunks into `tx` until the end, an error, or the receiver goes; sets
/// `finished` then (not when it gives up on a stalled receiver).
async fn pump(mut reader: BlobReader, tx: mpsc::Sender<std::io::Result<Vec<u8>>>, finished: Arc<AtomicBool>) {
    let done = || finished.store(true, Ordering::Release);
    loop {
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; CHUNK_BYTES];
            let n = read_full(&mut reader, &mut buf);
            (reader, buf, n)
        })
        .await;
        let Ok((back, mut buf, n)) = read else { return };
        reader = back;
        let (chunk, last) = match n {
            Ok(0) => return done(),
            Ok(n) => {
                buf.truncate(n);
                (Ok(buf), false)
            }
            Err(e) => (Err(e), true),
        };
        match tokio::time::timeout(STALLED, tx.send(chunk)).await {
            Ok(Ok(())) if !last => {}
            Ok(_) => return done(),
            Err(_) => return,
        }
    }
}

/// Fills `buf` unless the end comes first; how many bytes it holds.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(buf.get_mut(n..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(bytes: usize) -> (tempfile::TempDir, BlobReader) {
        let dir = tempfile::tempdir().unwrap();
        let store = portalnet_store::BlobStore::open(dir.path()).unwrap();
        let id = store.put(&vec![7u8; bytes]).unwrap();
        let reader = store.open_blob(&id.sha256).unwrap().unwrap();
        (dir, reader)
    }

    /// Read to the end: every byte, and no error after them.
    #[tokio::test]
    async fn a_download_taken_to_the_end_is_whole() {
        let (_dir, reader) = blob(3 * CHUNK_BYTES + 5);
        let got: Vec<std::io::Result<Vec<u8>>> = chunks(reader).collect().await;
        assert!(got.iter().all(Result::is_ok));
        assert_eq!(got.into_iter().map(|c| c.unwrap().len()).sum::<usize>(), 3 * CHUNK_BYTES + 5);
    }

    /// A client that takes nothing for [`STALLED`] gets what was read, then an
    /// error: a download cut short never ends as if complete (on a paused clock).
    #[tokio::test(start_paused = true)]
    async fn a_stalled_download_ends_with_an_error() {
        let (_dir, reader) = blob(16 * CHUNK_BYTES);
        let mut stream = Box::pin(chunks(reader));
        let first = stream.next().await.unwrap().unwrap();
        tokio::time::sleep(STALLED + Duration::from_secs(1)).await;
        let mut bytes = first.len();
        let mut end = None;
        while let Some(c) = stream.next().await {
            match c {
                Ok(c) => bytes += c.len(),
                Err(e) => end = Some(e.kind()),
            }
        }
        assert!(bytes < 16 * CHUNK_BYTES, "{bytes}");
        assert_eq!(end, Some(std::io::ErrorKind::TimedOut));
    }
}
