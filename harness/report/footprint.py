"""A weighting's footprint (the harness's own mechanism check, issue 22): training with a
weighting should move the per-timestep error where the weight points, at any scale.

What a weighting changes against Constant is its relative weight ρ(t) = w(t) / mean w
(harness.report.relative_weight). The check: where ρ > FACTOR, the weighting's MSE is lower
than Constant's on the same training seeds; where ρ < 1/FACTOR, it is higher. Each side is
the mean log MSE over the analysed t there (harness.report.mse), paired by training seed,
decided with the report's own tests (every side of every weighting must hold).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from harness.paper.claim import FOOTPRINT_FACTOR
from harness.report.judgement import NO_NUMBERS, Judgement, diff, judge
from harness.report.mse import INITIAL, range_obs
from harness.report.tables import WEIGHTING_LABELS
from harness.stats import CellTest, direction

if TYPE_CHECKING:
    from harness.report.views import View

FACTOR = FOOTPRINT_FACTOR  # "higher" / "lower": above / below this factor times the mean


def _label(w: str) -> str:
    return WEIGHTING_LABELS.get(w, w)


def _side(view: View, w: str, rho: np.ndarray, higher: bool) -> CellTest:
    keep = ((lambda t: rho[t] > FACTOR) if higher else (lambda t: rho[t] < 1 / FACTOR))
    what = (f"t where {_label(w)}'s relative weight is {'>' if higher else '<'} "
            f"{FACTOR if higher else 1 / FACTOR:g}")
    analysed = sorted(int(t) for by_seed in view.mse_all.values() for d in by_seed.values()
                      for t in d.get("t", []) if keep(int(t)))
    if not analysed:
        return direction(f"{what}: no analysed t", None, why=f"no analysed {what}")
    span = f"{what} ({len(set(analysed))} analysed t in [{analysed[0]}, {analysed[-1]}])"
    obs = range_obs(view.mse_all, keep, what, view.resamples, view.confidence)
    if higher:
        return diff(f"{span}: mean log MSE(Constant) − mean log MSE({_label(w)})",
                    obs.get("constant"), obs.get(w))
    return diff(f"{span}: mean log MSE({_label(w)}) − mean log MSE(Constant)",
                obs.get(w), obs.get("constant"))


def judge_weighting_footprint(view: View) -> Judgement:
    if view.mse_all is None:
        return Judgement(NO_NUMBERS, notes=["a check of the harness's own runs: the paper "
                                            "prints no MSE values"])
    others = [w for w in view.mse_all if w not in ("constant", INITIAL)]
    if not view.mse_all.get("constant") or not others:
        return judge(view, [], none_why="needs Fig. 10 analyses of Constant and another "
                                        "weighting")
    tests = []
    for w in others:
        rho = view.weights.get(w)
        if rho is None:
            tests.append(direction(f"{_label(w)}: relative weight", None,
                                   why="its weight curve is not in plan.json"))
            continue
        tests += [_side(view, w, rho, True), _side(view, w, rho, False)]
    return judge(view, tests, [f"relative weight ρ(t) = w(t) / mean w; 'higher' ρ > {FACTOR:g}, "
                               f"'lower' ρ < {1 / FACTOR:g}; final checkpoints"])


def footprint_figure(view: View, assets: Path, svg: bool = True):
    """Top: log2 ρ(t) per weighting; bottom: log MSE(w) − log MSE(Constant) per t, the mean over
    the training seeds both were analysed at, with a t interval where there are several."""
    from scipy import stats as sps

    from harness.report.figures import COLORS, STYLE, Figure, _save, plt

    figure = Figure("footprint", "The weightings' footprint: relative weight and relative MSE",
                    "Top: each weighting's relative weight ρ(t) = w(t)/mean w (ε-prediction; "
                    f"Constant's is 1); dotted: {FACTOR:g}x and 1/{FACTOR:g}x its mean. Bottom: "
                    "log MSE(weighting) − log MSE(Constant) at each analysed t (final "
                    "checkpoints), mean over the training seeds analysed for both, band: 95% t "
                    "interval over seeds where there are several. The mechanism check expects "
                    "the bottom curve below 0 where the top curve is above the dotted line, "
                    "and above 0 where it is below it.", wide=True)
    curves = view.mse_all or {}
    others = [w for w in curves if w not in ("constant", INITIAL) and w in view.weights]
    if not curves.get("constant") or not others:
        figure.note = "needs Fig. 10 analyses of Constant and another weighting"
        return figure
    with plt.rc_context(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
        for w in others:
            color = COLORS.get(w)
            rho = view.weights[w]
            top.plot(np.arange(len(rho)), np.log2(rho), color=color, label=_label(w))
            seeds = sorted(set(curves[w]) & set(curves["constant"]))
            if not seeds:
                continue
            t = np.asarray(curves[w][seeds[0]]["t"])
            ratios = np.asarray([np.log(curves[w][r]["mse"]) - np.log(curves["constant"][r]["mse"])
                                 for r in seeds])
            mean = ratios.mean(0)
            bottom.plot(t, mean, color=color, marker=".", label=f"{_label(w)} ({len(seeds)} "
                        f"seed{'s' if len(seeds) > 1 else ''})")
            if len(seeds) > 1:
                half = (sps.t.ppf(0.975, len(seeds) - 1) * ratios.std(0, ddof=1)
                        / math.sqrt(len(seeds)))
                bottom.fill_between(t, mean - half, mean + half, color=color, alpha=0.2)
        for level in {math.log2(FACTOR), -math.log2(FACTOR)}:
            top.axhline(level, color="0.4", ls=":", lw=1)
        bottom.axhline(0, color="0.4", lw=1)
        top.set_ylabel("log2 relative weight")
        bottom.set_ylabel("log MSE(w) − log MSE(Constant)")
        bottom.set_xlabel("timestep t")
        top.legend(fontsize=8)
        bottom.legend(fontsize=8)
        figure.png, figure.svg = _save(fig, assets, "footprint", svg)
    return figure
