mod attachment;
mod autoreply;
mod config;
mod error;
mod handler;
mod message;
mod reply;

pub use attachment::Attachment;
pub use autoreply::is_automatic;
pub use config::{ListenerConfig, Protocol};
pub use error::Error;
pub use handler::{Envelope, MailHandler, Refusal};
pub use message::{AutoSignals, InboundMessage, MAX_PARTS, NO_SUBJECT, parse};
pub use reply::strip_reply;
