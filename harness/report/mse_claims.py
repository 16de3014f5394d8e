"""The claims on the MSE curves (Fig. 4, Fig. 10 and its caption), judged on the curves' range
statistics (harness.report.mse): mean log MSE over a range of timesteps per weighting and
training seed, compared with the report's own contrasts and decisions."""

from __future__ import annotations

from collections.abc import Callable

from harness.paper.claim import CAPTION_T, EQUIVALENCE_MARGIN, LARGE_T, LATE_T, SMALL_T
from harness.report.judgement import NO_NUMBERS, Judgement, at_most, diff, judge
from harness.report.mse import INITIAL, Curves, log_margin, range_obs
from harness.report.tables import WEIGHTING_LABELS
from harness.report.views import View
from harness.stats import CellTest, direction, equivalence

OTHERS = ("constant", "p2", "min_snr", "debias", "snr")


def _w(name: str) -> str:
    return WEIGHTING_LABELS.get(name, name)


def _range(view: View, curves: Curves, keep: Callable[[int], bool], what: str):
    return range_obs(curves, keep, what, view.resamples, view.confidence)


def _diff(obs: dict, what: str, label: str, a: str, b: str) -> CellTest:
    """a − b over the range; 'not run' naming the range when no analysed t falls in it."""
    if not obs:
        return direction(label, None, why=f"no analysed {what}")
    return diff(label, obs.get(a), obs.get(b))


def _unjudged(view: View, curves: Curves | None, needed: tuple[str, ...],
              figure: str) -> Judgement | None:
    """'no numbers' on the paper's view, 'not run' naming each needed weighting without a
    curve (and why: diverged, or not run); None when the claim can be judged."""
    if curves is None:
        return Judgement(NO_NUMBERS, notes=[f"{figure} is a plot; the paper prints no MSE "
                                            "values"])
    missing = "; ".join(f"{_w(w)}: {view.mse_diverged.get(w, 'mse.json not run')}"
                        for w in needed if not curves.get(w))
    return judge(view, [], none_why=missing) if missing else None


def judge_mse_above_initial(view: View) -> Judgement:
    unjudged = _unjudged(view, view.mse, ("constant", "debias"), "Fig. 4")
    if unjudged is not None:
        return unjudged
    what = f"t > {LATE_T}"
    late = _range(view, view.mse, lambda t: t > LATE_T, what)
    tests = [_diff(late, what, "Constant: mean log MSE − mean log Initial", "constant", INITIAL),
             _diff(late, what, "Ours: mean log Initial − mean log MSE", INITIAL, "debias")]
    return judge(view, tests, [f"over the analysed {what}"])


def judge_snr_mse_modes(view: View) -> Judgement:
    unjudged = _unjudged(view, view.mse_all, ("snr", "debias"), "Fig. 10")
    if unjudged is not None:
        return unjudged
    large_t, small_t = f"t >= {LARGE_T}", f"t < {SMALL_T}"
    large = _range(view, view.mse_all, lambda t: t >= LARGE_T, large_t)
    small = _range(view, view.mse_all, lambda t: t < SMALL_T, small_t)
    label = f"{large_t}: mean log MSE(1/SNR) − mean log MSE(Ours)"
    overlap = _diff(large, large_t, label, "snr", "debias")
    tests = [equivalence(label, overlap.estimate, log_margin(EQUIVALENCE_MARGIN))
             if overlap.estimate is not None else overlap]
    tests += [_diff(small, small_t, f"{small_t}: mean log MSE(1/SNR) − mean log MSE({_w(w)})",
                    "snr", w)
              for w in OTHERS if w != "snr" and view.mse_all.get(w)]
    return judge(view, tests)


def judge_fig10_ours_lowest_mse(view: View) -> Judgement:
    unjudged = _unjudged(view, view.mse_all, ("debias",), "Fig. 10")
    if unjudged is not None:
        return unjudged
    tests = []
    for keep, what in ((lambda t: t >= CAPTION_T, f"t >= {CAPTION_T}"),
                       (lambda t: t < CAPTION_T, f"t < {CAPTION_T}")):
        obs = _range(view, view.mse_all, keep, what)
        for w in (w for w in OTHERS if w != "debias" and view.mse_all.get(w)):
            test = _diff(obs, what, f"{what}: mean log MSE({_w(w)}) − mean log MSE(Ours)", w,
                         "debias")
            if w == "constant" and what.startswith("t <"):
                label = f"{what}: mean log MSE(Ours) − mean log MSE(Constant)"
                test = at_most(_diff(obs, what, label, "debias", w),
                               log_margin(EQUIVALENCE_MARGIN),
                               f"{label}, at most log(1 + {EQUIVALENCE_MARGIN:g})")
            tests.append(test)
    return judge(view, tests, none_why="needs Fig. 10 analyses of Ours and another weighting")
