"""Judge the paper's claims (harness.paper.CLAIMS) on the reproduced cells and on the paper's own
published numbers.

A judge turns a `View` into per-cell tests (harness.stats: a difference of cells, with its
interval, that the claim says is positive, or that lies within a margin or below a bound) and
`harness.stats.decide_bounded` turns those into the verdict: supported, contradicted,
inconclusive or not run. Diverged seeds are an outcome of their own
(harness.stats.divergence); a cell without a number is named, and makes the claim 'not run'
unless another cell contradicts it. The paper's numbers are judged with the literature's
seed-noise prior at both ends of its range (single training runs, as a one-seed reproduction
would be) and described exactly as printed; a claim whose evidence the paper prints no numbers
for gets 'no numbers'. The "gain grows" claims live in harness.report.trends, the MSE claims in
harness.report.mse_claims, a result with its regime and shared evidence in
harness.report.verdict.
"""

from __future__ import annotations

from collections.abc import Callable

from harness import paper
from harness.paper.claim import EQUIVALENCE_MARGIN, FEW_STEPS, ITERATION_RATIO, STEP_RATIO
from harness.report import footprint, mse_claims, released_claims, trends
from harness.report.evidence import Evidence
from harness.report.judgement import (
    NO_NUMBERS,
    Judgement,
    at_most,
    contrast,
    diff,
    equivalent,
    judge,
)
from harness.report.scope import sampler_line, samplers_of, scoped, table1_coverage
from harness.report.tables import WEIGHTING_LABELS, Table
from harness.report.verdict import ClaimResult, assign_findings, regime_control
from harness.report.views import Group, View, paper_view, reproduced_view
from harness.stats import (
    FID_PRIOR_CVS,
    NOT_RUN,
    SUPPORTED,
    CellTest,
    divergence_rate_interval,
)

OTHERS = ("constant", "p2", "min_snr")


def _w(name: str) -> str:
    return WEIGHTING_LABELS.get(name, name)


def judge_ours_beats_constant(view: View) -> Judgement:
    tests, keys = [], []
    for (ds, steps), cols in view.t1.items():
        if {"constant", "debias"} & set(cols):
            keys.append((ds, steps))
            tests.append(diff(f"{view.ds(ds)} T={steps}: Constant − Ours", cols.get("constant"),
                              cols.get("debias")))
    return scoped(judge(view, tests, none_why="no Table 1 cell for Constant or Ours in the plan"),
                  table1_coverage(view, keys))


def judge_ours_best_every_dataset(view: View) -> Judgement:
    """Sec. 5.2: the prior weightings' performance limit, lifted on every Table 1 dataset."""
    tests, keys = [], []
    for (ds, steps), cols in view.t1.items():
        if not {"p2", "min_snr", "debias"} & set(cols):
            continue
        keys.append((ds, steps))
        tests += [diff(f"{view.ds(ds)} T={steps}: {_w(w)} − Ours", cols.get(w),
                       cols.get("debias")) for w in ("p2", "min_snr")]
    return scoped(judge(view, tests, none_why="no Table 1 cell of Ours, P2 or Min-SNR in the "
                                              "plan"), table1_coverage(view, keys))


def judge_ours_best_per_row(view: View) -> Judgement:
    """Sec. 5.3 / Fig. 7b: on FFHQ, at every step count."""
    # A weighting the plan lacks is a comparison not run: it can never let "all existing
    # weightings" be supported, only a comparison that was run can contradict it.
    tests = [diff(f"{view.ds('ffhq')} T={steps}: {_w(w)} − Ours", cols.get(w), cols["debias"])
             for steps, cols in sorted(view.fig7b.items(), reverse=True) if "debias" in cols
             for w in OTHERS if w not in cols or cols[w].status != "not in paper"]
    keys = [("ffhq", s) for s, cols in view.fig7b.items() if "debias" in cols]
    return scoped(judge(view, tests, none_why="no cell of Ours on the FFHQ stand-in"),
                  table1_coverage(view, keys, datasets=False))


def judge_positive_control(view: View) -> Judgement:
    """Every Table 1 and Table 2 cell (the deciding metric) with Constant, P2 or Min-SNR: a
    preset that trains these weightings on either table plans the control. Its coverage names
    the Table 1 cells."""
    table2 = {key: {w: o for (kind, w), o in cols.items() if kind == "decide"}
              for key, cols in view.t2.items()}
    tests = [diff(f"{view.ds(ds)} T={steps}: Constant − {_w(w)}", cols.get("constant"),
                  cols.get(w))
             for (ds, steps), cols in [*view.t1.items(), *table2.items()]
             for w in ("p2", "min_snr") if "constant" in cols or w in cols]
    table1_keys = [key for key, cols in view.t1.items()
                   if {"constant", "p2", "min_snr"} & set(cols)]
    return scoped(judge(view, tests, none_why="no Table 1 or Table 2 cell of Constant, P2 or "
                                              "Min-SNR in the plan"),
                  table1_coverage(view, table1_keys))


def judge_sampling_efficiency(view: View) -> Judgement:
    tests, keys = [], []
    for ds in dict.fromkeys(ds for ds, _ in view.t1):
        steps = {s: cols for (d, s), cols in view.t1.items() if d == ds}
        top = max(steps)
        if top % STEP_RATIO or top // STEP_RATIO not in steps:
            continue
        few = top // STEP_RATIO
        keys += [(ds, top), (ds, few)]
        tests.append(diff(f"{view.ds(ds)}: Constant(T={top}) − Ours(T={few})",
                          steps[top].get("constant"), steps[few].get("debias")))
    return scoped(judge(view, tests, none_why=f"needs Table 1 step counts T and T/{STEP_RATIO} "
                                              "(e.g. 100 and 10)"),
                  table1_coverage(view, keys))


def _ours_best(view: View, rows: dict, kind: str, sign: float) -> list[CellTest]:
    tests = []
    for (ds, _steps), cols in rows.items():
        obs = {w: cols[(kind, w)] for w in paper.TABLE2_COLUMNS if (kind, w) in cols}
        if kind == "is":  # a diverged run has no IS (higher is better): skip it, not rank it
            obs = {w: o for w, o in obs.items() if not o.all_diverged}
        if "debias" not in obs:
            continue
        # A column the plan lacks is a comparison not run (a diverged run's IS is left out).
        for w in (w for w in paper.TABLE2_COLUMNS if w != "debias"
                  and (w in obs or (kind, w) not in cols)):
            a, b = (obs.get(w), obs["debias"]) if sign > 0 else (obs["debias"], obs.get(w))
            name = "IS(Ours) − IS(" + _w(w) + ")" if kind == "is" else f"{_w(w)} − Ours"
            tests.append(diff(f"{view.ds(ds)}: {name}", a, b))
    return tests


def _table2_coverage(view: View, judgement: Judgement) -> Judgement:
    if not view.published and judgement.tests:
        names = {ds for ds, _ in paper.table2_keys()}
        done = {ds for ds, _ in view.t2} & names
        if len(done) < len(names):
            judgement.coverage = (f"on {len(done)} of {len(names)} Table 2 datasets ("
                                  + ", ".join(paper.DATASET_LABELS[d] for d in sorted(done))
                                  + ")")
    return judgement


def judge_ours_best_table2_fid(view: View) -> Judgement:
    return _table2_coverage(view, judge(
        view, _ours_best(view, view.t2, "decide", 1.0),
        none_why="no Table 2 cell of Ours and another weighting in the plan"))


def judge_ours_best_table2_is(view: View) -> Judgement:
    why = sorted({str(r["inception_score_note"]) for cols in view.t2.values()
                  for (kind, _w2), o in cols.items() if kind == "is" for r in o.records
                  if r.get("inception_score_note") and r.get("inception_score") is None})
    tests = _ours_best(view, view.t2, "is", -1.0)
    judgement = judge(view, tests, none_why="no Table 2 cell of Ours and another weighting")
    if judgement.outcome == NOT_RUN:  # the metrics JSON says why IS is absent
        judgement.notes += [f"why: {n}" for n in why]
    return _table2_coverage(view, judgement)


def _table4_scope(view: View, judgement: Judgement) -> Judgement:
    """Table 4 is CelebA-HQ in the paper: say which dataset stood for it."""
    datasets = {o.key[0] for o in view.t4.values() if o.key}
    if not view.published and datasets:
        where = ", ".join(f"{d} (the {paper.DATASET_LABELS.get(view.stands_for.get(d), '?')} "
                          "stand-in)" if view.stands_for.get(d) != "celebahq" else d
                          for d in sorted(datasets))
        judgement.coverage = f"on {where}; the paper's Table 4 is CelebA-HQ"
    return judgement


def judge_eps_ours_best(view: View) -> Judgement:
    tests = [diff(f"{col} − eps-debias", o, view.t4["eps-debias"])
             for col, o in view.t4.items() if col != "eps-debias" and "eps-debias" in view.t4]
    return _table4_scope(view, judge(view, tests, none_why="Table 4 needs eps-debias and "
                                                           "another column"))


def judge_eps_similar_targets(view: View) -> Judgement:
    eps = view.t4.get("eps-constant")
    tests = [equivalent(f"eps − {col.split('-')[0]} (Constant)", eps, view.t4[col], eps)
             for col in ("x0-constant", "v-constant") if col in view.t4 and eps is not None]
    return _table4_scope(view, judge(view, tests, none_why="Table 4 needs eps, and x0 or v, "
                                                           "with Constant"))


def judge_ours_beats_adm(view: View) -> Judgement:
    if not view.t3:
        return judge(view, [], none_why="no Table 3 cell in the plan")
    tests = [diff("ADM (Constant, 500k) − Ours (500k)", view.t3.get("adm_baseline"),
                  view.t3.get("ours_500k"))]
    if "ours_1000k" in view.t3:
        tests.append(diff("Ours (500k) − Ours (1000k)", view.t3.get("ours_500k"),
                          view.t3["ours_1000k"]))
    judgement = judge(view, tests)
    its = {k: o.key[3] for k, o in view.t3.items() if o.key and o.key[3]}
    if not view.published and {"ours_500k", "ours_1000k"} <= set(its):
        low, high = its["ours_500k"], its["ours_1000k"]
        judgement.coverage = (f"500k and 1000k stood in for by {low} and {high} iterations "
                              f"(ratio {high / low:.2f}; the paper's is 2)")
    return judgement


def judge_ours_fewer_iterations(view: View) -> Judgement:
    if view.fig7a is None:
        return Judgement(NO_NUMBERS, notes=["stated in text: Ours at 400k matches Constant at "
                                            "1000k; the curve's values are not printed"])
    const, ours = view.fig7a.get("constant", {}), view.fig7a.get("debias", {})
    if not const or not ours:
        return judge(view, [], none_why="Fig. 7a needs Constant and Ours")
    last = max(const)
    early = [i for i in ours if i > 0 and i * ITERATION_RATIO <= last]
    if not early:
        return judge(view, [], none_why=f"needs an Ours checkpoint at <= {last} / "
                                        f"{ITERATION_RATIO:g} = {last / ITERATION_RATIO:g} "
                                         "iterations")
    i = max(early)
    margin = EQUIVALENCE_MARGIN * abs(const[last].value or 0.0)
    test = at_most(diff(f"Ours({i} it) − Constant({last} it)", ours[i], const[last]), margin,
                   f"Ours({i} it) − Constant({last} it)")
    return judge(view, [test], [f"ratio {last}/{i} = {last / i:.2f} (paper: "
                                 f"{ITERATION_RATIO:g}); bound: {EQUIVALENCE_MARGIN:.0%} of "
                                 "Constant's final value (non-inferiority)"])


def judge_fig7a_ours_below_constant(view: View) -> Judgement:
    if view.fig7a is None:
        return Judgement(NO_NUMBERS, notes=["Fig. 7a is a plot; the paper prints its curve's "
                                            "values only at 500k (Table 1) and 1000k (Table 3)"])
    const, ours = view.fig7a.get("constant", {}), view.fig7a.get("debias", {})
    tests = [diff(f"{i} it: Constant − Ours", const[i], ours[i])
             for i in sorted(set(const) & set(ours)) if i > 0]
    return judge(view, tests, none_why="Fig. 7a needs Constant and Ours at an iteration after 0")


def judge_ddim_ours_best(view: View) -> Judgement:
    if view.groups is None:
        return Judgement(NO_NUMBERS, notes=["Fig. 8 shows DDIM samples; the paper prints no "
                                            "numbers"])
    tests = [diff(f"{g.where}: {_w(w)} − Ours", g.cells.get(w), g.cells["debias"])
             for g in view.groups if g.sampler == "ddim" and "debias" in g.cells
             for w in OTHERS]
    return judge(view, tests, none_why="no DDIM cells of Ours and another weighting in the plan")


def judge_color_shift_ours_less(view: View) -> Judgement:
    """'Totally free of' colour shift: at most a tenth of Constant's, in every group."""
    if view.color_groups is None:
        return Judgement(NO_NUMBERS, notes=["the paper shows colour shift in pictures only "
                                            "(Fig. 1, 6, 12)"])
    tests = [contrast(f"{g.where}: {EQUIVALENCE_MARGIN:g} × shift(Constant) − shift(Ours)",
                      [(EQUIVALENCE_MARGIN, g.cells["constant"]), (-1.0, g.cells["debias"])])
             for g in view.color_groups if {"constant", "debias"} <= set(g.cells)]
    return judge(view, tests, none_why="no cells of Constant and Ours side by side")


def judge_color_shift_few_steps(view: View) -> Judgement:
    if view.color_groups is None:
        return Judgement(NO_NUMBERS, notes=["the paper shows colour shift in pictures only "
                                            "(Fig. 1)"])
    runs: dict[tuple, dict[int, Group]] = {}
    for g in view.color_groups:
        if {"constant", "debias"} <= set(g.cells):
            runs.setdefault((g.dataset, g.sampler, g.iteration), {})[g.steps] = g
    tests = []
    for (ds, sampler, it), by_steps in runs.items():
        few, most = min(by_steps), max(by_steps)
        if few > FEW_STEPS or few == most:
            continue
        f, m = by_steps[few].cells, by_steps[most].cells
        where = f"{ds} {sampler} @{it}"
        tests += [diff(f"{where} T={few}: shift(Constant) − shift(Ours)", f["constant"],
                       f["debias"]),
                  diff(f"{where} T={most} (the most steps; the paper: T = 1000): "
                       "shift(Constant) − shift(Ours)", m["constant"], m["debias"])]
    return judge(view, tests, none_why=f"needs Constant and Ours at a step count <= {FEW_STEPS} "
                                       "and at a larger one")


def judge_snr_diverges_or_worst(view: View) -> Judgement:
    if view.groups is None:
        return Judgement(NO_NUMBERS, notes=["the paper shows 1/SNR samples (Fig. 11) and MSE "
                                            "(Fig. 10) but prints no FID"])
    diverged = [s for s in view.snr_training if s.startswith("diverged")]
    if diverged:  # the claim's first half, observed: with how often it happened
        low, high = divergence_rate_interval(len(diverged), len(view.snr_training),
                                             view.confidence)
        return Judgement(SUPPORTED, notes=[
            f"1/SNR training diverged in {len(diverged)} of {len(view.snr_training)} seeds "
            f"(divergence rate {view.confidence:.0%} interval [{low:.2f}, {high:.2f}], "
            "Clopper-Pearson)"] + [f"1/SNR training: {s}" for s in diverged],
            confidence=view.confidence)
    tests = [diff(f"{g.where}: 1/SNR − {_w(w)}", g.cells["snr"], o)
             for g in view.groups if "snr" in g.cells for w, o in g.cells.items() if w != "snr"]
    return judge(view, tests, none_why="no 1/SNR cell beside another weighting in the plan")


def _t1_keys(view: View) -> list[tuple[str, int]]:
    return [k for k, cols in view.t1.items() if {"constant", "debias"} & set(cols)]


def judge_gain_grows_fewer_steps(view: View) -> Judgement:
    keys = [("ffhq", s) for s, cols in view.fig7b.items() if {"constant", "debias"} & set(cols)]
    return scoped(trends.judge_gain_grows_fewer_steps(view),
                  table1_coverage(view, keys, datasets=False))


def judge_gain_pronounced_fewer_steps(view: View) -> Judgement:
    return scoped(trends.judge_gain_pronounced_fewer_steps(view),
                  table1_coverage(view, _t1_keys(view)))


def judge_gain_larger_small_datasets(view: View) -> Judgement:
    return scoped(trends.judge_gain_larger_small_datasets(view),
                  table1_coverage(view, _t1_keys(view)))


JUDGES: dict[str, Callable[[View], Judgement]] = {
    "ours_beats_constant": judge_ours_beats_constant,
    "ours_best_every_dataset": judge_ours_best_every_dataset,
    "ours_best_per_row": judge_ours_best_per_row,
    "positive_control": judge_positive_control,
    "gain_grows_fewer_steps": judge_gain_grows_fewer_steps,
    "gain_pronounced_fewer_steps": judge_gain_pronounced_fewer_steps,
    "gain_larger_small_datasets": judge_gain_larger_small_datasets,
    "sampling_efficiency": judge_sampling_efficiency,
    "ours_best_table2_fid": judge_ours_best_table2_fid,
    "ours_best_table2_is": judge_ours_best_table2_is,
    "eps_ours_best": judge_eps_ours_best,
    "eps_similar_targets": judge_eps_similar_targets,
    "ours_beats_adm": judge_ours_beats_adm,
    "ours_fewer_iterations": judge_ours_fewer_iterations,
    "fig7a_ours_below_constant": judge_fig7a_ours_below_constant,
    "ddim_ours_best": judge_ddim_ours_best,
    "color_shift_ours_less": judge_color_shift_ours_less,
    "color_shift_few_steps": judge_color_shift_few_steps,
    "snr_diverges_or_worst": judge_snr_diverges_or_worst,
    "mse_above_initial": mse_claims.judge_mse_above_initial,
    "snr_mse_modes": mse_claims.judge_snr_mse_modes,
    "fig10_ours_lowest_mse": mse_claims.judge_fig10_ours_lowest_mse,
    "weighting_footprint": footprint.judge_weighting_footprint,
    "released_reproduces": released_claims.judge_released_reproduces,
    "released_positive_control": released_claims.judge_released_positive_control,
}


def judge_claims(ev: Evidence, tables: dict[str, Table]) -> list[ClaimResult]:
    """Every claim judged on the reproduction and on the paper's own numbers (at both ends of
    the seed-noise prior, and described as printed), with the regime and shared evidence; the
    claims on released networks where the plan has released arms."""
    repro, printed = reproduced_view(ev, tables), paper_view(as_printed=True)
    published = {cv: paper_view(cv) for cv in FID_PRIOR_CVS}
    claims = paper.CLAIMS + (paper.RELEASED_CLAIMS if repro.released else ())
    results = [ClaimResult(claim, JUDGES[claim.test](repro),
                           {cv: JUDGES[claim.test](v) for cv, v in published.items()},
                           JUDGES[claim.test](printed), ev.scale) for claim in claims]
    control = regime_control(results)
    for r in results:
        r.reproduced.scope.append(sampler_line(samplers_of(r.reproduced), r.claim.paper_sampler))
        r.reproduced.scope = [line for line in r.reproduced.scope if line]
        needs_regime = not (r.claim.positive_control or r.claim.harness_check)
        if control is not None and needs_regime and control.verdict != SUPPORTED:
            r.regime = ("where the positive control was not run" if control.verdict == NOT_RUN
                        else "where the positive control fails")
    assign_findings(results)
    return results
