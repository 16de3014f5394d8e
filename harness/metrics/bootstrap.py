"""Bootstrap replicates of FID, KID and colour shift over a cell's generated samples.

The Inception features are computed once; resample b draws the generated samples with the
indices `harness.stats.resample_indices(seed, N, b)`, which depend only on (seed, N, b), so two
cells with the same N use the same index sets and elementwise differences of their replicates
are a paired bootstrap. The reference statistics stay fixed: they are shared by every cell of a
dataset, so their noise is common to any two compared cells. Only the spread of the replicates
is used (the report centres every interval on the cell's point value).

FID of a resample: |mu_b - mu_r|^2 + Tr S_b + Tr S_r - 2 Tr sqrt(S_b S_r). With R = S_r^(1/2)
and Y = X R, the eigenvalues of S_b S_r are those of the symmetric R S_b R = Yc^T Yc / (n-1)
(Yc: the resample's centred Y), whose nonzero eigenvalues are those of the n x n matrix
Yc Yc^T / (n-1). So n < d takes one n x n `eigvalsh` of a slice of the precomputed Gram matrix
Y Y^T = X S_r X^T (no square root of S_r at all), and n >= d one d x d `eigvalsh` of a
count-weighted Y^T Y: no square root of a non-symmetric matrix per resample.

KID of a resample: the complete unbiased MMD^2 estimate (cubic polynomial kernel, as clean-fid)
between the resampled generated set and the reference features, with the reference-reference
term (a constant, the same in every replicate) from at most `REF_PAIRS_CAP` reference features.
The generated-generated term averages over pairs of distinct samples of the resample: copies of
one sample are not paired with each other. Pairing them (k(x, x) is the kernel's largest value)
inflates the spread: on simulated features 1.5x where the model is near the data; without them
the bootstrap standard error is within 10% of the true one (tests/test_stats.py).
"""

from __future__ import annotations

import numpy as np
import torch

from harness.stats.resample import resample_counts, resample_indices

REF_PAIRS_CAP = 2000
_BLOCK = 1024  # rows of a kernel or Gram block held at once (1024 x 50k float64: 0.4 GB)


def _t(x: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=torch.float64, device=device)


def _sqrtm_psd(sigma: torch.Tensor) -> torch.Tensor:
    d, u = torch.linalg.eigh((sigma + sigma.T) / 2)
    return (u * d.clamp(min=0).sqrt()) @ u.T


def bootstrap_fid(features: np.ndarray, ref_mu: np.ndarray, ref_sigma: np.ndarray,
                  indices: np.ndarray, device: str | torch.device = "cpu") -> np.ndarray:
    """FID of each resample (rows of ``indices``) of ``features`` (n, d) against N(mu, sigma)."""
    dev = torch.device(device)
    x = _t(features, dev)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"the bootstrap of FID needs at least 2 samples, got {n}")
    mu_r, sigma_r = _t(ref_mu, dev), _t(ref_sigma, dev)
    sq = (x * x).sum(1)
    tr_r = torch.trace(sigma_r)
    # Y Y^T = X R R X^T = X S_r X^T: the n x n form needs no square root of S_r.
    gram, y = (x @ sigma_r @ x.T, None) if n < d else (None, x @ _sqrtm_psd(sigma_r))
    out = np.empty(len(indices))
    for b, idx in enumerate(indices):
        ib = torch.as_tensor(idx, device=dev)
        counts = torch.bincount(ib, minlength=n).to(torch.float64)
        mu_b = counts @ x / n
        tr_b = (counts @ sq - n * mu_b @ mu_b) / (n - 1)
        if gram is not None:
            g = gram[ib][:, ib]
            g = g - g.mean(0, keepdim=True) - g.mean(1, keepdim=True) + g.mean()
            lam = torch.linalg.eigvalsh((g + g.T) / (2 * (n - 1)))
        else:
            mu_y = counts @ y / n
            m = (y.T @ (counts[:, None] * y) - n * torch.outer(mu_y, mu_y)) / (n - 1)
            lam = torch.linalg.eigvalsh((m + m.T) / 2)
        diff = mu_b - mu_r
        out[b] = float(diff @ diff + tr_b + tr_r - 2 * lam.clamp(min=0).sqrt().sum())
    return out


def _poly(a: torch.Tensor, b: torch.Tensor, d: int) -> torch.Tensor:
    return (a @ b.T / d + 1) ** 3


def bootstrap_kid(features: np.ndarray, ref_features: np.ndarray, indices: np.ndarray,
                  device: str | torch.device = "cpu", seed: int = 0) -> np.ndarray:
    """Unbiased MMD^2 (cubic kernel) of each resample of ``features`` against ``ref_features``."""
    dev = torch.device(device)
    x, r = _t(features, dev), _t(ref_features, dev)
    n, d = x.shape
    m = len(r)
    if n < 2 or m < 2:
        raise ValueError(f"the bootstrap of KID needs at least 2 samples per set, got {n} and {m}")
    counts = _t(resample_counts(indices), dev)  # (B, n)
    k_gr = torch.zeros(n, dtype=torch.float64, device=dev)  # sum_j k(x_i, r_j)
    for j in range(0, m, _BLOCK):
        k_gr += _poly(x, r[j:j + _BLOCK], d).sum(1)
    quad = torch.zeros(len(counts), dtype=torch.float64, device=dev)  # c^T K c per resample
    for i in range(0, n, _BLOCK):
        block = _poly(x[i:i + _BLOCK], x, d)  # (rows, n)
        quad += (counts[:, i:i + _BLOCK] * (block @ counts.T).T).sum(1)
    diag = ((x * x).sum(1) / d + 1) ** 3
    squares = counts * counts
    gen_gen = (quad - squares @ diag) / (n * n - squares.sum(1))
    gen_ref = 2 * (counts @ k_gr) / (n * m)
    if m > REF_PAIRS_CAP:
        keep = np.sort(np.random.default_rng(seed).choice(m, REF_PAIRS_CAP, replace=False))
        r = r[torch.as_tensor(keep, device=dev)]
    k_rr = _poly(r, r, d)
    ref_ref = (k_rr.sum() - k_rr.diagonal().sum()) / (len(r) * (len(r) - 1))
    return (gen_gen + ref_ref - gen_ref).cpu().numpy()


def bootstrap_color_shift(rgb: np.ndarray, ref_rgb_mu: np.ndarray, ref_rgb_sigma: np.ndarray,
                          indices: np.ndarray) -> np.ndarray:
    """`frechet_mean_rgb` of each resample of the per-image mean colours ``rgb`` (n, 3)."""
    return bootstrap_fid(rgb, ref_rgb_mu, ref_rgb_sigma, indices, "cpu")


def _json_values(values: np.ndarray) -> list[float | None]:
    """Replicates for JSON: a resample without two distinct samples (KID) is null, not NaN."""
    return [float(v) if np.isfinite(v) else None for v in values]


def cell_bootstrap(features: np.ndarray, rgb: np.ndarray | None, ref, resamples: int, seed: int,
                   device: str | torch.device = "cpu") -> dict:
    """The `bootstrap` block of a metrics JSON: replicates of FID, KID and colour shift."""
    n = len(features)
    indices = resample_indices(seed, n, resamples)
    block = {
        "resamples": int(resamples), "seed": int(seed), "samples": int(n),
        "indices": "harness.stats.resample_indices(seed, samples, b), b = 0..resamples-1",
        "fid": _json_values(bootstrap_fid(features, ref.mu, ref.sigma, indices, device)),
        "kid": None, "color_shift": None,
    }
    if ref.features is not None:
        block["kid"] = _json_values(bootstrap_kid(features, ref.features, indices, device, seed))
    if rgb is not None and ref.rgb_mu is not None and ref.rgb_sigma is not None:
        block["color_shift"] = _json_values(bootstrap_color_shift(rgb, ref.rgb_mu, ref.rgb_sigma,
                                                                  indices))
    return block
