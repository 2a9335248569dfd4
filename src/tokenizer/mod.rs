//! CLIP's byte-level BPE tokenizer, id for id equal to one of two references, chosen at load
//! ([`TokenizerMode`]):
//!
//! * **`hub`** (the default): what the checkpoint's `tokenizer.json` does under the tokenizers
//!   library, which is what transformers 5 (`CLIPTokenizer`) and transformers.js run, so a
//!   checkpoint gives here the ids it gives there. Read from `tokenizer.json` when the checkpoint
//!   has one; from `vocab.json` + `merges.txt` otherwise, with the pipeline transformers 5 builds
//!   from that pair (the same one CLIP's `tokenizer.json` declares). See [`hub`].
//! * **`original`**: OpenAI's tokenizer (`simple_tokenizer.py` of the `openai-clip` package), the
//!   one the weights were trained with: ftfy's `fix_text`, HTML unescaping, whitespace collapsing
//!   and lowercasing in Python's Unicode 14, then the same BPE. See [`original`] and [`ftfy`].
//!
//! Both end in the same model ([`bpe`]): each piece's UTF-8 bytes as the 256 byte symbols, `</w>`
//! on the last, merges lowest rank first. `<|startoftext|>` + ids + `<|endoftext|>`;
//! [`ClipTokenizer::encode_padded`] keeps the first `context_len - 2` ids and pads, as
//! `tokenizer(text, padding="max_length", max_length=77, truncation=True)` does (hub: with
//! `<|endoftext|>`) and `clip.tokenize(text, truncate=True)` does (original: with id 0).
//!
//! Where they differ (measured on the parity corpus, `scripts/reference/tokenizer.py`): hub keeps
//! zero-width and format characters, controls and private-use characters as pieces, where ftfy
//! deletes some controls and leaves the rest; hub knows no HTML entities, mojibake, ligatures,
//! full-width forms or curly quotes, which the original rewrites; hub lowercases `Σ` to `σ`
//! everywhere, the original uses a final `ς`; and they run different Unicode versions. On plain
//! English text they agree.
//!
//! The data every step needs (character classes, lowercase and NFC tables, ftfy's codecs and
//! heuristics, HTML entities) is read out of the references themselves into [`tables`], a file
//! the generator writes whole. No Unicode or regex crate is used: their Unicode versions would
//! be a third reference.

mod bpe;
mod files;
mod ftfy;
mod html;
mod hub;
mod original;
mod pattern;
mod tables;
mod unicode;

use std::collections::HashMap;
use std::ops::Range;

use bpe::{Bpe, MissingMerge};
pub use files::MAX_MERGES;

/// Beginning-of-text token string.
pub const BOS_TOKEN: &str = "<|startoftext|>";
/// End-of-text token string; CLIP also uses it as the unknown and (hub) the padding token.
pub const EOS_TOKEN: &str = "<|endoftext|>";
/// CLIP's text context length.
pub const CONTEXT_LENGTH: usize = 77;

/// Which reference the tokenizer follows.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerMode {
    /// The checkpoint's `tokenizer.json` under the tokenizers library (transformers 5,
    /// transformers.js): what users of the same checkpoint see elsewhere.
    #[default]
    Hub,
    /// OpenAI's tokenizer with ftfy and HTML unescaping: what the weights were trained with.
    Original,
}

impl TokenizerMode {
    pub const ALL: [TokenizerMode; 2] = [TokenizerMode::Hub, TokenizerMode::Original];

    /// `"hub"` or `"original"`, as the CLI flag and the page's `?tokenizer=` take it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenizerMode::Hub => "hub",
            TokenizerMode::Original => "original",
        }
    }

    /// One line saying what the mode follows, for reports and the page.
    pub fn describe(self) -> &'static str {
        match self {
            TokenizerMode::Hub => {
                "hub (tokenizer.json as transformers 5 and transformers.js run it)"
            }
            TokenizerMode::Original => "original (OpenAI's CLIP tokenizer: ftfy, HTML unescaping)",
        }
    }
}

impl std::fmt::Display for TokenizerMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TokenizerMode {
    type Err = TokenizerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TokenizerMode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| TokenizerError::UnknownMode(s.to_owned()))
    }
}

/// Errors from loading a tokenizer. Encoding itself never fails.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    #[error(
        "vocab.json is not a JSON object mapping token strings to integer ids ({0}); \
         pass CLIP's vocab.json (e.g. from the model folder), not merges.txt or tokenizer.json"
    )]
    VocabJson(#[source] serde_json::Error),
    #[error(
        "vocab.json maps {token:?} to {value}, which is not a token id (an integer in \
         0..=4294967295); the file is not a CLIP vocab.json or is corrupt"
    )]
    BadVocabId { token: String, value: String },
    #[error(
        "merges.txt is not valid UTF-8 (byte {0}); pass CLIP's merges.txt as it was downloaded"
    )]
    MergesUtf8(usize),
    #[error(
        "merges.txt line {line} has {fields} fields where a merge has 2 (\"a b\"); pass CLIP's \
         merges.txt (first line a \"#version\" header, then one merge per line)"
    )]
    BadMergeLine { line: usize, fields: usize },
    #[error(
        "merge {rank} needs {token:?}, which is not in the vocabulary (the tokenizers library \
         refuses such files too); check that vocab.json and merges.txt belong together"
    )]
    MergeNotInVocab { rank: usize, token: String },
    #[error(
        "the vocabulary has no {0:?} token; CLIP's vocab.json contains both <|startoftext|> and \
         <|endoftext|>. Check that vocab.json and merges.txt belong to a CLIP model"
    )]
    MissingSpecialToken(&'static str),
    #[error("tokenizer.json: {0}; pass a Hugging Face tokenizer.json whose model is CLIP's BPE")]
    TokenizerJson(String),
    #[error(
        "tokenizer.json: this {part} is not CLIP's and the hub mode implements only CLIP's \
         pipeline, so it would give other ids than the tokenizers library: {found}. Use \
         --tokenizer original (or ?tokenizer=original), or a checkpoint with CLIP's tokenizer"
    )]
    Unsupported { part: &'static str, found: String },
    #[error("no tokenizer files: the {0} mode needs vocab.json and merges.txt or tokenizer.json")]
    NoFiles(TokenizerMode),
    #[error("unknown tokenizer mode {0:?}: use \"hub\" (the default) or \"original\"")]
    UnknownMode(String),
}

/// One pre-tokenized piece: a special token (its id and text) or text for BPE.
enum Piece<'a> {
    Special(u32, &'a str),
    Text(&'a str),
}

#[derive(Clone, Debug)]
enum Pipeline {
    Hub(hub::Pipeline),
    Original,
}

/// CLIP's tokenizer in one mode. Build it once; encoding takes `&self`.
#[derive(Clone, Debug)]
pub struct ClipTokenizer {
    mode: TokenizerMode,
    pipeline: Pipeline,
    bpe: Bpe,
    vocab_size: usize,
    bos: u32,
    eos: u32,
    pad: u32,
    unk: u32,
}

fn special_ids(vocab: &HashMap<String, u32>) -> Result<(u32, u32), TokenizerError> {
    let id = |t: &'static str| {
        vocab
            .get(t)
            .copied()
            .ok_or(TokenizerError::MissingSpecialToken(t))
    };
    Ok((id(BOS_TOKEN)?, id(EOS_TOKEN)?))
}

impl ClipTokenizer {
    /// The tokenizer of `mode` from a checkpoint's files: hub reads `tokenizer.json` when given,
    /// else the pair; original reads the pair when given, else the vocabulary and merges of
    /// `tokenizer.json` (its pipeline is OpenAI's whatever the file declares).
    pub fn load(
        mode: TokenizerMode,
        vocab_json: Option<&[u8]>,
        merges_txt: Option<&[u8]>,
        tokenizer_json: Option<&[u8]>,
    ) -> Result<Self, TokenizerError> {
        match (mode, vocab_json.zip(merges_txt), tokenizer_json) {
            (TokenizerMode::Hub, _, Some(json)) => Self::from_tokenizer_json(json),
            (TokenizerMode::Hub, Some((vocab, merges)), None) => Self::from_bytes(vocab, merges),
            (TokenizerMode::Original, Some((vocab, merges)), _) => {
                Self::original_from_bytes(vocab, merges)
            }
            (TokenizerMode::Original, None, Some(json)) => {
                let (_, mut model) = files::tokenizer_json_model(json)?;
                model.merges.truncate(MAX_MERGES);
                Self::original(model.vocab, model.merges)
            }
            (mode, None, None) => Err(TokenizerError::NoFiles(mode)),
        }
    }

    /// Hub mode from CLIP's `vocab.json` and `merges.txt` (their raw bytes), as transformers 5
    /// builds its tokenizer from them.
    pub fn from_bytes(vocab_json: &[u8], merges_txt: &[u8]) -> Result<Self, TokenizerError> {
        let vocab = files::parse_vocab(vocab_json)?;
        let merges = files::parse_merges_hub(merges_txt)?;
        let (bos, eos) = special_ids(&vocab)?;
        Self::hub(files::HubFile {
            unk: Some(eos),
            bos,
            eos,
            added: files::clip_added_tokens(bos, eos),
            split_specials: true,
            byte_level_regex: true,
            vocab,
            merges,
        })
    }

    /// Hub mode from a Hugging Face `tokenizer.json`, refused unless its pipeline is CLIP's.
    pub fn from_tokenizer_json(tokenizer_json: &[u8]) -> Result<Self, TokenizerError> {
        Self::hub(files::parse_tokenizer_json(tokenizer_json)?)
    }

    /// Original mode from CLIP's `vocab.json` and `merges.txt`.
    pub fn original_from_bytes(
        vocab_json: &[u8],
        merges_txt: &[u8],
    ) -> Result<Self, TokenizerError> {
        let vocab = files::parse_vocab(vocab_json)?;
        let merges = files::parse_merges_original(merges_txt)?;
        Self::original(vocab, merges)
    }

    fn hub(file: files::HubFile) -> Result<Self, TokenizerError> {
        let bpe = Bpe::new(&file.vocab, file.merges, file.unk, MissingMerge::Error)?;
        Ok(Self {
            mode: TokenizerMode::Hub,
            pipeline: Pipeline::Hub(hub::Pipeline::new(
                file.added,
                file.split_specials,
                file.byte_level_regex,
            )),
            bpe,
            vocab_size: file.vocab.len(),
            bos: file.bos,
            eos: file.eos,
            pad: file.eos,
            unk: file.unk.unwrap_or(file.eos),
        })
    }

    fn original(
        vocab: HashMap<String, u32>,
        merges: Vec<(String, String)>,
    ) -> Result<Self, TokenizerError> {
        let (bos, eos) = special_ids(&vocab)?;
        let bpe = Bpe::new(&vocab, merges, Some(eos), MissingMerge::Unknown)?;
        Ok(Self {
            mode: TokenizerMode::Original,
            pipeline: Pipeline::Original,
            bpe,
            vocab_size: vocab.len(),
            bos,
            eos,
            // clip.tokenize pads with zeros.
            pad: 0,
            unk: eos,
        })
    }

    /// The reference this tokenizer follows.
    pub fn mode(&self) -> TokenizerMode {
        self.mode
    }

    /// Id of `<|startoftext|>`.
    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    /// Id of `<|endoftext|>`.
    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    /// Id used for padding: `<|endoftext|>` in hub mode (transformers' pad token), 0 in
    /// original mode (clip.tokenize's zeros). Either way the model never looks past the end token.
    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// Id given to a symbol missing from the vocabulary (`<|endoftext|>`).
    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// Number of entries in the vocabulary (49,408 for CLIP).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The largest id [`encode`](Self::encode) can produce: what a model's embedding table must
    /// cover (a vocab.json may number its entries beyond their count).
    pub fn max_id(&self) -> u32 {
        [self.bos, self.eos, self.pad, self.unk]
            .into_iter()
            .chain(self.bpe.max_id())
            .max()
            .unwrap_or(0)
    }

    /// `<|startoftext|>`, the token ids of `text`, `<|endoftext|>`; never truncated.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.bos];
        self.for_each_piece(text, &mut |piece| self.push_piece(&piece, &mut ids));
        ids.push(self.eos);
        ids
    }

    /// Exactly `context_len` ids: `<|startoftext|>`, the first `context_len - 2` token ids,
    /// `<|endoftext|>`, then pad ids. (For `context_len < 2` the first `context_len` ids of
    /// `[bos, eos]`.)
    pub fn encode_padded(&self, text: &str, context_len: usize) -> Vec<u32> {
        self.pad_ids(self.encode(text), context_len)
    }

    /// Truncate and pad an [`encode`](Self::encode)d row (`<|startoftext|>` … `<|endoftext|>`)
    /// the way [`encode_padded`](Self::encode_padded) does; used for rows edited after encoding
    /// (e.g. with a word left out).
    pub fn pad_ids(&self, mut ids: Vec<u32>, context_len: usize) -> Vec<u32> {
        if ids.len() < 2 {
            ids = vec![self.bos, self.eos];
        }
        let body = ids.len() - 2;
        let keep = body.min(context_len.saturating_sub(2));
        ids.truncate(1 + keep);
        ids.push(self.eos);
        ids.truncate(context_len);
        ids.resize(context_len, self.pad);
        ids
    }

    /// [`encode_padded`](Self::encode_padded) for each text: one row of `context_len` ids per text.
    pub fn encode_batch<S: AsRef<str>>(&self, texts: &[S], context_len: usize) -> Vec<Vec<u32>> {
        texts
            .iter()
            .map(|t| self.encode_padded(t.as_ref(), context_len))
            .collect()
    }

    /// The pre-tokenized words of `text` (the pieces BPE runs on, after the mode's clean-up and
    /// lowercasing, or a special token found in the text) with the positions of their tokens in
    /// [`encode`](Self::encode)'s output, which counts `<|startoftext|>` as position 0. The ranges
    /// are consecutive and cover `1..encode(text).len() - 1`; a word whose bytes are all missing
    /// from a vocabulary without an unknown token has an empty range.
    pub fn words(&self, text: &str) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        let mut ids = vec![self.bos];
        self.for_each_piece(text, &mut |piece| {
            let start = ids.len();
            self.push_piece(&piece, &mut ids);
            let shown = match piece {
                Piece::Special(_, s) | Piece::Text(s) => s.to_owned(),
            };
            out.push((shown, start..ids.len()));
        });
        out
    }

    fn push_piece(&self, piece: &Piece<'_>, ids: &mut Vec<u32>) {
        match piece {
            Piece::Special(id, _) => ids.push(*id),
            Piece::Text(t) => self.bpe.encode_word(t, ids),
        }
    }

    fn for_each_piece(&self, text: &str, f: &mut dyn FnMut(Piece<'_>)) {
        match &self.pipeline {
            Pipeline::Hub(p) => p.for_each_piece(text, f),
            Pipeline::Original => original::for_each_piece(text, self.bos, self.eos, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOY_MERGES: [&str; 9] = [
        "h e",
        "l l",
        "l o</w>",
        "he ll",
        "hell o</w>",
        "c a",
        "ca t</w>",
        "' s</w>",
        "i t</w>",
    ];

    /// A toy vocabulary in CLIP's layout: the 256 byte symbols, the same with `</w>`, one token
    /// per merge in [`TOY_MERGES`], then the two special tokens.
    fn toy_vocab() -> serde_json::Map<String, serde_json::Value> {
        let symbols = bpe::byte_symbols();
        let mut tokens: Vec<String> = symbols.iter().map(|c| c.to_string()).collect();
        tokens.extend(symbols.iter().map(|c| format!("{c}</w>")));
        tokens.extend(TOY_MERGES.iter().map(|m| m.replace(' ', "")));
        tokens.push(BOS_TOKEN.into());
        tokens.push(EOS_TOKEN.into());
        tokens
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, serde_json::Value::from(i)))
            .collect()
    }

    fn toy_files() -> (Vec<u8>, String) {
        let vocab = serde_json::to_vec(&toy_vocab()).expect("serializable");
        (vocab, format!("#version: 0.2\n{}\n", TOY_MERGES.join("\n")))
    }

    fn toy(mode: TokenizerMode) -> ClipTokenizer {
        let (vocab, merges) = toy_files();
        ClipTokenizer::load(mode, Some(&vocab), Some(merges.as_bytes()), None).expect("toy vocab")
    }

    /// CLIP's tokenizer.json around the toy vocabulary, as transformers 5 writes it.
    fn toy_tokenizer_json() -> serde_json::Value {
        serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": [
                {"id": 521, "content": BOS_TOKEN, "single_word": false, "lstrip": false,
                 "rstrip": false, "normalized": true, "special": true},
                {"id": 522, "content": EOS_TOKEN, "single_word": false, "lstrip": false,
                 "rstrip": false, "normalized": true, "special": true}],
            "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"},
                {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
                {"type": "Lowercase"}]},
            "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": files::CLIP_PATTERN},
                 "behavior": "Removed", "invert": true},
                {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true}]},
            "post_processor": {"type": "RobertaProcessing", "sep": [EOS_TOKEN, 522],
                "cls": [BOS_TOKEN, 521], "trim_offsets": false, "add_prefix_space": false},
            "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true},
            "model": {"type": "BPE", "dropout": null, "unk_token": EOS_TOKEN,
                "continuing_subword_prefix": "", "end_of_word_suffix": "</w>", "fuse_unk": false,
                "vocab": toy_vocab(), "merges": TOY_MERGES}
        })
    }

    fn id(token: &str) -> u32 {
        let id = toy_vocab()[token]
            .as_u64()
            .expect("token in the toy vocabulary");
        u32::try_from(id).expect("small id")
    }

    #[test]
    fn modes_parse_and_print() {
        assert_eq!(
            "hub".parse::<TokenizerMode>().ok(),
            Some(TokenizerMode::Hub)
        );
        assert_eq!(
            " Original ".parse::<TokenizerMode>().ok(),
            Some(TokenizerMode::Original)
        );
        assert!(matches!(
            "slow".parse::<TokenizerMode>(),
            Err(TokenizerError::UnknownMode(_))
        ));
        assert_eq!(TokenizerMode::default().to_string(), "hub");
    }

    #[test]
    fn encodes_with_merges_and_special_tokens() {
        for mode in TokenizerMode::ALL {
            let t = toy(mode);
            assert_eq!(t.mode(), mode);
            assert_eq!(t.bos_id(), 512 + 9);
            assert_eq!(t.eos_id(), 512 + 10);
            assert_eq!(t.vocab_size(), 512 + 11);
            assert_eq!(t.encode(""), vec![t.bos_id(), t.eos_id()]);
            assert_eq!(
                t.encode("Hello"),
                vec![t.bos_id(), id("hello</w>"), t.eos_id()]
            );
            assert_eq!(
                t.encode("CAT's"),
                vec![t.bos_id(), id("cat</w>"), id("'s</w>"), t.eos_id()]
            );
            // A special token in the text, also in capitals (lowercased before it is found).
            let eos = t.eos_id();
            assert_eq!(
                t.encode("<|ENDOFTEXT|>"),
                vec![t.bos_id(), eos, eos],
                "{mode}"
            );
            // Unmerged bytes stay single symbols; the last one carries </w>.
            assert_eq!(t.encode("hi"), vec![t.bos_id(), id("h"), id("i</w>"), eos]);
        }
        assert_eq!(toy(TokenizerMode::Hub).pad_id(), 522);
        assert_eq!(toy(TokenizerMode::Original).pad_id(), 0);
    }

    #[test]
    fn modes_differ_where_the_references_do() {
        let (hub, original) = (toy(TokenizerMode::Hub), toy(TokenizerMode::Original));
        let words = |t: &ClipTokenizer, s: &str| -> Vec<String> {
            t.words(s).into_iter().map(|w| w.0).collect()
        };
        // Zero-width joiner: kept by hub and by the original (ftfy leaves it).
        assert_eq!(words(&hub, "a\u{200d}b"), ["a", "\u{200d}", "b"]);
        assert_eq!(words(&original, "a\u{200d}b"), ["a", "\u{200d}", "b"]);
        // HTML entities, ligatures and mojibake: rewritten by the original only.
        assert_eq!(words(&hub, "&amp;"), ["&", "amp", ";"]);
        assert_eq!(words(&original, "&amp;"), ["&"]);
        assert_eq!(words(&hub, "ﬁ"), ["ﬁ"]);
        assert_eq!(words(&original, "ﬁ"), ["fi"]);
        assert_eq!(words(&original, "cafÃ©"), ["café"]);
        // Final sigma.
        assert_eq!(words(&hub, "ΟΔΟΣ"), ["οδοσ"]);
        assert_eq!(words(&original, "ΟΔΟΣ"), ["οδος"]);
    }

    #[test]
    fn words_cover_the_encoding() {
        for mode in TokenizerMode::ALL {
            let t = toy(mode);
            let text = "hello <|endoftext|> cat's 🙂!";
            let ids = t.encode(text);
            let words = t.words(text);
            let mut next = 1;
            for (_, r) in &words {
                assert_eq!(r.start, next);
                assert!(r.end > r.start);
                next = r.end;
            }
            assert_eq!(next, ids.len() - 1);
            assert_eq!(words[1], (EOS_TOKEN.to_owned(), 2..3));
        }
    }

    #[test]
    fn padding_keeps_the_end_token() {
        for mode in TokenizerMode::ALL {
            let t = toy(mode);
            let pad = t.pad_id();
            let p = t.encode_padded("hello", 6);
            assert_eq!(
                p,
                vec![t.bos_id(), id("hello</w>"), t.eos_id(), pad, pad, pad]
            );
            let long = "cat ".repeat(100);
            let p = t.encode_padded(&long, 77);
            assert_eq!(p.len(), 77);
            assert_eq!(p[0], t.bos_id());
            assert_eq!(p[76], t.eos_id());
            assert!(p[1..76].iter().all(|&i| i == id("cat</w>")));
            assert_eq!(t.encode_padded("hello", 1), vec![t.bos_id()]);
            assert!(t.encode_padded("hello", 0).is_empty());
            let batch = t.encode_batch(&["hello", "cat"], 5);
            assert_eq!(batch.len(), 2);
            assert!(batch.iter().all(|r| r.len() == 5));
        }
    }

    #[test]
    fn bad_files_give_typed_errors() {
        assert!(matches!(
            ClipTokenizer::from_bytes(b"[1,2]", b""),
            Err(TokenizerError::VocabJson(_))
        ));
        assert!(matches!(
            ClipTokenizer::from_bytes(br#"{"a": -1}"#, b""),
            Err(TokenizerError::BadVocabId { .. })
        ));
        assert!(matches!(
            ClipTokenizer::from_bytes(br#"{"a": 0}"#, b"#version: 0.2\n"),
            Err(TokenizerError::MissingSpecialToken(BOS_TOKEN))
        ));
        let v = br#"{"<|startoftext|>": 0, "<|endoftext|>": 1}"#;
        for mode in TokenizerMode::ALL {
            let load = |merges: &[u8]| ClipTokenizer::load(mode, Some(v), Some(merges), None);
            assert!(matches!(
                load(b"#version: 0.2\na b c"),
                Err(TokenizerError::BadMergeLine { line: 2, fields: 3 })
            ));
            assert!(matches!(load(b"\xff"), Err(TokenizerError::MergesUtf8(0))));
            // Symbols missing from the vocabulary become the unknown token.
            let t = load(b"#version: 0.2\n").expect("loads");
            assert_eq!(t.encode("ab"), vec![0, 1, 1, 1]);
            assert!(matches!(
                ClipTokenizer::load(mode, None, Some(b""), None),
                Err(TokenizerError::NoFiles(m)) if m == mode
            ));
        }
        // tokenizers refuses a merge whose result is not in the vocabulary; so does hub mode.
        assert!(matches!(
            ClipTokenizer::from_bytes(v, b"#version: 0.2\na b"),
            Err(TokenizerError::MergeNotInVocab { rank: 0, .. })
        ));
        let err = ClipTokenizer::from_bytes(b"{", b"").expect_err("bad json");
        assert!(err.to_string().contains("vocab.json"));
    }

    #[test]
    fn tokenizer_json_matches_the_pair() {
        let pair = toy(TokenizerMode::Hub);
        let json = toy_tokenizer_json();
        let from_json =
            ClipTokenizer::from_tokenizer_json(json.to_string().as_bytes()).expect("loads");
        for text in ["hello cat's", "It's <|ENDOFTEXT|>", "", "日本語 a\u{200d}b"] {
            assert_eq!(pair.encode(text), from_json.encode(text), "{text:?}");
        }
        // Merges as pairs, as tokenizers 0.20+ writes them.
        let mut pairs = json.clone();
        pairs["model"]["merges"] = TOY_MERGES
            .iter()
            .map(|m| m.split(' ').collect::<Vec<_>>())
            .collect();
        let t = ClipTokenizer::from_tokenizer_json(pairs.to_string().as_bytes()).expect("loads");
        assert_eq!(t.encode("hello cat"), pair.encode("hello cat"));
        // The pattern without the special-token alternatives (transformers' converter).
        let mut converter = json.clone();
        converter["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] =
            files::CLIP_PATTERN_NO_SPECIALS.into();
        let t =
            ClipTokenizer::from_tokenizer_json(converter.to_string().as_bytes()).expect("loads");
        assert_eq!(t.encode("x<|ENDOFTEXT|>"), pair.encode("x<|ENDOFTEXT|>"));
        // The original mode takes only the model from the file.
        let original = ClipTokenizer::load(
            TokenizerMode::Original,
            None,
            None,
            Some(json.to_string().as_bytes()),
        )
        .expect("loads");
        assert_eq!(
            original.encode("&amp; cat"),
            toy(TokenizerMode::Original).encode("&amp; cat")
        );
    }

    #[test]
    fn other_pipelines_are_refused_by_name() {
        let refused = |edit: &dyn Fn(&mut serde_json::Value), part: &str| {
            let mut json = toy_tokenizer_json();
            edit(&mut json);
            match ClipTokenizer::from_tokenizer_json(json.to_string().as_bytes()) {
                Err(TokenizerError::Unsupported { part: p, .. }) => assert_eq!(p, part),
                other => panic!("{part}: expected Unsupported, got {other:?}"),
            }
        };
        refused(
            &|j| j["normalizer"]["normalizers"][0]["type"] = "NFKC".into(),
            "normalizer",
        );
        refused(&|j| j["normalizer"] = serde_json::Value::Null, "normalizer");
        refused(
            &|j| j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+".into(),
            "pre_tokenizer",
        );
        refused(&|j| j["model"]["dropout"] = 0.1.into(), "model");
        refused(&|j| j["model"]["fuse_unk"] = true.into(), "model");
        refused(
            &|j| j["post_processor"] = serde_json::Value::Null,
            "post_processor",
        );
        refused(
            &|j| j["added_tokens"][0]["lstrip"] = true.into(),
            "added_tokens",
        );
        let err = ClipTokenizer::from_tokenizer_json(br#"{"model": {"type": "WordPiece"}}"#);
        assert!(matches!(err, Err(TokenizerError::TokenizerJson(_))));
    }
}
