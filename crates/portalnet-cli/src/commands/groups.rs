//! `group ...`: workgroups, their members and extranet settings (R1, R2, R5).

use anyhow::Result;
use portalnet_proto::v1::{
    AddMemberRequest, CreateGroupRequest, GetGroupRequest, GroupRole, InvitePolicy, ListGroupsRequest,
    UpdateGroupRequest,
};

use crate::args::{GroupCmd, InvitePolicyArg, RoleArg};
use crate::client::Conn;
use crate::commands::invites::{self, notice_text};
use crate::commands::users::yes_no;
use crate::output::Output;
use crate::paging::{self, PageArgs};
use crate::table::{Table, clean, key_values};
use crate::views::{CreateGroupView, GroupView};

pub async fn run(conn: &Conn, cmd: GroupCmd, out: &Output) -> Result<()> {
    let mut groups = conn.groups();
    let group = match cmd {
        GroupCmd::Create { name, description, extranet, invite_policy, invites } => {
            let req = CreateGroupRequest {
                name,
                description,
                extranet,
                invite_policy: invite_policy.map_or(0, |p| policy(p) as i32),
                invite_emails: invites,
            };
            let view = CreateGroupView::try_from(groups.create_group(req).await?.into_inner())?;
            return out.show(&view, created_block);
        }
        GroupCmd::Update { id, name, description, extranet, no_extranet, invite_policy } => {
            let req = UpdateGroupRequest {
                id,
                name,
                description,
                extranet: if extranet {
                    Some(true)
                } else if no_extranet {
                    Some(false)
                } else {
                    None
                },
                invite_policy: invite_policy.map_or(0, |p| policy(p) as i32),
            };
            groups.update_group(req).await?.into_inner()
        }
        GroupCmd::Invite { id, email, invitee_language } => {
            return invites::invite(conn, id, email, invitee_language, out).await;
        }
        GroupCmd::Show { id } => groups.get_group(GetGroupRequest { id }).await?.into_inner(),
        GroupCmd::List { pages, all } => {
            let pages = PageArgs { all_pages: pages.all_pages || all, ..pages };
            let list = paging::fetch(pages, "groups", |page_size, page_token| {
                let mut client = conn.groups();
                async move {
                    let r =
                        client.list_groups(ListGroupsRequest { page_size, page_token }).await?.into_inner();
                    Ok((r.groups, r.next_page_token))
                }
            })
            .await?;
            let views: Vec<GroupView> = list.into_iter().map(GroupView::from).collect();
            return out.show(&views, |v| group_table(v));
        }
        GroupCmd::AddMember { id, login, role } => {
            let role = match role {
                RoleArg::Member => GroupRole::Member,
                RoleArg::Moderator => GroupRole::Moderator,
            };
            let req = AddMemberRequest { group_id: id, login, role: role as i32 };
            groups.add_member(req).await?.into_inner()
        }
    };
    out.show(&GroupView::from(group), group_block)
}

fn policy(p: InvitePolicyArg) -> InvitePolicy {
    match p {
        InvitePolicyArg::Owner => InvitePolicy::Owner,
        InvitePolicyArg::Moderators => InvitePolicy::Moderators,
        InvitePolicyArg::Members => InvitePolicy::Members,
    }
}

fn group_block(g: &GroupView) -> String {
    let mut text = key_values(&[
        ("id", g.id.to_string()),
        ("name", g.name.clone()),
        ("description", g.description.clone()),
        ("owner", g.owner.clone()),
        ("extranet", yes_no(g.extranet).into()),
        ("invite policy", g.invite_policy.into()),
        ("created", g.created_at.table()),
    ]);
    let mut members = Table::new(&["MEMBER", "ROLE"]);
    for m in &g.members {
        members.row(vec![m.login.clone(), m.role.into()]);
    }
    if !members.is_empty() {
        text.push('\n');
        text.push_str(&members.render());
    }
    text
}

/// The new group, then one line per invitation sent with it (and its notice, if any).
fn created_block(v: &CreateGroupView) -> String {
    let mut text = group_block(&v.group);
    if !v.invitations.is_empty() {
        text.push('\n');
    }
    for i in &v.invitations {
        let inv = &i.invitation;
        let mut line = format!("invited {}: invitation {}, {}", clean(&inv.email), inv.id, inv.state);
        if let Some(note) = notice_text(&i.notice) {
            line.push_str(&format!("; note: {note}"));
        }
        text.push_str(&line);
        text.push('\n');
    }
    text
}

fn group_table(groups: &[GroupView]) -> String {
    let mut t = Table::new(&["ID", "NAME", "OWNER", "MEMBERS", "EXTRANET", "INVITE_POLICY", "CREATED"])
        .right(&[0, 3]);
    for g in groups {
        t.row(vec![
            g.id.to_string(),
            g.name.clone(),
            g.owner.clone(),
            g.members.len().to_string(),
            yes_no(g.extranet).into(),
            g.invite_policy.into(),
            g.created_at.table(),
        ]);
    }
    if t.is_empty() { "no groups\n".into() } else { t.render() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Millis;
    use crate::views::{InvitationView, InviteView};

    fn group() -> GroupView {
        GroupView {
            id: 3,
            name: "Contractors".into(),
            description: String::new(),
            owner: "anna".into(),
            members: vec![],
            created_at: Millis(0),
            extranet: true,
            invite_policy: "moderators",
        }
    }

    #[test]
    fn group_shows_extranet_and_invite_policy() {
        let text = group_block(&group());
        assert!(text.contains("\nextranet:       yes\n"), "{text}");
        assert!(text.contains("\ninvite policy:  moderators\n"), "{text}");
        let text = group_table(&[group()]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "ID  NAME         OWNER  MEMBERS  EXTRANET  INVITE_POLICY  CREATED");
        assert_eq!(lines[1], " 3  Contractors  anna         0  yes       moderators     -");
    }

    #[test]
    fn created_group_lists_its_invitations() {
        let invite = |id, email: &str, notice: &str| InviteView {
            invitation: InvitationView {
                id,
                email: email.into(),
                group_id: 3,
                group_name: "Contractors".into(),
                inviter: "anna".into(),
                state: "pending",
                created_at: Millis(0),
                expires_at: Millis(0),
                admits_to_group: true,
                accepted_login: String::new(),
                language: String::new(),
            },
            notice: notice.into(),
        };
        let v = CreateGroupView {
            group: group(),
            invitations: vec![invite(11, "a@x.test", ""), invite(12, "b@x.test", "b joins\nthe portal only")],
        };
        let text = created_block(&v);
        assert!(text.starts_with(&group_block(&v.group)), "{text}");
        assert!(
            text.ends_with(
                "\ninvited a@x.test: invitation 11, pending\n\
                 invited b@x.test: invitation 12, pending; note: b joins the portal only\n"
            ),
            "{text}"
        );
        let v = CreateGroupView { group: group(), invitations: vec![] };
        assert_eq!(created_block(&v), group_block(&v.group));
    }
}
