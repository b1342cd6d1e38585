//! The listener: accepts connections and serves each on its own task.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::ListenerConfig;
use crate::handler::MailHandler;
use crate::session::serve_connection;

/// Serves SMTP or LMTP on `listener` until `shutdown` is cancelled, then waits for every
/// connection to end: idle ones are told 421 at once, a delivery under way is finished and
/// answered first.
///
/// At most `config.max_connections` clients are served at a time; more get 421 4.7.0 and are
/// closed. Accept errors (e.g. out of file descriptors) are logged and retried.
pub async fn serve(
    listener: TcpListener,
    config: ListenerConfig,
    handler: Arc<dyn MailHandler>,
    shutdown: CancellationToken,
) {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections));
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (mut stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "mail listener cannot accept");
                // Usually out of file descriptors: give connections time to close.
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                }
            }
        };
        // Replies are small and pipelined; do not let Nagle hold them back.
        let _ = stream.set_nodelay(true);
        let permit = Arc::clone(&slots).try_acquire_owned();
        let config = Arc::clone(&config);
        let handler = Arc::clone(&handler);
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            let Ok(_permit) = permit else {
                tracing::warn!(%peer, "too many mail connections, refusing one");
                let busy = stream.write_all(b"421 4.7.0 Too many connections, try again later\r\n");
                let _ = tokio::time::timeout(Duration::from_secs(5), busy).await;
                return;
            };
            tracing::debug!(%peer, "mail connection");
            if let Err(err) = serve_connection(stream, Some(peer), &config, handler, shutdown).await {
                tracing::debug!(%peer, error = %err, "mail connection ended with an error");
            }
        });
    }
    tracker.close();
    tracker.wait().await;
}
