//! Reading a checkpoint's tokenizer files: `vocab.json`, `merges.txt`, and `tokenizer.json`,
//! whose pipeline is checked against the one the hub mode implements (anything else is refused
//! by name rather than encoded differently).

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{BOS_TOKEN, EOS_TOKEN, TokenizerError};

/// OpenAI's tokenizer reads at most this many merges: `49152 - 256 - 2`.
pub const MAX_MERGES: usize = 48_894;

/// The pre-tokenizer pattern of CLIP's `tokenizer.json` (and of OpenAI's tokenizer), as
/// openai/clip-vit-base-patch32 has it.
pub(super) const CLIP_PATTERN: &str =
    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";
/// The same without the two special-token alternatives, as transformers' converter writes it
/// (openai/clip-vit-large-patch14).
pub(super) const CLIP_PATTERN_NO_SPECIALS: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

pub(super) fn parse_vocab(vocab_json: &[u8]) -> Result<HashMap<String, u32>, TokenizerError> {
    let raw: HashMap<String, Value> =
        serde_json::from_slice(vocab_json).map_err(TokenizerError::VocabJson)?;
    vocab_from_values(raw)
}

fn vocab_from_values(raw: HashMap<String, Value>) -> Result<HashMap<String, u32>, TokenizerError> {
    let mut vocab = HashMap::with_capacity(raw.len());
    for (token, value) in raw {
        match value.as_u64().and_then(|v| u32::try_from(v).ok()) {
            Some(id) => {
                vocab.insert(token, id);
            }
            None => {
                return Err(TokenizerError::BadVocabId {
                    token,
                    value: value.to_string(),
                });
            }
        }
    }
    Ok(vocab)
}

/// `merges.txt` as the tokenizers library reads it (transformers 5 from the pair): every line
/// but `#version` headers is one merge of exactly two space-separated symbols; no limit.
pub(super) fn parse_merges_hub(merges_txt: &[u8]) -> Result<Vec<(String, String)>, TokenizerError> {
    let text =
        std::str::from_utf8(merges_txt).map_err(|e| TokenizerError::MergesUtf8(e.valid_up_to()))?;
    let mut merges = Vec::new();
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop(); // a final newline ends the last line, it does not start another
    }
    for (i, line) in lines.into_iter().enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with("#version") {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        if fields.len() != 2 {
            return Err(TokenizerError::BadMergeLine {
                line: i + 1,
                fields: fields.len(),
            });
        }
        merges.push((fields[0].to_owned(), fields[1].to_owned()));
    }
    Ok(merges)
}

/// `merges.txt` as OpenAI's tokenizer reads its merge list: the first line is a header and
/// skipped, then at most [`MAX_MERGES`] lines, each split on whitespace. A line without exactly
/// two fields is an error here, where Python would keep a useless entry.
pub(super) fn parse_merges_original(
    merges_txt: &[u8],
) -> Result<Vec<(String, String)>, TokenizerError> {
    let text =
        std::str::from_utf8(merges_txt).map_err(|e| TokenizerError::MergesUtf8(e.valid_up_to()))?;
    let mut merges = Vec::new();
    for (i, line) in text.trim().split('\n').enumerate().skip(1).take(MAX_MERGES) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != 2 {
            return Err(TokenizerError::BadMergeLine {
                line: i + 1,
                fields: fields.len(),
            });
        }
        merges.push((fields[0].to_owned(), fields[1].to_owned()));
    }
    Ok(merges)
}

/// A token the tokenizers library finds in the text before pre-tokenization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct AddedToken {
    pub content: String,
    pub id: u32,
    /// Matched in the normalised text (so `<|ENDOFTEXT|>` counts) rather than the raw one.
    pub normalized: bool,
}

/// Everything the hub mode takes from `tokenizer.json` (or assumes for the pair).
#[derive(Clone, Debug)]
pub(super) struct HubFile {
    pub vocab: HashMap<String, u32>,
    pub merges: Vec<(String, String)>,
    pub unk: Option<u32>,
    pub bos: u32,
    pub eos: u32,
    pub added: Vec<AddedToken>,
    /// The split pattern has the `<|startoftext|>` / `<|endoftext|>` alternatives.
    pub split_specials: bool,
    /// The byte-level pre-tokenizer splits each piece again with GPT-2's pattern.
    pub byte_level_regex: bool,
}

/// The two special tokens as CLIP repositories declare them (tokenizer_config.json:
/// `normalized: true`), which is how transformers 5 adds them to a tokenizer built from the pair.
pub(super) fn clip_added_tokens(bos: u32, eos: u32) -> Vec<AddedToken> {
    vec![
        AddedToken {
            content: BOS_TOKEN.to_owned(),
            id: bos,
            normalized: true,
        },
        AddedToken {
            content: EOS_TOKEN.to_owned(),
            id: eos,
            normalized: true,
        },
    ]
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 200 {
        let cut: String = s.chars().take(200).collect();
        format!("{cut}…")
    } else {
        s
    }
}

fn unsupported(part: &'static str, found: &Value) -> TokenizerError {
    TokenizerError::Unsupported {
        part,
        found: compact(found),
    }
}

fn is_false_or_absent(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null) | Some(Value::Bool(false)))
}

/// The normaliser CLIP's tokenizer.json declares: NFC, whitespace runs to one space, lowercase.
fn expected_normalizer() -> Value {
    json!({"type": "Sequence", "normalizers": [
        {"type": "NFC"},
        {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
        {"type": "Lowercase"},
    ]})
}

/// (split_specials, byte_level_regex) of CLIP's pre-tokenizer.
fn check_pre_tokenizer(pre: &Value) -> Result<(bool, bool), TokenizerError> {
    let bad = || unsupported("pre_tokenizer", pre);
    if pre.get("type").and_then(Value::as_str) != Some("Sequence") {
        return Err(bad());
    }
    let Some([split, byte_level]) = pre
        .get("pretokenizers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
    else {
        return Err(bad());
    };
    let pattern = split
        .get("pattern")
        .and_then(|p| p.get("Regex"))
        .and_then(Value::as_str);
    let split_ok = split.get("type").and_then(Value::as_str) == Some("Split")
        && matches!(pattern, Some(CLIP_PATTERN | CLIP_PATTERN_NO_SPECIALS))
        && split
            .get("pattern")
            .and_then(Value::as_object)
            .map(|o| o.len())
            == Some(1)
        && split.get("behavior").and_then(Value::as_str) == Some("Removed")
        && split.get("invert") == Some(&Value::Bool(true));
    let byte_level_ok = byte_level.get("type").and_then(Value::as_str) == Some("ByteLevel")
        && is_false_or_absent(byte_level.get("add_prefix_space"));
    if !split_ok || !byte_level_ok {
        return Err(bad());
    }
    // use_regex defaults to true (older files, such as openai/clip-vit-base-patch32's, omit it).
    Ok((
        pattern == Some(CLIP_PATTERN),
        byte_level.get("use_regex").and_then(Value::as_bool) != Some(false),
    ))
}

fn parse_merge_list(list: &[Value]) -> Result<Vec<(String, String)>, TokenizerError> {
    let mut merges = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let pair = match m {
            Value::String(s) => {
                let f: Vec<&str> = s.split(' ').collect();
                (f.len() == 2).then(|| (f[0].to_owned(), f[1].to_owned()))
            }
            Value::Array(a) if a.len() == 2 => match (a[0].as_str(), a[1].as_str()) {
                (Some(x), Some(y)) => Some((x.to_owned(), y.to_owned())),
                _ => None,
            },
            _ => None,
        };
        merges.push(pair.ok_or_else(|| {
            TokenizerError::TokenizerJson(format!("model.merges[{i}] is not a pair of symbols"))
        })?);
    }
    Ok(merges)
}

/// A BPE model's vocabulary and merges (ranked by position).
pub(super) struct BpeModel {
    pub vocab: HashMap<String, u32>,
    pub merges: Vec<(String, String)>,
}

/// The vocabulary and merges of a `tokenizer.json`'s BPE model, nothing else checked (what the
/// original mode needs from the file), with the whole file.
pub(super) fn tokenizer_json_model(
    tokenizer_json: &[u8],
) -> Result<(Value, BpeModel), TokenizerError> {
    let err = |m: &str| TokenizerError::TokenizerJson(m.to_owned());
    let root: Value = serde_json::from_slice(tokenizer_json)
        .map_err(|e| TokenizerError::TokenizerJson(format!("not JSON ({e})")))?;
    let model = root
        .get("model")
        .ok_or_else(|| err("no \"model\" object"))?;
    if let Some(kind) = model.get("type").and_then(Value::as_str)
        && kind != "BPE"
    {
        return Err(TokenizerError::TokenizerJson(format!(
            "model type is {kind:?}, not \"BPE\""
        )));
    }
    let vocab = model
        .get("vocab")
        .and_then(Value::as_object)
        .ok_or_else(|| err("no \"model.vocab\" object"))?;
    let vocab = vocab_from_values(vocab.iter().map(|(k, v)| (k.clone(), v.clone())).collect())?;
    let list = model
        .get("merges")
        .and_then(Value::as_array)
        .ok_or_else(|| err("no \"model.merges\" array"))?;
    let merges = parse_merge_list(list)?;
    Ok((root, BpeModel { vocab, merges }))
}

/// A `tokenizer.json` for the hub mode: its model, special tokens and pipeline, refused unless
/// the pipeline is CLIP's (the normaliser, pre-tokenizer, model options and post-processor that
/// transformers writes for CLIP).
pub(super) fn parse_tokenizer_json(tokenizer_json: &[u8]) -> Result<HubFile, TokenizerError> {
    let (root, BpeModel { vocab, merges }) = tokenizer_json_model(tokenizer_json)?;
    let null = Value::Null;
    let normalizer = root.get("normalizer").unwrap_or(&null);
    if *normalizer != expected_normalizer() {
        return Err(unsupported("normalizer", normalizer));
    }
    let (split_specials, byte_level_regex) =
        check_pre_tokenizer(root.get("pre_tokenizer").unwrap_or(&null))?;

    let model = root.get("model").unwrap_or(&null);
    let suffix = model.get("end_of_word_suffix").and_then(Value::as_str);
    let prefix_ok = matches!(
        model.get("continuing_subword_prefix"),
        None | Some(Value::Null)
    ) || model
        .get("continuing_subword_prefix")
        .and_then(Value::as_str)
        == Some("");
    let model_ok = suffix == Some("</w>")
        && prefix_ok
        && matches!(model.get("dropout"), None | Some(Value::Null))
        && is_false_or_absent(model.get("fuse_unk"))
        && is_false_or_absent(model.get("byte_fallback"))
        && is_false_or_absent(model.get("ignore_merges"));
    if !model_ok {
        let mut shown = model.clone();
        if let Some(m) = shown.as_object_mut() {
            m.remove("vocab");
            m.remove("merges");
        }
        return Err(unsupported("model", &shown));
    }
    let unk = match model.get("unk_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(*vocab.get(s).ok_or_else(|| {
            TokenizerError::TokenizerJson(format!("the unknown token {s:?} is not in model.vocab"))
        })?),
        Some(other) => return Err(unsupported("model.unk_token", other)),
    };

    let post = root.get("post_processor").unwrap_or(&null);
    let token_of = |key: &str, name: &str| -> Option<u32> {
        let pair = post.get(key)?.as_array()?;
        (pair.len() == 2 && pair[0].as_str() == Some(name))
            .then(|| pair[1].as_u64().and_then(|v| u32::try_from(v).ok()))
            .flatten()
    };
    let (bos, eos) = match (
        post.get("type").and_then(Value::as_str),
        token_of("cls", BOS_TOKEN),
        token_of("sep", EOS_TOKEN),
    ) {
        (Some("RobertaProcessing"), Some(bos), Some(eos)) => (bos, eos),
        _ => return Err(unsupported("post_processor", post)),
    };

    let mut added = Vec::new();
    for token in root
        .get("added_tokens")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let content = token.get("content").and_then(Value::as_str);
        let id = token
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
        let plain = ["single_word", "lstrip", "rstrip"]
            .iter()
            .all(|k| is_false_or_absent(token.get(*k)));
        match (content, id, plain) {
            (Some(content), Some(id), true) if !content.is_empty() => added.push(AddedToken {
                content: content.to_owned(),
                id,
                normalized: token.get("normalized").and_then(Value::as_bool) != Some(false),
            }),
            _ => return Err(unsupported("added_tokens", token)),
        }
    }
    Ok(HubFile {
        vocab,
        merges,
        unk,
        bos,
        eos,
        added,
        split_specials,
        byte_level_regex,
    })
}
