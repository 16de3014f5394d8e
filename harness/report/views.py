"""The evidence in the shape the claim judges read, built from the reproduced cells (each slot an
`Obs` of the deciding metric, with its replicates) or from the paper's published numbers (exact
values; what the paper shows only in pictures stays None, so its judge says 'no numbers')."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness import paper
from harness.report.evidence import METRIC_LABELS, Evidence, Obs, paper_obs
from harness.report.tables import Table


@dataclass
class Group:
    """Cells that differ only in their weighting: one dataset, iteration, sampler and T."""

    where: str
    dataset: str
    iteration: int
    sampler: str
    steps: int
    cells: dict[str, Obs]  # weighting -> Obs


@dataclass
class View:
    """What the judges read (see the module docstring)."""

    confidence: float = 0.95
    metric_label: str = "FID"  # the deciding metric, in words
    published: bool = False  # the paper's own numbers
    t1: dict[tuple, dict[str, Obs]] = field(default_factory=dict)  # (ds, T) -> weighting -> Obs
    sizes: dict[str, int | None] = field(default_factory=dict)  # ds -> images
    t2: dict[tuple, dict[tuple, Obs]] = field(default_factory=dict)  # (ds, T) -> ("decide"|"is", w)
    t3: dict[str, Obs] = field(default_factory=dict)  # Table 3 row key -> Obs
    t4: dict[str, Obs] = field(default_factory=dict)  # "target-weighting" -> Obs
    steps_ffhq: dict[str, dict[int, Obs]] = field(default_factory=dict)  # weighting -> T -> Obs
    groups: list[Group] | None = None  # every eps group of the plan (deciding metric)
    color_groups: list[Group] | None = None  # the same groups, colour shift
    snr_training: list[str] = field(default_factory=list)  # training status of 1/SNR runs
    mse: dict[str, dict] | None = None  # weighting -> mse.json (Fig. 4)
    mse_all: dict[str, dict] | None = None  # weighting -> mse.json (Fig. 10)
    mse_diverged: dict[str, str] = field(default_factory=dict)  # weighting -> why no mse.json
    fig7a: dict[str, dict[int, Obs]] | None = None  # weighting -> iteration -> Obs
    calibration: list[tuple[str, Obs, Obs]] | None = None  # (where, main arm, control arm)


def paper_view() -> View:
    """The paper's own published numbers as a View (FID decides; figures without numbers stay
    None)."""
    view = View(sizes=dict(paper.DATASET_SIZES), published=True)
    for ds, steps in paper.table1_keys():
        view.t1[(ds, steps)] = {w: paper_obs(paper.table1_value(ds, steps, w))
                                for w in paper.TABLE1_COLUMNS if w != "p2_star"}
        if ds == "ffhq":
            for w in ("constant", "debias"):
                view.steps_ffhq.setdefault(w, {})[steps] = view.t1[(ds, steps)][w]
    for ds, steps in paper.table2_keys():
        view.t2[(ds, steps)] = {
            (kind, w): paper_obs(paper.table2_value(ds, steps, metric, w))
            for kind, metric in (("decide", "fid"), ("is", "is")) for w in paper.TABLE2_COLUMNS}
    for key, *_rest, value in paper.table3_rows():
        view.t3[key] = paper_obs(value)
    view.t4 = {f"{t}-{w}": paper_obs(paper.table4_value(t, w)) for t, w in paper.TABLE4_COLUMNS}
    return view


def _steps_ffhq(ev: Evidence, metric: str) -> dict[str, dict[int, Obs]]:
    """Constant and Ours on the FFHQ stand-in over step counts (Table 1 and Fig. 7b cells), at
    the (sampler, iteration) that has the most step counts with both."""
    cells = [c for use in ("table1", "fig7b") for c in ev.cells(use)
             if c.get("paper_dataset") == "ffhq" and c.get("target", "eps") == "eps"
             and c.get("weighting") in ("constant", "debias")]
    steps: dict[tuple, dict[str, set[int]]] = {}
    for c in cells:
        steps.setdefault((c.get("sampler"), c.get("iteration")), {}).setdefault(
            c["weighting"], set()).add(c.get("steps"))
    if not steps:
        return {}
    best = max(steps, key=lambda k: len(steps[k].get("constant", set())
                                        & steps[k].get("debias", set())))
    out: dict[str, dict[int, Obs]] = {}
    for c in cells:
        if (c.get("sampler"), c.get("iteration")) == best:
            out.setdefault(c["weighting"], {})[c.get("steps")] = ev.obs(c, metric)
    return out


def _groups(ev: Evidence, metric: str) -> list[Group]:
    groups: dict[tuple, Group] = {}
    for cells in ev.groups.values():
        c = cells[0]
        if c.get("arm", "main") != "main" or c.get("target", "eps") != "eps":
            continue
        key = (c.get("dataset"), c.get("iteration"), c.get("sampler"), c.get("steps"))
        where = f"{c.get('dataset')} {c.get('sampler')}{c.get('steps')} @{c.get('iteration')}"
        group = groups.setdefault(key, Group(where, *key, {}))
        group.cells.setdefault(c.get("weighting"), ev.obs(c, metric))
    return list(groups.values())


def _mse(ev: Evidence, figure: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for entry in ev.analysis():
        wanted = entry.get("target", "eps") == "eps" and figure in entry.get("figure", [figure])
        if wanted and entry.get("mse_data"):
            out.setdefault(entry.get("weighting"), entry["mse_data"])
    return out


def _calibration(ev: Evidence, metric: str) -> list[tuple[str, Obs, Obs]]:
    arms: dict[tuple, dict[str, dict]] = {}
    for c in ev.cells("calibration"):
        key = tuple(c.get(k) for k in ("dataset", "target", "weighting", "iteration", "sampler",
                                       "steps"))
        arms.setdefault(key, {})[c.get("arm", "main")] = c
    out = []
    for (ds, target, w, it, sampler, steps), pair in sorted(arms.items(), key=str):
        where = f"{ds} {target}-{w} {sampler}{steps} @{it}"
        main, control = (ev.obs(pair[a], metric) if a in pair else Obs() for a in
                         ("main", "control"))
        out.append((where, main, control))
    return out


def reproduced_view(ev: Evidence, tables: dict[str, Table]) -> View:
    """The reproduced evidence as a View on the deciding metric; only planned slots appear."""
    metric = ev.metric
    view = View(confidence=ev.confidence, metric_label=METRIC_LABELS[metric], groups=[],
                color_groups=[], mse={}, mse_all={}, fig7a={}, calibration=[])
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
    view.steps_ffhq = _steps_ffhq(ev, metric)
    view.groups = _groups(ev, metric)
    view.color_groups = _groups(ev, "color_shift")
    view.snr_training = [s for (_d, _t, w), s in ev.training_status.items() if w == "snr"]
    view.mse, view.mse_all = _mse(ev, "fig4"), _mse(ev, "fig10")
    view.mse_diverged = {e.get("weighting"): e["diverged"] for e in ev.analysis()
                         if e.get("diverged") and e.get("target", "eps") == "eps"}
    for cell in ev.cells("fig7a"):
        if cell.get("arm", "main") == "main":
            view.fig7a.setdefault(cell.get("weighting"), {})[cell.get("iteration")] = ev.obs(
                cell, metric)
    view.calibration = _calibration(ev, metric)
    return view
