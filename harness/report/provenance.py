"""Provenance of the report: commits, config hashes, Inception weights, seeds, sample counts,
wall time and device-hours per stage, all read from the result files."""

from __future__ import annotations

import csv
from pathlib import Path

from harness.report.evidence import Evidence, read_json, resolve


def _training_seconds(run_dir: Path | None) -> tuple[float | None, str]:
    """Wall time of a training run from status.json, or the last log.csv row; device string."""
    if run_dir is None:
        return None, ""
    status = read_json(run_dir / "status.json") or {}
    config = read_json(run_dir / "config.json") or {}
    options = config.get("options") or {}
    device = str(status.get("device") or config.get("device") or options.get("device") or "")
    for key in ("wall_time_s", "elapsed_s", "time_s"):
        if isinstance(status.get(key), int | float):
            return float(status[key]), device
    log = run_dir / "log.csv"
    if log.exists():
        try:
            rows = list(csv.DictReader(log.open()))
        except (OSError, csv.Error):
            rows = []
        for key in ("wall_time_s", "elapsed_s", "time_s"):
            if rows and rows[-1].get(key):
                try:
                    return float(rows[-1][key]), device
                except ValueError:
                    pass
        # No clock in the log: estimate from the logged throughput (samples/s per window).
        batch = config.get("batch_size") or options.get("batch_size")
        total, prev = 0.0, 0
        try:
            for row in rows:
                step, rate = int(float(row["step"])), float(row.get("samples_per_s") or 0)
                if rate > 0 and batch:
                    total += (step - prev) * float(batch) / rate
                prev = step
        except (KeyError, ValueError):
            total = 0.0
        if total > 0:
            return total, device
    return None, device


def _stage(rows: list[tuple[float | None, str]]) -> dict:
    seconds = [s for s, _ in rows if s is not None]
    gpu = sum(s for s, d in rows if s is not None and "cuda" in d.lower())
    return {"runs": len(rows), "timed": len(seconds), "wall_h": sum(seconds) / 3600,
            "gpu_h": gpu / 3600, "devices": sorted({d for _, d in rows if d})}


def collect(ev: Evidence) -> dict:
    """Everything the provenance section shows."""
    recs = ev.records()
    prov = [r.get("provenance") or {} for r in recs]
    proto = [r.get("protocol") or {} for r in recs]

    def values(items: list[dict], key: str) -> list:
        return sorted({str(i[key]) for i in items if i.get(key) is not None})

    training = [_training_seconds(resolve(t.get("run_dir"), ev.plan_path))
                for t in ev.plan.get("training", [])]
    analysis = [(e["mse_data"].get("wall_time_s"), str(e["mse_data"].get("device", "")))
                for e in ev.analysis() if e.get("mse_data")]
    stages = {
        "train": _stage(training),
        "sample": _stage([(p.get("sampling_wall_time_s"), str(p.get("device", ""))) for p in prov]),
        "metrics": _stage([(p.get("wall_time_s"), str(p.get("device", ""))) for p in prov]),
        "analysis": _stage(analysis),
    }
    cells = []
    for r in recs:
        c, p, q = r.get("cell") or {}, r.get("provenance") or {}, r.get("protocol") or {}
        released = (p.get("released") or {}).get("arm")  # a released arm's cell: no iteration
        parts = ([c.get("dataset"), "released", released, c.get("sampler"), c.get("steps")]
                 if released else [c.get(k) for k in ("dataset", "target", "weighting",
                                                      "iteration", "sampler", "steps")])
        cells.append({
            "cell": "/".join(str(x) for x in parts),
            "status": r.get("status"), "fid": r.get("fid"), "kid": r.get("kid"),
            "n": q.get("num_generated"), "seed": p.get("sample_seed"),
            "device": p.get("device"), "wall": p.get("sampling_wall_time_s"),
        })
    return {
        "plan_file": str(ev.plan_path),
        "preset": ev.plan.get("preset"),
        "code_commit": sorted({str(ev.plan["code_commit"])} if ev.plan.get("code_commit")
                              else set()) + [c for c in values(prov, "code_commit")
                                             if c != ev.plan.get("code_commit")],
        "config_hash": sorted({str(ev.plan["config_hash"])} if ev.plan.get("config_hash")
                              else set()) + [c for c in values(prov, "config_hash")
                                             if c != ev.plan.get("config_hash")],
        "inception_sha256": values(proto, "inception_sha256"),
        "inception_weights": values(proto, "inception_weights"),
        "fid_library": sorted({f"{q.get('fid_library')} {q.get('fid_library_version', '')}"
                               for q in proto if q.get("fid_library")}),
        "mode": values(proto, "mode"),
        "sample_seeds": values(prov, "sample_seed"),
        "num_generated": values(proto, "num_generated"),
        "num_reference": values(proto, "num_reference"),
        "devices": values(prov, "device"),
        "stages": stages,
        "cells": sorted(cells, key=lambda c: c["cell"]),
        "library_versions": (prov[0].get("library_versions") if prov else None) or {},
    }
