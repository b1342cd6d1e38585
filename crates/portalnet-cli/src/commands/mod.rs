//! One module per command group; each takes the parsed subcommand, a connection
//! and the output mode.

pub mod groups;
pub mod invites;
pub mod mail;
pub mod network;
pub mod portal;
pub mod reports;
pub mod tasks;
pub mod users;
