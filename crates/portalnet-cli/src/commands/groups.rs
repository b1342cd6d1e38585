//! `group ...`: workgroups and their members.

use anyhow::Result;
use portalnet_proto::v1::{
    AddMemberRequest, CreateGroupRequest, GetGroupRequest, GroupRole, ListGroupsRequest,
};

use crate::args::{GroupCmd, RoleArg};
use crate::client::Conn;
use crate::output::Output;
use crate::table::{Table, key_values};
use crate::views::GroupView;

pub async fn run(conn: &Conn, cmd: GroupCmd, out: &Output) -> Result<()> {
    let mut groups = conn.groups();
    let group = match cmd {
        GroupCmd::Create { name, description } => {
            groups.create_group(CreateGroupRequest { name, description }).await?.into_inner()
        }
        GroupCmd::Show { id } => groups.get_group(GetGroupRequest { id }).await?.into_inner(),
        GroupCmd::List => {
            let list = groups.list_groups(ListGroupsRequest {}).await?.into_inner();
            let views: Vec<GroupView> = list.groups.into_iter().map(GroupView::from).collect();
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

fn group_block(g: &GroupView) -> String {
    let mut text = key_values(&[
        ("id", g.id.to_string()),
        ("name", g.name.clone()),
        ("description", g.description.clone()),
        ("owner", g.owner.clone()),
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

fn group_table(groups: &[GroupView]) -> String {
    let mut t = Table::new(&["ID", "NAME", "OWNER", "MEMBERS", "CREATED"]).right(&[0, 3]);
    for g in groups {
        t.row(vec![
            g.id.to_string(),
            g.name.clone(),
            g.owner.clone(),
            g.members.len().to_string(),
            g.created_at.table(),
        ]);
    }
    if t.is_empty() { "no groups\n".into() } else { t.render() }
}
