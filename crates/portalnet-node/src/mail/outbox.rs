//! Delivers queued e-mail from the portal's durable outbox ([`Mailer`], a
//! [`Worker`]). A message is removed from the outbox only after the transport took
//! it; a temporary failure is retried with the [`BACKOFF`] policy (1 s doubling up
//! to 10 min, with jitter) per message, so one greylisting recipient does not hold
//! the others back; a permanent refusal is kept, marked failed, for the operator.
//!
//! [`MailSweep`] is the mail housekeeping worker: it forgets received messages past
//! their retention (duplicate detection), hourly and at start.

use crate::grpc::error::{NodeError, NodeResult};
use crate::worker::{Backoff, Step, Worker};
use base64::Engine;
use portalnet_core::Timestamp;
use portalnet_mail::Transport;
use portalnet_portal::Portal;
use portalnet_store::schema::OutboxMail;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Temporary failures of one message: 1 s doubling up to 10 min, with jitter.
/// The same policy spaces the mailer's own retries when the outbox cannot be read.
pub const BACKOFF: Backoff = Backoff { min: Duration::from_secs(1), max: Duration::from_secs(600) };
/// Even with nothing due, look again this often (clock changes, missed wakes).
const IDLE_POLL: Duration = Duration::from_secs(30);

/// The mailer as a [`Worker`]: each step sends every message that is due.
pub struct Mailer {
    pub portal: Arc<Portal>,
    pub transport: Transport,
    pub shutdown: CancellationToken,
    /// Until the next queued message is due, after the last step.
    next_due: Option<Duration>,
    /// The last temporary failure of a message still queued, and its next try.
    trouble: Option<(String, Timestamp)>,
}

impl Mailer {
    pub fn new(portal: Arc<Portal>, transport: Transport, shutdown: CancellationToken) -> Self {
        Self { portal, transport, shutdown, next_due: None, trouble: None }
    }
}

impl Worker for Mailer {
    fn name(&self) -> String {
        "mailer".into()
    }

    async fn work(&mut self) -> NodeResult<Step> {
        let round = deliver_due(&self.portal, &self.transport, &self.shutdown).await?;
        self.next_due = round.next_due;
        self.trouble = round.trouble;
        Ok(Step::Idle)
    }

    async fn wait_for_work(&mut self) {
        let wait = self.next_due.unwrap_or(IDLE_POLL).min(IDLE_POLL);
        tokio::select! {
            _ = self.portal.mail_wake.notified() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }

    fn trouble(&self) -> Option<(String, Option<Timestamp>)> {
        self.trouble.clone().map(|(e, at)| (e, Some(at)))
    }
}

/// What a round of delivery left.
struct Round {
    next_due: Option<Duration>,
    trouble: Option<(String, Timestamp)>,
}

/// Sends every due message; says how long until the next one is due.
async fn deliver_due(
    portal: &Portal,
    transport: &Transport,
    shutdown: &CancellationToken,
) -> NodeResult<Round> {
    let mut next_due: Option<i64> = None;
    let mut trouble = None;
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
            return Ok(Round { next_due: None, trouble });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&mail.message_b64)
            .map_err(|e| NodeError::Internal(format!("outbox entry {} is damaged: {e}", mail.id)))?;
        // A stopping node does not wait for the relay: the message stays queued.
        let tag = format!("mail-{:08}", mail.id);
        let result = tokio::select! {
            _ = shutdown.cancelled() => return Ok(Round { next_due: None, trouble }),
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
                    let backoff = i64::try_from(BACKOFF.jittered(m.attempts).as_millis()).unwrap_or(i64::MAX);
                    m.next_attempt_at = portal.now().plus_millis(backoff);
                    next_due = Some(next_due.map_or(backoff, |n| n.min(backoff)));
                    trouble = Some((e.to_string(), m.next_attempt_at));
                    tracing::warn!(id = m.id, to = %m.to, error = %e, attempt = m.attempts, "e-mail delivery failed; will retry");
                }
                t.db.write(|tx| t.mail_outbox.tx_put(tx, &m.id, &m))?;
            }
        }
        portal.durable().await?;
    }
    Ok(Round { next_due: next_due.map(|ms| Duration::from_millis(ms.max(0) as u64)), trouble })
}

/// How often received-mail records past their retention are removed.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

/// The mail housekeeping [`Worker`]: removes records of received mail older than
/// the retention, at start and every [`SWEEP_EVERY`]. Lookups already ignore such
/// records, so a late sweep changes no answer.
pub struct MailSweep(pub Arc<Portal>);

impl Worker for MailSweep {
    fn name(&self) -> String {
        "mail-sweep".into()
    }

    async fn work(&mut self) -> NodeResult<Step> {
        let p = self.0.clone();
        let removed = crate::worker::off_workers(move || p.sweep_seen()).await?;
        if removed > 0 {
            tracing::info!(removed, "old received-mail records removed");
        }
        Ok(Step::Idle)
    }

    async fn wait_for_work(&mut self) {
        tokio::time::sleep(SWEEP_EVERY).await
    }
}
