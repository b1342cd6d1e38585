//! One lifecycle for every background loop of a node (the mailer, the directory
//! sync, one replication outbox worker per destination portal): a [`Worker`] does
//! a step of work at a time, [`run`] drives it, reports its state in the
//! portal's [`Workers`](portalnet_portal::workers::Workers) registry (`portalctl
//! portal workers`, `portal outbox`, the `portalnet_worker_*` metrics) and waits
//! out failures with the one [`Backoff`] policy.
//!
//! A failed step is temporary by definition (a rule's refusal is an outcome the
//! worker records, not a failure): it is retried after the backoff, on the
//! portal's clock (looked at least every second) or in real time, whichever is
//! first, so an injected clock moved ahead drives retries in tests as time does
//! in production, and one held still does not stall them.
//!
//! Stopping: [`run`] looks at the shutdown token between steps and while
//! waiting; a step itself is not dropped half-way (it may be committing), but
//! each worker races its own network I/O against shutdown, so a step ends
//! promptly. The node's lifecycle gives all its tasks one shared grace and then
//! aborts what is left before the final flush.

use crate::grpc::error::{NodeError, NodeResult};
use portalnet_core::{Clock, Timestamp};
use portalnet_portal::workers::Workers;
use rand::Rng;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a step of work left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// More may be waiting: work again at once.
    Busy,
    /// Nothing to do until [`Worker::wait_for_work`] says so.
    Idle,
    /// The worker is finished for good.
    Done,
}

/// A background loop of the node.
pub trait Worker: Send + 'static {
    /// The name the registry, logs and metrics use (`mailer`, `outbox:<portal>`).
    fn name(&self) -> String;

    /// One step of work. `Err` is a temporary failure, shown to the operator.
    fn work(&mut self) -> impl Future<Output = NodeResult<Step>> + Send;

    /// Resolves when there may be work again (a bell, a timer).
    fn wait_for_work(&mut self) -> impl Future<Output = ()> + Send;

    /// A problem the worker carries on with (one message of many could not be
    /// sent yet), shown as its last error and next try while it lasts.
    fn trouble(&self) -> Option<(String, Option<Timestamp>)> {
        None
    }

    /// Resolves when someone asks to retry at once, cutting a backoff short (a
    /// peer that says it is back). Never, by default.
    fn retry_now(&mut self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
}

/// The one retry policy: the wait before attempt `failures + 1` is
/// `min · 2^(failures-1)`, capped at `max`, then ±20 % jitter so nodes that lost
/// the same peer do not retry in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub min: Duration,
    pub max: Duration,
}

impl Backoff {
    /// `jitter` is clamped to ±0.2.
    pub fn delay(&self, failures: u32, jitter: f64) -> Duration {
        let exp = self.min.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
        exp.min(self.max).mul_f64((1.0 + jitter.clamp(-0.2, 0.2)).max(0.0))
    }

    /// [`Self::delay`] with random jitter.
    pub fn jittered(&self, failures: u32) -> Duration {
        self.delay(failures, rand::thread_rng().gen_range(-0.2..=0.2))
    }
}

/// Runs `worker` until `shutdown` (or until it is done), reporting its state in
/// `registry` and backing off by `backoff` after failed steps, on `clock`.
pub async fn run<W: Worker>(
    mut worker: W,
    registry: Arc<Workers>,
    clock: Arc<dyn Clock>,
    backoff: Backoff,
    shutdown: CancellationToken,
) {
    let name = worker.name();
    let mut failures = 0u32;
    while !shutdown.is_cancelled() {
        registry.busy(&name);
        match worker.work().await {
            Ok(step) => {
                failures = 0;
                registry.succeeded(&name);
                match step {
                    Step::Busy => continue,
                    Step::Done => break,
                    Step::Idle => {}
                }
                registry.idle(&name);
                if let Some((error, next_try)) = worker.trouble() {
                    registry.troubled(&name, &error, next_try);
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = worker.wait_for_work() => {}
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                let delay = backoff.jittered(failures);
                let due = clock.now().plus_millis(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
                tracing::warn!(worker = %name, %error, attempt = failures, retry_in_ms = delay.as_millis() as u64, "background work failed; will retry");
                registry.failed(&name, &error.to_string(), Some(due));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = until(clock.as_ref(), due, delay) => {}
                    _ = worker.retry_now() => {}
                }
            }
        }
    }
    registry.stopped(&name);
}

/// Runs `f` on tokio's blocking pool (storage, signing): a worker's step never
/// holds an async worker thread with them. A panic in `f` is an internal error.
pub async fn off_workers<T: Send + 'static>(
    f: impl FnOnce() -> NodeResult<T> + Send + 'static,
) -> NodeResult<T> {
    tokio::task::spawn_blocking(crate::trace_context::carried(f))
        .await
        .map_err(|e| NodeError::Internal(format!("blocking task failed: {e}")))?
}

/// Resolves at `due` on `clock` (looked at least every second), or once `delay`
/// has passed in real time, whichever comes first: a test's clock moved ahead
/// makes retries come sooner, and one that stands still does not stop them.
async fn until(clock: &dyn Clock, due: Timestamp, delay: Duration) {
    let on_clock = async {
        loop {
            let left = due.0.saturating_sub(clock.now().0);
            if left <= 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(left.min(1000) as u64)).await;
        }
    };
    tokio::select! {
        _ = on_clock => {}
        _ = tokio::time::sleep(delay) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use portalnet_portal::workers::WorkerState;

    /// Fails `fail` times, then has nothing to do; counts its steps.
    struct Flaky {
        fail: u32,
        steps: Arc<std::sync::atomic::AtomicU32>,
        bell: Arc<tokio::sync::Notify>,
    }

    impl Worker for Flaky {
        fn name(&self) -> String {
            "flaky".into()
        }
        async fn work(&mut self) -> NodeResult<Step> {
            self.steps.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.fail > 0 {
                self.fail -= 1;
                return Err(NodeError::Unavailable("peer unreachable".into()));
            }
            Ok(Step::Idle)
        }
        async fn wait_for_work(&mut self) {
            self.bell.notified().await
        }
    }

    async fn until_state(
        registry: &Workers,
        want: impl Fn(&portalnet_portal::workers::WorkerStatus) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if registry.list().iter().any(|(n, s)| n == "flaky" && want(s)) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "state not reached: {:?}", registry.list());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn failures_back_off_then_clear_and_stop_ends_the_loop() {
        let registry = Arc::new(Workers::default());
        let steps = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let bell = Arc::new(tokio::sync::Notify::new());
        let shutdown = CancellationToken::new();
        let backoff = Backoff { min: Duration::from_millis(1), max: Duration::from_millis(4) };
        let worker = Flaky { fail: 3, steps: steps.clone(), bell: bell.clone() };
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let task = tokio::spawn(run(worker, registry.clone(), clock, backoff, shutdown.clone()));
        // Three failures, then an idle worker whose error is over.
        until_state(&registry, |s| s.state == WorkerState::Idle && s.last_error.is_empty()).await;
        assert_eq!(steps.load(std::sync::atomic::Ordering::SeqCst), 4);
        bell.notify_one();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while steps.load(std::sync::atomic::Ordering::SeqCst) < 5 {
            assert!(tokio::time::Instant::now() < deadline, "the bell did not wake the worker");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), task).await.expect("stops").expect("no panic");
        assert_eq!(registry.list()[0].1.state, WorkerState::Stopped);
    }

    /// A clock that stands still (a test's) does not stall retries: real time ends
    /// the backoff too.
    #[tokio::test]
    async fn a_stopped_clock_does_not_stall_retries() {
        struct Still;
        impl Clock for Still {
            fn now(&self) -> Timestamp {
                Timestamp(1_764_547_200_000)
            }
        }
        let registry = Arc::new(Workers::default());
        let shutdown = CancellationToken::new();
        let backoff = Backoff { min: Duration::from_millis(10), max: Duration::from_millis(10) };
        let worker = Flaky { fail: 2, steps: Arc::default(), bell: Arc::default() };
        let task = tokio::spawn(run(worker, registry.clone(), Arc::new(Still), backoff, shutdown.clone()));
        until_state(&registry, |s| s.state == WorkerState::Idle && s.failures == 0).await;
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), task).await.expect("stops").expect("no panic");
    }

    #[tokio::test]
    async fn a_failing_worker_shows_its_error_and_next_try() {
        let registry = Arc::new(Workers::default());
        let shutdown = CancellationToken::new();
        // A long backoff: the worker stays backing off while we look.
        let backoff = Backoff { min: Duration::from_secs(600), max: Duration::from_secs(600) };
        let worker = Flaky { fail: 1, steps: Arc::default(), bell: Arc::default() };
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let task = tokio::spawn(run(worker, registry.clone(), clock, backoff, shutdown.clone()));
        until_state(&registry, |s| s.state == WorkerState::BackingOff).await;
        let s = registry.list()[0].1.clone();
        assert_eq!((s.last_error.as_str(), s.failures), ("peer unreachable", 1));
        assert!(s.next_try.is_some());
        // Stop does not wait out the backoff.
        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), task).await.expect("stops at once").expect("no panic");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let b = Backoff { min: Duration::from_millis(500), max: Duration::from_secs(300) };
        assert_eq!(b.delay(1, 0.0), b.min);
        assert_eq!(b.delay(2, 0.0), Duration::from_secs(1));
        assert_eq!(b.delay(5, 0.0), Duration::from_secs(8));
        for failures in [11, 20, 2016, u32::MAX] {
            assert!(b.delay(failures, 0.2) <= b.max.mul_f64(1.2));
            assert!(b.delay(failures, -0.2) >= b.max.mul_f64(0.8));
        }
        assert_eq!(b.delay(3, 5.0), Duration::from_secs(2).mul_f64(1.2), "jitter is clamped");
        let b = Backoff { min: Duration::from_secs(1), max: Duration::from_secs(10) };
        for _ in 0..100 {
            let d = b.jittered(1);
            assert!(d >= Duration::from_millis(800) && d <= Duration::from_millis(1200), "{d:?}");
        }
    }
}
