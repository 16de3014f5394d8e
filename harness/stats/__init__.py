"""Pure statistics of the report: estimates with intervals, contrasts over replicates, the
training-seed noise model, diverged seeds, verdicts with multiplicity control, bootstrap indices
shared between cells, and the calibration simulations."""

from harness.stats.contrast import cell_estimate, combine, combine_bounded, one_seed_sampling
from harness.stats.decision import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_RUN,
    SUPPORTED,
    VERDICTS,
    BoundedDecision,
    CellTest,
    ClaimDecision,
    below,
    decide,
    decide_bounded,
    direction,
    equivalence,
    holm_rejections,
)
from harness.stats.divergence import Divergence, divergence_rate_interval
from harness.stats.estimate import Estimate, exact
from harness.stats.replicate import Replicate, log_cell
from harness.stats.resample import resample_counts, resample_indices
from harness.stats.seednoise import (
    AS_PRINTED,
    FID_PRIOR_CVS,
    SeedNoise,
    pool_seed_noise,
    prior_for,
)

__all__ = [
    "AS_PRINTED", "CONTRADICTED", "FID_PRIOR_CVS", "INCONCLUSIVE", "NOT_RUN", "SUPPORTED",
    "VERDICTS", "BoundedDecision", "CellTest", "ClaimDecision", "Divergence", "Estimate",
    "Replicate", "SeedNoise", "below", "cell_estimate", "combine", "combine_bounded", "decide",
    "decide_bounded", "direction", "divergence_rate_interval", "equivalence", "exact",
    "holm_rejections", "log_cell", "one_seed_sampling", "pool_seed_noise", "prior_for",
    "resample_counts", "resample_indices",
]
