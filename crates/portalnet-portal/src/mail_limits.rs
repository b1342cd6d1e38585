//! Limits on mail in: how many tasks one sender may make through one task address,
//! and one task address from everyone, per window (a 4xx refusal past them, so an
//! honest server retries later), and how long a received message is remembered
//! for duplicate detection. Counts are kept in memory: a restart forgets them,
//! which only ever lets mail through.
//!
//! The limits guard an address (and the portal behind it) against a flood, so
//! what counts is every new message the portal worked on: a task made, and a
//! message refused by a rule (5xx) too — otherwise a sender could repeat a
//! refused message without end. A redelivery of mail already taken does not
//! count, nor a failure on the portal's side, after which the sender retries.

use super::Portal;
use crate::error::{PortalError, PortalResult};
use portalnet_core::Timestamp;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The limits, from `[mail]` in `portald.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// Tasks one sender (envelope `MAIL FROM`) may create through one task address per window.
    pub tasks_per_sender: u32,
    /// Tasks one task address may receive per window, from all senders together.
    pub tasks_per_address: u32,
    /// Replies one e-mail participant's link may post per window. A bound on mail
    /// loops: two auto-responders that ignore `Auto-Submitted` (RFC 3834) on one
    /// task would otherwise answer each other's notices without end.
    pub replies_per_link: u32,
    pub window_ms: i64,
    /// How long a received message is remembered, so that a redelivery does nothing.
    pub seen_retention_ms: i64,
}

impl MailLimits {
    pub const DEFAULT_TASKS_PER_SENDER: u32 = 20;
    pub const DEFAULT_TASKS_PER_ADDRESS: u32 = 200;
    pub const DEFAULT_REPLIES_PER_LINK: u32 = 60;
    pub const DEFAULT_WINDOW_SECS: u64 = 3600;
    pub const DEFAULT_SEEN_RETENTION_DAYS: u32 = 30;
}

impl Default for MailLimits {
    fn default() -> Self {
        Self {
            tasks_per_sender: Self::DEFAULT_TASKS_PER_SENDER,
            tasks_per_address: Self::DEFAULT_TASKS_PER_ADDRESS,
            replies_per_link: Self::DEFAULT_REPLIES_PER_LINK,
            window_ms: Self::DEFAULT_WINDOW_SECS as i64 * 1000,
            seen_retention_ms: i64::from(Self::DEFAULT_SEEN_RETENTION_DAYS) * 86_400_000,
        }
    }
}

/// When tasks were made by mail lately, per key: `a\0<owner>` and
/// `s\0<owner>\0<sender>`; replies per link: `r\0<task>\0<link>`.
#[derive(Default)]
pub struct MailRate {
    recent: Mutex<HashMap<String, VecDeque<Timestamp>>>,
}

/// Past this many keys, keys with nothing in the window are dropped.
const TIDY_KEYS: usize = 10_000;

impl MailRate {
    fn keys(owner: &str, sender: &str) -> [String; 2] {
        [format!("a\0{owner}"), format!("s\0{owner}\0{}", sender.trim().to_ascii_lowercase())]
    }
}

impl Portal {
    /// Refuses (for now) a new task by mail from `sender` to `owner`'s address when
    /// either limit is reached within the window ending now.
    pub(crate) fn check_mail_rate(&self, owner: &str, sender: &str) -> PortalResult<()> {
        let l = self.options.mail_limits;
        let now = self.now();
        let mut recent =
            self.mail_rate.recent.lock().map_err(|_| PortalError::Internal("mail rate lock".into()))?;
        let [addr_key, sender_key] = MailRate::keys(owner, sender);
        let mut count = |key: &str| in_window(&mut recent, key, now, l.window_ms);
        let mins = l.window_ms.div_euclid(60_000).max(1);
        if count(&sender_key) >= l.tasks_per_sender as usize {
            return Err(PortalError::RateLimited(format!(
                "too many messages from {sender} to this address: at most {} new messages in {mins} min; try again later",
                l.tasks_per_sender
            )));
        }
        if count(&addr_key) >= l.tasks_per_address as usize {
            return Err(PortalError::RateLimited(format!(
                "this address has received too many messages: at most {} new messages in {mins} min; try again later",
                l.tasks_per_address
            )));
        }
        Ok(())
    }

    /// Counts a message to a task address: a task made, or a refusal by rule.
    pub(crate) fn count_mail_task(&self, owner: &str, sender: &str) {
        self.count_mail(&MailRate::keys(owner, sender));
    }

    /// Refuses (for now) a reply through link `link` of task `task` when the link
    /// posted [`MailLimits::replies_per_link`] within the window ending now.
    pub(crate) fn check_reply_rate(&self, task: u64, link: u64) -> PortalResult<()> {
        let l = self.options.mail_limits;
        let now = self.now();
        let mut recent =
            self.mail_rate.recent.lock().map_err(|_| PortalError::Internal("mail rate lock".into()))?;
        let n = in_window(&mut recent, &reply_key(task, link), now, l.window_ms);
        if n >= l.replies_per_link as usize {
            let mins = l.window_ms.div_euclid(60_000).max(1);
            return Err(PortalError::RateLimited(format!(
                "too many replies to this task from this address: at most {} in {mins} min; try again later",
                l.replies_per_link
            )));
        }
        Ok(())
    }

    /// Counts a reply through a link: a comment posted, or a refusal by rule.
    pub(crate) fn count_reply(&self, task: u64, link: u64) {
        self.count_mail(&[reply_key(task, link)]);
    }

    fn count_mail(&self, keys: &[String]) {
        let now = self.now();
        let window = self.options.mail_limits.window_ms;
        let Ok(mut recent) = self.mail_rate.recent.lock() else { return };
        if recent.len() > TIDY_KEYS {
            recent.retain(|_, q| q.back().is_some_and(|t| t.0 > now.0 - window));
        }
        for key in keys {
            recent.entry(key.clone()).or_default().push_back(now);
        }
    }
}

/// How many times `key` was counted within the window ending `now`; older ones go.
fn in_window(
    recent: &mut HashMap<String, VecDeque<Timestamp>>,
    key: &str,
    now: Timestamp,
    window_ms: i64,
) -> usize {
    recent.get_mut(key).map_or(0, |q| {
        while q.front().is_some_and(|t| t.0 <= now.0 - window_ms) {
            q.pop_front();
        }
        q.len()
    })
}

fn reply_key(task: u64, link: u64) -> String {
    format!("r\0{task}\0{link}")
}
