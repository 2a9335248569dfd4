//! One model for the reports' tables: a caption, columns with their alignment, and rows that are
//! either group headings or data rows, every cell plain text. The CLI prints it with
//! [`Table::render_text`]; the page walks the same rows ([`Row::kind`], [`Row::cells`]) into
//! the DOM.

/// How a column's cells line up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub title: String,
    pub align: Align,
    /// The narrowest the column is in text (cells are never cut).
    pub min_width: usize,
}

impl Column {
    pub fn left(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            align: Align::Left,
            min_width: 0,
        }
    }

    pub fn right(title: impl Into<String>, min_width: usize) -> Self {
        Self {
            title: title.into(),
            align: Align::Right,
            min_width,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowKind {
    /// Names the group of data rows that follow it; one cell.
    Heading,
    /// One cell per column.
    Data,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub kind: RowKind,
    pub cells: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// In text, data rows under a heading are indented this much in the first column.
const INDENT: &str = "  ";

impl Table {
    pub fn new(caption: impl Into<String>, columns: Vec<Column>) -> Self {
        Self {
            caption: caption.into(),
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push_heading(&mut self, text: impl Into<String>) {
        self.rows.push(Row {
            kind: RowKind::Heading,
            cells: vec![text.into()],
        });
    }

    pub fn push_row(&mut self, cells: Vec<String>) {
        self.rows.push(Row {
            kind: RowKind::Data,
            cells,
        });
    }

    /// A heading and the data rows under it.
    pub fn push_group(
        &mut self,
        heading: impl Into<String>,
        rows: impl IntoIterator<Item = Vec<String>>,
    ) {
        self.push_heading(heading);
        for cells in rows {
            self.push_row(cells);
        }
    }

    /// The reports' breakdown (evaluation and VSIL): columns for a label, `n` and a rate with
    /// its interval per `rate_titles`; the `overall` row, then a group each by category, by
    /// sub-category name and by (category, sub-category) pair (`groups` in that order), each
    /// group's row made by `row` from its label and `names` (category, sub-category).
    pub fn breakdown<G>(
        caption: impl Into<String>,
        rate_titles: &[&str],
        overall: Vec<String>,
        groups: [&[G]; 3],
        names: impl Fn(&G) -> (String, String),
        row: impl Fn(String, &G) -> Vec<String>,
    ) -> Self {
        // A rate cell is `100.00 [100.00, 100.00]`; the columns keep some room between them.
        let rates = rate_titles.iter().map(|title| Column::right(*title, 24));
        let columns = [Column::left(""), Column::right("n", 6)];
        let mut t = Self::new(caption, columns.into_iter().chain(rates).collect());
        t.push_row(overall);
        let [by_category, by_sub_category, by_pair] = groups;
        let rows = |groups: &[G], label: &dyn Fn((String, String)) -> String| {
            let rows = groups.iter().map(|g| row(label(names(g)), g));
            rows.collect::<Vec<_>>()
        };
        t.push_group("Category", rows(by_category, &|(c, _)| c));
        t.push_group("Sub-category", rows(by_sub_category, &|(_, s)| s));
        let pair = |(c, s)| format!("{c} / {s}");
        t.push_group("Category / sub-category", rows(by_pair, &pair));
        t
    }

    /// The caption, a header line with the column titles, then one line per row: headings
    /// alone, data rows under a heading indented by two spaces; columns padded by characters
    /// (names may be non-ASCII), the first followed by one space and the others by two.
    pub fn render_text(&self) -> String {
        let chars = |s: &str| s.chars().count();
        let mut under_heading = false;
        let mut lines: Vec<(RowKind, Vec<String>)> = Vec::with_capacity(self.rows.len());
        for row in &self.rows {
            let mut cells = row.cells.clone();
            match row.kind {
                RowKind::Heading => under_heading = true,
                RowKind::Data if under_heading => {
                    if let Some(first) = cells.first_mut() {
                        first.insert_str(0, INDENT);
                    }
                }
                RowKind::Data => {}
            }
            lines.push((row.kind, cells));
        }
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| {
                lines
                    .iter()
                    .filter(|(kind, _)| i == 0 || *kind == RowKind::Data)
                    .filter_map(|(_, cells)| cells.get(i))
                    .map(|cell| chars(cell))
                    .chain([column.min_width, chars(&column.title)])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: &[String]| {
            let mut out = String::new();
            for (i, (column, width)) in self.columns.iter().zip(&widths).enumerate() {
                let cell = cells.get(i).map_or("", String::as_str);
                let pad = " ".repeat(width.saturating_sub(chars(cell)));
                out.push_str(match i {
                    0 => "",
                    1 => " ",
                    _ => "  ",
                });
                match column.align {
                    Align::Left => {
                        out.push_str(cell);
                        out.push_str(&pad);
                    }
                    Align::Right => {
                        out.push_str(&pad);
                        out.push_str(cell);
                    }
                }
            }
            out.push('\n');
            out
        };
        let mut out = format!("{}\n", self.caption);
        let titles: Vec<String> = self.columns.iter().map(|c| c.title.clone()).collect();
        out.push_str(&line(&titles));
        for (kind, cells) in &lines {
            match kind {
                RowKind::Heading => {
                    out.push_str(cells.first().map_or("", String::as_str));
                    out.push('\n');
                }
                RowKind::Data => out.push_str(&line(cells)),
            }
        }
        out
    }
}

impl Table {
    /// The caption as a paragraph, then a Markdown table (group headings as bold rows);
    /// `|` and line breaks in cells are escaped.
    pub fn render_markdown(&self) -> String {
        let cell = |s: &str| s.replace('|', "\\|").replace(['\n', '\r'], " ");
        let mut out = format!("{}\n\n", self.caption);
        let titles: Vec<String> = self.columns.iter().map(|c| cell(&c.title)).collect();
        out.push_str(&format!("| {} |\n", titles.join(" | ")));
        let rules: Vec<&str> = self
            .columns
            .iter()
            .map(|c| match c.align {
                Align::Left => "---",
                Align::Right => "---:",
            })
            .collect();
        out.push_str(&format!("| {} |\n", rules.join(" | ")));
        for row in &self.rows {
            let cells: Vec<String> = match row.kind {
                RowKind::Heading => {
                    let mut cells = vec![format!(
                        "**{}**",
                        cell(row.cells.first().map_or("", String::as_str))
                    )];
                    cells.resize(self.columns.len(), String::new());
                    cells
                }
                RowKind::Data => row.cells.iter().map(|c| cell(c)).collect(),
            };
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        out
    }

    /// The caption as a line of its own, then the column titles and the data rows as CSV
    /// (RFC 4180, the project's writer); a group heading becomes a row with only its name.
    pub fn render_csv(&self) -> String {
        let mut out = String::new();
        super::csv::push_csv_row(&mut out, &[self.caption.as_str()]);
        let titles: Vec<&str> = self.columns.iter().map(|c| c.title.as_str()).collect();
        super::csv::push_csv_row(&mut out, &titles);
        for row in &self.rows {
            let cells: Vec<&str> = row.cells.iter().map(String::as_str).collect();
            super::csv::push_csv_row(&mut out, &cells);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_pads_by_characters_and_indents_rows_under_headings() {
        let mut t = Table::new(
            "Caption.",
            vec![
                Column::left(""),
                Column::right("n", 3),
                Column::right("x", 4),
            ],
        );
        t.push_row(vec!["All".into(), "12".into(), "0.5".into()]);
        t.push_heading("Group");
        t.push_row(vec!["Ünïcode".into(), "1".into(), "n/a".into()]);
        assert_eq!(
            t.render_text(),
            "Caption.\n\
             \x20           n     x\n\
             All        12   0.5\n\
             Group\n\
             \x20 Ünïcode   1   n/a\n"
        );
        assert_eq!(t.rows[1].kind, RowKind::Heading);
        assert_eq!(t.rows[2].cells[0], "Ünïcode");
    }

    #[test]
    fn markdown_and_csv_carry_the_same_cells() {
        let mut t = Table::new("C.", vec![Column::left("Model"), Column::right("safe", 4)]);
        t.push_heading("Group");
        t.push_row(vec!["a|b".into(), "50.0".into()]);
        assert_eq!(
            t.render_markdown(),
            "C.\n\n| Model | safe |\n| --- | ---: |\n| **Group** |  |\n| a\\|b | 50.0 |\n"
        );
        assert_eq!(t.render_csv(), "C.\r\nModel,safe\r\nGroup\r\na|b,50.0\r\n");
    }
}
