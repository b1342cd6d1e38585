//! Outbound e-mail for a portal node.
//!
//! The node keeps a durable outbox in its own storage; for each entry it calls [`render`] once
//! (or stores an [`Outgoing`] with a fixed `message_id`, so a re-render is the same message) and
//! then [`Transport::deliver`] until it succeeds or fails with [`MailError::is_permanent`].
//! This crate knows nothing of storage, gRPC or the node. [`i18n`] holds the portal's
//! languages (Fluent files in `locales/`), also used by the node's pages and refusals.

mod error;
mod html;
pub mod i18n;
mod invitation;
mod message;
mod task_notice;
mod transport;

pub use error::MailError;
pub use html::escape_html;
pub use i18n::{Arg, DateTime, Lang, tr};
pub use invitation::{Invitation, invitation};
pub use message::{Mailbox, Outgoing, render};
pub use task_notice::{NoticeKind, TaskNotice, task_notice};
pub use transport::Transport;
