//! `preprocess` against transformers' CLIPImageProcessor (fixtures written by
//! `scripts/reference/preprocess.py`), plus the limit and corrupt-input error paths.

use std::path::{Path, PathBuf};

use leakscope::preprocess::{
    DecodeOptions, PreprocessConfig, PreprocessError, prepare_bytes, preprocess_bytes,
    preprocess_bytes_with,
};
use serde_json::Value;

/// Tolerances on normalised values (one 8-bit level is about 0.015).
const MAX_MEAN_ABS: f64 = 0.01;
const MAX_ABS: f64 = 0.1;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/preprocess")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Minimal safetensors reader (F32 tensors only): name -> (shape, values).
fn safetensors_f32(bytes: &[u8], name: &str) -> (Vec<usize>, Vec<f32>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let t = &header[name];
    assert_eq!(t["dtype"], "F32", "{name}");
    let shape = t["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let (b, e) = (
        t["data_offsets"][0].as_u64().unwrap() as usize,
        t["data_offsets"][1].as_u64().unwrap() as usize,
    );
    let data = bytes[8 + n + b..8 + n + e]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    (shape, data)
}

/// The reference uint8 crop (HWC, from the expected PNG) and its normalised [3,H,W] values,
/// computed with transformers' arithmetic (f64 rescale, f32 normalise).
fn expected_from_png(cfg: &PreprocessConfig, path: &Path) -> (Vec<u8>, Vec<f32>, usize, usize) {
    let img = image::load_from_memory(&read(path)).unwrap().to_rgb8();
    let (w, h) = (img.width() as usize, img.height() as usize);
    let u8s = img.into_raw();
    let mut out = vec![0f32; 3 * w * h];
    for c in 0..3 {
        for i in 0..w * h {
            let x = (f64::from(u8s[i * 3 + c]) * cfg.rescale_factor) as f32;
            out[c * w * h + i] = (x - cfg.image_mean[c] as f32) / cfg.image_std[c] as f32;
        }
    }
    (u8s, out, h, w)
}

#[test]
fn matches_clip_image_processor() {
    let dir = fixtures();
    let index: Value = serde_json::from_slice(&read(&dir.join("index.json"))).unwrap();
    let st = read(&dir.join("reference.safetensors"));
    let entries = index["entries"].as_array().unwrap();
    assert!(entries.len() >= 20);

    let (mut sum, mut count, mut worst) = (0f64, 0usize, 0f64);
    let mut failures = Vec::new();
    println!(
        "{:<42} {:>6} {:>12} {:>10} {:>10}",
        "entry", "mode", "shape", "mean|d|", "max|d|"
    );
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let cfg = match &e["config"] {
            Value::Null => PreprocessConfig::default(),
            v => PreprocessConfig::from_json_bytes(&serde_json::to_vec(v).unwrap()).unwrap(),
        };
        let opts = DecodeOptions {
            apply_exif_orientation: e["apply_exif_orientation"].as_bool().unwrap_or(false),
            ..DecodeOptions::default()
        };
        let bytes = read(&dir.join(e["image"].as_str().unwrap()));
        let got = preprocess_bytes_with(&cfg, &bytes, &opts)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let shape: Vec<usize> = e["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(got.shape().to_vec(), shape, "{name}");

        let mut level_note = String::new();
        let want = if let Some(png) = e["expected_uint8_png"].as_str() {
            let (ref_u8, want, h, w) = expected_from_png(&cfg, &dir.join(png));
            assert_eq!((h, w), (got.height, got.width), "{name}");
            let mine = prepare_bytes(&cfg, &bytes, &opts).unwrap();
            let diffs: Vec<u8> = mine
                .data
                .iter()
                .zip(&ref_u8)
                .map(|(a, b)| a.abs_diff(*b))
                .collect();
            let n = diffs.iter().filter(|&&d| d != 0).count();
            level_note = format!(
                "  u8: {n} values differ, max {}",
                diffs.iter().max().unwrap()
            );
            want
        } else {
            let (s, want) = safetensors_f32(&st, e["tensor"].as_str().unwrap());
            assert_eq!(s, shape, "{name}");
            want
        };
        let (mut s, mut m) = (0f64, 0f64);
        for (a, b) in got.data.iter().zip(&want) {
            let d = f64::from((a - b).abs());
            s += d;
            m = m.max(d);
        }
        let mean = s / want.len() as f64;
        println!(
            "{name:<42} {:>6} {:>12} {mean:>10.2e} {m:>10.2e}{level_note}",
            e["pil_mode"].as_str().unwrap(),
            format!("{shape:?}"),
        );
        if mean > MAX_MEAN_ABS || m > MAX_ABS {
            failures.push(format!("{name}: mean {mean:.3e} max {m:.3e}"));
        }
        sum += s;
        count += want.len();
        worst = worst.max(m);
    }
    let overall = sum / count as f64;
    println!(
        "overall: mean |d| {overall:.3e}, max |d| {worst:.3e} over {} entries",
        entries.len()
    );
    assert!(failures.is_empty(), "over tolerance: {failures:#?}");
    assert!(overall <= MAX_MEAN_ABS && worst <= MAX_ABS);
}

/// A PNG whose IHDR claims `width` x `height` (valid CRCs, a token IDAT, no real pixel data).
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    let idat = b"IDAT\x78\x9c\x63\x00\x00\x00\x01\x00\x01";
    png.extend_from_slice(&9u32.to_be_bytes());
    png.extend_from_slice(idat);
    png.extend_from_slice(&crc32(idat).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

#[test]
fn rejects_oversized_images_before_decoding() {
    let cfg = PreprocessConfig::default();
    // 100k x 100k = 10 Gpixels: rejected from the header alone (a decode would need 30 GB).
    let err = preprocess_bytes(&cfg, &png_header_only(100_000, 100_000)).unwrap_err();
    assert!(
        matches!(
            err,
            PreprocessError::TooLarge {
                width: 100_000,
                height: 100_000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("downscale"), "{err}");
    // 10000 x 7000 = 70 Mpixels, under the side limit but over 64 Mi pixels.
    let err = preprocess_bytes(&cfg, &png_header_only(10_000, 7_000)).unwrap_err();
    assert!(matches!(err, PreprocessError::TooLarge { .. }), "{err}");
    // 70000 x 1: over the side limit.
    let err = preprocess_bytes(&cfg, &png_header_only(70_000, 1)).unwrap_err();
    assert!(matches!(err, PreprocessError::TooLarge { .. }), "{err}");

    // Real files against tighter limits, in every format.
    let tight = DecodeOptions {
        max_pixels: 10_000,
        ..DecodeOptions::default()
    };
    for f in [
        "rgb_225x300.png",
        "jpeg_420_640x480.jpg",
        "webp_lossy_300x200.webp",
        "gif_240x200.gif",
    ] {
        let bytes = read(&fixtures().join("images").join(f));
        let err = preprocess_bytes_with(&cfg, &bytes, &tight).unwrap_err();
        assert!(
            matches!(err, PreprocessError::TooLarge { .. }),
            "{f}: {err}"
        );
    }
    let narrow = DecodeOptions {
        max_side: 100,
        ..DecodeOptions::default()
    };
    let bytes = read(&fixtures().join("images/rgb_wide_1000x7.png"));
    let err = preprocess_bytes_with(&cfg, &bytes, &narrow).unwrap_err();
    assert!(
        matches!(
            err,
            PreprocessError::TooLarge {
                width: 1000,
                height: 7,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn corrupt_and_truncated_bytes_are_errors() {
    let cfg = PreprocessConfig::default();
    let dir = fixtures().join("images");
    for f in [
        "rgb_225x300.png",
        "palette_P_256x192.png",
        "jpeg_420_640x480.jpg",
        "jpeg_progressive_400x300.jpg",
        "webp_lossy_300x200.webp",
        "webp_lossless_300x200.webp",
        "gif_240x200.gif",
    ] {
        let bytes = read(&dir.join(f));
        let mut cuts = vec![bytes.len() / 2, bytes.len() * 9 / 10, 40, 12];
        if f.ends_with(".jpg") {
            cuts.push(bytes.len() - 2); // only the end-of-image marker missing: Pillow refuses too
        }
        for cut in cuts {
            let err = preprocess_bytes(&cfg, &bytes[..cut]);
            assert!(err.is_err(), "{f} cut to {cut} bytes decoded without error");
            let err = err.unwrap_err();
            assert!(
                matches!(
                    err,
                    PreprocessError::Decode { .. } | PreprocessError::UnknownFormat(_)
                ),
                "{f} cut to {cut}: {err:?}"
            );
        }
        // Garbage after a valid header.
        let mut broken = bytes.clone();
        let keep = 64.min(broken.len());
        for b in &mut broken[keep..] {
            *b = 0xA5;
        }
        assert!(
            preprocess_bytes(&cfg, &broken).is_err(),
            "{f} with garbage body decoded"
        );
    }
}
