//! What one client may hold of a listener: connections at once (in all, and per
//! address on the gRPC port), and how long a connection may stay silent. Without
//! these a peer that opens connections and sends nothing (or a request head a byte
//! a minute) holds a socket and a task each for ever, until the node runs out of
//! file descriptors and its storage can no longer open a file.
//!
//! A connection over a limit is closed as soon as it is accepted (nothing is said:
//! on the gRPC port a TLS handshake has not started; an HTTP client sees the
//! connection closed and may try again). The mail listeners have their own limits
//! (`portalnet_inbound::ListenerConfig`).

use crate::config::ConnectionsConfig;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

/// How long the accept loop pauses after an accept error (out of file
/// descriptors, say) before it tries again, so it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The places of one listener: `max` in all, `per_address` for one IP address.
pub struct Limiter {
    listener: &'static str,
    total: Arc<Semaphore>,
    per_address: Option<usize>,
    by_address: Mutex<HashMap<IpAddr, usize>>,
    metrics: portalnet_portal::metrics::Metrics,
}

/// A connection's place: given back when the connection is dropped.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    ip: IpAddr,
    limiter: Arc<Limiter>,
}

impl Limiter {
    /// `listener` names it in metrics and logs; `per_address: None` counts only the total.
    pub fn new(
        listener: &'static str,
        max: usize,
        per_address: Option<usize>,
        metrics: portalnet_portal::metrics::Metrics,
    ) -> Arc<Self> {
        Arc::new(Limiter {
            listener,
            total: Arc::new(Semaphore::new(max.max(1))),
            per_address: per_address.map(|n| n.max(1)),
            by_address: Mutex::new(HashMap::new()),
            metrics,
        })
    }

    /// A place for a connection from `ip`, or None (and a count of the refusal).
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let refused = |why: &'static str| {
            self.metrics
                .inc("portalnet_connections_refused_total", &[("listener", self.listener), ("why", why)]);
            tracing::debug!(listener = self.listener, %ip, why, "connection refused");
            None
        };
        let Ok(permit) = self.total.clone().try_acquire_owned() else {
            return refused("total");
        };
        if let Some(max) = self.per_address {
            let mut held = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
            let n = held.entry(ip).or_insert(0);
            if *n >= max {
                return refused("per_address");
            }
            *n += 1;
        }
        Some(Slot { _permit: permit, ip, limiter: self.clone() })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.limiter.per_address.is_none() {
            return;
        }
        let mut held = self.limiter.by_address.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = held.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&self.ip);
            }
        }
    }
}

/// An accepted connection holding its place; when `idle` is set, a read that
/// waits longer than that for a byte fails with `TimedOut`, which closes it.
pub struct Limited {
    stream: TcpStream,
    _slot: Slot,
    idle: Option<(Duration, Pin<Box<Sleep>>)>,
}

impl AsyncRead for Limited {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if let Some((idle, timer)) = &mut this.idle
                    && buf.filled().len() > before
                {
                    timer.as_mut().reset(Instant::now() + *idle);
                }
                Poll::Ready(r)
            }
            Poll::Pending => match &mut this.idle {
                Some((idle, timer)) => {
                    ready!(timer.as_mut().poll(cx));
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("nothing received for {} s", idle.as_secs()),
                    )))
                }
                None => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Limited {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for Limited {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

/// The connections of a listener that have a place: what a server accepts from.
/// Accept errors are logged and retried after a pause; they never end the stream.
pub struct Incoming {
    listener: TcpListener,
    limiter: Arc<Limiter>,
    idle: Option<Duration>,
    backoff: Option<Pin<Box<Sleep>>>,
}

impl Incoming {
    pub fn new(listener: TcpListener, limiter: Arc<Limiter>, idle: Option<Duration>) -> Self {
        Incoming { listener, limiter, idle, backoff: None }
    }

    /// The gRPC port's connections under `cfg`: limited in all and per address,
    /// closed when silent for `idle_secs`.
    pub fn grpc(
        listener: TcpListener,
        cfg: &ConnectionsConfig,
        metrics: portalnet_portal::metrics::Metrics,
    ) -> Self {
        let limiter = Limiter::new("grpc", cfg.max, Some(cfg.per_address), metrics);
        Incoming::new(listener, limiter, Some(cfg.idle()))
    }

    fn poll_accept(&mut self, cx: &mut Context<'_>) -> Poll<Limited> {
        loop {
            if let Some(pause) = &mut self.backoff {
                ready!(pause.as_mut().poll(cx));
                self.backoff = None;
            }
            match ready!(self.listener.poll_accept(cx)) {
                Ok((stream, peer)) => {
                    // Over a limit: dropped here, which closes it.
                    let Some(slot) = self.limiter.admit(peer.ip()) else { continue };
                    // Nagle off: a reply written in several frames must not wait for
                    // the peer's delayed ACK (measured: ~50 ms per directory search).
                    let _ = stream.set_nodelay(true);
                    let idle = self.idle.map(|d| (d, Box::pin(tokio::time::sleep(d))));
                    return Poll::Ready(Limited { stream, _slot: slot, idle });
                }
                Err(e) => {
                    tracing::warn!(listener = self.limiter.listener, error = %e, "cannot accept a connection");
                    self.backoff = Some(Box::pin(tokio::time::sleep(ACCEPT_BACKOFF)));
                }
            }
        }
    }

    /// The next connection with a place.
    pub async fn next(&mut self) -> Limited {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }
}

impl tokio_stream::Stream for Incoming {
    type Item = io::Result<Limited>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_accept(cx).map(|c| Some(Ok(c)))
    }
}

/// Serves `app` over HTTP/1 on `listener` until `shutdown`, then lets requests
/// under way finish. At most `cfg.max` connections at once (no limit per address:
/// the pages are meant to sit behind a proxy, whose one address every visitor
/// would share); a request head must arrive within `handshake_secs` of the
/// connection being ready for it, so a silent or trickling client, or a kept-alive
/// connection left idle, is closed; a request must be read and answered within
/// `request_secs` ([`request_deadline`]); a download then streams at the reader's pace.
pub async fn serve_http(
    listener: TcpListener,
    app: axum::Router,
    cfg: &ConnectionsConfig,
    name: &'static str,
    metrics: portalnet_portal::metrics::Metrics,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let app = app.layer(axum::middleware::from_fn_with_state(cfg.request(), request_deadline));
    let mut incoming = Incoming::new(listener, Limiter::new(name, cfg.max, None, metrics), None);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(cfg.handshake());
    // Dropped with this future: a connection never outlives its server.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        let conn = tokio::select! {
            () = shutdown.cancelled() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            conn = incoming.next() => conn,
        };
        let served = http.serve_connection(
            hyper_util::rt::TokioIo::new(conn),
            hyper_util::service::TowerToHyperService::new(app.clone()),
        );
        let stop = shutdown.clone();
        conns.spawn(async move {
            let mut served = std::pin::pin!(served);
            let r = tokio::select! {
                r = served.as_mut() => r,
                () = stop.cancelled() => {
                    served.as_mut().graceful_shutdown();
                    served.await
                }
            };
            if let Err(e) = r {
                tracing::debug!(error = %e, "web connection ended");
            }
        });
    }
    while conns.join_next().await.is_some() {}
    Ok(())
}

/// Answers 408 when a request is not read and answered within the deadline (a
/// form posted a byte at a time). Only the handler is timed: a file's bytes are
/// streamed after it returned.
async fn request_deadline(
    axum::extract::State(deadline): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(deadline, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (axum::http::StatusCode::REQUEST_TIMEOUT, "request not received in time\n").into_response(),
    }
}
