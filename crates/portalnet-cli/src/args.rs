//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{ArgGroup, Parser, Subcommand, ValueEnum};
use portalnet_proto::v1::TaskStatus;

use crate::names::parse_status;
use crate::time::parse_when;

#[derive(Debug, Parser)]
#[command(name = "portalctl", version, about = "Command-line client of a portalnet portal")]
pub struct Args {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// gRPC endpoint of the portal (https:// uses TLS, http:// does not)
    #[arg(long, env = "PORTALCTL_ENDPOINT", default_value = "https://127.0.0.1:7401", global = true)]
    pub endpoint: String,
    /// API token (see `token issue`)
    #[arg(long, env = "PORTALCTL_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// PEM file with the portal's CA or self-signed certificate
    #[arg(long, env = "PORTALCTL_CA", global = true)]
    pub ca: Option<PathBuf>,
    /// Print one JSON document on stdout instead of tables
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// People of the portal
    #[command(subcommand)]
    User(UserCmd),
    /// API tokens
    #[command(subcommand)]
    Token(TokenCmd),
    /// Workgroups and projects
    #[command(subcommand)]
    Group(GroupCmd),
    /// Tasks, their comments and files
    #[command(subcommand)]
    Task(TaskCmd),
    /// The portal itself
    #[command(subcommand)]
    Portal(PortalCmd),
    /// Reports
    #[command(subcommand)]
    Report(ReportCmd),
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add an employee (admins only)
    Add {
        login: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        position: String,
        /// Make the user a portal administrator
        #[arg(long)]
        admin: bool,
    },
    /// List users (active only unless --all)
    List {
        /// Include dismissed users
        #[arg(long)]
        all: bool,
    },
    /// Show one user
    Show { login: String },
    /// Dismiss a user (admins only)
    Dismiss { login: String },
    /// Show the user the token belongs to
    Whoami,
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Issue a new API token for a user (admins only)
    Issue { login: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    Member,
    Moderator,
}

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Create a workgroup owned by the caller
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Show a group and its members
    Show { id: u64 },
    /// List groups
    List,
    /// Add a member to a group
    AddMember {
        id: u64,
        login: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Member)]
        role: RoleArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Create a task
    Create {
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Defaults to the caller
        #[arg(long)]
        responsible: Option<String>,
        /// Co-executor (repeatable)
        #[arg(long = "accomplice", value_name = "LOGIN")]
        accomplices: Vec<String>,
        /// Observer (repeatable)
        #[arg(long = "observer", value_name = "LOGIN")]
        observers: Vec<String>,
        /// YYYY-MM-DD (end of day UTC), YYYY-MM-DDTHH:MM[:SS]Z or epoch ms
        #[arg(long, value_name = "WHEN", value_parser = parse_when)]
        deadline: Option<i64>,
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
        group: Option<u64>,
    },
    /// List tasks visible to the caller
    List {
        #[arg(long, value_name = "STATUS", value_parser = parse_status)]
        status: Option<TaskStatus>,
        #[arg(long, value_name = "LOGIN")]
        responsible: Option<String>,
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
        group: Option<u64>,
    },
    /// Show a task with its files and comments
    Show { id: u64 },
    /// Change fields of a task (only the given ones; at least one)
    #[command(override_usage = "portalctl task update <ID> [--title T] [--description D] [--responsible L] \
        [--accomplices L,L,...] [--observers L,L,...] [--deadline WHEN | --clear-deadline] [--group ID | --no-group]")]
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args([
                "title", "description", "responsible", "accomplices", "observers",
                "deadline", "clear_deadline", "group", "no_group",
            ])
    ))]
    Update {
        id: u64,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, value_name = "LOGIN")]
        responsible: Option<String>,
        /// Replaces the co-executors; comma-separated, "" for none
        #[arg(long, value_name = "L,L,...")]
        accomplices: Option<String>,
        /// Replaces the observers; comma-separated, "" for none
        #[arg(long, value_name = "L,L,...")]
        observers: Option<String>,
        /// YYYY-MM-DD (end of day UTC), YYYY-MM-DDTHH:MM[:SS]Z or epoch ms
        #[arg(long, value_name = "WHEN", value_parser = parse_when, conflicts_with = "clear_deadline")]
        deadline: Option<i64>,
        /// Remove the deadline
        #[arg(long)]
        clear_deadline: bool,
        /// Move the task into this group
        #[arg(
            long,
            value_name = "ID",
            value_parser = clap::value_parser!(u64).range(1..),
            conflicts_with = "no_group"
        )]
        group: Option<u64>,
        /// Take the task out of its group
        #[arg(long)]
        no_group: bool,
    },
    /// Set the status: new, in_progress, awaiting_control, completed, deferred
    Status {
        id: u64,
        #[arg(value_parser = parse_status)]
        status: TaskStatus,
    },
    /// Add a comment
    Comment { id: u64, text: String },
    /// Attach a file (at most the portal's max_file_bytes)
    Attach {
        id: u64,
        path: PathBuf,
        /// File name shown in the task (default: the file's own name)
        #[arg(long)]
        name: Option<String>,
        /// Default: guessed from the extension
        #[arg(long, value_name = "TYPE")]
        content_type: Option<String>,
    },
    /// Download an attached file
    Download {
        id: u64,
        file_id: u64,
        /// File or directory to write to (default: the current directory)
        #[arg(long, value_name = "PATH")]
        out: Option<PathBuf>,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Show the change history of a task
    History { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum PortalCmd {
    /// Portal identity, version and limits
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportByArg {
    Responsible,
    Status,
    Group,
}

#[derive(Debug, Subcommand)]
pub enum ReportCmd {
    /// Task counts per responsible person, status or group
    Tasks {
        #[arg(long, value_enum, default_value_t = ReportByArg::Responsible)]
        by: ReportByArg,
        /// CSV on stdout (header first, totals last)
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
}

/// Splits `a,b, c` into logins; an empty string is an empty list.
pub fn split_logins(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("portalctl").chain(args.iter().copied()))
    }

    #[test]
    fn globals_anywhere_and_defaults() {
        let a = parse(&["task", "show", "7", "--json", "--endpoint", "http://x:1"]).unwrap();
        assert!(a.global.json);
        assert_eq!(a.global.endpoint, "http://x:1");
        assert!(matches!(a.command, Command::Task(TaskCmd::Show { id: 7 })));
    }

    #[test]
    fn user_add() {
        let a = parse(&["user", "add", "bob", "--name", "Bob B", "--email", "b@x.test", "--admin"]).unwrap();
        let Command::User(UserCmd::Add { login, name, email, position, admin }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!((login.as_str(), name.as_str(), email.as_str()), ("bob", "Bob B", "b@x.test"));
        assert_eq!(position, "");
        assert!(admin);
        assert_eq!(
            parse(&["user", "add", "bob", "--name", "B"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn task_create_repeats_and_deadline() {
        let a = parse(&[
            "task",
            "create",
            "Fix it",
            "--accomplice",
            "a",
            "--accomplice",
            "b",
            "--observer",
            "c",
            "--deadline",
            "2026-12-01",
            "--group",
            "3",
        ])
        .unwrap();
        let Command::Task(TaskCmd::Create { accomplices, observers, deadline, group, responsible, .. }) =
            a.command
        else {
            panic!("wrong command");
        };
        assert_eq!(accomplices, ["a", "b"]);
        assert_eq!(observers, ["c"]);
        assert_eq!(deadline, Some(1_796_169_599_000));
        assert_eq!(group, Some(3));
        assert_eq!(responsible, None);
        let err = parse(&["task", "create", "x", "--deadline", "2026-02-30"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
    }

    #[test]
    fn task_status_accepts_dashes() {
        let a = parse(&["task", "status", "4", "in-progress"]).unwrap();
        assert!(matches!(
            a.command,
            Command::Task(TaskCmd::Status { id: 4, status: TaskStatus::InProgress })
        ));
        assert!(parse(&["task", "status", "4", "done"]).is_err());
    }

    #[test]
    fn task_update_needs_a_change_and_refuses_conflicts() {
        assert_eq!(parse(&["task", "update", "1"]).unwrap_err().kind(), ErrorKind::MissingRequiredArgument);
        let err =
            parse(&["task", "update", "1", "--deadline", "2026-01-01", "--clear-deadline"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        let err = parse(&["task", "update", "1", "--group", "2", "--no-group"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        let a = parse(&["task", "update", "1", "--accomplices", ""]).unwrap();
        let Command::Task(TaskCmd::Update { accomplices, observers, .. }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!(accomplices.as_deref(), Some(""));
        assert_eq!(observers, None);
    }

    #[test]
    fn report_options() {
        let a = parse(&["report", "tasks", "--by", "status", "--csv"]).unwrap();
        assert!(matches!(
            a.command,
            Command::Report(ReportCmd::Tasks { by: ReportByArg::Status, csv: true })
        ));
        let a = parse(&["report", "tasks"]).unwrap();
        assert!(matches!(
            a.command,
            Command::Report(ReportCmd::Tasks { by: ReportByArg::Responsible, csv: false })
        ));
        assert!(parse(&["report", "tasks", "--csv", "--json"]).is_err());
        assert!(parse(&["report", "tasks", "--by", "owner"]).is_err());
    }

    #[test]
    fn group_add_member_role() {
        let a = parse(&["group", "add-member", "2", "eve", "--role", "moderator"]).unwrap();
        assert!(matches!(
            a.command,
            Command::Group(GroupCmd::AddMember { id: 2, role: RoleArg::Moderator, .. })
        ));
        assert!(parse(&["group", "add-member", "2", "eve", "--role", "owner"]).is_err());
    }

    #[test]
    fn login_lists() {
        assert_eq!(split_logins(""), Vec::<String>::new());
        assert_eq!(split_logins("a, b,,c "), ["a", "b", "c"]);
    }
}
