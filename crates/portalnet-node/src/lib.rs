//! The portal node: configuration, the data folder, and the gRPC server that wires
//! `core` and `store` to the network. `portald` (src/main.rs) is a thin CLI over it.

pub mod app;
mod blob_stream;
pub mod clock;
pub mod config;
pub mod convert;
pub mod devnet;
pub mod directory_node;
pub mod enrolment;
pub mod error;
mod fsutil;
pub mod grpc;
pub mod identity;
pub mod init;
pub mod lifecycle;
pub mod mail_listener;
pub mod mailer;
pub mod metrics;
pub mod network;
pub mod otlp;
pub mod replication;
pub mod reply_lang;
pub mod rpc_layer;
pub mod server;
pub mod tls;
pub mod trace_context;
pub mod web;
mod web_task;
pub mod workers;

pub use error::{NodeError, NodeResult};
pub use server::{NodeHandle, start};
