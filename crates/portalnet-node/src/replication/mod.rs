//! Cross-portal tasks (R13–R17), the network half: the per-destination outbox
//! workers ([`Replicator`]), the directory-backed view of other portals
//! ([`peers::Peers`]) and the Replication service other portals call. What is
//! written, checked and applied is the portal's (`events`, `replica`, `proposals`); `wire.rs`
//! converts items to and from the Replication protos.

pub mod outbox;
pub mod peers;
pub mod service;
pub mod wire;

pub use outbox::{ReplicationConfig, Replicator};
pub use peers::Peers;
pub use service::ReplicationSvc;
