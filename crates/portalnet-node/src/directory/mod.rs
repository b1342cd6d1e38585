//! The Network directory, both sides: the portal's signed client and its sync
//! worker (`client.rs`), the `portald directory` role serving the directory crate
//! over gRPC (`server.rs`), and enrolment secrets (`enrolment.rs`).

pub mod client;
pub mod enrolment;
pub mod server;
