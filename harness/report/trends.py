"""The "the gain grows" claims of Sec. 5.2 and 5.3: the gain over Constant (lower is better on
FID or the deciding metric) is more pronounced with fewer sampling steps and with smaller
datasets.

The gain is decided on the scale the noise lives on: training-seed noise is proportional to the
level (a coefficient of variation), and FID rises at few steps, so an absolute gain grows with
the level even where Ours' relative advantage does not. The test reads the relative gain
log(Constant / Ours), whose seed noise has the same sd (the CV) at every level; the absolute
gains (Constant − Ours) are described beside it.

"Particularly pronounced with X" is read as: at the favoured end (the fewest steps, the smallest
dataset) Ours has a gain, and that gain exceeds the gain at every other level. Both must hold:
a growth of a negative gain is no gain at all. Each statement is judged where the paper makes
it: Sec. 5.3 (Fig. 7b) on FFHQ; Sec. 5.2 across every Table 1 dataset (steps) and at every step
count shared by datasets of different sizes (size). The gains at every level are listed beside
the verdict, on both scales, with where they are not monotone along the levels.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from harness.report.evidence import Obs
from harness.report.judgement import Judgement, diff, judge
from harness.report.views import View
from harness.stats import CellTest, log_cell

Level = tuple[str, Obs | None, Obs | None]  # (label, Constant, Ours)
GAIN = "log(Constant / Ours)"


def log_obs(o: Obs | None) -> Obs | None:
    """``o`` on the log scale (its seeds, its seed noise); not run where a value is not
    positive (KID can be): a relative gain needs positive levels."""
    if o is None or not o.ok:
        return o
    cell = log_cell(o.replicates)
    if cell is None:
        return Obs(f"{o.label}: not positive, no relative gain", label=o.label, key=o.key)
    noise = o.noise.on_log_scale() if o.noise is not None else None
    return dataclasses.replace(o, value=float(np.mean([r.point for r in cell.values()])),
                               std=None, replicates=cell, ci=None, noise=noise)


def trend_tests(where: str, levels: list[Level]) -> list[CellTest]:
    """``levels`` from the favoured end on, on the log scale: its relative gain > 0, and
    gain(favoured) − gain(level) > 0 for every other level."""
    (top, c0, o0), rest = levels[0], levels[1:]
    c0, o0 = log_obs(c0), log_obs(o0)
    tests = [diff(f"{where}: relative gain({top}), gain = {GAIN}", c0, o0)]
    for label, c, o in rest:
        tests.append(diff(f"{where}: relative gain({top}) − relative gain({label})", c0, o0,
                          (-1.0, log_obs(c) or Obs("not in plan")),
                          (1.0, log_obs(o) or Obs("not in plan"))))
    return tests


def _monotone(gains: list[tuple[str, float]]) -> str:
    falling = all(a >= b for (_, a), (_, b) in zip(gains, gains[1:], strict=False))
    return "" if falling else " — not monotone along the levels (noted, not tested)"


def profile(where: str, levels: list[Level]) -> list[str]:
    """The point gains from the favoured end on, relative (deciding) and absolute (described),
    each flagged where it does not fall monotonically."""
    ok = [(label, c.value, o.value) for label, c, o in levels
          if c is not None and o is not None and c.ok and o.ok]
    absolute = [(label, c - o) for label, c, o in ok]
    relative = [(label, math.log(c / o)) for label, c, o in ok if c > 0 and o > 0]
    lines = [f"{where}: relative gains {GAIN} from the favoured end (deciding): "
             + ", ".join(f"{label}: {g:+.3f}" for label, g in relative) + _monotone(relative),
             f"{where}: absolute gains (Constant − Ours) from the favoured end (described, not "
             "tested: noise grows with the level): "
             + ", ".join(f"{label}: {g:+.3g}" for label, g in absolute) + _monotone(absolute)]
    if len(ok) >= 2 and ok[-1][1] > 0:
        lines[-1] += (f"; Constant's level at {ok[0][0]} is {ok[0][1] / ok[-1][1]:.2f}x its "
                      f"level at {ok[-1][0]}")
    return lines


def _judge_trend(view: View, groups: list[tuple[str, list[Level]]], none_why: str) -> Judgement:
    tests, notes = [], []
    for where, levels in groups:
        if len(levels) < 2:
            continue
        tests += trend_tests(where, levels)
        notes += profile(where, levels)
    judgement = judge(view, tests, none_why=none_why)
    judgement.notes = notes + judgement.notes
    return judgement


def _steps(cols_by_steps: dict[int, dict[str, Obs]]) -> list[Level]:
    shared = sorted(s for s, cols in cols_by_steps.items() if {"constant", "debias"} & set(cols))
    return [(f"T={s}", cols_by_steps[s].get("constant"), cols_by_steps[s].get("debias"))
            for s in shared]


def judge_gain_grows_fewer_steps(view: View) -> Judgement:
    """Sec. 5.3 / Fig. 7b, on FFHQ."""
    by_steps = {s: cols for s, cols in view.fig7b.items()}
    return _judge_trend(view, [(view.ds("ffhq"), _steps(by_steps))],
                        "needs Constant and Ours on the FFHQ stand-in at two step counts")


def judge_gain_pronounced_fewer_steps(view: View) -> Judgement:
    """Sec. 5.2, every Table 1 dataset."""
    datasets: dict[str, dict[int, dict[str, Obs]]] = {}
    for (ds, steps), cols in view.t1.items():
        datasets.setdefault(ds, {})[steps] = cols
    return _judge_trend(view, [(view.ds(ds), _steps(by_steps))
                               for ds, by_steps in datasets.items()],
                        "needs Constant and Ours on a Table 1 dataset at two step counts")


def judge_gain_larger_small_datasets(view: View) -> Judgement:
    """Sec. 5.2, at every step count with datasets of different sizes."""
    groups = []
    for steps in sorted({s for _, s in view.t1}, reverse=True):
        sized = sorted((view.sizes[ds], ds) for (ds, s), cols in view.t1.items()
                       if s == steps and view.sizes.get(ds) and {"constant", "debias"} & set(cols))
        if len({size for size, _ in sized}) < 2:
            continue
        levels = [(f"{view.ds(ds)}, {size} img", view.t1[(ds, steps)].get("constant"),
                   view.t1[(ds, steps)].get("debias")) for size, ds in sized]
        groups.append((f"T={steps}", levels))
    return _judge_trend(view, groups, "needs Constant and Ours on two datasets of different "
                                      "sizes at one step count")
