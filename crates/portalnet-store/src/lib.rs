//! Embedded storage for a portalnet node.
//!
//! A small façade — [`Db`], [`Tree`], [`WriteTx`] — over sled, so the rest of the
//! code never names the engine; typed [`Table`]s on top whose values carry a format
//! version ([`Record`]); and [`schema`], the tables of a portal. File bytes live
//! beside the database in a content-addressed [`BlobStore`] (`blobs.rs`).
//!
//! The embedded engine is sled; [`Db::with_engine`] puts a shared networked
//! engine ([`engine::Engine`], PostgreSQL in `portalnet-postgres`) behind the same
//! façade, so code written against `Db` runs on either unchanged.
//!
//! Writes are serialised: [`Db::write`] runs one closure at a time under a lock,
//! reads its own writes, and commits everything it wrote, across trees, atomically.
//! A commit reaches sled's log in memory; [`Db::sync`] makes it survive a
//! killed process (sled's flush syncs the file range, not the disk: a power cut may
//! still lose the last writes — sled issue #1452).

pub mod blobs;
mod codec;
mod db;
pub mod engine;
mod error;
pub mod index;
pub mod replication;
pub mod schema;
mod table;

pub use blobs::{BlobId, BlobReader, BlobStore, BlobWriter, StagedBlob};
pub use codec::{Record, decode, encode};
pub use db::{Db, FlushTicket, Tree, WriteTx};
pub use engine::{Engine, EngineTx};
pub use error::StoreError;
pub use table::{Key, Table, portal_prefix};
