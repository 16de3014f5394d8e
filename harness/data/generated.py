"""Datasets the harness makes itself, for offline use: deterministic by seed.

- `colorshapes` (unconditional): a background colour drawn uniformly in hue with broad
  saturation and value, a gentle linear shading, and 1-3 shapes in contrasting colours.
  The mean colour of an image varies strongly across the set, so a model that gets the
  global colour statistics wrong (the paper's colour shift) is visibly and measurably off.
- `shapeclasses` (class-conditional): one large shape per image; the class is the shape
  type (`harness.data.shapes.SHAPE_NAMES`, up to 10 classes); labels cycle 0..K-1 so that
  classes are balanced; colours are random with guaranteed contrast.
- `digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes),
  white ink on black, upscaled with ADM's preprocessing (bicubic); a small real dataset.
- `texshapes` (unconditional): colorshapes with fine detail laid over the whole image: two
  oriented gratings near the resolution limit and pixel noise, each image its own.
- `photopatches` (unconditional): random crops of photographs packages ship
  (harness.data.photos); its provenance (files, crop list) goes into the manifest.

Image i depends only on (seed, i): a set of N images is the first N of any larger set.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from harness.data.preprocess import center_crop_arr
from harness.data.shapes import SHAPE_NAMES, coverage

CHUNK = 256  # images rendered per vectorised batch (bounds memory at larger sizes)


@dataclass
class Generated:
    """Images (uint8 NHWC), labels (int64 N or None) and the number of classes (0 if none)."""

    images: np.ndarray
    labels: np.ndarray | None
    num_classes: int
    details: dict | None = None  # provenance beyond (name, count, resolution, seed)


def _contrasting(rng: np.random.Generator, hue: float, val: float) -> tuple[float, float, float]:
    # Opposite-ish hue and a value far from the background's, so shapes always stand out.
    h = (hue + 0.5 + rng.uniform(-0.15, 0.15)) % 1.0
    s = rng.uniform(0.5, 1.0)
    v = rng.uniform(0.05, 0.4) if val > 0.55 else rng.uniform(0.7, 1.0)
    return colorsys.hsv_to_rgb(h, s, v)


def _render(params: list[dict], resolution: int, max_shapes: int) -> np.ndarray:
    """Render per-image parameter dicts into uint8 NHWC."""
    n = len(params)
    grid = (np.arange(resolution, dtype=np.float64) + 0.5) / resolution - 0.5
    gx, gy = grid[None, None, :], grid[None, :, None]
    bg = np.array([p["bg"] for p in params])[:, None, None, :]
    shade = np.array([p["shade"] for p in params])
    ramp = 1.0 + shade[:, 0, None, None] * gx + shade[:, 1, None, None] * gy
    img = np.clip(bg * ramp[..., None], 0.0, 1.0)
    for slot in range(max_shapes):
        idx = [i for i, p in enumerate(params) if len(p["shapes"]) > slot]
        if not idx:
            break
        sh = [params[i]["shapes"][slot] for i in idx]
        alpha = coverage(
            np.array([s["kind"] for s in sh]),
            np.array([s["cx"] for s in sh]) * resolution,
            np.array([s["cy"] for s in sh]) * resolution,
            np.array([s["r"] for s in sh]) * resolution,
            np.array([s["cos"] for s in sh]),
            np.array([s["sin"] for s in sh]),
            resolution,
        )[..., None]
        colour = np.array([s["colour"] for s in sh])[:, None, None, :]
        img[idx] = img[idx] * (1.0 - alpha) + colour * alpha
    assert img.shape[0] == n
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def _colorshapes_params(seed: int, i: int) -> dict:
    rng = np.random.default_rng([seed, i, 0xC0105])
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.15, 1.0), rng.uniform(0.12, 1.0)
    shapes = []
    for _ in range(int(rng.integers(1, 4))):
        r = rng.uniform(0.1, 0.26)
        angle = rng.uniform(0, 2 * math.pi)
        shapes.append({
            "kind": int(rng.integers(len(SHAPE_NAMES))),
            "cx": rng.uniform(r, 1 - r), "cy": rng.uniform(r, 1 - r), "r": r,
            "cos": math.cos(angle), "sin": math.sin(angle),
            "colour": _contrasting(rng, hue, val),
        })
    return {
        "bg": colorsys.hsv_to_rgb(hue, sat, val),
        "shade": rng.uniform(-0.3, 0.3, size=2),
        "shapes": shapes,
    }


def _shapeclasses_params(seed: int, i: int, label: int) -> dict:
    rng = np.random.default_rng([seed, i, 0x5EA9E])
    hue, sat, val = rng.uniform(0, 1), rng.uniform(0.1, 0.9), rng.uniform(0.15, 1.0)
    r = rng.uniform(0.28, 0.38)
    angle = rng.uniform(-math.pi / 12, math.pi / 12)  # small tilt keeps square != diamond
    shape = {
        "kind": label,
        "cx": 0.5 + rng.uniform(-0.08, 0.08), "cy": 0.5 + rng.uniform(-0.08, 0.08), "r": r,
        "cos": math.cos(angle), "sin": math.sin(angle),
        "colour": _contrasting(rng, hue, val),
    }
    return {"bg": colorsys.hsv_to_rgb(hue, sat, val), "shade": np.zeros(2), "shapes": [shape]}


def colorshapes(count: int, resolution: int, seed: int = 0) -> Generated:
    """Unconditional shapes on backgrounds whose colour varies widely across the set."""
    out = np.empty((count, resolution, resolution, 3), dtype=np.uint8)
    for start in range(0, count, CHUNK):
        params = [_colorshapes_params(seed, i) for i in range(start, min(count, start + CHUNK))]
        out[start : start + len(params)] = _render(params, resolution, max_shapes=3)
    return Generated(out, None, 0)


def _texture(seed: int, i: int, resolution: int) -> np.ndarray:
    """A multiplicative detail field (H, W, 1): gratings at 20-60% of the Nyquist frequency."""
    rng = np.random.default_rng([seed, i, 0x7E47])
    grid = np.arange(resolution, dtype=np.float64) / resolution
    gx, gy = grid[None, :], grid[:, None]
    field = np.zeros((resolution, resolution))
    for _ in range(2):
        cycles = rng.uniform(0.2, 0.6) * resolution / 2
        angle = rng.uniform(0, math.pi)
        phase = rng.uniform(0, 2 * math.pi)
        along = gx * math.cos(angle) + gy * math.sin(angle)
        field += 0.12 * np.sin(2 * math.pi * cycles * along + phase)
    field += rng.normal(0.0, 0.06, size=(resolution, resolution))
    return field[..., None]


def texshapes(count: int, resolution: int, seed: int = 0) -> Generated:
    """Colorshapes with fine oriented gratings and pixel noise over each whole image."""
    base = colorshapes(count, resolution, seed).images.astype(np.float64) / 255.0
    for i in range(count):
        base[i] *= 1.0 + _texture(seed, i, resolution)
    return Generated(np.clip(np.rint(base * 255.0), 0, 255).astype(np.uint8), None, 0)


def photopatches(count: int, resolution: int, seed: int = 0) -> Generated:
    """Random crops of the photographs scikit-learn and matplotlib ship (harness.data.photos)."""
    from harness.data.photos import photopatches as crops

    images, details = crops(count, resolution, seed)
    return Generated(images, None, 0, details)


def shapeclasses(
    count: int, resolution: int, seed: int = 0, num_classes: int | None = None
) -> Generated:
    """Class-conditional: label k draws shape `SHAPE_NAMES[k]`; labels are i mod K."""
    k = len(SHAPE_NAMES) if num_classes is None else int(num_classes)
    if not 1 <= k <= len(SHAPE_NAMES):
        raise ValueError(f"shapeclasses supports 1..{len(SHAPE_NAMES)} classes, got {k}")
    labels = np.arange(count, dtype=np.int64) % k
    out = np.empty((count, resolution, resolution, 3), dtype=np.uint8)
    for start in range(0, count, CHUNK):
        stop = min(count, start + CHUNK)
        params = [_shapeclasses_params(seed, i, int(labels[i])) for i in range(start, stop)]
        out[start:stop] = _render(params, resolution, max_shapes=1)
    return Generated(out, labels, k)


def digits(
    count: int | None, resolution: int, seed: int = 0, num_classes: int | None = None
) -> Generated:
    """scikit-learn's digits (class = digit). With `count` below the number available,
    a seeded random subset is taken (kept in the original order); `num_classes` K keeps
    digits 0..K-1 only."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    k = 10 if num_classes is None else int(num_classes)
    if not 1 <= k <= 10:
        raise ValueError(f"digits supports 1..10 classes, got {k}")
    keep = np.flatnonzero(bunch.target < k)
    if count is not None:
        if count > keep.size:
            raise ValueError(
                f"digits has {keep.size} images with {k} classes; asked for count={count}"
            )
        rng = np.random.default_rng([seed, 0xD191])
        keep = np.sort(rng.choice(keep, size=count, replace=False))
    ink = np.rint(bunch.images[keep] * (255.0 / 16.0)).astype(np.uint8)
    out = np.empty((keep.size, resolution, resolution, 3), dtype=np.uint8)
    for j, small in enumerate(ink):
        out[j] = center_crop_arr(Image.fromarray(small, mode="L").convert("RGB"), resolution)
    return Generated(out, bunch.target[keep].astype(np.int64), k)


@dataclass(frozen=True)
class BuiltinSpec:
    """A generated dataset: whether it has labels, its class limit and default size."""

    name: str
    class_cond: bool
    max_classes: int
    default_count: int | None
    description: str


BUILTINS = {
    "colorshapes": BuiltinSpec("colorshapes", False, 0, 2000, colorshapes.__doc__ or ""),
    "shapeclasses": BuiltinSpec(
        "shapeclasses", True, len(SHAPE_NAMES), 2000, shapeclasses.__doc__ or ""
    ),
    "digits": BuiltinSpec("digits", True, 10, None, digits.__doc__ or ""),
    "texshapes": BuiltinSpec("texshapes", False, 0, 2000, texshapes.__doc__ or ""),
    "photopatches": BuiltinSpec("photopatches", False, 0, 300, photopatches.__doc__ or ""),
}
UNCONDITIONAL = {"colorshapes": colorshapes, "texshapes": texshapes,
                 "photopatches": photopatches}


def generate(
    name: str, count: int | None, resolution: int, seed: int = 0, num_classes: int | None = None
) -> Generated:
    """Make built-in dataset `name` (one of BUILTINS)."""
    if name not in BUILTINS:
        raise ValueError(f"unknown built-in dataset '{name}'; choose one of {', '.join(BUILTINS)}")
    if count is not None and count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if resolution < 1:
        raise ValueError(f"resolution must be >= 1, got {resolution}")
    count = BUILTINS[name].default_count if count is None else count
    if name in UNCONDITIONAL:
        if num_classes not in (None, 0):
            raise ValueError(f"{name} is unconditional; it takes no num_classes")
        return UNCONDITIONAL[name](count, resolution, seed)
    if name == "shapeclasses":
        return shapeclasses(count, resolution, seed, num_classes)
    return digits(count, resolution, seed, num_classes)
