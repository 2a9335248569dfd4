//! RFC 4180 CSV, read by hand (no dependency; the writer is `crate::util::csv`): quoted fields,
//! doubled quotes, commas and line breaks inside quotes, CRLF or LF (or a lone CR) between
//! records, an optional UTF-8 byte-order mark. Blank lines between records are not records.
//!
//! Reading is lenient where recovery is safe: a stray quote inside an unquoted field, text
//! after a closing quote, invalid UTF-8 or a wrong field count mark only that record as bad.
//! A quote that is never closed swallows the rest of the file, so it fails the whole file.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{DatasetError, DatasetFormat, FieldError, Pos, Sample, Sink};

/// One record with the 1-based line it starts on and its first syntax problem, if any.
pub(super) struct Record {
    pub line: usize,
    pub fields: Vec<String>,
    /// (0-based field index, reason).
    pub problem: Option<(usize, String)>,
}

/// A parsed CSV file: the header and the data records.
pub(super) struct Table {
    pub header: Vec<String>,
    pub records: Vec<Record>,
    /// Lower-cased, trimmed header name → column.
    index: HashMap<String, usize>,
}

impl Table {
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Self, DatasetError> {
        let mut records = parse_records(file, bytes)?.into_iter();
        let Some(header) = records.next() else {
            return Err(DatasetError::Structure {
                file: file.to_owned(),
                message: "the file has no header row".into(),
            });
        };
        if let Some((_, reason)) = header.problem {
            return Err(DatasetError::Csv {
                file: file.to_owned(),
                line: header.line,
                message: format!("the header row is malformed: {reason}"),
            });
        }
        let mut index = HashMap::new();
        for (i, name) in header.fields.iter().enumerate() {
            let key = name.trim().to_ascii_lowercase();
            if index.insert(key, i).is_some() {
                return Err(DatasetError::Csv {
                    file: file.to_owned(),
                    line: header.line,
                    message: format!("the header names the column `{}` twice", name.trim()),
                });
            }
        }
        Ok(Self {
            header: header.fields,
            records: records.collect(),
            index,
        })
    }

    fn has(&self, name: &str) -> bool {
        self.index.contains_key(&name.to_ascii_lowercase())
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }

    /// Checks that every column in `required` is present (any case, surrounding spaces
    /// ignored).
    pub fn require(
        &self,
        file: &str,
        format: DatasetFormat,
        required: &[&str],
    ) -> Result<(), DatasetError> {
        match required.iter().find(|c| !self.has(c)) {
            None => Ok(()),
            Some(column) => Err(DatasetError::MissingColumn {
                file: file.to_owned(),
                format,
                column: (*column).to_owned(),
                header: self.header.join(","),
            }),
        }
    }

    /// Runs `f` on every well-formed record and hands the result to `sink`; records with a
    /// syntax problem or the wrong number of fields are reported there. `id` gives the id
    /// shown with a bad row.
    pub fn rows(
        &self,
        sink: &mut Sink<'_>,
        id: impl Fn(&Row<'_>) -> Option<String>,
        mut f: impl FnMut(&Row<'_>) -> Result<Vec<Sample>, FieldError>,
    ) -> Result<(), DatasetError> {
        for (i, rec) in self.records.iter().enumerate() {
            let pos = Pos {
                row: i + 1,
                line: Some(rec.line),
            };
            let row = Row { table: self, rec };
            let id = id(&row);
            let result = if let Some((col, reason)) = &rec.problem {
                Err(FieldError::field(self.field_name(*col), reason.clone()))
            } else if rec.fields.len() != self.header.len() {
                Err(FieldError::row(format!(
                    "has {} field(s), the header has {} (an unquoted comma or line break?)",
                    rec.fields.len(),
                    self.header.len()
                )))
            } else {
                f(&row)
            };
            sink.row(pos, id, result)?;
        }
        Ok(())
    }

    fn field_name(&self, col: usize) -> String {
        match self.header.get(col) {
            Some(name) => name.trim().to_owned(),
            None => format!("column {}", col + 1),
        }
    }
}

/// One well-formed record, addressed by column name.
pub(super) struct Row<'t> {
    table: &'t Table,
    rec: &'t Record,
}

impl Row<'_> {
    /// The field under `name`; `None` when the file has no such column.
    pub fn get(&self, name: &str) -> Option<&str> {
        let col = self.table.column(name)?;
        self.rec.fields.get(col).map(String::as_str)
    }

    /// The trimmed field under `name` when it is not blank.
    pub fn id(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The field under a column checked by [`Table::require`].
    pub fn req(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// A required field that must not be blank.
    pub fn non_empty(&self, name: &str) -> Result<&str, FieldError> {
        let v = self.req(name);
        if v.trim().is_empty() {
            Err(FieldError::field(name, "empty"))
        } else {
            Ok(v)
        }
    }

    /// Every column not in `known`, as strings under their header names.
    pub fn extras(&self, known: &[&str]) -> BTreeMap<String, Value> {
        self.table
            .header
            .iter()
            .zip(&self.rec.fields)
            .filter(|(name, _)| !known.iter().any(|k| k.eq_ignore_ascii_case(name.trim())))
            .map(|(name, v)| (name.trim().to_owned(), Value::String(v.clone())))
            .collect()
    }
}

/// The format a CSV header belongs to.
pub(super) fn detect(file: &str, table: &Table) -> Result<DatasetFormat, DatasetError> {
    let all = |cols: &[&str]| cols.iter().all(|c| table.has(c));
    if all(&["category_id", "task_id", "question"]) {
        Ok(DatasetFormat::FigStep)
    } else if all(&["jailbreak_query", "redteam_query"]) {
        Ok(DatasetFormat::JailbreakV)
    } else if all(&["behavior", "behaviorid"]) {
        Ok(DatasetFormat::HarmBench)
    } else {
        let mut header = table.header.join(",");
        if header.len() > 200 {
            let cut = (0..=200)
                .rev()
                .find(|&i| header.is_char_boundary(i))
                .unwrap_or(0);
            header.truncate(cut);
            header.push('…');
        }
        Err(DatasetError::UnknownFormat {
            file: file.to_owned(),
            reason: format!(
                "the CSV header `{header}` is none of FigStep/SafeBench \
                 (category_id, task_id, question), JailbreakV-28K (jailbreak_query, \
                 redteam_query) or HarmBench (Behavior, BehaviorID)"
            ),
        })
    }
}

fn parse_records(file: &str, bytes: &[u8]) -> Result<Vec<Record>, DatasetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let n = bytes.len();
    let mut records = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < n {
        // A blank line is not a record.
        if bytes[i] == b'\n' || bytes[i] == b'\r' {
            i += if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                2
            } else {
                1
            };
            line += 1;
            continue;
        }
        let start_line = line;
        let mut fields = Vec::new();
        let mut problem: Option<(usize, String)> = None;
        loop {
            let col = fields.len();
            let note = |p: &mut Option<(usize, String)>, reason: String| {
                if p.is_none() {
                    *p = Some((col, reason));
                }
            };
            let mut field = Vec::new();
            if bytes.get(i) == Some(&b'"') {
                let open_line = line;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(DatasetError::Csv {
                                file: file.to_owned(),
                                line: open_line,
                                message: format!(
                                    "the quoted field {} of the record starting here is never \
                                     closed (the rest of the file would be one field)",
                                    col + 1
                                ),
                            });
                        }
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            field.push(b'"');
                            i += 2;
                        }
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(&b) => {
                            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                                line += 1;
                            }
                            field.push(b);
                            i += 1;
                        }
                    }
                }
                // After the closing quote only a delimiter may follow.
                if i < n && !matches!(bytes[i], b',' | b'\r' | b'\n') {
                    note(
                        &mut problem,
                        "text after the closing quote (a quote inside a quoted field must be \
                         doubled: \"\")"
                            .into(),
                    );
                    while i < n && !matches!(bytes[i], b',' | b'\r' | b'\n') {
                        field.push(bytes[i]);
                        i += 1;
                    }
                }
            } else {
                while i < n && !matches!(bytes[i], b',' | b'\r' | b'\n') {
                    if bytes[i] == b'"' {
                        note(
                            &mut problem,
                            "a quote inside an unquoted field (quote the whole field and \
                             double the quote)"
                                .into(),
                        );
                    }
                    field.push(bytes[i]);
                    i += 1;
                }
            }
            let text = match String::from_utf8(field) {
                Ok(s) => s,
                Err(e) => {
                    note(&mut problem, "not valid UTF-8".into());
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                }
            };
            fields.push(text);
            match bytes.get(i) {
                Some(b',') => i += 1,
                Some(b'\r') => {
                    i += if bytes.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    line += 1;
                    break;
                }
                Some(b'\n') => {
                    i += 1;
                    line += 1;
                    break;
                }
                _ => break,
            }
        }
        records.push(Record {
            line: start_line,
            fields,
            problem,
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::csv::push_csv_row;

    fn plain(bytes: &[u8]) -> Vec<(usize, Vec<String>)> {
        parse_records("t.csv", bytes)
            .unwrap()
            .into_iter()
            .map(|r| {
                assert!(r.problem.is_none(), "{:?}", r.problem);
                (r.line, r.fields)
            })
            .collect()
    }

    fn owned(rows: &[(usize, &[&str])]) -> Vec<(usize, Vec<String>)> {
        rows.iter()
            .map(|(l, f)| (*l, f.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn rfc4180_quoting_and_line_breaks() {
        let got = plain(b"\xEF\xBB\xBFa,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n,,\n\nlast,\"\",z");
        let want: &[(usize, &[&str])] = &[
            (1, &["a", "b", "c"]),
            (2, &["x, y", "say \"hi\"", "two\r\nlines"]),
            (4, &["", "", ""]),
            (6, &["last", "", "z"]),
        ];
        assert_eq!(got, owned(want));
        // A lone CR ends a record; a trailing comma makes an empty last field.
        let want: &[(usize, &[&str])] = &[(1, &["a", ""]), (2, &["b"])];
        assert_eq!(plain(b"a,\rb"), owned(want));
        let want: &[(usize, &[&str])] = &[(1, &["a\nb\nc", "d"]), (4, &["e", "f"])];
        assert_eq!(plain(b"\"a\nb\nc\",d\ne,f\n"), owned(want));
    }

    #[test]
    fn syntax_problems_mark_the_record() {
        let got = parse_records("t.csv", b"a,b\nx\"y,z\n\"q\"r,s\nok,\xFF\n").unwrap();
        let problem = |i: usize| got[i].problem.clone().unwrap();
        assert_eq!(problem(1).0, 0);
        assert!(problem(1).1.contains("unquoted"));
        assert_eq!(got[2].fields[0], "qr");
        assert!(problem(2).1.contains("after the closing quote"));
        assert_eq!(problem(3), (1, "not valid UTF-8".to_owned()));
    }

    #[test]
    fn an_unclosed_quote_fails_the_file_at_its_line() {
        let err = parse_records("t.csv", b"a,b\n1,2\n3,\"open\n4,5\n")
            .err()
            .unwrap();
        match err {
            DatasetError::Csv { line, ref file, .. } => {
                assert_eq!((line, file.as_str()), (3, "t.csv"))
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn what_the_writer_quotes_reads_back() {
        let row = ["plain", "a,b", "say \"hi\"", "two\nlines", " pad", ""];
        let mut out = String::new();
        push_csv_row(&mut out, &row);
        let back = parse_records("t.csv", out.as_bytes()).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].fields, row);
    }
}
