"""A claim's result: its verdict on the reproduction (with the scale, the regime the positive
control sets, and the part of the paper's cells it covers), the claims that rest on the same
cells (one finding, counted once), and the paper's own numbers: judged with the seed-noise prior
at both ends of its range, and described as printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import paper
from harness.report.judgement import NO_NUMBERS, NOT_ASSESSABLE, Judgement, printed_way
from harness.stats import CONTRADICTED, INCONCLUSIVE, NOT_RUN, SUPPORTED, CellTest
from harness.stats.seednoise import FID_PRIOR_CV

AGAINST = ("against the claim", "a tie", "beyond the margin", "above the bound")


@dataclass
class ClaimResult:
    claim: paper.Claim
    reproduced: Judgement
    paper: dict[float, Judgement]  # the paper's numbers with the seed-noise prior at each CV
    as_printed: Judgement  # the paper's numbers compared exactly: described, never a verdict
    scale: str
    regime: str = ""  # "where the positive control fails", when it does at this scale
    finding: int | None = None  # claims whose verdicts rest on the same cells share one
    cells: frozenset = field(default_factory=frozenset)  # the cells its verdict rests on

    @property
    def verdict(self) -> str:
        """supported, contradicted, inconclusive or not run."""
        return self.reproduced.outcome

    @property
    def verdict_text(self) -> str:
        """The verdict with the scale it was reached at (a toy result never judges the paper),
        the regime where the positive control fails, and what part of the paper it covers."""
        coverage = self.reproduced.coverage if self.verdict != NOT_RUN else ""
        parts = [f"{self.verdict} at {self.scale} scale", self.regime, coverage]
        return ", ".join(p for p in parts if p)

    @property
    def in_paper(self) -> Judgement:
        """The paper's numbers at the prior's upper end (the noisier reading)."""
        return self.paper[FID_PRIOR_CV]

    @property
    def paper_outcomes(self) -> dict[str, str]:
        """'CV 1%' -> the verdict on the paper's numbers at that end of the prior."""
        return {f"CV {cv:.0%}": j.outcome for cv, j in sorted(self.paper.items())}

    @property
    def paper_separates(self) -> str:
        """Where the paper's own evidence separates the claim from training-seed noise."""
        decided = [cv for cv, j in sorted(self.paper.items())
                   if j.outcome in (SUPPORTED, CONTRADICTED)]
        outcomes = {j.outcome for j in self.paper.values()}
        if outcomes <= {NO_NUMBERS} or outcomes <= {NOT_ASSESSABLE} or outcomes <= {NOT_RUN}:
            return ""
        if len(decided) == len(self.paper):
            return "at both ends of the prior"
        if decided:
            return "only at " + ", ".join(f"CV {cv:.0%}" for cv in decided)
        return "at neither end of the prior"


def regime_control(results: list[ClaimResult]) -> ClaimResult | None:
    """The positive control that sets the regime: the trained one, else the one on released
    networks where that is the only one run (the released presets train nothing)."""
    controls = [r for r in results if r.claim.positive_control]
    return next((r for r in controls if r.verdict != NOT_RUN), controls[0] if controls else None)


def paper_word(j: Judgement) -> str:
    """The verdict on the paper's numbers at one end of the prior, with the per-cell counts of an
    every-cell claim that is not supported, and which seed-noise correlation decided."""
    text = j.outcome
    if j.outcome in (NO_NUMBERS, NOT_ASSESSABLE, NOT_RUN):
        return text
    counts = j.decision.counts if j.decision else {}
    cells = sum(counts.values())
    if j.outcome == INCONCLUSIVE and cells > 1:
        text += f" ({counts[SUPPORTED]} of {cells} comparisons beyond seed noise as claimed)"
    if j.bounded is not None and not j.bounded.agree:
        text += (f"; {j.bounded.shared.outcome} if one network's seed shift is shared by its "
                 f"step counts, {j.bounded.independent.outcome} if independent")
    return text


def _place(test: CellTest, confidence: float) -> str:
    """A comparison of published numbers against the seed-noise prior, in words with its z."""
    e = test.estimate
    if e is None or e.se is None:
        return f"{NOT_ASSESSABLE} (no seed-noise prior for this metric)"
    outcomes = [test.outcome(confidence)]
    z = f"z {e.value / e.se:+.2f}" if e.se else "exact"
    alone = test.independent()
    if test.independent_estimate is not None:
        outcomes.append(alone.outcome(confidence))
        z += f" shared, {alone.estimate.value / alone.estimate.se:+.2f} independent"
    if all(o == INCONCLUSIVE for o in outcomes):
        where = "inside training-seed noise"
    elif INCONCLUSIVE not in outcomes:
        where = "beyond training-seed noise"
    else:
        where = "beyond training-seed noise only if one network's shift is shared"
    return f"{where} ({z})"


def printed_against(result: ClaimResult) -> list[str]:
    """The comparisons whose printed numbers go against the claim (or tie), each described and
    placed against training-seed noise at both ends of the prior: a description, not a
    verdict."""
    lines = []
    for k, t in enumerate(result.as_printed.tests):
        way = printed_way(t)
        if way not in AGAINST:
            continue
        places = []
        for cv, j in sorted(result.paper.items()):
            same = j.tests[k] if k < len(j.tests) and j.tests[k].label == t.label else None
            if same is not None:
                places.append(f"CV {cv:.0%}: {_place(same, j.confidence)}")
        lines.append(f"as printed, {t.label} = {t.estimate.value:+.4g} ({way}); "
                     + "; ".join(places))
    return lines


def _deciding_cells(j: Judgement) -> frozenset:
    if j.outcome == SUPPORTED:
        tests = j.tests
    elif j.outcome == CONTRADICTED:
        tests = [t for t in j.tests if t.outcome(j.confidence) == CONTRADICTED]
    else:
        return frozenset()
    return frozenset(k for t in tests for k in t.cells)


def assign_findings(results: list[ClaimResult]) -> None:
    """Number the findings: claims with one verdict whose deciding comparisons read a common
    cell share one (a claim decided on no cells is a finding of its own)."""
    groups: list[list[ClaimResult]] = []
    for r in results:
        r.cells = _deciding_cells(r.reproduced)
        if r.verdict not in (SUPPORTED, CONTRADICTED):
            continue
        joined = [g for g in groups if g[0].verdict == r.verdict
                  and any(x.cells & r.cells for x in g)]
        groups = [g for g in groups if g not in joined] + [[r] + [x for g in joined for x in g]]
    order = {id(r): i for i, r in enumerate(results)}
    groups.sort(key=lambda g: min(order[id(x)] for x in g))
    for n, g in enumerate(groups, 1):
        for x in g:
            x.finding = n


def findings(results: list[ClaimResult], verdict: str) -> list[list[ClaimResult]]:
    """The distinct findings behind the claims with ``verdict``, each with its claims."""
    out: dict[int, list[ClaimResult]] = {}
    for r in results:
        if r.verdict == verdict and r.finding is not None:
            out.setdefault(r.finding, []).append(r)
    return list(out.values())
