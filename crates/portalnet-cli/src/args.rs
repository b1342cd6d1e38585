//! Command-line arguments (clap derive).

use crate::paging::PageArgs;
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
    /// Language of the portal's refusals (en, pl, ru); default from LC_ALL / LC_MESSAGES / LANG
    #[arg(long, global = true)]
    pub language: Option<String>,
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
    /// Invitations of external (extranet) users into groups
    #[command(subcommand)]
    Invite(InviteCmd),
    /// Tasks, their comments and files
    #[command(subcommand)]
    Task(TaskCmd),
    /// The portal itself
    #[command(subcommand)]
    Portal(PortalCmd),
    /// Reports
    #[command(subcommand)]
    Report(ReportCmd),
    /// The Network: communication with other portals and their directory of people
    #[command(subcommand)]
    Network(NetworkCmd),
    /// Tasks by e-mail: your secret task address, e-mail participants' links
    #[command(subcommand)]
    Mail(MailCmd),
}

#[derive(Debug, Subcommand)]
pub enum MailCmd {
    /// Your secret task address (R18): mail sent to it becomes a task for you
    #[command(subcommand)]
    Address(MailAddressCmd),
    /// The links e-mail participants of a task open and reply with (R21, R22)
    #[command(subcommand)]
    Link(MailLinkCmd),
}

#[derive(Debug, Subcommand)]
pub enum MailAddressCmd {
    /// Reveal your address (made on first use)
    Show,
    /// Replace your address; the old one is refused from now on
    Reset {
        /// An administrator may reset someone else's (they then `show` the new one)
        #[arg(long)]
        login: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailLinkCmd {
    /// The e-mail participants' links of a task
    List {
        task: u64,
        #[command(flatten)]
        pages: PageArgs,
        /// Fetch every page (as --all-pages)
        #[arg(long)]
        all: bool,
    },
    /// Revoke a participant's link and reply address (the task's creator or an admin)
    Revoke {
        task: u64,
        /// The participant's e-mail address
        address: String,
    },
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
        /// The language the person reads (en, pl, ru): the portal's refusals to them;
        /// default: the portal's
        #[arg(long, value_name = "LANG", default_value = "")]
        user_language: String,
    },
    /// List users (active only unless --all)
    List {
        /// Include dismissed users
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        pages: PageArgs,
    },
    /// Show one user
    Show { login: String },
    /// Dismiss a user (admins only)
    Dismiss { login: String },
    /// Rename a user, change their position or language (admins only)
    #[command(group(clap::ArgGroup::new("change").required(true).multiple(true).args(["name", "position", "user_language"])))]
    Update {
        login: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        position: Option<String>,
        /// The language the person reads (en, pl, ru; "" for the portal's)
        #[arg(long, value_name = "LANG")]
        user_language: Option<String>,
    },
    /// Show the user the token belongs to
    Whoami,
    /// Make an extranet user an employee, keeping their groups and tasks
    MoveToIntranet { login: String },
    /// Make an employee an extranet user (the portal refuses this and says what to do instead)
    MoveToExtranet { login: String },
    /// Change a user's e-mail address, freeing the old one (admins only)
    SetEmail { login: String, email: String },
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

/// Who may invite new people into a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvitePolicyArg {
    /// The owner only
    #[value(alias = "owners")]
    Owner,
    /// The owner and the moderators
    #[value(alias = "moderator")]
    Moderators,
    /// Every member
    #[value(alias = "member")]
    Members,
}

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Create a workgroup owned by the caller, optionally inviting external users
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Make the group available in extranet (external users may be invited)
        #[arg(long)]
        extranet: bool,
        /// Who may invite new members (the portal's default: owner)
        #[arg(long, value_enum, value_name = "POLICY")]
        invite_policy: Option<InvitePolicyArg>,
        /// Invite this e-mail address as an extranet user (repeatable; needs --extranet)
        #[arg(long = "invite", value_name = "EMAIL", requires = "extranet")]
        invites: Vec<String>,
    },
    /// Change a group's name, description, extranet availability or invite policy
    #[command(override_usage = "portalctl group update <ID> [--name N] [--description D] \
        [--extranet | --no-extranet] [--invite-policy owner|moderators|members]")]
    #[command(group(
        ArgGroup::new("change")
            .required(true)
            .multiple(true)
            .args(["name", "description", "extranet", "no_extranet", "invite_policy"])
    ))]
    Update {
        id: u64,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Make the group available in extranet
        #[arg(long, conflicts_with = "no_extranet")]
        extranet: bool,
        /// Make the group unavailable in extranet
        #[arg(long)]
        no_extranet: bool,
        /// Who may invite new members
        #[arg(long, value_enum, value_name = "POLICY")]
        invite_policy: Option<InvitePolicyArg>,
    },
    /// Invite an external user into an extranet group by e-mail
    Invite {
        /// The group's id
        #[arg(value_name = "GROUP_ID")]
        id: u64,
        #[arg(long)]
        email: String,
        /// The invitee's language (en, pl, ru) for the invitation; default: the portal's
        #[arg(long, value_name = "LANG", default_value = "")]
        invitee_language: String,
    },
    /// Show a group and its members
    Show { id: u64 },
    /// List groups
    List {
        #[command(flatten)]
        pages: PageArgs,
        /// Fetch every page (as --all-pages)
        #[arg(long)]
        all: bool,
    },
    /// Add a member to a group
    AddMember {
        id: u64,
        login: String,
        #[arg(long, value_enum, default_value_t = RoleArg::Member)]
        role: RoleArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum InviteCmd {
    /// Invite an external user by e-mail into an extranet group
    Send {
        #[arg(long)]
        email: String,
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
        group: u64,
        /// The invitee's language (en, pl, ru) for the invitation; default: the portal's
        #[arg(long, value_name = "LANG", default_value = "")]
        invitee_language: String,
    },
    /// List invitations (pending only unless --all)
    List {
        /// Only this group's invitations
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64).range(1..))]
        group: Option<u64>,
        /// Include accepted, expired and revoked invitations
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        pages: PageArgs,
    },
    /// Send an invitation again with a new link (the old one stops working)
    Resend { id: u64 },
    /// Revoke a pending invitation
    Revoke { id: u64 },
    /// Accept an invitation and join the portal (needs no API token)
    Accept {
        /// The invitation token from the invitation e-mail
        // Not named `token`: that id belongs to the global --token.
        #[arg(value_name = "TOKEN")]
        invitation_token: String,
        /// Your display name
        #[arg(long)]
        name: String,
        /// Desired login (default: derived from the e-mail address)
        #[arg(long)]
        login: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TaskCmd {
    /// Create a task
    Create {
        title: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Defaults to the caller. A login, login@portal, or mailto:name@example.com
        /// for someone who takes part by e-mail (also for --accomplice, --observer)
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
        #[command(flatten)]
        pages: PageArgs,
        /// Fetch every page (as --all-pages)
        #[arg(long)]
        all: bool,
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
    History {
        id: u64,
        /// Check every signature and the hash chain, and print the head hash
        #[arg(long)]
        verify: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum PortalCmd {
    /// Portal identity, version and limits
    Info,
    /// The plan's seats (employees and extranet users count alike)
    #[command(subcommand)]
    Plan(PlanCmd),
    /// Cross-portal delivery queue per destination portal (admins only)
    Outbox {
        #[command(subcommand)]
        cmd: Option<OutboxCmd>,
    },
    /// Background workers: state, last error, next try (admins only)
    Workers,
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Try delivering to a portal now, whatever its backoff
    Retry { portal: String },
}

#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Show the seat limit and how many seats are taken
    Show,
    /// Set the seat limit (admins only)
    Set {
        /// Business users allowed; 0 = unlimited
        #[arg(long, value_name = "N")]
        seats: u32,
    },
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

#[derive(Debug, Subcommand)]
pub enum NetworkCmd {
    /// Switch network communication on for all users of the portal (admins only)
    Enable,
    /// Switch network communication off for all users of the portal (admins only)
    Disable,
    /// Show whether network communication is on and since when
    Status,
    /// Search people of the Network directory (employees only)
    Search {
        query: String,
        /// People per page, 1-50 (the directory's default: 20)
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=50))]
        limit: Option<u32>,
        /// People to skip (the directory says when there are more)
        #[arg(long, value_name = "N", default_value_t = 0)]
        offset: u32,
    },
    /// The caller's own Network account
    #[command(subcommand)]
    Account(AccountCmd),
}

#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Change the e-mail address of your Network account, freeing the old one
    SetEmail { email: String },
    /// Your Network account and the addresses of other portals asking to join it
    Requests,
    /// Agree that ADDRESS (login@portal, published with your e-mail) joins your
    /// Network account
    Approve { address: String },
}

impl Command {
    /// Whether the command acts as the user an API token names. `invite accept` does
    /// not: the invitation token is its credential, so no API token is sent with it.
    pub fn needs_token(&self) -> bool {
        !matches!(self, Command::Invite(InviteCmd::Accept { .. }))
    }
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
        let Command::User(UserCmd::Add { login, name, email, position, admin, .. }) = a.command else {
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
    fn group_create_with_extranet_invites() {
        let a = parse(&[
            "group",
            "create",
            "Contractors",
            "--extranet",
            "--invite-policy",
            "moderators",
            "--invite",
            "a@x.test",
            "--invite",
            "b@x.test",
        ])
        .unwrap();
        let Command::Group(GroupCmd::Create { name, description, extranet, invite_policy, invites }) =
            a.command
        else {
            panic!("wrong command");
        };
        assert_eq!(name, "Contractors");
        assert_eq!(description, "");
        assert!(extranet);
        assert_eq!(invite_policy, Some(InvitePolicyArg::Moderators));
        assert_eq!(invites, ["a@x.test", "b@x.test"]);

        let a = parse(&["group", "create", "Plain"]).unwrap();
        let Command::Group(GroupCmd::Create { extranet, invite_policy, invites, .. }) = a.command else {
            panic!("wrong command");
        };
        assert!(!extranet);
        assert_eq!(invite_policy, None);
        assert!(invites.is_empty());

        // Invitations need an extranet group (R2).
        let err = parse(&["group", "create", "G", "--invite", "a@x.test"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        let err = parse(&["group", "create", "G", "--invite-policy", "everyone"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
    }

    #[test]
    fn invite_policies_parse() {
        for (word, want) in [
            ("owner", InvitePolicyArg::Owner),
            ("moderators", InvitePolicyArg::Moderators),
            ("moderator", InvitePolicyArg::Moderators),
            ("members", InvitePolicyArg::Members),
            ("member", InvitePolicyArg::Members),
        ] {
            let a = parse(&["group", "update", "3", "--invite-policy", word]).unwrap();
            let Command::Group(GroupCmd::Update { id, invite_policy, extranet, no_extranet, .. }) = a.command
            else {
                panic!("wrong command");
            };
            assert_eq!((id, invite_policy), (3, Some(want)), "{word}");
            assert!(!extranet && !no_extranet);
        }
    }

    #[test]
    fn group_update_needs_a_change_and_refuses_conflicts() {
        let err = parse(&["group", "update", "3"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
        let err = parse(&["group", "update", "3", "--extranet", "--no-extranet"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
        let a = parse(&["group", "update", "3", "--no-extranet"]).unwrap();
        assert!(matches!(
            a.command,
            Command::Group(GroupCmd::Update {
                id: 3,
                extranet: false,
                no_extranet: true,
                name: None,
                description: None,
                invite_policy: None
            })
        ));
        let a = parse(&["group", "update", "3", "--name", "New", "--description", "", "--extranet"]).unwrap();
        let Command::Group(GroupCmd::Update { name, description, extranet, .. }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!(name.as_deref(), Some("New"));
        assert_eq!(description.as_deref(), Some(""));
        assert!(extranet);
    }

    #[test]
    fn group_invite_and_invite_send() {
        let a = parse(&["group", "invite", "5", "--email", "c@x.test"]).unwrap();
        let Command::Group(GroupCmd::Invite { id, email, .. }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!((id, email.as_str()), (5, "c@x.test"));
        assert_eq!(parse(&["group", "invite", "5"]).unwrap_err().kind(), ErrorKind::MissingRequiredArgument);

        let a = parse(&["invite", "send", "--email", "c@x.test", "--group", "5"]).unwrap();
        let Command::Invite(InviteCmd::Send { email, group, .. }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!((email.as_str(), group), ("c@x.test", 5));
        assert_eq!(
            parse(&["invite", "send", "--email", "c@x.test"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        assert!(parse(&["invite", "send", "--email", "c@x.test", "--group", "0"]).is_err());
    }

    #[test]
    fn invite_list_resend_revoke() {
        let a = parse(&["invite", "list"]).unwrap();
        assert!(matches!(a.command, Command::Invite(InviteCmd::List { group: None, all: false, .. })));
        let a = parse(&["invite", "list", "--group", "4", "--all"]).unwrap();
        assert!(matches!(a.command, Command::Invite(InviteCmd::List { group: Some(4), all: true, .. })));
        let a = parse(&["invite", "resend", "9"]).unwrap();
        assert!(matches!(a.command, Command::Invite(InviteCmd::Resend { id: 9 })));
        let a = parse(&["invite", "revoke", "9"]).unwrap();
        assert!(matches!(a.command, Command::Invite(InviteCmd::Revoke { id: 9 })));
        assert!(parse(&["invite", "revoke", "nine"]).is_err());
    }

    #[test]
    fn invite_accept_needs_no_api_token() {
        let a = parse(&["invite", "accept", "inv_abc", "--name", "Jan Nowak", "--login", "jan"]).unwrap();
        assert!(!a.command.needs_token());
        let Command::Invite(InviteCmd::Accept { invitation_token, name, login }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!(
            (invitation_token.as_str(), name.as_str(), login.as_deref()),
            ("inv_abc", "Jan Nowak", Some("jan"))
        );
        // The invitation token and a global --token do not get mixed up.
        let a = parse(&["--token", "pn_api", "invite", "accept", "inv_abc", "--name", "J"]).unwrap();
        assert_eq!(a.global.token.as_deref(), Some("pn_api"));
        assert!(matches!(
            a.command,
            Command::Invite(InviteCmd::Accept { invitation_token, .. }) if invitation_token == "inv_abc"
        ));
        let a = parse(&["invite", "accept", "inv_abc", "--name", "Jan"]).unwrap();
        assert!(matches!(a.command, Command::Invite(InviteCmd::Accept { login: None, .. })));
        assert_eq!(
            parse(&["invite", "accept", "inv_abc"]).unwrap_err().kind(),
            ErrorKind::MissingRequiredArgument
        );
        assert!(parse(&["invite", "list"]).unwrap().command.needs_token());
        assert!(parse(&["user", "whoami"]).unwrap().command.needs_token());
    }

    #[test]
    fn user_moves_and_email() {
        let a = parse(&["user", "move-to-intranet", "jan"]).unwrap();
        assert!(matches!(a.command, Command::User(UserCmd::MoveToIntranet { login }) if login == "jan"));
        let a = parse(&["user", "move-to-extranet", "anna"]).unwrap();
        assert!(matches!(a.command, Command::User(UserCmd::MoveToExtranet { login }) if login == "anna"));
        let a = parse(&["user", "set-email", "anna", "anna@new.test"]).unwrap();
        let Command::User(UserCmd::SetEmail { login, email }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!((login.as_str(), email.as_str()), ("anna", "anna@new.test"));
        assert!(parse(&["user", "set-email", "anna"]).is_err());
    }

    #[test]
    fn portal_plan() {
        assert!(matches!(parse(&["portal", "info"]).unwrap().command, Command::Portal(PortalCmd::Info)));
        let a = parse(&["portal", "plan", "show"]).unwrap();
        assert!(matches!(a.command, Command::Portal(PortalCmd::Plan(PlanCmd::Show))));
        let a = parse(&["portal", "plan", "set", "--seats", "0"]).unwrap();
        assert!(matches!(a.command, Command::Portal(PortalCmd::Plan(PlanCmd::Set { seats: 0 }))));
        let a = parse(&["portal", "plan", "set", "--seats", "25", "--json"]).unwrap();
        assert!(a.global.json);
        assert!(matches!(a.command, Command::Portal(PortalCmd::Plan(PlanCmd::Set { seats: 25 }))));
        assert_eq!(parse(&["portal", "plan", "set"]).unwrap_err().kind(), ErrorKind::MissingRequiredArgument);
        assert!(parse(&["portal", "plan", "set", "--seats", "-1"]).is_err());
        assert!(parse(&["portal", "plan", "set", "--seats", "lots"]).is_err());
    }

    #[test]
    fn network_switches_and_status() {
        let a = parse(&["network", "enable"]).unwrap();
        assert!(matches!(a.command, Command::Network(NetworkCmd::Enable)));
        assert!(a.command.needs_token());
        let a = parse(&["network", "disable", "--json"]).unwrap();
        assert!(a.global.json);
        assert!(matches!(a.command, Command::Network(NetworkCmd::Disable)));
        assert!(matches!(
            parse(&["network", "status"]).unwrap().command,
            Command::Network(NetworkCmd::Status)
        ));
        assert!(parse(&["network", "enable", "now"]).is_err());
        assert!(parse(&["network"]).is_err());
    }

    #[test]
    fn network_search_paging() {
        let a = parse(&["network", "search", "anna"]).unwrap();
        let Command::Network(NetworkCmd::Search { query, limit, offset }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!((query.as_str(), limit, offset), ("anna", None, 0));
        let a = parse(&["network", "search", "Anna K", "--limit", "50", "--offset", "40"]).unwrap();
        let Command::Network(NetworkCmd::Search { query, limit, offset }) = a.command else {
            panic!("wrong command");
        };
        assert_eq!((query.as_str(), limit, offset), ("Anna K", Some(50), 40));
        assert_eq!(parse(&["network", "search"]).unwrap_err().kind(), ErrorKind::MissingRequiredArgument);
        assert!(parse(&["network", "search", "a", "--limit", "0"]).is_err());
        assert!(parse(&["network", "search", "a", "--limit", "51"]).is_err());
        assert!(parse(&["network", "search", "a", "--offset", "-1"]).is_err());
    }

    #[test]
    fn network_account_set_email() {
        let a = parse(&["network", "account", "set-email", "anna@new.test"]).unwrap();
        let Command::Network(NetworkCmd::Account(AccountCmd::SetEmail { email })) = a.command else {
            panic!("wrong command");
        };
        assert_eq!(email, "anna@new.test");
        let a = parse(&["network", "account", "approve", "anna@beta.test"]).unwrap();
        assert!(matches!(
            a.command,
            Command::Network(NetworkCmd::Account(AccountCmd::Approve { ref address })) if address == "anna@beta.test"
        ));
        assert!(parse(&["network", "account", "approve"]).is_err());
        let a = parse(&["network", "account", "requests"]).unwrap();
        assert!(matches!(a.command, Command::Network(NetworkCmd::Account(AccountCmd::Requests))));
        let err = parse(&["network", "account", "set-email"]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn login_lists() {
        assert_eq!(split_logins(""), Vec::<String>::new());
        assert_eq!(split_logins("a, b,,c "), ["a", "b", "c"]);
    }
}
