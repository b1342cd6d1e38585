//! Generated protobuf messages and gRPC stubs for `portalnet.v1`.
//!
//! Nothing hand-written lives here except this re-export; conversion to domain types
//! happens in the node, at the boundary (`TryFrom`).
#![allow(clippy::all)]

pub mod v1 {
    tonic::include_proto!("portalnet.v1");
}

/// Encoded `FileDescriptorSet` of every portalnet proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/portalnet_descriptor.bin"));
