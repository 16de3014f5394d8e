"""Training-seed noise: how much a cell's value moves when the network is trained again with
another seed, beyond the sampling noise of its own samples.

It is modelled as a coefficient of variation (sd proportional to the value), the form in which
Dufour, Efros and Pérez ("The FID Lottery", arXiv 2606.20536, 2026) measure FID's, so that one
number describes cells of different levels (FID 6 at T=1000, FID 40 at T=20). On the log scale
the same noise has the sd CV whatever the level (`SeedNoise.on_log_scale`).

Its structure across cells: one trained network carries one shift into every cell sampled from
it (its step counts and checkpoints). `shared` says whether a combination's seed variance counts
that shift once per network (its terms' a_k·value_k summed before squaring) or once per cell
(independent). The data behind a single run cannot tell the two apart, so verdicts are bounded
both ways (harness.stats.decision.decide_bounded). A part `sampling_share` of the variance is
each cell's own sampling noise, independent between cells whatever `shared` says.

Two sources, named wherever they are used:
- pooled from the run's replicated cells: per cell with n >= 2 training seeds, the variance of
  its per-seed values divided by the cell's squared mean, pooled with weights n - 1. Cells
  sampled from the same networks (one set of seeds at two step counts) are not independent
  estimates: their degrees of freedom count once. That variance holds one seed's sampling noise
  as well, so adding it to a comparison's own sampling variance counts that part twice:
  conservative. Subtracting the sampling part (the method-of-moments variance component) was
  simulated and rejected: it is truncated at 0 whenever the seeds happen to agree, and then
  decided 7-20% of A/A trials with small seed noise or few pooled seeds
  (tests/test_stats_calibration.py);
- a prior from the literature, for FID only: CV 1-2% over several hundred training runs, each
  with its own samples (the same total variation), of SiT models on ImageNet 256. Retraining
  moves FID 3.2x more than resampling, so for a published number (which carries no sampling
  interval of its own) 1/3.2^2 of that variance is its sampling noise.
KID, IS and the toy scale have no such prior: without replicated cells their one-seed
comparisons have no interval.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats.replicate import Replicate

# FID's coefficient of variation over training seeds is 1-2% (Dufour et al. 2026). Published
# numbers are judged at both ends; a reproduction without replicated cells takes the upper end,
# so that a prior never understates the noise it stands in for.
FID_PRIOR_CVS = (0.01, 0.02)
FID_PRIOR_CV = FID_PRIOR_CVS[-1]
PRIOR_REFERENCE = "Dufour et al. 2026"
# Dufour et al. 2026: retraining moves FID 3.2x more than resampling (ratio of sds).
SEED_TO_SAMPLING = 3.2


@dataclass(frozen=True)
class SeedNoise:
    """A training-seed variance component as a squared coefficient of variation."""

    cv2: float  # var over training seeds / value^2 (relative), or var itself (absolute)
    df: float  # degrees of freedom of the estimate; inf for a prior or for 'as printed'
    source: str  # where it comes from, in words
    cells: int = 0  # replicated cells pooled
    relative: bool = True  # False for quantities on a log scale already (the MSE curves)
    shared: bool = True  # one shift per trained network (else one per cell)
    sampling_share: float = 0.0  # part of cv2 that is each cell's own sampling noise

    @property
    def cv(self) -> float:
        return math.sqrt(self.cv2)

    @property
    def prior(self) -> bool:
        return self.source.startswith("prior")

    def variance(self, value: float) -> float:
        """The seed variance of a cell whose value is ``value``."""
        return self.cv2 * value * value if self.relative else self.cv2

    def combination_variance(self, terms: Sequence[tuple[float, Replicate]]) -> float:
        """The seed variance of sum_k a_k·value_k (module docstring): the shift part summed per
        network when ``shared`` (a replicate of unknown network is its own), the sampling part
        per cell."""
        scaled = [(a * (r.point if self.relative else 1.0), r.network) for a, r in terms]
        groups: dict[object, float] = {}
        for k, (s, network) in enumerate(scaled):
            key = network if self.shared and network is not None else ("cell", k)
            groups[key] = groups.get(key, 0.0) + s
        shift = sum(g * g for g in groups.values())
        own = sum(s * s for s, _ in scaled)
        return self.cv2 * ((1 - self.sampling_share) * shift + self.sampling_share * own)

    def independent(self) -> SeedNoise:
        """The same noise with one shift per cell."""
        return dataclasses.replace(self, shared=False)

    def on_log_scale(self) -> SeedNoise:
        """The noise of log(value): sd CV whatever the level."""
        return dataclasses.replace(self, relative=False)

    def text(self) -> str:
        spread = f"CV {self.cv:.2%}" if self.relative else f"sd {self.cv:.3g}"
        return f"training-seed noise {self.source}, {spread}"


# Published numbers compared exactly, as printed (the description of the paper's text).
AS_PRINTED = SeedNoise(0.0, math.inf, "none (the numbers as printed)")


def fid_prior(cv: float = FID_PRIOR_CV, published: bool = False) -> SeedNoise:
    """The literature's FID seed noise at ``cv``; ``published``: for numbers that carry no
    sampling interval, 1/SEED_TO_SAMPLING^2 of it is each number's own sampling noise."""
    end = {FID_PRIOR_CVS[0]: "lower end", FID_PRIOR_CVS[-1]: "upper end"}.get(cv, "")
    source = (f"prior (FID's CV over training seeds is 1-2%, {PRIOR_REFERENCE}"
              f"{'; ' + end if end else ''})")
    share = 1 / SEED_TO_SAMPLING ** 2 if published else 0.0
    return SeedNoise(cv ** 2, math.inf, source, sampling_share=share)


def prior_for(metric: str, cv: float = FID_PRIOR_CV, published: bool = False) -> SeedNoise | None:
    """The literature's seed noise for ``metric`` (FID only), else None."""
    return fid_prior(cv, published) if metric == "fid" else None


def pool_seed_noise(cells: Iterable[Mapping[int, Replicate]],
                    relative: bool = True) -> SeedNoise | None:
    """The pooled between-seed CV^2 (``relative``; else the variance) of cells with >= 2 finite
    seeds (and a positive mean, for CVs), with the degrees of freedom of its distinct sets of
    networks; None when there is no such cell."""
    total, weight, used = 0.0, 0, 0
    dof: dict[object, int] = {}
    for cell in cells:
        values = np.asarray([r.point for r in cell.values()], np.float64)
        if len(values) < 2 or not np.all(np.isfinite(values)):
            continue
        mean = float(values.mean())
        if relative and not mean > 0:
            continue
        scale = mean * mean if relative else 1.0
        total += (len(values) - 1) * float(values.var(ddof=1)) / scale
        weight += len(values) - 1
        used += 1
        networks = [r.network for r in cell.values()]
        key = frozenset(networks) if None not in networks else ("cell", used)
        dof[key] = max(dof.get(key, 0), len(values) - 1)
    if not weight:
        return None
    df = sum(dof.values())
    return SeedNoise(total / weight, float(df),
                     f"pooled from {used} replicated cell{'s' if used != 1 else ''} "
                     f"({df} df)", used, relative)
