//! The invariants ARCHITECTURE.md states as absences, checked by `cargo test` so that
//! breaking one fails the build's tests (after rust-analyzer's `xtask/src/tidy.rs`).
//! Each check reads the workspace's manifests and sources; none builds anything.

#[cfg(test)]
mod checks;
