//! `portal info` and `portal plan ...` (seats, R8).

use anyhow::Result;
use portalnet_proto::v1::{
    GetPlanRequest, InfoRequest, OutboxRequest, RetryOutboxRequest, SetPlanRequest, WorkersRequest,
};

use crate::args::{OutboxCmd, PlanCmd, PortalCmd};
use crate::client::Conn;
use crate::output::Output;
use crate::table::Table;
use crate::table::key_values;
use crate::views::{OutboxView, PlanView, PortalView, WorkerView};

pub async fn run(conn: &Conn, cmd: PortalCmd, out: &Output) -> Result<()> {
    let mut portal = conn.portal();
    let plan = match cmd {
        PortalCmd::Info => {
            let info = portal.info(InfoRequest {}).await?.into_inner();
            return out.show(&PortalView::from(info), info_block);
        }
        PortalCmd::Plan(PlanCmd::Show) => portal.get_plan(GetPlanRequest {}).await?.into_inner(),
        PortalCmd::Plan(PlanCmd::Set { seats }) => {
            portal.set_plan(SetPlanRequest { seats }).await?.into_inner()
        }
        PortalCmd::Outbox { cmd } => {
            let rows = match cmd {
                // Every destination: the operator's whole view, page by page.
                None => {
                    let every = crate::paging::PageArgs { all_pages: true, ..Default::default() };
                    crate::paging::fetch(every, "destinations", |page_size, page_token| {
                        let mut client = conn.portal();
                        async move {
                            let r =
                                client.outbox(OutboxRequest { page_size, page_token }).await?.into_inner();
                            Ok((r.rows, r.next_page_token))
                        }
                    })
                    .await?
                }
                Some(OutboxCmd::Retry { portal: id }) => {
                    portal.retry_outbox(RetryOutboxRequest { portal_id: id }).await?.into_inner().rows
                }
            };
            let views: Vec<OutboxView> = rows.into_iter().map(OutboxView::from).collect();
            return out.show(&views, |v| outbox_table(v));
        }
        PortalCmd::Workers => {
            let rows = portal.workers(WorkersRequest {}).await?.into_inner().workers;
            let views: Vec<WorkerView> = rows.into_iter().map(WorkerView::from).collect();
            return out.show(&views, |v| workers_table(v));
        }
    };
    out.show(&PlanView::from(plan), plan_block)
}

fn info_block(p: &PortalView) -> String {
    let mut pairs = vec![
        ("portal", p.portal_id.clone()),
        ("name", p.display_name.clone()),
        ("version", p.version.clone()),
        ("endpoints", p.endpoints.join("\n")),
    ];
    if !p.web_url.is_empty() {
        pairs.push(("web url", p.web_url.clone()));
    }
    if !p.task_page_url.is_empty() {
        pairs.push(("task pages", p.task_page_url.clone()));
    }
    pairs.push(("mail domain", p.mail_domain.clone()));
    let off = |s: &str| if s.is_empty() { "off".to_string() } else { s.to_string() };
    pairs.push(("lmtp", off(&p.lmtp_listen)));
    pairs.push(("smtp", off(&p.smtp_listen)));
    pairs.extend([
        ("key fingerprint", p.key_fingerprint.clone()),
        ("public key", p.public_key.clone()),
        ("users", p.user_count.to_string()),
        ("max file size", human_bytes(p.max_file_bytes)),
    ]);
    key_values(&pairs)
}

fn outbox_table(rows: &[OutboxView]) -> String {
    let mut t = Table::new(&[
        "PORTAL",
        "QUEUED",
        "OLDEST",
        "DELIVERED",
        "FAILURES",
        "NEXT TRY",
        "LAST ERROR",
        "REFUSED",
        "LAST REFUSAL",
    ])
    .right(&[1, 3, 4, 7]);
    for r in rows {
        let oldest = if r.depth == 0 { "-".to_string() } else { age(r.oldest_age_ms) };
        let next = if r.next_attempt_at.0 == 0 { "-".to_string() } else { r.next_attempt_at.table() };
        t.row(vec![
            r.portal_id.clone(),
            r.depth.to_string(),
            oldest,
            r.delivered.to_string(),
            r.failed_attempts.to_string(),
            next,
            crate::table::clean(&r.last_error),
            r.refused.to_string(),
            crate::table::clean(&r.last_refusal),
        ]);
    }
    if t.is_empty() { "nothing queued for other portals\n".into() } else { t.render() }
}

fn workers_table(rows: &[WorkerView]) -> String {
    let mut t = Table::new(&["WORKER", "STATE", "FAILURES", "NEXT TRY", "LAST ERROR"]).right(&[2]);
    for r in rows {
        let next = if r.next_try_at.0 == 0 { "-".to_string() } else { r.next_try_at.table() };
        t.row(vec![
            r.name.clone(),
            r.state.replace('_', "-"),
            r.failures.to_string(),
            next,
            crate::table::clean(&r.last_error),
        ]);
    }
    if t.is_empty() { "no background workers\n".into() } else { t.render() }
}

/// `3d 4h`, `12m 5s`: how long an entry has waited.
fn age(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        s if s >= 86_400 => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

fn plan_block(p: &PlanView) -> String {
    let seats = if p.seats == 0 { "unlimited".to_string() } else { p.seats.to_string() };
    key_values(&[
        ("seats", seats),
        ("used", p.used.to_string()),
        ("employees", p.employees.to_string()),
        ("extranet", p.extranet.to_string()),
    ])
}

/// `8388608 bytes (8.0 MiB)`: exact for scripts reading tables, readable for people.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{n} bytes ({v:.1} {})", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_shows_unlimited_for_zero_seats() {
        let p = PlanView { seats: 0, used: 5, employees: 3, extranet: 2 };
        assert_eq!(plan_block(&p), "seats:      unlimited\nused:       5\nemployees:  3\nextranet:   2\n");
        let p = PlanView { seats: 10, ..p };
        assert!(plan_block(&p).starts_with("seats:      10\n"));
    }

    #[test]
    fn web_url_only_when_set() {
        let mut p = PortalView::from(portalnet_proto::v1::PortalInfo {
            portal_id: "alpha.test".into(),
            endpoints: vec!["https://127.0.0.1:7401".into()],
            ..Default::default()
        });
        assert!(!info_block(&p).contains("web url"));
        p.web_url = "https://alpha.test".into();
        let text = info_block(&p);
        assert!(text.contains("\nweb url:          https://alpha.test\n"), "{text}");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(human_bytes(0), "0 bytes");
        assert_eq!(human_bytes(1023), "1023 bytes");
        assert_eq!(human_bytes(8 * 1024 * 1024), "8388608 bytes (8.0 MiB)");
        assert_eq!(human_bytes(1536), "1536 bytes (1.5 KiB)");
    }
}
