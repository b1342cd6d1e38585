//! Examples live in this package as `cargo run -p portalnet-examples --example NAME`.
