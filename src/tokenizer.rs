//! CLIP's byte-level BPE tokenizer, matching `transformers.CLIPTokenizer` id for id.
//!
//! The reference is the *slow* Python tokenizer of transformers 4.57.1 running without `ftfy`, i.e.
//! with its BERT-style `BasicTokenizer` fallback. For one input text it does, in order:
//!
//! 1. Special tokens: the text is cut at every exact (case-sensitive) `<|startoftext|>` /
//!    `<|endoftext|>`; those become their ids, the pieces between are tokenized independently.
//! 2. Clean-up: NUL, U+FFFD and every character of general category `C*` (controls, format
//!    characters such as ZWJ/ZWNJ/soft hyphen/bidi marks, private use, *unassigned*) are dropped,
//!    except tab/LF/CR, which like every `Zs` space become a plain space.
//! 3. A space is put on both sides of every CJK ideograph (the BERT ranges: U+4E00–9FFF,
//!    U+3400–4DBF, U+20000–2CEAF without U+2A6E0–2A6FF, U+F900–FAFF, U+2F800–2FA1F).
//! 4. NFC, then split on whitespace (after step 2 only the space, U+2028 and U+2029 are left), then
//!    full Unicode lowercasing of each whitespace-separated word (Python `str.lower`: `İ` → `i̇`,
//!    final sigma by context). Accents are *not* stripped.
//! 5. The pre-tokenizer pattern
//!    `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
//!    (case-insensitive) cuts each word into pieces; characters no alternative matches are
//!    dropped. Case-insensitivity still matters after lowercasing: `'ſ` (long s) counts as `'s`,
//!    and U+0345 (combining ypogegrammeni) matches no alternative at all, so it disappears.
//! 6. Each piece's UTF-8 bytes are mapped to the 256 printable byte symbols, `</w>` is glued to the
//!    last one, and the BPE merges are applied lowest rank first (all non-overlapping occurrences
//!    left to right per step). A piece that is exactly a special token string maps to that token.
//!    Symbols missing from the vocabulary become the unknown token (`<|endoftext|>`).
//! 7. `<|startoftext|>` + ids + `<|endoftext|>`; [`ClipTokenizer::encode_padded`] keeps the first
//!    `context_len - 2` ids and pads with the pad token (`<|endoftext|>`), as
//!    `tokenizer(text, padding="max_length", max_length=77, truncation=True)` does.
//!
//! # Differences from `CLIPTokenizerFast`
//!
//! The fast tokenizer (the `tokenizers` pipeline transformers converts from the slow one) is *not*
//! the reference. Measured with the full vocabulary (`scripts/reference/tokenizer.py compare-fast`),
//! it gives the same ids on 2,240 of the 2,241 VLSBench instructions and on 1,063 of the 1,461
//! corpus strings (which are built to hit the differences). It differs because it:
//! * has no step 2: controls, format characters (ZWJ inside emoji sequences, ZWSP, BOM, soft
//!   hyphen, bidi marks), private-use and newer-than-Unicode-14 characters and U+FFFD are tokenized;
//! * has no step 3: a run of CJK ideographs, with any letters glued to it, is one BPE word (the one
//!   VLSBench difference: Chinese text right after an English word);
//! * lowercases every `Σ` to `σ` (no final sigma);
//! * matches its pattern case-sensitively and then re-splits with the GPT-2 pattern, so `'ſ` is two
//!   pieces and U+0345 is kept;
//! * finds `<|endoftext|>` / `<|startoftext|>` in any letter case anywhere after lowercasing
//!   (`!<|ENDOFTEXT|>` → `!` + end token), where the slow one only finds exact-case ones, or
//!   other-case ones where a pattern match starts.
//!
//! # Unicode data, and why no Unicode crates
//!
//! Exactness depends on Unicode *versions*: Python 3.11's `unicodedata` is Unicode 14.0 (so a
//! character assigned later, e.g. U+1FAE8 🫨, is "unassigned" and dropped in step 2), while the
//! `regex` module has its own newer tables. Crates with other versions would be subtly off, so the
//! data these steps need is generated from the reference interpreter itself by
//! `scripts/reference/tokenizer.py rust-tables` into the marked block at the end of this file:
//! `CLASS_RUNS` (clean-up class, pattern class and final-sigma class of every code point, about
//! 2,400 runs, 10 KiB) and `CCC_RUNS` + `DECOMPOSITIONS` (canonical combining classes and
//! decompositions, for the small NFC implementation in `nfc`). In a stripped release wasm build
//! our NFC costs ~40 KiB; the `unicode-normalization` crate (Unicode 18 tables), tried first,
//! cost ~125 KiB, mostly compatibility-decomposition tables that NFC never uses. The
//! `regex` crate was not considered: different Unicode version, no way to express the IGNORECASE
//! quirks above, and a regex engine in the wasm binary.
//!
//! Lowercasing uses std's `char::to_lowercase` per character: for every code point that survives
//! step 2 it equals CPython's `str.lower` (checked exhaustively; it differs only on characters
//! unassigned in Unicode 14, which never get there). The final-sigma rule is ours, because std's
//! Cased / Case_Ignorable data is newer (e.g. U+0295 `ʕ` changed).
//!
//! Verified (in a scratch harness, not in the test suite): ids identical to the reference with the
//! full vocabulary on ~133,000 strings, including every code point in nine contexts, every
//! canonical decomposition, and random mark sequences.
//!
//! Files: [`ClipTokenizer::from_bytes`] reads CLIP's `vocab.json` + `merges.txt` as the slow
//! tokenizer does (the first line of merges.txt is a header and always skipped; at most 48,894
//! merges are read; a repeated merge takes its last rank), except that a merge line without
//! exactly two fields is an error here where Python would silently keep a useless entry. [`ClipTokenizer::from_tokenizer_json`] reads the
//! `model.vocab` / `model.merges` of a Hugging Face `tokenizer.json` and applies the *slow*
//! semantics above to them.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::OnceLock;

/// Beginning-of-text token string.
pub const BOS_TOKEN: &str = "<|startoftext|>";
/// End-of-text token string; CLIP also uses it as the unknown and the padding token.
pub const EOS_TOKEN: &str = "<|endoftext|>";
/// CLIP's text context length.
pub const CONTEXT_LENGTH: usize = 77;
/// The slow tokenizer reads at most this many merges: `49152 - 256 - 2`.
pub const MAX_MERGES: usize = 48_894;

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
        "the vocabulary has no {0:?} token; CLIP's vocab.json contains both <|startoftext|> and \
         <|endoftext|>. Check that vocab.json and merges.txt belong to a CLIP model"
    )]
    MissingSpecialToken(&'static str),
    #[error("tokenizer.json: {0}; pass a Hugging Face tokenizer.json whose model is CLIP's BPE")]
    TokenizerJson(String),
}

/// A symbol during BPE: `sym` indexes the merge table (or is [`NO_SYM`] when the symbol takes part
/// in no merge), `id` is its vocabulary id (or the unknown id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sym {
    sym: u32,
    id: u32,
}

const NO_SYM: u32 = u32::MAX;

/// CLIP's tokenizer. Build it once with [`ClipTokenizer::from_bytes`]; encoding takes `&self`.
#[derive(Clone, Debug)]
pub struct ClipTokenizer {
    vocab_size: usize,
    /// Initial symbol of each byte inside a piece, and of each byte ending a piece (`…</w>`).
    byte_sym: [Sym; 256],
    byte_sym_end: [Sym; 256],
    /// (left, right) → (rank, merged symbol).
    merges: HashMap<(u32, u32), (u32, u32)>,
    /// Vocabulary id of every merge symbol.
    sym_ids: Vec<u32>,
    bos: u32,
    eos: u32,
    pad: u32,
    unk: u32,
}

/// One pre-tokenized piece: either an exact special token from step 1, or text for BPE.
enum Piece<'a> {
    Special(u32, &'static str),
    Text(&'a str),
}

impl ClipTokenizer {
    /// Loads CLIP's `vocab.json` and `merges.txt` (their raw bytes).
    pub fn from_bytes(vocab_json: &[u8], merges_txt: &[u8]) -> Result<Self, TokenizerError> {
        let raw: HashMap<String, serde_json::Value> =
            serde_json::from_slice(vocab_json).map_err(TokenizerError::VocabJson)?;
        let vocab = vocab_from_values(raw)?;
        let text = std::str::from_utf8(merges_txt)
            .map_err(|e| TokenizerError::MergesUtf8(e.valid_up_to()))?;
        // Python: read().strip().split("\n")[1 : 48895]; each line split on whitespace.
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
        Self::from_parts(vocab, merges)
    }

    /// Loads the vocabulary and merges of a Hugging Face `tokenizer.json` (a BPE model with
    /// `model.vocab` and `model.merges` as `"a b"` strings or `["a", "b"]` pairs). Encoding follows
    /// the slow tokenizer, whatever normalizer the file declares.
    pub fn from_tokenizer_json(tokenizer_json: &[u8]) -> Result<Self, TokenizerError> {
        let err = |m: &str| TokenizerError::TokenizerJson(m.to_owned());
        let root: serde_json::Value = serde_json::from_slice(tokenizer_json)
            .map_err(|e| TokenizerError::TokenizerJson(format!("not JSON ({e})")))?;
        let model = root
            .get("model")
            .ok_or_else(|| err("no \"model\" object"))?;
        if let Some(kind) = model.get("type").and_then(|t| t.as_str())
            && kind != "BPE"
        {
            return Err(TokenizerError::TokenizerJson(format!(
                "model type is {kind:?}, not \"BPE\""
            )));
        }
        let vocab_obj = model
            .get("vocab")
            .and_then(|v| v.as_object())
            .ok_or_else(|| err("no \"model.vocab\" object"))?;
        let vocab = vocab_from_values(
            vocab_obj
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )?;
        let list = model
            .get("merges")
            .and_then(|m| m.as_array())
            .ok_or_else(|| err("no \"model.merges\" array"))?;
        let mut merges = Vec::new();
        for (i, m) in list.iter().take(MAX_MERGES).enumerate() {
            let pair: Option<(String, String)> = match m {
                serde_json::Value::String(s) => {
                    let f: Vec<&str> = s.split_whitespace().collect();
                    (f.len() == 2).then(|| (f[0].to_owned(), f[1].to_owned()))
                }
                serde_json::Value::Array(a) if a.len() == 2 => match (a[0].as_str(), a[1].as_str())
                {
                    (Some(x), Some(y)) => Some((x.to_owned(), y.to_owned())),
                    _ => None,
                },
                _ => None,
            };
            let pair = pair.ok_or_else(|| {
                TokenizerError::TokenizerJson(format!("model.merges[{i}] is not a pair of symbols"))
            })?;
            merges.push(pair);
        }
        Self::from_parts(vocab, merges)
    }

    fn from_parts(
        vocab: HashMap<String, u32>,
        merges: Vec<(String, String)>,
    ) -> Result<Self, TokenizerError> {
        let bos = *vocab
            .get(BOS_TOKEN)
            .ok_or(TokenizerError::MissingSpecialToken(BOS_TOKEN))?;
        let eos = *vocab
            .get(EOS_TOKEN)
            .ok_or(TokenizerError::MissingSpecialToken(EOS_TOKEN))?;
        let unk = eos;
        let lookup = |s: &str| vocab.get(s).copied().unwrap_or(unk);

        // Intern every string that takes part in a merge.
        let mut names: HashMap<String, u32> = HashMap::new();
        let mut sym_ids: Vec<u32> = Vec::new();
        let mut intern = |s: String| -> u32 {
            if let Some(&k) = names.get(&s) {
                return k;
            }
            let k = sym_ids.len() as u32;
            sym_ids.push(lookup(&s));
            names.insert(s, k);
            k
        };
        let mut table = HashMap::with_capacity(merges.len());
        for (rank, (a, b)) in merges.into_iter().enumerate() {
            let merged = intern(format!("{a}{b}"));
            let (l, r) = (intern(a), intern(b));
            // A repeated merge keeps its last rank, like Python's dict(zip(merges, range(n))).
            table.insert((l, r), (rank as u32, merged));
        }

        let symbols = byte_symbols();
        let mut byte_sym = [Sym {
            sym: NO_SYM,
            id: unk,
        }; 256];
        let mut byte_sym_end = byte_sym;
        for b in 0..256 {
            let plain = symbols[b].to_string();
            let end = format!("{plain}</w>");
            byte_sym[b] = Sym {
                sym: names.get(&plain).copied().unwrap_or(NO_SYM),
                id: lookup(&plain),
            };
            byte_sym_end[b] = Sym {
                sym: names.get(&end).copied().unwrap_or(NO_SYM),
                id: lookup(&end),
            };
        }

        Ok(Self {
            vocab_size: vocab.len(),
            byte_sym,
            byte_sym_end,
            merges: table,
            sym_ids,
            bos,
            eos,
            pad: eos,
            unk,
        })
    }

    /// Id of `<|startoftext|>`.
    pub fn bos_id(&self) -> u32 {
        self.bos
    }

    /// Id of `<|endoftext|>`.
    pub fn eos_id(&self) -> u32 {
        self.eos
    }

    /// Id used for padding (`<|endoftext|>`, as in CLIP).
    pub fn pad_id(&self) -> u32 {
        self.pad
    }

    /// Id given to a symbol missing from the vocabulary (`<|endoftext|>`).
    pub fn unk_id(&self) -> u32 {
        self.unk
    }

    /// Number of entries in vocab.json (49,408 for CLIP).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The largest id [`encode`](Self::encode) can produce: what a model's embedding table must
    /// cover (a vocab.json may number its entries beyond their count).
    pub fn max_id(&self) -> u32 {
        let syms = self.byte_sym.iter().chain(&self.byte_sym_end).map(|s| s.id);
        self.sym_ids
            .iter()
            .copied()
            .chain(syms)
            .chain([self.bos, self.eos, self.pad, self.unk])
            .max()
            .unwrap_or(0)
    }

    /// `<|startoftext|>`, the token ids of `text`, `<|endoftext|>`; never truncated.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids = vec![self.bos];
        self.for_each_piece(text, |piece| self.push_piece(&piece, &mut ids));
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

    /// The pre-tokenized words of `text` (the pieces BPE runs on, after clean-up, NFC and
    /// lowercasing, or a special token found in the text) with the positions of their tokens in
    /// [`encode`](Self::encode)'s output, which counts `<|startoftext|>` as position 0. The ranges
    /// are consecutive, non-empty and cover `1..encode(text).len() - 1`.
    pub fn words(&self, text: &str) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        let mut ids = vec![self.bos];
        self.for_each_piece(text, |piece| {
            let start = ids.len();
            self.push_piece(&piece, &mut ids);
            let shown = match piece {
                Piece::Special(_, s) => s.to_owned(),
                Piece::Text(s) => s.to_owned(),
            };
            out.push((shown, start..ids.len()));
        });
        out
    }

    /// The BPE tokens of one piece, appended to `ids`.
    fn push_piece(&self, piece: &Piece<'_>, ids: &mut Vec<u32>) {
        let text = match piece {
            Piece::Special(id, _) => {
                ids.push(*id);
                return;
            }
            Piece::Text(t) => *t,
        };
        // The slow tokenizer's BPE cache starts with the two special strings, which it returns as is.
        if text == BOS_TOKEN {
            ids.push(self.bos);
            return;
        }
        if text == EOS_TOKEN {
            ids.push(self.eos);
            return;
        }
        let bytes = text.as_bytes();
        let Some((&last, head)) = bytes.split_last() else {
            return;
        };
        let mut word: Vec<Sym> = head.iter().map(|&b| self.byte_sym[b as usize]).collect();
        word.push(self.byte_sym_end[last as usize]);
        while word.len() > 1 {
            let mut best: Option<(u32, u32, u32, u32)> = None; // rank, left, right, merged
            for w in word.windows(2) {
                if let Some(&(rank, merged)) = self.merges.get(&(w[0].sym, w[1].sym))
                    && best.is_none_or(|b| rank < b.0)
                {
                    best = Some((rank, w[0].sym, w[1].sym, merged));
                }
            }
            let Some((_, left, right, merged)) = best else {
                break;
            };
            let merged = Sym {
                sym: merged,
                id: self.sym_ids[merged as usize],
            };
            let mut next = Vec::with_capacity(word.len());
            let mut i = 0;
            while i < word.len() {
                if i + 1 < word.len() && word[i].sym == left && word[i + 1].sym == right {
                    next.push(merged);
                    i += 2;
                } else {
                    next.push(word[i]);
                    i += 1;
                }
            }
            word = next;
        }
        ids.extend(word.iter().map(|s| s.id));
    }

    /// Steps 1–5 of the module docs: calls `f` with each piece in order.
    fn for_each_piece(&self, text: &str, mut f: impl FnMut(Piece<'_>)) {
        let mut rest = text;
        while !rest.is_empty() {
            let (segment, special, after) = split_special(rest);
            if !segment.is_empty() {
                let normalized = normalize(segment);
                for word in normalized.split(is_split_space).filter(|w| !w.is_empty()) {
                    let lower = lowercase(word);
                    for piece in Pieces::new(&lower) {
                        f(Piece::Text(piece));
                    }
                }
            }
            if let Some(name) = special {
                let id = if name == BOS_TOKEN {
                    self.bos
                } else {
                    self.eos
                };
                f(Piece::Special(id, name));
            }
            rest = after;
        }
    }
}

fn vocab_from_values(
    raw: HashMap<String, serde_json::Value>,
) -> Result<HashMap<String, u32>, TokenizerError> {
    let mut vocab = HashMap::with_capacity(raw.len());
    for (token, value) in raw {
        let id = value.as_u64().and_then(|v| u32::try_from(v).ok());
        match id {
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

/// The printable stand-in of each byte (the GPT-2/CLIP byte-level table): printable non-space
/// Latin-1 bytes map to themselves, the other 68 to U+0100.. in byte order.
fn byte_symbols() -> [char; 256] {
    let mut out = ['\0'; 256];
    let mut shifted = 0u32;
    for (b, slot) in out.iter_mut().enumerate() {
        let b = b as u32;
        let printable =
            (0x21..=0x7E).contains(&b) || (0xA1..=0xAC).contains(&b) || (0xAE..=0xFF).contains(&b);
        let cp = if printable {
            b
        } else {
            shifted += 1;
            0x100 + shifted - 1
        };
        *slot = char::from_u32(cp).unwrap_or('\0');
    }
    out
}

/// Step 1: the text before the first special token, that token, and the text after it.
fn split_special(text: &str) -> (&str, Option<&'static str>, &str) {
    let mut from = 0;
    while let Some(off) = text[from..].find("<|") {
        let at = from + off;
        for name in [BOS_TOKEN, EOS_TOKEN] {
            if text[at..].starts_with(name) {
                return (&text[..at], Some(name), &text[at + name.len()..]);
            }
        }
        from = at + 1;
    }
    (text, None, "")
}

/// Steps 2–3 and NFC.
fn normalize(text: &str) -> String {
    let mut cleaned = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match class_of(c) {
            Class::Remove => {}
            Class::Space => cleaned.push(' '),
            _ if is_cjk(c) => {
                cleaned.push(' ');
                cleaned.push(c);
                cleaned.push(' ');
            }
            _ => cleaned.push(c),
        }
    }
    if cleaned.is_ascii() {
        return cleaned;
    }
    nfc(&cleaned)
}

/// Unicode Normalization Form C with the reference's Unicode 14 data (`DECOMPOSITIONS`,
/// `CCC_RUNS`): full canonical decomposition, canonical ordering, canonical composition.
fn nfc(text: &str) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        decompose(c, &mut chars);
    }
    // Canonical ordering: stable sort of every run of non-starters by combining class.
    let mut i = 0;
    while i < chars.len() {
        if ccc(chars[i]) == 0 {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && ccc(chars[i]) != 0 {
            i += 1;
        }
        chars[start..i].sort_by_key(|&c| ccc(c));
    }
    // Canonical composition: a character joins the last starter when nothing between them
    // blocks it (no intervening character of class 0 or of a class >= its own).
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut starter: Option<usize> = None;
    let mut last_class: u8 = 0;
    for c in chars {
        let class = ccc(c);
        if let Some(s) = starter
            && (last_class == 0 || last_class < class)
            && let Some(composite) = compose(out[s], c)
        {
            out[s] = composite;
            continue;
        }
        if class == 0 {
            starter = Some(out.len());
        }
        last_class = class;
        out.push(c);
    }
    out.into_iter().collect()
}

const S_BASE: u32 = 0xAC00;
const L_BASE: u32 = 0x1100;
const V_BASE: u32 = 0x1161;
const T_BASE: u32 = 0x11A7;
const L_COUNT: u32 = 19;
const V_COUNT: u32 = 21;
const T_COUNT: u32 = 28;
const S_COUNT: u32 = L_COUNT * V_COUNT * T_COUNT;

fn decompose(c: char, out: &mut Vec<char>) {
    let cp = c as u32;
    if cp < 0xC0 {
        out.push(c);
        return;
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&cp) {
        let s = cp - S_BASE;
        let hangul = |cp| char::from_u32(cp).unwrap_or(c);
        out.push(hangul(L_BASE + s / (V_COUNT * T_COUNT)));
        out.push(hangul(V_BASE + (s % (V_COUNT * T_COUNT)) / T_COUNT));
        if !s.is_multiple_of(T_COUNT) {
            out.push(hangul(T_BASE + s % T_COUNT));
        }
        return;
    }
    match decomposition_entry(cp) {
        Some(entry) => {
            for part in [(entry >> 21) & 0x1F_FFFF, entry & 0x1F_FFFF] {
                if let Some(p) = char::from_u32(part as u32).filter(|&p| p != '\0') {
                    decompose(p, out);
                }
            }
        }
        None => out.push(c),
    }
}

fn decomposition_entry(cp: u32) -> Option<u64> {
    let key = u64::from(cp);
    DECOMPOSITIONS
        .binary_search_by_key(&key, |e| (e >> 42) & 0x1F_FFFF)
        .ok()
        .map(|i| DECOMPOSITIONS[i])
}

/// The primary composite of `a` + `b`, if NFC recombines them.
fn compose(a: char, b: char) -> Option<char> {
    let (a, b) = (a as u32, b as u32);
    if (L_BASE..L_BASE + L_COUNT).contains(&a) && (V_BASE..V_BASE + V_COUNT).contains(&b) {
        return char::from_u32(S_BASE + ((a - L_BASE) * V_COUNT + (b - V_BASE)) * T_COUNT);
    }
    if (S_BASE..S_BASE + S_COUNT).contains(&a)
        && (a - S_BASE).is_multiple_of(T_COUNT)
        && (T_BASE + 1..T_BASE + T_COUNT).contains(&b)
    {
        return char::from_u32(a + (b - T_BASE));
    }
    let pair = (u64::from(a) << 21) | u64::from(b);
    compositions().get(&pair).copied()
}

/// Primary composites by `first << 21 | second`, built once from `DECOMPOSITIONS`.
fn compositions() -> &'static HashMap<u64, char> {
    static MAP: OnceLock<HashMap<u64, char>> = OnceLock::new();
    MAP.get_or_init(|| {
        DECOMPOSITIONS
            .iter()
            .filter(|&&e| e >> 63 == 1)
            .filter_map(|&e| {
                Some((
                    e & ((1 << 42) - 1),
                    char::from_u32(((e >> 42) & 0x1F_FFFF) as u32)?,
                ))
            })
            .collect()
    })
}

/// Canonical combining class.
fn ccc(c: char) -> u8 {
    let cp = c as u32;
    if cp < 0x300 {
        return 0;
    }
    let key = (cp << 8) | 0xFF;
    let i = CCC_RUNS.partition_point(|&run| run <= key);
    if i == 0 {
        0
    } else {
        (CCC_RUNS[i - 1] & 0xFF) as u8
    }
}

/// Python's `str.split()` separators that can remain after clean-up.
fn is_split_space(c: char) -> bool {
    c == ' ' || matches!(class_of(c), Class::Split | Class::Space)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

/// Step 5: the pre-tokenizer pattern over one lowercased word (no whitespace inside).
struct Pieces<'a> {
    word: &'a str,
    pos: usize,
}

impl<'a> Pieces<'a> {
    fn new(word: &'a str) -> Self {
        Self { word, pos: 0 }
    }
}

/// Matches `pattern` at the start of `s`, where `s` is lowercase `s` in the pattern may also be `ſ`
/// (IGNORECASE). Returns the matched length in bytes.
fn match_folded(s: &str, pattern: &str) -> Option<usize> {
    let mut len = 0;
    let mut chars = s.chars();
    for p in pattern.chars() {
        let c = chars.next()?;
        if c != p && !(p == 's' && c == 'ſ') {
            return None;
        }
        len += c.len_utf8();
    }
    Some(len)
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let rest = &self.word[self.pos..];
            let first = rest.chars().next()?;
            let mut len = None;
            if first == '<' {
                len = match_folded(rest, BOS_TOKEN).or_else(|| match_folded(rest, EOS_TOKEN));
            } else if first == '\'' {
                for p in ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"] {
                    if let Some(l) = match_folded(rest, p) {
                        len = Some(l);
                        break;
                    }
                }
            }
            let len = match len {
                Some(l) => l,
                None => match class_of(first) {
                    Class::Letter => run_len(rest, Class::Letter),
                    Class::Number => first.len_utf8(),
                    Class::Other => run_len(rest, Class::Other),
                    // Whitespace or a character no alternative matches: the regex skips it.
                    _ => {
                        self.pos += first.len_utf8();
                        continue;
                    }
                },
            };
            let piece = &rest[..len];
            self.pos += len;
            return Some(piece);
        }
    }
}

fn run_len(s: &str, class: Class) -> usize {
    s.char_indices()
        .find(|&(_, c)| class_of(c) != class)
        .map_or(s.len(), |(i, _)| i)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// Dropped by clean-up: NUL, U+FFFD, `C*` except tab/LF/CR (Unicode 14 categories).
    Remove,
    /// Turned into a space by clean-up: tab, LF, CR, `Zs`.
    Space,
    /// Left by clean-up but separates words in `str.split()`: U+2028, U+2029.
    Split,
    /// `[\p{L}]` under IGNORECASE.
    Letter,
    /// `[\p{N}]`.
    Number,
    /// `[^\s\p{L}\p{N}]` under IGNORECASE.
    Other,
    /// Matched by no alternative (U+0345).
    Skip,
}

/// How a character counts for the final-sigma rule of lowercasing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SigmaClass {
    Other,
    /// Case_Ignorable: skipped when looking for the letters around a capital sigma.
    Ignorable,
    /// Cased and not Case_Ignorable.
    Cased,
}

/// Class and final-sigma class of `c` from `CLASS_RUNS`.
fn props(c: char) -> (Class, SigmaClass) {
    let key = ((c as u32) << 5) | 31;
    let i = CLASS_RUNS.partition_point(|&run| run <= key);
    let tag = if i == 0 { 0 } else { CLASS_RUNS[i - 1] & 31 };
    let class = match tag & 7 {
        0 => Class::Remove,
        1 => Class::Space,
        2 => Class::Split,
        3 => Class::Letter,
        4 => Class::Number,
        5 => Class::Other,
        _ => Class::Skip,
    };
    let sigma = match tag >> 3 {
        1 => SigmaClass::Ignorable,
        2 => SigmaClass::Cased,
        _ => SigmaClass::Other,
    };
    (class, sigma)
}

fn class_of(c: char) -> Class {
    if c.is_ascii() {
        return match c {
            '\t' | '\n' | '\r' | ' ' => Class::Space,
            '\0'..='\x1f' | '\x7f' => Class::Remove,
            _ if c.is_ascii_alphabetic() => Class::Letter,
            _ if c.is_ascii_digit() => Class::Number,
            _ => Class::Other,
        };
    }
    props(c).0
}

/// Python's `str.lower()` of one word: the full lowercase mapping of each character (std's, equal
/// to CPython's for every character that survives clean-up), except that a capital sigma becomes
/// final `ς` when a cased letter precedes it and none follows it, case-ignorable characters skipped.
/// That rule uses the reference's own Cased/Case_Ignorable data (from `CLASS_RUNS`); std's
/// differs for a few characters whose properties changed after Unicode 14 (e.g. U+0295 `ʕ`).
fn lowercase(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(word.len());
    for (i, c) in word.char_indices() {
        if c == '\u{3a3}' {
            let significant = |c: &char| props(*c).1 != SigmaClass::Ignorable;
            let cased = |c: Option<char>| c.is_some_and(|c| props(c).1 == SigmaClass::Cased);
            let before = word[..i].chars().rev().find(significant);
            let after = word[i + c.len_utf8()..].chars().find(significant);
            out.push(if cased(before) && !cased(after) {
                '\u{3c2}'
            } else {
                '\u{3c3}'
            });
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

// BEGIN GENERATED CHARACTER TABLE (scripts/reference/tokenizer.py write_rust_tables)
// Python 3.11.7, unicodedata 14.0.0, regex 2026.11.19. Do not edit by hand.

/// Runs of code points with equal properties, sorted: `first << 5 | sigma << 3 | class`
/// (class: see [`Class`]; sigma: 0 other, 1 case-ignorable, 2 cased, for the final-sigma rule).
#[rustfmt::skip]
static CLASS_RUNS: &[u32] = &[
    0x0, 0x121, 0x160, 0x1a1, 0x1c0, 0x401, 0x425, 0x4ed, 0x505, 0x5cd, 0x5e5, 0x604, 0x74d, 0x765,
    0x833, 0xb65, 0xbcd, 0xbe5, 0xc0d, 0xc33, 0xf65, 0xfe0, 0x1401, 0x1425, 0x150d, 0x1525, 0x1553,
    0x1565, 0x15a0, 0x15c5, 0x15ed, 0x1605, 0x1644, 0x168d, 0x16b3, 0x16c5, 0x16ed, 0x1724, 0x1753,
    0x1765, 0x1784, 0x17e5, 0x1813, 0x1ae5, 0x1b13, 0x1ee5, 0x1f13, 0x3763, 0x3793, 0x3803, 0x3893,
    0x5283, 0x52b3, 0x560b, 0x584d, 0x58cb, 0x5a4d, 0x5c0b, 0x5cad, 0x5d8b, 0x5dad, 0x5dcb, 0x5ded,
    0x68ae, 0x68cd, 0x6e13, 0x6e8b, 0x6ead, 0x6ed3, 0x6f00, 0x6f4b, 0x6f73, 0x6fc5, 0x6ff3, 0x7000,
    0x708d, 0x70d3, 0x70ed, 0x7113, 0x7160, 0x7193, 0x71a0, 0x71d3, 0x7440, 0x7473, 0x7ec5, 0x7ef3,
    0x9045, 0x906d, 0x9153, 0xa600, 0xa633, 0xaae0, 0xab2b, 0xab45, 0xabed, 0xac13, 0xb125, 0xb160,
    0xb1a5, 0xb200, 0xb22d, 0xb7c5, 0xb7ed, 0xb805, 0xb82d, 0xb865, 0xb88d, 0xb8c5, 0xb8ed, 0xb900,
    0xba03, 0xbd60, 0xbde3, 0xbe65, 0xbe8d, 0xbea0, 0xc0c5, 0xc20d, 0xc365, 0xc380, 0xc3a5, 0xc403,
    0xc80b, 0xc823, 0xc96d, 0xcc04, 0xcd45, 0xcdc3, 0xce0d, 0xce23, 0xda85, 0xdaa3, 0xdacd, 0xdba0,
    0xdbc5, 0xdbed, 0xdcab, 0xdced, 0xdd25, 0xdd4d, 0xddc3, 0xde04, 0xdf43, 0xdfa5, 0xdfe3, 0xe005,
    0xe1c0, 0xe203, 0xe22d, 0xe243, 0xe60d, 0xe960, 0xe9a3, 0xf4cd, 0xf623, 0xf640, 0xf804, 0xf943,
    0xfd6d, 0xfe8b, 0xfec5, 0xff4b, 0xff60, 0xffad, 0xffc5, 0x10003, 0x102cd, 0x1034b, 0x1036d,
    0x1048b, 0x104ad, 0x1050b, 0x1052d, 0x105c0, 0x10605, 0x107e0, 0x10803, 0x10b2d, 0x10b80,
    0x10bc5, 0x10be0, 0x10c03, 0x10d60, 0x10e03, 0x1110d, 0x11123, 0x111e0, 0x1130d, 0x11403,
    0x1192b, 0x1194d, 0x11c40, 0x11c6d, 0x12065, 0x12083, 0x1274d, 0x12765, 0x1278d, 0x127a3,
    0x127c5, 0x1282d, 0x12925, 0x129ad, 0x129c5, 0x12a03, 0x12a2d, 0x12b03, 0x12c4d, 0x12c85,
    0x12cc4, 0x12e05, 0x12e2b, 0x12e43, 0x1302d, 0x13045, 0x13080, 0x130a3, 0x131a0, 0x131e3,
    0x13220, 0x13263, 0x13520, 0x13543, 0x13620, 0x13643, 0x13660, 0x136c3, 0x13740, 0x1378d,
    0x137a3, 0x137c5, 0x1382d, 0x138a0, 0x138e5, 0x13920, 0x13965, 0x139ad, 0x139c3, 0x139e0,
    0x13ae5, 0x13b00, 0x13b83, 0x13bc0, 0x13be3, 0x13c4d, 0x13c80, 0x13cc4, 0x13e03, 0x13e45,
    0x13e84, 0x13f45, 0x13f83, 0x13fa5, 0x13fcd, 0x13fe0, 0x1402d, 0x14065, 0x14080, 0x140a3,
    0x14160, 0x141e3, 0x14220, 0x14263, 0x14520, 0x14543, 0x14620, 0x14643, 0x14680, 0x146a3,
    0x146e0, 0x14703, 0x14740, 0x1478d, 0x147a0, 0x147c5, 0x1482d, 0x14860, 0x148ed, 0x14920,
    0x1496d, 0x149c0, 0x14a2d, 0x14a40, 0x14b23, 0x14ba0, 0x14bc3, 0x14be0, 0x14cc4, 0x14e0d,
    0x14e43, 0x14ead, 0x14ec5, 0x14ee0, 0x1502d, 0x15065, 0x15080, 0x150a3, 0x151c0, 0x151e3,
    0x15240, 0x15263, 0x15520, 0x15543, 0x15620, 0x15643, 0x15680, 0x156a3, 0x15740, 0x1578d,
    0x157a3, 0x157c5, 0x1582d, 0x158c0, 0x158ed, 0x15925, 0x15940, 0x15965, 0x159ad, 0x159c0,
    0x15a03, 0x15a20, 0x15c03, 0x15c4d, 0x15c80, 0x15cc4, 0x15e05, 0x15e40, 0x15f23, 0x15f4d,
    0x16000, 0x1602d, 0x16045, 0x16080, 0x160a3, 0x161a0, 0x161e3, 0x16220, 0x16263, 0x16520,
    0x16543, 0x16620, 0x16643, 0x16680, 0x166a3, 0x16740, 0x1678d, 0x167a3, 0x167c5, 0x167ed,
    0x16805, 0x1682d, 0x168a0, 0x168e5, 0x16920, 0x16965, 0x169ad, 0x169c0, 0x16aad, 0x16ae5,
    0x16b00, 0x16b83, 0x16bc0, 0x16be3, 0x16c4d, 0x16c80, 0x16cc4, 0x16e05, 0x16e23, 0x16e44,
    0x16f00, 0x1704d, 0x17063, 0x17080, 0x170a3, 0x17160, 0x171c3, 0x17220, 0x17243, 0x172c0,
    0x17323, 0x17360, 0x17383, 0x173a0, 0x173c3, 0x17400, 0x17463, 0x174a0, 0x17503, 0x17560,
    0x175c3, 0x17740, 0x177c5, 0x1780d, 0x17825, 0x17860, 0x178c5, 0x17920, 0x17945, 0x179ad,
    0x179c0, 0x17a03, 0x17a20, 0x17ae5, 0x17b00, 0x17cc4, 0x17e65, 0x17f60, 0x1800d, 0x18025,
    0x1808d, 0x180a3, 0x181a0, 0x181c3, 0x18220, 0x18243, 0x18520, 0x18543, 0x18740, 0x1878d,
    0x187a3, 0x187cd, 0x18825, 0x188a0, 0x188cd, 0x18920, 0x1894d, 0x189c0, 0x18aad, 0x18ae0,
    0x18b03, 0x18b60, 0x18ba3, 0x18bc0, 0x18c03, 0x18c4d, 0x18c80, 0x18cc4, 0x18e00, 0x18ee5,
    0x18f04, 0x18fe5, 0x19003, 0x1902d, 0x19045, 0x190a3, 0x191a0, 0x191c3, 0x19220, 0x19243,
    0x19520, 0x19543, 0x19680, 0x196a3, 0x19740, 0x1978d, 0x197a3, 0x197c5, 0x197ed, 0x19805,
    0x198a0, 0x198cd, 0x198e5, 0x19920, 0x19945, 0x1998d, 0x199c0, 0x19aa5, 0x19ae0, 0x19ba3,
    0x19be0, 0x19c03, 0x19c4d, 0x19c80, 0x19cc4, 0x19e00, 0x19e23, 0x19e60, 0x1a00d, 0x1a045,
    0x1a083, 0x1a1a0, 0x1a1c3, 0x1a220, 0x1a243, 0x1a76d, 0x1a7a3, 0x1a7c5, 0x1a82d, 0x1a8a0,
    0x1a8c5, 0x1a920, 0x1a945, 0x1a9ad, 0x1a9c3, 0x1a9e5, 0x1aa00, 0x1aa83, 0x1aae5, 0x1ab04,
    0x1abe3, 0x1ac4d, 0x1ac80, 0x1acc4, 0x1af25, 0x1af43, 0x1b000, 0x1b02d, 0x1b045, 0x1b080,
    0x1b0a3, 0x1b2e0, 0x1b343, 0x1b640, 0x1b663, 0x1b780, 0x1b7a3, 0x1b7c0, 0x1b803, 0x1b8e0,
    0x1b94d, 0x1b960, 0x1b9e5, 0x1ba4d, 0x1baa0, 0x1bacd, 0x1bae0, 0x1bb05, 0x1bc00, 0x1bcc4,
    0x1be00, 0x1be45, 0x1bea0, 0x1c023, 0x1c62d, 0x1c643, 0x1c68d, 0x1c760, 0x1c7e5, 0x1c803,
    0x1c8cb, 0x1c8ed, 0x1c9e5, 0x1ca04, 0x1cb45, 0x1cb80, 0x1d023, 0x1d060, 0x1d083, 0x1d0a0,
    0x1d0c3, 0x1d160, 0x1d183, 0x1d480, 0x1d4a3, 0x1d4c0, 0x1d4e3, 0x1d62d, 0x1d643, 0x1d68d,
    0x1d7a3, 0x1d7c0, 0x1d803, 0x1d8a0, 0x1d8cb, 0x1d8e0, 0x1d90d, 0x1d9c0, 0x1da04, 0x1db40,
    0x1db83, 0x1dc00, 0x1e003, 0x1e025, 0x1e30d, 0x1e345, 0x1e404, 0x1e685, 0x1e6ad, 0x1e6c5,
    0x1e6ed, 0x1e705, 0x1e72d, 0x1e745, 0x1e803, 0x1e900, 0x1e923, 0x1eda0, 0x1ee2d, 0x1efe5,
    0x1f00d, 0x1f0a5, 0x1f0cd, 0x1f103, 0x1f1ad, 0x1f300, 0x1f32d, 0x1f7a0, 0x1f7c5, 0x1f8cd,
    0x1f8e5, 0x1f9a0, 0x1f9c5, 0x1fb60, 0x20003, 0x20565, 0x205ad, 0x20625, 0x2064d, 0x20705,
    0x2072d, 0x20765, 0x207ad, 0x207e3, 0x20804, 0x20945, 0x20a03, 0x20ac5, 0x20b0d, 0x20b43,
    0x20bcd, 0x20c23, 0x20c45, 0x20ca3, 0x20ce5, 0x20dc3, 0x20e2d, 0x20ea3, 0x2104d, 0x21065,
    0x210ad, 0x210e5, 0x211ad, 0x211c3, 0x211e5, 0x21204, 0x21345, 0x213ad, 0x213c5, 0x21413,
    0x218c0, 0x218f3, 0x21900, 0x219b3, 0x219c0, 0x21a13, 0x21f65, 0x21f8b, 0x21fb3, 0x22003,
    0x24920, 0x24943, 0x249c0, 0x24a03, 0x24ae0, 0x24b03, 0x24b20, 0x24b43, 0x24bc0, 0x24c03,
    0x25120, 0x25143, 0x251c0, 0x25203, 0x25620, 0x25643, 0x256c0, 0x25703, 0x257e0, 0x25803,
    0x25820, 0x25843, 0x258c0, 0x25903, 0x25ae0, 0x25b03, 0x26220, 0x26243, 0x262c0, 0x26303,
    0x26b60, 0x26bad, 0x26c05, 0x26d24, 0x26fa0, 0x27003, 0x27205, 0x27340, 0x27413, 0x27ec0,
    0x27f13, 0x27fc0, 0x28005, 0x28023, 0x2cda5, 0x2cde3, 0x2d001, 0x2d023, 0x2d365, 0x2d3a0,
    0x2d403, 0x2dd65, 0x2ddc4, 0x2de23, 0x2df20, 0x2e003, 0x2e24d, 0x2e2a5, 0x2e2c0, 0x2e3e3,
    0x2e64d, 0x2e685, 0x2e6e0, 0x2e803, 0x2ea4d, 0x2ea80, 0x2ec03, 0x2eda0, 0x2edc3, 0x2ee20,
    0x2ee4d, 0x2ee80, 0x2f003, 0x2f68d, 0x2f6c5, 0x2f6ed, 0x2f7c5, 0x2f8cd, 0x2f8e5, 0x2f92d,
    0x2fa85, 0x2faeb, 0x2fb05, 0x2fb83, 0x2fbad, 0x2fbc0, 0x2fc04, 0x2fd40, 0x2fe04, 0x2ff40,
    0x30005, 0x3016d, 0x301c0, 0x301ed, 0x30204, 0x30340, 0x30403, 0x3086b, 0x30883, 0x30f20,
    0x31003, 0x310ad, 0x310e3, 0x3152d, 0x31543, 0x31560, 0x31603, 0x31ec0, 0x32003, 0x323e0,
    0x3240d, 0x32465, 0x324ed, 0x32525, 0x32580, 0x32605, 0x3264d, 0x32665, 0x3272d, 0x32780,
    0x32805, 0x32820, 0x32885, 0x328c4, 0x32a03, 0x32dc0, 0x32e03, 0x32ea0, 0x33003, 0x33580,
    0x33603, 0x33940, 0x33a04, 0x33b60, 0x33bc5, 0x34003, 0x342ed, 0x34325, 0x3436d, 0x34380,
    0x343c5, 0x34403, 0x34aa5, 0x34acd, 0x34ae5, 0x34b0d, 0x34be0, 0x34c0d, 0x34c25, 0x34c4d,
    0x34c65, 0x34cad, 0x34da5, 0x34e6d, 0x34fa0, 0x34fed, 0x35004, 0x35140, 0x35204, 0x35340,
    0x35405, 0x354eb, 0x35505, 0x355c0, 0x3560d, 0x359e0, 0x3600d, 0x36085, 0x360a3, 0x3668d,
    0x366a5, 0x366cd, 0x36765, 0x3678d, 0x367a5, 0x3684d, 0x36865, 0x368a3, 0x369a0, 0x36a04,
    0x36b45, 0x36d6d, 0x36e85, 0x36fe0, 0x3700d, 0x37045, 0x37063, 0x37425, 0x3744d, 0x374c5,
    0x3750d, 0x37545, 0x3756d, 0x375c3, 0x37604, 0x37743, 0x37ccd, 0x37ce5, 0x37d0d, 0x37d45,
    0x37dad, 0x37dc5, 0x37ded, 0x37e45, 0x37e80, 0x37f85, 0x38003, 0x38485, 0x3858d, 0x38685,
    0x386cd, 0x38700, 0x38765, 0x38804, 0x38940, 0x389a3, 0x38a04, 0x38b43, 0x38f0b, 0x38fc5,
    0x39013, 0x39120, 0x39213, 0x39760, 0x397b3, 0x39805, 0x39900, 0x39a0d, 0x39a65, 0x39a8d,
    0x39c25, 0x39c4d, 0x39d23, 0x39dad, 0x39dc3, 0x39e8d, 0x39ea3, 0x39ee5, 0x39f0d, 0x39f43,
    0x39f60, 0x3a013, 0x3a58b, 0x3ad73, 0x3af0b, 0x3af33, 0x3b36b, 0x3b80d, 0x3c013, 0x3e2c0,
    0x3e313, 0x3e3c0, 0x3e413, 0x3e8c0, 0x3e913, 0x3e9c0, 0x3ea13, 0x3eb00, 0x3eb33, 0x3eb40,
    0x3eb73, 0x3eb80, 0x3ebb3, 0x3ebc0, 0x3ebf3, 0x3efc0, 0x3f013, 0x3f6a0, 0x3f6d3, 0x3f7ad,
    0x3f7d3, 0x3f7ed, 0x3f853, 0x3f8a0, 0x3f8d3, 0x3f9ad, 0x3fa13, 0x3fa80, 0x3fad3, 0x3fb80,
    0x3fbad, 0x3fc13, 0x3fdad, 0x3fe00, 0x3fe53, 0x3fea0, 0x3fed3, 0x3ffad, 0x3ffe0, 0x40001,
    0x40160, 0x40205, 0x4030d, 0x40345, 0x4048d, 0x404a5, 0x404ed, 0x40502, 0x40540, 0x405e1,
    0x40605, 0x40be1, 0x40c00, 0x40e04, 0x40e2b, 0x40e40, 0x40e84, 0x40f45, 0x40feb, 0x41004,
    0x41145, 0x411e0, 0x4120b, 0x413a0, 0x41405, 0x41820, 0x41a0d, 0x41e20, 0x42005, 0x42053,
    0x42065, 0x420f3, 0x42105, 0x42153, 0x42285, 0x422b3, 0x422c5, 0x42333, 0x423c5, 0x42493,
    0x424a5, 0x424d3, 0x424e5, 0x42513, 0x42525, 0x42553, 0x425c5, 0x425f3, 0x426a3, 0x42733,
    0x42745, 0x42793, 0x42805, 0x428b3, 0x42945, 0x429d3, 0x429e5, 0x42a04, 0x42c14, 0x43004,
    0x43073, 0x430a4, 0x43145, 0x43180, 0x43205, 0x484e0, 0x48805, 0x48960, 0x48c04, 0x49385,
    0x496d5, 0x49d44, 0x4a005, 0x4eec4, 0x4f285, 0x56e80, 0x56ec5, 0x572c0, 0x572e5, 0x58013,
    0x58f8b, 0x58fd3, 0x59ca5, 0x59d73, 0x59ded, 0x59e53, 0x59e80, 0x59f25, 0x59fa4, 0x59fc5,
    0x5a013, 0x5a4c0, 0x5a4f3, 0x5a500, 0x5a5b3, 0x5a5c0, 0x5a603, 0x5ad00, 0x5adeb, 0x5ae05,
    0x5ae20, 0x5afed, 0x5b003, 0x5b2e0, 0x5b403, 0x5b4e0, 0x5b503, 0x5b5e0, 0x5b603, 0x5b6e0,
    0x5b703, 0x5b7e0, 0x5b803, 0x5b8e0, 0x5b903, 0x5b9e0, 0x5ba03, 0x5bae0, 0x5bb03, 0x5bbe0,
    0x5bc0d, 0x5c005, 0x5c5eb, 0x5c605, 0x5cbc0, 0x5d005, 0x5d340, 0x5d365, 0x5de80, 0x5e005,
    0x5fac0, 0x5fe05, 0x5ff80, 0x60001, 0x60025, 0x600ab, 0x600c3, 0x600e4, 0x60105, 0x60424,
    0x6054d, 0x605c5, 0x6062b, 0x606c5, 0x60704, 0x6076b, 0x60783, 0x607a5, 0x60800, 0x60823,
    0x612e0, 0x6132d, 0x613ab, 0x613e3, 0x61405, 0x61423, 0x61f65, 0x61f8b, 0x61fe3, 0x62000,
    0x620a3, 0x62600, 0x62623, 0x631e0, 0x63205, 0x63244, 0x632c5, 0x63403, 0x63805, 0x63c80,
    0x63e03, 0x64005, 0x643e0, 0x64404, 0x64545, 0x64904, 0x64a05, 0x64a24, 0x64c05, 0x65004,
    0x65145, 0x65624, 0x65805, 0x68003, 0x9b805, 0x9c003, 0x1402ab, 0x1402c3, 0x1491a0, 0x149205,
    0x1498e0, 0x149a03, 0x149f0b, 0x149fc5, 0x14a003, 0x14c18b, 0x14c1a5, 0x14c203, 0x14c404,
    0x14c543, 0x14c580, 0x14c813, 0x14cdc3, 0x14cded, 0x14ce65, 0x14ce8d, 0x14cfc5, 0x14cfeb,
    0x14d013, 0x14d38b, 0x14d3cd, 0x14d403, 0x14dcc4, 0x14de0d, 0x14de45, 0x14df00, 0x14e00d,
    0x14e2eb, 0x14e40d, 0x14e453, 0x14ee0b, 0x14ee33, 0x14f10b, 0x14f12d, 0x14f173, 0x14f1e3,
    0x14f213, 0x14f960, 0x14fa13, 0x14fa40, 0x14fa73, 0x14fa80, 0x14fab3, 0x14fb40, 0x14fe4b,
    0x14feb3, 0x14fee3, 0x14ff0b, 0x14ff53, 0x14ff63, 0x15004d, 0x150063, 0x1500cd, 0x1500e3,
    0x15016d, 0x150183, 0x150465, 0x1504ad, 0x1504e5, 0x15058d, 0x1505a0, 0x150604, 0x1506c5,
    0x150740, 0x150803, 0x150e85, 0x150f00, 0x151005, 0x151043, 0x151685, 0x15188d, 0x1518c0,
    0x1519c5, 0x151a04, 0x151b40, 0x151c0d, 0x151e43, 0x151f05, 0x151f63, 0x151f85, 0x151fa3,
    0x151fed, 0x152004, 0x152143, 0x1524cd, 0x1525c5, 0x152603, 0x1528ed, 0x152a45, 0x152a80,
    0x152be5, 0x152c03, 0x152fa0, 0x15300d, 0x153065, 0x153083, 0x15366d, 0x153685, 0x1536cd,
    0x153745, 0x15378d, 0x1537c5, 0x1539c0, 0x1539eb, 0x153a04, 0x153b40, 0x153bc5, 0x153c03,
    0x153cad, 0x153ccb, 0x153ce3, 0x153e04, 0x153f43, 0x153fe0, 0x154003, 0x15452d, 0x1545e5,
    0x15462d, 0x154665, 0x1546ad, 0x1546e0, 0x154803, 0x15486d, 0x154883, 0x15498d, 0x1549a5,
    0x1549c0, 0x154a04, 0x154b40, 0x154b85, 0x154c03, 0x154e0b, 0x154e23, 0x154ee5, 0x154f43,
    0x154f65, 0x154f8d, 0x154fa5, 0x154fc3, 0x15560d, 0x155623, 0x15564d, 0x1556a3, 0x1556ed,
    0x155723, 0x1557cd, 0x155803, 0x15582d, 0x155843, 0x155860, 0x155b63, 0x155bab, 0x155bc5,
    0x155c03, 0x155d65, 0x155d8d, 0x155dc5, 0x155e43, 0x155e6b, 0x155ea5, 0x155ecd, 0x155ee0,
    0x156023, 0x1560e0, 0x156123, 0x1561e0, 0x156223, 0x1562e0, 0x156403, 0x1564e0, 0x156503,
    0x1565e0, 0x156613, 0x156b6d, 0x156b8b, 0x156c13, 0x156d2b, 0x156d4d, 0x156d80, 0x156e13,
    0x157803, 0x157c65, 0x157cad, 0x157cc5, 0x157d0d, 0x157d25, 0x157dad, 0x157dc0, 0x157e04,
    0x157f40, 0x158003, 0x1af480, 0x1af603, 0x1af8e0, 0x1af963, 0x1aff80, 0x1f2003, 0x1f4dc0,
    0x1f4e03, 0x1f5b40, 0x1f6013, 0x1f60e0, 0x1f6273, 0x1f6300, 0x1f63a3, 0x1f63cd, 0x1f63e3,
    0x1f6525, 0x1f6543, 0x1f66e0, 0x1f6703, 0x1f67a0, 0x1f67c3, 0x1f67e0, 0x1f6803, 0x1f6840,
    0x1f6863, 0x1f68a0, 0x1f68c3, 0x1f764d, 0x1f7860, 0x1f7a63, 0x1fa7c5, 0x1faa03, 0x1fb200,
    0x1fb243, 0x1fb900, 0x1fb9e5, 0x1fba00, 0x1fbe03, 0x1fbf85, 0x1fc00d, 0x1fc205, 0x1fc26d,
    0x1fc285, 0x1fc340, 0x1fc40d, 0x1fc605, 0x1fca4d, 0x1fca60, 0x1fca85, 0x1fcaad, 0x1fcac5,
    0x1fcce0, 0x1fcd05, 0x1fcd80, 0x1fce03, 0x1fcea0, 0x1fcec3, 0x1fdfa0, 0x1fe025, 0x1fe0ed,
    0x1fe105, 0x1fe1cd, 0x1fe1e5, 0x1fe204, 0x1fe34d, 0x1fe365, 0x1fe433, 0x1fe765, 0x1fe7cd,
    0x1fe7e5, 0x1fe80d, 0x1fe833, 0x1feb65, 0x1fecc3, 0x1fee0b, 0x1fee23, 0x1ff3cb, 0x1ff403,
    0x1ff7e0, 0x1ff843, 0x1ff900, 0x1ff943, 0x1ffa00, 0x1ffa43, 0x1ffb00, 0x1ffb43, 0x1ffba0,
    0x1ffc05, 0x1ffc6d, 0x1ffc85, 0x1ffce0, 0x1ffd05, 0x1ffde0, 0x1fff85, 0x1fffa0, 0x200003,
    0x200180, 0x2001a3, 0x2004e0, 0x200503, 0x200760, 0x200783, 0x2007c0, 0x2007e3, 0x2009c0,
    0x200a03, 0x200bc0, 0x201003, 0x201f60, 0x202005, 0x202060, 0x2020e4, 0x202680, 0x2026e5,
    0x202804, 0x202f25, 0x203144, 0x203185, 0x2031e0, 0x203205, 0x2033a0, 0x203405, 0x203420,
    0x203a05, 0x203fad, 0x203fc0, 0x205003, 0x2053a0, 0x205403, 0x205a20, 0x205c0d, 0x205c24,
    0x205f80, 0x206003, 0x206404, 0x206480, 0x2065a3, 0x206824, 0x206843, 0x206944, 0x206960,
    0x206a03, 0x206ecd, 0x206f60, 0x207003, 0x2073c0, 0x2073e5, 0x207403, 0x207880, 0x207903,
    0x207a05, 0x207a24, 0x207ac0, 0x208013, 0x208a03, 0x2093c0, 0x209404, 0x209540, 0x209613,
    0x209a80, 0x209b13, 0x209f80, 0x20a003, 0x20a500, 0x20a603, 0x20ac80, 0x20ade5, 0x20ae13,
    0x20af60, 0x20af93, 0x20b160, 0x20b193, 0x20b260, 0x20b293, 0x20b2c0, 0x20b2f3, 0x20b440,
    0x20b473, 0x20b640, 0x20b673, 0x20b740, 0x20b773, 0x20b7a0, 0x20c003, 0x20e6e0, 0x20e803,
    0x20eac0, 0x20ec03, 0x20ed00, 0x20f00b, 0x20f0c0, 0x20f0eb, 0x20f620, 0x20f64b, 0x20f760,
    0x210003, 0x2100c0, 0x210103, 0x210120, 0x210143, 0x2106c0, 0x2106e3, 0x210720, 0x210783,
    0x2107a0, 0x2107e3, 0x210ac0, 0x210ae5, 0x210b04, 0x210c03, 0x210ee5, 0x210f24, 0x211003,
    0x2113e0, 0x2114e4, 0x211600, 0x211c03, 0x211e60, 0x211e83, 0x211ec0, 0x211f64, 0x212003,
    0x2122c4, 0x212380, 0x2123e5, 0x212403, 0x212740, 0x2127e5, 0x212800, 0x213003, 0x213700,
    0x213784, 0x2137c3, 0x213804, 0x213a00, 0x213a44, 0x214003, 0x21402d, 0x214080, 0x2140ad,
    0x2140e0, 0x21418d, 0x214203, 0x214280, 0x2142a3, 0x214300, 0x214323, 0x2146c0, 0x21470d,
    0x214760, 0x2147ed, 0x214804, 0x214920, 0x214a05, 0x214b20, 0x214c03, 0x214fa4, 0x214fe5,
    0x215003, 0x2153a4, 0x215400, 0x215803, 0x215905, 0x215923, 0x215cad, 0x215ce0, 0x215d64,
    0x215e05, 0x215ee0, 0x216003, 0x2166c0, 0x216725, 0x216803, 0x216ac0, 0x216b04, 0x216c03,
    0x216e60, 0x216f04, 0x217003, 0x217240, 0x217325, 0x2173a0, 0x217524, 0x217600, 0x218003,
    0x218920, 0x219013, 0x219660, 0x219813, 0x219e60, 0x219f44, 0x21a003, 0x21a48d, 0x21a500,
    0x21a604, 0x21a740, 0x21cc04, 0x21cfe0, 0x21d003, 0x21d540, 0x21d56d, 0x21d5a5, 0x21d5c0,
    0x21d603, 0x21d640, 0x21e003, 0x21e3a4, 0x21e4e3, 0x21e500, 0x21e603, 0x21e8cd, 0x21ea24,
    0x21eaa5, 0x21eb40, 0x21ee03, 0x21f04d, 0x21f0c5, 0x21f140, 0x21f603, 0x21f8a4, 0x21f980,
    0x21fc03, 0x21fee0, 0x220005, 0x22002d, 0x220045, 0x220063, 0x22070d, 0x2208e5, 0x2209c0,
    0x220a44, 0x220e0d, 0x220e23, 0x220e6d, 0x220ea3, 0x220ec0, 0x220fed, 0x221045, 0x221063,
    0x221605, 0x22166d, 0x2216e5, 0x22172d, 0x221765, 0x2217a0, 0x2217c5, 0x22184d, 0x221860,
    0x221a03, 0x221d20, 0x221e04, 0x221f40, 0x22200d, 0x222063, 0x2224ed, 0x222585, 0x2225ad,
    0x2226a0, 0x2226c4, 0x222805, 0x222883, 0x2228a5, 0x2228e3, 0x222900, 0x222a03, 0x222e6d,
    0x222e85, 0x222ec3, 0x222ee0, 0x22300d, 0x223045, 0x223063, 0x223665, 0x2236cd, 0x2237e5,
    0x223823, 0x2238a5, 0x22392d, 0x2239a5, 0x2239ed, 0x223a04, 0x223b43, 0x223b65, 0x223b83,
    0x223ba5, 0x223c00, 0x223c24, 0x223ea0, 0x224003, 0x224240, 0x224263, 0x224585, 0x2245ed,
    0x224645, 0x22468d, 0x2246a5, 0x2246cd, 0x224705, 0x2247cd, 0x2247e0, 0x225003, 0x2250e0,
    0x225103, 0x225120, 0x225143, 0x2251c0, 0x2251e3, 0x2253c0, 0x2253e3, 0x225525, 0x225540,
    0x225603, 0x225bed, 0x225c05, 0x225c6d, 0x225d60, 0x225e04, 0x225f40, 0x22600d, 0x226045,
    0x226080, 0x2260a3, 0x2261a0, 0x2261e3, 0x226220, 0x226263, 0x226520, 0x226543, 0x226620,
    0x226643, 0x226680, 0x2266a3, 0x226740, 0x22676d, 0x2267a3, 0x2267c5, 0x22680d, 0x226825,
    0x2268a0, 0x2268e5, 0x226920, 0x226965, 0x2269c0, 0x226a03, 0x226a20, 0x226ae5, 0x226b00,
    0x226ba3, 0x226c45, 0x226c80, 0x226ccd, 0x226da0, 0x226e0d, 0x226ea0, 0x228003, 0x2286a5,
    0x22870d, 0x228805, 0x22884d, 0x2288a5, 0x2288cd, 0x2288e3, 0x228965, 0x228a04, 0x228b45,
    0x228b80, 0x228ba5, 0x228bcd, 0x228be3, 0x228c40, 0x229003, 0x229605, 0x22966d, 0x229725,
    0x22974d, 0x229765, 0x2297ed, 0x229825, 0x22984d, 0x229883, 0x2298c5, 0x2298e3, 0x229900,
    0x229a04, 0x229b40, 0x22b003, 0x22b5e5, 0x22b64d, 0x22b6c0, 0x22b705, 0x22b78d, 0x22b7c5,
    0x22b7ed, 0x22b825, 0x22bb03, 0x22bb8d, 0x22bbc0, 0x22c003, 0x22c605, 0x22c66d, 0x22c765,
    0x22c7ad, 0x22c7c5, 0x22c7ed, 0x22c825, 0x22c883, 0x22c8a0, 0x22ca04, 0x22cb40, 0x22cc05,
    0x22cda0, 0x22d003, 0x22d56d, 0x22d585, 0x22d5ad, 0x22d5c5, 0x22d60d, 0x22d6c5, 0x22d6ed,
    0x22d703, 0x22d725, 0x22d740, 0x22d804, 0x22d940, 0x22e003, 0x22e360, 0x22e3ad, 0x22e405,
    0x22e44d, 0x22e4c5, 0x22e4ed, 0x22e580, 0x22e604, 0x22e785, 0x22e803, 0x22e8e0, 0x230003,
    0x230585, 0x2305ed, 0x230705, 0x23072d, 0x230765, 0x230780, 0x231413, 0x231c04, 0x231e60,
    0x231fe3, 0x2320e0, 0x232123, 0x232140, 0x232183, 0x232280, 0x2322a3, 0x2322e0, 0x232303,
    0x232605, 0x2326c0, 0x2326e5, 0x232720, 0x23276d, 0x2327a5, 0x2327cd, 0x2327e3, 0x232805,
    0x232823, 0x232845, 0x23286d, 0x232885, 0x2328e0, 0x232a04, 0x232b40, 0x233403, 0x233500,
    0x233543, 0x233a25, 0x233a8d, 0x233b00, 0x233b4d, 0x233b85, 0x233c0d, 0x233c23, 0x233c45,
    0x233c63, 0x233c85, 0x233ca0, 0x234003, 0x23402d, 0x234163, 0x23466d, 0x234725, 0x234743,
    0x23476d, 0x2347e5, 0x2348ed, 0x234900, 0x234a03, 0x234a2d, 0x234ae5, 0x234b2d, 0x234b83,
    0x23514d, 0x2352e5, 0x23530d, 0x235345, 0x2353a3, 0x2353c5, 0x235460, 0x235603, 0x235f20,
    0x238003, 0x238120, 0x238143, 0x2385e5, 0x23860d, 0x2386e0, 0x23870d, 0x2387c5, 0x2387ed,
    0x238803, 0x238825, 0x2388c0, 0x238a04, 0x238da0, 0x238e05, 0x238e43, 0x239200, 0x23924d,
    0x239500, 0x239525, 0x23954d, 0x239625, 0x23964d, 0x239685, 0x2396ad, 0x2396e0, 0x23a003,
    0x23a0e0, 0x23a103, 0x23a140, 0x23a163, 0x23a62d, 0x23a6e0, 0x23a74d, 0x23a760, 0x23a78d,
    0x23a7c0, 0x23a7ed, 0x23a8c3, 0x23a8ed, 0x23a900, 0x23aa04, 0x23ab40, 0x23ac03, 0x23acc0,
    0x23ace3, 0x23ad20, 0x23ad43, 0x23b145, 0x23b1e0, 0x23b20d, 0x23b240, 0x23b265, 0x23b2ad,
    0x23b2c5, 0x23b2ed, 0x23b303, 0x23b320, 0x23b404, 0x23b540, 0x23dc03, 0x23de6d, 0x23dea5,
    0x23df20, 0x23f603, 0x23f620, 0x23f804, 0x23faa5, 0x23fe40, 0x23ffe5, 0x240003, 0x247340,
    0x248004, 0x248de0, 0x248e05, 0x248ea0, 0x249003, 0x24a880, 0x25f203, 0x25fe25, 0x25fe60,
    0x260003, 0x2685e0, 0x288003, 0x28c8e0, 0x2d0003, 0x2d4720, 0x2d4803, 0x2d4be0, 0x2d4c04,
    0x2d4d40, 0x2d4dc5, 0x2d4e03, 0x2d57e0, 0x2d5804, 0x2d5940, 0x2d5a03, 0x2d5dc0, 0x2d5e0d,
    0x2d5ea5, 0x2d5ec0, 0x2d6003, 0x2d660d, 0x2d66e5, 0x2d680b, 0x2d6885, 0x2d68c0, 0x2d6a04,
    0x2d6b40, 0x2d6b64, 0x2d6c40, 0x2d6c63, 0x2d6f00, 0x2d6fa3, 0x2d7200, 0x2dc813, 0x2dd004,
    0x2dd2e5, 0x2dd360, 0x2de003, 0x2de960, 0x2de9ed, 0x2dea03, 0x2dea25, 0x2df100, 0x2df1ed,
    0x2df26b, 0x2df400, 0x2dfc0b, 0x2dfc45, 0x2dfc6b, 0x2dfc8d, 0x2dfca0, 0x2dfe05, 0x2dfe40,
    0x2e0003, 0x30ff00, 0x310003, 0x319ac0, 0x31a003, 0x31a120, 0x35fe0b, 0x35fe80, 0x35feab,
    0x35ff80, 0x35ffab, 0x35ffe0, 0x360003, 0x362460, 0x362a03, 0x362a60, 0x362c83, 0x362d00,
    0x362e03, 0x365f80, 0x378003, 0x378d60, 0x378e03, 0x378fa0, 0x379003, 0x379120, 0x379203,
    0x379340, 0x379385, 0x3793ad, 0x3793e5, 0x379400, 0x39e00d, 0x39e5c0, 0x39e60d, 0x39e8e0,
    0x39ea05, 0x39f880, 0x3a0005, 0x3a1ec0, 0x3a2005, 0x3a24e0, 0x3a2525, 0x3a2ced, 0x3a2d45,
    0x3a2e60, 0x3a2f6d, 0x3a3065, 0x3a30ad, 0x3a3185, 0x3a354d, 0x3a35c5, 0x3a3d60, 0x3a4005,
    0x3a484d, 0x3a48a5, 0x3a48c0, 0x3a5c04, 0x3a5e80, 0x3a6005, 0x3a6ae0, 0x3a6c04, 0x3a6f20,
    0x3a8013, 0x3a8aa0, 0x3a8ad3, 0x3a93a0, 0x3a93d3, 0x3a9400, 0x3a9453, 0x3a9460, 0x3a94b3,
    0x3a94e0, 0x3a9533, 0x3a95a0, 0x3a95d3, 0x3a9740, 0x3a9773, 0x3a9780, 0x3a97b3, 0x3a9880,
    0x3a98b3, 0x3aa0c0, 0x3aa0f3, 0x3aa160, 0x3aa1b3, 0x3aa2a0, 0x3aa2d3, 0x3aa3a0, 0x3aa3d3,
    0x3aa740, 0x3aa773, 0x3aa7e0, 0x3aa813, 0x3aa8a0, 0x3aa8d3, 0x3aa8e0, 0x3aa953, 0x3aaa20,
    0x3aaa53, 0x3ad4c0, 0x3ad513, 0x3ad825, 0x3ad853, 0x3adb65, 0x3adb93, 0x3adf65, 0x3adf93,
    0x3ae2a5, 0x3ae2d3, 0x3ae6a5, 0x3ae6d3, 0x3ae9e5, 0x3aea13, 0x3aede5, 0x3aee13, 0x3af125,
    0x3af153, 0x3af525, 0x3af553, 0x3af865, 0x3af893, 0x3af980, 0x3af9c4, 0x3b0005, 0x3b400d,
    0x3b46e5, 0x3b476d, 0x3b4da5, 0x3b4ead, 0x3b4ec5, 0x3b508d, 0x3b50a5, 0x3b5180, 0x3b536d,
    0x3b5400, 0x3b542d, 0x3b5600, 0x3be013, 0x3be143, 0x3be173, 0x3be3e0, 0x3c000d, 0x3c00e0,
    0x3c010d, 0x3c0320, 0x3c036d, 0x3c0440, 0x3c046d, 0x3c04a0, 0x3c04cd, 0x3c0560, 0x3c2003,
    0x3c25a0, 0x3c260d, 0x3c26eb, 0x3c27c0, 0x3c2804, 0x3c2940, 0x3c29c3, 0x3c29e5, 0x3c2a00,
    0x3c5203, 0x3c55cd, 0x3c55e0, 0x3c5803, 0x3c5d8d, 0x3c5e04, 0x3c5f40, 0x3c5fe5, 0x3c6000,
    0x3cfc03, 0x3cfce0, 0x3cfd03, 0x3cfd80, 0x3cfda3, 0x3cfde0, 0x3cfe03, 0x3cffe0, 0x3d0003,
    0x3d18a0, 0x3d18e4, 0x3d1a0d, 0x3d1ae0, 0x3d2013, 0x3d288d, 0x3d296b, 0x3d2980, 0x3d2a04,
    0x3d2b40, 0x3d2bc5, 0x3d2c00, 0x3d8e24, 0x3d9585, 0x3d95a4, 0x3d9605, 0x3d9624, 0x3d96a0,
    0x3da024, 0x3da5c5, 0x3da5e4, 0x3da7c0, 0x3dc003, 0x3dc080, 0x3dc0a3, 0x3dc400, 0x3dc423,
    0x3dc460, 0x3dc483, 0x3dc4a0, 0x3dc4e3, 0x3dc500, 0x3dc523, 0x3dc660, 0x3dc683, 0x3dc700,
    0x3dc723, 0x3dc740, 0x3dc763, 0x3dc780, 0x3dc843, 0x3dc860, 0x3dc8e3, 0x3dc900, 0x3dc923,
    0x3dc940, 0x3dc963, 0x3dc980, 0x3dc9a3, 0x3dca00, 0x3dca23, 0x3dca60, 0x3dca83, 0x3dcaa0,
    0x3dcae3, 0x3dcb00, 0x3dcb23, 0x3dcb40, 0x3dcb63, 0x3dcb80, 0x3dcba3, 0x3dcbc0, 0x3dcbe3,
    0x3dcc00, 0x3dcc23, 0x3dcc60, 0x3dcc83, 0x3dcca0, 0x3dcce3, 0x3dcd60, 0x3dcd83, 0x3dce60,
    0x3dce83, 0x3dcf00, 0x3dcf23, 0x3dcfa0, 0x3dcfc3, 0x3dcfe0, 0x3dd003, 0x3dd140, 0x3dd163,
    0x3dd380, 0x3dd423, 0x3dd480, 0x3dd4a3, 0x3dd540, 0x3dd563, 0x3dd780, 0x3dde05, 0x3dde40,
    0x3e0005, 0x3e0580, 0x3e0605, 0x3e1280, 0x3e1405, 0x3e15e0, 0x3e1625, 0x3e1800, 0x3e1825,
    0x3e1a00, 0x3e1a25, 0x3e1ec0, 0x3e2004, 0x3e21a5, 0x3e2615, 0x3e2945, 0x3e2a15, 0x3e2d45,
    0x3e2e15, 0x3e3145, 0x3e35c0, 0x3e3cc5, 0x3e4060, 0x3e4205, 0x3e4780, 0x3e4805, 0x3e4920,
    0x3e4a05, 0x3e4a40, 0x3e4c05, 0x3e4cc0, 0x3e6005, 0x3e7f6d, 0x3e8005, 0x3edb00, 0x3edba5,
    0x3edda0, 0x3ede05, 0x3edfa0, 0x3ee005, 0x3eee80, 0x3ef005, 0x3efb20, 0x3efc05, 0x3efd80,
    0x3efe05, 0x3efe20, 0x3f0005, 0x3f0180, 0x3f0205, 0x3f0900, 0x3f0a05, 0x3f0b40, 0x3f0c05,
    0x3f1100, 0x3f1205, 0x3f15c0, 0x3f1605, 0x3f1640, 0x3f2005, 0x3f4a80, 0x3f4c05, 0x3f4dc0,
    0x3f4e05, 0x3f4ea0, 0x3f4f05, 0x3f4fa0, 0x3f5005, 0x3f50e0, 0x3f5205, 0x3f55a0, 0x3f5605,
    0x3f5760, 0x3f5805, 0x3f58c0, 0x3f5a05, 0x3f5b40, 0x3f5c05, 0x3f5d00, 0x3f5e05, 0x3f5ee0,
    0x3f6005, 0x3f7260, 0x3f7285, 0x3f7960, 0x3f7e04, 0x3f7f40, 0x400003, 0x54dc00, 0x54e003,
    0x56e720, 0x56e803, 0x5703c0, 0x570403, 0x59d440, 0x59d603, 0x5d7c20, 0x5f0003, 0x5f43c0,
    0x600003, 0x626960, 0x1c0200d, 0x1c03e00,
];

/// Canonical combining class in runs, sorted: `first << 8 | class`.
#[rustfmt::skip]
static CCC_RUNS: &[u32] = &[
    0x0, 0x300e6, 0x315e8, 0x316dc, 0x31ae8, 0x31bd8, 0x31cdc, 0x321ca, 0x323dc, 0x327ca, 0x329dc,
    0x33401, 0x339dc, 0x33de6, 0x345f0, 0x346e6, 0x347dc, 0x34ae6, 0x34ddc, 0x34f00, 0x350e6,
    0x353dc, 0x357e6, 0x358e8, 0x359dc, 0x35be6, 0x35ce9, 0x35dea, 0x35fe9, 0x360ea, 0x362e9,
    0x363e6, 0x37000, 0x483e6, 0x48800, 0x591dc, 0x592e6, 0x596dc, 0x597e6, 0x59ade, 0x59bdc,
    0x59ce6, 0x5a2dc, 0x5a8e6, 0x5aadc, 0x5abe6, 0x5adde, 0x5aee4, 0x5afe6, 0x5b00a, 0x5b10b,
    0x5b20c, 0x5b30d, 0x5b40e, 0x5b50f, 0x5b610, 0x5b711, 0x5b812, 0x5b913, 0x5bb14, 0x5bc15,
    0x5bd16, 0x5be00, 0x5bf17, 0x5c000, 0x5c118, 0x5c219, 0x5c300, 0x5c4e6, 0x5c5dc, 0x5c600,
    0x5c712, 0x5c800, 0x610e6, 0x6181e, 0x6191f, 0x61a20, 0x61b00, 0x64b1b, 0x64c1c, 0x64d1d,
    0x64e1e, 0x64f1f, 0x65020, 0x65121, 0x65222, 0x653e6, 0x655dc, 0x657e6, 0x65cdc, 0x65de6,
    0x65fdc, 0x66000, 0x67023, 0x67100, 0x6d6e6, 0x6dd00, 0x6dfe6, 0x6e3dc, 0x6e4e6, 0x6e500,
    0x6e7e6, 0x6e900, 0x6eadc, 0x6ebe6, 0x6eddc, 0x6ee00, 0x71124, 0x71200, 0x730e6, 0x731dc,
    0x732e6, 0x734dc, 0x735e6, 0x737dc, 0x73ae6, 0x73bdc, 0x73de6, 0x73edc, 0x73fe6, 0x742dc,
    0x743e6, 0x744dc, 0x745e6, 0x746dc, 0x747e6, 0x748dc, 0x749e6, 0x74b00, 0x7ebe6, 0x7f2dc,
    0x7f3e6, 0x7f400, 0x7fddc, 0x7fe00, 0x816e6, 0x81a00, 0x81be6, 0x82400, 0x825e6, 0x82800,
    0x829e6, 0x82e00, 0x859dc, 0x85c00, 0x898e6, 0x899dc, 0x89ce6, 0x8a000, 0x8cae6, 0x8cfdc,
    0x8d4e6, 0x8e200, 0x8e3dc, 0x8e4e6, 0x8e6dc, 0x8e7e6, 0x8e9dc, 0x8eae6, 0x8eddc, 0x8f01b,
    0x8f11c, 0x8f21d, 0x8f3e6, 0x8f6dc, 0x8f7e6, 0x8f9dc, 0x8fbe6, 0x90000, 0x93c07, 0x93d00,
    0x94d09, 0x94e00, 0x951e6, 0x952dc, 0x953e6, 0x95500, 0x9bc07, 0x9bd00, 0x9cd09, 0x9ce00,
    0x9fee6, 0x9ff00, 0xa3c07, 0xa3d00, 0xa4d09, 0xa4e00, 0xabc07, 0xabd00, 0xacd09, 0xace00,
    0xb3c07, 0xb3d00, 0xb4d09, 0xb4e00, 0xbcd09, 0xbce00, 0xc3c07, 0xc3d00, 0xc4d09, 0xc4e00,
    0xc5554, 0xc565b, 0xc5700, 0xcbc07, 0xcbd00, 0xccd09, 0xcce00, 0xd3b09, 0xd3d00, 0xd4d09,
    0xd4e00, 0xdca09, 0xdcb00, 0xe3867, 0xe3a09, 0xe3b00, 0xe486b, 0xe4c00, 0xeb876, 0xeba09,
    0xebb00, 0xec87a, 0xecc00, 0xf18dc, 0xf1a00, 0xf35dc, 0xf3600, 0xf37dc, 0xf3800, 0xf39d8,
    0xf3a00, 0xf7181, 0xf7282, 0xf7300, 0xf7484, 0xf7500, 0xf7a82, 0xf7e00, 0xf8082, 0xf8100,
    0xf82e6, 0xf8409, 0xf8500, 0xf86e6, 0xf8800, 0xfc6dc, 0xfc700, 0x103707, 0x103800, 0x103909,
    0x103b00, 0x108ddc, 0x108e00, 0x135de6, 0x136000, 0x171409, 0x171600, 0x173409, 0x173500,
    0x17d209, 0x17d300, 0x17dde6, 0x17de00, 0x18a9e4, 0x18aa00, 0x1939de, 0x193ae6, 0x193bdc,
    0x193c00, 0x1a17e6, 0x1a18dc, 0x1a1900, 0x1a6009, 0x1a6100, 0x1a75e6, 0x1a7d00, 0x1a7fdc,
    0x1a8000, 0x1ab0e6, 0x1ab5dc, 0x1abbe6, 0x1abddc, 0x1abe00, 0x1abfdc, 0x1ac1e6, 0x1ac3dc,
    0x1ac5e6, 0x1acadc, 0x1acbe6, 0x1acf00, 0x1b3407, 0x1b3500, 0x1b4409, 0x1b4500, 0x1b6be6,
    0x1b6cdc, 0x1b6de6, 0x1b7400, 0x1baa09, 0x1bac00, 0x1be607, 0x1be700, 0x1bf209, 0x1bf400,
    0x1c3707, 0x1c3800, 0x1cd0e6, 0x1cd300, 0x1cd401, 0x1cd5dc, 0x1cdae6, 0x1cdcdc, 0x1ce0e6,
    0x1ce100, 0x1ce201, 0x1ce900, 0x1ceddc, 0x1cee00, 0x1cf4e6, 0x1cf500, 0x1cf8e6, 0x1cfa00,
    0x1dc0e6, 0x1dc2dc, 0x1dc3e6, 0x1dcadc, 0x1dcbe6, 0x1dcdea, 0x1dced6, 0x1dcfdc, 0x1dd0ca,
    0x1dd1e6, 0x1df6e8, 0x1df7e4, 0x1df9dc, 0x1dfada, 0x1dfbe6, 0x1dfce9, 0x1dfddc, 0x1dfee6,
    0x1dffdc, 0x1e0000, 0x20d0e6, 0x20d201, 0x20d4e6, 0x20d801, 0x20dbe6, 0x20dd00, 0x20e1e6,
    0x20e200, 0x20e501, 0x20e7e6, 0x20e8dc, 0x20e9e6, 0x20ea01, 0x20ecdc, 0x20f0e6, 0x20f100,
    0x2cefe6, 0x2cf200, 0x2d7f09, 0x2d8000, 0x2de0e6, 0x2e0000, 0x302ada, 0x302be4, 0x302ce8,
    0x302dde, 0x302ee0, 0x303000, 0x309908, 0x309b00, 0xa66fe6, 0xa67000, 0xa674e6, 0xa67e00,
    0xa69ee6, 0xa6a000, 0xa6f0e6, 0xa6f200, 0xa80609, 0xa80700, 0xa82c09, 0xa82d00, 0xa8c409,
    0xa8c500, 0xa8e0e6, 0xa8f200, 0xa92bdc, 0xa92e00, 0xa95309, 0xa95400, 0xa9b307, 0xa9b400,
    0xa9c009, 0xa9c100, 0xaab0e6, 0xaab100, 0xaab2e6, 0xaab4dc, 0xaab500, 0xaab7e6, 0xaab900,
    0xaabee6, 0xaac000, 0xaac1e6, 0xaac200, 0xaaf609, 0xaaf700, 0xabed09, 0xabee00, 0xfb1e1a,
    0xfb1f00, 0xfe20e6, 0xfe27dc, 0xfe2ee6, 0xfe3000, 0x101fddc, 0x101fe00, 0x102e0dc, 0x102e100,
    0x10376e6, 0x1037b00, 0x10a0ddc, 0x10a0e00, 0x10a0fe6, 0x10a1000, 0x10a38e6, 0x10a3901,
    0x10a3adc, 0x10a3b00, 0x10a3f09, 0x10a4000, 0x10ae5e6, 0x10ae6dc, 0x10ae700, 0x10d24e6,
    0x10d2800, 0x10eabe6, 0x10ead00, 0x10f46dc, 0x10f48e6, 0x10f4bdc, 0x10f4ce6, 0x10f4ddc,
    0x10f5100, 0x10f82e6, 0x10f83dc, 0x10f84e6, 0x10f85dc, 0x10f8600, 0x1104609, 0x1104700,
    0x1107009, 0x1107100, 0x1107f09, 0x1108000, 0x110b909, 0x110ba07, 0x110bb00, 0x11100e6,
    0x1110300, 0x1113309, 0x1113500, 0x1117307, 0x1117400, 0x111c009, 0x111c100, 0x111ca07,
    0x111cb00, 0x1123509, 0x1123607, 0x1123700, 0x112e907, 0x112ea09, 0x112eb00, 0x1133b07,
    0x1133d00, 0x1134d09, 0x1134e00, 0x11366e6, 0x1136d00, 0x11370e6, 0x1137500, 0x1144209,
    0x1144300, 0x1144607, 0x1144700, 0x1145ee6, 0x1145f00, 0x114c209, 0x114c307, 0x114c400,
    0x115bf09, 0x115c007, 0x115c100, 0x1163f09, 0x1164000, 0x116b609, 0x116b707, 0x116b800,
    0x1172b09, 0x1172c00, 0x1183909, 0x1183a07, 0x1183b00, 0x1193d09, 0x1193f00, 0x1194307,
    0x1194400, 0x119e009, 0x119e100, 0x11a3409, 0x11a3500, 0x11a4709, 0x11a4800, 0x11a9909,
    0x11a9a00, 0x11c3f09, 0x11c4000, 0x11d4207, 0x11d4300, 0x11d4409, 0x11d4600, 0x11d9709,
    0x11d9800, 0x16af001, 0x16af500, 0x16b30e6, 0x16b3700, 0x16ff006, 0x16ff200, 0x1bc9e01,
    0x1bc9f00, 0x1d165d8, 0x1d16701, 0x1d16a00, 0x1d16de2, 0x1d16ed8, 0x1d17300, 0x1d17bdc,
    0x1d18300, 0x1d185e6, 0x1d18adc, 0x1d18c00, 0x1d1aae6, 0x1d1ae00, 0x1d242e6, 0x1d24500,
    0x1e000e6, 0x1e00700, 0x1e008e6, 0x1e01900, 0x1e01be6, 0x1e02200, 0x1e023e6, 0x1e02500,
    0x1e026e6, 0x1e02b00, 0x1e130e6, 0x1e13700, 0x1e2aee6, 0x1e2af00, 0x1e2ece6, 0x1e2f000,
    0x1e8d0dc, 0x1e8d700, 0x1e944e6, 0x1e94a07, 0x1e94b00,
];

/// Canonical decompositions (Hangul syllables excepted), sorted by code point:
/// `composes << 63 | cp << 42 | first << 21 | second` (second 0 for singletons; composes
/// marks the primary composites, the pairs that NFC recombines).
#[rustfmt::skip]
static DECOMPOSITIONS: &[u64] = &[
    0x8003000008200300, 0x8003040008200301, 0x8003080008200302, 0x80030c0008200303,
    0x8003100008200308, 0x800314000820030a, 0x80031c0008600327, 0x8003200008a00300,
    0x8003240008a00301, 0x8003280008a00302, 0x80032c0008a00308, 0x8003300009200300,
    0x8003340009200301, 0x8003380009200302, 0x80033c0009200308, 0x8003440009c00303,
    0x8003480009e00300, 0x80034c0009e00301, 0x8003500009e00302, 0x8003540009e00303,
    0x8003580009e00308, 0x800364000aa00300, 0x800368000aa00301, 0x80036c000aa00302,
    0x800370000aa00308, 0x800374000b200301, 0x800380000c200300, 0x800384000c200301,
    0x800388000c200302, 0x80038c000c200303, 0x800390000c200308, 0x800394000c20030a,
    0x80039c000c600327, 0x8003a0000ca00300, 0x8003a4000ca00301, 0x8003a8000ca00302,
    0x8003ac000ca00308, 0x8003b0000d200300, 0x8003b4000d200301, 0x8003b8000d200302,
    0x8003bc000d200308, 0x8003c4000dc00303, 0x8003c8000de00300, 0x8003cc000de00301,
    0x8003d0000de00302, 0x8003d4000de00303, 0x8003d8000de00308, 0x8003e4000ea00300,
    0x8003e8000ea00301, 0x8003ec000ea00302, 0x8003f0000ea00308, 0x8003f4000f200301,
    0x8003fc000f200308, 0x8004000008200304, 0x800404000c200304, 0x8004080008200306,
    0x80040c000c200306, 0x8004100008200328, 0x800414000c200328, 0x8004180008600301,
    0x80041c000c600301, 0x8004200008600302, 0x800424000c600302, 0x8004280008600307,
    0x80042c000c600307, 0x800430000860030c, 0x800434000c60030c, 0x800438000880030c,
    0x80043c000c80030c, 0x8004480008a00304, 0x80044c000ca00304, 0x8004500008a00306,
    0x800454000ca00306, 0x8004580008a00307, 0x80045c000ca00307, 0x8004600008a00328,
    0x800464000ca00328, 0x8004680008a0030c, 0x80046c000ca0030c, 0x8004700008e00302,
    0x800474000ce00302, 0x8004780008e00306, 0x80047c000ce00306, 0x8004800008e00307,
    0x800484000ce00307, 0x8004880008e00327, 0x80048c000ce00327, 0x8004900009000302,
    0x800494000d000302, 0x8004a00009200303, 0x8004a4000d200303, 0x8004a80009200304,
    0x8004ac000d200304, 0x8004b00009200306, 0x8004b4000d200306, 0x8004b80009200328,
    0x8004bc000d200328, 0x8004c00009200307, 0x8004d00009400302, 0x8004d4000d400302,
    0x8004d80009600327, 0x8004dc000d600327, 0x8004e40009800301, 0x8004e8000d800301,
    0x8004ec0009800327, 0x8004f0000d800327, 0x8004f4000980030c, 0x8004f8000d80030c,
    0x80050c0009c00301, 0x800510000dc00301, 0x8005140009c00327, 0x800518000dc00327,
    0x80051c0009c0030c, 0x800520000dc0030c, 0x8005300009e00304, 0x800534000de00304,
    0x8005380009e00306, 0x80053c000de00306, 0x8005400009e0030b, 0x800544000de0030b,
    0x800550000a400301, 0x800554000e400301, 0x800558000a400327, 0x80055c000e400327,
    0x800560000a40030c, 0x800564000e40030c, 0x800568000a600301, 0x80056c000e600301,
    0x800570000a600302, 0x800574000e600302, 0x800578000a600327, 0x80057c000e600327,
    0x800580000a60030c, 0x800584000e60030c, 0x800588000a800327, 0x80058c000e800327,
    0x800590000a80030c, 0x800594000e80030c, 0x8005a0000aa00303, 0x8005a4000ea00303,
    0x8005a8000aa00304, 0x8005ac000ea00304, 0x8005b0000aa00306, 0x8005b4000ea00306,
    0x8005b8000aa0030a, 0x8005bc000ea0030a, 0x8005c0000aa0030b, 0x8005c4000ea0030b,
    0x8005c8000aa00328, 0x8005cc000ea00328, 0x8005d0000ae00302, 0x8005d4000ee00302,
    0x8005d8000b200302, 0x8005dc000f200302, 0x8005e0000b200308, 0x8005e4000b400301,
    0x8005e8000f400301, 0x8005ec000b400307, 0x8005f0000f400307, 0x8005f4000b40030c,
    0x8005f8000f40030c, 0x8006800009e0031b, 0x800684000de0031b, 0x8006bc000aa0031b,
    0x8006c0000ea0031b, 0x800734000820030c, 0x800738000c20030c, 0x80073c000920030c,
    0x800740000d20030c, 0x8007440009e0030c, 0x800748000de0030c, 0x80074c000aa0030c,
    0x800750000ea0030c, 0x800754001b800304, 0x800758001f800304, 0x80075c001b800301,
    0x800760001f800301, 0x800764001b80030c, 0x800768001f80030c, 0x80076c001b800300,
    0x800770001f800300, 0x8007780018800304, 0x80077c001c800304, 0x8007800044c00304,
    0x8007840044e00304, 0x8007880018c00304, 0x80078c001cc00304, 0x8007980008e0030c,
    0x80079c000ce0030c, 0x8007a0000960030c, 0x8007a4000d60030c, 0x8007a80009e00328,
    0x8007ac000de00328, 0x8007b0003d400304, 0x8007b4003d600304, 0x8007b80036e0030c,
    0x8007bc005240030c, 0x8007c0000d40030c, 0x8007d00008e00301, 0x8007d4000ce00301,
    0x8007e00009c00300, 0x8007e4000dc00300, 0x8007e80018a00301, 0x8007ec001ca00301,
    0x8007f00018c00301, 0x8007f4001cc00301, 0x8007f8001b000301, 0x8007fc001f000301,
    0x800800000820030f, 0x800804000c20030f, 0x8008080008200311, 0x80080c000c200311,
    0x8008100008a0030f, 0x800814000ca0030f, 0x8008180008a00311, 0x80081c000ca00311,
    0x800820000920030f, 0x800824000d20030f, 0x8008280009200311, 0x80082c000d200311,
    0x8008300009e0030f, 0x800834000de0030f, 0x8008380009e00311, 0x80083c000de00311,
    0x800840000a40030f, 0x800844000e40030f, 0x800848000a400311, 0x80084c000e400311,
    0x800850000aa0030f, 0x800854000ea0030f, 0x800858000aa00311, 0x80085c000ea00311,
    0x800860000a600326, 0x800864000e600326, 0x800868000a800326, 0x80086c000e800326,
    0x800878000900030c, 0x80087c000d00030c, 0x8008980008200307, 0x80089c000c200307,
    0x8008a00008a00327, 0x8008a4000ca00327, 0x8008a8001ac00304, 0x8008ac001ec00304,
    0x8008b0001aa00304, 0x8008b4001ea00304, 0x8008b80009e00307, 0x8008bc000de00307,
    0x8008c00045c00304, 0x8008c40045e00304, 0x8008c8000b200304, 0x8008cc000f200304, 0xd000060000000,
    0xd040060200000, 0xd0c0062600000, 0xd100061000301, 0xdd00057200000, 0xdf80007600000,
    0x800e140015000301, 0x800e180072200301, 0xe1c0016e00000, 0x800e200072a00301, 0x800e240072e00301,
    0x800e280073200301, 0x800e300073e00301, 0x800e380074a00301, 0x800e3c0075200301,
    0x800e400079400301, 0x800ea80073200308, 0x800eac0074a00308, 0x800eb00076200301,
    0x800eb40076a00301, 0x800eb80076e00301, 0x800ebc0077200301, 0x800ec00079600301,
    0x800f280077200308, 0x800f2c0078a00308, 0x800f300077e00301, 0x800f340078a00301,
    0x800f380079200301, 0x800f4c007a400301, 0x800f50007a400308, 0x8010000082a00300,
    0x8010040082a00308, 0x80100c0082600301, 0x80101c0080c00308, 0x8010300083400301,
    0x8010340083000300, 0x8010380084600306, 0x8010640083000306, 0x8010e40087000306,
    0x8011400086a00300, 0x8011440086a00308, 0x80114c0086600301, 0x80115c008ac00308,
    0x8011700087400301, 0x8011740087000300, 0x8011780088600306, 0x8011d8008e80030f,
    0x8011dc008ea0030f, 0x8013040082c00306, 0x8013080086c00306, 0x8013400082000306,
    0x8013440086000306, 0x8013480082000308, 0x80134c0086000308, 0x8013580082a00306,
    0x80135c0086a00306, 0x801368009b000308, 0x80136c009b200308, 0x8013700082c00308,
    0x8013740086c00308, 0x8013780082e00308, 0x80137c0086e00308, 0x8013880083000304,
    0x80138c0087000304, 0x8013900083000308, 0x8013940087000308, 0x8013980083c00308,
    0x80139c0087c00308, 0x8013a8009d000308, 0x8013ac009d200308, 0x8013b00085a00308,
    0x8013b40089a00308, 0x8013b80084600304, 0x8013bc0088600304, 0x8013c00084600308,
    0x8013c40088600308, 0x8013c8008460030b, 0x8013cc008860030b, 0x8013d00084e00308,
    0x8013d40088e00308, 0x8013e00085600308, 0x8013e40089600308, 0x80188800c4e00653,
    0x80188c00c4e00654, 0x80189000c9000654, 0x80189400c4e00655, 0x80189800c9400654,
    0x801b0000daa00654, 0x801b0800d8200654, 0x801b4c00da400654, 0x8024a4012500093c,
    0x8024c4012600093c, 0x8024d0012660093c, 0x25600122a0093c, 0x25640122c0093c, 0x25680122e0093c,
    0x256c012380093c, 0x2570012420093c, 0x2574012440093c, 0x2578012560093c, 0x257c0125e0093c,
    0x80272c0138e009be, 0x8027300138e009d7, 0x277001342009bc, 0x277401344009bc, 0x277c0135e009bc,
    0x28cc0146400a3c, 0x28d80147000a3c, 0x29640142c00a3c, 0x29680142e00a3c, 0x296c0143800a3c,
    0x29780145600a3c, 0x802d200168e00b56, 0x802d2c0168e00b3e, 0x802d300168e00b57, 0x2d700164200b3c,
    0x2d740164400b3c, 0x802e500172400bd7, 0x802f280178c00bbe, 0x802f2c0178e00bbe,
    0x802f300178c00bd7, 0x8031200188c00c56, 0x8033000197e00cd5, 0x80331c0198c00cd5,
    0x8033200198c00cd6, 0x8033280198c00cc2, 0x80332c0199400cd5, 0x80352801a8c00d3e,
    0x80352c01a8e00d3e, 0x80353001a8c00d57, 0x80376801bb200dca, 0x80377001bb200dcf,
    0x80377401bb800dca, 0x80377801bb200ddf, 0x3d0c01e8400fb7, 0x3d3401e9800fb7, 0x3d4801ea200fb7,
    0x3d5c01eac00fb7, 0x3d7001eb600fb7, 0x3da401e8000fb5, 0x3dcc01ee200f72, 0x3dd401ee200f74,
    0x3dd801f6400f80, 0x3de001f6600f80, 0x3e0401ee200f80, 0x3e4c01f2400fb7, 0x3e7401f3800fb7,
    0x3e8801f4200fb7, 0x3e9c01f4c00fb7, 0x3eb001f5600fb7, 0x3ee401f2000fb5, 0x8040980204a0102e,
    0x806c180360a01b35, 0x806c200360e01b35, 0x806c280361201b35, 0x806c300361601b35,
    0x806c380361a01b35, 0x806c480362201b35, 0x806cec0367401b35, 0x806cf40367801b35,
    0x806d000367c01b35, 0x806d040367e01b35, 0x806d0c0368401b35, 0x8078000008200325,
    0x807804000c200325, 0x8078080008400307, 0x80780c000c400307, 0x8078100008400323,
    0x807814000c400323, 0x8078180008400331, 0x80781c000c400331, 0x8078200018e00301,
    0x807824001ce00301, 0x8078280008800307, 0x80782c000c800307, 0x8078300008800323,
    0x807834000c800323, 0x8078380008800331, 0x80783c000c800331, 0x8078400008800327,
    0x807844000c800327, 0x807848000880032d, 0x80784c000c80032d, 0x8078500022400300,
    0x8078540022600300, 0x8078580022400301, 0x80785c0022600301, 0x8078600008a0032d,
    0x807864000ca0032d, 0x8078680008a00330, 0x80786c000ca00330, 0x8078700045000306,
    0x8078740045200306, 0x8078780008c00307, 0x80787c000cc00307, 0x8078800008e00304,
    0x807884000ce00304, 0x8078880009000307, 0x80788c000d000307, 0x8078900009000323,
    0x807894000d000323, 0x8078980009000308, 0x80789c000d000308, 0x8078a00009000327,
    0x8078a4000d000327, 0x8078a8000900032e, 0x8078ac000d00032e, 0x8078b00009200330,
    0x8078b4000d200330, 0x8078b80019e00301, 0x8078bc001de00301, 0x8078c00009600301,
    0x8078c4000d600301, 0x8078c80009600323, 0x8078cc000d600323, 0x8078d00009600331,
    0x8078d4000d600331, 0x8078d80009800323, 0x8078dc000d800323, 0x8078e003c6c00304,
    0x8078e403c6e00304, 0x8078e80009800331, 0x8078ec000d800331, 0x8078f0000980032d,
    0x8078f4000d80032d, 0x8078f80009a00301, 0x8078fc000da00301, 0x8079000009a00307,
    0x807904000da00307, 0x8079080009a00323, 0x80790c000da00323, 0x8079100009c00307,
    0x807914000dc00307, 0x8079180009c00323, 0x80791c000dc00323, 0x8079200009c00331,
    0x807924000dc00331, 0x8079280009c0032d, 0x80792c000dc0032d, 0x807930001aa00301,
    0x807934001ea00301, 0x807938001aa00308, 0x80793c001ea00308, 0x8079400029800300,
    0x8079440029a00300, 0x8079480029800301, 0x80794c0029a00301, 0x807950000a000301,
    0x807954000e000301, 0x807958000a000307, 0x80795c000e000307, 0x807960000a400307,
    0x807964000e400307, 0x807968000a400323, 0x80796c000e400323, 0x80797003cb400304,
    0x80797403cb600304, 0x807978000a400331, 0x80797c000e400331, 0x807980000a600307,
    0x807984000e600307, 0x807988000a600323, 0x80798c000e600323, 0x807990002b400307,
    0x807994002b600307, 0x807998002c000307, 0x80799c002c200307, 0x8079a003cc400307,
    0x8079a403cc600307, 0x8079a8000a800307, 0x8079ac000e800307, 0x8079b0000a800323,
    0x8079b4000e800323, 0x8079b8000a800331, 0x8079bc000e800331, 0x8079c0000a80032d,
    0x8079c4000e80032d, 0x8079c8000aa00324, 0x8079cc000ea00324, 0x8079d0000aa00330,
    0x8079d4000ea00330, 0x8079d8000aa0032d, 0x8079dc000ea0032d, 0x8079e0002d000301,
    0x8079e4002d200301, 0x8079e8002d400308, 0x8079ec002d600308, 0x8079f0000ac00303,
    0x8079f4000ec00303, 0x8079f8000ac00323, 0x8079fc000ec00323, 0x807a00000ae00300,
    0x807a04000ee00300, 0x807a08000ae00301, 0x807a0c000ee00301, 0x807a10000ae00308,
    0x807a14000ee00308, 0x807a18000ae00307, 0x807a1c000ee00307, 0x807a20000ae00323,
    0x807a24000ee00323, 0x807a28000b000307, 0x807a2c000f000307, 0x807a30000b000308,
    0x807a34000f000308, 0x807a38000b200307, 0x807a3c000f200307, 0x807a40000b400302,
    0x807a44000f400302, 0x807a48000b400323, 0x807a4c000f400323, 0x807a50000b400331,
    0x807a54000f400331, 0x807a58000d000331, 0x807a5c000e800308, 0x807a60000ee0030a,
    0x807a64000f20030a, 0x807a6c002fe00307, 0x807a800008200323, 0x807a84000c200323,
    0x807a880008200309, 0x807a8c000c200309, 0x807a900018400301, 0x807a94001c400301,
    0x807a980018400300, 0x807a9c001c400300, 0x807aa00018400309, 0x807aa4001c400309,
    0x807aa80018400303, 0x807aac001c400303, 0x807ab003d4000302, 0x807ab403d4200302,
    0x807ab80020400301, 0x807abc0020600301, 0x807ac00020400300, 0x807ac40020600300,
    0x807ac80020400309, 0x807acc0020600309, 0x807ad00020400303, 0x807ad40020600303,
    0x807ad803d4000306, 0x807adc03d4200306, 0x807ae00008a00323, 0x807ae4000ca00323,
    0x807ae80008a00309, 0x807aec000ca00309, 0x807af00008a00303, 0x807af4000ca00303,
    0x807af80019400301, 0x807afc001d400301, 0x807b000019400300, 0x807b04001d400300,
    0x807b080019400309, 0x807b0c001d400309, 0x807b100019400303, 0x807b14001d400303,
    0x807b1803d7000302, 0x807b1c03d7200302, 0x807b200009200309, 0x807b24000d200309,
    0x807b280009200323, 0x807b2c000d200323, 0x807b300009e00323, 0x807b34000de00323,
    0x807b380009e00309, 0x807b3c000de00309, 0x807b40001a800301, 0x807b44001e800301,
    0x807b48001a800300, 0x807b4c001e800300, 0x807b50001a800309, 0x807b54001e800309,
    0x807b58001a800303, 0x807b5c001e800303, 0x807b6003d9800302, 0x807b6403d9a00302,
    0x807b680034000301, 0x807b6c0034200301, 0x807b700034000300, 0x807b740034200300,
    0x807b780034000309, 0x807b7c0034200309, 0x807b800034000303, 0x807b840034200303,
    0x807b880034000323, 0x807b8c0034200323, 0x807b90000aa00323, 0x807b94000ea00323,
    0x807b98000aa00309, 0x807b9c000ea00309, 0x807ba00035e00301, 0x807ba40036000301,
    0x807ba80035e00300, 0x807bac0036000300, 0x807bb00035e00309, 0x807bb40036000309,
    0x807bb80035e00303, 0x807bbc0036000303, 0x807bc00035e00323, 0x807bc40036000323,
    0x807bc8000b200300, 0x807bcc000f200300, 0x807bd0000b200323, 0x807bd4000f200323,
    0x807bd8000b200309, 0x807bdc000f200309, 0x807be0000b200303, 0x807be4000f200303,
    0x807c000076200313, 0x807c040076200314, 0x807c0803e0000300, 0x807c0c03e0200300,
    0x807c1003e0000301, 0x807c1403e0200301, 0x807c1803e0000342, 0x807c1c03e0200342,
    0x807c200072200313, 0x807c240072200314, 0x807c2803e1000300, 0x807c2c03e1200300,
    0x807c3003e1000301, 0x807c3403e1200301, 0x807c3803e1000342, 0x807c3c03e1200342,
    0x807c400076a00313, 0x807c440076a00314, 0x807c4803e2000300, 0x807c4c03e2200300,
    0x807c5003e2000301, 0x807c5403e2200301, 0x807c600072a00313, 0x807c640072a00314,
    0x807c6803e3000300, 0x807c6c03e3200300, 0x807c7003e3000301, 0x807c7403e3200301,
    0x807c800076e00313, 0x807c840076e00314, 0x807c8803e4000300, 0x807c8c03e4200300,
    0x807c9003e4000301, 0x807c9403e4200301, 0x807c9803e4000342, 0x807c9c03e4200342,
    0x807ca00072e00313, 0x807ca40072e00314, 0x807ca803e5000300, 0x807cac03e5200300,
    0x807cb003e5000301, 0x807cb403e5200301, 0x807cb803e5000342, 0x807cbc03e5200342,
    0x807cc00077200313, 0x807cc40077200314, 0x807cc803e6000300, 0x807ccc03e6200300,
    0x807cd003e6000301, 0x807cd403e6200301, 0x807cd803e6000342, 0x807cdc03e6200342,
    0x807ce00073200313, 0x807ce40073200314, 0x807ce803e7000300, 0x807cec03e7200300,
    0x807cf003e7000301, 0x807cf403e7200301, 0x807cf803e7000342, 0x807cfc03e7200342,
    0x807d000077e00313, 0x807d040077e00314, 0x807d0803e8000300, 0x807d0c03e8200300,
    0x807d1003e8000301, 0x807d1403e8200301, 0x807d200073e00313, 0x807d240073e00314,
    0x807d2803e9000300, 0x807d2c03e9200300, 0x807d3003e9000301, 0x807d3403e9200301,
    0x807d400078a00313, 0x807d440078a00314, 0x807d4803ea000300, 0x807d4c03ea200300,
    0x807d5003ea000301, 0x807d5403ea200301, 0x807d5803ea000342, 0x807d5c03ea200342,
    0x807d640074a00314, 0x807d6c03eb200300, 0x807d7403eb200301, 0x807d7c03eb200342,
    0x807d800079200313, 0x807d840079200314, 0x807d8803ec000300, 0x807d8c03ec200300,
    0x807d9003ec000301, 0x807d9403ec200301, 0x807d9803ec000342, 0x807d9c03ec200342,
    0x807da00075200313, 0x807da40075200314, 0x807da803ed000300, 0x807dac03ed200300,
    0x807db003ed000301, 0x807db403ed200301, 0x807db803ed000342, 0x807dbc03ed200342,
    0x807dc00076200300, 0x7dc40075800000, 0x807dc80076a00300, 0x7dcc0075a00000, 0x807dd00076e00300,
    0x7dd40075c00000, 0x807dd80077200300, 0x7ddc0075e00000, 0x807de00077e00300, 0x7de40079800000,
    0x807de80078a00300, 0x7dec0079a00000, 0x807df00079200300, 0x7df40079c00000, 0x807e0003e0000345,
    0x807e0403e0200345, 0x807e0803e0400345, 0x807e0c03e0600345, 0x807e1003e0800345,
    0x807e1403e0a00345, 0x807e1803e0c00345, 0x807e1c03e0e00345, 0x807e2003e1000345,
    0x807e2403e1200345, 0x807e2803e1400345, 0x807e2c03e1600345, 0x807e3003e1800345,
    0x807e3403e1a00345, 0x807e3803e1c00345, 0x807e3c03e1e00345, 0x807e4003e4000345,
    0x807e4403e4200345, 0x807e4803e4400345, 0x807e4c03e4600345, 0x807e5003e4800345,
    0x807e5403e4a00345, 0x807e5803e4c00345, 0x807e5c03e4e00345, 0x807e6003e5000345,
    0x807e6403e5200345, 0x807e6803e5400345, 0x807e6c03e5600345, 0x807e7003e5800345,
    0x807e7403e5a00345, 0x807e7803e5c00345, 0x807e7c03e5e00345, 0x807e8003ec000345,
    0x807e8403ec200345, 0x807e8803ec400345, 0x807e8c03ec600345, 0x807e9003ec800345,
    0x807e9403eca00345, 0x807e9803ecc00345, 0x807e9c03ece00345, 0x807ea003ed000345,
    0x807ea403ed200345, 0x807ea803ed400345, 0x807eac03ed600345, 0x807eb003ed800345,
    0x807eb403eda00345, 0x807eb803edc00345, 0x807ebc03ede00345, 0x807ec00076200306,
    0x807ec40076200304, 0x807ec803ee000345, 0x807ecc0076200345, 0x807ed00075800345,
    0x807ed80076200342, 0x807edc03f6c00345, 0x807ee00072200306, 0x807ee40072200304,
    0x807ee80072200300, 0x7eec0070c00000, 0x807ef00072200345, 0x7ef80077200000, 0x807f040015000342,
    0x807f0803ee800345, 0x807f0c0076e00345, 0x807f100075c00345, 0x807f180076e00342,
    0x807f1c03f8c00345, 0x807f200072a00300, 0x7f240071000000, 0x807f280072e00300, 0x7f2c0071200000,
    0x807f300072e00345, 0x807f3403f7e00300, 0x807f3803f7e00301, 0x807f3c03f7e00342,
    0x807f400077200306, 0x807f440077200304, 0x807f480079400300, 0x7f4c0072000000,
    0x807f580077200342, 0x807f5c0079400342, 0x807f600073200306, 0x807f640073200304,
    0x807f680073200300, 0x7f6c0071400000, 0x807f7403ffc00300, 0x807f7803ffc00301,
    0x807f7c03ffc00342, 0x807f800078a00306, 0x807f840078a00304, 0x807f880079600300,
    0x7f8c0076000000, 0x807f900078200313, 0x807f940078200314, 0x807f980078a00342,
    0x807f9c0079600342, 0x807fa00074a00306, 0x807fa40074a00304, 0x807fa80074a00300,
    0x7fac0071c00000, 0x807fb00074200314, 0x807fb40015000300, 0x7fb80070a00000, 0x7fbc000c000000,
    0x807fc803ef800345, 0x807fcc0079200345, 0x807fd00079c00345, 0x807fd80079200342,
    0x807fdc03fec00345, 0x807fe00073e00300, 0x7fe40071800000, 0x807fe80075200300, 0x7fec0071e00000,
    0x807ff00075200345, 0x7ff40016800000, 0x80000400400000, 0x80040400600000, 0x84980075200000,
    0x84a80009600000, 0x84ac0018a00000, 0x8086680432000338, 0x80866c0432400338, 0x8086b80432800338,
    0x808734043a000338, 0x808738043a800338, 0x80873c043a400338, 0x8088100440600338,
    0x8088240441000338, 0x8088300441600338, 0x8088900444600338, 0x8088980444a00338,
    0x8089040447800338, 0x8089100448600338, 0x80891c0448a00338, 0x8089240449000338,
    0x8089800007a00338, 0x808988044c200338, 0x8089b40449a00338, 0x8089b80007800338,
    0x8089bc0007c00338, 0x8089c0044c800338, 0x8089c4044ca00338, 0x8089d0044e400338,
    0x8089d4044e600338, 0x8089e0044ec00338, 0x8089e4044ee00338, 0x808a00044f400338,
    0x808a04044f600338, 0x808a100450400338, 0x808a140450600338, 0x808a200450c00338,
    0x808a240450e00338, 0x808ab00454400338, 0x808ab40455000338, 0x808ab80455200338,
    0x808abc0455600338, 0x808b80044f800338, 0x808b84044fa00338, 0x808b880452200338,
    0x808b8c0452400338, 0x808ba80456400338, 0x808bac0456600338, 0x808bb00456800338,
    0x808bb40456a00338, 0x8ca40601000000, 0x8ca80601200000, 0xab70055ba00338, 0x80c1300609603099,
    0x80c1380609a03099, 0x80c1400609e03099, 0x80c148060a203099, 0x80c150060a603099,
    0x80c158060aa03099, 0x80c160060ae03099, 0x80c168060b203099, 0x80c170060b603099,
    0x80c178060ba03099, 0x80c180060be03099, 0x80c188060c203099, 0x80c194060c803099,
    0x80c19c060cc03099, 0x80c1a4060d003099, 0x80c1c0060de03099, 0x80c1c4060de0309a,
    0x80c1cc060e403099, 0x80c1d0060e40309a, 0x80c1d8060ea03099, 0x80c1dc060ea0309a,
    0x80c1e4060f003099, 0x80c1e8060f00309a, 0x80c1f0060f603099, 0x80c1f4060f60309a,
    0x80c2500608c03099, 0x80c2780613a03099, 0x80c2b00615603099, 0x80c2b80615a03099,
    0x80c2c00615e03099, 0x80c2c80616203099, 0x80c2d00616603099, 0x80c2d80616a03099,
    0x80c2e00616e03099, 0x80c2e80617203099, 0x80c2f00617603099, 0x80c2f80617a03099,
    0x80c3000617e03099, 0x80c3080618203099, 0x80c3140618803099, 0x80c31c0618c03099,
    0x80c3240619003099, 0x80c3400619e03099, 0x80c3440619e0309a, 0x80c34c061a403099,
    0x80c350061a40309a, 0x80c358061aa03099, 0x80c35c061aa0309a, 0x80c364061b003099,
    0x80c368061b00309a, 0x80c370061b603099, 0x80c374061b60309a, 0x80c3d00614c03099,
    0x80c3dc061de03099, 0x80c3e0061e003099, 0x80c3e4061e203099, 0x80c3e8061e403099,
    0x80c3f8061fa03099, 0x3e4001189000000, 0x3e4040cde800000, 0x3e40811d9400000, 0x3e40c1199000000,
    0x3e4100dda200000, 0x3e41409c6400000, 0x3e4180a7ca00000, 0x3e41c13f3800000, 0x3e42013f3800000,
    0x3e4240b2a200000, 0x3e428123a200000, 0x3e42c0ab0e00000, 0x3e4300b29000000, 0x3e4340c3ec00000,
    0x3e4380ecd200000, 0x3e43c0ff0a00000, 0x3e44010c7e00000, 0x3e44410f7400000, 0x3e448111f000000,
    0x3e44c1211e00000, 0x3e4500d40400000, 0x3e4540da3600000, 0x3e4580e1b200000, 0x3e45c0e7bc00000,
    0x3e4601087a00000, 0x3e464122d400000, 0x3e468133e200000, 0x3e46c09d0400000, 0x3e4700a6ea00000,
    0x3e4740d60800000, 0x3e4780e43600000, 0x3e47c10c5a00000, 0x3e48013c3c00000, 0x3e4840baa000000,
    0x3e4880dfd600000, 0x3e48c10b9a00000, 0x3e490112c800000, 0x3e4940c59200000, 0x3e498103b000000,
    0x3e49c1103e00000, 0x3e4a00bd9400000, 0x3e4a40ce2e00000, 0x3e4a80dad400000, 0x3e4ac0e5f800000,
    0x3e4b01219c00000, 0x3e4b409f0c00000, 0x3e4b80a36e00000, 0x3e4bc0a5bc00000, 0x3e4c00c98800000,
    0x3e4c40d5a600000, 0x3e4c80e42000000, 0x3e4cc0edce00000, 0x3e4d01000200000, 0x3e4d410c0c00000,
    0x3e4d810cb800000, 0x3e4dc11bde00000, 0x3e4e012e6400000, 0x3e4e4136de00000, 0x3e4e813bf400000,
    0x3e4ec0f11800000, 0x3e4f00f2fe00000, 0x3e4f40fb4000000, 0x3e4f81079200000, 0x3e4fc1260800000,
    0x3e50013cfe00000, 0x3e504115ac00000, 0x3e5080b1be00000, 0x3e50c0be0800000, 0x3e5100f8c000000,
    0x3e514100fc00000, 0x3e5180e4c400000, 0x3e51c0f19400000, 0x3e5201198400000, 0x3e52412dee00000,
    0x3e5280b1b000000, 0x3e52c0b8c400000, 0x3e5300d42600000, 0x3e5340dbb400000, 0x3e5380de1e00000,
    0x3e53c0fa5e00000, 0x3e5400fc6e00000, 0x3e54412c9600000, 0x3e5480a5a400000, 0x3e54c1011600000,
    0x3e5500a3b800000, 0x3e5540a39800000, 0x3e5580f43800000, 0x3e55c0fb7c00000, 0x3e560107e200000,
    0x3e56412cea00000, 0x3e5681170000000, 0x3e56c0c59e00000, 0x3e5700d40400000, 0x3e574115fc00000,
    0x3e57809c7200000, 0x3e57c0b7ce00000, 0x3e5800c02400000, 0x3e5840e70e00000, 0x3e5880eae000000,
    0x3e58c0a62e00000, 0x3e5900f1f600000, 0x3e59409f7e00000, 0x3e5980bf5200000, 0x3e59c09c1a00000,
    0x3e5a00d99800000, 0x3e5a40caf000000, 0x3e5a80fa4400000, 0x3e5ac0a78600000, 0x3e5b00b0bc00000,
    0x3e5b40ee0200000, 0x3e5b81089200000, 0x3e5bc1155400000, 0x3e5c00d77400000, 0x3e5c411f6000000,
    0x3e5c80d91000000, 0x3e5cc0c5fc00000, 0x3e5d0105ca00000, 0x3e5d40c74000000, 0x3e5d80eaca00000,
    0x3e5dc09d5c00000, 0x3e5e00a2d200000, 0x3e5e40a39200000, 0x3e5e80d10200000, 0x3e5ec0f9ce00000,
    0x3e5f0104de00000, 0x3e5f4115a400000, 0x3e5f81239e00000, 0x3e5fc0a5ea00000, 0x3e6000a88400000,
    0x3e6040b2e600000, 0x3e6080bdd800000, 0x3e60c0cb8a00000, 0x3e6100dffc00000, 0x3e6140f25400000,
    0x3e61812b5a00000, 0x3e61c134d400000, 0x3e62013d2e00000, 0x3e62413d9c00000, 0x3e6280a53600000,
    0x3e62c0cd8c00000, 0x3e6300d6ee00000, 0x3e63411ec400000, 0x3e6380bce800000, 0x3e63c0c32000000,
    0x3e6400c40000000, 0x3e6440c93400000, 0x3e6480de4600000, 0x3e64c0e29200000, 0x3e6500e91200000,
    0x3e6540f39400000, 0x3e6580fbe800000, 0x3e65c100de00000, 0x3e66011e4c00000, 0x3e664109dc00000,
    0x3e6681204600000, 0x3e66c1269400000, 0x3e6700a42e00000, 0x3e6740a54600000, 0x3e6780a97a00000,
    0x3e67c0e19000000, 0x3e6801118400000, 0x3e6841155400000, 0x3e6880bd9200000, 0x3e68c0bfea00000,
    0x3e6900c6f600000, 0x3e6940d75c00000, 0x3e6980f87c00000, 0x3e69c0e6ea00000, 0x3e6a009dc800000,
    0x3e6a40adf200000, 0x3e6a80b7ce00000, 0x3e6ac0bb7400000, 0x3e6b00c03800000, 0x3e6b40e76400000,
    0x3e6b80e8d200000, 0x3e6bc0ff3400000, 0x3e6c01008c00000, 0x3e6c41246800000, 0x3e6c812dec00000,
    0x3e6cc12e9000000, 0x3e6d01303000000, 0x3e6d409f1600000, 0x3e6d80f35c00000, 0x3e6dc1236800000,
    0x3e6e012d7000000, 0x3e6e40c1c200000, 0x3e6e809d0c00000, 0x3e6ec0a1b400000, 0x3e6f00b7dc00000,
    0x3e6f40b87e00000, 0x3e6f80cb3200000, 0x3e6fc0d40400000, 0x3e7000e39c00000, 0x3e7040ec8400000,
    0x3e708109f800000, 0x3e70c120f800000, 0x3e71013f1a00000, 0x3e7140cd1000000, 0x3e71812c5c00000,
    0x3e71c0a51200000, 0x3e7200cef600000, 0x3e7240cfe600000, 0x3e7280da8200000, 0x3e72c0dd3800000,
    0x3e7300e81200000, 0x3e7340eab200000, 0x3e7380f0d600000, 0x3e73c0fa2000000, 0x3e740130bc00000,
    0x3e7440a2da00000, 0x3e7480c45c00000, 0x3e74c12cf000000, 0x3e7500a05600000, 0x3e7540ba3200000,
    0x3e7580dbd400000, 0x3e75c11e5400000, 0x3e7600bf1600000, 0x3e7640c28800000, 0x3e7680d02e00000,
    0x3e76c0e70e00000, 0x3e77012d0c00000, 0x3e7740a45200000, 0x3e7780a81e00000, 0x3e77c0b8ca00000,
    0x3e7800cc2600000, 0x3e7840ce9c00000, 0x3e7880d15000000, 0x3e78c0d9ca00000, 0x3e7900e80c00000,
    0x3e7940ebc400000, 0x3e7980fef200000, 0x3e79c1119e00000, 0x3e7a0111c200000, 0x3e7a41239800000,
    0x3e7a812dc400000, 0x3e7ac0a67e00000, 0x3e7b00dd7400000, 0x3e7b40a83a00000, 0x3e7b80e3a000000,
    0x3e7bc0e93000000, 0x3e7c010bf400000, 0x3e7c412d4600000, 0x3e7c8138ae00000, 0x3e7cc13d3e00000,
    0x3e7d00cf2e00000, 0x3e7d40db9600000, 0x3e7d8103d000000, 0x3e7dc0f59600000, 0x3e7e00f64000000,
    0x3e7e40f92400000, 0x3e7e80e58000000, 0x3e7ec0e13200000, 0x3e7f0116b000000, 0x3e7f409d8000000,
    0x3e7f81066c00000, 0x3e7fc0a47400000, 0x3e8000a40e00000, 0x3e8040bd4c00000, 0x3e8080c5a600000,
    0x3e80c0f9ac00000, 0x3e8100b70a00000, 0x3e8140da3c00000, 0x3e8180cd6800000, 0x3e81c11e7600000,
    0x3e8201109800000, 0x3e82412c9a00000, 0x3e8281131600000, 0x3e82c0bda600000, 0x3e8300a28000000,
    0x3e8340ab8000000, 0x3e8400b0b400000, 0x3e8480cce800000, 0x3e8540a3bc00000, 0x3e8580e65400000,
    0x3e85c0ed9400000, 0x3e8600f27800000, 0x3e8640f2bc00000, 0x3e8680f2ca00000, 0x3e86c0f31e00000,
    0x3e87012eac00000, 0x3e8740f97c00000, 0x3e8780ff7a00000, 0x3e88010c2400000, 0x3e888115f000000,
    0x3e8941207000000, 0x3e898121fa00000, 0x3e8a8131de00000, 0x3e8ac131f800000, 0x3e8b01325000000,
    0x3e8b413b6800000, 0x3e8b8121bc00000, 0x3e8bc12d6e00000, 0x3e8c009f5c00000, 0x3e8c40a1ce00000,
    0x3e8c80a29a00000, 0x3e8cc0a59200000, 0x3e8d00a5c800000, 0x3e8d40a6a200000, 0x3e8d80ab3a00000,
    0x3e8dc0ac0c00000, 0x3e8e00acd000000, 0x3e8e40b08000000, 0x3e8e80b15000000, 0x3e8ec0b8c800000,
    0x3e8f00b8dc00000, 0x3e8f40c12800000, 0x3e8f80c2d000000, 0x3e8fc0c31c00000, 0x3e9000c3e400000,
    0x3e9040ca9e00000, 0x3e9080cbc400000, 0x3e90c0cd2200000, 0x3e9100d10a00000, 0x3e9140daee00000,
    0x3e9180dc3400000, 0x3e91c0de4400000, 0x3e9200e2dc00000, 0x3e9240e45600000, 0x3e9280e84400000,
    0x3e92c0f12200000, 0x3e9300f27c00000, 0x3e9340f29200000, 0x3e9380f29000000, 0x3e93c0f2a000000,
    0x3e9400f2ac00000, 0x3e9440f2ba00000, 0x3e9480f31a00000, 0x3e94c0f31c00000, 0x3e9500f48000000,
    0x3e9540f50200000, 0x3e9580f78000000, 0x3e95c0fbe800000, 0x3e9600fc1200000, 0x3e9640fc8200000,
    0x3e9680fee400000, 0x3e96c1000a00000, 0x3e970103da00000, 0x3e974104f200000, 0x3e978104f200000,
    0x3e97c108ae00000, 0x3e9801122000000, 0x3e9841132c00000, 0x3e9881160200000, 0x3e98c1167200000,
    0x3e990119a600000, 0x3e99411a1000000, 0x3e99811f6c00000, 0x3e99c1207000000, 0x3e9a012dc600000,
    0x3e9a412ffe00000, 0x3e9a81307600000, 0x3e9ac0c0ea00000, 0x3e9b0485dc00000, 0x3e9b41043000000,
    0x3e9c009c4c00000, 0x3e9c40a36a00000, 0x3e9c80a2d000000, 0x3e9cc09f0000000, 0x3e9d00a28a00000,
    0x3e9d40a30000000, 0x3e9d80a58e00000, 0x3e9dc0a5f400000, 0x3e9e00ab3a00000, 0x3e9e40aaaa00000,
    0x3e9e80ab3200000, 0x3e9ec0abc400000, 0x3e9f00b0b400000, 0x3e9f40b16600000, 0x3e9f80b28800000,
    0x3e9fc0b2a800000, 0x3ea000b4c400000, 0x3ea040b65000000, 0x3ea080bda400000, 0x3ea0c0bdb200000,
    0x3ea100bed200000, 0x3ea140bf5a00000, 0x3ea180c1b000000, 0x3ea1c0c29c00000, 0x3ea200c21000000,
    0x3ea240c31c00000, 0x3ea280c2c000000, 0x3ea2c0c3e400000, 0x3ea300c46800000, 0x3ea340c78800000,
    0x3ea380c83800000, 0x3ea3c0c8a400000, 0x3ea400caac00000, 0x3ea440cce800000, 0x3ea480ce2e00000,
    0x3ea4c0ce3600000, 0x3ea500ceac00000, 0x3ea540d6f200000, 0x3ea580d77400000, 0x3ea5c0da8200000,
    0x3ea600ddb600000, 0x3ea640dd9600000, 0x3ea680de4400000, 0x3ea6c0e03c00000, 0x3ea700e2dc00000,
    0x3ea740ef4e00000, 0x3ea780e46a00000, 0x3ea7c0e55e00000, 0x3ea800e65400000, 0x3ea840e8e200000,
    0x3ea880ea0c00000, 0x3ea8c0ea7600000, 0x3ea900ec3a00000, 0x3ea940ec3e00000, 0x3ea980ed9400000,
    0x3ea9c0edb600000, 0x3eaa00ede800000, 0x3eaa40ee9400000, 0x3eaa80ee8000000, 0x3eaac0f19800000,
    0x3eab00f56200000, 0x3eab40f78000000, 0x3eab80f8f600000, 0x3eabc0fab600000, 0x3eac00fbe800000,
    0x3eac40fe7c00000, 0x3eac81000a00000, 0x3eacc106a400000, 0x3ead0107de00000, 0x3ead410ef200000,
    0x3ead81128200000, 0x3eadc1130c00000, 0x3eae01132c00000, 0x3eae41157e00000, 0x3eae8115f000000,
    0x3eaec1159600000, 0x3eaf01160200000, 0x3eaf4115fc00000, 0x3eaf8115da00000, 0x3eafc1167200000,
    0x3eb001171400000, 0x3eb0411a1000000, 0x3eb0811e7000000, 0x3eb0c120e400000, 0x3eb101233200000,
    0x3eb14124ec00000, 0x3eb1812cf800000, 0x3eb1c12dc600000, 0x3eb2012eac00000, 0x3eb2412fb600000,
    0x3eb2812ffe00000, 0x3eb2c1301600000, 0x3eb301307600000, 0x3eb341362400000, 0x3eb3813f3800000,
    0x3eb3c4509400000, 0x3eb404508800000, 0x3eb44467aa00000, 0x3eb480773a00000, 0x3eb4c0803000000,
    0x3eb500807200000, 0x3eb544a49200000, 0x3eb584b9a000000, 0x3eb5c4fda600000, 0x3eb6013e8600000,
    0x3eb6413f1c00000, 0x3ec7400bb2005b4, 0x3ec7c00be4005b7, 0x3eca800bd2005c1, 0x3ecac00bd2005c2,
    0x3ecb01f692005c1, 0x3ecb41f692005c2, 0x3ecb800ba0005b7, 0x3ecbc00ba0005b8, 0x3ecc000ba0005bc,
    0x3ecc400ba2005bc, 0x3ecc800ba4005bc, 0x3eccc00ba6005bc, 0x3ecd000ba8005bc, 0x3ecd400baa005bc,
    0x3ecd800bac005bc, 0x3ece000bb0005bc, 0x3ece400bb2005bc, 0x3ece800bb4005bc, 0x3ecec00bb6005bc,
    0x3ecf000bb8005bc, 0x3ecf800bbc005bc, 0x3ed0000bc0005bc, 0x3ed0400bc2005bc, 0x3ed0c00bc6005bc,
    0x3ed1000bc8005bc, 0x3ed1800bcc005bc, 0x3ed1c00bce005bc, 0x3ed2000bd0005bc, 0x3ed2400bd2005bc,
    0x3ed2800bd4005bc, 0x3ed2c00baa005b9, 0x3ed3000ba2005bf, 0x3ed3400bb6005bf, 0x3ed3800bc8005bf,
    0x84426822132110ba, 0x84427022136110ba, 0x8442ac2214a110ba, 0x8444b82226211127,
    0x8444bc2226411127, 0x844d2c2268e1133e, 0x844d302268e11357, 0x8452ec22972114ba,
    0x8452f022972114b0, 0x8452f822972114bd, 0x8456e822b70115af, 0x8456ec22b72115af,
    0x8464e02326a11930, 0x745783a2ae1d165, 0x7457c3a2b01d165, 0x745803a2be1d16e, 0x745843a2be1d16f,
    0x745883a2be1d170, 0x7458c3a2be1d171, 0x745903a2be1d172, 0x746ec3a3721d165, 0x746f03a3741d165,
    0x746f43a3761d16e, 0x746f83a3781d16e, 0x746fc3a3761d16f, 0x747003a3781d16f, 0xbe00009c7a00000,
    0xbe00409c7000000, 0xbe00809c8200000, 0xbe00c4024400000, 0xbe01009ec000000, 0xbe01409f5c00000,
    0xbe01809f7600000, 0xbe01c0a00400000, 0xbe0200a0f400000, 0xbe0240a13200000, 0xbe0280a1ce00000,
    0xbe02c0a19e00000, 0xbe0300693c00000, 0xbe03440c7400000, 0xbe0380a29a00000, 0xbe03c0a2a800000,
    0xbe0400a2c800000, 0xbe0440a2ee00000, 0xbe04840a3800000, 0xbe04c0697200000, 0xbe0500a2ce00000,
    0xbe0540a31a00000, 0xbe05840a9600000, 0xbe05c0a32e00000, 0xbe0600a34800000, 0xbe06409d9800000,
    0xbe0680a35800000, 0xbe06c0a36a00000, 0xbe070523be00000, 0xbe0740a3ea00000, 0xbe0780a40600000,
    0xbe07c069be00000, 0xbe0800a47600000, 0xbe0840a48c00000, 0xbe0880a4e400000, 0xbe08c0a4ee00000,
    0xbe09006a2a00000, 0xbe0940a58e00000, 0xbe0980a59200000, 0xbe09c0a5c800000, 0xbe0a00a5f400000,
    0xbe0a40a60a00000, 0xbe0a80a60c00000, 0xbe0ac0a62e00000, 0xbe0b00a69200000, 0xbe0b40a6a200000,
    0xbe0b80a6b400000, 0xbe0bc0a6e600000, 0xbe0c00a6fa00000, 0xbe0c40a6fe00000, 0xbe0c80a6fe00000,
    0xbe0cc0a6fe00000, 0xbe0d04145800000, 0xbe0d40e0e000000, 0xbe0d80a79400000, 0xbe0dc0a7be00000,
    0xbe0e0416c600000, 0xbe0e40a7d600000, 0xbe0e80a7e200000, 0xbe0ec0a80c00000, 0xbe0f00a93c00000,
    0xbe0f40a87000000, 0xbe0f80a89000000, 0xbe0fc0a8d000000, 0xbe1000a94400000, 0xbe1040a9ec00000,
    0xbe1080aa2000000, 0xbe10c0aaa600000, 0xbe1100aac600000, 0xbe1140ab0800000, 0xbe1180ab0800000,
    0xbe11c0ab3200000, 0xbe1200ab5600000, 0xbe1240ab6600000, 0xbe1280ab8400000, 0xbe12c0ae2c00000,
    0xbe1300ac0c00000, 0xbe1340ae2e00000, 0xbe1380aca200000, 0xbe13c0ace800000, 0xbe1400a40e00000,
    0xbe1440b1dc00000, 0xbe1480af9c00000, 0xbe14c0afe800000, 0xbe1500b01a00000, 0xbe1540af1600000,
    0xbe1580b06400000, 0xbe15c0b06200000, 0xbe1600b15800000, 0xbe164429c800000, 0xbe1680b1e400000,
    0xbe16c0b1ee00000, 0xbe1700b20c00000, 0xbe1740b23400000, 0xbe1780b24400000, 0xbe17c0b2c400000,
    0xbe18042d5000000, 0xbe18442dd400000, 0xbe1880b3d800000, 0xbe18c0b43600000, 0xbe1900b44e00000,
    0xbe1940b3b000000, 0xbe1980b4cc00000, 0xbe19c06ddc00000, 0xbe1a006df800000, 0xbe1a40b61000000,
    0xbe1a80b67c00000, 0xbe1ac0b67c00000, 0xbe1b04339000000, 0xbe1b40b78600000, 0xbe1b80b7b000000,
    0xbe1bc0b7ce00000, 0xbe1c00b7e600000, 0xbe1c44363000000, 0xbe1c80b7fe00000, 0xbe1cc0b80c00000,
    0xbe1d00bea600000, 0xbe1d40b84400000, 0xbe1d806f0200000, 0xbe1dc0b8c000000, 0xbe1e00b8dc00000,
    0xbe1e40b98000000, 0xbe1e80b91a00000, 0xbe1ec43bc800000, 0xbe1f00ba8600000, 0xbe1f443bcc00000,
    0xbe1f80badc00000, 0xbe1fc0bad600000, 0xbe2000baf800000, 0xbe2040bbc200000, 0xbe2080bbc400000,
    0xbe20c0705e00000, 0xbe2100bbfa00000, 0xbe2140bc5000000, 0xbe2180bc7a00000, 0xbe21c0bcd200000,
    0xbe220070c400000, 0xbe2244430600000, 0xbe228070f800000, 0xbe22c0bd6000000, 0xbe2300bd6600000,
    0xbe2340bd6c00000, 0xbe2380bd9400000, 0xbe23c5472400000, 0xbe2400bdfc00000, 0xbe2444466200000,
    0xbe2484466200000, 0xbe24c1040200000, 0xbe2500be4400000, 0xbe2540be4400000, 0xbe2580718e00000,
    0xbe25c4657000000, 0xbe2604c3b400000, 0xbe2640bec400000, 0xbe2680bed600000, 0xbe26c071c600000,
    0xbe2700bf3400000, 0xbe2740bf9a00000, 0xbe2780bfae00000, 0xbe27c0bff200000, 0xbe2800c10200000,
    0xbe2840727400000, 0xbe2880723800000, 0xbe28c0c12800000, 0xbe29044da800000, 0xbe2940c18e00000,
    0xbe2980c29000000, 0xbe29c0c29800000, 0xbe2a00c29c00000, 0xbe2a40c29800000, 0xbe2a80c2f400000,
    0xbe2ac0c31c00000, 0xbe2b00c36400000, 0xbe2b40c34800000, 0xbe2b80c35e00000, 0xbe2bc0c3bc00000,
    0xbe2c00c3e400000, 0xbe2c40c3ec00000, 0xbe2c80c42000000, 0xbe2cc0c43600000, 0xbe2d00c4ba00000,
    0xbe2d40c56200000, 0xbe2d80c5a800000, 0xbe2dc0c6a000000, 0xbe2e04561800000, 0xbe2e40c67a00000,
    0xbe2e80c5f800000, 0xbe2ec0c6d000000, 0xbe2f00c70600000, 0xbe2f40c7c800000, 0xbe2f8457e200000,
    0xbe2fc0c84400000, 0xbe3000c78a00000, 0xbe3040c75200000, 0xbe3080745c00000, 0xbe30c0c8d200000,
    0xbe3100c8fc00000, 0xbe3140c93a00000, 0xbe3180c8ee00000, 0xbe31c074d800000, 0xbe3200ca9e00000,
    0xbe3240cad800000, 0xbe3284601400000, 0xbe32c0cbc600000, 0xbe3300cdf000000, 0xbe3340cc9200000,
    0xbe3380763200000, 0xbe33c0cd2200000, 0xbe3400761000000, 0xbe344075c800000, 0xbe3480a32400000,
    0xbe34c0a32a00000, 0xbe3500ce0000000, 0xbe3540cd3800000, 0xbe3581015a00000, 0xbe35c087b200000,
    0xbe3600ce2e00000, 0xbe3640ce3600000, 0xbe3680ce4200000, 0xbe36c0cebc00000, 0xbe3700cea600000,
    0xbe3744678600000, 0xbe3780769200000, 0xbe37c0cff400000, 0xbe3800cf0a00000, 0xbe3840d0a400000,
    0xbe3880d10a00000, 0xbe38c468da00000, 0xbe3900d11c00000, 0xbe3940d03e00000, 0xbe3980d22800000,
    0xbe39c0773a00000, 0xbe3a00d28400000, 0xbe3a40d34600000, 0xbe3a80d3d400000, 0xbe3ac0d55000000,
    0xbe3b046d4600000, 0xbe3b40d5b600000, 0xbe3b80783000000, 0xbe3bc0d64200000, 0xbe3c04714e00000,
    0xbe3c40d6a800000, 0xbe3c80789c00000, 0xbe3cc0d6e400000, 0xbe3d00d73e00000, 0xbe3d40d77400000,
    0xbe3d80d77600000, 0xbe3dc4751a00000, 0xbe3e043a1600000, 0xbe3e4475f400000, 0xbe3e80d89c00000,
    0xbe3ec4797800000, 0xbe3f00d97e00000, 0xbe3f40d99a00000, 0xbe3f80d8ce00000, 0xbe3fc0da2c00000,
    0xbe4000da7c00000, 0xbe4040daee00000, 0xbe4080da8200000, 0xbe40c0dad200000, 0xbe4100daf000000,
    0xbe4140db0a00000, 0xbe41847a3c00000, 0xbe41c0da6800000, 0xbe4200dc5e00000, 0xbe4240dcdc00000,
    0xbe42807a6600000, 0xbe42c0dd9600000, 0xbe4300dd8e00000, 0xbe43447da200000, 0xbe4380dbf200000,
    0xbe43c0dedc00000, 0xbe44047ebc00000, 0xbe44447f1c00000, 0xbe4480df8c00000, 0xbe44c0e07200000,
    0xbe4500e03c00000, 0xbe4540e03600000, 0xbe45807b2c00000, 0xbe45c0e09400000, 0xbe4600e0fa00000,
    0xbe4640e0ee00000, 0xbe4680e15a00000, 0xbe46c40a4a00000, 0xbe4700e28a00000, 0xbe474484c600000,
    0xbe4780e33800000, 0xbe47c4875600000, 0xbe4800e45000000, 0xbe4840e46a00000, 0xbe4880e4a000000,
    0xbe48c48c1000000, 0xbe4900e50000000, 0xbe4940e52a00000, 0xbe49848e6a00000, 0xbe49c4902800000,
    0xbe4a00e6f400000, 0xbe4a40e71600000, 0xbe4a807d5800000, 0xbe4ac0e74a00000, 0xbe4b007d7000000,
    0xbe4b407d7000000, 0xbe4b80e88e00000, 0xbe4bc0e8b800000, 0xbe4c00e8e200000, 0xbe4c40e90a00000,
    0xbe4c80e99400000, 0xbe4cc07e3600000, 0xbe4d00ea4800000, 0xbe4d44986c00000, 0xbe4d80ea7c00000,
    0xbe4dc4992400000, 0xbe4e00eae000000, 0xbe4e44433e00000, 0xbe4e80ec2000000, 0xbe4ec49f4200000,
    0xbe4f049f7000000, 0xbe4f44a08800000, 0xbe4f807ff800000, 0xbe4fc0801000000, 0xbe5000ede800000,
    0xbe5044a1e600000, 0xbe5084a1e400000, 0xbe50c4a23200000, 0xbe5104a26600000, 0xbe5140ee3c00000,
    0xbe5180ee3e00000, 0xbe51c0ee3e00000, 0xbe5200ee9400000, 0xbe5240807200000, 0xbe5280ef1600000,
    0xbe52c0808c00000, 0xbe5300812c00000, 0xbe5344a83a00000, 0xbe5380f09c00000, 0xbe53c0f11800000,
    0xbe5400f19800000, 0xbe544081c600000, 0xbe5484ac4c00000, 0xbe54c0f2ac00000, 0xbe5504ad3400000,
    0xbe5544ad8a00000, 0xbe5580f31e00000, 0xbe55c0f3d600000, 0xbe5600825e00000, 0xbe5640f48000000,
    0xbe5680f49400000, 0xbe56c0f49e00000, 0xbe5704b2f800000, 0xbe5744b54e00000, 0xbe5784b54e00000,
    0xbe57c0f5dc00000, 0xbe5800840400000, 0xbe5844b75600000, 0xbe5880f78c00000, 0xbe58c0f79200000,
    0xbe5900844e00000, 0xbe5944b90000000, 0xbe5980f9a400000, 0xbe59c0854000000, 0xbe5a00f9d000000,
    0xbe5a40f9c600000, 0xbe5a80fa0000000, 0xbe5ac4bf0c00000, 0xbe5b00fac600000, 0xbe5b40860200000,
    0xbe5b80fb8e00000, 0xbe5bc0fc0400000, 0xbe5c00fc8a00000, 0xbe5c40866800000, 0xbe5c84c45000000,
    0xbe5cc4c48e00000, 0xbe5d0086b200000, 0xbe5d44c5b200000, 0xbe5d80fef400000, 0xbe5dc4c67c00000,
    0xbe5e00ff2a00000, 0xbe5e40fff400000, 0xbe5e81000a00000, 0xbe5ec4c9b400000, 0xbe5f04ca4600000,
    0xbe5f4100c000000, 0xbe5f84cb5000000, 0xbe5fc100e000000, 0xbe600466be00000, 0xbe604087aa00000,
    0xbe6081016400000, 0xbe60c1020600000, 0xbe6100881600000, 0xbe6141027c00000, 0xbe6180b56a00000,
    0xbe61c4cf4e00000, 0xbe6204cf6a00000, 0xbe6244672600000, 0xbe6284673800000, 0xbe62c1040200000,
    0xbe6301040800000, 0xbe63411f3c00000, 0xbe638088d600000, 0xbe63c1052200000, 0xbe6401051600000,
    0xbe6441053a00000, 0xbe6480a56600000, 0xbe64c1056200000, 0xbe6501056600000, 0xbe6541057a00000,
    0xbe658105cc00000, 0xbe65c4d67800000, 0xbe660105ca00000, 0xbe6641063a00000, 0xbe668106c600000,
    0xbe66c1075a00000, 0xbe6701064600000, 0xbe6741077a00000, 0xbe678107ce00000, 0xbe67c108ae00000,
    0xbe680106a600000, 0xbe6841079400000, 0xbe6881079800000, 0xbe68c107b800000, 0xbe6904d86c00000,
    0xbe6944dad600000, 0xbe6984d9aa00000, 0xbe69c08a5600000, 0xbe6a0109e200000, 0xbe6a4109e600000,
    0xbe6a810a2c00000, 0xbe6ac4e79400000, 0xbe6b010ac800000, 0xbe6b44de5800000, 0xbe6b808aba00000,
    0xbe6bc08ac200000, 0xbe6c04df6200000, 0xbe6c44e1a400000, 0xbe6c808ad600000, 0xbe6cc10ca000000,
    0xbe6d010cb800000, 0xbe6d410cce00000, 0xbe6d810cd200000, 0xbe6dc10d5200000, 0xbe6e010d1000000,
    0xbe6e410e1c00000, 0xbe6e810dc400000, 0xbe6ec10ef200000, 0xbe6f010e5000000, 0xbe6f410ed600000,
    0xbe6f810f0c00000, 0xbe6fc08bae00000, 0xbe70010fc200000, 0xbe7041100200000, 0xbe70808bf200000,
    0xbe70c110c000000, 0xbe710110c600000, 0xbe7144ecce00000, 0xbe718111ae00000, 0xbe71c111bc00000,
    0xbe72008c6a00000, 0xbe724111f400000, 0xbe7280697600000, 0xbe72c4f15c00000, 0xbe7304f2cc00000,
    0xbe73408d7c00000, 0xbe73808d8e00000, 0xbe73c1154000000, 0xbe740115da00000, 0xbe7441171400000,
    0xbe748118aa00000, 0xbe74c4f95000000, 0xbe7501195600000, 0xbe7541198200000, 0xbe75811a3600000,
    0xbe75c11aee00000, 0xbe7604fe5e00000, 0xbe7644100800000, 0xbe76811b9600000, 0xbe76c11b7800000,
    0xbe77011be000000, 0xbe774411bc00000, 0xbe77811da800000, 0xbe77c11e7000000, 0xbe78050ba400000,
    0xbe78450bda00000, 0xbe7881212800000, 0xbe78c121e200000, 0xbe7901222200000, 0xbe79450e5c00000,
    0xbe7981223600000, 0xbe79c1247000000, 0xbe7a0125ae00000, 0xbe7a4125b000000, 0xbe7a8124f800000,
    0xbe7ac127f200000, 0xbe7b01282a00000, 0xbe7b4517f400000, 0xbe7b812b1600000, 0xbe7bc0932a00000,
    0xbe7c012b6e00000, 0xbe7c451aee00000, 0xbe7c8093cc00000, 0xbe7cc12d8600000, 0xbe7d00bb6400000,
    0xbe7d412e4600000, 0xbe7d85228a00000, 0xbe7dc5243400000, 0xbe7e0094dc00000, 0xbe7e4094ec00000,
    0xbe7e812fc000000, 0xbe7ec5281400000, 0xbe7f00956400000, 0xbe7f45292c00000, 0xbe7f81301600000,
    0xbe7fc1301600000, 0xbe8001305200000, 0xbe80452b6c00000, 0xbe808131c400000, 0xbe80c0966600000,
    0xbe8101325200000, 0xbe8141334e00000, 0xbe8181338400000, 0xbe81c133fc00000, 0xbe8200979c00000,
    0xbe8245366000000, 0xbe8281362400000, 0xbe82c1388000000, 0xbe830139fa00000, 0xbe8340999c00000,
    0xbe838099da00000, 0xbe83c13ace00000, 0xbe8405419c00000, 0xbe844099f000000, 0xbe8485420a00000,
    0xbe84c5441c00000, 0xbe8505452200000, 0xbe85413d7600000, 0xbe85809aac00000, 0xbe85c13df200000,
    0xbe86013dfc00000, 0xbe86413e0a00000, 0xbe86813e1e00000, 0xbe86c13e2c00000, 0xbe87013e7600000,
    0xbe87454c0000000,
];
// END GENERATED CHARACTER TABLE

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
        let symbols = byte_symbols();
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

    fn toy() -> ClipTokenizer {
        let vocab = serde_json::to_vec(&toy_vocab()).expect("serializable");
        let merges_txt = format!("#version: 0.2\n{}\n", TOY_MERGES.join("\n"));
        ClipTokenizer::from_bytes(&vocab, merges_txt.as_bytes()).expect("toy vocab loads")
    }

    fn id(token: &str) -> u32 {
        let id = toy_vocab()[token]
            .as_u64()
            .expect("token in the toy vocabulary");
        u32::try_from(id).expect("small id")
    }

    #[test]
    fn byte_table_is_a_bijection_onto_printable_chars() {
        let s = byte_symbols();
        let mut seen = std::collections::HashSet::new();
        for c in s {
            assert!(!c.is_whitespace() && !c.is_control(), "{c:?}");
            assert!(seen.insert(c));
        }
        assert_eq!(s[b'a' as usize], 'a');
        assert_eq!(s[b' ' as usize], 'Ġ');
        assert_eq!(s[0], 'Ā');
        assert_eq!(s[0xAD], 'Ń');
    }

    #[test]
    fn encodes_with_merges_and_special_tokens() {
        let t = toy();
        assert_eq!(t.bos_id(), 512 + 9);
        assert_eq!(t.eos_id(), 512 + 10);
        assert_eq!(t.pad_id(), t.eos_id());
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
        // A special token in the text, and one written in capitals (found again after lowercasing).
        assert_eq!(
            t.encode("<|endoftext|>"),
            vec![t.bos_id(), t.eos_id(), t.eos_id()]
        );
        assert_eq!(
            t.encode("<|ENDOFTEXT|>"),
            vec![t.bos_id(), t.eos_id(), t.eos_id()]
        );
        // Unmerged bytes stay single symbols; the last one carries </w>.
        assert_eq!(
            t.encode("hi"),
            vec![t.bos_id(), id("h"), id("i</w>"), t.eos_id()]
        );
    }

    #[test]
    fn cleanup_cjk_and_pieces() {
        let t = toy();
        let words: Vec<String> = t
            .words("It's 2 A\u{200d}B\t我们!?")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(words, ["it", "'s", "2", "ab", "我", "们", "!?"]);
        let words: Vec<String> = t
            .words("a\u{345}b 'ſ x\u{2028}y")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(words, ["a", "b", "'ſ", "x", "y"]);
        let words: Vec<String> = t.words("ΟΔΟΣ İ").into_iter().map(|w| w.0).collect();
        assert_eq!(words, ["οδος", "i", "\u{307}"]);
        let words: Vec<String> = t.words("cafe\u{301}").into_iter().map(|w| w.0).collect();
        assert_eq!(words, ["café"]);
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_table() {
        for b in 0u8..0x80 {
            let c = b as char;
            assert_eq!(class_of(c), props(c).0, "{c:?}");
        }
        assert_eq!(props('\u{345}').0, Class::Skip);
        assert_eq!(props('\u{2028}').0, Class::Split);
        assert_eq!(
            props('\u{1fae8}').0,
            Class::Remove,
            "unassigned in Unicode 14"
        );
    }

    #[test]
    fn final_sigma_follows_python() {
        assert_eq!(lowercase("ΟΔΟΣ"), "\u{3bf}\u{3b4}\u{3bf}\u{3c2}");
        assert_eq!(lowercase("ΑΣ"), "ας");
        assert_eq!(lowercase("Σ"), "σ");
        assert_eq!(lowercase("ΑΣΑ"), "ασα");
        assert_eq!(lowercase("ΑΣ\u{301}"), "ας\u{301}");
        // U+0295 is cased in Unicode 14 (Python 3.11) but not in std's newer tables.
        assert_eq!(lowercase("ΑΣ\u{295}"), "ασ\u{295}");
        assert_eq!(lowercase("Α\u{295}Σ"), "α\u{295}ς");
        assert_eq!(lowercase("İ"), "i\u{307}");
    }

    #[test]
    fn words_cover_the_encoding() {
        let t = toy();
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

    #[test]
    fn padding_keeps_the_end_token() {
        let t = toy();
        let p = t.encode_padded("hello", 6);
        assert_eq!(
            p,
            vec![
                t.bos_id(),
                id("hello</w>"),
                t.eos_id(),
                t.pad_id(),
                t.pad_id(),
                t.pad_id()
            ]
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
            ClipTokenizer::from_bytes(br#"{"a": 0}"#, b"#version: 0.2\na b"),
            Err(TokenizerError::MissingSpecialToken(BOS_TOKEN))
        ));
        let v = br#"{"<|startoftext|>": 0, "<|endoftext|>": 1}"#;
        assert!(matches!(
            ClipTokenizer::from_bytes(v, b"#version: 0.2\na b c"),
            Err(TokenizerError::BadMergeLine { line: 2, fields: 3 })
        ));
        assert!(matches!(
            ClipTokenizer::from_bytes(v, b"\xff"),
            Err(TokenizerError::MergesUtf8(0))
        ));
        // Symbols missing from the vocabulary become the unknown token.
        let t = ClipTokenizer::from_bytes(v, b"#version: 0.2\n").expect("loads");
        assert_eq!(t.encode("ab"), vec![0, 1, 1, 1]);
        let err = ClipTokenizer::from_bytes(b"{", b"").expect_err("bad json");
        assert!(err.to_string().contains("vocab.json"));
    }

    #[test]
    fn tokenizer_json_matches_vocab_and_merges() {
        let t = toy();
        let vocab = toy_vocab();
        let merges = TOY_MERGES;
        let json = serde_json::json!({"model": {"type": "BPE", "vocab": vocab, "merges": merges}});
        let u = ClipTokenizer::from_tokenizer_json(json.to_string().as_bytes()).expect("loads");
        for text in ["hello cat's", "It's <|endoftext|>", ""] {
            assert_eq!(t.encode(text), u.encode(text));
        }
        let pairs: Vec<[&str; 2]> = merges
            .iter()
            .map(|m| {
                let (a, b) = m.split_once(' ').expect("pair");
                [a, b]
            })
            .collect();
        let json = serde_json::json!({"model": {"type": "BPE", "vocab": vocab, "merges": pairs}});
        let u = ClipTokenizer::from_tokenizer_json(json.to_string().as_bytes()).expect("loads");
        assert_eq!(t.encode("hello cat"), u.encode("hello cat"));
        assert!(matches!(
            ClipTokenizer::from_tokenizer_json(br#"{"model": {"type": "WordPiece"}}"#),
            Err(TokenizerError::TokenizerJson(_))
        ));
    }
}
