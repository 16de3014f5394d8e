"""The evidence in the shape the claim judges read, built from the reproduced cells (each slot an
`Obs` of the deciding metric, with its replicates and the run's training-seed noise) or from the
paper's published numbers (single training runs, judged with the literature's seed-noise prior at
either end of its range, or exactly as printed; what the paper shows only in pictures stays
None, so its judge says 'no numbers').

Claims about trained models read each run's final checkpoint (`final_iteration`); iteration 0
(the untrained network) and intermediate checkpoints reach only Fig. 7a and Table 3."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from harness import paper
from harness.report.evidence import METRIC_LABELS, Evidence, Obs, paper_obs
from harness.report.mse import analysed_curves
from harness.report.relative_weight import relative_weights
from harness.report.released import ReleasedRow, released_rows
from harness.report.tables import Table
from harness.stats import AS_PRINTED, prior_for
from harness.stats.seednoise import FID_PRIOR_CV


@dataclass
class Group:
    """Cells that differ only in their weighting: one dataset, iteration, sampler and T."""

    where: str
    dataset: str
    iteration: int
    sampler: str
    steps: int
    cells: dict[str, Obs]  # weighting -> Obs


class AAPair(NamedTuple):
    """One cell of the A/A control: its two arms, and the run and step count it stands at."""

    where: str
    run: str  # dataset, target-weighting, sampler and iteration: cells at other T pair with it
    steps: int
    main: Obs
    control: Obs


@dataclass
class View:
    """What the judges read (see the module docstring)."""

    confidence: float = 0.95
    metric_label: str = "FID"  # the deciding metric, in words
    published: bool = False  # the paper's own numbers
    dataset_labels: dict[str, str] = field(default_factory=dict)  # paper dataset -> in words
    stands_for: dict[str, str] = field(default_factory=dict)  # reproduced dataset -> paper's
    t1: dict[tuple, dict[str, Obs]] = field(default_factory=dict)  # (ds, T) -> weighting -> Obs
    sizes: dict[str, int | None] = field(default_factory=dict)  # ds -> images
    t2: dict[tuple, dict[tuple, Obs]] = field(default_factory=dict)  # (ds, T) -> ("decide"|"is", w)
    t3: dict[str, Obs] = field(default_factory=dict)  # Table 3 row key -> Obs
    t4: dict[str, Obs] = field(default_factory=dict)  # "target-weighting" -> Obs
    fig7b: dict[int, dict[str, Obs]] = field(default_factory=dict)  # FFHQ: T -> weighting -> Obs
    groups: list[Group] | None = None  # every eps group of the plan (deciding metric)
    color_groups: list[Group] | None = None  # the same groups, colour shift
    snr_training: list[str] = field(default_factory=list)  # training status of 1/SNR runs
    mse: dict[str, dict[int, dict]] | None = None  # weighting -> replicate -> mse.json (Fig. 4)
    mse_all: dict[str, dict[int, dict]] | None = None  # the same for Fig. 10
    resamples: int = 200  # bootstrap resamples (the MSE curves' image bootstrap)
    mse_diverged: dict[str, str] = field(default_factory=dict)  # weighting -> why no mse.json
    fig7a: dict[str, dict[int, Obs]] | None = None  # weighting -> iteration -> Obs
    calibration: list[AAPair] | None = None  # the A/A control's cells
    weights: dict[str, np.ndarray] = field(default_factory=dict)  # weighting -> ρ(t) (footprint)
    released: list[ReleasedRow] | None = None  # released cells beside their published numbers
    released_pairs: dict[tuple, dict[str, Obs]] = field(default_factory=dict)  # released
    # networks, (dataset, T) -> weighting -> Obs of the deciding metric

    def ds(self, dataset: str) -> str:
        """A paper dataset in words: the paper's name, or the reproduction's stand-in."""
        return self.dataset_labels.get(dataset, paper.DATASET_LABELS.get(dataset, dataset))


def paper_view(cv: float = FID_PRIOR_CV, as_printed: bool = False) -> View:
    """The paper's own published numbers as a View (FID decides; figures without numbers stay
    None): single training runs, so each is judged with the literature's seed-noise prior at
    coefficient of variation ``cv`` for its metric (IS has none: no interval), or exactly
    ``as_printed`` (a description, never a verdict). Each number names the network it was
    sampled from: Table 1's step counts of one weighting are one network, and Tables 3 and 4
    reprint Table 1's FFHQ and CelebA-HQ networks (10.86 = 10.864, 12.0064 = 12.006)."""
    def obs(value: float | None, metric: str, network: tuple) -> Obs:
        noise = AS_PRINTED if as_printed else prior_for(metric, cv, published=True)
        return paper_obs(value, noise, network)

    view = View(sizes=dict(paper.DATASET_SIZES), published=True)
    for ds, steps in paper.table1_keys():
        view.t1[(ds, steps)] = {w: obs(paper.table1_value(ds, steps, w), "fid", (ds, "eps", w))
                                for w in paper.TABLE1_COLUMNS if w != "p2_star"}
        if ds == "ffhq":
            view.fig7b[steps] = view.t1[(ds, steps)]
    for ds, steps in paper.table2_keys():
        view.t2[(ds, steps)] = {
            (kind, w): obs(paper.table2_value(ds, steps, metric, w), metric, (ds, "eps", w))
            for kind, metric in (("decide", "fid"), ("is", "is")) for w in paper.TABLE2_COLUMNS}
    for key, *_rest, value in paper.table3_rows():
        weighting = paper.tables.TABLE3_REPRODUCIBLE.get(key, (key, None))[0]
        view.t3[key] = obs(value, "fid", ("ffhq", "eps", weighting))
    view.t4 = {f"{t}-{w}": obs(paper.table4_value(t, w), "fid", ("celebahq", t, w))
               for t, w in paper.TABLE4_COLUMNS}
    for v in paper.p2_values():  # P2's own numbers of its released networks
        view.released_pairs.setdefault((v.dataset, v.steps), {})[v.weighting] = obs(
            v.fid, "fid", ("p2 released", v.dataset, v.weighting))
    return view


def final_iteration(ev: Evidence) -> int | None:
    """The iteration of the runs' final checkpoints: the plan's, else the latest iteration of
    the Table 1 / Fig. 7b cells, else of any cell."""
    if ev.plan.get("final_iteration") is not None:
        return int(ev.plan["final_iteration"])
    for uses in (("table1", "fig7b"), None):
        its = [c.get("iteration") for c in ev.plan["cells"]
               if uses is None or set(uses) & set(c.get("uses", []))]
        its = [int(i) for i in its if i is not None]
        if its:
            return max(its)
    return None


def _fig7b(ev: Evidence, metric: str, final: int | None) -> dict[int, dict[str, Obs]]:
    """Every weighting on the FFHQ stand-in over step counts (Table 1 and Fig. 7b cells) at the
    final checkpoint, at the sampler with the most step counts of Constant and Ours."""
    cells = [c for use in ("table1", "fig7b") for c in ev.cells(use)
             if c.get("paper_dataset") == "ffhq" and c.get("target", "eps") == "eps"
             and c.get("arm", "main") == "main" and c.get("iteration") == final]
    steps: dict[str, dict[str, set[int]]] = {}
    for c in cells:
        steps.setdefault(c.get("sampler"), {}).setdefault(c["weighting"], set()).add(
            c.get("steps"))
    if not steps:
        return {}
    best = max(steps, key=lambda k: len(steps[k].get("constant", set())
                                        & steps[k].get("debias", set())))
    out: dict[int, dict[str, Obs]] = {}
    for c in cells:
        if c.get("sampler") == best:
            out.setdefault(c.get("steps"), {}).setdefault(c["weighting"], ev.obs(c, metric))
    return out


def _groups(ev: Evidence, metric: str, final: int | None) -> list[Group]:
    """eps cells of the main arm at the final checkpoint, grouped by everything but their
    weighting."""
    groups: dict[tuple, Group] = {}
    for cells in ev.groups.values():
        c = cells[0]
        if (c.get("arm", "main") != "main" or c.get("target", "eps") != "eps"
                or c.get("iteration") != final):
            continue
        key = (c.get("dataset"), c.get("iteration"), c.get("sampler"), c.get("steps"))
        where = f"{c.get('dataset')} {c.get('sampler')}{c.get('steps')} @{c.get('iteration')}"
        group = groups.setdefault(key, Group(where, *key, {}))
        group.cells.setdefault(c.get("weighting"), ev.obs(c, metric))
    return list(groups.values())


def _calibration(ev: Evidence, metric: str) -> list[AAPair]:
    arms: dict[tuple, dict[str, dict]] = {}
    for c in ev.cells("calibration"):
        key = tuple(c.get(k) for k in ("dataset", "target", "weighting", "iteration", "sampler",
                                       "steps"))
        arms.setdefault(key, {})[c.get("arm", "main")] = c
    out = []
    for (ds, target, w, it, sampler, steps), pair in sorted(arms.items(), key=str):
        main, control = (ev.obs(pair[a], metric) if a in pair else Obs() for a in
                         ("main", "control"))
        out.append(AAPair(f"{ds} {target}-{w} {sampler}{steps} @{it}",
                          f"{ds} {target}-{w} {sampler} @{it}", int(steps), main, control))
    return out


def reproduced_view(ev: Evidence, tables: dict[str, Table]) -> View:
    """The reproduced evidence as a View on the deciding metric; only planned slots appear."""
    metric = ev.metric
    final = final_iteration(ev)
    view = View(confidence=ev.confidence, metric_label=METRIC_LABELS[metric], groups=[],
                color_groups=[], mse={}, mse_all={}, fig7a={}, calibration=[])
    stand_ins: dict[str, list[str]] = {}
    for name, info in ev.plan.get("datasets", {}).items():
        if (info or {}).get("stands_for"):
            stand_ins.setdefault(info["stands_for"], []).append(name)
    view.dataset_labels = {ds: f"{', '.join(names)} (stands for {paper.DATASET_LABELS.get(ds, ds)})"
                           for ds, names in stand_ins.items()}
    view.stands_for = {name: ds for ds, names in stand_ins.items() for name in names}
    for row in tables["table1"].rows:
        planned = {w: ev.obs(c.source, metric) for w, c in row.cells.items() if c.planned}
        if planned:
            view.t1[row.key] = planned
            sizes = [ev.dataset_size(d.strip()) for d in row.reproduced_by.split(",")]
            view.sizes[row.key[0]] = next((s for s in sizes if s), None)
    for row in tables["table2"].rows:
        ds, steps, kind = row.key
        for w, c in row.cells.items():
            if c.planned:
                slot = view.t2.setdefault((ds, steps), {})
                slot[("is", w) if kind == "is" else ("decide", w)] = (
                    c.obs if kind == "is" else ev.obs(c.source, metric))
    for row in tables["table3"].rows:
        if row.cells["fid"].planned:
            view.t3[row.key[0]] = ev.obs(row.cells["fid"].source, metric)
    for row in tables["table4"].rows:
        if not view.t4:
            view.t4 = {col: ev.obs(c.source, metric) for col, c in row.cells.items()
                       if c.planned}
    view.fig7b = _fig7b(ev, metric, final)
    view.groups = _groups(ev, metric, final)
    view.color_groups = _groups(ev, "color_shift", final)
    view.snr_training = [s for (_d, _t, w, _s), s in ev.training_status.items() if w == "snr"]
    view.mse, view.mse_all = analysed_curves(ev, "fig4"), analysed_curves(ev, "fig10")
    view.weights = relative_weights(ev.plan.get("weightings") or {})
    view.resamples = int(ev.statistics.get("bootstrap") or view.resamples)
    view.mse_diverged = {e.get("weighting"): e["diverged"] for e in ev.analysis()
                         if e.get("diverged") and e.get("target", "eps") == "eps"}
    for cell in ev.cells("fig7a"):
        if cell.get("arm", "main") == "main":
            view.fig7a.setdefault(cell.get("weighting"), {})[cell.get("iteration")] = ev.obs(
                cell, metric)
    view.calibration = _calibration(ev, metric)
    view.released = released_rows(ev)
    for row in view.released:
        key = (row.cell.get("paper_dataset") or row.cell.get("dataset"), row.cell.get("steps"))
        view.released_pairs.setdefault(key, {}).setdefault(row.cell.get("weighting"),
                                                           ev.obs(row.cell, metric))
    return view
