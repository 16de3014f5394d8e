"""The statistics of the MSE curves (Figs. 4, 10) and their cells for the claim judges.

A curve's number over a range of timesteps is the mean over the analysed t in the range of
log(mean MSE over the analysed images). Its unit of replication is the image: bootstrap
replicates resample the images with `harness.stats.resample_indices`, the same indices for
every weighting and seed (the analyses use the same images and the same noise per t), so
differences between weightings are paired. Analyses of one weighting at several training seeds
form a cell keyed by replicate, and the claims compare cells with the report's own
`harness.stats.combine`: paired t over seeds where several were analysed, else one seed's paired
bootstrap plus the training-seed noise pooled (in log units) from the replicated weightings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from harness.report.evidence import Obs
from harness.stats import Replicate, SeedNoise, cell_estimate, pool_seed_noise
from harness.stats.resample import resample_counts, resample_indices

DEFAULT_RESAMPLES = 200
BOOTSTRAP_SEED = 0
INITIAL = "initial"  # the cell of MSE(x_t, ε): what a network that returns its input scores

Curves = Mapping[str, Mapping[int, dict]]  # weighting -> replicate -> mse.json


def range_replicate(data: dict, keep: Callable[[int], bool], key: str = "mse_images",
                    resamples: int = DEFAULT_RESAMPLES) -> Replicate | None:
    """One analysis' number over the timesteps ``keep`` selects, with its image bootstrap
    (``key``: mse_images or initial_images); None when no analysed t is selected. Files
    without per-image values give the point value only."""
    rows = [i for i, t in enumerate(data.get("t", [])) if keep(int(t))]
    if not rows:
        return None
    means = data.get("mse" if key == "mse_images" else "initial", [])
    values = [means[i] for i in rows]
    if not all(v > 0 for v in values):
        return None
    point = float(np.mean(np.log(values)))
    images = data.get(key)
    if not images:
        return Replicate(point)
    per_image = np.asarray([images[i] for i in rows], np.float64)  # (t, images)
    n = per_image.shape[1]
    counts = resample_counts(resample_indices(BOOTSTRAP_SEED, n, resamples))
    boot = np.log(np.maximum(per_image @ counts.T / n, np.finfo(float).tiny)).mean(0)
    return Replicate(point, boot, None, n)


def range_obs(curves: Curves, keep: Callable[[int], bool], what: str,
              resamples: int = DEFAULT_RESAMPLES,
              confidence: float = 0.95) -> dict[str, Obs]:
    """weighting -> an Obs of its range statistic over its analysed seeds, plus `INITIAL`
    (from each seed's own analysis); all with the seed noise pooled from the replicated ones."""
    cells: dict[str, dict[int, Replicate]] = {}
    for w, by_seed in curves.items():
        for r, data in by_seed.items():
            rep = range_replicate(data, keep, "mse_images", resamples)
            if rep is not None:
                cells.setdefault(w, {})[r] = rep
            init = range_replicate(data, keep, "initial_images", resamples)
            if init is not None and r not in cells.get(INITIAL, {}):
                cells.setdefault(INITIAL, {})[r] = init
    noise = pool_seed_noise([c for w, c in cells.items() if w != INITIAL], relative=False)
    return {w: _obs(w, cell, noise, what, confidence) for w, cell in cells.items()}


def _obs(label: str, cell: dict[int, Replicate], noise: SeedNoise | None, what: str,
         confidence: float) -> Obs:
    values = [r.point for r in cell.values()]
    estimate = cell_estimate(cell, noise)
    ci = estimate.interval(confidence) if estimate is not None else None
    std = float(np.std(values, ddof=1)) if len(values) > 1 else None
    return Obs("ok", float(np.mean(values)), std, len(values), replicates=dict(cell), ci=ci,
               interval_note=f"mean log MSE over {what}", noise=noise, label=label)


def log_margin(relative: float) -> float:
    """A relative margin (10%) on the MSE as a margin on its logarithm."""
    return math.log(1 + relative)
