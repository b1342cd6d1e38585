//! Delivers queued e-mail from the portal's durable outbox. A message is removed
//! from the outbox only after the transport took it; a temporary failure is retried
//! with capped exponential backoff (1 s doubling up to 10 min, with jitter), a
//! permanent refusal is kept, marked failed, for the operator.
//!
//! [`run_sweep`] is the mail housekeeping loop: it forgets received messages past
//! their retention (duplicate detection), hourly and at start.

use crate::error::{NodeError, NodeResult};
use base64::Engine;
use portalnet_mail::Transport;
use portalnet_portal::Portal;
use portalnet_store::schema::OutboxMail;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const MAX_BACKOFF_MS: i64 = 10 * 60 * 1000;
/// Even with nothing due, look again this often (clock changes, missed wakes).
const IDLE_POLL: Duration = Duration::from_secs(30);

/// Runs until `shutdown`, delivering whatever is due.
pub async fn run(portal: Arc<Portal>, transport: Transport, shutdown: CancellationToken) {
    let (workers, name) = (portal.workers.clone(), "mailer");
    workers.idle(name);
    loop {
        workers.busy(name);
        let next = match deliver_due(&portal, &transport, &shutdown).await {
            Ok(next) => {
                workers.settle(name);
                next
            }
            Err(e) => {
                tracing::error!(error = %e, "mail outbox");
                workers.failed(name, &e.to_string(), Some(portal.now().plus_millis(5000)));
                Some(Duration::from_secs(5))
            }
        };
        let wait = next.unwrap_or(IDLE_POLL).min(IDLE_POLL);
        tokio::select! {
            _ = shutdown.cancelled() => {
                workers.stopped(name);
                return;
            }
            _ = portal.mail_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Sends every due message; returns how long until the next one is due.
async fn deliver_due(
    portal: &Portal,
    transport: &Transport,
    shutdown: &CancellationToken,
) -> NodeResult<Option<Duration>> {
    let mut next_due: Option<i64> = None;
    let entries: Vec<OutboxMail> =
        portal.tables.mail_outbox.iter().map(|kv| kv.map(|(_, m)| m)).collect::<Result<_, _>>()?;
    for mail in entries {
        if mail.failed {
            continue;
        }
        let now = portal.now();
        if mail.next_attempt_at > now {
            let wait = mail.next_attempt_at.0 - now.0;
            next_due = Some(next_due.map_or(wait, |n| n.min(wait)));
            continue;
        }
        if shutdown.is_cancelled() {
            return Ok(None);
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&mail.message_b64)
            .map_err(|e| NodeError::Internal(format!("outbox entry {} is damaged: {e}", mail.id)))?;
        // A stopping node does not wait for the relay: the message stays queued.
        let tag = format!("mail-{:08}", mail.id);
        let result = tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            r = transport.deliver(&mail.from, &mail.to, &bytes, &tag) => r,
        };
        let t = &portal.tables;
        match result {
            Ok(()) => {
                t.db.write(|tx| {
                    t.mail_outbox.tx_remove(tx, &mail.id);
                    Ok::<_, NodeError>(())
                })?;
                tracing::info!(id = mail.id, to = %mail.to, "e-mail delivered");
                portal.metrics.inc("portalnet_mail_out_sent_total", &[]);
                portal.workers.succeeded("mailer");
            }
            Err(e) => {
                let mut m = mail.clone();
                m.attempts += 1;
                m.last_error = Some(e.to_string());
                let kind = if e.is_permanent() { "permanent" } else { "temporary" };
                portal.metrics.inc("portalnet_mail_out_failed_total", &[("kind", kind)]);
                if e.is_permanent() {
                    m.failed = true;
                    tracing::error!(id = m.id, to = %m.to, error = %e, "e-mail refused for good");
                } else {
                    let backoff = backoff_ms(m.attempts);
                    m.next_attempt_at = portal.now().plus_millis(backoff);
                    next_due = Some(next_due.map_or(backoff, |n| n.min(backoff)));
                    portal.workers.failed("mailer", &e.to_string(), Some(m.next_attempt_at));
                    tracing::warn!(id = m.id, to = %m.to, error = %e, attempt = m.attempts, "e-mail delivery failed; will retry");
                }
                t.db.write(|tx| t.mail_outbox.tx_put(tx, &m.id, &m))?;
            }
        }
        portal.durable().await?;
    }
    Ok(next_due.map(|ms| Duration::from_millis(ms.max(0) as u64)))
}

/// How often received-mail records past their retention are removed.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// Runs until `shutdown`: removes records of received mail older than the retention.
/// Lookups already ignore such records, so a late sweep changes no answer.
pub async fn run_sweep(portal: Arc<Portal>, shutdown: CancellationToken) {
    loop {
        let p = portal.clone();
        match tokio::task::spawn_blocking(move || p.sweep_seen()).await {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(removed = n, "old received-mail records removed"),
            Ok(Err(e)) => tracing::error!(error = %e, "sweeping received-mail records"),
            Err(e) => tracing::error!(error = %e, "received-mail sweep stopped"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(SWEEP_EVERY) => {}
        }
    }
}

/// 1 s, 2 s, 4 s … capped at 10 minutes, with ±20 % jitter.
fn backoff_ms(attempts: u32) -> i64 {
    let base = 1000i64.saturating_mul(1i64 << attempts.saturating_sub(1).min(20)).min(MAX_BACKOFF_MS);
    let jitter = rand::thread_rng().gen_range(-(base / 5)..=base / 5);
    (base + jitter).max(100)
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        for (attempt, lo, hi) in
            [(1, 800, 1200), (2, 1600, 2400), (5, 12_800, 19_200), (40, 480_000, 720_000)]
        {
            let b = super::backoff_ms(attempt);
            assert!((lo..=hi).contains(&b), "attempt {attempt}: {b}");
        }
    }
}
