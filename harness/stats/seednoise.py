"""Training-seed noise: how much a cell's value moves when the network is trained again with
another seed, beyond the sampling noise of its own samples.

It is modelled as a coefficient of variation (sd proportional to the value), the form in which
Dufour, Efros and Pérez ("The FID Lottery", arXiv 2606.20536, 2026) measure FID's, so that one
number describes cells of different levels (FID 6 at T=1000, FID 40 at T=20). A one-seed
comparison adds sum_k a_k^2 * cv^2 * value_k^2 to its sampling variance (harness.stats.contrast).

Two sources, named wherever they are used:
- pooled from the run's replicated cells: per cell with n >= 2 training seeds, the variance of
  its per-seed values divided by the cell's squared mean, pooled with weights n - 1 (degrees of
  freedom: the sum of n - 1). That variance holds one seed's sampling noise as well, so adding
  it to a comparison's own sampling variance counts that part twice: conservative. Subtracting
  the sampling part (the method-of-moments variance component) was simulated and rejected: it
  is truncated at 0 whenever the seeds happen to agree, and then decided 7-20% of A/A trials
  with small seed noise or few pooled seeds (tests/test_stats_calibration.py);
- a prior from the literature, for FID only (CV 1-2% over several hundred training runs, each
  with its own samples: the same total variation).
KID, IS and the toy scale have no such prior: without replicated cells their one-seed
comparisons have no interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from harness.stats.contrast import Replicate

# FID's coefficient of variation over training seeds is 1-2% (Dufour et al. 2026); the prior
# takes the upper end so that a prior never understates the noise it stands in for.
FID_PRIOR_CV = 0.02
PRIOR_SOURCE = "prior (FID's CV over training seeds is 1-2%, Dufour et al. 2026; upper end)"


@dataclass(frozen=True)
class SeedNoise:
    """A training-seed variance component as a squared coefficient of variation."""

    cv2: float  # var over training seeds / value^2 (relative), or var itself (absolute)
    df: float  # degrees of freedom of the estimate; inf for a prior or for 'as printed'
    source: str  # where it comes from, in words
    cells: int = 0  # replicated cells pooled
    relative: bool = True  # False for quantities on a log scale already (the MSE curves)

    @property
    def cv(self) -> float:
        return math.sqrt(self.cv2)

    @property
    def prior(self) -> bool:
        return self.source.startswith("prior")

    def variance(self, value: float) -> float:
        """The seed variance of a cell whose value is ``value``."""
        return self.cv2 * value * value if self.relative else self.cv2

    def text(self) -> str:
        spread = f"CV {self.cv:.2%}" if self.relative else f"sd {self.cv:.3g}"
        return f"training-seed noise {self.source}, {spread}"


# Published numbers compared exactly, as printed (the consistency check of the paper's text).
AS_PRINTED = SeedNoise(0.0, math.inf, "none (the numbers as printed)")


def fid_prior() -> SeedNoise:
    return SeedNoise(FID_PRIOR_CV ** 2, math.inf, PRIOR_SOURCE)


def prior_for(metric: str) -> SeedNoise | None:
    """The literature's seed noise for ``metric`` (FID only), else None."""
    return fid_prior() if metric == "fid" else None


def pool_seed_noise(cells: Iterable[Mapping[int, Replicate]],
                    relative: bool = True) -> SeedNoise | None:
    """The pooled between-seed CV^2 (``relative``; else the variance) of cells with >= 2 finite
    seeds (and a positive mean, for CVs); None when there is no such cell."""
    total, dof, used = 0.0, 0, 0
    for cell in cells:
        values = np.asarray([r.point for r in cell.values()], np.float64)
        if len(values) < 2 or not np.all(np.isfinite(values)):
            continue
        mean = float(values.mean())
        if relative and not mean > 0:
            continue
        scale = mean * mean if relative else 1.0
        total += (len(values) - 1) * float(values.var(ddof=1)) / scale
        dof += len(values) - 1
        used += 1
    if not dof:
        return None
    return SeedNoise(total / dof, float(dof),
                     f"pooled from {used} replicated cell{'s' if used != 1 else ''} "
                     f"({dof} df)", used, relative)
