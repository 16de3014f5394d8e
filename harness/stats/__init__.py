"""Pure statistics of the report: estimates with intervals, contrasts over replicates, the
training-seed noise model, diverged seeds, verdicts with multiplicity control, bootstrap indices
shared between cells, and the calibration simulations."""

from harness.stats.contrast import Replicate, cell_estimate, combine, one_seed_sampling
from harness.stats.decision import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_RUN,
    SUPPORTED,
    VERDICTS,
    CellTest,
    ClaimDecision,
    decide,
    direction,
    equivalence,
    holm_rejections,
)
from harness.stats.divergence import Divergence, divergence_rate_interval
from harness.stats.estimate import Estimate, exact
from harness.stats.resample import resample_counts, resample_indices
from harness.stats.seednoise import AS_PRINTED, SeedNoise, pool_seed_noise, prior_for

__all__ = [
    "AS_PRINTED", "CONTRADICTED", "INCONCLUSIVE", "NOT_RUN", "SUPPORTED", "VERDICTS", "CellTest",
    "ClaimDecision", "Divergence", "Estimate", "Replicate", "SeedNoise", "cell_estimate",
    "combine", "decide", "direction", "divergence_rate_interval", "equivalence", "exact",
    "holm_rejections", "one_seed_sampling", "pool_seed_noise", "prior_for", "resample_counts",
    "resample_indices",
]
