"""FID and KID as clean-fid computes them, and the colour-shift measure.

FID is `cleanfid.fid.frechet_distance` on (mu, sigma) (scipy `sqrtm` of a 2048 x 2048
matrix: tens of CPU seconds); `impl="eigh"` opts into the same quantity computed with two
symmetric eigendecompositions, ~10x faster, for CI-sized runs (recorded as `fid_impl`).
KID is clean-fid's `kernel_distance` (unbiased MMD^2 with the cubic polynomial kernel,
averaged over random subsets), written out here with the same subset draws, so its numbers are
clean-fid's (tests/test_metrics.py compares them): importing `cleanfid.fid` imports torchvision,
~2 CPU seconds that every metrics and refstats job would pay (it is imported only for
`impl="clean-fid"`). clean-fid draws the subsets from NumPy's global generator after
`np.random.seed`; a `RandomState(seed)` draws the same ones and leaves the global one alone.

Colour shift (beyond the paper, which shows it only in pictures): each image is summarised by
its mean RGB (0..255); `frechet_mean_rgb` is the Fréchet distance between the Gaussians fitted
to these 3-vectors for the samples and for the reference set (squared pixel units; 0 for
identical sets), and `mean_signed_shift_rgb` is samples minus reference of the mean colour
per channel (pixel units, positive = samples too bright in that channel).
`frechet_mean_rgb` is the colour-shift metric the report's claims decide on: a cast over the
whole set moves the mean term (a shift delta of every image gives |delta|^2), colours that
vary more or less than the data's move the covariance term.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

DEFAULT_KID_SUBSETS = 100
FID_IMPLS = ("clean-fid", "eigh")


def frechet_distance_eigh(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                          sigma2: np.ndarray, features1: np.ndarray | None = None) -> float:
    """The same Fréchet distance by symmetric eigendecompositions (opt-in, ~10x faster).

    Tr sqrt(S1 S2) = sum of sqrt(eigenvalues of R S2 R) with R = S1^(1/2): S1 S2 and R S2 R
    share their spectrum, and R S2 R is symmetric PSD, so two `eigh` calls replace scipy's
    `sqrtm` of a non-symmetric 2048 x 2048 matrix (the cost of every FID on a CPU).
    With `features1`, the n rows whose mean and covariance are (mu1, sigma1), and n < d:
    S1 = Xc^T Xc / (n - 1) (Xc: the centred rows), and the nonzero eigenvalues of
    Xc^T Xc S2 are those of the n x n Xc S2 Xc^T, so one small `eigvalsh` does (at toy sample
    counts this saves the two 2048 x 2048 decompositions, ~2 CPU seconds per cell).
    """
    diff = mu1 - mu2
    if features1 is not None and len(features1) < len(mu1):
        centred = np.asarray(features1, np.float64) - mu1
        m = centred @ sigma2 @ centred.T / (len(centred) - 1)
    else:
        d, u = np.linalg.eigh((sigma1 + sigma1.T) / 2)
        root = (u * np.sqrt(np.clip(d, 0, None))) @ u.T
        m = root @ sigma2 @ root
    lam = np.linalg.eigvalsh((m + m.T) / 2)
    tr_covmean = np.sqrt(np.clip(lam, 0, None)).sum()
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def fid_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                   sigma2: np.ndarray, impl: str = "clean-fid",
                   features1: np.ndarray | None = None) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2): clean-fid's
    `frechet_distance` (default, the protocol), or `frechet_distance_eigh` (impl="eigh"),
    which uses `features1` (all the rows behind mu1, sigma1; optional) to go faster."""
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"statistics of different dimensions: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
    if impl not in FID_IMPLS:
        raise ValueError(f"unsupported FID implementation {impl!r}; choose {', '.join(FID_IMPLS)}")
    if impl == "eigh":
        return frechet_distance_eigh(mu1, sigma1, mu2, sigma2, features1)
    from cleanfid.fid import frechet_distance

    # clean-fid prints a note when it regularises a singular product; keep stdout clean
    # (the `harness fid` output is one JSON object).
    with contextlib.redirect_stdout(io.StringIO()):
        return float(frechet_distance(mu1, sigma1, mu2, sigma2))


def kid_from_features(feats1: np.ndarray, feats2: np.ndarray, *, subset_size: int,
                      num_subsets: int = DEFAULT_KID_SUBSETS, seed: int = 0) -> dict:
    """KID mean and std over `num_subsets` seeded subsets of min(subset_size, n1, n2).

    Argument order as clean-fid's `kernel_distance(feats1, feats2)` (its `compute_kid` passes
    the reference features first when scoring a generator against a dataset).
    """
    if min(len(feats1), len(feats2)) < 2 or subset_size < 2:
        raise ValueError(f"KID needs subsets of at least 2 images; have {len(feats1)} and "
                         f"{len(feats2)} images, subset size {subset_size}")
    if num_subsets < 1:
        raise ValueError(f"num_subsets must be >= 1, got {num_subsets}")
    rng = np.random.RandomState(seed)
    m = min(len(feats1), len(feats2), subset_size)
    values = []
    for _ in range(num_subsets):
        x = feats2[rng.choice(len(feats2), m, replace=False)]  # clean-fid's order of draws
        y = feats1[rng.choice(len(feats1), m, replace=False)]
        values.append(_mmd2_subset(x, y))
    return {"kid": float(np.mean(values)), "kid_std": float(np.std(values)),
            "subset_size": int(m), "num_subsets": int(num_subsets), "seed": int(seed)}


def _mmd2_subset(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 of two subsets of m features each, kernel k(a, b) = (a.b / d + 1)^3, with
    clean-fid's operations in clean-fid's order (so the float results agree too)."""
    m, d = x.shape
    within = (x @ x.T / d + 1) ** 3 + (y @ y.T / d + 1) ** 3
    across = (x @ y.T / d + 1) ** 3
    return float(((within.sum() - np.diag(within).sum()) / (m - 1) - across.sum() * 2 / m) / m)


def color_shift(rgb_mu_gen: np.ndarray, rgb_sigma_gen: np.ndarray, rgb_mu_ref: np.ndarray,
                rgb_sigma_ref: np.ndarray) -> dict:
    """Fréchet distance of per-image mean RGB, and the mean signed shift per channel."""
    return {
        # The eigh form: exact for 3 x 3, and it needs no clean-fid import (see above).
        "frechet_mean_rgb": fid_from_stats(rgb_mu_gen, rgb_sigma_gen, rgb_mu_ref, rgb_sigma_ref,
                                           impl="eigh"),
        "mean_signed_shift_rgb": [float(v) for v in (rgb_mu_gen - rgb_mu_ref)],
    }
