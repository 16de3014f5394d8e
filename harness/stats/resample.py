"""Bootstrap resample indices that two cells share.

Resample b of a set of n samples depends only on (seed, n, b): two cells with the same number of
samples draw the same index sets, so when sample i of both cells shares its x_T (common random
numbers), elementwise differences of their bootstrap replicates are a paired bootstrap of the
difference. Asking for more resamples extends the list without changing the first ones.
"""

from __future__ import annotations

import numpy as np


def resample_indices(seed: int, n: int, resamples: int) -> np.ndarray:
    """(resamples, n) int64 indices drawn with replacement; row b depends on (seed, n, b) only."""
    if n < 1 or resamples < 0:
        raise ValueError(f"need n >= 1 samples and resamples >= 0, got n={n}, "
                         f"resamples={resamples}")
    rows = [np.random.default_rng([int(seed), int(n), b]).integers(0, n, size=n)
            for b in range(resamples)]
    return np.stack(rows).astype(np.int64) if rows else np.zeros((0, n), np.int64)


def resample_counts(indices: np.ndarray) -> np.ndarray:
    """(B, n) float64: how often each sample occurs in each resample (rows sum to n)."""
    b, n = indices.shape
    counts = np.zeros((b, n), np.float64)
    np.add.at(counts, (np.repeat(np.arange(b), n), indices.ravel()), 1.0)
    return counts
