//! Byte-level BPE with CLIP's `</w>` end-of-word suffix, the one model both references share.
//!
//! A word's UTF-8 bytes become the 256 printable byte symbols (the GPT-2/CLIP table), `</w>` is
//! glued to the last one, and merges are applied lowest rank first, every non-overlapping
//! occurrence left to right. That is OpenAI's `bpe()`; the tokenizers library merges one
//! occurrence at a time from a priority queue, which gives the same words whenever every merge
//! ranks after the merges that made its parts, as in CLIP's list.

use std::collections::HashMap;

use super::TokenizerError;

/// A symbol during BPE: `sym` indexes the merge table (or is [`NO_SYM`] when the symbol takes part
/// in no merge), `id` is its vocabulary id (or the unknown id, or [`NO_ID`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Sym {
    sym: u32,
    id: u32,
}

const NO_SYM: u32 = u32::MAX;
/// A symbol missing from the vocabulary when there is no unknown token: it is left out.
const NO_ID: u32 = u32::MAX;

/// What to do with a merge whose parts or result are not in the vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MissingMerge {
    /// Refuse the files, as the tokenizers library does.
    Error,
    /// Keep the merge; the missing token becomes the unknown id (OpenAI's tokenizer builds its
    /// vocabulary from the merges, so it never meets one).
    Unknown,
}

#[derive(Clone, Debug)]
pub(super) struct Bpe {
    /// Initial symbol of each byte inside a word, and of each byte ending a word (`…</w>`).
    byte_sym: [Sym; 256],
    byte_sym_end: [Sym; 256],
    /// (left, right) → (rank, merged symbol).
    merges: HashMap<(u32, u32), (u32, u32)>,
    /// Vocabulary id of every merge symbol.
    sym_ids: Vec<u32>,
    max_vocab_id: Option<u32>,
}

impl Bpe {
    pub(super) fn new(
        vocab: &HashMap<String, u32>,
        merges: Vec<(String, String)>,
        unk: Option<u32>,
        missing: MissingMerge,
    ) -> Result<Self, TokenizerError> {
        let unk_id = unk.unwrap_or(NO_ID);
        let lookup = |s: &str| vocab.get(s).copied().unwrap_or(unk_id);
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
            let merged = format!("{a}{b}");
            if missing == MissingMerge::Error
                && let Some(token) = [&a, &b, &merged]
                    .into_iter()
                    .find(|t| !vocab.contains_key(*t))
            {
                return Err(TokenizerError::MergeNotInVocab {
                    rank,
                    token: token.clone(),
                });
            }
            let merged = intern(merged);
            let (l, r) = (intern(a), intern(b));
            // A repeated merge keeps its last rank, in Python's dict and in tokenizers' map alike.
            table.insert((l, r), (rank as u32, merged));
        }
        let symbols = byte_symbols();
        let mut byte_sym = [Sym {
            sym: NO_SYM,
            id: unk_id,
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
            byte_sym,
            byte_sym_end,
            merges: table,
            sym_ids,
            max_vocab_id: vocab.values().copied().max(),
        })
    }

    /// The largest id in the vocabulary: every id [`encode_word`](Self::encode_word) can
    /// produce is one of them (a hostile vocab.json may number an entry far past the model's
    /// embedding table, even at `u32::MAX`).
    pub(super) fn max_id(&self) -> Option<u32> {
        self.max_vocab_id
    }

    /// The token ids of one word, appended to `ids`.
    pub(super) fn encode_word(&self, word: &str, ids: &mut Vec<u32>) {
        let bytes = word.as_bytes();
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
        ids.extend(word.iter().map(|s| s.id).filter(|&id| id != NO_ID));
    }
}

/// The printable stand-in of each byte (the GPT-2/CLIP byte-level table): printable non-space
/// Latin-1 bytes map to themselves, the other 68 to U+0100.. in byte order.
pub(super) fn byte_symbols() -> [char; 256] {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn merges_outside_the_vocabulary() {
        let vocab: HashMap<String, u32> = [("a", 0), ("b</w>", 1)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let merges = vec![("a".to_owned(), "b</w>".to_owned())];
        let err = Bpe::new(&vocab, merges.clone(), Some(9), MissingMerge::Error)
            .expect_err("ab</w> is missing");
        assert!(err.to_string().contains("ab</w>"), "{err}");
        let bpe = Bpe::new(&vocab, merges, Some(9), MissingMerge::Unknown).expect("lenient");
        let mut ids = Vec::new();
        bpe.encode_word("ab", &mut ids);
        assert_eq!(ids, [9]);
    }
}
