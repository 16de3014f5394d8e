"""Verdicts from estimates: per cell, then per claim over many cells.

Words: supported, contradicted, inconclusive, not run. At confidence c, each one-sided test has
level a = (1 - c)/2, so a single cell is decided exactly when its c-interval excludes the
boundary, and a cell where nothing differs is decided (wrongly, either way) with probability at
most 1 - c.

A claim over k cells ("Ours beats Constant in every cell"):
- contradicted when Holm's step-down procedure at level a, over the cells that have a result,
  rejects 'the claim holds' in at least one cell (family-wise error <= a); cells without a
  result cannot hide a contradiction, they are counted beside it;
- not run when a cell has no result (and no cell contradicts): the others cannot support an
  'every cell' claim alone;
- supported when every cell is supported at level a (an intersection-union test: its error is
  at most a without a correction, and far smaller when the cells are independent);
- inconclusive otherwise.
A cell whose arms have diverged seeds adds Fisher's test of the divergence counts to the test of
its finite seeds (harness.stats.divergence).

Where a cell's interval rests on a model of training-seed noise that shares one network's shift
between the cells sampled from it, the cell also carries its estimate with independent shifts:
one run cannot tell the two apart, so `decide_bounded` decides under both and keeps a verdict
only where they agree (the variance is linear in the correlation, so the two ends bound every
correlation between them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cached_property

from harness.stats.divergence import Divergence
from harness.stats.estimate import Estimate

SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_RUN = (
    "supported", "contradicted", "inconclusive", "not run")
VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_RUN)
DIRECTION, EQUIVALENCE, BELOW = "direction", "equivalence", "below a bound"


@dataclass(frozen=True)
class CellTest:
    """One cell of a claim: its deciding estimate and the two one-sided p-values."""

    label: str
    estimate: Estimate | None  # None: the cell was not run
    kind: str = DIRECTION
    margin: float | None = None  # equivalence margin, or the bound (same units as the estimate)
    why: str = ""  # why it was not run
    divergence: Divergence | None = None  # diverged seeds of its arms, if any
    independent_estimate: Estimate | None = None  # with one seed shift per cell (None: same)
    cells: tuple[Hashable, ...] = ()  # what the comparison reads (shared evidence)

    def independent(self) -> CellTest:
        """This test with each cell's training-seed shift independent of the others'."""
        if self.independent_estimate is None:
            return self
        return dataclasses.replace(self, estimate=self.independent_estimate,
                                   independent_estimate=None)

    @property
    def run(self) -> bool:
        """The cell has a result: finite seeds, or divergence counts to test."""
        return self.estimate is not None or self._diverged

    @property
    def _diverged(self) -> bool:
        return self.divergence is not None and self.divergence.any

    def _finite_p(self, support: bool) -> float:
        e = self.estimate
        if e is None:
            return 1.0
        if self.kind == EQUIVALENCE:
            if support:  # both one-sided tests of TOST must reject
                return max(e.p_above(-self.margin), e.p_below(self.margin))
            return min(e.p_above(self.margin), e.p_below(-self.margin))  # beyond the margin
        if self.kind == BELOW:
            return e.p_below(self.margin) if support else e.p_above(self.margin)
        return e.p_above(0.0) if support else e.p_below(0.0)

    def _p(self, support: bool) -> float:
        finite = self._finite_p(support)
        if not self._diverged:
            return finite
        d = self.divergence
        up = support != (self.kind == BELOW)  # the claim's side: above 0, or below the bound
        if d.blocks_support if up else d.blocks_contradiction:
            return 1.0
        p_div = d.p_values()[0 if up else 1]
        if self.estimate is None or self.estimate.se is None:
            return p_div
        return min(1.0, 2 * min(finite, p_div))  # two pieces of evidence: Bonferroni

    @cached_property
    def p_support(self) -> float:
        return self._p(True)

    @cached_property
    def p_contradict(self) -> float:
        return self._p(False)

    def outcome(self, confidence: float) -> str:
        if not self.run:
            return NOT_RUN
        level = side_level(confidence)
        if self.p_contradict < level:
            return CONTRADICTED
        if self.p_support < level:
            return SUPPORTED
        return INCONCLUSIVE


def side_level(confidence: float) -> float:
    """The level of each one-sided test at two-sided ``confidence``."""
    if not 0.5 < confidence < 1:
        raise ValueError(f"confidence must lie in (0.5, 1), got {confidence}")
    return (1 - confidence) / 2


def direction(label: str, estimate: Estimate | None, why: str = "",
              divergence: Divergence | None = None,
              independent: Estimate | None = None) -> CellTest:
    """The claim holds in this cell when ``estimate`` is positive (``independent``: the
    estimate with one seed shift per cell, where it differs)."""
    return CellTest(label, estimate, DIRECTION, None, why, divergence, independent)


def below(label: str, estimate: Estimate | None, bound: float, why: str = "",
          divergence: Divergence | None = None,
          independent: Estimate | None = None) -> CellTest:
    """The claim holds when ``estimate`` lies below ``bound`` ("at most slightly larger":
    non-inferiority); the estimate is shown as it is, beside the bound."""
    return CellTest(label, estimate, BELOW, bound, why, divergence, independent)


def equivalence(label: str, estimate: Estimate | None, margin: float, why: str = "",
                divergence: Divergence | None = None,
                independent: Estimate | None = None) -> CellTest:
    """The claim holds when ``estimate`` lies within ±margin (two one-sided tests)."""
    if not margin > 0:
        raise ValueError(f"an equivalence margin must be positive, got {margin}")
    return CellTest(label, estimate, EQUIVALENCE, margin, why, divergence, independent)


@dataclass(frozen=True)
class ClaimDecision:
    outcome: str
    counts: dict[str, int]  # per-cell outcomes, each cell at level a (unadjusted)
    holm_contradicted: int  # cells contradicted after Holm's adjustment

    def summary(self) -> str:
        k = sum(self.counts.values())
        parts = [f"{self.counts[v]} {v}" for v in VERDICTS if self.counts[v]]
        text = f"{k} cell{'s' if k != 1 else ''}: " + ", ".join(parts)
        if k > 1 and self.counts[CONTRADICTED] != self.holm_contradicted:
            text += f" ({self.holm_contradicted} contradicted after Holm's adjustment)"
        return text


def holm_rejections(p_values: Sequence[float], level: float) -> int:
    """How many hypotheses Holm's step-down procedure rejects at family-wise ``level``."""
    k = len(p_values)
    for i, p in enumerate(sorted(p_values)):
        if p >= level / (k - i):
            return i
    return k


def decide(tests: Sequence[CellTest], confidence: float) -> ClaimDecision:
    """The claim-level verdict over ``tests`` (rule in the module docstring)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for t in tests:
        counts[t.outcome(confidence)] += 1
    run = [t for t in tests if t.run]
    holm = holm_rejections([t.p_contradict for t in run], side_level(confidence))
    if holm:
        return ClaimDecision(CONTRADICTED, counts, holm)
    if not tests or len(run) < len(tests):
        return ClaimDecision(NOT_RUN, counts, holm)
    if counts[SUPPORTED] == len(tests):
        return ClaimDecision(SUPPORTED, counts, holm)
    return ClaimDecision(INCONCLUSIVE, counts, holm)


@dataclass(frozen=True)
class BoundedDecision:
    """A claim decided with a network's seed shift shared by its cells and with it independent;
    the verdict is theirs where they agree, else inconclusive (not run where one is)."""

    shared: ClaimDecision
    independent: ClaimDecision

    @property
    def agree(self) -> bool:
        return self.shared.outcome == self.independent.outcome

    @property
    def outcome(self) -> str:
        if self.agree:
            return self.shared.outcome
        outcomes = {self.shared.outcome, self.independent.outcome}
        return NOT_RUN if NOT_RUN in outcomes else INCONCLUSIVE

    @property
    def decision(self) -> ClaimDecision:
        """The per-cell counts shown: those of a model that reached the verdict."""
        return next((d for d in (self.shared, self.independent) if d.outcome == self.outcome),
                    self.independent)

    def text(self) -> str:
        """Which way decided, in words ('' where both agree)."""
        if self.agree:
            return ""
        return (f"{self.shared.outcome} if a trained network's seed shift is shared by all its "
                f"cells (step counts, checkpoints), {self.independent.outcome} if each cell's "
                "is independent: the data cannot tell the two apart, so the verdict is "
                f"{self.outcome}")


def decide_bounded(tests: Sequence[CellTest], confidence: float) -> BoundedDecision:
    """``decide`` with the shared and with the independent seed-noise model."""
    return BoundedDecision(decide(tests, confidence),
                           decide([t.independent() for t in tests], confidence))
