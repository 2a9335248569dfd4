"""Small synthetic test images, drawn deterministically with PIL (no randomness, no downloads).

Three images with different sizes, aspect ratios and PIL modes so the preprocessing path
(convert-to-RGB, shortest-edge resize up and down, centre crop with odd offsets) is exercised:
  gradient_320x240.png  RGB,  landscape, downscaled (240 -> 224)
  shapes_150x200.png    RGBA, portrait,  upscaled (alpha is dropped by convert("RGB"))
  gray_97x61.png        L,    tiny odd size, strongly upscaled
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

IMAGE_FILES = ["gradient_320x240.png", "shapes_150x200.png", "gray_97x61.png"]


def _gradient() -> Image.Image:
    w, h = 320, 240
    x = np.arange(w, dtype=np.float64)[None, :]
    y = np.arange(h, dtype=np.float64)[:, None]
    r = np.broadcast_to(255.0 * x / (w - 1), (h, w))
    g = np.broadcast_to(255.0 * y / (h - 1), (h, w))
    b = 127.5 + 127.5 * np.sin((x + 2.0 * y) / 23.0)
    img = np.stack([r, g, b], axis=-1).round().clip(0, 255).astype(np.uint8)
    im = Image.fromarray(img)
    d = ImageDraw.Draw(im)
    d.line([(0, 0), (w - 1, h - 1)], fill=(255, 255, 255), width=5)
    d.rectangle([200, 30, 290, 90], outline=(0, 0, 0), width=3)
    return im


def _shapes() -> Image.Image:
    w, h = 150, 200
    im = Image.new("RGBA", (w, h), (30, 60, 90, 255))
    d = ImageDraw.Draw(im)
    d.ellipse([20, 20, 110, 110], fill=(240, 200, 40, 255))
    d.rectangle([60, 100, 140, 180], fill=(200, 30, 60, 160))
    d.polygon([(10, 190), (75, 120), (140, 195)], fill=(40, 220, 120, 90))
    d.line([(0, 150), (149, 60)], fill=(250, 250, 250, 255), width=3)
    return im


def _gray() -> Image.Image:
    w, h = 97, 61
    x = np.arange(w)[None, :]
    y = np.arange(h)[:, None]
    checker = ((x // 8 + y // 8) % 2) * 120
    radial = np.sqrt((x - w / 2.0) ** 2 + (y - h / 2.0) ** 2)
    img = (checker + 135.0 * (1.0 - radial / radial.max())).round().clip(0, 255).astype(np.uint8)
    return Image.fromarray(img)


def make_images(out_dir: Path) -> list[Path]:
    """Write the test images into out_dir (created if needed); return their paths in order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, fn in zip(IMAGE_FILES, (_gradient, _shapes, _gray)):
        p = out_dir / name
        fn().save(p, format="PNG", optimize=True)
        paths.append(p)
    return paths
