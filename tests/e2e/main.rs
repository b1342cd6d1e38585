//! End-to-end tests in one binary (one link instead of fourteen): real `portald`
//! processes and in-process nodes over TLS, driven by gRPC, `portalctl`, swaks and
//! headless Chromium. One module per area; run one with
//! `cargo test -p portalnet-tests --test e2e -- <module>::`.

mod adversarial_directory;
mod api;
mod browser_selftest;
mod cross_portal;
mod directory_boundary;
mod directory_pg;
mod directory_sessions;
mod extranet;
mod files;
mod least_information;
mod mail_in;
mod mail_outbox;
mod mail_participants;
mod network;
mod paging;
mod processes;
mod replication;
mod replication_checks;
mod task_page;
