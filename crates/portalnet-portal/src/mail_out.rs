//! Queuing e-mail: a message is rendered and put in the durable mail outbox in the
//! write of the change that causes it; the node's mailer delivers it afterwards.

use crate::Portal;
use crate::error::{PortalError, PortalResult};
use base64::Engine;
use portalnet_core::error::text;
use portalnet_mail::Outgoing;
use portalnet_store::WriteTx;
use portalnet_store::schema::OutboxMail;

impl Portal {
    /// Queues `mail` in the caller's write; the mailer sends it after the commit.
    pub fn enqueue_mail(&self, tx: &mut WriteTx<'_>, mail: &Outgoing) -> PortalResult<()> {
        let rendered = portalnet_mail::render(mail)
            .map_err(|e| PortalError::invalid(text!("error-mail-compose", reason = e.to_string())))?;
        let id = tx.next_id("mail")?;
        let entry = OutboxMail {
            id,
            from: mail.from.address.clone(),
            to: mail.to.clone(),
            message_b64: base64::engine::general_purpose::STANDARD.encode(rendered),
            created_at: self.now(),
            attempts: 0,
            next_attempt_at: self.now(),
            last_error: None,
            failed: false,
        };
        self.tables.mail_outbox.tx_put(tx, &id, &entry)?;
        self.mail_queued.store(true, std::sync::atomic::Ordering::Release);
        self.metrics.inc("portalnet_mail_out_queued_total", &[]);
        Ok(())
    }
}
