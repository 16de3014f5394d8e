"""Linear combinations of table cells (a difference, a difference of differences) estimated
from their replicates.

A cell is a mapping replicate index r -> Replicate (one training seed). Replicate r of two
weightings shares its seeds (data order, noise, every sample's x_T), so cells are paired by r.
The estimate is centred on the point values (`fid`, `kid`, ... as the result files state them);
replicates and bootstrap samples only supply the spread. The rule, in order:

1. every cell exact (published numbers): the combination, exact;
2. at least 2 replicates common to all cells: paired t over the per-seed combinations;
3. every cell with at least 2 replicates, but not paired: Welch;
4. one common replicate: the bootstrap of that seed's samples (elementwise combination of the
   cells' replicates: the same index sets when the cells have the same sample count, so it is a
   paired bootstrap), else the spreads the files carry, combined as if independent;
5. otherwise: no interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats import estimate as est
from harness.stats.estimate import Estimate


@dataclass(frozen=True)
class Replicate:
    """One training seed's number for a cell, with what it carries about its sampling noise."""

    point: float
    boot: np.ndarray | None = None  # bootstrap replicates of the metric (only their spread counts)
    se: float | None = None  # a standard error carried by the file, when there is no bootstrap
    n_samples: int | None = None  # generated samples behind the point value
    exact: bool = False  # a published number

    def boot_se(self) -> float | None:
        """The standard error of the point value (bootstrap, else the file's)."""
        if self.boot is not None and self.n_samples:
            return est.bootstrap(self.point, self.boot, self.n_samples).se
        return self.se


Cell = Mapping[int, Replicate]
Terms = Sequence[tuple[float, Cell]]


def cell_estimate(cell: Cell) -> Estimate | None:
    """The cell's own value: mean over seeds (t interval), or one seed's sampling interval."""
    return combine([(1.0, cell)])


def combine(terms: Terms) -> Estimate | None:
    """sum_k a_k * cell_k (see the module docstring); None when a cell has no replicate."""
    cells = [c for _, c in terms]
    if not terms or any(not c for c in cells):
        return None
    coefs = [a for a, _ in terms]
    infinite = [a * r.point for a, c in terms for r in c.values() if math.isinf(r.point)]
    if infinite:  # a diverged arm: counted as infinitely bad, the sign is all that matters
        total = sum(infinite)
        return est.exact(total if not math.isnan(total) else math.nan, "diverged run")
    if all(r.exact for c in cells for r in c.values()):
        return est.exact(sum(a * next(iter(c.values())).point for a, c in terms))
    common = sorted(set.intersection(*(set(c) for c in cells)))
    if len(common) >= 2:
        return est.paired([sum(a * c[r].point for a, c in terms) for r in common])
    if all(len(c) >= 2 for c in cells):
        return est.welch([(a, [r.point for r in c.values()]) for a, c in terms])
    if len(common) == 1:
        return _one_seed(coefs, [c[common[0]] for c in cells])
    return est.no_interval(sum(a * float(np.mean([r.point for r in c.values()]))
                               for a, c in terms), why="the cells' seeds do not pair")


def _one_seed(coefs: list[float], reps: list[Replicate]) -> Estimate:
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
