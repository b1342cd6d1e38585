//! `invite ...` and `group invite`: invitations of external (extranet) users into
//! groups (R1–R6), and accepting one (R4).

use std::io::Write;

use anyhow::Result;
use portalnet_proto::v1::{AcceptRequest, InvitationRef, InviteRequest, ListInvitationsRequest};

use crate::args::InviteCmd;
use crate::client::Conn;
use crate::commands::users::{shell_quote, yes_no};
use crate::output::Output;
use crate::paging;
use crate::table::{Table, clean, key_values};
use crate::views::{AcceptView, InvitationView, InviteView};

pub async fn run(conn: &Conn, cmd: InviteCmd, out: &Output) -> Result<()> {
    let mut invitations = conn.invitations();
    let invitation = match cmd {
        InviteCmd::Send { email, group, invitee_language } => {
            return invite(conn, group, email, invitee_language, out).await;
        }
        InviteCmd::List { group, all, pages } => {
            let list = paging::fetch(pages, "invitations", |page_size, page_token| {
                let mut client = conn.invitations();
                async move {
                    let req =
                        ListInvitationsRequest { group_id: group.unwrap_or(0), all, page_size, page_token };
                    let r = client.list_invitations(req).await?.into_inner();
                    Ok((r.invitations, r.next_page_token))
                }
            })
            .await?;
            let views: Vec<InvitationView> = list.into_iter().map(InvitationView::from).collect();
            return out.show(&views, |v| invitation_table(v, all));
        }
        InviteCmd::Resend { id } => invitations.resend(InvitationRef { id }).await?.into_inner(),
        InviteCmd::Revoke { id } => invitations.revoke(InvitationRef { id }).await?.into_inner(),
        InviteCmd::Accept { invitation_token, name, login } => {
            let req = AcceptRequest {
                token: invitation_token,
                display_name: name,
                login: login.unwrap_or_default(),
            };
            let view = AcceptView::from(invitations.accept(req).await?.into_inner());
            out.show(&view, accept_block)?;
            if !out.json && !view.api_token.is_empty() {
                // As with `token issue`: the hint on stderr, the details on stdout.
                let hint = format!("export PORTALCTL_TOKEN={}", shell_quote(&view.api_token));
                let _ = writeln!(std::io::stderr(), "{hint}");
            }
            return Ok(());
        }
    };
    out.show(&InvitationView::from(invitation), invitation_block)
}

/// Invites `email` into group `group_id` (`group invite` and `invite send`).
pub async fn invite(conn: &Conn, group_id: u64, email: String, language: String, out: &Output) -> Result<()> {
    let resp = conn.invitations().invite(InviteRequest { email, group_id, language }).await?.into_inner();
    out.show(&InviteView::try_from(resp)?, invite_block)
}

fn group_text(i: &InvitationView) -> String {
    if i.group_name.is_empty() {
        i.group_id.to_string()
    } else {
        format!("{} ({})", i.group_id, i.group_name)
    }
}

fn invitation_block(i: &InvitationView) -> String {
    let mut pairs = vec![
        ("id", i.id.to_string()),
        ("email", i.email.clone()),
        ("group", group_text(i)),
        ("joins group", yes_no(i.admits_to_group).into()),
        ("inviter", i.inviter.clone()),
        ("state", i.state.into()),
        ("created", i.created_at.table()),
        ("expires", i.expires_at.table()),
    ];
    if !i.accepted_login.is_empty() {
        pairs.push(("accepted as", i.accepted_login.clone()));
    }
    key_values(&pairs)
}

/// The invitation, then the portal's notice (e.g. R6) on its own `note:` line.
fn invite_block(v: &InviteView) -> String {
    let mut text = invitation_block(&v.invitation);
    if let Some(note) = notice_text(&v.notice) {
        text.push_str(&format!("note: {note}\n"));
    }
    text
}

/// The portal's notice on one line, or None when it had nothing to say.
pub fn notice_text(notice: &str) -> Option<String> {
    let notice = clean(notice.trim());
    (!notice.is_empty()).then_some(notice)
}

fn invitation_table(invitations: &[InvitationView], all: bool) -> String {
    let mut t = Table::new(&["ID", "EMAIL", "GROUP", "STATE", "INVITER", "EXPIRES", "LOGIN"]).right(&[0]);
    for i in invitations {
        t.row(vec![
            i.id.to_string(),
            i.email.clone(),
            group_text(i),
            i.state.into(),
            i.inviter.clone(),
            i.expires_at.table(),
            i.accepted_login.clone(),
        ]);
    }
    match (t.is_empty(), all) {
        (false, _) => t.render(),
        (true, true) => "no invitations\n".into(),
        (true, false) => "no pending invitations (--all shows the others)\n".into(),
    }
}

fn accept_block(a: &AcceptView) -> String {
    let mut pairs = Vec::new();
    if let Some(u) = &a.user {
        pairs.extend([
            ("login", u.login.clone()),
            ("name", u.display_name.clone()),
            ("email", u.email.clone()),
            ("kind", u.kind.into()),
        ]);
    }
    let groups = if a.group_ids.is_empty() {
        "none".to_string()
    } else {
        a.group_ids.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
    };
    pairs.extend([("portal", a.portal_id.clone()), ("groups", groups), ("token", a.api_token.clone())]);
    key_values(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Millis;
    use crate::views::UserView;

    fn invitation() -> InvitationView {
        InvitationView {
            id: 11,
            email: "jan@ext.test".into(),
            group_id: 3,
            group_name: "Contractors".into(),
            inviter: "anna".into(),
            state: "pending",
            created_at: Millis(0),
            expires_at: Millis(1_796_169_599_000),
            admits_to_group: false,
            accepted_login: String::new(),
            language: String::new(),
        }
    }

    #[test]
    fn invite_shows_the_notice_on_its_own_line() {
        let v =
            InviteView { invitation: invitation(), notice: "jan joins the portal,\nnot the group".into() };
        let text = invite_block(&v);
        assert!(
            text.starts_with("id:           11\nemail:        jan@ext.test\ngroup:        3 (Contractors)\n"),
            "{text}"
        );
        assert!(text.contains("state:        pending\n"), "{text}");
        assert!(text.contains("expires:      2026-12-01 23:59\n"), "{text}");
        assert!(text.ends_with("\nnote: jan joins the portal, not the group\n"), "{text}");
        let v = InviteView { invitation: invitation(), notice: String::new() };
        assert!(!invite_block(&v).contains("note"));
    }

    #[test]
    fn invitation_list() {
        assert_eq!(invitation_table(&[], false), "no pending invitations (--all shows the others)\n");
        assert_eq!(invitation_table(&[], true), "no invitations\n");
        let mut accepted = invitation();
        accepted.state = "accepted";
        accepted.accepted_login = "jan".into();
        let text = invitation_table(&[invitation(), accepted], true);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID  EMAIL         GROUP            STATE     INVITER  EXPIRES           LOGIN");
        assert_eq!(lines[1], "11  jan@ext.test  3 (Contractors)  pending   anna     2026-12-01 23:59");
        assert!(lines[2].ends_with("accepted  anna     2026-12-01 23:59  jan"), "{text}");
    }

    #[test]
    fn accept_block_has_login_portal_groups_and_token() {
        let a = AcceptView {
            user: Some(UserView {
                login: "jan".into(),
                display_name: "Jan Nowak".into(),
                email: "jan@ext.test".into(),
                position: String::new(),
                kind: "extranet",
                state: "active",
                admin: false,
                created_at: Millis(0),
                language: String::new(),
            }),
            api_token: "pn_secret".into(),
            group_ids: vec![3, 5],
            portal_id: "alpha.test".into(),
        };
        assert_eq!(
            accept_block(&a),
            "login:   jan\nname:    Jan Nowak\nemail:   jan@ext.test\nkind:    extranet\n\
             portal:  alpha.test\ngroups:  3, 5\ntoken:   pn_secret\n"
        );
        let a = AcceptView { user: None, api_token: "t".into(), group_ids: vec![], portal_id: "p".into() };
        assert_eq!(accept_block(&a), "portal:  p\ngroups:  none\ntoken:   t\n");
    }
}
