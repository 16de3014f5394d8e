"""Anti-aliased shape rendering with signed distance functions, vectorised over images.

Each shape is a signed distance (in pixels, negative inside) of local coordinates (u, v)
around the shape centre, scaled by a radius r; coverage = clip(0.5 - distance, 0, 1) gives
a one-pixel soft edge. All arrays broadcast as (N, H, W) with per-image parameters (N, 1, 1).
"""

from __future__ import annotations

import math

import numpy as np

SQRT_HALF = math.sqrt(0.5)


def _box(u: np.ndarray, v: np.ndarray, hu: np.ndarray, hv: np.ndarray) -> np.ndarray:
    qu, qv = np.abs(u) - hu, np.abs(v) - hv
    outside = np.hypot(np.maximum(qu, 0), np.maximum(qv, 0))
    return outside + np.minimum(np.maximum(qu, qv), 0)


def _polygon(u: np.ndarray, v: np.ndarray, r: np.ndarray, sides: int) -> np.ndarray:
    # Regular polygon with circumradius r, one vertex pointing up (-v): the distance is the
    # largest signed distance to the side lines (exact inside, a close bound outside).
    apothem = r * math.cos(math.pi / sides)
    dist = None
    for k in range(sides):
        angle = math.pi / 2 + math.pi / sides + 2 * math.pi * k / sides
        d = u * math.cos(angle) + v * math.sin(angle) - apothem
        dist = d if dist is None else np.maximum(dist, d)
    return dist


def circle(u, v, r):
    return np.hypot(u, v) - r


def square(u, v, r):
    return _box(u, v, 0.8 * r, 0.8 * r)


def triangle(u, v, r):
    return _polygon(u, v + 0.2 * r, 1.15 * r, 3)


def cross(u, v, r):
    return np.minimum(_box(u, v, r, 0.3 * r), _box(u, v, 0.3 * r, r))


def ring(u, v, r):
    return np.abs(np.hypot(u, v) - 0.72 * r) - 0.28 * r


def diamond(u, v, r):
    return square((u + v) * SQRT_HALF, (v - u) * SQRT_HALF, r)


def hexagon(u, v, r):
    return _polygon(u, v, r, 6)


def xcross(u, v, r):
    return cross((u + v) * SQRT_HALF, (v - u) * SQRT_HALF, r)


def crescent(u, v, r):
    return np.maximum(np.hypot(u, v) - r, 0.8 * r - np.hypot(u - 0.5 * r, v))


def frame(u, v, r):
    return np.abs(_box(u, v, 0.78 * r, 0.78 * r)) - 0.2 * r


# Class order of the class-conditional generated set (label = index in this tuple).
SHAPES = {
    "circle": circle,
    "square": square,
    "triangle": triangle,
    "cross": cross,
    "ring": ring,
    "diamond": diamond,
    "hexagon": hexagon,
    "xcross": xcross,
    "crescent": crescent,
    "frame": frame,
}
SHAPE_NAMES = tuple(SHAPES)


def coverage(kind: np.ndarray, cx, cy, r, cos_a, sin_a, resolution: int) -> np.ndarray:
    """Coverage (N, H, W) in [0, 1] of shape `SHAPE_NAMES[kind[n]]` in each image n.

    `cx, cy, r, cos_a, sin_a` are float arrays of shape (N,), in pixels (centre, radius) and
    as the rotation's cosine/sine.
    """
    n = len(kind)
    grid = np.arange(resolution, dtype=np.float64) + 0.5
    x = grid[None, None, :] - np.asarray(cx, dtype=np.float64)[:, None, None]
    y = grid[None, :, None] - np.asarray(cy, dtype=np.float64)[:, None, None]
    c = np.asarray(cos_a, dtype=np.float64)[:, None, None]
    s = np.asarray(sin_a, dtype=np.float64)[:, None, None]
    u = c * x + s * y
    v = c * y - s * x
    rad = np.broadcast_to(np.asarray(r, dtype=np.float64)[:, None, None], u.shape)
    out = np.zeros((n, resolution, resolution))
    for k, fn in enumerate(SHAPES.values()):
        sel = np.flatnonzero(kind == k)
        if sel.size:
            out[sel] = np.clip(0.5 - fn(u[sel], v[sel], rad[sel]), 0.0, 1.0)
    return out
