//! What both benchmarks share: run a call N times with K in flight and report
//! the rate and latency percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Stats {
    pub rate: f64,
    pub p50: Duration,
    pub p99: Duration,
}

/// Calls `call(i)` for i in 0..n, `in_flight` at a time.
pub async fn measure<F, Fut>(n: usize, in_flight: usize, call: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let per = n / in_flight;
    let mut workers = Vec::with_capacity(in_flight);
    for w in 0..in_flight {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for i in 0..per {
                let t = Instant::now();
                call(w * per + i).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::with_capacity(n);
    for w in workers {
        lat.extend(w.await.expect("bench worker"));
    }
    let elapsed = started.elapsed();
    lat.sort();
    let pick = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    Stats { rate: lat.len() as f64 / elapsed.as_secs_f64(), p50: pick(0.50), p99: pick(0.99) }
}
