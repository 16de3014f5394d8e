"""Judges of the claims on released networks (harness.paper.released_claims).

Reproduction: per released cell with a published number, ours − published must lie within the
equivalence margin, on an interval holding both numbers' sampling noise (the published one's
taken as ours at its sample count: the same network, the same kind of sample). Only numbers
measured alike are compared: FID in the same protocol and sample count, KID in the same
protocol. The positive control: Constant − P2 > 0 between released networks, each a single
training run, so with the training-seed noise of one-seed cells (harness.report.judgement.diff).
"""

from __future__ import annotations

import math

from harness.paper.claim import EQUIVALENCE_MARGIN
from harness.report.judgement import NO_NUMBERS, Judgement, diff, judge
from harness.report.released import KID_SCALE, ReleasedRow
from harness.report.tables import WEIGHTING_LABELS
from harness.report.views import View
from harness.stats import CellTest, direction, equivalence
from harness.stats.estimate import Estimate


def _reproduction(row: ReleasedRow, metric: str) -> CellTest | None:
    """The equivalence test of one published number of `row` (None where it is not
    comparable: another metric unpublished, or FID at another sample count)."""
    pub = row.published
    published = pub.fid if metric == "fid" else (None if pub.kid is None else pub.kid / KID_SCALE)
    if published is None or metric == "fid" and row.samples and not row.same_samples:
        return None
    label = (f"{row.cell.get('dataset')} {row.arm} T={row.cell.get('steps')}: "
             f"{metric.upper()} ours − published ({pub.where})")
    obs = row.fid if metric == "fid" else row.kid
    if not obs.ok:
        return direction(label, None, why=f"{row.arm}: {obs.status}")
    if row.cross_protocol:
        return direction(label, None, why=f"across protocols (ours clean-fid {row.mode}, "
                                          f"published {pub.protocol.evaluator})")
    rep = next(iter(obs.replicates.values()))
    se = rep.boot_se()
    if se is None:
        return direction(label, None, why="our number carries no sampling interval "
                                          "(statistics.bootstrap: 0)")
    n = rep.n_samples or pub.protocol.samples
    both = se * math.sqrt(1 + n / pub.protocol.samples)
    estimate = Estimate(obs.value - published, both, max(n - 1, 1), 1, "spread",
                        f"our sampling noise (bootstrap over {n:,} samples) and the published "
                        f"number's ({pub.protocol.samples:,} samples)")
    return equivalence(label, estimate, EQUIVALENCE_MARGIN * abs(published))


def judge_released_reproduces(view: View) -> Judgement:
    if view.released is None:
        return Judgement(NO_NUMBERS, notes=["a claim about reproducing the published numbers: "
                                            "the papers' own numbers do not judge it"])
    rows = [r for r in view.released if r.published is not None]
    tests = [t for r in rows for m in ("fid", "kid") if (t := _reproduction(r, m)) is not None]
    notes = [f"{r.arm} T={r.cell.get('steps')}: FID at {r.samples:,} samples is not compared "
             f"with FID-{r.published.protocol.samples // 1000}k"
             for r in rows if r.samples and not r.same_samples]
    return judge(view, tests, notes, none_why="no released arm with a published number at its "
                                              "step count (config released.<arm>.published)")


def judge_released_positive_control(view: View) -> Judgement:
    tests = [diff(f"{view.ds(ds)} T={steps} (released): Constant − {WEIGHTING_LABELS[w]}",
                  cols["constant"], cols[w])
             for (ds, steps), cols in sorted(view.released_pairs.items(), key=str)
             for w in ("p2", "min_snr") if "constant" in cols and w in cols]
    return judge(view, tests, none_why="no released Constant and P2 arm on one dataset at one "
                                       "step count")
