"""A claim's judgement: its per-cell tests, the verdict `harness.stats.decide` draws from them,
and the deciding numbers in words; plus the two ways judges build a cell test from `Obs`es."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harness.paper.claims import EQUIVALENCE_MARGIN
from harness.report.evidence import Obs
from harness.report.views import View
from harness.stats import (
    NOT_RUN,
    CellTest,
    ClaimDecision,
    Divergence,
    combine,
    decide,
    direction,
    equivalence,
)

NO_NUMBERS = "no numbers"


@dataclass
class Judgement:
    outcome: str
    tests: list[CellTest] = field(default_factory=list)
    decision: ClaimDecision | None = None
    notes: list[str] = field(default_factory=list)
    confidence: float = 0.95

    @property
    def details(self) -> list[str]:
        """The deciding numbers, one line per cell, after the notes and the cell counts."""
        lines = list(self.notes)
        if self.decision is not None and len(self.tests) > 1:
            lines.append(self.decision.summary())
        for t in self.tests:
            if not t.run:
                lines.append(f"{t.label}: not run ({t.why})")
                continue
            diverged = f"; {t.divergence.text()}" if t.divergence and t.divergence.any else ""
            if t.estimate is None:
                lines.append(f"{t.label}: no finite seeds{diverged} → "
                             f"{t.outcome(self.confidence)}")
                continue
            margin = f", margin ±{t.margin:.4g}" if t.margin else ""
            lines.append(f"{t.label} = {t.estimate.text(self.confidence)}{margin} — "
                         f"{t.estimate.note}{diverged} → {t.outcome(self.confidence)}")
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


def judge(view: View, tests: list[CellTest], notes: list[str] | None = None,
          none_why: str = "") -> Judgement:
    """The verdict over ``tests``; 'not run' with ``none_why`` when there is none."""
    if not tests:
        return Judgement(NOT_RUN, notes=(notes or []) + [none_why], confidence=view.confidence)
    decision = decide(tests, view.confidence)
    return Judgement(decision.outcome, tests, decision, notes or [], view.confidence)


def diff(label: str, plus: Obs | None, minus: Obs | None, *more: tuple[float, Obs]) -> CellTest:
    """The test that plus − minus (+ more terms) is positive, on the finite seeds with the
    terms' training-seed noise, and on the counts of diverged seeds (a diverged seed counts as
    the worst value: pass the higher-is-worse metric, or skip diverged runs)."""
    terms = [(1.0, plus or Obs("not in plan")), (-1.0, minus or Obs("not in plan")), *more]
    divergence = Divergence(tuple((a, o.label, len(o.diverged), o.seeds) for a, o in terms))
    missing = [f"{o.label}: {o.status}" if o.label else o.status
               for _, o in terms if not o.cell() and not o.diverged]
    if missing:
        return direction(label, None, why=", ".join(dict.fromkeys(missing)))
    if any(not o.cell() for _, o in terms):  # a term's every seed diverged
        return direction(label, None, divergence=divergence)
    noises = {o.noise for _, o in terms}
    noise = noises.pop() if len(noises) == 1 else None
    return direction(label, combine([(a, o.cell()) for a, o in terms], noise),
                     divergence=divergence if divergence.any else None)


def equivalent(label: str, a: Obs, b: Obs, margin_of: Obs) -> CellTest:
    """The test that a − b lies within ±EQUIVALENCE_MARGIN of margin_of's value."""
    test = diff(label, a, b)
    if test.estimate is None:
        return test
    margin = EQUIVALENCE_MARGIN * abs(margin_of.value or 0.0)
    if not margin > 0:
        return direction(label, None, why="the reference value is 0: no relative margin")
    return equivalence(label, test.estimate, margin, divergence=test.divergence)
