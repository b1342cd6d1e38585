//! The node's inbound mail (R18–R22): the LMTP and SMTP listeners of
//! `portalnet-inbound`, answering for this portal's addresses. Recipients are
//! checked at RCPT (unknown, reset, revoked or dismissed: 550), each message is
//! parsed once, automatic mail is accepted and dropped (no loops), and each
//! recipient's effect is flushed to disk before its `250` goes out.

use crate::grpc::error::NodeError;
use portalnet_inbound::{Envelope, MailHandler, Refusal};
use portalnet_portal::{MailOutcome, MailTarget, Portal};
use std::sync::Arc;

pub struct PortalMail {
    pub portal: Arc<Portal>,
}

impl MailHandler for PortalMail {
    fn check_recipient(&self, rcpt: &str) -> Result<(), Refusal> {
        self.portal.mail_target(rcpt).map(|_| ()).map_err(refusal).inspect_err(|r| self.count_refused(r))
    }

    fn deliver(&self, envelope: &Envelope, data: Vec<u8>) -> Vec<Result<(), Refusal>> {
        let n = envelope.recipients.len();
        let msg = match portalnet_inbound::parse_owned(data) {
            Ok(m) => m,
            Err(e) => {
                let r = Refusal::permanent(format!("the message cannot be read: {e}"));
                self.portal.metrics.add("portalnet_mail_in_refused_total", &[("class", "5xx")], n as u64);
                return vec![Err(r); n];
            }
        };
        let own = self.portal.own_mail_addresses();
        if let Some(why) = portalnet_inbound::is_automatic(&msg, Some(&envelope.mail_from), &own) {
            tracing::info!(from = %envelope.mail_from, reason = why, "automatic mail accepted and dropped");
            self.portal.metrics.add("portalnet_mail_in_dropped_total", &[("reason", "auto_reply")], n as u64);
            return vec![Ok(()); n];
        }
        // The last recipient takes the parsed message itself (attachments move
        // into storage uncopied); earlier ones get a copy.
        let mut msg = Some(msg);
        let duplicates = std::cell::Cell::new(0u64);
        let mut out: Vec<Result<(), Refusal>> = envelope
            .recipients
            .iter()
            .enumerate()
            .map(|(i, rcpt)| {
                let target = self.portal.mail_target(rcpt)?;
                let m = if i + 1 == n { msg.take() } else { msg.clone() };
                let m = m.ok_or_else(|| NodeError::Internal("message used up".into()))?;
                let done = match target {
                    MailTarget::NewTask { owner } => {
                        self.portal.task_from_mail(&owner, &envelope.mail_from, rcpt, m)
                    }
                    MailTarget::Reply(access) => self.portal.comment_from_mail(&access, rcpt, m),
                };
                match done? {
                    // Not the recipient: task and reply addresses are secrets (R18, R22).
                    MailOutcome::Created(t) => tracing::info!(task = t.id, "task created from e-mail"),
                    MailOutcome::Commented(c) => {
                        tracing::info!(task = c.task_id, comment = c.id, "comment from an e-mail reply")
                    }
                    MailOutcome::Duplicate { task } => {
                        duplicates.set(duplicates.get() + 1);
                        tracing::info!(task, "message delivered again; already acted on")
                    }
                }
                Ok(())
            })
            .map(|r: Result<(), NodeError>| r.map_err(refusal))
            .collect();
        if out.iter().any(Result::is_ok)
            && let Err(e) = self.portal.durable_blocking(self.portal.tables.db.ticket())
        {
            tracing::error!(error = %e, "cannot flush received mail");
            out = vec![Err(Refusal::temporary("storage is failing; try again later")); n];
        }
        let m = &self.portal.metrics;
        let accepted = out.iter().filter(|r| r.is_ok()).count() as u64;
        m.add("portalnet_mail_in_accepted_total", &[], accepted.saturating_sub(duplicates.get()));
        m.add("portalnet_mail_in_dropped_total", &[("reason", "duplicate")], duplicates.get());
        for r in out.iter().filter_map(|r| r.as_ref().err()) {
            self.count_refused(r);
        }
        out
    }
}

/// The SMTP answer for why a message cannot be taken.
fn refusal(e: NodeError) -> Refusal {
    use portalnet_core::Error as D;
    match e {
        NodeError::Domain(D::NotFound(m)) => Refusal::new(550, [5, 1, 1], m.to_string()),
        NodeError::Domain(D::PermissionDenied(m)) => Refusal::new(550, [5, 7, 1], m.to_string()),
        NodeError::Domain(D::FailedPrecondition(m)) => Refusal::new(550, [5, 2, 1], m.to_string()),
        NodeError::Domain(D::InvalidArgument(m) | D::AlreadyExists(m)) => {
            Refusal::new(550, [5, 6, 0], m.to_string())
        }
        // A sender's limit: the sending server keeps the message and retries later.
        NodeError::RateLimited(m) => Refusal::new(451, [4, 7, 1], m),
        other => {
            tracing::error!(error = %other, "receiving mail");
            Refusal::temporary("the portal cannot take mail right now; try again later")
        }
    }
}

impl PortalMail {
    /// `portalnet_mail_in_refused_total{class="4xx"|"5xx"}`.
    fn count_refused(&self, r: &Refusal) {
        let class = if r.code >= 500 { "5xx" } else { "4xx" };
        self.portal.metrics.inc("portalnet_mail_in_refused_total", &[("class", class)]);
    }
}
