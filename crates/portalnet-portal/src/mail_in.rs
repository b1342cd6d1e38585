//! Mail that arrives (R18–R20, R22): employees' secret task addresses, and what a
//! message to one of the portal's addresses does.
//!
//! * `task+<token>@<mail domain>` — the owner's secret address: the message
//!   becomes a task with the owner as creator and responsible (R20), its
//!   attachments task files, all in one write.
//! * `reply+<token>@<mail domain>` — an e-mail participant's reply address: the
//!   reply, quotes and signature cut, becomes their comment (R22), its
//!   attachments task files when their role may attach (responsible,
//!   co-executor); an observer's attachments are named in the comment instead.
//!
//! A reply whose `From` is not the person the link was issued to is **refused**
//! (550 5.7.1, so the sender's server tells the sender), never posted as that
//! person. A message seen before — same recipient, Message-ID and content apart
//! from the header fields relays add ([`portalnet_inbound::RELAY_FIELDS`]) — does
//! nothing again and is acknowledged (a retried delivery), for
//! [`super::MailLimits::seen_retention_ms`] (30 days by default) after it came.
//! New tasks by mail are limited per sender and per address (`mail_limits.rs`).

use super::mail_links::{LinkAccess, is_token, mail_token};
use super::{Portal, actor_of};
use crate::error::{PortalError, PortalResult};
use portalnet_core::error::text;
use portalnet_core::mail_task;
use portalnet_core::permissions::{Action, Actor, authorize};
use portalnet_core::task::{self, Comment, FileMeta, NewTask, Task};
use portalnet_core::user::UserKind;
use portalnet_core::{Error, Timestamp, quote};
use portalnet_inbound::InboundMessage;
use portalnet_store::BlobId;
use portalnet_store::WriteTx;
use portalnet_store::schema::{InboundSeen, MailAddressRecord};
use sha2::{Digest, Sha256};

/// Whom a recipient address reaches.
#[derive(Debug, Clone)]
pub enum MailTarget {
    /// An employee's task address: the login of its owner.
    NewTask { owner: String },
    /// An e-mail participant's reply address.
    Reply(Box<LinkAccess>),
}

/// An attachment whose bytes are in the blob store.
struct MailFile {
    name: String,
    content_type: String,
    blob: BlobId,
}

/// What a delivered message did.
#[derive(Debug, Clone, PartialEq)]
pub enum MailOutcome {
    Created(Task),
    Commented(Comment),
    /// Seen before: the task or comment it made then stands.
    Duplicate {
        task: u64,
    },
}

impl Portal {
    /// The actor's secret task address, made on first use (R18).
    pub fn task_address(&self, actor: &Actor) -> PortalResult<MailAddressRecord> {
        if let Some(rec) = self.tables.mail_addresses.get(&actor.login)? {
            return Ok(rec);
        }
        self.new_task_address(&actor.login)
    }

    /// Replaces the task address of `login` (the actor's own, or anyone's for an
    /// admin); the old token is forgotten in the same write.
    pub fn reset_task_address(&self, actor: &Actor, login: &str) -> PortalResult<MailAddressRecord> {
        if login != actor.login && !actor.admin {
            return Err(PortalError::Domain(Error::denied(
                "only administrators may reset someone else's task address",
            )));
        }
        self.new_task_address(login)
    }

    fn new_task_address(&self, login: &str) -> PortalResult<MailAddressRecord> {
        let user = self.user(login)?;
        if user.kind != UserKind::Employee {
            return Err(PortalError::Domain(Error::precondition(text!(
                "error-extranet-no-task-address",
                login = &login
            ))));
        }
        if !user.is_active() {
            return Err(PortalError::Domain(Error::precondition(text!(
                "error-is-dismissed",
                login = &login
            ))));
        }
        let now = self.now();
        let t = &self.tables;
        self.write(|tx| {
            if let Some(old) = t.mail_addresses.tx_get(tx, &login.to_string())? {
                t.mail_address_tokens.tx_remove(tx, &old.token);
            }
            let rec = MailAddressRecord { login: login.to_string(), token: mail_token(), created_at: now };
            t.mail_addresses.tx_put(tx, &rec.login, &rec)?;
            t.mail_address_tokens.tx_put(tx, &rec.token, &rec.login)?;
            Ok(rec)
        })
    }

    /// `task+<token>@<mail domain>`
    pub fn task_address_string(&self, rec: &MailAddressRecord) -> String {
        format!("task+{}@{}", rec.token, self.mail_domain())
    }

    /// Whom `rcpt` reaches; an error says why it reaches no one (asked at RCPT).
    pub fn mail_target(&self, rcpt: &str) -> PortalResult<MailTarget> {
        let unknown =
            || PortalError::Domain(Error::not_found(text!("error-no-such-address", address = quote(rcpt))));
        let rcpt = rcpt.trim().trim_start_matches('<').trim_end_matches('>');
        let (local, domain) = rcpt.rsplit_once('@').ok_or_else(unknown)?;
        if !domain.eq_ignore_ascii_case(self.mail_domain()) {
            return Err(unknown());
        }
        let local = local.to_ascii_lowercase();
        let (kind, token) = local.split_once('+').ok_or_else(unknown)?;
        if !is_token(token) {
            return Err(unknown());
        }
        match kind {
            "task" => {
                let owner = self.tables.mail_address_tokens.get(&token.to_string())?.ok_or_else(unknown)?;
                let user = self.user(&owner)?;
                if !user.is_active() {
                    return Err(PortalError::Domain(Error::precondition(text!(
                        "error-address-owner-gone",
                        address = quote(rcpt)
                    ))));
                }
                Ok(MailTarget::NewTask { owner })
            }
            "reply" => Ok(MailTarget::Reply(Box::new(self.link_access(token)?))),
            _ => Err(unknown()),
        }
    }

    /// Makes the task a message to `owner`'s task address asks for (R19, R20).
    /// Takes the message by value: each attachment goes to the blob store and its
    /// bytes are dropped before the next.
    /// A redelivery (within the retention) does nothing; past the sender's limits a
    /// new message is refused for now ([`PortalError::RateLimited`]). A message
    /// refused by a rule counts against those limits too (see `mail_limits.rs`).
    pub fn task_from_mail(
        &self,
        owner: &str,
        sender: &str,
        rcpt: &str,
        msg: InboundMessage,
    ) -> PortalResult<MailOutcome> {
        let user = self.user(owner)?;
        let actor = actor_of(&user);
        let now = self.now();
        let seen_key = seen_key(rcpt, &msg);
        // A retry of mail already taken is answered 250 even past the limits.
        if let Some(task) = self.seen(None, &seen_key, now)? {
            return Ok(MailOutcome::Duplicate { task });
        }
        self.check_mail_rate(owner, sender)?;
        let done = self.new_task_from_mail(&actor, &seen_key, msg, now);
        if counts_against_sender(&done) {
            self.count_mail_task(owner, sender);
        }
        done
    }

    /// The task of [`Portal::task_from_mail`], once the message may be taken. Only
    /// the attachments the task can hold are stored, and only after every check
    /// that can refuse the message, so a refusal writes nothing.
    fn new_task_from_mail(
        &self,
        actor: &Actor,
        seen_key: &str,
        msg: InboundMessage,
        now: Timestamp,
    ) -> PortalResult<MailOutcome> {
        let limits = self.limits().clone();
        let (attachments, left_out) = kept_attachments(msg.attachments, limits.max_files_per_task);
        self.check_mail_files(&attachments)?;
        let new = NewTask {
            title: mail_task::title(&msg.subject, &limits),
            description: description_with_note(&msg.text, left_out, &limits),
            responsible: None,
            accomplices: vec![],
            observers: vec![],
            deadline: None,
            group: None,
        }
        .validate(&limits)?;
        let files = self.store_attachments(attachments)?;
        self.write(|tx| {
            if let Some(task) = self.seen(Some(tx), seen_key, now)? {
                return Ok(MailOutcome::Duplicate { task });
            }
            let id = tx.next_id("task")?;
            let (mut task, change) = new.into_task(id, &actor.login, now);
            self.record(tx, &task, &actor.login, change, super::events::Extra::default(), now)?;
            for (i, f) in files.iter().enumerate() {
                self.attach_from_mail(tx, &mut task, actor, i, f, now)?;
            }
            self.tables.inbound_seen.tx_put(tx, &seen_key.to_string(), &InboundSeen { task: id, at: now })?;
            Ok(MailOutcome::Created(task))
        })
    }

    /// Refuses a message whose attachment no task file may be (too big for the
    /// per-file limit), before any bytes are stored.
    fn check_mail_files(&self, attachments: &[portalnet_inbound::Attachment]) -> PortalResult<()> {
        let limits = self.mail_file_limits();
        for (i, a) in attachments.iter().enumerate() {
            let name = mail_task::file_name(Some(&a.name), i, &limits);
            let size = u64::try_from(a.bytes.len()).unwrap_or(u64::MAX);
            task::check_file(&name, &mail_task::content_type(&a.content_type), size, &limits)?;
        }
        Ok(())
    }

    /// The portal's limits, with the per-file one at least what a message may carry.
    fn mail_file_limits(&self) -> portalnet_core::limits::Limits {
        let mut limits = self.limits().clone();
        limits.max_file_bytes = limits.max_file_bytes.max(mail_task::MAX_MAIL_BYTES);
        limits
    }

    /// The task a message (by its seen-key) acted on, if it came within the retention;
    /// an older record counts as gone even before the sweep removes it.
    fn seen(&self, tx: Option<&WriteTx<'_>>, key: &str, now: Timestamp) -> PortalResult<Option<u64>> {
        let rec = match tx {
            Some(tx) => self.tables.inbound_seen.tx_get(tx, &key.to_string())?,
            None => self.tables.inbound_seen.get(&key.to_string())?,
        };
        let retention = self.options.mail_limits.seen_retention_ms;
        Ok(rec.filter(|s| now.0.saturating_sub(s.at.0) < retention).map(|s| s.task))
    }

    /// Removes the records of received mail older than the retention; returns how many.
    /// Run by the node's mail sweep.
    pub fn sweep_seen(&self) -> PortalResult<usize> {
        let cutoff = self.now().0.saturating_sub(self.options.mail_limits.seen_retention_ms);
        let mut old = Vec::new();
        for kv in self.tables.inbound_seen.iter() {
            let (key, seen) = kv?;
            if seen.at.0 <= cutoff {
                old.push(key);
            }
        }
        // In slices, so that mail arriving meanwhile waits for no long write.
        for chunk in old.chunks(500) {
            self.tables.db.write(|tx| {
                for key in chunk {
                    // Re-read: a redelivery past the retention may have renewed it.
                    if self.tables.inbound_seen.tx_get(tx, key)?.is_some_and(|s| s.at.0 <= cutoff) {
                        self.tables.inbound_seen.tx_remove(tx, key);
                    }
                }
                Ok::<_, PortalError>(())
            })?;
        }
        Ok(old.len())
    }

    /// Posts a reply as the comment of the link's e-mail participant (R22).
    pub fn comment_from_mail(
        &self,
        access: &LinkAccess,
        rcpt: &str,
        msg: InboundMessage,
    ) -> PortalResult<MailOutcome> {
        let owner = portalnet_core::address::email_of(&access.link.participant).unwrap_or_default();
        let from = msg.from.as_deref().unwrap_or_default();
        if !from.eq_ignore_ascii_case(owner) {
            return Err(PortalError::Domain(Error::denied(text!("error-reply-from-other", from = from))));
        }
        let actor = access.actor();
        let stripped = portalnet_inbound::strip_reply(&msg.text);
        let now = self.now();
        let seen_key = seen_key(rcpt, &msg);
        let task_id = access.task.id;
        if let Some(task) = self.seen(None, &seen_key, now)? {
            return Ok(MailOutcome::Duplicate { task });
        }
        let link = access.link.id;
        self.check_reply_rate(task_id, link)?;
        let done = self.reply_comment(&access.link, &actor, &seen_key, &stripped, msg, now);
        if counts_against_sender(&done) {
            self.count_reply(task_id, link);
        }
        done
    }

    /// A comment written on the task page through a link: the same action as a
    /// reply by mail (R22), under the same limit per link, so neither way lets one
    /// link flood the task and its other e-mail participants' inboxes.
    pub fn comment_from_page(&self, access: &LinkAccess, text: &str) -> PortalResult<super::Commented> {
        let (task, link) = (access.task.id, access.link.id);
        self.check_reply_rate(task, link)?;
        let done = self.add_comment(&access.actor(), task, text);
        if matches!(&done, Ok(_) | Err(PortalError::Domain(_))) {
            self.count_reply(task, link);
        }
        done
    }

    /// The comment of [`Portal::comment_from_mail`], once the reply may be taken.
    fn reply_comment(
        &self,
        link: &portalnet_store::schema::TaskLinkRecord,
        actor: &Actor,
        seen_key: &str,
        stripped: &str,
        msg: InboundMessage,
        now: Timestamp,
    ) -> PortalResult<MailOutcome> {
        let limits = self.limits().clone();
        let task_id = link.task;
        // No task holds more files than this, so no more are stored.
        let (attachments, left_out) = kept_attachments(msg.attachments, limits.max_files_per_task);
        self.check_mail_files(&attachments)?;
        let files = self.store_attachments(attachments)?;
        self.write(|tx| {
            if let Some(task) = self.seen(Some(tx), seen_key, now)? {
                return Ok(MailOutcome::Duplicate { task });
            }
            let mut task = self.tx_task(tx, task_id)?;
            let rel = self.relation(actor, &task)?;
            let may_attach = authorize(rel, Action::Attach, task.id, task.status).is_ok();
            let mut text = stripped.to_string();
            if !may_attach && !files.is_empty() {
                let names: Vec<&str> = files.iter().map(|a| a.name.as_str()).collect();
                text.push_str(&format!(
                    "\n\n[attachments not kept: observers do not add files ({})]",
                    names.join(", ")
                ));
            }
            // What the task has room for is kept; the rest is said, not refused.
            let room = limits.max_files_per_task.saturating_sub(task.files.len()).min(files.len());
            if may_attach {
                text.push_str(&files_left_out_note(files.len() - room + left_out, &limits));
            }
            if text.trim().is_empty() {
                if files.is_empty() {
                    return Err(PortalError::Domain(Error::invalid(
                        "the reply has no text of its own: write above the quoted message",
                    )));
                }
                text = "(attached files)".to_string();
            }
            let before = task.clone();
            let comment_id = tx.next_id("comment")?;
            let body = mail_task::comment(&text, &limits);
            let (comment, change) =
                task::add_comment(&mut task, rel, &actor.login, &body, comment_id, &limits, now)?;
            self.tables.comments.tx_put(tx, &(task_id, comment_id), &comment)?;
            let extra =
                super::events::Extra { before: Some(&before), comment: Some(&comment), ..Default::default() };
            self.record(tx, &task, &actor.login, change, extra, now)?;
            if may_attach {
                for (i, f) in files.iter().enumerate().take(room) {
                    self.attach_from_mail(tx, &mut task, actor, i, f, now)?;
                }
            }
            self.tables.inbound_seen.tx_put(
                tx,
                &seen_key.to_string(),
                &InboundSeen { task: task_id, at: now },
            )?;
            Ok(MailOutcome::Commented(comment))
        })
    }

    /// Writes each attachment to the blob store (synced) before the write that
    /// names them, dropping its bytes as soon as they are stored, so a large
    /// message is not held twice. What the write then does not name (an
    /// observer's files, a refusal) is an orphan until the next start.
    fn store_attachments(
        &self,
        attachments: Vec<portalnet_inbound::Attachment>,
    ) -> PortalResult<Vec<MailFile>> {
        attachments
            .into_iter()
            .map(|a| {
                let blob = self.tables.blobs.put(&a.bytes)?;
                Ok(MailFile { name: a.name, content_type: a.content_type, blob })
            })
            .collect()
    }

    /// One attachment as a task file, recorded as its own change in the caller's write.
    fn attach_from_mail(
        &self,
        tx: &mut WriteTx<'_>,
        task: &mut Task,
        actor: &Actor,
        index: usize,
        a: &MailFile,
        now: Timestamp,
    ) -> PortalResult<()> {
        let limits = self.mail_file_limits();
        let before = task.clone();
        let rel = self.relation(actor, task)?;
        let file_id = tx.next_id("file")?;
        let meta = FileMeta {
            id: file_id,
            name: mail_task::file_name(Some(&a.name), index, &limits),
            content_type: mail_task::content_type(&a.content_type),
            size: a.blob.size,
            sha256: a.blob.sha256.clone(),
            uploaded_by: actor.login.clone(),
            uploaded_at: now,
        };
        let change = task::attach_file(task, rel, meta.clone(), &limits, now)?;
        self.tables.add_blob_ref(tx, &a.blob.sha256, task.id, file_id);
        let extra = super::events::Extra { before: Some(&before), file: Some(&meta), ..Default::default() };
        self.record(tx, task, &actor.login, change, extra, now)
    }

    /// Whether `addr` is one of this portal's own sending addresses (mail from
    /// it is dropped: a loop).
    pub fn own_mail_addresses(&self) -> Vec<String> {
        vec![self.options.mail_from.to_ascii_lowercase()]
    }
}

/// Whether what a message did counts against its sender's limits: a task made, a
/// reply posted, or a refusal by rule (the message was as much work, and as much a
/// flood, as one taken). A redelivery does not, nor a failure on our side
/// (storage), after which an honest server retries the same message.
fn counts_against_sender(done: &PortalResult<MailOutcome>) -> bool {
    matches!(done, Ok(MailOutcome::Created(_) | MailOutcome::Commented(_)) | Err(PortalError::Domain(_)))
}

/// The first `max` attachments (a task holds at most that many files, R19) and how
/// many were left out.
fn kept_attachments(
    mut attachments: Vec<portalnet_inbound::Attachment>,
    max: usize,
) -> (Vec<portalnet_inbound::Attachment>, usize) {
    let left_out = attachments.len().saturating_sub(max);
    attachments.truncate(max);
    (attachments, left_out)
}

/// Body → description, saying at its end how many attachments were not kept; the
/// body is cut shorter so that the note always fits.
fn description_with_note(text: &str, left_out: usize, limits: &portalnet_core::limits::Limits) -> String {
    let note = files_left_out_note(left_out, limits);
    if note.is_empty() || note.len() >= limits.max_description_bytes {
        return mail_task::description(text, limits);
    }
    let mut shorter = limits.clone();
    shorter.max_description_bytes = shorter.max_description_bytes.saturating_sub(note.len());
    format!("{}{note}", mail_task::description(text, &shorter))
}

/// Says how many attachments a task could not hold (nothing when none), in the
/// words of the other notes mail leaves in a task.
fn files_left_out_note(left_out: usize, limits: &portalnet_core::limits::Limits) -> String {
    if left_out == 0 {
        return String::new();
    }
    let files = if left_out == 1 { "attachment" } else { "attachments" };
    format!(
        "\n\n[{left_out} more {files} not kept: a task holds at most {} files]",
        limits.max_files_per_task
    )
}

/// What makes a delivery "the same message again": recipient, Message-ID and content.
fn seen_key(rcpt: &str, msg: &InboundMessage) -> String {
    let mut h = Sha256::new();
    h.update(rcpt.trim().to_ascii_lowercase().as_bytes());
    h.update([0]);
    h.update(msg.message_id.as_deref().unwrap_or_default().as_bytes());
    h.update([0]);
    h.update(msg.content_hash);
    hex::encode(h.finalize())
}
