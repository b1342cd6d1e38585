//! Following a list's pages (AIP-158 tokens): `--limit N` stops after N rows,
//! `--all` fetches every page; by default only the first page, with a hint on
//! stderr when more follow (stdout stays one table or one JSON document).

use anyhow::Result;
use std::future::Future;

/// The largest page a portal serves (its `MAX_PAGE_SIZE`).
const MAX_PAGE: usize = 1000;

/// Which pages a list command fetches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::Args)]
pub struct PageArgs {
    /// Stop after this many rows (fetching pages as needed)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
    /// Fetch every page
    #[arg(long = "all-pages", alias = "every-page")]
    pub all_pages: bool,
}

/// Fetches pages with `call(page_size, page_token) -> (rows, next_page_token)`
/// as `args` says; tells on stderr how to see more when it stopped early.
pub async fn fetch<T, F, Fut>(args: PageArgs, what: &str, mut call: F) -> Result<Vec<T>>
where
    F: FnMut(i32, String) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, String)>>,
{
    let limit = args.limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
    let mut rows: Vec<T> = Vec::new();
    let mut token = String::new();
    loop {
        let size = match limit {
            Some(l) => l.saturating_sub(rows.len()).min(MAX_PAGE),
            None if args.all_pages => MAX_PAGE,
            None => 0,
        };
        let (items, next) = call(i32::try_from(size).unwrap_or(i32::MAX), token).await?;
        rows.extend(items);
        if let Some(l) = limit {
            rows.truncate(l);
        }
        if next.is_empty() {
            return Ok(rows);
        }
        let done = match limit {
            Some(l) => rows.len() >= l,
            None => !args.all_pages,
        };
        if done {
            eprintln!(
                "more {what} follow: --limit N shows up to N, --all-pages shows every one ({} shown)",
                rows.len()
            );
            return Ok(rows);
        }
        token = next;
    }
}
