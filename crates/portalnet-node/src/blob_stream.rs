//! Streaming a stored file: chunks read from its blob on the blocking pool and
//! handed over a small channel, so a download holds a few chunks, never the file.
//! A blocking thread is taken for one read at a time, never while the client is
//! slow to take what was read: a client that stops reading holds an async task and
//! a few chunks, not one of the blocking threads every write needs.

use portalnet_store::BlobReader;
use portalnet_store::blobs::CHUNK_BYTES;
use std::io::Read;
use std::time::Duration;
use tokio::sync::mpsc;

/// Chunks in flight per download: what one transfer costs in memory, at most.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A download whose client takes nothing for this long is ended (a reader at a
/// few KB/s still takes a chunk well within it).
const STALLED: Duration = Duration::from_secs(300);

/// The blob's bytes as chunks of [`CHUNK_BYTES`] (the last one shorter); an
/// error ends the stream. Reading stops when the receiver is dropped, or has
/// taken nothing for [`STALLED`].
pub fn chunks(reader: BlobReader) -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(pump(reader, tx));
    rx
}

async fn pump(mut reader: BlobReader, tx: mpsc::Sender<std::io::Result<Vec<u8>>>) {
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
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                (Ok(buf), false)
            }
            Err(e) => (Err(e), true),
        };
        match tokio::time::timeout(STALLED, tx.send(chunk)).await {
            Ok(Ok(())) if !last => {}
            _ => return,
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
