//! `report tasks`: task counts per responsible person, status or group (R24).

use anyhow::Result;
use portalnet_proto::v1::{ReportBy, TaskReportRequest};

use crate::args::{ReportByArg, ReportCmd};
use crate::client::Conn;
use crate::csv;
use crate::output::{Output, write_stdout};
use crate::table::Table;
use crate::views::{ReportRowView, ReportView};

const COLUMNS: [&str; 7] =
    ["total", "new", "in_progress", "awaiting_control", "completed", "deferred", "overdue"];

pub async fn run(conn: &Conn, cmd: ReportCmd, out: &Output) -> Result<()> {
    let ReportCmd::Tasks { by, csv } = cmd;
    let by = match by {
        ReportByArg::Responsible => ReportBy::Responsible,
        ReportByArg::Status => ReportBy::Status,
        ReportByArg::Group => ReportBy::Group,
    };
    let resp = conn.reports().task_report(TaskReportRequest { by: by as i32 }).await?.into_inner();
    // The request says what the rows are keyed by, even if the reply leaves it unset.
    let view = ReportView::from_reply(resp, by_name(by));
    if csv {
        return write_stdout(&to_csv(&view));
    }
    out.show(&view, to_table)
}

fn by_name(by: ReportBy) -> &'static str {
    match by {
        ReportBy::Status => "status",
        ReportBy::Group => "group",
        _ => "responsible",
    }
}

/// By responsible person the rows carry the person's kind (R24) after the key.
fn has_kind(view: &ReportView) -> bool {
    view.by == "responsible"
}

/// Column names (lowercase): the key, `kind` when rows have one, then the counts.
fn headers(view: &ReportView) -> Vec<&'static str> {
    let kind = has_kind(view).then_some("kind");
    std::iter::once(view.by).chain(kind).chain(COLUMNS).collect()
}

fn cells(view: &ReportView, key: &str, row: &ReportRowView) -> Vec<String> {
    let kind = has_kind(view).then(|| row.kind.clone().unwrap_or_default());
    std::iter::once(key.to_string()).chain(kind).chain(row.counts().iter().map(u32::to_string)).collect()
}

/// Header row first, then one row per key, then the totals row keyed "total"
/// (with an empty kind).
pub fn to_csv(view: &ReportView) -> String {
    let mut text = csv::record(&headers(view));
    for row in &view.rows {
        text.push_str(&csv::record(&cells(view, &row.key, row)));
    }
    text.push_str(&csv::record(&cells(view, "total", &view.totals)));
    text
}

fn to_table(view: &ReportView) -> String {
    let headers: Vec<String> = headers(view).iter().map(|h| h.to_uppercase()).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let first_count = headers.len() - COLUMNS.len();
    let counts: Vec<usize> = (first_count..headers.len()).collect();
    let mut t = Table::new(&headers).right(&counts);
    for row in &view.rows {
        t.row(cells(view, &row.key, row));
    }
    t.row(cells(view, "TOTAL", &view.totals));
    format!(
        "{}with e-mail participants: {}\nwith extranet participants: {}\n",
        t.render(),
        view.with_email_participants,
        view.with_extranet_participants
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, total: u32) -> ReportRowView {
        ReportRowView {
            key: key.into(),
            kind: None,
            total,
            new: total,
            in_progress: 0,
            awaiting_control: 0,
            completed: 0,
            deferred: 0,
            overdue: 1,
        }
    }

    #[test]
    fn csv_has_header_rows_and_totals_last() {
        let view = ReportView {
            by: "group",
            rows: vec![row("Sales, EU", 2), row("ops", 1)],
            totals: row("", 3),
            with_email_participants: 0,
            with_extranet_participants: 0,
        };
        assert_eq!(
            to_csv(&view),
            "group,total,new,in_progress,awaiting_control,completed,deferred,overdue\n\
             \"Sales, EU\",2,2,0,0,0,0,1\n\
             ops,1,1,0,0,0,0,1\n\
             total,3,3,0,0,0,0,1\n"
        );
    }

    #[test]
    fn by_responsible_adds_a_kind_column() {
        let kinded =
            |key: &str, kind: &str, total| ReportRowView { kind: Some(kind.into()), ..row(key, total) };
        let view = ReportView {
            by: "responsible",
            rows: vec![kinded("anna", "employee", 2), kinded("jan", "extranet", 1)],
            totals: kinded("", "", 3),
            with_email_participants: 0,
            with_extranet_participants: 1,
        };
        assert_eq!(
            to_csv(&view),
            "responsible,kind,total,new,in_progress,awaiting_control,completed,deferred,overdue\n\
             anna,employee,2,2,0,0,0,0,1\n\
             jan,extranet,1,1,0,0,0,0,1\n\
             total,,3,3,0,0,0,0,1\n"
        );
        let table = to_table(&view);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0],
            "RESPONSIBLE  KIND      TOTAL  NEW  IN_PROGRESS  AWAITING_CONTROL  COMPLETED  DEFERRED  OVERDUE"
        );
        assert_eq!(
            lines[2],
            "jan          extranet      1    1            0                 0          0         0        1"
        );
        assert_eq!(
            lines[3],
            "TOTAL                      3    3            0                 0          0         0        1"
        );
    }

    #[test]
    fn other_groupings_have_no_kind_column() {
        let view = ReportView {
            by: "status",
            rows: vec![row("new", 2)],
            totals: row("", 2),
            with_email_participants: 0,
            with_extranet_participants: 0,
        };
        assert!(to_table(&view).starts_with("STATUS  TOTAL  NEW"));
        assert!(to_csv(&view).starts_with("status,total,new"));
    }
}
