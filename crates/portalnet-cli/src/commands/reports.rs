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
    let mut view = ReportView::from(resp);
    // The request says what the rows are keyed by, even if the reply leaves it unset.
    if view.by == "unspecified" {
        view.by = by_name(by);
    }
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

fn cells(key: &str, row: &ReportRowView) -> Vec<String> {
    std::iter::once(key.to_string()).chain(row.counts().iter().map(u32::to_string)).collect()
}

/// Header row first, then one row per key, then the totals row keyed "total".
pub fn to_csv(view: &ReportView) -> String {
    let mut text = csv::record(&std::iter::once(view.by).chain(COLUMNS).collect::<Vec<_>>());
    for row in &view.rows {
        text.push_str(&csv::record(&cells(&row.key, row)));
    }
    text.push_str(&csv::record(&cells("total", &view.totals)));
    text
}

fn to_table(view: &ReportView) -> String {
    let headers: Vec<String> = std::iter::once(view.by).chain(COLUMNS).map(|h| h.to_uppercase()).collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&headers).right(&[1, 2, 3, 4, 5, 6, 7]);
    for row in &view.rows {
        t.row(cells(&row.key, row));
    }
    t.row(cells("TOTAL", &view.totals));
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &str, total: u32) -> ReportRowView {
        ReportRowView {
            key: key.into(),
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
        let view =
            ReportView { by: "group", rows: vec![row("Sales, EU", 2), row("ops", 1)], totals: row("", 3) };
        assert_eq!(
            to_csv(&view),
            "group,total,new,in_progress,awaiting_control,completed,deferred,overdue\n\
             \"Sales, EU\",2,2,0,0,0,0,1\n\
             ops,1,1,0,0,0,0,1\n\
             total,3,3,0,0,0,0,1\n"
        );
    }
}
