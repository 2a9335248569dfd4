//! RFC 4180 CSV written by hand (no dependency): the evaluation's exports and the VSIL report's
//! tables. The dataset loaders' reader is `crate::datasets` (its tests read this writer's output
//! back).

/// Appends `field` to `out`, quoted when it holds a comma, quote, CR or LF or has leading
/// or trailing spaces (quotes doubled).
pub fn push_csv_field(out: &mut String, field: &str) {
    let needs = field.contains([',', '"', '\r', '\n'])
        || field.starts_with([' ', '\t'])
        || field.ends_with([' ', '\t']);
    if needs {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Appends one record and a CRLF (RFC 4180's line break).
pub fn push_csv_row<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, f.as_ref());
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_quotes_what_needs_it() {
        let row = ["plain", "a,b", "say \"hi\"", "two\nlines", " pad", ""];
        let mut out = String::new();
        push_csv_row(&mut out, &row);
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" pad\",\r\n"
        );
    }
}
