"""Build the report: tables (CSV + HTML), figures (PNG + SVG) and report.html (jinja2)."""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

import jinja2

from harness.inputs import check_output_path
from harness.report import provenance
from harness.report.calibration import calibration_section, one_seed_power
from harness.report.claims import judge_claims
from harness.report.evidence import METRIC_LABELS, METRIC_UNITS, Evidence
from harness.report.figures import build_curve_figures
from harness.report.footprint import footprint_figure
from harness.report.images import sample_grids, x0_strips
from harness.report.judgement import NO_NUMBERS, printed_way
from harness.report.learning import learning_ratios
from harness.report.released import released_section
from harness.report.tables import Table, TableCell, build_tables, write_csv
from harness.report.verdict import (
    ClaimResult,
    findings,
    paper_word,
    printed_against,
    regime_control,
)
from harness.report.views import reproduced_view
from harness.report.weightings import weightings_section
from harness.runtime import write_text_atomic
from harness.stats import CONTRADICTED, FID_PRIOR_CVS, INCONCLUSIVE, SUPPORTED, VERDICTS
from harness.stats.estimate import SEED_NOISE


def _num(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "–"
    if math.isinf(v):
        return "∞"
    return f"{v:.{digits}f}"


def cell_view(cell: TableCell) -> dict:
    """Display strings for one table cell."""
    o = cell.obs
    interval = None
    if o.ok:
        main = _num(o.value)
        if o.std is not None:
            main += f" ± {_num(o.std)}"
        if o.n > 1:
            main += f" (n={o.n})"
        kind = "ok"
        seeds = f"{o.n} seeds" if o.n > 1 else "1 seed"
        interval = (f"[{_num(o.ci[0])}, {_num(o.ci[1])}] {seeds}" if o.ci
                    else f"no interval, {seeds}")
        if o.diverged:
            main += f" ({o.divergence_text()})"
    else:
        main, kind = o.status, ("diverged" if o.all_diverged else "missing")
        if o.diverged and len(o.diverged) > 1:
            main += f" ({o.divergence_text()})"
    diff = cell.difference
    return {"main": main, "kind": kind, "best": cell.best_repro, "interval": interval,
            "paper": None if cell.paper is None else _num(cell.paper, 4 if cell.paper < 100
                                                            else 2).rstrip("0").rstrip("."),
            "paper_best": cell.best_paper,
            "diff": None if diff is None else f"{diff:+.2f}"}


def table_view(table: Table) -> dict:
    rows = []
    for row in table.rows:
        cells = []
        for col, _ in table.columns:
            cell = row.cells.get(col)
            if col == "type":
                cells.append({"main": cell.obs.status, "kind": "text"})
            else:
                cells.append(cell_view(cell) if cell else {"main": "", "kind": "missing"})
        rows.append({"label": row.label, "by": row.reproduced_by, "cells": cells})
    return {"id": table.id, "title": table.title, "caption": table.caption,
            "columns": [label for _, label in table.columns], "rows": rows,
            "csv": f"{table.id}.csv"}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def printed_lines(j) -> list[str]:
    """Every comparison of the paper's numbers as printed, described (no verdict word)."""
    return [f"{t.label} = {t.estimate.value:+.4g} as printed ({printed_way(t)})"
            for t in j.tests if t.estimate is not None]


def verdict_groups(claims: list[ClaimResult]) -> list[list[ClaimResult]]:
    """The claims in their order, those of one finding together (at its first claim)."""
    groups: dict[object, list[ClaimResult]] = {}
    for c in claims:
        groups.setdefault(c.finding if c.finding is not None else id(c), []).append(c)
    return list(groups.values())


def claims_record(claims: list[ClaimResult], scale: str) -> list[dict]:
    """assets/claims.json: every verdict with its deciding numbers (machine-readable), the
    regime and coverage it carries, the finding it shares with other claims; `paper` is the
    paper's own numbers judged with the seed-noise prior at each end of its range,
    `paper_as_printed` the printed numbers described."""
    return [{"id": c.claim.id, "verdict": c.verdict, "verdict_text": c.verdict_text,
             "scale": scale, "regime": c.regime, "coverage": c.reproduced.coverage,
             "scope": c.reproduced.scope, "finding": c.finding,
             "positive_control": c.claim.positive_control, "reading": c.claim.reading,
             "which_way": c.reproduced.which_way, "details": c.reproduced.details,
             "tests": c.reproduced.records(),
             "cells": c.reproduced.decision.counts if c.reproduced.decision else None,
             "paper": {end: {"verdict": j.outcome, "text": paper_word(j), "details": j.details}
                       for end, j in zip(c.paper_outcomes, (c.paper[cv] for cv in
                                                            sorted(c.paper)), strict=True)},
             "paper_separates": c.paper_separates,
             "paper_as_printed": printed_lines(c.as_printed),
             "paper_printed_against": printed_against(c)}
            for c in claims]


ASSETS_MARKER = ".harness-report-assets"  # marks an assets folder `harness report` made


def claim_assets(assets: Path) -> None:
    """Make the report's assets folder, or accept one an earlier report made (it holds the
    marker file); a folder of someone else's files is refused, as the report overwrites
    figures and tables there by name."""
    if assets.exists() and not (assets / ASSETS_MARKER).is_file() and (
            not assets.is_dir() or any(assets.iterdir())):
        raise ValueError(f"'{assets}' exists and was not made by `harness report` (it has no "
                         f"{ASSETS_MARKER}); the report writes its figures and tables into "
                         "'assets' beside --out: choose an --out in another folder")
    assets.mkdir(parents=True, exist_ok=True)
    (assets / ASSETS_MARKER).touch()


def build_report(plan_path: str | Path, out_html: str | Path, svg: bool = True) -> Path:
    """Write ``out_html`` and its ``assets/`` folder from plan.json; returns the HTML path.

    ``svg=False`` keeps PNGs only (small committed examples)."""
    ev = Evidence(plan_path)
    out_html = Path(out_html)
    check_output_path(out_html, "report output")
    assets = out_html.parent / "assets"
    claim_assets(assets)
    tables = build_tables(ev)
    for table in tables:
        write_csv(table, assets / f"{table.id}.csv")
    by_id = {t.id: t for t in tables}
    claims = judge_claims(ev, by_id)
    calibration = calibration_section(ev, by_id)
    power = one_seed_power(calibration)
    for c in claims:  # a one-seed "inconclusive" is read against the path's power
        if power and c.verdict == INCONCLUSIVE and any(
                t.estimate is not None and t.estimate.method == SEED_NOISE
                for t in c.reproduced.tests):
            c.reproduced.scope.append(power)
    write_text_atomic(assets / "claims.json",
                      json.dumps(claims_record(claims, ev.scale), indent=1) + "\n")
    figures = build_curve_figures(ev, assets) + [
        footprint_figure(reproduced_view(ev, by_id), assets)]
    regime = next((c.regime for c in claims if c.regime), "")
    control = regime_control(claims)
    weightings = weightings_section(ev, by_id, assets, svg=svg, regime=regime)
    released = released_section(ev, assets)
    grids = sample_grids(ev, assets)
    strips = x0_strips(ev, assets)
    if not svg:
        for fig in figures:
            if fig.svg:
                (assets / fig.svg).unlink(missing_ok=True)
                fig.svg = None
    # A cell used by several tables (e.g. Table 1 and Table 4) is counted once.
    statuses = [ev.obs(cells[0]).status for cells in ev.samples.values()]
    summary = {
        "planned": len(statuses),
        "ok": sum(s == "ok" for s in statuses),
        "diverged": sum(s.startswith("diverged") for s in statuses),
        "not_run": sum(s == "not run" for s in statuses),
        "verdicts": {v: sum(c.verdict == v for c in claims) for v in VERDICTS},
        "findings": {v: findings(claims, v) for v in (SUPPORTED, CONTRADICTED)},
        "regime_words": regime,
        # the positive control itself and the harness's own checks carry no regime
        "regime_counts": {v: sum(c.verdict == v and bool(c.regime) for c in claims)
                          for v in VERDICTS},
        "account": [{"claim": c, "words": [paper_word(c.paper[cv]) for cv in sorted(c.paper)],
                     "separates": c.paper_separates, "against": printed_against(c)}
                    for c in claims if c.in_paper.outcome != NO_NUMBERS],
        "prior_ends": [f"CV {cv:.0%}" for cv in FID_PRIOR_CVS],
        "regime": None if control is None else {"claim": control,
                                                 "shown": control.verdict == SUPPORTED},
    }
    learned = learning_ratios(ev)
    summary["learning"] = {
        "rows": learned, "metric_label": METRIC_LABELS[ev.metric],
        "mean_ratio": sum(r.ratio for r in learned) / len(learned) if learned else None}
    noise = ev.seed_noise(ev.metric)
    statistics = {**ev.statistics, "metric_label": METRIC_LABELS[ev.metric],
                  "metric_unit": METRIC_UNITS.get(ev.metric, METRIC_LABELS[ev.metric]),
                  "seeds": sorted({o.n for cells in ev.groups.values()
                                   for o in [ev.obs(cells[0], ev.metric)] if o.ok}),
                  "seed_noise": noise.text() if noise else None}
    env = _environment()
    env.globals["printed_lines"] = printed_lines
    html = env.get_template("report.html").render(
        plan=ev.plan, scale=ev.scale, summary=summary, datasets=ev.plan.get("datasets", {}),
        tables=[table_view(t) for t in tables], claims=claims, figures=figures, grids=grids,
        statistics=statistics, calibration=calibration, verdict_words=VERDICTS,
        verdict_groups=verdict_groups(claims),
        strips=strips, prov=provenance.collect(ev), weightings=weightings, released=released,
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        assets=assets.name,
    )
    write_text_atomic(out_html, html)
    return out_html
