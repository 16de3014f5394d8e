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
from scipy import stats as sps

from harness.report.evidence import Evidence, Obs
from harness.stats import Replicate, SeedNoise, cell_estimate, pool_seed_noise
from harness.stats.resample import resample_counts, resample_indices

DEFAULT_RESAMPLES = 200
BOOTSTRAP_SEED = 0
INITIAL = "initial"  # the cell of MSE(x_t, ε): what a network that returns its input scores

Curves = Mapping[str, Mapping[int, dict]]  # weighting -> replicate -> mse.json


def analysed_curves(ev: Evidence, figure: str, eps_only: bool = True) -> dict[str, dict]:
    """weighting (target-weighting for x0/v unless ``eps_only``) -> replicate -> mse.json of
    every analysis of the weightings ``figure`` draws (a seed analysed for Fig. 4 also counts
    for Fig. 10)."""
    entries = [e for e in ev.analysis() if not eps_only or e.get("target", "eps") == "eps"]
    drawn = {(e.get("target", "eps"), e.get("weighting")) for e in entries
             if figure in e.get("figure", [figure])}
    out: dict[str, dict[int, dict]] = {}
    for e in entries:
        target = e.get("target", "eps")
        if (target, e.get("weighting")) in drawn and e.get("mse_data"):
            key = e.get("weighting") if target == "eps" else f"{target}-{e.get('weighting')}"
            out.setdefault(key, {}).setdefault(int(e.get("replicate", 0)), e["mse_data"])
    return out


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


def curve_band(by_seed: Mapping[int, dict], confidence: float = 0.95,
               resamples: int = DEFAULT_RESAMPLES) -> tuple[np.ndarray, ...] | None:
    """(t, mean MSE, low, high) of a weighting's curve: the mean over its analysed seeds with a
    t interval over seeds where there are several, else the percentile interval of the
    bootstrap over the analysed images; None without per-image values or a shared t grid."""
    curves = [d for _, d in sorted(by_seed.items()) if d.get("mse_images")]
    if not curves or any(d["t"] != curves[0]["t"] for d in curves):
        return None
    t = np.asarray(curves[0]["t"])
    if len(curves) >= 2:
        means = np.asarray([d["mse"] for d in curves], np.float64)
        half = (float(sps.t.ppf(0.5 + confidence / 2, len(curves) - 1))
                * means.std(0, ddof=1) / math.sqrt(len(curves)))
        return t, means.mean(0), means.mean(0) - half, means.mean(0) + half
    images = np.asarray(curves[0]["mse_images"], np.float64)
    n = images.shape[1]
    boot = images @ resample_counts(resample_indices(BOOTSTRAP_SEED, n, resamples)).T / n
    tail = 50 * (1 - confidence)
    return (t, images.mean(1), np.percentile(boot, tail, axis=1),
            np.percentile(boot, 100 - tail, axis=1))


def log_margin(relative: float) -> float:
    """A relative margin (10%) on the MSE as a margin on its logarithm."""
    return math.log(1 + relative)
