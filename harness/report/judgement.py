"""A claim's judgement: its per-cell tests, the verdict `harness.stats.decide_bounded` draws
from them (with one network's training-seed shift shared by its cells, and independent), and
the deciding numbers in words; plus the ways judges build a cell test from `Obs`es.

On the paper's own numbers a comparison is described, never given a verdict word of its own:
with the seed-noise prior it lies inside or beyond training-seed noise; as printed it goes the
claimed way or against it."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass, field

from harness.paper.claim import EQUIVALENCE_MARGIN
from harness.report.evidence import Obs
from harness.report.views import View
from harness.stats import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_RUN,
    SUPPORTED,
    BoundedDecision,
    CellTest,
    ClaimDecision,
    Divergence,
    below,
    combine_bounded,
    decide_bounded,
    direction,
    equivalence,
)
from harness.stats.decision import BELOW, EQUIVALENCE

NO_NUMBERS = "no numbers"
NOT_ASSESSABLE = "not assessable"  # published numbers of a metric without a seed-noise prior
# A published comparison's place against training-seed noise, per cell outcome.
NOISE_WORDS = {SUPPORTED: "beyond training-seed noise, as claimed",
               CONTRADICTED: "beyond training-seed noise, against the claim",
               INCONCLUSIVE: "inside training-seed noise"}


@dataclass
class Judgement:
    outcome: str
    tests: list[CellTest] = field(default_factory=list)
    decision: ClaimDecision | None = None
    notes: list[str] = field(default_factory=list)
    confidence: float = 0.95
    bounded: BoundedDecision | None = None  # the verdict with shared and independent shifts
    published: bool = False  # the paper's own numbers: comparisons are described
    coverage: str = ""  # the part of the paper's cells it covers, where not all ("on 1 of 4 ...")
    scope: list[str] = field(default_factory=list)  # coverage and samplers, in full

    @property
    def which_way(self) -> str:
        """Which seed-noise correlation decided, where the two differ ('' otherwise)."""
        return self.bounded.text() if self.bounded is not None else ""

    @property
    def details(self) -> list[str]:
        """The deciding numbers, one line per cell, after the notes and the cell counts."""
        lines = list(self.notes)
        if self.which_way:
            lines.append(f"decided one way only: {self.which_way}")
        if self.decision is not None and len(self.tests) > 1:
            lines.append(self.summary())
        lines += [self.line(t) for t in self.tests]
        return lines

    def records(self) -> list[dict]:
        """The per-cell tests, machine-readable: label, value, interval, se, df, outcome."""
        out = []
        for t in self.tests:
            e = t.estimate
            interval = e.interval(self.confidence) if e is not None else None
            out.append({"label": t.label, "outcome": t.outcome(self.confidence),
                        "value": e.value if e is not None else None,
                        "interval": list(interval) if interval else None,
                        "se": e.se if e is not None else None,
                        "df": e.df if e is not None and math.isfinite(e.df) else None,
                        "n_seeds": e.n if e is not None else None,
                        "method": e.method if e is not None else None})
        return out

    def summary(self) -> str:
        """The per-cell counts; on published numbers in the words of `word`, not verdicts."""
        if not self.published:
            return self.decision.summary()
        words = Counter(self.word(t) for t in self.tests)
        text = f"{len(self.tests)} comparisons: " + "; ".join(f"{n} {w}" for w, n in
                                                            words.items())
        if self.decision.holm_contradicted != self.decision.counts[CONTRADICTED]:
            text += (f" ({self.decision.holm_contradicted} against the claim after Holm's "
                     "adjustment)")
        return text

    def word(self, test: CellTest) -> str:
        """A cell's outcome: a verdict word, or on published numbers its place against noise."""
        outcome = test.outcome(self.confidence)
        if not self.published:
            return outcome
        if test.estimate is not None and test.estimate.se is None:
            return "no interval (no seed-noise prior for this metric)"
        if test.estimate is not None and test.estimate.se == 0:
            return f"as printed: {printed_way(test)}"
        return NOISE_WORDS.get(outcome, outcome)

    def line(self, t: CellTest) -> str:
        if not t.run:
            return f"{t.label}: not run ({t.why})"
        diverged = f"; {t.divergence.text()}" if t.divergence and t.divergence.any else ""
        if t.estimate is None:
            return f"{t.label}: no finite seeds{diverged} → {self.word(t)}"
        bound = ""
        if t.kind == EQUIVALENCE:
            bound = f", margin ±{t.margin:.4g}"
        elif t.kind == BELOW:
            bound = f", bound < {t.margin:+.4g}"
        text = (f"{t.label} = {t.estimate.text(self.confidence)}{bound} — {t.estimate.note}"
                f"{diverged} → {self.word(t)}")
        if t.independent_estimate is not None:
            alone = t.independent()
            text += (f" (each cell's seed shift independent: "
                     f"{alone.estimate.text(self.confidence)} → {self.word(alone)})")
        return text


def judge(view: View, tests: list[CellTest], notes: list[str] | None = None,
          none_why: str = "") -> Judgement:
    """The verdict over ``tests``; 'not run' with ``none_why`` when there is none; on published
    numbers of a metric without a seed-noise prior, 'not assessable'."""
    if not tests:
        return Judgement(NOT_RUN, notes=(notes or []) + [none_why], confidence=view.confidence,
                         published=view.published)
    bounded = decide_bounded(tests, view.confidence)
    outcome = bounded.outcome
    finite = [t.estimate for t in tests if t.estimate is not None]
    if view.published and finite and all(e.se is None for e in finite):
        outcome = NOT_ASSESSABLE
    return Judgement(outcome, tests, bounded.decision, notes or [], view.confidence, bounded,
                     view.published)


def diff(label: str, plus: Obs | None, minus: Obs | None, *more: tuple[float, Obs]) -> CellTest:
    """The test that plus − minus (+ more terms) is positive (`contrast`)."""
    return contrast(label, [(1.0, plus or Obs("not in plan")),
                            (-1.0, minus or Obs("not in plan")), *more])


def contrast(label: str, terms: list[tuple[float, Obs]]) -> CellTest:
    """The test that sum_k a_k·term_k is positive, on the finite seeds with the terms'
    training-seed noise (shared by one network's cells, and independent), and on the counts of
    diverged seeds (a diverged seed counts as the worst value: pass the higher-is-worse metric,
    or skip diverged runs)."""
    divergence = Divergence(tuple((a, o.label, len(o.diverged), o.seeds) for a, o in terms))
    cells = tuple(dict.fromkeys(o.key for _, o in terms if o.key))
    missing = [f"{o.label}: {o.status}" if o.label else o.status
               for _, o in terms if not o.cell() and not o.diverged]
    if missing:
        return direction(label, None, why=", ".join(dict.fromkeys(missing)))
    if any(not o.cell() for _, o in terms):  # a term's every seed diverged
        return _with_cells(direction(label, None, divergence=divergence), cells)
    noises = {o.noise for _, o in terms}
    noise = noises.pop() if len(noises) == 1 else None
    estimate, independent = combine_bounded([(a, o.cell()) for a, o in terms], noise)
    return _with_cells(direction(label, estimate, divergence=divergence if divergence.any
                                 else None, independent=independent), cells)


def _with_cells(test: CellTest, cells: tuple) -> CellTest:
    return dataclasses.replace(test, cells=cells)


def equivalent(label: str, a: Obs, b: Obs, margin_of: Obs) -> CellTest:
    """The test that a − b lies within ±EQUIVALENCE_MARGIN of margin_of's value."""
    test = diff(label, a, b)
    if test.estimate is None:
        return test
    margin = EQUIVALENCE_MARGIN * abs(margin_of.value or 0.0)
    if not margin > 0:
        return direction(label, None, why="the reference value is 0: no relative margin")
    return _with_cells(equivalence(label, test.estimate, margin, divergence=test.divergence,
                                   independent=test.independent_estimate), test.cells)


def at_most(test: CellTest, bound: float, label: str) -> CellTest:
    """``test``'s difference shown as it is and tested to lie below ``bound``
    (non-inferiority: 'at most slightly larger')."""
    if test.estimate is None:
        return test
    return _with_cells(below(label, test.estimate, bound, divergence=test.divergence,
                             independent=test.independent_estimate), test.cells)


def printed_way(test: CellTest) -> str:
    """How a comparison of published numbers, as printed, relates to the claim (a description:
    the printed numbers carry no noise to decide with)."""
    e = test.estimate
    if e is None:
        return "no number"
    if test.kind == EQUIVALENCE:
        return "within the margin" if abs(e.value) <= test.margin else "beyond the margin"
    if test.kind == BELOW:
        return "below the bound" if e.value < test.margin else "above the bound"
    if e.value == 0:
        return "a tie"
    return "as claimed" if e.value > 0 else "against the claim"
