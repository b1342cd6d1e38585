//! E-mail adapters: the outbox worker that delivers queued mail and the sweep of
//! received-mail records (`outbox.rs`), and the handler behind the LMTP/SMTP
//! listeners (`listener.rs`). What mail does is the portal's (`mail_in`, `mail_out`).

pub mod listener;
pub mod outbox;
