//! The node's integration tests in one binary (each test binary links the whole
//! node): the boundary fed arbitrary input, the in-process lifecycle, mail in and
//! replica apply as property tests on real storage.

mod boundary;
mod client_checks;
mod common;
mod deliver_limits;
mod lifecycle;
mod listeners;
mod mail_fuzz;
mod replica_apply;
mod replica_trust;
mod task_page;
