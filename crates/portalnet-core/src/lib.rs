//! portalnet domain: the portal's people, workgroups and tasks, and the rules of who
//! may do what. Pure data and functions: no IO, no async, no clock reads (time is
//! passed in), so every rule is unit-testable as a table.

pub mod address;
pub mod error;
pub mod event;
pub mod group;
pub mod invitation;
pub mod limits;
pub mod mail_task;
pub mod permissions;
pub mod quote;
pub mod report;
pub mod settings;
pub mod task;
pub mod time;
pub mod user;
pub mod validate;

pub use error::{Error, Result};
pub use quote::quote;
pub use time::{Clock, Timestamp};
