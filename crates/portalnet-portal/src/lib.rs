//! The portal's operations: each takes the acting user, checks the domain rules in
//! `core`, and commits its whole effect in one storage write. It knows no transport
//! (no tonic, axum or proto: a tidy test checks the manifest): the node's gRPC,
//! web and mail adapters convert and call these; tests may call them directly.

mod auth;
mod cross_portal;
pub mod error;
mod events;
mod groups;
mod invites;
mod mail_in;
mod mail_limits;
mod mail_links;
mod mail_out;
pub mod metrics;
mod network;
pub mod paging;
mod proposals;
pub mod replica;
mod reports;
mod tasks;
pub mod trace;
mod users;
mod verify;
pub mod workers;

pub use auth::{actor_of, hash_token, init_portal, new_token};
pub use cross_portal::{Network, PROPOSAL_WAIT};
pub use error::{ErrorKind, PortalError, PortalResult};
pub use invites::{Accepted, Invited};
pub use mail_in::{MailOutcome, MailTarget};
pub use mail_limits::MailLimits;
pub use mail_links::LinkAccess;
pub use network::{DIRECTORY_CHANGES, DIRECTORY_PUBLISHED};
pub use portalnet_store::replication::RefusalKind;
pub use replica::{InEvent, InItem, InProposal, Outcome, Refused};
pub use reports::TaskReport;
pub use tasks::{Attached, Commented, StatusSet, TaskFilter};
pub use users::UserPatch;
pub use verify::VerifyReport;

use portalnet_core::error::text;
use portalnet_core::group::Group;
use portalnet_core::permissions::{Actor, Relation};
use portalnet_core::settings::PortalSettings;
use portalnet_core::task::Task;
use portalnet_core::user::User;
use portalnet_core::user::UserKind;
use portalnet_core::{Clock, Error, Timestamp};
use portalnet_store::schema::Tables;
use std::collections::BTreeSet;
use std::sync::Arc;

pub struct Portal {
    pub tables: Tables,
    pub clock: Arc<dyn Clock>,
    /// As stored at start; the plan's seat count is read from storage when needed.
    pub settings: PortalSettings,
    pub options: PortalOptions,
    /// Woken after a write that queued e-mail.
    pub mail_wake: Arc<tokio::sync::Notify>,
    /// Set inside a write that queued e-mail; [`Portal::write`] rings `mail_wake`
    /// after the commit (ringing before it, the mailer could look too early and
    /// sleep with the message queued).
    pub(crate) mail_queued: std::sync::atomic::AtomicBool,
    /// Woken after a write that the Network directory must learn of.
    pub directory_wake: Arc<tokio::sync::Notify>,
    /// Portals with new replication outbox entries, and the bell that says so.
    pub fed: Arc<FedSignal>,
    /// Rung after every write that changed replicated state or a proposal.
    pub replica_changed: Arc<tokio::sync::Notify>,
    /// Tasks made by mail lately, for the senders' limits.
    pub(crate) mail_rate: mail_limits::MailRate,
    /// This node's metrics (disabled unless [`Portal::with_metrics`]).
    pub metrics: crate::metrics::Metrics,
    /// What the background workers are doing.
    pub workers: Arc<crate::workers::Workers>,
    /// False while storage is failing (the last flush failed): health says
    /// NOT_SERVING until a flush succeeds again.
    pub storage_ok: tokio::sync::watch::Sender<bool>,
    /// Unix ms since a change of people has waited for the directory (0: none).
    pub directory_pending_since: std::sync::atomic::AtomicI64,
    /// Tests: make the next flushes fail.
    fail_flushes: std::sync::atomic::AtomicBool,
}

/// Tells the replication workers which destinations got new outbox entries. Writes
/// mark destinations inside the transaction; [`Portal::write`] rings after commit.
#[derive(Default)]
pub struct FedSignal {
    dirty: std::sync::Mutex<BTreeSet<String>>,
    pub bell: tokio::sync::Notify,
}

impl FedSignal {
    pub(crate) fn mark(&self, portal: &str) {
        if let Ok(mut d) = self.dirty.lock() {
            d.insert(portal.to_string());
        }
    }

    /// The destinations marked since the last call.
    pub fn take(&self) -> BTreeSet<String> {
        self.dirty.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or_default()
    }
}

/// Run-time settings from the node's configuration.
#[derive(Debug, Clone)]
pub struct PortalOptions {
    /// How long an invitation stays valid.
    pub invite_ttl_ms: i64,
    /// Base URL of the portal's web pages, for links in e-mail.
    pub web_url: String,
    /// The address portal e-mail comes from.
    pub mail_from: String,
    /// The key this portal signs task events with (its identity key).
    pub signing_key: ed25519_dalek::SigningKey,
    /// Delay between switching the network on and cross-portal tasks (R15).
    pub activation_delay_ms: i64,
    /// The domain of task addresses and reply addresses (R18, R22).
    pub mail_domain: String,
    /// Senders' limits and how long received mail is remembered.
    pub mail_limits: MailLimits,
    /// The portal's language: of its e-mail and of pages when the browser asks for none we have.
    pub language: portalnet_mail::Lang,
}

impl Portal {
    /// Opens a portal whose storage `portald init` has prepared.
    pub fn open(tables: Tables, clock: Arc<dyn Clock>, options: PortalOptions) -> PortalResult<Self> {
        let settings = tables
            .portal_settings()?
            .ok_or_else(|| PortalError::Domain(Error::precondition(text!("error-no-portal"))))?;
        Ok(Self {
            tables,
            clock,
            settings,
            options,
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            mail_queued: std::sync::atomic::AtomicBool::new(false),
            directory_wake: Arc::new(tokio::sync::Notify::new()),
            fed: Arc::new(FedSignal::default()),
            replica_changed: Arc::new(tokio::sync::Notify::new()),
            mail_rate: mail_limits::MailRate::default(),
            metrics: crate::metrics::Metrics::disabled(),
            workers: Arc::new(crate::workers::Workers::default()),
            storage_ok: tokio::sync::watch::Sender::new(true),
            directory_pending_since: std::sync::atomic::AtomicI64::new(0),
            fail_flushes: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// A moment as `lang` writes it (UTC).
    pub fn datetime(&self, lang: portalnet_mail::Lang, t: portalnet_core::Timestamp) -> String {
        datetime(lang, t)
    }

    /// The portal records into `metrics`.
    pub fn with_metrics(mut self, metrics: crate::metrics::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Fault injection for tests: while set, every flush fails as a full disk would.
    #[doc(hidden)]
    pub fn fail_flushes_for_test(&self, fail: bool) {
        self.fail_flushes.store(fail, std::sync::atomic::Ordering::SeqCst);
    }

    /// Seconds a change of people has waited to reach the directory (0: in step).
    pub fn directory_lag_secs(&self) -> f64 {
        let since = self.directory_pending_since.load(std::sync::atomic::Ordering::Relaxed);
        if since == 0 { 0.0 } else { (self.now().0 - since).max(0) as f64 / 1000.0 }
    }

    pub fn portal_id(&self) -> &str {
        &self.settings.portal_id
    }

    /// One storage write; afterwards wakes the replication workers of every
    /// destination the write queued something for, and anyone waiting on replicas.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut portalnet_store::WriteTx<'_>) -> PortalResult<T>,
    ) -> PortalResult<T> {
        let r = self.tables.db.write(f);
        if self.mail_queued.swap(false, std::sync::atomic::Ordering::AcqRel) {
            self.mail_wake.notify_one();
        }
        self.fed.bell.notify_one();
        self.replica_changed.notify_waiters();
        r
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn limits(&self) -> &portalnet_core::limits::Limits {
        &self.settings.limits
    }

    /// Makes committed writes survive a killed process; called before answering.
    /// A failed flush marks storage as failing (health: NOT_SERVING) until one succeeds.
    /// The flush is shared with concurrent writers (group commit, [`portalnet_store::Db::sync`]).
    pub async fn durable(&self) -> PortalResult<()> {
        let ticket = self.tables.db.ticket();
        let db = self.tables.db.clone();
        let started = std::time::Instant::now();
        let r = if self.flushes_fail() {
            Err(PortalError::Internal("flush failed (injected by a test)".into()))
        } else {
            match tokio::task::spawn_blocking(move || db.sync_ticket(ticket)).await {
                Ok(r) => r.map_err(PortalError::from),
                Err(e) => Err(PortalError::Internal(format!("flush task failed: {e}"))),
            }
        };
        self.flushed(started, r)
    }

    /// [`Portal::durable`] on a blocking thread: waits until the writes committed
    /// before `ticket` was taken survive a killed process.
    pub fn durable_blocking(&self, ticket: portalnet_store::FlushTicket) -> PortalResult<()> {
        let started = std::time::Instant::now();
        let r = if self.flushes_fail() {
            Err(PortalError::Internal("flush failed (injected by a test)".into()))
        } else {
            self.tables.db.sync_ticket(ticket).map_err(PortalError::from)
        };
        self.flushed(started, r)
    }

    /// Runs `op` (a portal operation that writes) and waits until what it committed
    /// is durable. Blocking: call it on a blocking thread, never on an async worker.
    /// Nothing waits for a flush when `op` fails (a failed write commits nothing).
    pub fn write_durably<T>(&self, op: impl FnOnce(&Portal) -> PortalResult<T>) -> PortalResult<T> {
        let out = op(self)?;
        // Taken after the commit, on the thread that made it.
        let ticket = self.tables.db.ticket();
        self.durable_blocking(ticket)?;
        Ok(out)
    }

    /// [`Portal::write_durably`] on tokio's blocking pool: what async code calls
    /// for an operation that writes, so no async worker commits or waits for a flush.
    pub async fn write_off_workers<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&Portal) -> PortalResult<T> + Send + 'static,
    ) -> PortalResult<T> {
        let portal = self.clone();
        tokio::task::spawn_blocking(crate::trace::carried(move || portal.write_durably(op)))
            .await
            .map_err(|e| PortalError::Internal(format!("storage task failed: {e}")))?
    }

    fn flushes_fail(&self) -> bool {
        self.fail_flushes.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Records a flush's latency and outcome, and storage health.
    fn flushed(&self, started: std::time::Instant, r: PortalResult<()>) -> PortalResult<()> {
        self.metrics.observe(
            "portalnet_storage_flush_duration_seconds",
            &[],
            started.elapsed().as_secs_f64(),
        );
        if r.is_err() {
            self.metrics.inc("portalnet_storage_flush_failures_total", &[]);
        }
        self.storage_ok.send_if_modified(|ok| std::mem::replace(ok, r.is_ok()) != r.is_ok());
        r
    }

    fn user(&self, login: &str) -> PortalResult<User> {
        self.tables.users.get(&login.to_string())?.ok_or_else(|| {
            PortalError::Domain(Error::not_found(text!("error-user-not-found", login = login)))
        })
    }

    fn group(&self, id: u64) -> PortalResult<Group> {
        self.tables
            .groups
            .get(&id)?
            .ok_or_else(|| PortalError::Domain(Error::not_found(text!("error-group-not-found", group = id))))
    }

    /// How `actor` relates to `task` (group membership is looked up here).
    pub(crate) fn relation(&self, actor: &Actor, task: &Task) -> PortalResult<Relation> {
        let in_group = match task.group {
            Some(g) => self.tables.groups.get(&g)?.is_some_and(|g| g.is_member(&actor.login)),
            None => false,
        };
        Ok(Relation::of(actor, task, in_group))
    }
}

impl Portal {
    /// Notes, inside a write, that the directory must learn of a change of people;
    /// the directory sync publishes after the commit.
    pub(crate) fn directory_changed(&self, tx: &mut portalnet_store::WriteTx<'_>) -> PortalResult<()> {
        let key = DIRECTORY_CHANGES.to_string();
        let n = self.tables.counters.tx_get(tx, &key)?.unwrap_or(0);
        self.tables.counters.tx_put(tx, &key, &(n + 1))?;
        Ok(())
    }

    /// The plan's seat limit as stored now (it changes at run time).
    pub(crate) fn seats(&self, tx: &portalnet_store::WriteTx<'_>) -> PortalResult<u32> {
        Ok(self
            .tables
            .settings
            .tx_get(tx, &portalnet_store::schema::SETTINGS_KEY.to_string())?
            .map_or(0, |s| s.seats))
    }

    /// Logins an extranet user may see: the members of their groups (R7, R12).
    /// `None` for employees, who see everyone.
    pub(crate) fn visible_logins(&self, actor: &Actor) -> PortalResult<Option<BTreeSet<String>>> {
        if actor.kind != UserKind::Extranet {
            return Ok(None);
        }
        let mut out = BTreeSet::from([actor.login.clone()]);
        for id in self.tables.groups_of(&actor.login)? {
            if let Some(g) = self.tables.groups.get(&id)? {
                out.extend(g.members.keys().cloned());
            }
        }
        Ok(Some(out))
    }
}

fn require_admin(actor: &Actor, what: &str) -> PortalResult<()> {
    if actor.admin {
        Ok(())
    } else {
        Err(PortalError::Domain(Error::denied(text!("error-admins-only", what = what))))
    }
}

/// Least information: what describes the portal as a whole (its plan, its Network
/// settings) is for its employees; extranet users see only their groups (R12).
pub fn require_employee(actor: &Actor, what: &str) -> PortalResult<()> {
    if actor.kind == UserKind::Extranet {
        Err(PortalError::Domain(Error::denied(text!("error-employees-only", what = what))))
    } else {
        Ok(())
    }
}

/// A moment as `lang` writes it (UTC).
pub(crate) fn datetime(lang: portalnet_mail::Lang, t: portalnet_core::Timestamp) -> String {
    let (year, month, day, hour, minute) = t.utc_parts();
    portalnet_mail::i18n::datetime(lang, portalnet_mail::DateTime { year, month, day, hour, minute })
}
