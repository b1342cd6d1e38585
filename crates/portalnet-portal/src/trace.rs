//! W3C trace context (`traceparent`) across portals. A call that arrives with a
//! `traceparent` header continues that trace; one without starts a new trace. The
//! context of the call in progress is a task-local ([`current`]); what a call
//! stores for later (a proposal, an outbox entry, an event) keeps its
//! `traceparent`, so the worker that delivers it later continues the same trace.
//! Carrying it in a transport's metadata is the node's business.
//!
//! Log lines inside a call or an applied item are in a span with a `trace_id`
//! field: with `--log-format json` every line names its trace.

use rand::Rng;
use std::fmt;

/// The metadata key (and HTTP header) that carries the context.
pub const HEADER: &str = "traceparent";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: u128,
    pub span_id: u64,
    pub sampled: bool,
}

/// Set once by the node when traces are exported: joins a span to its trace.
static LINK: std::sync::OnceLock<fn(&tracing::Span, &TraceContext)> = std::sync::OnceLock::new();

/// Makes every [`TraceContext::span`] call `link` (the node's OTLP export).
pub fn set_span_linker(link: fn(&tracing::Span, &TraceContext)) {
    let _ = LINK.set(link);
}

tokio::task_local! {
    static CURRENT: TraceContext;
}

impl TraceContext {
    /// A new trace (random ids, sampled).
    pub fn root() -> Self {
        let mut rng = rand::thread_rng();
        Self { trace_id: rng.r#gen::<u128>().max(1), span_id: rng.r#gen::<u64>().max(1), sampled: true }
    }

    /// The same trace, a new span (this node's part of it).
    pub fn child(&self) -> Self {
        Self { span_id: rand::thread_rng().r#gen::<u64>().max(1), ..*self }
    }

    /// `00-<32 hex>-<16 hex>-<2 hex>`; anything else (another version's extra
    /// fields are ignored, as the spec asks) is `None`. Never panics on input.
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.trim().split('-');
        let version = parts.next()?;
        let (trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?);
        if version.len() != 2 || version == "ff" || trace.len() != 32 || span.len() != 16 || flags.len() != 2
        {
            return None;
        }
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !(hex(version) && hex(trace) && hex(span) && hex(flags)) {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        if trace_id == 0 || span_id == 0 {
            return None;
        }
        Some(Self { trace_id, span_id, sampled: flags & 1 == 1 })
    }

    /// The 32 lowercase hex digits logs and OTLP show.
    pub fn trace_id_hex(&self) -> String {
        format!("{:032x}", self.trace_id)
    }

    /// A span for work done under this context; its `trace_id` field is in every
    /// log line inside it.
    pub fn span(&self, name: &'static str) -> tracing::Span {
        let span = tracing::info_span!("trace", op = name, trace_id = %self.trace_id_hex(), span_id = %format!("{:016x}", self.span_id));
        if let Some(link) = LINK.get() {
            link(&span, self);
        }
        span
    }

    /// Runs `f` with this context as [`current`] (synchronous code, any thread).
    pub fn enter<R>(self, f: impl FnOnce() -> R) -> R {
        let span = self.span("item");
        let _g = span.enter();
        CURRENT.sync_scope(self, f)
    }

    /// Runs `fut` with this context as [`current`].
    pub async fn scope<F: std::future::Future>(self, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "00-{:032x}-{:016x}-{:02x}", self.trace_id, self.span_id, u8::from(self.sampled))
    }
}

/// The context of the call or item in progress, if any.
pub fn current() -> Option<TraceContext> {
    CURRENT.try_with(|c| *c).ok()
}

/// `f`, to be run on another thread (the blocking pool) inside the current call's
/// trace context and tracing span: what it logs, and the `traceparent` it stores
/// with what it queues, stay in the call's trace.
pub fn carried<R>(f: impl FnOnce() -> R) -> impl FnOnce() -> R {
    let span = tracing::Span::current();
    let ctx = current();
    move || {
        let _entered = span.enter();
        match ctx {
            Some(c) => CURRENT.sync_scope(c, f),
            None => f(),
        }
    }
}

/// The `traceparent` to store with what the current call queues for later.
pub fn current_header() -> Option<String> {
    current().map(|c| c.to_string())
}

/// A stored or received `traceparent`, or a new trace when there is none (data
/// written before traces were kept, or a peer that sends none).
pub fn from_stored(s: Option<&str>) -> TraceContext {
    s.and_then(TraceContext::parse).map_or_else(TraceContext::root, |c| c.child())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let c = TraceContext::root();
        assert_eq!(TraceContext::parse(&c.to_string()), Some(c));
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let p = TraceContext::parse(s).unwrap();
        assert_eq!(p.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(p.to_string(), s);
        assert_eq!(p.child().trace_id, p.trace_id);
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e473é-00f067aa0ba902b7-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(bad), None, "{bad}");
        }
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later").is_some()
        );
    }
}
