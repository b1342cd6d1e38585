//! The portal node: configuration, the data folder, and the adapters that wire the
//! portal (`portalnet-portal`) to the world — gRPC services (`grpc/`), web pages
//! (`web/`), e-mail in and out (`mail/`), replication between portals
//! (`replication/`), the Network directory's client and server (`directory/`) —
//! and the background workers that drive them (`worker.rs`, `lifecycle.rs`).
//! `portald` (src/main.rs) is a thin CLI over it.

mod blob_stream;
pub mod clock;
pub mod config;
pub mod devnet;
pub mod directory;
mod fsutil;
pub mod grpc;
pub mod identity;
pub mod init;
pub mod lifecycle;
pub mod listen;
pub mod mail;
pub mod metrics;
pub mod otlp;
pub mod replication;
pub mod reply_lang;
pub mod rpc_layer;
pub mod server;
pub mod tls;
pub mod trace_context;
pub mod web;
pub mod worker;

/// The allocator of everything that links the node (`portald`, its tests and
/// benches): mimalloc, not glibc's malloc. A gRPC call allocates on one tokio
/// worker and frees on another; glibc's per-thread arenas made that ~35 % of a
/// directory search's CPU at 16 in flight, and mimalloc doubled the searches
/// per second (ARCHITECTURE, "Why searches at 16 in flight …"). Built without
/// transparent huge pages (workspace `Cargo.toml`), so it holds memory in 4 KiB
/// pages like glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use grpc::error::{NodeError, NodeResult};
pub use server::{NodeHandle, start};
