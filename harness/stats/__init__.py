"""Pure statistics of the report: estimates with intervals, contrasts over replicates, verdicts
with multiplicity control, bootstrap indices shared between cells, and the A/A simulation."""

from harness.stats.contrast import Replicate, cell_estimate, combine
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
from harness.stats.estimate import Estimate, exact
from harness.stats.resample import resample_counts, resample_indices

__all__ = [
    "CONTRADICTED", "INCONCLUSIVE", "NOT_RUN", "SUPPORTED", "VERDICTS", "CellTest",
    "ClaimDecision", "Estimate", "Replicate", "cell_estimate", "combine", "decide", "direction",
    "equivalence", "exact", "holm_rejections", "resample_counts", "resample_indices",
]
