"""GPU-hours per workflow stage for a config, before anything runs.

Two sources, best first: measured throughput (`harness bench model --train-step` records in
results/bench/*.json for the same model config on a CUDA device), else the model's FLOPs
(counted with torch.utils.flop_counter on the meta device, so no memory or GPU is needed)
divided by an assumed sustained throughput (`tflops`, an explicit input, never measured here).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from harness import workflow_plan as wp
from harness.inputs import check_number

# Inception-v3 at 299x299: 5.7 G multiply-adds per image (Szegedy et al. 2016, Table 3),
# i.e. ~11.5 GFLOPs; the feature extractor of FID, KID and IS.
INCEPTION_FLOPS = 11.5e9
TRAIN_FACTOR = 3.0  # forward + backward ~ 3 forwards (the usual rule of thumb)


def model_flops(model_config: dict) -> float:
    """Forward FLOPs of one image through the UNet (meta device: nothing is allocated)."""
    from harness.models import create_model

    with torch.device("meta"):
        model = create_model(**model_config)
        size = model_config["image_size"]
        x = torch.empty(1, 3, size, size)
        t = torch.zeros(1, dtype=torch.long)
        y = torch.zeros(1, dtype=torch.long) if model_config.get("class_cond") else None
        with FlopCounterMode(display=False) as counter:
            model(x, t, y=y) if y is not None else model(x, t)
    return float(counter.get_total_flops())


def measured_throughput(bench_dir: str | Path, model_config: dict) -> dict | None:
    """img/s of a CUDA `harness bench model` record for this model config, if one exists."""
    for path in sorted(Path(bench_dir).glob("*.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(rec, dict) or rec.get("benchmark") != "model" or (
                "cuda" not in json.dumps(rec.get("environment"))):
            continue
        cfg = rec.get("model_config", {})
        if all(cfg.get(k) == v for k, v in model_config.items() if k in cfg):
            step = rec.get("train_step") or rec.get("forward_backward") or {}
            return {"file": str(path), "train_img_per_s": step.get("img_per_s"),
                    "forward_img_per_s": rec.get("forward", {}).get("img_per_s")}
    return None


def dataset_count(config: dict, name: str) -> int:
    """Images in a dataset: the config's count, else the paper dataset's published size."""
    from harness.data.registry import PAPER_DATASETS

    ds = config["datasets"][name]
    if ds.get("count"):
        return int(ds["count"])
    paper = PAPER_DATASETS.get(ds.get("stands_for") or name)
    return paper.count if paper else 0


def estimate(config: dict, bench_dir: str | Path = "results/bench",
             tflops: float = 40.0) -> dict:
    """GPU-hours and job counts per stage; each stage says whether it used bench or FLOPs."""
    check_number("tflops", tflops, exclusive_minimum=0)
    plan = wp.build_plan(config, check_paths=False)
    rate = tflops * 1e12
    flops: dict[str, float] = {}
    bench: dict[str, dict | None] = {}
    for name in {run[0] for run in plan.runs}:
        cfg = wp.model_config(config, name)
        flops[name], bench[name] = model_flops(cfg), measured_throughput(bench_dir, cfg)

    def seconds(name: str, images: float, kind: str) -> tuple[float, str]:
        meas = bench[name] and bench[name].get(f"{kind}_img_per_s")
        if meas:
            return images / meas, f"bench {bench[name]['file']}"
        factor = TRAIN_FACTOR if kind == "train" else 1.0
        return images * factor * flops[name] / rate, f"FLOPs at {tflops:g} TFLOP/s"

    stages: dict[str, dict] = {}

    def add(stage: str, secs: float, basis: str) -> None:
        s = stages.setdefault(stage, {"jobs": 0, "gpu_hours": 0.0, "basis": set()})
        s["jobs"] += 1
        s["gpu_hours"] += secs / 3600
        s["basis"].add(basis)

    t = config["training"]
    for run in plan.runs:
        steps = max(wp.eval_iterations(config, plan, run))
        add("train", *seconds(run[0], steps * t["batch_size"], "train"))
    n = config["sampling"]["num_samples"]
    for cell in plan.unique_cells():
        add("sample", *seconds(cell.dataset, n * cell.steps, "forward"))
        add("metrics", n * INCEPTION_FLOPS / rate, f"Inception FLOPs at {tflops:g} TFLOP/s")
    for name in sorted({run[0] for run in plan.runs}):
        add("refstats", dataset_count(config, name) * INCEPTION_FLOPS / rate,
            f"Inception FLOPs at {tflops:g} TFLOP/s")
    a = config["analysis"]
    for item in plan.analysis:
        forwards = a["num_images"] * -(-config["diffusion"]["steps"] // a["stride"])
        add("analysis", *seconds(item["dataset"], forwards, "forward"))
    for s in stages.values():
        s["basis"] = sorted(s["basis"])
    total = sum(s["gpu_hours"] for s in stages.values())
    return {"stages": stages, "total_gpu_hours": total, "tflops_assumed": tflops,
            "model_gflops": {k: v / 1e9 for k, v in sorted(flops.items())}}
