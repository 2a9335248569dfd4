//! The reports' table model ([`crate::util::table::Table`], which the CLI prints as text) built
//! into the page with the DOM: every cell is set as text, so a category name or a model's
//! output can never become markup.

use web_sys::Element;

use crate::util::table::{Align, RowKind, Table};

use super::dom::{append, build};

/// `<table class="rates">` with the caption, one header row, group headings as `<th
/// colspan scope="colgroup">` rows and data rows led by a `<th scope="row">`.
pub fn element(table: &Table) -> Result<Element, String> {
    let root = build("table", &[("class", "rates")], "")?;
    append(&root, &build("caption", &[], &table.caption)?)?;
    let head = build("thead", &[], "")?;
    let tr = build("tr", &[], "")?;
    // Left-aligned columns after the first say so (the stylesheet right-aligns numbers).
    let left = |i: usize| i > 0 && table.columns.get(i).is_some_and(|c| c.align == Align::Left);
    for (i, column) in table.columns.iter().enumerate() {
        let class = if left(i) { "l" } else { "" };
        append(
            &tr,
            &build("th", &[("scope", "col"), ("class", class)], &column.title)?,
        )?;
    }
    append(&head, &tr)?;
    append(&root, &head)?;
    let body = build("tbody", &[], "")?;
    let span = table.columns.len().to_string();
    for row in &table.rows {
        let tr = build("tr", &[], "")?;
        match row.kind {
            RowKind::Heading => {
                let text = row.cells.first().map_or("", String::as_str);
                let attributes = [("scope", "colgroup"), ("colspan", span.as_str())];
                append(&tr, &build("th", &attributes, text)?)?;
            }
            RowKind::Data => {
                for (i, cell) in row.cells.iter().enumerate() {
                    let cell = match i {
                        0 => build("th", &[("scope", "row")], cell)?,
                        _ if left(i) => build("td", &[("class", "l")], cell)?,
                        _ => build("td", &[], cell)?,
                    };
                    append(&tr, &cell)?;
                }
            }
        }
        append(&body, &tr)?;
    }
    append(&root, &body)?;
    Ok(root)
}
