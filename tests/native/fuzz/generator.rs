//! Building blocks for structure-aware generators: numbers biased to the boundaries parsers
//! get wrong (0, 2^31, 2^32, 2^63, u64::MAX), hostile text (markup, NUL, bidi overrides,
//! combining marks, unassigned and private-use code points, special tokens), random JSON, and
//! byte mutations (cut, flip, repeat) of a valid file. Every method is infallible: when the
//! random bytes run out, arbitrary hands back zeros, so generation always finishes.

use arbtest::arbitrary::Unstructured;
use serde_json::{Map, Value, json};

pub struct Gen<'a, 'b> {
    u: &'b mut Unstructured<'a>,
}

/// Characters that break parsers, renderers and tokenizers.
const HOSTILE: &[&str] = &[
    "<",
    ">",
    "\"",
    "'",
    "&",
    "\\",
    "\0",
    "\n",
    "\r\n",
    "\t",
    " ",
    "\u{202E}",
    "\u{202D}",
    "\u{200F}",
    "\u{200D}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{FFFD}",
    "\u{0301}",
    "\u{0345}",
    "ſ",
    "İ",
    "Σ",
    "ς",
    "中",
    "文",
    "\u{20000}",
    "🫨",
    "😀",
    "👩\u{200D}💻",
    "\u{E000}",
    "\u{10FFFF}",
    "\u{2028}",
    "\u{2029}",
    "\u{00A0}",
    "ß",
    "ﬃ",
    "ع",
    "क्",
    "\u{1F1FA}\u{1F1F8}",
    "<|endoftext|>",
    "<|startoftext|>",
    "<img src=x onerror=alert(1)>",
    "</script>",
    "javascript:alert(1)",
    "{{",
    "}}",
    "%s",
    "\u{7F}",
    "\u{85}",
    "\u{1B}[31m",
];

impl<'a, 'b> Gen<'a, 'b> {
    pub fn new(u: &'b mut Unstructured<'a>) -> Self {
        Self { u }
    }

    pub fn byte(&mut self) -> u8 {
        self.u.arbitrary().unwrap_or(0)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        self.u.int_in_range(lo..=hi).unwrap_or(lo)
    }

    /// `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        self.range(0, n as u64 - 1) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u8) -> bool {
        self.range(0, 99) < u64::from(percent)
    }

    pub fn pick<'c, T>(&mut self, items: &'c [T]) -> &'c T {
        &items[self.below(items.len())]
    }

    /// Up to `max` random bytes.
    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.byte()).collect()
    }

    /// A size or id, biased to the boundaries.
    pub fn number(&mut self) -> u64 {
        const EDGES: &[u64] = &[
            0,
            1,
            2,
            3,
            7,
            255,
            256,
            65_535,
            65_536,
            (1 << 24) + 1,
            (1 << 31) - 1,
            1 << 31,
            (1 << 32) - 1,
            1 << 32,
            1 << 53,
            (1 << 63) - 1,
            1 << 63,
            u64::MAX,
        ];
        match self.range(0, 3) {
            0 => *self.pick(EDGES),
            1 => self.range(0, 100),
            2 => self.range(0, 1 << 20),
            _ => self.u.arbitrary().unwrap_or(0),
        }
    }

    /// A JSON number (or something standing in one's place) as text: huge, tiny, negative,
    /// fractional, out of every integer type's range, or not a number at all.
    pub fn number_json(&mut self) -> String {
        const ODD: &[&str] = &[
            "0",
            "-0",
            "-1",
            "0.5",
            "1e309",
            "-1e309",
            "1e-320",
            "18446744073709551616",
            "9223372036854775808",
            "-9223372036854775809",
            "2147483648",
            "4294967296",
            "1e2",
            "1E+2",
            "\"3\"",
            "null",
            "true",
            "[]",
            "{}",
            "NaN",
            "Infinity",
            "0x10",
            "01",
        ];
        match self.range(0, 2) {
            0 => (*self.pick(ODD)).to_owned(),
            1 => self.number().to_string(),
            _ => {
                let bits: u64 = self.u.arbitrary().unwrap_or(0);
                let f = f64::from_bits(bits);
                if f.is_finite() {
                    format!("{f:e}")
                } else {
                    "1e400".to_owned()
                }
            }
        }
    }

    /// Text up to `max` pieces long: printable ASCII, hostile characters, random code points.
    pub fn text(&mut self, max: usize) -> String {
        let n = self.below(max + 1);
        let mut s = String::new();
        for _ in 0..n {
            match self.range(0, 5) {
                0 | 1 => s.push(char::from(self.range(0x20, 0x7E) as u8)),
                2 => {
                    let piece: &&str = self.pick(HOSTILE);
                    s.push_str(piece)
                }
                3 => s.push(self.scalar()),
                4 => s.push(*self.pick(&['a', 'e', 's', 't', ' ', 'o', 'n'])),
                _ => {
                    let word: &&str =
                        self.pick(&["the ", "bomb ", "how ", "to ", "make ", "'s ", "'ll "]);
                    s.push_str(word)
                }
            }
        }
        s
    }

    /// Any Unicode scalar value (surrogates mapped away).
    pub fn scalar(&mut self) -> char {
        let planes = [0x80, 0x800, 0x1_0000, 0x11_0000];
        let top = *self.pick(&planes);
        let v = self.range(0, top - 1) as u32;
        char::from_u32(v).unwrap_or('\u{FFFD}')
    }

    /// A word of `[a-z0-9_]`, 1..=max characters.
    pub fn word(&mut self, max: usize) -> String {
        let n = 1 + self.below(max.max(1));
        (0..n)
            .map(|_| *self.pick(b"abcdefghijklmnopqrstuvwxyz0123456789_") as char)
            .collect()
    }

    /// A random JSON value at most `depth` deep.
    pub fn json(&mut self, depth: u32) -> Value {
        let kinds = if depth == 0 { 4 } else { 6 };
        match self.range(0, kinds - 1) {
            0 => Value::Null,
            1 => Value::Bool(self.chance(50)),
            2 => serde_json::from_str(&self.number_json()).unwrap_or(json!(-1)),
            3 => Value::String(self.text(12)),
            4 => Value::Array((0..self.below(4)).map(|_| self.json(depth - 1)).collect()),
            _ => {
                let mut map = Map::new();
                for _ in 0..self.below(4) {
                    let key = self.text(6);
                    map.insert(key, self.json(depth - 1));
                }
                Value::Object(map)
            }
        }
    }

    /// A value of a random type for a field that expects `good`: mostly `good`, else a wrong
    /// type, a hostile string, null, a huge number, or a deep array.
    pub fn field(&mut self, good: Value) -> Value {
        match self.range(0, 9) {
            0..=5 => good,
            6 => self.json(2),
            7 => Value::String(self.text(40)),
            8 => serde_json::from_str(&self.number_json()).unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// A few random edits to `bytes`: cut, flip, insert, repeat a slice.
    pub fn mutate(&mut self, bytes: &mut Vec<u8>, edits: usize) {
        for _ in 0..self.below(edits + 1) {
            if bytes.is_empty() {
                bytes.push(self.byte());
                continue;
            }
            let at = self.below(bytes.len());
            match self.range(0, 4) {
                0 => bytes.truncate(at),
                1 => bytes[at] ^= 1 << self.range(0, 7),
                2 => bytes[at] = self.byte(),
                3 => {
                    let extra = self.bytes(8);
                    bytes.splice(at..at, extra);
                }
                _ => {
                    let end = (at + 1 + self.below(64)).min(bytes.len());
                    let slice = bytes[at..end].to_vec();
                    bytes.splice(at..at, slice);
                }
            }
        }
    }
}
