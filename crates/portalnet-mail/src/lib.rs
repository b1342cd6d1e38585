//! Outbound e-mail for a portal node.
//!
//! The node keeps a durable outbox in its own storage; for each entry it calls [`render`] once
//! (or stores an [`Outgoing`] with a fixed `message_id`, so a re-render is the same message) and
//! then [`Transport::deliver`] until it succeeds or fails with [`MailError::is_permanent`].
//! This crate knows nothing of storage, gRPC or the node. Its languages come from
//! `portalnet-i18n` (re-exported as [`i18n`]).

mod error;
mod html;
mod invitation;
mod message;
mod task_notice;
mod transport;

pub use error::MailError;
pub use html::escape_html;
pub use invitation::{Invitation, invitation};
pub use message::{Mailbox, Outgoing, render};
pub use portalnet_i18n as i18n;
pub use portalnet_i18n::{Arg, DateTime, Lang, tr};
pub use task_notice::{NoticeKind, TaskNotice, task_notice};
pub use transport::Transport;
