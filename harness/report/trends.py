"""The "the gain grows" claims of Sec. 5.2 and 5.3: the gain over Constant (Constant − Ours, FID
or the deciding metric: lower is better) is more pronounced with fewer sampling steps and with
smaller datasets.

"Particularly pronounced with X" is read as: at the favoured end (the fewest steps, the smallest
dataset) Ours has a gain, and that gain exceeds the gain at every other level. Both must hold:
a growth of a negative gain is no gain at all. Each statement is judged where the paper makes
it: Sec. 5.3 (Fig. 7b) on FFHQ; Sec. 5.2 across every Table 1 dataset (steps) and at every step
count shared by datasets of different sizes (size). The gains at every level are listed beside
the verdict, with where they are not monotone along the levels: a trend carried by one level
(MetFaces) says so instead of hiding it.
"""

from __future__ import annotations

from harness.report.evidence import Obs
from harness.report.judgement import Judgement, diff, judge
from harness.report.views import View
from harness.stats import CellTest

Level = tuple[str, Obs | None, Obs | None]  # (label, Constant, Ours)


def trend_tests(where: str, levels: list[Level]) -> list[CellTest]:
    """``levels`` from the favoured end on: its gain > 0, and gain(favoured) − gain(level) > 0
    for every other level."""
    (top, c0, o0), rest = levels[0], levels[1:]
    tests = [diff(f"{where}: gain({top}), gain = Constant − Ours", c0, o0)]
    for label, c, o in rest:
        tests.append(diff(f"{where}: gain({top}) − gain({label})", c0, o0,
                          (-1.0, c or Obs("not in plan")), (1.0, o or Obs("not in plan"))))
    return tests


def profile(where: str, levels: list[Level]) -> str:
    """The point gains from the favoured end on, flagged where they do not fall monotonically."""
    gains = [(label, c.value - o.value) for label, c, o in levels
             if c is not None and o is not None and c.ok and o.ok]
    monotone = all(a >= b for (_, a), (_, b) in zip(gains, gains[1:], strict=False))
    text = ", ".join(f"{label}: {g:+.3f}" for label, g in gains)
    flag = "" if monotone else " — not monotone along the levels (noted, not tested)"
    return f"{where}: gains (Constant − Ours) from the favoured end: {text}{flag}"


def _judge_trend(view: View, groups: list[tuple[str, list[Level]]], none_why: str) -> Judgement:
    tests, notes = [], []
    for where, levels in groups:
        if len(levels) < 2:
            continue
        tests += trend_tests(where, levels)
        notes.append(profile(where, levels))
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
