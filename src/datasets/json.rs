//! The JSON side: parsing a top-level array, or an object with its keys in file order
//! (serde_json's `Map` may sort them), format detection, and the line of each top-level
//! element for messages.

use std::fmt;

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

use super::{DatasetError, DatasetFormat, Parsed};

/// A JSON object's entries in file order, duplicates kept.
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(V)
    }
}

/// `body` starts (after whitespace) with `[` or `{`; the byte-order mark is already gone.
pub(super) fn parse(file: &str, body: &[u8]) -> Result<Parsed, DatasetError> {
    let err = |e: serde_json::Error| {
        // serde_json's message ends with the position, which the error shows already.
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        DatasetError::Json {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: message.strip_suffix(&suffix).unwrap_or(&message).to_owned(),
        }
    };
    let array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if array {
        serde_json::from_slice::<Vec<Value>>(body)
            .map(Parsed::JsonArray)
            .map_err(err)
    } else {
        serde_json::from_slice::<Ordered>(body)
            .map(|o| Parsed::JsonObject(o.0))
            .map_err(err)
    }
}

/// VLSBench or VLGuard, from the first object in the array.
pub(super) fn detect_array(file: &str, items: &[Value]) -> Result<DatasetFormat, DatasetError> {
    let unknown = |reason: &str| DatasetError::UnknownFormat {
        file: file.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(obj) = items.iter().find_map(Value::as_object) else {
        return Err(unknown("the JSON array holds no objects"));
    };
    if obj.contains_key("instr-resp") {
        Ok(DatasetFormat::VlGuard)
    } else if obj.contains_key("instruction_id")
        || (obj.contains_key("instruction") && obj.contains_key("image_path"))
    {
        Ok(DatasetFormat::VlsBench)
    } else {
        let keys: Vec<_> = obj.keys().take(12).map(String::as_str).collect();
        Err(unknown(&format!(
            "a JSON array of objects with keys {keys:?}, neither VLSBench (instruction_id, \
             instruction, image_path) nor VLGuard (instr-resp)"
        )))
    }
}

/// MM-SafetyBench, from the first entry that is an object.
pub(super) fn detect_object(
    file: &str,
    entries: &[(String, Value)],
) -> Result<DatasetFormat, DatasetError> {
    let first = entries.iter().find_map(|(_, v)| v.as_object());
    match first {
        Some(o)
            if o.contains_key("Rephrased Question")
                || o.contains_key("Rephrased Question(SD)")
                || (o.contains_key("Question") && o.contains_key("Key Phrase")) =>
        {
            Ok(DatasetFormat::MmSafetyBench)
        }
        _ => Err(DatasetError::UnknownFormat {
            file: file.to_owned(),
            reason: "a JSON object whose entries are not MM-SafetyBench questions (no \
                     `Rephrased Question`)"
                .into(),
        }),
    }
}

/// The 1-based line of each top-level array element, or of each top-level object key.
/// `bytes` is valid JSON (it has been parsed).
pub(super) fn top_level_lines(bytes: &[u8]) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut depth, mut line) = (0usize, 1usize);
    let (mut in_string, mut escaped, mut expect) = (false, false, false);
    for &b in bytes {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() || b == b':' {
            continue;
        }
        if depth == 1 && expect && !matches!(b, b']' | b'}') {
            lines.push(line);
            expect = false;
        }
        match b {
            b'[' | b'{' => {
                depth += 1;
                expect = depth == 1;
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect = true,
            b'"' => in_string = true,
            _ => {}
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_top_level_items() {
        let arr = b"[\n  {\"a\": \"x,\\\"[\"},\n  {\"b\": [1,\n 2]}, 3,\n\n  \"s\"\n]";
        assert_eq!(top_level_lines(arr), vec![2, 3, 4, 6]);
        let obj = b"{\"k1\": {\"x\": 1},\n \"k2\": [\n1],\n\"k3\": 2}";
        assert_eq!(top_level_lines(obj), vec![1, 2, 4]);
        assert!(top_level_lines(b"[]").is_empty());
    }

    #[test]
    fn objects_keep_file_order_and_duplicates() {
        let Parsed::JsonObject(e) = parse("t.json", b"{\"10\": 1, \"2\": 2, \"10\": 3}").unwrap()
        else {
            panic!("object expected")
        };
        let keys: Vec<_> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["10", "2", "10"]);
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        match parse("t.json", b"[\n {\"a\": 1},\n {\"a\" 2}\n]") {
            Err(
                e @ DatasetError::Json {
                    line: 3, column: 7, ..
                },
            ) => assert_eq!(
                e.to_string(),
                "t.json: not valid JSON (line 3, column 7): expected `:`"
            ),
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("accepted"),
        }
    }
}
