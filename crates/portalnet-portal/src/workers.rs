//! What each background worker of a portal is doing, for operators
//! (`portalctl portal workers`, `portal outbox`, `portalnet_worker_state`): the
//! node's worker runner reports the mailer's, the directory sync's and each
//! replication destination's state here as they go; reading it never waits on them.

use crate::metrics::Metrics;
use portalnet_core::Timestamp;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WorkerState {
    #[default]
    Idle,
    Busy,
    BackingOff,
    Stopped,
}

impl WorkerState {
    pub const ALL: [WorkerState; 4] =
        [WorkerState::Idle, WorkerState::Busy, WorkerState::BackingOff, WorkerState::Stopped];

    pub fn name(self) -> &'static str {
        match self {
            WorkerState::Idle => "idle",
            WorkerState::Busy => "busy",
            WorkerState::BackingOff => "backing_off",
            WorkerState::Stopped => "stopped",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct WorkerStatus {
    pub state: WorkerState,
    /// Empty once the worker succeeded again.
    pub last_error: String,
    /// When a backing-off worker tries again.
    pub next_try: Option<Timestamp>,
    /// Failures in a row.
    pub failures: u32,
}

/// Worker name (`mailer`, `directory-sync`, `outbox:<portal>`) → status.
#[derive(Default)]
pub struct Workers(Mutex<BTreeMap<String, WorkerStatus>>);

impl Workers {
    fn update(&self, name: &str, f: impl FnOnce(&mut WorkerStatus)) {
        if let Ok(mut m) = self.0.lock() {
            f(m.entry(name.to_string()).or_default());
        }
    }

    /// The worker is waiting for work.
    pub fn idle(&self, name: &str) {
        self.update(name, |s| {
            s.state = WorkerState::Idle;
            s.next_try = None;
        });
    }

    /// The worker is working.
    pub fn busy(&self, name: &str) {
        self.update(name, |s| s.state = WorkerState::Busy);
    }

    /// The last round succeeded: errors are over.
    pub fn succeeded(&self, name: &str) {
        self.update(name, |s| {
            s.last_error.clear();
            s.failures = 0;
            s.next_try = None;
        });
    }

    /// The worker goes on, but part of its work waits to be tried again (a
    /// message the relay deferred): the error and next try stay visible.
    pub fn troubled(&self, name: &str, error: &str, next_try: Option<Timestamp>) {
        self.update(name, |s| {
            s.last_error = error.to_string();
            s.next_try = next_try;
        });
    }

    /// The last round failed; the worker waits until `next_try`.
    pub fn failed(&self, name: &str, error: &str, next_try: Option<Timestamp>) {
        self.update(name, |s| {
            s.state = WorkerState::BackingOff;
            s.last_error = error.to_string();
            s.failures = s.failures.saturating_add(1);
            s.next_try = next_try;
        });
    }

    pub fn stopped(&self, name: &str) {
        self.update(name, |s| {
            s.state = WorkerState::Stopped;
            s.next_try = None;
        });
    }

    pub fn get(&self, name: &str) -> Option<WorkerStatus> {
        self.0.lock().ok().and_then(|m| m.get(name).cloned())
    }

    pub fn list(&self) -> Vec<(String, WorkerStatus)> {
        self.0.lock().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
    }

    /// `portalnet_worker_state{worker, state}` (1 for the current state, 0 for the
    /// others) and `portalnet_worker_failures{worker}`.
    pub fn export(&self, m: &Metrics) {
        for (name, s) in self.list() {
            for st in WorkerState::ALL {
                let v = if st == s.state { 1.0 } else { 0.0 };
                m.set("portalnet_worker_state", &[("worker", &name), ("state", st.name())], v);
            }
            m.set("portalnet_worker_failures", &[("worker", &name)], f64::from(s.failures));
        }
    }
}
