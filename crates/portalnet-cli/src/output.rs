//! Where results go: one JSON document with `--json`, text otherwise.

use std::io::{ErrorKind, Write};

use anyhow::{Context, Result};
use serde::Serialize;

pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `view` as JSON in `--json` mode, else the text `human` builds.
    pub fn show<T: Serialize>(&self, view: &T, human: impl FnOnce(&T) -> String) -> Result<()> {
        if self.json {
            let mut doc = serde_json::to_string_pretty(view).context("cannot encode the result as JSON")?;
            doc.push('\n');
            write_stdout(&doc)
        } else {
            write_stdout(&human(view))
        }
    }
}

/// Writes to stdout; a closed pipe (`portalctl ... | head`) is not an error.
pub fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => Err(e).context("cannot write to stdout"),
        _ => Ok(()),
    }
}
