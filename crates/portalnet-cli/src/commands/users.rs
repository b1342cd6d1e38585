//! `user ...` (moving between intranet and extranet: R9, R10; e-mail: R11) and
//! `token issue`.

use std::io::Write;

use anyhow::Result;
use portalnet_proto::v1::{
    AddUserRequest, DismissUserRequest, GetUserRequest, IssueTokenRequest, ListUsersRequest, MoveUserRequest,
    SetEmailRequest, UpdateUserRequest, WhoAmIRequest,
};

use crate::args::{TokenCmd, UserCmd};
use crate::client::Conn;
use crate::output::Output;
use crate::paging;
use crate::table::{Table, key_values};
use crate::views::{TokenView, UserView};

pub async fn run(conn: &Conn, cmd: UserCmd, out: &Output) -> Result<()> {
    let mut users = conn.users();
    let user = match cmd {
        UserCmd::Add { login, name, email, position, admin, user_language } => {
            let req =
                AddUserRequest { login, display_name: name, email, position, admin, language: user_language };
            users.add_user(req).await?.into_inner()
        }
        UserCmd::List { all, pages } => {
            let list = paging::fetch(pages, "users", |page_size, page_token| {
                let mut client = conn.users();
                async move {
                    let req = ListUsersRequest { include_dismissed: all, page_size, page_token };
                    let r = client.list_users(req).await?.into_inner();
                    Ok((r.users, r.next_page_token))
                }
            })
            .await?;
            let views: Vec<UserView> = list.into_iter().map(UserView::from).collect();
            return out.show(&views, |v| user_table(v));
        }
        UserCmd::Show { login } => users.get_user(GetUserRequest { login }).await?.into_inner(),
        UserCmd::Dismiss { login } => users.dismiss_user(DismissUserRequest { login }).await?.into_inner(),
        UserCmd::Update { login, name, position, user_language } => {
            let req = UpdateUserRequest { login, display_name: name, position, language: user_language };
            users.update_user(req).await?.into_inner()
        }
        UserCmd::Whoami => users.who_am_i(WhoAmIRequest {}).await?.into_inner(),
        UserCmd::MoveToIntranet { login } => {
            users.move_to_intranet(MoveUserRequest { login }).await?.into_inner()
        }
        // The portal refuses this (R10) with a message saying what to do instead.
        UserCmd::MoveToExtranet { login } => {
            users.move_to_extranet(MoveUserRequest { login }).await?.into_inner()
        }
        UserCmd::SetEmail { login, email } => {
            users.set_email(SetEmailRequest { login, email }).await?.into_inner()
        }
    };
    out.show(&UserView::from(user), user_block)
}

pub async fn run_token(conn: &Conn, cmd: TokenCmd, out: &Output) -> Result<()> {
    let TokenCmd::Issue { login } = cmd;
    let resp = conn.users().issue_token(IssueTokenRequest { login }).await?.into_inner();
    let view = TokenView { login: resp.login, token: resp.token };
    out.show(&view, |v| format!("{}\n", v.token))?;
    if !out.json {
        // The hint goes to stderr so `$(portalctl token issue bob)` captures just the token.
        let hint = format!("export PORTALCTL_TOKEN={}", shell_quote(&view.token));
        let _ = writeln!(std::io::stderr(), "{hint}");
    }
    Ok(())
}

fn user_block(u: &UserView) -> String {
    key_values(&[
        ("login", u.login.clone()),
        ("name", u.display_name.clone()),
        ("email", u.email.clone()),
        ("position", u.position.clone()),
        ("kind", u.kind.into()),
        ("state", u.state.into()),
        ("admin", yes_no(u.admin).into()),
        ("language", if u.language.is_empty() { "(the portal's)".into() } else { u.language.clone() }),
        ("created", u.created_at.table()),
    ])
}

fn user_table(users: &[UserView]) -> String {
    let mut t = Table::new(&["LOGIN", "NAME", "EMAIL", "POSITION", "KIND", "STATE", "ADMIN"]);
    for u in users {
        t.row(vec![
            u.login.clone(),
            u.display_name.clone(),
            u.email.clone(),
            u.position.clone(),
            u.kind.into(),
            u.state.into(),
            yes_no(u.admin).into(),
        ]);
    }
    if t.is_empty() { "no users\n".into() } else { t.render() }
}

pub fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Single-quotes a value for a POSIX shell unless it is plainly safe.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_.-+/=:@~".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn tokens_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("pn_abc-DEF.123"), "pn_abc-DEF.123");
        assert_eq!(shell_quote("a b'c"), "'a b'\\''c'");
    }
}
