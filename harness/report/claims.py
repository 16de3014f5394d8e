"""Judge the paper's claims (harness.paper.CLAIMS) on evidence: the reproduced cells, and, as a
consistency check, the paper's own published numbers.

Every judge takes a :class:`View` and returns a :class:`Judgement` whose ``details`` list the
deciding numbers. A diverged run counts as FID = inf (worst); a cell without a number (missing
file, no metric) makes the claim "not run" and is named in ``details``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from harness import paper
from harness.report.evidence import Evidence, Obs, paper_obs
from harness.report.tables import WEIGHTING_LABELS, Table

SUPPORTED, CONTRADICTED, NOT_RUN, NO_NUMBERS = "supported", "contradicted", "not run", "no numbers"


@dataclass
class View:
    """Evidence in the shape the judges read; built from reproduced cells or from the paper."""

    t1: dict[tuple, dict[str, Obs]] = field(default_factory=dict)  # (ds, T) -> weighting -> Obs
    sizes: dict[str, int | None] = field(default_factory=dict)  # ds -> images
    t2: dict[tuple, dict[tuple, Obs]] = field(default_factory=dict)  # (ds, T) -> (metric, w) -> Obs
    t3: dict[str, Obs] = field(default_factory=dict)  # Table 3 row key -> Obs
    t4: dict[str, Obs] = field(default_factory=dict)  # "target-weighting" -> Obs
    snr_groups: list[dict] | None = None  # weighting -> Obs per group, "_where" -> label
    snr_training: list[str] = field(default_factory=list)  # training status of 1/SNR runs
    mse: dict[str, dict] | None = None  # weighting -> mse.json content
    fig7a: dict[str, dict[int, Obs]] | None = None  # weighting -> iteration -> Obs


@dataclass
class Judgement:
    outcome: str
    details: list[str] = field(default_factory=list)


def _val(obs: Obs) -> float | None:
    if obs.status.startswith("diverged"):
        return math.inf
    return obs.value if obs.ok else None


def _need(obs_by_name: dict[str, Obs]) -> tuple[dict[str, float], list[str]]:
    values, missing = {}, []
    for name, obs in obs_by_name.items():
        v = _val(obs)
        if v is None:
            missing.append(f"{name}: {obs.status}")
        else:
            values[name] = v
    return values, missing


def _f(v: float) -> str:
    return "diverged" if math.isinf(v) else f"{v:.3f}"


def _w(name: str) -> str:
    return WEIGHTING_LABELS.get(name, name)


def _rows(view: View, weightings: tuple[str, ...]) -> dict[tuple, dict[str, Obs]]:
    """Table 1 rows holding any of ``weightings``, restricted to the weightings present."""
    return {k: {w: cols[w] for w in weightings if w in cols} for k, cols in view.t1.items()
            if any(w in cols for w in weightings)}


def _compared(cols: dict[str, Obs], wanted: tuple[str, ...]) -> str:
    absent = [_w(w) for w in wanted if w not in cols]
    return f" (not in plan: {', '.join(absent)})" if absent else ""


def judge_ours_beats_constant(view: View) -> Judgement:
    rows = _rows(view, ("constant", "debias"))
    if not rows:
        return Judgement(NOT_RUN, ["no Table 1 cell for Constant or Ours in the plan"])
    details, missing, ok = [], [], True
    for (ds, steps), cols in rows.items():
        vals, miss = _need({w: cols.get(w, Obs("not in plan")) for w in ("constant", "debias")})
        missing += [f"{ds} T={steps} {m}" for m in miss]
        if not miss:
            win = vals["debias"] < vals["constant"]
            ok &= win
            details.append(f"{ds} T={steps}: Ours {_f(vals['debias'])} vs Constant "
                           f"{_f(vals['constant'])} {'✓' if win else '✗'}")
    if missing:
        return Judgement(NOT_RUN, missing + details)
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def judge_ours_best_per_row(view: View) -> Judgement:
    names = ("constant", "p2", "min_snr", "debias")
    rows = _rows(view, names)
    if not rows:
        return Judgement(NOT_RUN, ["no Table 1 cell in the plan"])
    details, missing, ok = [], [], True
    judged = 0
    for (ds, steps), cols in rows.items():
        present = {w: o for w, o in cols.items() if o.status != "not in paper"}
        vals, miss = _need(present)
        missing += [f"{ds} T={steps} {m}" for m in miss]
        if not miss and "debias" in vals and len(vals) > 1:
            judged += 1
            best = min(vals, key=vals.get)
            ok &= best == "debias"
            details.append(f"{ds} T={steps}: best {_w(best)} {_f(vals[best])}; Ours "
                           f"{_f(vals['debias'])} {'✓' if best == 'debias' else '✗'}"
                           + _compared(present, names))
    if not judged and not missing:
        return Judgement(NOT_RUN, ["no Table 1 row with Ours and another weighting"])
    if missing:
        return Judgement(NOT_RUN, missing + details)
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def _gains(view: View) -> tuple[dict[str, dict[int, float]], list[str]]:
    gains: dict[str, dict[int, float]] = {}
    missing = []
    for (ds, steps), cols in _rows(view, ("constant", "debias")).items():
        vals, miss = _need({w: cols.get(w, Obs("not in plan")) for w in ("constant", "debias")})
        missing += [f"{ds} T={steps} {m}" for m in miss]
        if not miss:
            gains.setdefault(ds, {})[steps] = vals["constant"] - vals["debias"]
    return gains, missing


def judge_gain_grows_fewer_steps(view: View) -> Judgement:
    gains, missing = _gains(view)
    if missing:
        return Judgement(NOT_RUN, missing)
    judged = {ds: g for ds, g in gains.items() if len(g) >= 2}
    if not judged:
        return Judgement(NOT_RUN, ["no dataset with Constant and Ours at two step counts"])
    details, ok = [], True
    for ds, g in judged.items():
        lo, hi = min(g), max(g)
        grows = g[lo] > g[hi]
        ok &= grows
        details.append(f"{ds}: gain {_f(g[lo])} at T={lo} vs {_f(g[hi])} at T={hi} "
                       f"{'✓' if grows else '✗'}")
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def _spearman(x: list[float], y: list[float]) -> float:
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=lambda i: v[i])
        r = [0.0] * len(v)
        for rank, i in enumerate(order):
            r[i] = float(rank)
        return r

    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    den = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / den if den else 0.0


def judge_gain_larger_small_datasets(view: View) -> Judgement:
    gains, missing = _gains(view)
    if missing:
        return Judgement(NOT_RUN, missing)
    steps_all = sorted({s for g in gains.values() for s in g}, reverse=True)
    details, ok, judged = [], True, 0
    for steps in steps_all:
        pts = [(view.sizes.get(ds), g[steps]) for ds, g in gains.items() if steps in g]
        pts = [(s, g) for s, g in pts if s is not None and not math.isinf(g)]
        if len({s for s, _ in pts}) < 2:
            continue
        rho = _spearman([s for s, _ in pts], [g for _, g in pts])
        judged += 1
        ok &= rho < 0
        listing = ", ".join(f"{s} img: {_f(g)}" for s, g in sorted(pts))
        details.append(f"T={steps}: gains by size [{listing}], Spearman ρ = {rho:+.2f} "
                       f"{'✓' if rho < 0 else '✗'}")
    if not judged:
        return Judgement(NOT_RUN, ["fewer than two datasets of different size with both "
                                   "Constant and Ours at one step count"])
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def _judge_ours_best_table2(view: View, metric: str) -> Judgement:
    """Ours has the best `metric` ("fid": lowest, "is": highest) in every Table 2 row."""
    if not view.t2:
        return Judgement(NOT_RUN, ["no Table 2 cell in the plan"])
    details, missing, why, ok = [], [], set(), True
    for (ds, steps), cols in view.t2.items():
        obs = {w: cols[(metric, w)] for w in paper.TABLE2_COLUMNS if (metric, w) in cols}
        if metric == "is":  # a diverged run has no IS: skip it rather than rank it
            obs = {w: o for w, o in obs.items() if not o.status.startswith("diverged")}
        vals, miss = _need(obs)
        missing += [f"{ds} T={steps} {metric.upper()} {m}" for m in miss]
        if metric == "is":  # the metrics JSON says why IS is absent (e.g. offline weights)
            why |= {str(r["inception_score_note"]) for o in obs.values() for r in o.records
                    if r.get("inception_score_note")}
        if miss or "debias" not in vals:
            continue
        pick = min if metric == "fid" else max
        best = pick(vals, key=vals.get)
        ok &= best == "debias"
        details.append(f"{ds} {metric.upper()}: best {_w(best)} {_f(vals[best])}; Ours "
                       f"{_f(vals['debias'])} {'✓' if best == 'debias' else '✗'}"
                       + _compared(obs, paper.TABLE2_COLUMNS))
    if missing:
        return Judgement(NOT_RUN, missing + [f"why: {n}" for n in sorted(why)] + details)
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def judge_eps_ours_best(view: View) -> Judgement:
    if not view.t4:
        return Judgement(NOT_RUN, ["no Table 4 cell in the plan"])
    vals, miss = _need(view.t4)
    if miss:
        return Judgement(NOT_RUN, miss)
    if "eps-debias" not in vals or len(vals) < 2:
        return Judgement(NOT_RUN, ["Table 4 needs eps-debias and another column in the plan"])
    best = min(vals, key=vals.get)
    details = [f"{k}: {_f(v)}" for k, v in vals.items()]
    return Judgement(SUPPORTED if best == "eps-debias" else CONTRADICTED,
                     [f"best: {best}"] + details)


def judge_ours_beats_adm(view: View) -> Judgement:
    if not view.t3:
        return Judgement(NOT_RUN, ["no Table 3 cell in the plan"])
    vals, miss = _need({k: view.t3.get(k, Obs()) for k in ("adm_baseline", "ours_500k")})
    if miss:
        return Judgement(NOT_RUN, miss)
    ok = vals["ours_500k"] < vals["adm_baseline"]
    details = [f"Ours@500k {_f(vals['ours_500k'])} vs ADM {_f(vals['adm_baseline'])} "
               f"{'✓' if ok else '✗'}"]
    longer = view.t3.get("ours_1000k")
    if longer is not None and longer.status != "not run":
        v, miss = _need({"ours_1000k": longer})
        if miss:
            return Judgement(NOT_RUN, miss + details)
        better = v["ours_1000k"] < vals["ours_500k"]
        ok &= better
        details.append(f"Ours@1000k {_f(v['ours_1000k'])} vs Ours@500k {_f(vals['ours_500k'])} "
                       f"{'✓' if better else '✗'}")
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def judge_snr_diverges_or_worst(view: View) -> Judgement:
    if view.snr_groups is None:
        return Judgement(NO_NUMBERS, ["the paper shows 1/SNR samples (Fig. 11) and MSE "
                                      "(Fig. 10) but prints no FID"])
    diverged = [s for s in view.snr_training if s.startswith("diverged")]
    if diverged:
        return Judgement(SUPPORTED, [f"1/SNR training: {s}" for s in diverged])
    if not view.snr_groups:
        return Judgement(NOT_RUN, ["no 1/SNR cell in the plan"])
    details, missing, ok = [], [], True
    for group in view.snr_groups:
        where = group.get("_where", "")
        vals, miss = _need({w: o for w, o in group.items() if w != "_where"})
        missing += [f"{where} {m}" for m in miss]
        if miss:
            continue
        worst = max(vals, key=vals.get)
        is_worst = vals["snr"] == vals[worst]
        ok &= is_worst
        details.append(f"{where}: " + "; ".join(f"{_w(w)} {_f(v)}" for w, v in vals.items())
                       + (" ✓" if is_worst else " ✗"))
    if missing:
        return Judgement(NOT_RUN, missing + details)
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def judge_mse_above_initial(view: View) -> Judgement:
    if view.mse is None:
        return Judgement(NO_NUMBERS, ["Fig. 4 is a plot; the paper prints no MSE values"])
    missing = [f"{_w(w)}: mse.json not run" for w in ("constant", "debias") if not view.mse.get(w)]
    if missing:
        return Judgement(NOT_RUN, missing)
    details, ok = [], True
    for w, want_above in (("constant", True), ("debias", False)):
        data = view.mse[w]
        pts = [(t, m, i) for t, m, i in zip(data["t"], data["mse"], data["initial"], strict=True)
               if t > 950]
        if not pts:
            return Judgement(NOT_RUN, [f"{_w(w)}: no analysed t > 950"])
        above = sum(m > i for _, m, i in pts)
        ratio = sum(m / i for _, m, i in pts if i > 0) / len(pts)
        good = above > len(pts) / 2 if want_above else above == 0
        ok &= good
        details.append(f"{_w(w)}: MSE > Initial at {above}/{len(pts)} analysed t > 950 "
                       f"(mean MSE/Initial {ratio:.2f}) {'✓' if good else '✗'}")
    return Judgement(SUPPORTED if ok else CONTRADICTED, details)


def judge_ours_fewer_iterations(view: View) -> Judgement:
    if view.fig7a is None:
        return Judgement(NO_NUMBERS, ["stated in text: Ours at 400k matches Constant at 1000k; "
                                      "the curve's values are not printed"])
    const, ours = view.fig7a.get("constant", {}), view.fig7a.get("debias", {})
    if not const or not ours:
        return Judgement(NOT_RUN, ["Fig. 7a needs Constant and Ours at several iterations"])
    vals, miss = _need({f"{_w(w)}@{i}": o for w, series in (("constant", const), ("debias", ours))
                        for i, o in series.items()})
    if miss:
        return Judgement(NOT_RUN, miss)
    last = max(const)
    target = vals[f"Constant@{last}"]
    reached = sorted(i for i in ours if i < last and vals[f"Ours@{i}"] <= target)
    details = [f"Constant final FID {_f(target)} at {last} it",
               "Ours: " + ", ".join(f"{i} it {_f(vals[f'Ours@{i}'])}" for i in sorted(ours))]
    if reached:
        details.append(f"Ours reaches it at {reached[0]} it ✓")
    else:
        details.append("Ours does not reach it before Constant's last iteration ✗")
    return Judgement(SUPPORTED if reached else CONTRADICTED, details)


JUDGES: dict[str, Callable[[View], Judgement]] = {
    "ours_beats_constant": judge_ours_beats_constant,
    "ours_best_per_row": judge_ours_best_per_row,
    "gain_grows_fewer_steps": judge_gain_grows_fewer_steps,
    "gain_larger_small_datasets": judge_gain_larger_small_datasets,
    "ours_best_table2_fid": lambda view: _judge_ours_best_table2(view, "fid"),
    "ours_best_table2_is": lambda view: _judge_ours_best_table2(view, "is"),
    "eps_ours_best": judge_eps_ours_best,
    "ours_beats_adm": judge_ours_beats_adm,
    "snr_diverges_or_worst": judge_snr_diverges_or_worst,
    "mse_above_initial": judge_mse_above_initial,
    "ours_fewer_iterations": judge_ours_fewer_iterations,
}


def paper_view() -> View:
    """The paper's own published numbers as a View (figures without numbers stay None)."""
    view = View(sizes=dict(paper.DATASET_SIZES))
    for ds, steps in paper.table1_keys():
        view.t1[(ds, steps)] = {w: paper_obs(paper.table1_value(ds, steps, w))
                                for w in paper.TABLE1_COLUMNS if w != "p2_star"}
    for ds, steps in paper.table2_keys():
        view.t2[(ds, steps)] = {(m, w): paper_obs(paper.table2_value(ds, steps, m, w))
                                for m in ("fid", "is") for w in paper.TABLE2_COLUMNS}
    for key, *_rest, value in paper.table3_rows():
        view.t3[key] = paper_obs(value)
    view.t4 = {f"{t}-{w}": paper_obs(paper.table4_value(t, w)) for t, w in paper.TABLE4_COLUMNS}
    return view


def reproduced_view(ev: Evidence, tables: dict[str, Table]) -> View:
    """The reproduced evidence as a View; only slots the plan asked for appear."""
    view = View(snr_groups=[], mse={}, fig7a={})
    for row in tables["table1"].rows:
        planned = {w: c.obs for w, c in row.cells.items() if c.planned}
        if planned:
            view.t1[row.key] = planned
            sizes = [ev.dataset_size(d.strip()) for d in row.reproduced_by.split(",")]
            view.sizes[row.key[0]] = next((s for s in sizes if s), None)
    for row in tables["table2"].rows:
        ds, steps, metric = row.key
        for w, c in row.cells.items():
            if c.planned:
                view.t2.setdefault((ds, steps), {})[(metric, w)] = c.obs
    for row in tables["table3"].rows:
        if row.cells["fid"].planned:
            view.t3[row.key[0]] = row.cells["fid"].obs
    for row in tables["table4"].rows:
        if not view.t4:
            view.t4 = {col: c.obs for col, c in row.cells.items() if c.planned}
    # 1/SNR: every (dataset, iteration, sampler, steps) group that has a 1/SNR cell.
    groups: dict[tuple, dict[str, Obs]] = {}
    for cells in ev.groups.values():
        c = cells[0]
        where = f"{c.get('dataset')} {c.get('sampler')}{c.get('steps')} @{c.get('iteration')}"
        groups.setdefault((c.get("dataset"), c.get("target"), c.get("iteration"),
                           c.get("sampler"), c.get("steps")), {"_where": where})[
            c.get("weighting")] = ev.obs(c)
    view.snr_groups = [g for g in groups.values() if "snr" in g and len(g) > 2]
    view.snr_training = [s for (_d, _t, w), s in ev.training_status.items() if w == "snr"]
    for entry in ev.analysis():
        if entry.get("target", "eps") == "eps" and "fig4" in entry.get("figure", ["fig4"]):
            view.mse.setdefault(entry.get("weighting"), entry.get("mse_data"))
    for cell in ev.cells("fig7a"):
        view.fig7a.setdefault(cell.get("weighting"), {})[cell.get("iteration")] = ev.obs(cell)
    return view


@dataclass
class ClaimResult:
    claim: paper.Claim
    reproduced: Judgement
    in_paper: Judgement
    verdict: str  # "reproduced", "not reproduced", "not run"
    scale: str

    @property
    def verdict_text(self) -> str:
        """The verdict with the scale it was reached at (a toy result never judges the paper)."""
        return f"{self.verdict} at {self.scale} scale"


def judge_claims(ev: Evidence, tables: dict[str, Table]) -> list[ClaimResult]:
    """Every claim judged on the reproduction and on the paper's own numbers."""
    repro, pub = reproduced_view(ev, tables), paper_view()
    out = []
    for claim in paper.CLAIMS:
        judge = JUDGES[claim.test]
        r = judge(repro)
        verdict = {SUPPORTED: "reproduced", CONTRADICTED: "not reproduced"}.get(r.outcome, NOT_RUN)
        out.append(ClaimResult(claim, r, judge(pub), verdict, ev.scale))
    return out
