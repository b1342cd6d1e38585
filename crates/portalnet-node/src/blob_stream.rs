//! Streaming a stored file: chunks read from its blob on the blocking pool and
//! handed over a small channel, so a download holds a few chunks, never the file.

use portalnet_store::BlobReader;
use portalnet_store::blobs::CHUNK_BYTES;
use std::io::Read;
use tokio::sync::mpsc;

/// Chunks in flight per download: what one transfer costs in memory, at most.
const CHUNKS_IN_FLIGHT: usize = 4;

/// The blob's bytes as chunks of [`CHUNK_BYTES`] (the last one shorter); an
/// error ends the stream. Reading stops when the receiver is dropped.
pub fn chunks(mut reader: BlobReader) -> mpsc::Receiver<std::io::Result<Vec<u8>>> {
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut buf = vec![0u8; CHUNK_BYTES];
            match read_full(&mut reader, &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(buf)).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    break;
                }
            }
        }
    });
    rx
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
