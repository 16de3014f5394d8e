"""The report's released section: every released arm's cells (config `released`), measured like
trained cells, beside the number its authors published for that very checkpoint and the
protocol that number was measured with.

A released arm is one fixed network, so its intervals here are sampling noise only (the
bootstrap over its generated samples); the claims that compare two released networks add the
training-seed noise one-seed cells carry (harness.report.released_claims). Each row shows our
numbers in the clean-fid mode that matches the published protocol where one was computed
(`metrics.mode` may list several), else in the deciding mode, and says when the comparison is
one across protocols or across sample counts (FID's bias grows as the sample count falls;
KID's does not).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from harness import paper
from harness.paper.p2 import Published
from harness.report.evidence import (
    NOT_RUN,
    Evidence,
    Obs,
    aggregate,
    read_json,
    resolve,
    sample_key,
)
from harness.report.tables import WEIGHTING_LABELS

KID_SCALE = 1000.0  # published KIDs are printed x 10^3


def mode_record(record: dict, mode: str) -> dict:
    """`record` with its top-level numbers those of clean-fid `mode` (its `modes` block), or
    unchanged when `mode` is the record's own; None-valued numbers when it has no such mode."""
    if (record.get("protocol") or {}).get("mode", "clean") == mode:
        return record
    block = (record.get("modes") or {}).get(mode) or {}
    return {**record, "fid": block.get("fid"), "kid": block.get("kid"),
            "kid_std": block.get("kid_std"), "bootstrap": block.get("bootstrap"),
            "intervals": block.get("intervals"), "color_shift": None}


@dataclass
class ReleasedRow:
    """One released cell: an arm at one step count, beside its published number."""

    arm: str
    cell: dict  # the plan cell
    info: dict  # plan.json's released.<arm>
    mode: str | None  # the clean-fid mode of `fid` and `kid` (None: no result yet)
    modes: list[str]  # every mode the cell was measured in
    samples: int | None
    fid: Obs
    kid: Obs
    published: Published | None
    record: dict = field(default_factory=dict)  # the check record (path, size, sha256)

    @property
    def label(self) -> str:
        w = self.cell.get("weighting")
        return f"{self.arm} ({WEIGHTING_LABELS.get(w, w)})"

    @property
    def cross_protocol(self) -> bool:
        """Ours and the published number were measured in different protocols: another mode,
        or a published evaluator that our nearest mode only stands in for."""
        if self.published is None:
            return False
        proto = self.published.protocol
        return not proto.exact or (self.mode is not None and self.mode != proto.mode)

    @property
    def same_samples(self) -> bool:
        return bool(self.published and self.samples == self.published.protocol.samples)

    def notes(self) -> list[str]:
        """What a reader must know before comparing the two numbers."""
        if self.published is None:
            return []
        proto, out = self.published.protocol, []
        if self.cross_protocol:
            out.append(f"across protocols: ours clean-fid {self.mode or '?'} mode, published "
                       f"{proto.evaluator}")
        if self.samples and not self.same_samples:
            out.append(f"FID at {self.samples:,} samples against FID-{proto.samples // 1000}k: "
                       "FID's bias grows as the sample count falls (KID's does not)")
        return out


def _published(info: dict, cell: dict) -> Published | None:
    if not info.get("published") or not cell.get("paper_dataset"):
        return None
    return paper.published_value(info["published"], cell["paper_dataset"], int(cell["steps"]),
                                 cell["weighting"])


def released_rows(ev: Evidence) -> list[ReleasedRow]:
    """Every released cell of the plan, in plan order."""
    infos = ev.plan.get("released") or {}
    rows = []
    for cell in (c for c in ev.plan["cells"] if c.get("released")):
        arm = cell["released"]
        info = infos.get(arm, {})
        published = _published(info, cell)
        records, files, ids = ev.seed_records()[sample_key(cell)]
        modes = list(((records[0].get("protocol") or {}).get("modes")
                      or [(records[0].get("protocol") or {}).get("mode", "clean")])
                     if records else [])
        want = published.protocol.mode if published else None
        mode = want if want in modes else (modes[0] if modes else None)
        chosen = [mode_record(r, mode) for r in records] if mode else []
        obs = {m: aggregate(chosen, files, m, NOT_RUN, ids, ev.confidence) for m in ("fid", "kid")}
        samples = next(((r.get("protocol") or {}).get("num_generated") for r in records), None)
        record = read_json(resolve(info.get("record"), ev.plan_path)) or {}
        rows.append(ReleasedRow(arm, cell, info, mode, modes, samples, obs["fid"], obs["kid"],
                                published, record))
    return rows


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _shown(o: Obs, scale: float = 1.0) -> dict:
    if not o.ok:
        return {"main": o.status, "interval": None}
    ci = f"[{_num(o.ci[0] * scale)}, {_num(o.ci[1] * scale)}]" if o.ci else "no interval"
    return {"main": _num(o.value * scale), "interval": ci}


def row_view(row: ReleasedRow) -> dict:
    """Display strings of one released cell."""
    pub = row.published
    size = row.record.get("size_bytes")
    return {
        "arm": row.arm, "label": row.label, "dataset": row.cell.get("dataset"),
        "paper_dataset": paper.DATASET_LABELS.get(row.cell.get("paper_dataset") or "", ""),
        "sampler": row.cell.get("sampler"), "steps": row.cell.get("steps"),
        "samples": row.samples, "mode": row.mode, "modes": row.modes,
        "fid": _shown(row.fid), "kid": _shown(row.kid, KID_SCALE),
        "published_fid": None if pub is None else f"{pub.fid:g}",
        "published_kid": None if pub is None or pub.kid is None else f"{pub.kid:g}",
        "published_where": None if pub is None else pub.where,
        "protocol": None if pub is None else pub.protocol.text(),
        "diff": (f"{row.fid.value - pub.fid:+.2f}" if pub is not None and row.fid.ok else None),
        "notes": row.notes(), "source": row.info.get("source") or "",
        "path": row.record.get("path") or row.info.get("file"),
        "size": None if size is None else f"{size:,} bytes",
        "sha256": row.record.get("sha256"),
    }


def released_section(ev: Evidence, assets: Path) -> dict:
    """The section's rows, and assets/released.csv."""
    rows = released_rows(ev)
    if rows:
        write_csv(rows, assets / "released.csv")
    arms = {}
    for r in rows:
        arms.setdefault(r.arm, row_view(r))
    return {"rows": [row_view(r) for r in rows], "arms": list(arms.values()),
            "csv": "released.csv" if rows else None}


def write_csv(rows: list[ReleasedRow], path: Path) -> None:
    """One line per released cell: ours (value, interval, mode, samples) beside the published
    number, its table and protocol."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["arm", "dataset", "weighting", "sampler", "steps", "samples", "mode",
                      "fid", "fid_ci_low", "fid_ci_high", "kid", "kid_ci_low", "kid_ci_high",
                      "published_fid", "published_kid_x1e3", "published_in", "protocol",
                      "notes", "sha256"])
        for r in rows:
            ci = {m: (o.ci if o.ok and o.ci else (None, None)) for m, o in
                  (("fid", r.fid), ("kid", r.kid))}
            pub = r.published
            out.writerow([r.arm, r.cell.get("dataset"), r.cell.get("weighting"),
                          r.cell.get("sampler"), r.cell.get("steps"), r.samples or "", r.mode,
                          _csv(r.fid.value if r.fid.ok else None), *map(_csv, ci["fid"]),
                          _csv(r.kid.value if r.kid.ok else None), *map(_csv, ci["kid"]),
                          _csv(pub.fid if pub else None), _csv(pub.kid if pub else None),
                          pub.where if pub else "", pub.protocol.text() if pub else "",
                          "; ".join(r.notes()), r.record.get("sha256") or ""])


def _csv(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
