"""Quantisation of samples to uint8 and preview grids (PNG)."""

from __future__ import annotations

import math
import os

import numpy as np
import torch
from PIL import Image, ImageDraw

from harness.runtime import atomic_target


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW floats -> uint8 NHWC: ((x + 1) * 127.5).round().clamp(0, 255).

    ADM truncates instead of rounding (its `.to(uint8)` after clamp); rounding is the
    unbiased choice (truncation darkens every image by half a level on average).
    """
    x = ((x.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.permute(0, 2, 3, 1).contiguous().cpu().numpy()


def _save_png(image: Image.Image, path: str | os.PathLike) -> None:
    with atomic_target(path) as tmp:
        image.save(tmp, format="PNG")


def save_grid(images: np.ndarray, path: str | os.PathLike, max_images: int = 64) -> None:
    """The first `max_images` uint8 NHWC images as a square-ish grid PNG (2 px gaps)."""
    images = images[:max_images]
    if len(images) == 0:
        save_message(path, "no samples")
        return
    n, h, w, c = images.shape
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    gap = 2
    grid = np.full((rows * (h + gap) + gap, cols * (w + gap) + gap, c), 255, dtype=np.uint8)
    for k, img in enumerate(images):
        r, q = divmod(k, cols)
        grid[gap + r * (h + gap):gap + r * (h + gap) + h,
             gap + q * (w + gap):gap + q * (w + gap) + w] = img
    _save_png(Image.fromarray(grid), path)


def save_message(path: str | os.PathLike, text: str) -> None:
    """A small PNG that says `text` (e.g. 'diverged at step 120'), in place of a grid."""
    image = Image.new("RGB", (max(160, 7 * len(text) + 20), 40), (255, 255, 255))
    ImageDraw.Draw(image).text((10, 14), text, fill=(200, 0, 0))
    _save_png(image, path)
