//! The storage suite on PostgreSQL: `suite.rs` compiled again; its `open` sees
//! this crate's name and opens a fresh database in a throw-away PostgreSQL
//! cluster. Fails (does not skip) without PostgreSQL.

#[path = "suite.rs"]
mod suite;
