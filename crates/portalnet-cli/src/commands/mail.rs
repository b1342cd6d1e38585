//! `mail address show|reset` (R18) and `mail link list|revoke` (R21, R22).

use anyhow::Result;
use portalnet_proto::v1::{ListLinksRequest, MailAddressRequest, RevokeLinkRequest};

use crate::args::{MailAddressCmd, MailCmd, MailLinkCmd};
use crate::client::Conn;
use crate::output::Output;
use crate::paging::{self, PageArgs};
use crate::table::{Table, key_values};
use crate::views::{MailAddressView, TaskLinkView};

pub async fn run(conn: &Conn, cmd: MailCmd, out: &Output) -> Result<()> {
    let mut mail = conn.mail();
    match cmd {
        MailCmd::Address(c) => {
            let a = match c {
                MailAddressCmd::Show => {
                    mail.show_address(MailAddressRequest { login: String::new() }).await?
                }
                MailAddressCmd::Reset { login } => {
                    mail.reset_address(MailAddressRequest { login: login.unwrap_or_default() }).await?
                }
            };
            out.show(&MailAddressView::from(a.into_inner()), |v| {
                let shown = if v.address.is_empty() {
                    "(reset; only its owner sees the new one, with `portalctl mail address show`)".to_string()
                } else {
                    v.address.clone()
                };
                key_values(&[("login", v.login.clone()), ("address", shown), ("since", v.created_at.table())])
            })
        }
        MailCmd::Link(MailLinkCmd::List { task, pages, all }) => {
            let pages = PageArgs { all_pages: pages.all_pages || all, ..pages };
            let links = paging::fetch(pages, "links", |page_size, page_token| {
                let mut client = conn.mail();
                async move {
                    let req = ListLinksRequest { task_id: task, page_size, page_token };
                    let r = client.list_links(req).await?.into_inner();
                    Ok((r.links, r.next_page_token))
                }
            })
            .await?;
            let views: Vec<TaskLinkView> = links.into_iter().map(TaskLinkView::from).collect();
            out.show(&views, |v| links_table(v))
        }
        MailCmd::Link(MailLinkCmd::Revoke { task, address }) => {
            let l = mail.revoke_link(RevokeLinkRequest { task_id: task, address }).await?.into_inner();
            let views = vec![TaskLinkView::from(l)];
            out.show(&views, |v| links_table(v))
        }
    }
}

fn links_table(rows: &[TaskLinkView]) -> String {
    let mut t = Table::new(&["TASK", "PARTICIPANT", "STATE", "NOTICES", "SINCE"]).right(&[0, 3]);
    for r in rows {
        t.row(vec![
            r.task_id.to_string(),
            r.participant.clone(),
            if r.revoked { "revoked".into() } else { "live".into() },
            r.notices_sent.to_string(),
            r.created_at.table(),
        ]);
    }
    t.render()
}
