//! Image decoding and preprocessing (`preprocess_bytes_with`): PNGs written here chunk by chunk
//! (every bit depth and colour type, palettes with and without `tRNS`, interlacing, absurd
//! IHDR sizes, data too short or too long), the fixtures' PNG, JPEG, GIF and WebP files with
//! their size fields patched (a 65,535 × 65,535 JPEG frame, a GIF frame outside its screen, a
//! 16,384-pixel WebP), and those files cut or bit-flipped. A typed error or a 224 × 224 input is
//! a pass; the memory budget is what the limits allow (small limits here, so a case is cheap:
//! the default limits have their own tests).

use std::sync::OnceLock;

use leakscope::preprocess::{DecodeOptions, PreprocessConfig, preprocess_bytes_with};

use super::Gen;

/// Limits for fuzzing: 1 Mi pixels, 32 MiB per decoder.
pub fn fuzz_limits() -> DecodeOptions {
    DecodeOptions {
        max_side: 4096,
        max_pixels: 1 << 20,
        max_decode_alloc: 32 << 20,
        ..DecodeOptions::default()
    }
}

fn corpus() -> &'static [Vec<u8>] {
    static FILES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = crate::common::fixture("preprocess/images");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        paths
            .into_iter()
            // The big photo is slow to resize in a debug build; it adds nothing here.
            .filter(|p| !p.to_string_lossy().contains("1200x900"))
            .map(crate::common::read)
            .collect()
    })
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// zlib with stored (uncompressed) deflate blocks: any raw scanlines, no compressor needed.
pub fn zlib_stored(raw: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if raw.is_empty() {
        vec![&[]]
    } else {
        raw.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in raw {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// A PNG with the given IHDR fields (depth, colour type, interlace) and `raw` scanlines; a
/// palette for colour type 3, and a `tRNS` chunk when `trns`.
pub fn png(width: u32, height: u32, ihdr_tail: [u8; 3], trns: bool, raw: &[u8]) -> Vec<u8> {
    let [depth, colour, interlace] = ihdr_tail;
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour, 0, 0, interlace]);
    chunk(&mut out, b"IHDR", &ihdr);
    if colour == 3 {
        chunk(&mut out, b"PLTE", &[255, 0, 0, 0, 255, 0, 0, 0, 255]);
    }
    if trns {
        chunk(&mut out, b"tRNS", &[0, 128]);
    }
    chunk(&mut out, b"IDAT", &zlib_stored(raw));
    chunk(&mut out, b"IEND", &[]);
    out
}

fn generated_png(g: &mut Gen<'_, '_>) -> Vec<u8> {
    let (colour, depth) = *g.pick(&[
        (0u8, 1u8),
        (0, 2),
        (0, 4),
        (0, 8),
        (0, 16),
        (2, 8),
        (2, 16),
        (3, 1),
        (3, 2),
        (3, 4),
        (3, 8),
        (4, 8),
        (4, 16),
        (6, 8),
        (6, 16),
        (1, 8),
        (2, 3),
    ]);
    let small = |g: &mut Gen<'_, '_>| g.range(1, 24) as u32;
    let (w, h) = match g.range(0, 5) {
        0 => (g.number() as u32, small(g)),
        1 => (small(g), g.number() as u32),
        2 => (g.range(2000, 70_000) as u32, g.range(2000, 70_000) as u32),
        _ => (small(g), small(g)),
    };
    let channels = match colour {
        2 => 3,
        4 => 2,
        6 => 4,
        _ => 1,
    };
    let row = (u64::from(w) * channels * u64::from(depth)).div_ceil(8) + 1;
    let want = row.saturating_mul(u64::from(h)).min(1 << 16) as usize;
    let len = match g.range(0, 3) {
        0 => g.below(want + 1),
        1 => want + g.below(64),
        _ => want,
    };
    let mut raw: Vec<u8> = (0..len).map(|_| g.byte()).collect();
    // Valid filter bytes at row starts, mostly.
    if row > 0 {
        for (i, b) in raw.iter_mut().enumerate() {
            if (i as u64).is_multiple_of(row) {
                *b %= 5;
            }
        }
    }
    let interlace = u8::from(g.chance(15));
    let trns = g.chance(20);
    png(w, h, [depth, colour, interlace], trns, &raw)
}

/// Writes `value` big-endian (`n` bytes) at `at`, when it fits.
fn put_be(file: &mut [u8], at: usize, n: usize, value: u64) {
    if at + n <= file.len() {
        for k in 0..n {
            file[at + k] = (value >> (8 * (n - 1 - k))) as u8;
        }
    }
}

fn put_le(file: &mut [u8], at: usize, n: usize, value: u64) {
    if at + n <= file.len() {
        for k in 0..n {
            file[at + k] = (value >> (8 * k)) as u8;
        }
    }
}

/// A fixture with its size fields set to `w` × `h` (checksums fixed where there are any).
fn patched(g: &mut Gen<'_, '_>, mut file: Vec<u8>) -> Vec<u8> {
    let w = if g.chance(50) {
        g.number()
    } else {
        g.range(1, 70_000)
    };
    let h = if g.chance(50) {
        g.number()
    } else {
        g.range(1, 70_000)
    };
    if file.starts_with(b"\x89PNG") {
        put_be(&mut file, 16, 4, w);
        put_be(&mut file, 20, 4, h);
        let crc = crc32(&file[12..29.min(file.len())]);
        put_be(&mut file, 29, 4, u64::from(crc));
    } else if file.starts_with(&[0xFF, 0xD8]) {
        // Every SOFn segment: height at +5, width at +7.
        let mut i = 2;
        while i + 9 < file.len() {
            if file[i] == 0xFF && matches!(file[i + 1], 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB) {
                put_be(&mut file, i + 5, 2, h);
                put_be(&mut file, i + 7, 2, w);
            }
            i += 1;
        }
    } else if file.starts_with(b"GIF") {
        put_le(&mut file, 6, 2, w);
        put_le(&mut file, 8, 2, h);
        // The first image descriptor: left, top, width, height.
        if let Some(at) = file.iter().position(|&b| b == 0x2C) {
            for k in 0..4 {
                let v = if g.chance(50) {
                    g.number()
                } else {
                    g.range(0, 300)
                };
                put_le(&mut file, at + 1 + 2 * k, 2, v);
            }
        }
    } else if file.starts_with(b"RIFF") {
        // VP8X canvas (24-bit minus one), VP8L (14-bit minus one), VP8 (14-bit) sizes.
        if let Some(at) = find(&file, b"VP8X") {
            put_le(&mut file, at + 12, 3, w.saturating_sub(1));
            put_le(&mut file, at + 15, 3, h.saturating_sub(1));
        }
        if let Some(at) = find(&file, b"VP8L") {
            let bits = (w.saturating_sub(1) & 0x3FFF) | ((h.saturating_sub(1) & 0x3FFF) << 14);
            let version = u64::from(file.get(at + 12).copied().unwrap_or(0)) & 0xF0;
            put_le(&mut file, at + 9, 4, bits | (version << 24));
        }
        if let Some(at) = find(&file, b"VP8 ") {
            put_le(&mut file, at + 14, 2, w & 0x3FFF);
            put_le(&mut file, at + 16, 2, h & 0x3FFF);
        }
    }
    file
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn generate(g: &mut Gen<'_, '_>) -> super::Input {
    let corpus = corpus();
    let mut file = match g.range(0, 3) {
        0 => generated_png(g),
        1 => {
            let base = g.pick(corpus).clone();
            patched(g, base)
        }
        _ => g.pick(corpus).clone(),
    };
    if g.chance(60) {
        g.mutate(&mut file, 4);
    }
    Ok(file)
}

fn check(input: &[u8]) {
    let config = PreprocessConfig::default();
    if let Ok(t) = preprocess_bytes_with(&config, input, &fuzz_limits()) {
        assert_eq!((t.height, t.width, t.data.len()), (224, 224, 3 * 224 * 224));
        assert!(t.data.iter().all(|v| v.is_finite()));
    }
}

// 1 Mi pixels decoded as RGBA and converted (≈ 8 bytes a pixel), one 32 MiB decoder
// allocation, the crop: well under this when the limits hold.
fuzz_target!("image", cases: 260, size_max: 32768, memory: 96 << 20);
