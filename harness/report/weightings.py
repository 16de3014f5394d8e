"""The report's `weightings` section: every weighting of the run with its formula, space and
source (plan.json's `weightings`), their effective weight curves per target beside each other
(Figs. 2/5 style), a ranking per dataset and step count with intervals, and the verdicts of each
user weighting against Constant and against Ours (debias).

A verdict is a claim ("U beats B") over the groups where both ran, built with
`judgement.diff` and `judgement.judge` as the paper's claims are; `family_outcomes` corrects
the verdicts for the number of comparisons (Holm), in this one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from harness.diffusion.user_weighting import curve
from harness.report.evidence import METRIC_LABELS, Evidence, Obs
from harness.report.figures import COLORS, STYLE, Figure, _save, plt
from harness.report.judgement import Judgement, diff, judge
from harness.report.tables import WEIGHTING_LABELS, Table
from harness.report.views import View, reproduced_view
from harness.runtime import write_text_atomic
from harness.stats import CONTRADICTED, INCONCLUSIVE, NOT_RUN, SUPPORTED, holm_rejections
from harness.stats.decision import side_level

BASELINES = ("constant", "debias")  # Constant, and the paper's "Ours"
TARGET_TITLES = {"eps": "ε-prediction", "x0": "x0-prediction", "v": "v-prediction"}
# Colours of weightings without one in figures.COLORS (user weightings, the extra built-ins).
OTHER_COLORS = ("#17becf", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#000000")


@dataclass
class Comparison:
    """One user weighting against one baseline: the claim 'it beats the baseline'."""

    weighting: str
    baseline: str
    title: str  # "<label> vs <label>"
    judgement: Judgement
    outcome: str = NOT_RUN  # corrected for the number of comparisons (family_outcomes)
    verdict_text: str = ""


@dataclass
class Section:
    entries: list[dict] = field(default_factory=list)  # plan.json records, with display labels
    figure: Figure | None = None
    rankings: list[dict] = field(default_factory=list)  # {where, rows: [...]}
    comparisons: list[Comparison] = field(default_factory=list)
    metric_label: str = "FID"
    user: list[str] = field(default_factory=list)  # the user weightings' names


def label(entry: dict) -> str:
    """A built-in's label as the tables write it; a user weighting's own."""
    return WEIGHTING_LABELS.get(entry["name"]) or entry.get("label") or entry["name"]


def family_outcomes(judgements: list[Judgement], confidence: float) -> list[str]:
    """Each comparison's verdict corrected for the number of comparisons, at one-sided level
    (1 - confidence)/2, in the order `decide` applies within one claim: contradicted when
    Holm's procedure over the cells with a result, of every comparison, rejects one of its
    cells; not run when one of its cells has no result; supported when Holm over the
    comparisons rejects its intersection-union p-value (its largest cell p; a comparison that
    cannot be supported counts with p = 1); inconclusive otherwise."""
    level = side_level(confidence)
    cells = [(i, t) for i, j in enumerate(judgements) for t in j.tests if t.run]
    contradicted = {i for (i, _), hit in zip(cells, _holm([t.p_contradict for _, t in cells],
                                                           level), strict=True) if hit}
    complete = [bool(j.tests) and all(t.run for t in j.tests) for j in judgements]
    p_support = [max(t.p_support for t in j.tests) if ok else 1.0
                 for j, ok in zip(judgements, complete, strict=True)]
    supported = _holm(p_support, level)
    return [CONTRADICTED if i in contradicted else NOT_RUN if not complete[i]
            else SUPPORTED if supported[i] else INCONCLUSIVE for i in range(len(judgements))]


def _holm(p_values: list[float], level: float) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects (harness.stats.holm_rejections)."""
    rejected = set(sorted(range(len(p_values)), key=lambda i: p_values[i])[
        :holm_rejections(p_values, level)])
    return [i in rejected for i in range(len(p_values))]


def compare(view: View, entries: list[dict]) -> list[Comparison]:
    """Every user weighting against each baseline, over the groups where both ran."""
    labels = {e["name"]: label(e) for e in entries}
    out = []
    for user in (e["name"] for e in entries if e["kind"] != "built-in"):
        for base in BASELINES:
            u, b = labels[user], WEIGHTING_LABELS[base]
            tests = [diff(f"{g.where}: {b} − {u}", g.cells[base], g.cells[user])
                     for g in view.groups or [] if base in g.cells and user in g.cells]
            why = f"no ε-prediction cells of {u} beside {b} in the plan"
            out.append(Comparison(user, base, f"{u} vs {b}", judge(view, tests,
                                                                     none_why=why)))
    for c, outcome in zip(out, family_outcomes([c.judgement for c in out], view.confidence),
                          strict=True):
        c.outcome = outcome
    return out


def rankings(view: View, labels: dict[str, str]) -> list[dict]:
    """Per group of ε cells at the final checkpoint that differ only in weighting (two or more):
    the weightings from best (lowest deciding metric over the finite seeds) to worst with
    intervals; those whose every seed diverged, then those not run, last."""
    out = []
    for g in sorted(view.groups or [], key=lambda g: (g.dataset, g.sampler, -g.steps,
                                                      g.iteration)):
        if len(g.cells) < 2:
            continue
        order = sorted(g.cells.items(), key=lambda kv: _rank_key(kv[1]))
        rows = [{"weighting": w, "label": labels.get(w, w), "status": o.status,
                 "value": o.value if o.ok else None, "ci": list(o.ci) if o.ok and o.ci else None,
                 "seeds": o.seeds, "diverged": o.divergence_text()} for w, o in order]
        out.append({"where": g.where, "dataset": g.dataset, "steps": g.steps,
                    "sampler": g.sampler, "iteration": g.iteration, "rows": rows})
    return out


def _rank_key(o: Obs) -> tuple:
    return (0, o.value) if o.ok else (1, 0.0) if o.all_diverged else (2, 0.0)


def curves_figure(entries: list[dict], steps: int, noise_schedule: str, path: Path,
                  svg: bool = True) -> tuple[Figure, list[str]]:
    """The effective weight of every entry against t, one panel per target (log y); notes name
    weightings that cannot be evaluated here (e.g. a plugin not installed)."""
    notes = []
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
        others = iter(OTHER_COLORS * len(entries))
        colors = {e["name"]: COLORS.get(e["name"]) or next(others) for e in entries}
        for ax, target in zip(axes, TARGET_TITLES, strict=True):
            for entry in entries:
                try:
                    t, w = curve(entry, target, steps, noise_schedule)
                except ValueError as err:
                    if target == "eps":
                        notes.append(f"{label(entry)}: not drawn ({err})")
                    continue
                user = entry["kind"] != "built-in"
                ax.semilogy(t, np.where(w > 0, w, np.nan), label=label(entry),
                            color=colors[entry["name"]],
                            ls="--" if user else "-", lw=1.8 if user else 1.2)
            ax.set_title(f"{TARGET_TITLES[target]}: weight on its MSE")
            ax.set_xlabel("timestep t")
        axes[0].set_ylabel("loss weight (log scale)")
        axes[-1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
        png, svg_name = _save(fig, path.parent, path.stem, svg=svg)
    figure = Figure("weightings-curves", "Effective loss weights of the run's weightings",
                    f"The weight each weighting puts on the MSE of each prediction target at "
                    f"every timestep ({noise_schedule} schedule, T = {steps}); dashed: "
                    "user weightings. Converted between targets as ε weight = x0 weight / SNR, "
                    "v weight = x0 weight / (SNR + 1).", png, svg_name, wide=True)
    figure.note = "; ".join(notes)
    return figure, notes


def weightings_section(ev: Evidence, tables: dict[str, Table], assets: Path,
                       svg: bool = True, regime: str = "") -> Section:
    """The section's content; writes weightings_curves.png (and .svg) and weightings.json;
    ``regime``: where the positive control fails at this scale, said in every verdict."""
    block = ev.plan.get("weightings") or {}
    entries = [dict(e, display=label(e)) for e in block.get("entries", [])]
    section = Section(entries, metric_label=METRIC_LABELS[ev.metric],
                      user=[e["name"] for e in entries if e["kind"] != "built-in"])
    if not entries:
        return section
    section.figure, _ = curves_figure(entries, int(block.get("steps", 1000)),
                                      block.get("noise_schedule", "linear"),
                                      assets / "weightings_curves.png", svg)
    view = reproduced_view(ev, tables)
    section.rankings = rankings(view, {e["name"]: e["display"] for e in entries})
    section.comparisons = compare(view, entries)
    for c in section.comparisons:
        c.verdict_text = ", ".join(p for p in (f"{c.outcome} at {ev.scale} scale", regime) if p)
    write_text_atomic(assets / "weightings.json", json.dumps({
        "metric": ev.metric, "scale": ev.scale, "weightings": entries,
        "rankings": section.rankings,
        "comparisons": [{"weighting": c.weighting, "baseline": c.baseline,
                         "verdict": c.outcome, "verdict_text": c.verdict_text,
                         "uncorrected": c.judgement.outcome, "details": c.judgement.details}
                        for c in section.comparisons]}, indent=1) + "\n")
    return section
