"""Linear combinations of table cells (a difference, a difference of differences) estimated
from their replicates.

A cell is a mapping replicate index r -> Replicate (one training seed with a finite value;
seeds that diverged are counted by the caller, harness.stats.divergence). Replicate r of two
weightings shares its seeds (data order, noise, every sample's x_T), so cells are paired by r.
The estimate is centred on the point values (`fid`, `kid`, ... as the result files state them);
replicates and bootstrap samples only supply the spread. The rule, in order:

1. every cell exact (published numbers): the combination, with the seed-noise model's
   variance (a prior, shared by one network's cells or not: `SeedNoise`; `AS_PRINTED` compares
   exactly), else no interval;
2. at least 2 replicates common to all cells: paired t over the per-seed combinations;
3. every cell with at least 2 replicates, but not paired: Welch;
4. one common replicate: the sampling noise of that seed (the bootstrap of its samples, an
   elementwise combination of the cells' replicates: the same index sets when the cells have
   the same sample count, so it is a paired bootstrap; else the spreads the files carry,
   combined as if independent) plus the training-seed variance of `noise` (one shift per
   network when it is shared, harness.stats.seednoise); without a seed-noise
   model, no interval: one seed's sampling noise says nothing about another training seed;
5. otherwise: no interval.
"""

from __future__ import annotations

import math

import numpy as np

from harness.stats import estimate as est
from harness.stats.estimate import Estimate
from harness.stats.replicate import Cell, Replicate, Terms
from harness.stats.seednoise import SeedNoise

__all__ = ["Cell", "Replicate", "Terms", "cell_estimate", "combine", "combine_bounded",
           "one_seed_sampling"]


def cell_estimate(cell: Cell, noise: SeedNoise | None = None) -> Estimate | None:
    """The cell's own value: mean over seeds (t interval), or one seed's sampling interval plus
    the seed noise of ``noise`` (sampling noise alone without one: a cell is shown, not
    decided)."""
    if len(cell) == 1 and noise is None:
        return one_seed_sampling([1.0], list(cell.values()))
    return combine([(1.0, cell)], noise)


def combine(terms: Terms, noise: SeedNoise | None = None) -> Estimate | None:
    """sum_k a_k * cell_k (see the module docstring); None when a cell has no replicate."""
    cells = [c for _, c in terms]
    if not terms or any(not c for c in cells):
        return None
    coefs = [a for a, _ in terms]
    if all(r.exact for c in cells for r in c.values()):
        reps = [next(iter(c.values())) for c in cells]
        return _with_seed_noise(coefs, reps, None, noise)
    common = sorted(set.intersection(*(set(c) for c in cells)))
    if len(common) >= 2:
        return est.paired([sum(a * c[r].point for a, c in terms) for r in common])
    if all(len(c) >= 2 for c in cells):
        return est.welch([(a, [r.point for r in c.values()]) for a, c in terms])
    if len(common) == 1:
        reps = [c[common[0]] for c in cells]
        return _with_seed_noise(coefs, reps, one_seed_sampling(coefs, reps), noise)
    return est.no_interval(sum(a * float(np.mean([r.point for r in c.values()]))
                               for a, c in terms), why="the cells' seeds do not pair")


def combine_bounded(terms: Terms, noise: SeedNoise | None = None
                    ) -> tuple[Estimate | None, Estimate | None]:
    """``combine`` with ``noise`` as it is, and with one seed shift per cell where that differs
    (else None): the two ends of the correlation between one network's cells."""
    estimate = combine(terms, noise)
    if noise is None or not noise.shared:
        return estimate, None
    independent = combine(terms, noise.independent())
    return estimate, None if independent == estimate else independent


def _with_seed_noise(coefs: list[float], reps: list[Replicate], sampling: Estimate | None,
                     noise: SeedNoise | None) -> Estimate:
    point = sum(a * r.point for a, r in zip(coefs, reps, strict=True))
    if noise is None:
        return est.no_interval(point, why=est.NO_SEED_NOISE)
    if sampling is None and noise.cv2 == 0:  # published numbers compared as printed
        return est.exact(point)
    if sampling is not None and sampling.se is None:
        return est.no_interval(point, why=f"{sampling.note}; no sampling interval to add "
                                          "training-seed noise to")
    seed_var = noise.combination_variance(list(zip(coefs, reps, strict=True)))
    return est.with_seed_noise(sampling, point, seed_var, noise.df, noise.text())


def one_seed_sampling(coefs: list[float], reps: list[Replicate]) -> Estimate:
    """The sampling noise of one seed's combination: the paired bootstrap, else the spreads the
    files carry (as if independent), else no interval."""
    point = sum(a * r.point for a, r in zip(coefs, reps, strict=True))
    if all(r.boot is not None and r.n_samples for r in reps):
        b = min(len(r.boot) for r in reps)
        combined = sum(a * np.asarray(r.boot[:b], np.float64)
                       for a, r in zip(coefs, reps, strict=True))
        return est.bootstrap(point, combined, min(r.n_samples for r in reps))
    ses = [r.boot_se() for r in reps]
    if all(s is not None for s in ses):
        return est.spread(point, math.sqrt(sum((a * s) ** 2 for a, s in
                                               zip(coefs, ses, strict=True))))
    return est.no_interval(point)
