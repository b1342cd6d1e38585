//! `portalctl`: the command-line client of a portalnet portal.
//!
//! Exit codes: 0 success, 1 any failure (one `error: ...` line on stderr),
//! 2 bad usage (clap's own).

mod args;
mod client;
mod commands;
mod csv;
mod mime;
mod names;
mod output;
mod paging;
mod table;
mod time;
mod views;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tonic::{Code, Status};

use crate::args::{Args, Command};
use crate::client::{Conn, Unreachable, error_chain};
use crate::output::Output;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let endpoint = args.global.endpoint.clone();
    // A command that needs no API token gets no "pass --token" hint either.
    let has_token =
        args.global.token.as_deref().is_some_and(|t| !t.trim().is_empty()) || !args.command.needs_token();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(std::io::stderr(), "error: {}", describe(&err, &endpoint, has_token));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let out = Output { json: args.global.json };
    let mut global = args.global;
    if !args.command.needs_token() {
        // Not even a stale token from the environment goes out with such a call.
        global.token = None;
    }
    let conn = Conn::connect(&global).await?;
    match args.command {
        Command::User(cmd) => commands::users::run(&conn, cmd, &out).await,
        Command::Token(cmd) => commands::users::run_token(&conn, cmd, &out).await,
        Command::Group(cmd) => commands::groups::run(&conn, cmd, &out).await,
        Command::Invite(cmd) => commands::invites::run(&conn, cmd, &out).await,
        Command::Task(cmd) => commands::tasks::run(&conn, cmd, &out).await,
        Command::Portal(cmd) => commands::portal::run(&conn, cmd, &out).await,
        Command::Report(cmd) => commands::reports::run(&conn, cmd, &out).await,
        Command::Network(cmd) => commands::network::run(&conn, cmd, &out).await,
        Command::Mail(cmd) => commands::mail::run(&conn, cmd, &out).await,
    }
}

/// One line for any failure: a gRPC status as `message (Code)`, a connection
/// problem with the endpoint named, anything else with its causes.
fn describe(err: &anyhow::Error, endpoint: &str, has_token: bool) -> String {
    let text = if let Some(status) = err.downcast_ref::<Status>() {
        describe_status(status, endpoint, has_token)
    } else if let Some(u) = err.downcast_ref::<Unreachable>() {
        u.to_string()
    } else {
        format!("{err:#}")
    };
    table::clean(&text)
}

fn describe_status(status: &Status, endpoint: &str, has_token: bool) -> String {
    let code = status.code();
    let message = if status.message().is_empty() { code.description() } else { status.message() };
    // A status the client made up itself (carrying a transport error) means the
    // connection broke; one sent by the portal has no source.
    if code == Code::Unavailable
        && let Some(source) = std::error::Error::source(status)
    {
        return Unreachable { endpoint: endpoint.to_string(), cause: error_chain(source) }.to_string();
    }
    let hint = if code == Code::Unauthenticated && !has_token {
        "; pass --token or set PORTALCTL_TOKEN"
    } else {
        ""
    };
    format!("{message} ({code:?}){hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_as_message_and_code() {
        let err = anyhow::Error::from(Status::not_found("task 7 not found"));
        assert_eq!(describe(&err, "https://x:1", true), "task 7 not found (NotFound)");
        let err = anyhow::Error::from(Status::unauthenticated("missing token"));
        assert_eq!(
            describe(&err, "https://x:1", false),
            "missing token (Unauthenticated); pass --token or set PORTALCTL_TOKEN"
        );
        let err = anyhow::Error::from(Status::new(Code::PermissionDenied, ""));
        assert_eq!(
            describe(&err, "https://x:1", true),
            "The caller does not have permission to execute the specified operation (PermissionDenied)"
        );
    }

    #[test]
    fn messages_stay_on_one_line() {
        let err = anyhow::Error::from(Status::invalid_argument("bad\ntitle"));
        assert_eq!(describe(&err, "e", true), "bad title (InvalidArgument)");
    }
}
