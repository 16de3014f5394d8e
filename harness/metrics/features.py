"""Inception features of an image set, reduced on the fly to what FID, KID and colour need.

Pre-processing is clean-fid's own resizer (`cleanfid.resize.build_resizer(mode)`), run in a
pool of CPU threads (PIL releases the GIL while resizing) one batch ahead of the network, so
the network never waits on decoding. The batch size is fixed by the caller and TF32 is off,
so features depend on the machine no more than they must. Statistics accumulate in float64
(mean, covariance of the 2048-d features and of the per-image mean RGB); the features KID and
the bootstrap need, and each image's mean RGB, are kept for a seeded subset of at most
`max_kept` images.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch
from cleanfid.resize import build_resizer
from tqdm import tqdm

from harness.metrics.images import ImageSet
from harness.metrics.inception import FEATURE_DIM, InceptionFeatures

DEFAULT_MAX_KEPT = 50_000


@dataclass
class FeatureStats:
    """Reduced features of one image set."""

    count: int
    mu: np.ndarray  # (2048,) float64
    sigma: np.ndarray  # (2048, 2048) float64, unbiased (np.cov)
    features: np.ndarray  # (k, 2048) float32, the kept subset for KID
    kept_indices: np.ndarray  # (k,) int64 image indices of `features`
    rgb: np.ndarray  # (k, 3) float64 mean RGB of the kept images, 0..255
    rgb_mu: np.ndarray  # (3,) mean over images of the per-image mean RGB, 0..255
    rgb_sigma: np.ndarray  # (3, 3) covariance of the per-image mean RGB
    resolution: tuple[int, int]  # (H, W) of the images


class _Accumulator:
    """Running sums of x and x x^T in float64 (covariance without holding all rows)."""

    def __init__(self, dim: int) -> None:
        self.n = 0
        self.s1 = np.zeros(dim, np.float64)
        self.s2 = np.zeros((dim, dim), np.float64)

    def add(self, x: np.ndarray) -> None:
        x = x.astype(np.float64)
        self.n += x.shape[0]
        self.s1 += x.sum(axis=0)
        self.s2 += x.T @ x

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        mu = self.s1 / self.n
        cov = (self.s2 - self.n * np.outer(mu, mu)) / (self.n - 1)
        return mu, (cov + cov.T) / 2


def kept_subset(count: int, max_kept: int, seed: int) -> np.ndarray:
    """Sorted indices of the images whose features are kept (all when count <= max_kept)."""
    if count <= max_kept:
        return np.arange(count, dtype=np.int64)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(count, size=max_kept, replace=False)).astype(np.int64)


def default_workers() -> int:
    """Pre-processing threads: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class _Preprocessor:
    """Load one image, check its size, take its mean RGB, resize it the clean-fid way."""

    def __init__(self, images: ImageSet, mode: str) -> None:
        self.images = images
        self.resize = build_resizer(mode)
        self.size: tuple[int, int] | None = None
        self.first = ""

    def __call__(self, i: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        arr = self.images.load(i)
        resized = np.asarray(self.resize(arr), dtype=np.float32)
        mean_rgb = arr.reshape(-1, 3).mean(axis=0, dtype=np.float64)
        return resized.transpose(2, 0, 1), mean_rgb, arr.shape[:2], self.images.describe(i)

    def check_size(self, size: tuple[int, int], where: str) -> None:
        if self.size is None:
            self.size, self.first = size, where
        elif size != self.size:
            raise ValueError(
                f"mixed image sizes: '{self.first}' is {self.size[1]}x{self.size[0]} but "
                f"'{where}' is {size[1]}x{size[0]}; give a set with one resolution "
                "(prepare it with `harness prepare --resolution R`)"
            )


def extract_stats(
    images: ImageSet,
    extractor: InceptionFeatures,
    *,
    batch_size: int = 64,
    workers: int | None = None,
    max_kept: int = DEFAULT_MAX_KEPT,
    keep_seed: int = 0,
    progress: bool = True,
    desc: str = "inception",
) -> FeatureStats:
    """Features of every image of `images`, reduced to FeatureStats (see module docstring)."""
    n = len(images)
    if n < 2:
        raise ValueError(f"'{images.path}' has {n} image(s); FID needs at least 2 "
                         "(a covariance of one image is undefined)")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    prep = _Preprocessor(images, extractor.mode)
    keep = kept_subset(n, max_kept, keep_seed)
    keep_mask = np.zeros(n, bool)
    keep_mask[keep] = True
    feats, rgb = _Accumulator(FEATURE_DIM), _Accumulator(3)
    kept: list[np.ndarray] = []
    kept_rgb: list[np.ndarray] = []
    starts = list(range(0, n, batch_size))
    with ThreadPoolExecutor(max_workers=workers or default_workers()) as pool, \
            tqdm(total=n, desc=desc, unit="img", disable=not progress) as bar:
        pending: deque[list[Future]] = deque()

        def submit(k: int) -> None:
            if k < len(starts):
                stop = min(starts[k] + batch_size, n)
                pending.append([pool.submit(prep, i) for i in range(starts[k], stop)])

        submit(0)
        submit(1)  # one batch ahead of the network
        for k, start in enumerate(starts):
            results = [f.result() for f in pending.popleft()]
            submit(k + 2)
            for _, _, size, where in results:
                prep.check_size(size, where)
            batch = torch.from_numpy(np.stack([r[0] for r in results]))
            out = extractor(batch).float().cpu().numpy()
            means = np.stack([r[1] for r in results])
            feats.add(out)
            rgb.add(means)
            sel = keep_mask[start:start + len(results)]
            if sel.any():
                kept.append(out[sel].astype(np.float32))
                kept_rgb.append(means[sel])
            bar.update(len(results))
    mu, sigma = feats.mean_cov()
    rgb_mu, rgb_sigma = rgb.mean_cov()
    assert prep.size is not None
    return FeatureStats(n, mu, sigma, np.concatenate(kept), keep, np.concatenate(kept_rgb),
                        rgb_mu, rgb_sigma, prep.size)
