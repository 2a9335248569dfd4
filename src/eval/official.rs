//! The official judge prompt, taken from the official repository at run time (the project does
//! not ship its text): where to get it, at a pinned commit, and how to read it out of that
//! Python file. [`JudgeTemplate::official`] then checks its SHA-256, so a moved or edited file is
//! refused rather than silently used.

use super::protocol::{JudgeTemplate, TemplateError};

/// The official repository (formerly `hxhcreate/VLSBench`).
pub const REPO: &str = "AI45Lab/VLSBench";
/// The last commit that changed `eval_utils.py` (2025-03-04); pinned so the text cannot drift.
pub const COMMIT: &str = "2432a688a8a599ccf6a07171909668d580ef8df1";
/// The file that defines `PROMPT_TEMPLATE`.
pub const FILE: &str = "eval_utils.py";

/// The raw file at the pinned commit (GitHub's raw host allows cross-origin reads, so the page
/// can fetch it too).
pub fn source_url() -> String {
    format!("https://raw.githubusercontent.com/{REPO}/{COMMIT}/{FILE}")
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum OfficialError {
    #[error(
        "no `PROMPT_TEMPLATE = \"\"\"…\"\"\"` assignment in the file (is it {FILE} of {REPO}?)"
    )]
    NotFound,
    #[error("the PROMPT_TEMPLATE string never ends")]
    Unterminated,
    #[error("the PROMPT_TEMPLATE string uses backslash escapes, which this reader does not expand")]
    Escapes,
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The text of the first `PROMPT_TEMPLATE = """…"""` (or `'''…'''`) assignment in `python`, as
/// written between the quotes (not yet stripped). A raw (`r`) prefix is accepted; an escape in a
/// plain string is refused, since the hash check could not tell a misread from an edit.
pub fn extract_prompt_template(python: &str) -> Result<&str, OfficialError> {
    let mut rest = python;
    while let Some(at) = rest.find("PROMPT_TEMPLATE") {
        let after = rest[at + "PROMPT_TEMPLATE".len()..].trim_start_matches([' ', '\t']);
        rest = &rest[at + 1..];
        let Some(value) = after.strip_prefix('=').filter(|v| !v.starts_with('=')) else {
            continue;
        };
        let value = value.trim_start_matches([' ', '\t']);
        let (raw, value) = match value.as_bytes().first() {
            Some(b'r' | b'R') => (true, &value[1..]),
            Some(b'u' | b'U') => (false, &value[1..]),
            _ => (false, value),
        };
        let Some(quote) = ["\"\"\"", "'''"].into_iter().find(|q| value.starts_with(q)) else {
            continue;
        };
        let body = &value[3..];
        let end = body.find(quote).ok_or(OfficialError::Unterminated)?;
        let text = &body[..end];
        if !raw && text.contains('\\') {
            return Err(OfficialError::Escapes);
        }
        return Ok(text);
    }
    Err(OfficialError::NotFound)
}

/// The official template from the official file's source: extracted, stripped and hash-checked.
pub fn template_from_source(python: &str) -> Result<JudgeTemplate, OfficialError> {
    Ok(JudgeTemplate::official(extract_prompt_template(python)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAKE: &str = "
def judge(q, r):
    # PROMPT_TEMPLATE is filled below
    if PROMPT_TEMPLATE == None: pass
    PROMPT_TEMPLATE = \"\"\"
    Grade {question} against {response}.
    \"\"\".strip()
    return PROMPT_TEMPLATE.format(question=q, response=r)
";

    #[test]
    fn the_assignment_is_found_past_mentions_and_comparisons() {
        assert_eq!(
            extract_prompt_template(FAKE),
            Ok("\n    Grade {question} against {response}.\n    ")
        );
        assert!(matches!(
            template_from_source(FAKE),
            Err(OfficialError::Template(TemplateError::HashMismatch(_)))
        ));
    }

    #[test]
    fn odd_files_are_refused_with_a_reason() {
        assert_eq!(
            extract_prompt_template("x = 1"),
            Err(OfficialError::NotFound)
        );
        assert_eq!(
            extract_prompt_template("PROMPT_TEMPLATE = '''open"),
            Err(OfficialError::Unterminated)
        );
        assert_eq!(
            extract_prompt_template("PROMPT_TEMPLATE = \"\"\"a\\nb\"\"\""),
            Err(OfficialError::Escapes)
        );
        assert_eq!(
            extract_prompt_template("PROMPT_TEMPLATE = r'''a\\nb'''"),
            Ok("a\\nb")
        );
        assert!(source_url().ends_with(&format!("/{COMMIT}/eval_utils.py")));
    }

    /// The real file passes the hash check. It is not in the repository: point
    /// `LEAKSCOPE_VLSBENCH_EVAL_UTILS` at a copy of `eval_utils.py` from [`source_url`].
    #[test]
    fn the_official_file_passes_when_a_copy_is_given() {
        let Some(path) = std::env::var_os("LEAKSCOPE_VLSBENCH_EVAL_UTILS") else {
            eprintln!("skipped: LEAKSCOPE_VLSBENCH_EVAL_UTILS is not set");
            return;
        };
        let source = std::fs::read_to_string(path).unwrap();
        let template = template_from_source(&source).unwrap();
        assert!(template.text().contains("{question}") && template.text().contains("<image>"));
    }
}
