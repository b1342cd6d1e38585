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

pub use grpc::error::{NodeError, NodeResult};
pub use server::{NodeHandle, start};
