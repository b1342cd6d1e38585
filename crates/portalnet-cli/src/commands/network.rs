//! `network ...`: switching network communication on and off (R13–R15), searching
//! the Network directory (R16) and the caller's Network account (R11).

use anyhow::Result;
use portalnet_proto::v1::{ApproveAccountLinkRequest, NetworkRequest, SearchRequest, SetAccountEmailRequest};

use crate::args::{AccountCmd, NetworkCmd};
use crate::client::Conn;
use crate::commands::users::yes_no;
use crate::output::Output;
use crate::table::{Table, key_values};
use crate::views::{AccountView, NetworkView, SearchView};

pub async fn run(conn: &Conn, cmd: NetworkCmd, out: &Output) -> Result<()> {
    let mut network = conn.network();
    let status = match cmd {
        NetworkCmd::Enable => network.enable(NetworkRequest {}).await?.into_inner(),
        NetworkCmd::Disable => network.disable(NetworkRequest {}).await?.into_inner(),
        NetworkCmd::Status => network.status(NetworkRequest {}).await?.into_inner(),
        NetworkCmd::Search { query, limit, offset } => {
            // A limit of 0 asks for the directory's default page size.
            let req = SearchRequest { query, limit: limit.unwrap_or(0), offset };
            let view = SearchView::from(network.search(req).await?.into_inner());
            return out.show(&view, |v| search_table(v, offset));
        }
        NetworkCmd::Account(AccountCmd::SetEmail { email }) => {
            let account = network.set_account_email(SetAccountEmailRequest { email }).await?.into_inner();
            return out.show(&AccountView::from(account), account_block);
        }
        NetworkCmd::Account(AccountCmd::Requests) => {
            let account = network.account_requests(NetworkRequest {}).await?.into_inner();
            return out.show(&AccountView::from(account), account_block);
        }
        NetworkCmd::Account(AccountCmd::Approve { address }) => {
            let req = ApproveAccountLinkRequest { address };
            let account = network.approve_account_link(req).await?.into_inner();
            return out.show(&AccountView::from(account), account_block);
        }
    };
    out.show(&NetworkView::from(status), status_block)
}

fn status_block(n: &NetworkView) -> String {
    let from = n.cross_portal_available_from.table();
    let cross_portal = if from == "-" { from } else { format!("available from {from}") };
    key_values(&[
        ("enabled", yes_no(n.enabled).into()),
        ("enabled since", n.enabled_since.table()),
        ("cross-portal tasks", cross_portal),
        ("available now", yes_no(n.cross_portal_available_now).into()),
        ("directory endpoint", n.directory_endpoint.clone()),
        ("published", n.published.to_string()),
    ])
}

/// The page of people; when the directory has more, a last line says which
/// `--offset` shows the next page.
fn search_table(v: &SearchView, offset: u32) -> String {
    let mut t = Table::new(&["NAME", "POSITION", "PORTAL", "ADDRESS"]);
    for p in &v.people {
        t.row(vec![p.name.clone(), p.position.clone(), p.portal.clone(), p.address.clone()]);
    }
    let mut text = if t.is_empty() { "nobody found\n".into() } else { t.render() };
    if v.more {
        let next = offset.saturating_add(u32::try_from(v.people.len()).unwrap_or(u32::MAX));
        text.push_str(&format!("(more: use --offset {next})\n"));
    }
    text
}

fn account_block(a: &AccountView) -> String {
    let requests = if a.requests.is_empty() { "-".to_string() } else { a.requests.join("\n") };
    key_values(&[
        ("addresses", a.addresses.join("\n")),
        ("owner", if a.owner.is_empty() { "-".into() } else { a.owner.clone() }),
        ("link requests", requests),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Millis;
    use crate::views::PersonView;

    #[test]
    fn status_on_and_off() {
        let on = NetworkView {
            enabled: true,
            enabled_since: Millis(1_796_083_200_000),
            cross_portal_available_from: Millis(1_796_169_599_000),
            cross_portal_available_now: false,
            directory_endpoint: "https://dir.test:7500".into(),
            published: 12,
        };
        assert_eq!(
            status_block(&on),
            "enabled:             yes\n\
             enabled since:       2026-12-01 00:00\n\
             cross-portal tasks:  available from 2026-12-01 23:59\n\
             available now:       no\n\
             directory endpoint:  https://dir.test:7500\n\
             published:           12\n"
        );
        let off = NetworkView::from(portalnet_proto::v1::NetworkStatus::default());
        let text = status_block(&off);
        assert!(text.starts_with("enabled:             no\nenabled since:       -\n"), "{text}");
        assert!(text.contains("\ncross-portal tasks:  -\n"), "{text}");
    }

    fn person(name: &str) -> PersonView {
        PersonView {
            name: name.into(),
            position: "Engineer".into(),
            portal: "beta.test".into(),
            address: format!("{}@beta.test", name.to_lowercase()),
        }
    }

    #[test]
    fn search_pages_point_at_the_next_offset() {
        let v = SearchView { people: vec![person("Anna"), person("Jan")], more: true };
        assert_eq!(
            search_table(&v, 20),
            "NAME  POSITION  PORTAL     ADDRESS\n\
             Anna  Engineer  beta.test  anna@beta.test\n\
             Jan   Engineer  beta.test  jan@beta.test\n\
             (more: use --offset 22)\n"
        );
        let v = SearchView { more: false, ..v };
        assert!(!search_table(&v, 0).contains("more"));
        assert_eq!(search_table(&SearchView { people: vec![], more: false }, 0), "nobody found\n");
    }

    #[test]
    fn account_lists_addresses() {
        let a = AccountView {
            addresses: vec!["anna@alpha.test".into(), "anna@beta.test".into()],
            owner: "anna@alpha.test".into(),
            requests: vec![],
        };
        assert_eq!(
            account_block(&a),
            "addresses:      anna@alpha.test\n                anna@beta.test\n\
             owner:          anna@alpha.test\n\
             link requests:  -\n"
        );
    }
}
