"""Build the report: tables (CSV + HTML), figures (PNG + SVG) and report.html (jinja2)."""

from __future__ import annotations

import datetime as _dt
import json
import math
from pathlib import Path

import jinja2

from harness.inputs import check_output_path
from harness.report import provenance
from harness.report.calibration import calibration_section
from harness.report.claims import judge_claims
from harness.report.evidence import METRIC_LABELS, Evidence
from harness.report.figures import build_curve_figures
from harness.report.images import sample_grids, x0_strips
from harness.report.learning import learning_ratios
from harness.report.released import released_section
from harness.report.tables import Table, TableCell, build_tables, write_csv
from harness.report.weightings import weightings_section
from harness.runtime import write_text_atomic
from harness.stats import CONTRADICTED, NOT_RUN, SUPPORTED, VERDICTS


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


def claims_record(claims, scale: str) -> list[dict]:
    """assets/claims.json: every verdict with its deciding numbers (machine-readable); `paper`
    is the paper's own numbers judged with the seed-noise prior, `paper_as_printed` exactly."""
    return [{"id": c.claim.id, "verdict": c.verdict, "verdict_text": c.verdict_text,
             "scale": scale, "positive_control": c.claim.positive_control,
             "details": c.reproduced.details,
             "cells": c.reproduced.decision.counts if c.reproduced.decision else None,
             "paper": c.in_paper.outcome, "paper_details": c.in_paper.details,
             "paper_as_printed": c.as_printed.outcome, "paper_flags": c.paper_notes}
            for c in claims]
def regime(claims) -> dict | None:
    """The positive control the summary opens with: the trained one, else one on released
    networks where that is the only one run (the released preset trains nothing)."""
    controls = [c for c in claims if c.claim.positive_control]
    chosen = next((c for c in controls if c.verdict != NOT_RUN), controls[0] if controls else None)
    return None if chosen is None else {"claim": chosen, "shown": chosen.verdict == SUPPORTED}


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
    write_text_atomic(assets / "claims.json",
                      json.dumps(claims_record(claims, ev.scale), indent=1) + "\n")
    figures = build_curve_figures(ev, assets)
    weightings = weightings_section(ev, by_id, assets, svg=svg)
    released = released_section(ev, assets)
    grids = sample_grids(ev, assets)
    strips = x0_strips(ev, assets)
    if not svg:
        for fig in figures:
            if fig.svg:
                (assets / fig.svg).unlink(missing_ok=True)
                fig.svg = None
    # A cell used by several tables (e.g. Table 1 and Table 4) is counted once.
    unique = {str([c.get("metrics") for c in cells]): cells[0] for cells in ev.groups.values()}
    statuses = [ev.obs(cell).status for cell in unique.values()]
    summary = {
        "planned": len(statuses),
        "ok": sum(s == "ok" for s in statuses),
        "diverged": sum(s.startswith("diverged") for s in statuses),
        "not_run": sum(s == "not run" for s in statuses),
        "verdicts": {v: sum(c.verdict == v for c in claims) for v in VERDICTS},
        "paper_flags": [(c.claim.statement, c.paper_contradictions) for c in claims
                        if c.paper_contradictions],
        "paper_trends": [(c.claim.statement, c.paper_trend_notes) for c in claims
                         if c.paper_trend_notes],
        "paper_separates": [c.claim.statement for c in claims
                            if c.in_paper.outcome in (SUPPORTED, CONTRADICTED)],
        "paper_within_noise": [c.claim.statement for c in claims if c.paper_within_noise],
        "regime": regime(claims),
    }
    learned = learning_ratios(ev)
    summary["learning"] = {
        "rows": learned, "metric_label": METRIC_LABELS[ev.metric],
        "mean_ratio": sum(r.ratio for r in learned) / len(learned) if learned else None}
    noise = ev.seed_noise(ev.metric)
    statistics = {**ev.statistics, "metric_label": METRIC_LABELS[ev.metric],
                  "seeds": sorted({o.n for cells in ev.groups.values()
                                   for o in [ev.obs(cells[0], ev.metric)] if o.ok}),
                  "seed_noise": noise.text() if noise else None}
    html = _environment().get_template("report.html").render(
        plan=ev.plan, scale=ev.scale, summary=summary, datasets=ev.plan.get("datasets", {}),
        tables=[table_view(t) for t in tables], claims=claims, figures=figures, grids=grids,
        statistics=statistics, calibration=calibration, verdict_words=VERDICTS,
        strips=strips, prov=provenance.collect(ev), weightings=weightings, released=released,
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        assets=assets.name,
    )
    write_text_atomic(out_html, html)
    return out_html
