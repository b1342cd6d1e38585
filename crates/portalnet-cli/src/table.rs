//! Plain-text tables and key/value blocks for human output.
//!
//! Widths are counted in chars, which is right for the Latin/Cyrillic text portals
//! hold; wide CJK glyphs would misalign slightly, which is acceptable for a CLI.

/// Text from the server goes through this before it reaches a terminal: control
/// characters (escape sequences included) could otherwise rewrite the screen.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Like [`clean`] but keeps line breaks, for multi-line values such as descriptions.
pub fn clean_multiline(s: &str) -> String {
    s.lines().map(clean).collect::<Vec<_>>().join("\n")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            align: vec![Align::Left; headers.len()],
            rows: Vec::new(),
        }
    }

    /// Right-aligns the given columns (numbers read better that way).
    pub fn right(mut self, columns: &[usize]) -> Self {
        for &c in columns {
            if let Some(a) = self.align.get_mut(c) {
                *a = Align::Right;
            }
        }
        self
    }

    /// Adds a row; missing cells are blank and extra cells are dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells: Vec<String> = cells.iter().map(|c| clean(c)).collect();
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn render(&self) -> String {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[i] - cell.chars().count());
                match self.align[i] {
                    Align::Left => {
                        line.push_str(cell);
                        line.push_str(&pad);
                    }
                    Align::Right => {
                        line.push_str(&pad);
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A `key: value` block with the values lined up; continuation lines of
/// multi-line values are indented under the first one.
pub fn key_values(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.chars().count() + 1).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let label = format!("{key}:");
        let value = clean_multiline(value);
        let mut lines = value.lines();
        let first = lines.next().unwrap_or("");
        out.push_str(format!("{label:<width$}  {first}").trim_end());
        out.push('\n');
        for more in lines {
            out.push_str(format!("{:width$}  {more}", "").trim_end());
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&["ID", "NAME", "COUNT"]).right(&[2]);
        t.row(vec!["1".into(), "alice".into(), "7".into()]);
        t.row(vec!["12".into(), "Łukasz Żółw".into(), "1234".into()]);
        assert_eq!(
            t.render(),
            "ID  NAME         COUNT\n\
             1   alice            7\n\
             12  Łukasz Żółw   1234\n"
        );
    }

    #[test]
    fn no_trailing_spaces_and_short_rows_are_padded() {
        let mut t = Table::new(&["A", "LONG HEADER"]);
        t.row(vec!["xyz".into()]);
        assert_eq!(t.render(), "A    LONG HEADER\nxyz\n");
    }

    #[test]
    fn control_characters_are_neutralised() {
        let mut t = Table::new(&["T"]);
        t.row(vec!["a\nb\tc\u{1b}[31m".into()]);
        assert_eq!(t.render(), "T\na b c\u{FFFD}[31m\n");
    }

    #[test]
    fn key_value_block() {
        let out = key_values(&[("id", "7".into()), ("description", "one\ntwo".into()), ("group", "".into())]);
        assert_eq!(out, "id:           7\ndescription:  one\n              two\ngroup:\n");
    }
}
