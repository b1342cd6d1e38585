//! The tasks a node runs — its servers, listeners and background workers — and how
//! they end. Each task has a name. On shutdown they all get one grace period
//! together, then what is left is aborted and reaped, so the node's final flush
//! comes after the last of them. A task that ends while the node is running (an
//! error, a panic, or a server that simply returned) is a death: the node logs why,
//! stops the rest and exits non-zero, so a supervisor restarts it instead of
//! leaving a process that serves nothing.
//!
//! Test hook: `PORTALD_FAILPOINT=<task>:error` (or `:panic`) makes the named task
//! end that way as soon as it starts; the process tests use it to see a death.

use anyhow::{Result, anyhow};
use std::future::Future;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// The tasks of one node and the token that stops them.
pub struct NodeTasks {
    set: JoinSet<(String, Result<()>)>,
    shutdown: CancellationToken,
    /// Tasks that ended as the stop began, reported by [`Self::stop`].
    ended: Vec<Joined>,
}

type Joined = Result<(String, Result<()>), tokio::task::JoinError>;

impl NodeTasks {
    pub fn new(shutdown: CancellationToken) -> Self {
        Self { set: JoinSet::new(), shutdown, ended: Vec::new() }
    }

    /// Runs `fut` as the task `name`; it is expected to run until shutdown.
    pub fn spawn<F>(&mut self, name: impl Into<String>, fut: F)
    where
        F: Future<Output = Result<()>> + Send + 'static,
    {
        let name = name.into();
        let fail = failpoint(&name);
        self.set.spawn(async move {
            match fail.as_deref() {
                Some("panic") => panic!("failpoint: task {name} panics"),
                Some(_) => return (name, Err(anyhow!("failpoint: task ends with an error"))),
                None => {}
            }
            let r = fut.await;
            (name, r)
        });
    }

    /// Waits for shutdown; if a task ends first, that is a death: the reason is
    /// logged, shutdown is signalled, and the reason returned.
    pub async fn watch(&mut self) -> Result<()> {
        if self.set.is_empty() {
            self.shutdown.cancelled().await;
            return Ok(());
        }
        tokio::select! {
            // A stop asked for wins over tasks that end because of it.
            biased;
            _ = self.shutdown.cancelled() => Ok(()),
            Some(joined) = self.set.join_next() => {
                if self.shutdown.is_cancelled() {
                    // Ended because the node is stopping: not a death; `stop` reports a failure.
                    self.ended.push(joined);
                    return Ok(());
                }
                let why = match joined {
                    Ok((name, Ok(()))) => format!("{name} stopped while the node was running"),
                    Ok((name, Err(e))) => format!("{name} failed: {e:#}"),
                    Err(e) if e.is_panic() => format!("a task panicked: {}", panic_message(e)),
                    Err(e) => format!("a task was cancelled: {e}"),
                };
                tracing::error!(reason = %why, "a part of the node died; stopping the node");
                self.shutdown.cancel();
                Err(anyhow!("the node stopped because {why}"))
            }
        }
    }

    /// Signals shutdown, lets every task finish within `grace` (together), aborts
    /// the rest and waits until they are gone. Returns the first failure of a task
    /// that ended by itself.
    pub async fn stop(&mut self, grace: Duration) -> Result<()> {
        self.shutdown.cancel();
        let mut first_error = None;
        let mut note = |joined: Joined| match joined {
            Ok((_, Ok(()))) => {}
            Ok((name, Err(e))) => {
                tracing::error!(task = %name, error = %format!("{e:#}"), "task failed while stopping");
                first_error.get_or_insert(anyhow!("{name} failed: {e:#}"));
            }
            Err(e) if e.is_cancelled() => {}
            Err(e) => {
                let msg = panic_message(e);
                tracing::error!(panic = %msg, "task panicked while stopping");
                first_error.get_or_insert(anyhow!("a task panicked: {msg}"));
            }
        };
        for joined in std::mem::take(&mut self.ended) {
            note(joined);
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, self.set.join_next()).await {
                Ok(Some(joined)) => note(joined),
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        left = self.set.len(),
                        "tasks still running after {grace:?}; aborting them"
                    );
                    self.set.abort_all();
                    while let Some(joined) = self.set.join_next().await {
                        note(joined);
                    }
                    break;
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// What a failpoint asks of task `name` (`PORTALD_FAILPOINT=name:error|panic`).
fn failpoint(name: &str) -> Option<String> {
    let spec = std::env::var("PORTALD_FAILPOINT").ok()?;
    let (task, how) = spec.split_once(':')?;
    (task == name).then(|| how.to_string())
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(p) => p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "(no message)".into()),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_ends_early_is_a_death_and_stop_ends_the_rest() {
        let shutdown = CancellationToken::new();
        let mut t = NodeTasks::new(shutdown.clone());
        let s = shutdown.clone();
        t.spawn("waits", async move {
            s.cancelled().await;
            Ok(())
        });
        t.spawn("dies", async { Err(anyhow!("listener closed")) });
        let died = t.watch().await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(died.contains("dies failed: listener closed"), "{died}");
        assert!(shutdown.is_cancelled());
        assert!(t.stop(Duration::from_secs(5)).await.is_ok());
        assert!(t.set.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn stop_gives_one_grace_to_all_then_aborts() {
        let shutdown = CancellationToken::new();
        let mut t = NodeTasks::new(shutdown.clone());
        for i in 0..5 {
            // Ignores shutdown: only the abort ends it.
            t.spawn(format!("stuck{i}"), std::future::pending());
        }
        let started = tokio::time::Instant::now();
        assert!(t.stop(Duration::from_millis(500)).await.is_ok());
        // One grace for all five, not five after another (paused clock: exact).
        assert!(started.elapsed() < Duration::from_millis(1000), "{:?}", started.elapsed());
        assert!(t.set.is_empty());
    }

    /// Tasks that end because the node is stopping are never taken for a death,
    /// however the ends and the stop interleave.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_ending_at_shutdown_are_no_death() {
        for _ in 0..200 {
            let shutdown = CancellationToken::new();
            let mut t = NodeTasks::new(shutdown.clone());
            for i in 0..4 {
                let s = shutdown.clone();
                t.spawn(format!("t{i}"), async move {
                    s.cancelled().await;
                    Ok(())
                });
            }
            shutdown.cancel();
            assert!(t.watch().await.is_ok());
            assert!(t.stop(Duration::from_secs(5)).await.is_ok());
        }
    }

    #[tokio::test]
    async fn a_panic_is_reported_with_its_message() {
        let mut t = NodeTasks::new(CancellationToken::new());
        t.spawn("p", async { panic!("boom") });
        let died = t.watch().await.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(died.contains("panicked: boom"), "{died}");
    }
}
