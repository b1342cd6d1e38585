//! E-mail participants' links and notifications (R21–R23).
//!
//! Each e-mail participant of a task homed here gets one *link*: a secret token
//! (160 random bits) that opens the task page `<web url>/t/<token>` and is the
//! reply address `reply+<token>@<mail domain>`. It grants that task, as that
//! person, and nothing else. Removing the person from the task revokes it;
//! `portalctl mail link revoke` revokes it while they stay on the task, and then no
//! more mail goes to them for this task (naming them again issues a new link).
//!
//! Notices are queued in the same write as the change they tell of (the mail
//! outbox), in one thread per task and person: the first notice's Message-ID is
//! the thread root, later ones carry `In-Reply-To`/`References` to it.

use super::Portal;
use crate::error::{PortalError, PortalResult};
use portalnet_core::address::{self, email_of};
use portalnet_core::error::text;
use portalnet_core::permissions::{Action, Actor, authorize};
use portalnet_core::task::{Change, Comment, Task};
use portalnet_core::{Error, Timestamp};
use portalnet_mail::{NoticeKind, TaskNotice, task_notice};
use portalnet_store::WriteTx;
use portalnet_store::schema::{LinkRef, TaskLinkRecord};
use rand::RngCore;

/// A fresh secret for an address or link: 160 random bits as 32 lowercase base32
/// characters (mail servers may lowercase the local part, so no upper case).
pub(crate) fn mail_token() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bytes = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut out = String::with_capacity(32);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    out
}

/// Whether `s` looks like a token [`mail_token`] makes (checked before any lookup).
pub(crate) fn is_token(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

/// What the task page and a reply act with: the link and its task.
#[derive(Debug, Clone)]
pub struct LinkAccess {
    pub link: TaskLinkRecord,
    pub task: Task,
}

impl LinkAccess {
    /// The e-mail participant as an actor on the task.
    pub fn actor(&self) -> Actor {
        Actor {
            login: self.link.participant.clone(),
            admin: false,
            kind: portalnet_core::user::UserKind::Employee,
        }
    }
}

impl Portal {
    pub fn mail_domain(&self) -> &str {
        &self.options.mail_domain
    }

    /// The reply address of a link.
    pub fn reply_address(&self, token: &str) -> String {
        format!("reply+{token}@{}", self.mail_domain())
    }

    /// Where task pages live (`<web url>/t`), or empty when the portal serves no
    /// web pages.
    pub fn task_page_base(&self) -> String {
        if self.options.web_url.is_empty() { String::new() } else { format!("{}/t", self.options.web_url) }
    }

    /// The task page of a link, or empty when the portal serves no web pages.
    pub fn page_url(&self, token: &str) -> String {
        let base = self.task_page_base();
        if base.is_empty() { base } else { format!("{base}/{token}") }
    }

    /// The link `token` opens, if it is live: not revoked, its task still here and
    /// its person still on the task.
    pub fn link_access(&self, token: &str) -> PortalResult<LinkAccess> {
        let unknown = || PortalError::Domain(Error::not_found(text!("error-link-unknown")));
        if !is_token(token) {
            return Err(unknown());
        }
        let r = self.tables.task_link_tokens.get(&token.to_string())?.ok_or_else(unknown)?;
        let link = self.tables.task_links.get(&(r.task, r.link))?.ok_or_else(unknown)?;
        if link.revoked {
            return Err(PortalError::Domain(Error::denied(text!("error-link-revoked"))));
        }
        let task = self.tables.tasks.get(&r.task)?.ok_or_else(unknown)?;
        if !task.participants().contains(&link.participant.as_str()) {
            return Err(PortalError::Domain(Error::denied(text!("error-link-left"))));
        }
        Ok(LinkAccess { link, task })
    }

    /// The links of a task, for those who may see it: who takes part by e-mail is
    /// on the task already. The records hold the tokens: callers that answer a
    /// person (the gRPC view) leave them out. Revoking takes the creator or an admin.
    pub fn task_links(&self, actor: &Actor, task_id: u64) -> PortalResult<Vec<TaskLinkRecord>> {
        let task = self.task(task_id)?;
        authorize(self.relation(actor, &task)?, Action::View, task_id, task.status)?;
        Ok(self
            .tables
            .task_links
            .scan_raw(&task_id.to_be_bytes())
            .map(|kv| kv.map(|(_, l)| l))
            .collect::<Result<_, _>>()?)
    }

    /// One page of a task's e-mail participants' links.
    pub fn task_links_page(
        &self,
        actor: &Actor,
        task_id: u64,
        page: &crate::paging::PageReq,
    ) -> PortalResult<crate::paging::Page<TaskLinkRecord>> {
        let task = self.task(task_id)?;
        authorize(self.relation(actor, &task)?, Action::View, task_id, task.status)?;
        page.collect(crate::paging::table_rows(&self.tables.task_links, &task_id.to_be_bytes(), page))
    }

    /// Revokes the live link of `email` on a task: its creator or an admin may.
    pub fn revoke_link(&self, actor: &Actor, task_id: u64, email: &str) -> PortalResult<TaskLinkRecord> {
        let participant =
            address::participant("address", &format!("mailto:{}", email.trim_start_matches("mailto:")))?;
        self.write(|tx| {
            let task = self.tx_task(tx, task_id)?;
            authorize(self.relation(actor, &task)?, Action::Edit, task_id, task.status)?;
            let mut link =
                self.link_of(tx, task_id, &participant)?.filter(|l| !l.revoked).ok_or_else(|| {
                    PortalError::Domain(Error::not_found(text!(
                        "error-no-live-link",
                        task = task_id,
                        participant = participant
                    )))
                })?;
            link.revoked = true;
            self.tables.task_links.tx_put(tx, &(task_id, link.id), &link)?;
            Ok(link)
        })
    }

    /// The newest link of `participant` on a task.
    fn link_of(
        &self,
        tx: &WriteTx<'_>,
        task: u64,
        participant: &str,
    ) -> PortalResult<Option<TaskLinkRecord>> {
        let mut found = None;
        for kv in self.tables.task_links.scan_raw(&task.to_be_bytes()) {
            let (_, l) = kv?;
            if l.participant == participant {
                found = Some(l);
            }
        }
        // Written in this transaction but not yet visible to a scan: re-read by key.
        match found {
            Some(l) => Ok(self.tables.task_links.tx_get(tx, &(task, l.id))?.or(Some(l))),
            None => Ok(None),
        }
    }

    fn new_link(
        &self,
        tx: &mut WriteTx<'_>,
        task: u64,
        participant: &str,
        now: Timestamp,
    ) -> PortalResult<TaskLinkRecord> {
        let id = tx.next_id("task_link")?;
        let link = TaskLinkRecord {
            id,
            task,
            participant: participant.to_string(),
            token: mail_token(),
            created_at: now,
            revoked: false,
            notices_sent: 0,
        };
        self.tables.task_links.tx_put(tx, &(task, id), &link)?;
        self.tables.task_link_tokens.tx_put(tx, &link.token, &LinkRef { task, link: id })?;
        Ok(link)
    }

    /// Inside the write of a change to a task homed here: revokes the links of
    /// e-mail participants it removed and queues a notice for every one it concerns.
    pub(crate) fn mail_notices(
        &self,
        tx: &mut WriteTx<'_>,
        task: &Task,
        actor: &str,
        change: &Change,
        extra: super::events::Extra<'_>,
        now: Timestamp,
    ) -> PortalResult<()> {
        let (before, comment) = (extra.before, extra.comment);
        let now_in = address::email_participants(task);
        let was_in = before.map(address::email_participants).unwrap_or_default();
        for gone in was_in.iter().filter(|p| !now_in.contains(p)) {
            if let Some(mut l) = self.link_of(tx, task.id, gone)?.filter(|l| !l.revoked) {
                l.revoked = true;
                self.tables.task_links.tx_put(tx, &(task.id, l.id), &l)?;
            }
        }
        if now_in.is_empty() {
            return Ok(());
        }
        let by = self.display_name(actor)?;
        // E-mail participants have no account to hold a language: the portal's is theirs.
        let lang = self.options.language;
        let date = |t: Timestamp| self.datetime(lang, t);
        for p in now_in {
            if p == actor {
                continue;
            }
            let added = !was_in.contains(&p);
            let kind = if added {
                Some(NoticeKind::Added {
                    role: role_of(task, p).to_string(),
                    by: by.clone(),
                    description: task.description.clone(),
                    status: portalnet_mail::i18n::status_name(lang, task.status.name()),
                    deadline: task.deadline.map(date),
                    files: task.files.len(),
                })
            } else {
                notice_of(task, before, change, comment, &by, |a| self.display_name(a), lang)?
            };
            let Some(kind) = kind else { continue };
            let mut link = match self.link_of(tx, task.id, p)? {
                Some(l) if !l.revoked => l,
                // Revoked while they stayed on the task: they get nothing more.
                Some(_) if !added => continue,
                _ => self.new_link(tx, task.id, p, now)?,
            };
            let Some(to) = email_of(p) else { continue };
            let domain = self.mail_domain().to_string();
            let message_id = format!("t{}.l{}.{}@{domain}", task.id, link.id, link.notices_sent);
            let notice = TaskNotice {
                portal_name: &self.settings.display_name,
                from: &self.options.mail_from,
                to,
                reply_to: &self.reply_address(&link.token),
                page_url: &self.page_url(&link.token),
                task_title: &task.title,
                kind,
                message_id,
                thread_root: format!("t{}.l{}.0@{domain}", task.id, link.id),
                lang,
            };
            self.enqueue_mail(tx, &task_notice(&notice))?;
            link.notices_sent = link.notices_sent.saturating_add(1);
            self.tables.task_links.tx_put(tx, &(task.id, link.id), &link)?;
        }
        Ok(())
    }

    /// A person as mail shows them: a local user's name, else their address.
    pub fn display_name(&self, p: &str) -> PortalResult<String> {
        if let Some(e) = email_of(p) {
            return Ok(e.to_string());
        }
        if address::split(p).1.is_some() {
            return Ok(p.to_string());
        }
        Ok(self.tables.users.get(&p.to_string())?.map_or_else(|| p.to_string(), |u| u.display_name))
    }
}

fn role_of(task: &Task, p: &str) -> &'static str {
    if task.responsible == p {
        "responsible"
    } else if task.accomplices.iter().any(|a| a == p) {
        "co-executor"
    } else {
        "observer"
    }
}

/// The notice a change makes for someone already on the task, if any: comments,
/// status and deadline changes (the list; edits of other fields are not
/// mailed).
fn notice_of(
    task: &Task,
    before: Option<&Task>,
    change: &Change,
    comment: Option<&Comment>,
    by: &str,
    name: impl Fn(&str) -> PortalResult<String>,
    lang: portalnet_mail::Lang,
) -> PortalResult<Option<NoticeKind>> {
    let date = |t: Timestamp| super::datetime(lang, t);
    let status = |s: portalnet_core::task::TaskStatus| portalnet_mail::i18n::status_name(lang, s.name());
    Ok(match change {
        Change::Comment { .. } => match comment {
            Some(c) => Some(NoticeKind::Comment { author: name(&c.author)?, text: c.text.clone() }),
            None => None,
        },
        Change::Status { from, to } => {
            Some(NoticeKind::Status { from: status(*from), to: status(*to), by: by.to_string() })
        }
        Change::Updated { fields } if fields.iter().any(|f| f.field == "deadline") => {
            Some(NoticeKind::Deadline {
                from: before.and_then(|b| b.deadline).map(date),
                to: task.deadline.map(date),
                by: by.to_string(),
            })
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_lowercase_and_distinct() {
        let a = super::mail_token();
        assert!(super::is_token(&a), "{a}");
        assert_ne!(a, super::mail_token());
        assert!(!super::is_token("ABC"));
    }
}
