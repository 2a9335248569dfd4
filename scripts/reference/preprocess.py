"""Reference fixtures for `src/preprocess.rs` (CLIPImageProcessor semantics).

Generates small test images of many kinds (sizes, aspect ratios, PIL modes, file formats),
runs transformers' CLIPImageProcessor on each one exactly as a user would (PIL image in,
numpy out) and stores the result under tests/fixtures/preprocess/:

    images/<name>.<ext>        the inputs, generated here (deterministic)
    expected/<entry>.png       for 224x224 default-config outputs: the uint8 RGB crop that the
                               processor normalised, recovered from its float output and checked
                               to reproduce that output bit for bit (PNG keeps the folder small)
    reference.safetensors      for the small non-default-config outputs: the float32
                               pixel_values themselves, [3, H, W]
    index.json                 entry -> image file, config, PIL mode, sizes, where the
                               expected output lives

Regenerate (from the repository root):

    /work/venv-ref/bin/python scripts/reference/preprocess.py

Pinned reference: transformers==4.57.1, pillow==11.3.0 (libjpeg-turbo, libwebp as bundled
in its wheel), numpy, safetensors. See scripts/requirements-reference.txt.

Two deliberate deviations from a bare `processor(images=img)` call, both recorded per entry:
  * `input_data_format="channels_last"` is always passed. Without it transformers guesses the
    channel axis from the array shape and gets images whose height is 1 or 3 wrong (a 1x1
    image raises, a 2x3 one is scrambled). The Rust side always knows the layout.
  * entries with `"apply_exif_orientation": true` pass the image through
    `PIL.ImageOps.exif_transpose` first, which is what transformers' own `load_image` (used
    for paths/URLs and by pipelines) does; a PIL image passed directly is not transposed.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from safetensors.numpy import save_file
from transformers import CLIPImageProcessor

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "preprocess"


# --------------------------------------------------------------------------------------------
# Image content
# --------------------------------------------------------------------------------------------


def pattern(w: int, h: int, phase: float = 0.0) -> np.ndarray:
    """Smooth gradients plus two hard-edged shapes (bicubic overshoot, clipping) as HxWx3 u8."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    fx = x / max(w - 1, 1)
    fy = y / max(h - 1, 1)
    r = 255.0 * fx
    g = 255.0 * fy
    b = 127.5 + 127.5 * np.sin(2 * np.pi * (1.5 * fx + 0.7 * fy) + phase)
    img = np.stack([r, g, b], axis=-1)
    cx, cy, rad = 0.62 * w, 0.4 * h, 0.2 * min(w, h)
    img[(x - cx) ** 2 + (y - cy) ** 2 < rad**2] = [250, 30, 60]
    img[(fx > 0.1) & (fx < 0.3) & (fy > 0.55) & (fy < 0.85)] = [10, 200, 240]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def luma(w: int, h: int) -> np.ndarray:
    rgb = pattern(w, h).astype(np.float64)
    return np.rint(rgb @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)


def alpha_ramp(w: int, h: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    a = (255 * x // max(w - 1, 1)).astype(np.uint8)
    a[: h // 4] = 0  # fully transparent band whose colour must survive convert("RGB")
    return a


# --------------------------------------------------------------------------------------------
# Hand-written encoders for what Pillow cannot save: 16-bit RGB / LA and 4-bit grey PNGs, and a
# GIF whose first frame covers only part of the logical screen.
# --------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(
    path: Path, w: int, h: int, bit_depth: int, color_type: int, rows: list[bytes], trns: bytes = b""
):
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    # "Up" filter on every row but the first: smooth test images compress far better.
    prev = bytes(len(rows[0]))
    parts = []
    for row in rows:
        parts.append(b"\x02" + bytes((a - b) & 0xFF for a, b in zip(row, prev)))
        prev = row
    raw = b"".join(parts)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + (_png_chunk(b"tRNS", trns) if trns else b"")
        + _png_chunk(b"IDAT", zlib.compress(raw, 9))
        + _png_chunk(b"IEND", b"")
    )
    path.write_bytes(data)


def _lzw_literal_codes(indices: bytes) -> bytes:
    """GIF LZW stream with min code size 8 that only ever emits literals (9-bit codes), with a
    clear code every 250 pixels so the code width never grows. Valid, just not compressed."""
    clear, eoi = 256, 257
    codes = []
    for i, v in enumerate(indices):
        if i % 250 == 0:
            codes.append(clear)
        codes.append(v)
    codes.append(eoi)
    acc = nbits = 0
    out = bytearray()
    for c in codes:
        acc |= c << nbits
        nbits += 9
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def write_partial_gif(path: Path, screen_w, screen_h, left, top, fw, fh, palette, indices, trns):
    """One-frame GIF89a: 256-entry global palette, transparency index `trns`, frame at
    (left, top) of size fw x fh that does not cover the whole logical screen."""
    assert len(palette) == 256 * 3 and len(indices) == fw * fh
    out = bytearray(b"GIF89a")
    out += struct.pack("<HHBBB", screen_w, screen_h, 0xF7, 0, 0)  # global table, 256 entries
    out += bytes(palette)
    out += b"\x21\xf9\x04" + struct.pack("<BHB", 0x01, 0, trns) + b"\x00"
    out += b"\x2c" + struct.pack("<HHHHB", left, top, fw, fh, 0)
    out += b"\x08"
    data = _lzw_literal_codes(bytes(indices))
    for i in range(0, len(data), 255):
        block = data[i : i + 255]
        out += bytes([len(block)]) + block
    out += b"\x00\x3b"
    path.write_bytes(bytes(out))


# --------------------------------------------------------------------------------------------
# The image set
# --------------------------------------------------------------------------------------------


def make_images(img_dir: Path) -> dict[str, str]:
    """Writes every input image; returns file name -> short description."""
    img_dir.mkdir(parents=True, exist_ok=True)
    made: dict[str, str] = {}

    def save(im: Image.Image, name: str, desc: str, **kw):
        im.save(img_dir / name, **kw)
        made[name] = desc

    # Sizes and aspect ratios (RGB PNG).
    save(Image.fromarray(np.array([[[200, 120, 40]]], np.uint8)), "rgb_1x1.png", "1x1 RGB")
    px = np.array(
        [[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [255, 255, 0]], [[0, 0, 0], [255, 255, 255]]],
        np.uint8,
    )
    save(Image.fromarray(px), "rgb_2x3.png", "2 wide x 3 tall RGB")
    save(Image.fromarray(pattern(1000, 7)), "rgb_wide_1000x7.png", "very wide")
    save(Image.fromarray(pattern(7, 1000)), "rgb_tall_7x1000.png", "very tall")
    save(Image.fromarray(pattern(224, 224)), "rgb_224x224.png", "exactly 224, no resampling")
    save(Image.fromarray(pattern(225, 300)), "rgb_225x300.png", "just over 224")
    save(Image.fromarray(pattern(1200, 900, 1.0)), "rgb_1200x900.png", "large, downscale")

    # PIL modes (PNG).
    save(Image.fromarray(luma(300, 200)), "gray_L_300x200.png", "grayscale L")
    la = np.stack([luma(200, 300), alpha_ramp(200, 300)], -1)
    save(Image.fromarray(la), "gray_LA_200x300.png", "grayscale + alpha LA")
    rgba = np.concatenate([pattern(320, 240, 2.0), alpha_ramp(320, 240)[..., None]], -1)
    save(Image.fromarray(rgba), "rgba_320x240.png", "RGBA, alpha dropped not composited")
    pal = Image.fromarray(pattern(256, 192)).quantize(64, method=Image.Quantize.MEDIANCUT)
    save(pal, "palette_P_256x192.png", "palette P, 64 colours")
    pal_t = Image.fromarray(pattern(192, 256, 3.0)).quantize(32, method=Image.Quantize.MEDIANCUT)
    save(pal_t, "palette_P_trns_192x256.png", "palette P with tRNS", transparency=5)
    save(Image.fromarray(luma(250, 250) > 100), "bilevel_1_250x250.png", "1-bit mode 1")

    g16 = (luma(300, 240).astype(np.uint32) * 257).astype(np.uint16)
    g16[:, :60] = np.linspace(0, 600, 240).astype(np.uint16)[:, None]  # values around 255
    save(Image.fromarray(g16), "gray16_I16_300x240.png", "16-bit grey (I;16)")
    rgb16 = pattern(160, 120).astype(np.uint32) * 257 + 0x55
    rgb16 = np.minimum(rgb16, 65535).astype(">u2")
    write_png(img_dir / "rgb16_160x120.png", 160, 120, 16, 2, [r.tobytes() for r in rgb16])
    made["rgb16_160x120.png"] = "16-bit RGB PNG (PIL keeps the high byte)"
    la16 = np.stack([luma(180, 240).astype(np.uint32) * 257 + 0x80, alpha_ramp(180, 240).astype(np.uint32) * 257], -1)
    la16 = np.minimum(la16, 65535).astype(">u2")
    write_png(img_dir / "la16_180x240.png", 180, 240, 16, 4, [r.tobytes() for r in la16])
    made["la16_180x240.png"] = "16-bit grey+alpha PNG (PIL: RGBA)"
    g16t = (np.linspace(0, 400, 120)[None, :] + np.linspace(0, 40000, 90)[:, None]).astype(">u2")
    write_png(
        img_dir / "gray16_trns_120x90.png", 120, 90, 16, 0, [r.tobytes() for r in g16t],
        trns=struct.pack(">H", 200),
    )
    made["gray16_trns_120x90.png"] = "16-bit grey PNG with tRNS (PIL: I;16, saturating)"
    g4 = (luma(101, 80) >> 4).astype(np.uint8)
    rows4 = []
    for r in g4:
        r = np.concatenate([r, np.zeros(len(r) % 2, np.uint8)])
        rows4.append(bytes((r[0::2] << 4) | r[1::2]))
    write_png(img_dir / "gray4_101x80.png", 101, 80, 4, 0, rows4)
    made["gray4_101x80.png"] = "4-bit grey PNG"

    # JPEG.
    save(Image.fromarray(pattern(640, 480)), "jpeg_420_640x480.jpg", "JPEG 4:2:0", quality=90)
    save(
        Image.fromarray(pattern(300, 400, 0.5)),
        "jpeg_444_300x400.jpg",
        "JPEG 4:4:4",
        quality=92,
        subsampling=0,
    )
    save(
        Image.fromarray(pattern(400, 300, 1.5)),
        "jpeg_progressive_400x300.jpg",
        "progressive JPEG",
        quality=85,
        progressive=True,
    )
    save(Image.fromarray(luma(400, 300)), "jpeg_gray_400x300.jpg", "greyscale JPEG", quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6
    save(
        Image.fromarray(pattern(320, 240, 2.5)),
        "jpeg_exif6_320x240.jpg",
        "JPEG with EXIF orientation 6",
        quality=90,
        exif=exif.tobytes(),
    )
    cmyk = np.concatenate(
        [255 - pattern(300, 200, 0.2), (luma(300, 200)[..., None] // 3).astype(np.uint8)], -1
    )
    save(Image.frombytes("CMYK", (300, 200), cmyk.tobytes()), "jpeg_cmyk_300x200.jpg", "CMYK JPEG (Adobe)", quality=90)

    # WebP.
    save(Image.fromarray(pattern(300, 200)), "webp_lossless_300x200.webp", "lossless WebP", lossless=True)
    save(Image.fromarray(pattern(300, 200, 1.2)), "webp_lossy_300x200.webp", "lossy WebP", quality=85)
    rgba_w = np.concatenate([pattern(260, 180, 0.7), alpha_ramp(260, 180)[..., None]], -1)
    save(Image.fromarray(rgba_w), "webp_lossy_alpha_260x180.webp", "lossy WebP + alpha", quality=85)

    # GIF.
    save(
        Image.fromarray(pattern(240, 200)).quantize(128, method=Image.Quantize.MEDIANCUT),
        "gif_240x200.gif",
        "GIF, 128-colour palette",
    )
    gif_pal = np.zeros((256, 3), np.uint8)
    gif_pal[:, 0] = np.arange(256)
    gif_pal[:, 1] = 255 - np.arange(256)
    gif_pal[:, 2] = (np.arange(256) * 7) % 256
    fw, fh = 150, 90
    idx = (np.add.outer(np.arange(fh), np.arange(fw)) % 200 + 20).astype(np.uint8)
    write_partial_gif(
        img_dir / "gif_partial_trns_200x160.gif", 200, 160, 30, 40, fw, fh,
        gif_pal.tobytes(), idx.tobytes(), trns=9,
    )
    made["gif_partial_trns_200x160.gif"] = "GIF, first frame smaller than the screen, transparency"
    return made


# --------------------------------------------------------------------------------------------
# Entries: image x config
# --------------------------------------------------------------------------------------------

# Non-default preprocessor configs, written as a preprocessor_config.json would hold them.
CONFIGS: dict[str, dict] = {
    "bilinear_exact_hw": {"size": {"height": 60, "width": 52}, "crop_size": 48, "resample": 2},
    "pad_small_resize": {"size": {"shortest_edge": 40}, "crop_size": {"height": 48, "width": 44}},
    "lanczos": {"size": {"shortest_edge": 56}, "crop_size": 48, "resample": 1},
    "nearest": {"size": {"shortest_edge": 54}, "crop_size": 48, "resample": 0},
    "box": {"size": {"shortest_edge": 50}, "crop_size": 48, "resample": 4},
    "hamming": {"size": {"shortest_edge": 51}, "crop_size": 48, "resample": 5},
    "no_crop": {"size": {"height": 40, "width": 56}, "do_center_crop": False},
    "no_normalize": {"size": {"shortest_edge": 48}, "crop_size": 48, "do_normalize": False},
    "legacy_ints": {
        "size": 52,
        "crop_size": [44, 38],
        "image_mean": 0.5,
        "image_std": 0.5,
        "rescale_factor": 0.00392156862745098,
    },
    "no_resize_crop_and_pad": {"do_resize": False, "crop_size": {"height": 40, "width": 110}},
    "no_rescale": {"size": {"shortest_edge": 32}, "crop_size": 32, "do_rescale": False},
}

DEFAULT_ENTRIES = [
    "rgb_1x1.png",
    "rgb_2x3.png",
    "rgb_wide_1000x7.png",
    "rgb_tall_7x1000.png",
    "rgb_224x224.png",
    "rgb_225x300.png",
    "rgb_1200x900.png",
    "gray_L_300x200.png",
    "gray_LA_200x300.png",
    "rgba_320x240.png",
    "palette_P_256x192.png",
    "palette_P_trns_192x256.png",
    "bilevel_1_250x250.png",
    "gray16_I16_300x240.png",
    "rgb16_160x120.png",
    "la16_180x240.png",
    "gray16_trns_120x90.png",
    "gray4_101x80.png",
    "jpeg_420_640x480.jpg",
    "jpeg_444_300x400.jpg",
    "jpeg_progressive_400x300.jpg",
    "jpeg_gray_400x300.jpg",
    "jpeg_exif6_320x240.jpg",
    "jpeg_cmyk_300x200.jpg",
    "webp_lossless_300x200.webp",
    "webp_lossy_300x200.webp",
    "webp_lossy_alpha_260x180.webp",
    "gif_240x200.gif",
    "gif_partial_trns_200x160.gif",
]

# (entry name, image, config name, apply_exif_orientation)
EXTRA_ENTRIES = [
    ("jpeg_exif6_320x240__exif", "jpeg_exif6_320x240.jpg", None, True),
    ("rgb_225x300__bilinear_exact_hw", "rgb_225x300.png", "bilinear_exact_hw", False),
    ("rgb_225x300__pad_small_resize", "rgb_225x300.png", "pad_small_resize", False),
    ("rgb_1200x900__lanczos", "rgb_1200x900.png", "lanczos", False),
    ("rgb_2x3__lanczos", "rgb_2x3.png", "lanczos", False),
    ("jpeg_420_640x480__nearest", "jpeg_420_640x480.jpg", "nearest", False),
    ("rgb_225x300__nearest", "rgb_225x300.png", "nearest", False),
    ("rgb_1200x900__box", "rgb_1200x900.png", "box", False),
    ("rgb_225x300__hamming", "rgb_225x300.png", "hamming", False),
    ("rgba_320x240__no_crop", "rgba_320x240.png", "no_crop", False),
    ("gray_L_300x200__no_normalize", "gray_L_300x200.png", "no_normalize", False),
    ("rgb_tall_7x1000__legacy_ints", "rgb_tall_7x1000.png", "legacy_ints", False),
    ("gray4_101x80__no_resize_crop_and_pad", "gray4_101x80.png", "no_resize_crop_and_pad", False),
    ("rgb_225x300__no_rescale", "rgb_225x300.png", "no_rescale", False),
]


def run_processor(proc: CLIPImageProcessor, path: Path, apply_exif: bool) -> tuple[np.ndarray, str]:
    with Image.open(path) as im:
        mode = im.mode
        if apply_exif:
            im = ImageOps.exif_transpose(im)
        out = proc(images=im, return_tensors="np", input_data_format="channels_last")
    return out["pixel_values"][0].astype(np.float32), mode


def recover_uint8(proc: CLIPImageProcessor, x: np.ndarray) -> np.ndarray:
    """The uint8 [3,H,W] crop that the processor rescaled and normalised into `x`, checked to
    reproduce `x` bit for bit with transformers' own arithmetic."""
    mean = np.asarray(proc.image_mean, np.float64).reshape(3, 1, 1)
    std = np.asarray(proc.image_std, np.float64).reshape(3, 1, 1)
    u = np.rint((x.astype(np.float64) * std + mean) * 255.0)
    assert u.min() >= 0 and u.max() <= 255
    u = u.astype(np.uint8)
    again = (u.astype(np.float64) * proc.rescale_factor).astype(np.float32)
    again = (again - mean.astype(np.float32)) / std.astype(np.float32)
    assert np.array_equal(again, x), "uint8 recovery does not reproduce the processor output"
    return u


def build(out_dir=None, vocab_dir=None) -> Path:
    """Writes the fixtures into out_dir (default tests/fixtures/preprocess/, which is what
    scripts/make_reference.py passes); vocab_dir is unused."""
    fixtures = Path(out_dir) if out_dir else FIXTURES
    img_dir = fixtures / "images"
    exp_dir = fixtures / "expected"
    for d in (img_dir, exp_dir):
        d.mkdir(parents=True, exist_ok=True)
        for f in d.iterdir():
            f.unlink()
    descriptions = make_images(img_dir)

    default_proc = CLIPImageProcessor()
    plan = [(Path(f).stem, f, None, False) for f in DEFAULT_ENTRIES] + EXTRA_ENTRIES
    tensors: dict[str, np.ndarray] = {}
    entries = []
    for name, image, cfg_name, apply_exif in plan:
        cfg = CONFIGS[cfg_name] if cfg_name else None
        proc = CLIPImageProcessor(**cfg) if cfg else default_proc
        x, mode = run_processor(proc, img_dir / image, apply_exif)
        with Image.open(img_dir / image) as im:
            width, height = im.size
            fmt = im.format
        entry = {
            "name": name,
            "image": f"images/{image}",
            "description": descriptions[image],
            "format": fmt,
            "pil_mode": mode,
            "width": width,
            "height": height,
            "config": cfg,
            "apply_exif_orientation": apply_exif,
            "shape": list(x.shape),
        }
        if cfg is None:
            u = recover_uint8(proc, x)
            rel = f"expected/{name}.png"
            Image.fromarray(np.ascontiguousarray(u.transpose(1, 2, 0))).save(
                fixtures / rel, optimize=True
            )
            entry["expected_uint8_png"] = rel
        else:
            tensors[name] = np.ascontiguousarray(x)
            entry["tensor"] = name
        entries.append(entry)

    save_file(tensors, str(fixtures / "reference.safetensors"))
    index = {
        "generator": "scripts/reference/preprocess.py",
        "reference": {
            "transformers": __import__("transformers").__version__,
            "pillow": Image.__version__,
            "numpy": np.__version__,
            "call": "CLIPImageProcessor(**config)(images=PIL.Image.open(image), "
            "input_data_format='channels_last')",
        },
        "default_config": {
            k: getattr(default_proc, k)
            for k in (
                "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale",
                "rescale_factor", "do_normalize", "image_mean", "image_std", "do_convert_rgb",
            )
        },
        "entries": entries,
    }
    (fixtures / "index.json").write_text(json.dumps(index, indent=1, default=int) + "\n")
    total = sum(f.stat().st_size for f in fixtures.rglob("*") if f.is_file())
    print(f"wrote {len(entries)} entries ({len(descriptions)} images) to {fixtures}, {total} bytes")
    assert total <= 2_000_000, "preprocess fixtures over their 2 MB budget"
    return fixtures


if __name__ == "__main__":
    build(*(sys.argv[1:3]))
