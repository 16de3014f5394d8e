"""FID and KID through clean-fid's own functions, and the colour-shift measure.

FID is `cleanfid.fid.frechet_distance` on (mu, sigma). KID is `cleanfid.fid.kernel_distance`
(unbiased MMD^2 with the cubic polynomial kernel, averaged over random subsets); clean-fid
draws its subsets from NumPy's global generator, so we seed that generator ourselves (and
restore its state afterwards) and evaluate one subset per call to also get the spread.

Colour shift (beyond the paper, which shows it only in pictures): each image is summarised by
its mean RGB (0..255); `frechet_mean_rgb` is the Fréchet distance between the Gaussians fitted
to these 3-vectors for the samples and for the reference set (squared pixel units; 0 for
identical sets), and `mean_signed_shift_rgb` is samples minus reference of the mean colour
per channel (pixel units, positive = samples too bright in that channel).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
from cleanfid.fid import frechet_distance, kernel_distance

DEFAULT_KID_SUBSETS = 100


def fid_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                   sigma2: np.ndarray) -> float:
    """clean-fid's Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"statistics of different dimensions: mu {mu1.shape} vs {mu2.shape}, "
                         f"sigma {sigma1.shape} vs {sigma2.shape}")
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
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        # One subset per call draws the same random stream as one call with num_subsets,
        # so the mean below equals clean-fid's own KID for this seed.
        values = [kernel_distance(feats1, feats2, num_subsets=1,
                                  max_subset_size=subset_size) for _ in range(num_subsets)]
    finally:
        np.random.set_state(state)
    used = min(len(feats1), len(feats2), subset_size)
    return {"kid": float(np.mean(values)), "kid_std": float(np.std(values)),
            "subset_size": int(used), "num_subsets": int(num_subsets), "seed": int(seed)}


def color_shift(rgb_mu_gen: np.ndarray, rgb_sigma_gen: np.ndarray, rgb_mu_ref: np.ndarray,
                rgb_sigma_ref: np.ndarray) -> dict:
    """Fréchet distance of per-image mean RGB, and the mean signed shift per channel."""
    return {
        "frechet_mean_rgb": fid_from_stats(rgb_mu_gen, rgb_sigma_gen, rgb_mu_ref, rgb_sigma_ref),
        "mean_signed_shift_rgb": [float(v) for v in (rgb_mu_gen - rgb_mu_ref)],
    }
