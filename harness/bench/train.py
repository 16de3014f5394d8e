"""`harness bench train`: img/s of the real training loop (data, loss, AdamW, EMA, log).

Unlike `bench model --train-step` (one step on fixed inputs), this runs `harness.training.train`
itself on a throw-away dataset of random images in a temporary folder, so data loading,
per-step seeding, EMA updates and logging are all counted. Each step is one row of the run's
log.csv (`samples_per_s`); steps after the warm-up are summarised.
"""

from __future__ import annotations

import csv
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from harness.bench import environment
from harness.bench.flops import TRAIN_FACTOR, add_utilisation, flop_context
from harness.runtime import Execution, resolve_device
from harness.training import TrainConfig, train


def random_images(folder: Path, count: int, size: int, num_classes: int = 0,
                  seed: int = 0) -> Path:
    """`count` PNGs of uniform noise (content does not matter for timing); with
    `num_classes`, ADM-style `{label}_{i}.png` names."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        name = f"{i % num_classes}_{i:05d}.png" if num_classes else f"{i:05d}.png"
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
            folder / name)
    return folder


def bench_train(model_config: dict[str, Any], batch_size: int = 8, steps: int = 10,
                warmup: int = 2, device: str = "cpu", target: str = "eps",
                weighting: str = "constant", execution: Execution | None = None,
                fused_optimizer: bool = False, num_workers: int = -1,
                flops: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train `warmup + steps` steps; returns a JSON-able record with img/s and MFU."""
    dev = resolve_device(device)
    execution = execution or Execution()
    flops = flops or flop_context(model_config, dev)
    with tempfile.TemporaryDirectory(prefix="harness-bench-train-") as tmp:
        classes = model_config.get("num_classes", 1000) if model_config.get("class_cond") else 0
        data = random_images(Path(tmp) / "data", max(4 * batch_size, 32),
                             model_config["image_size"], num_classes=min(classes, 10))
        fields = set(TrainConfig.__dataclass_fields__)
        config = TrainConfig(
            data=str(data), run_dir=str(Path(tmp) / "run"), max_steps=warmup + steps,
            batch_size=batch_size, target=target, weighting=weighting,
            device=str(dev), save_every=warmup + steps, log_every=1, progress=False,
            lr=1e-4, fused_optimizer=fused_optimizer, num_workers=num_workers,
            **execution.as_dict(), **{k: v for k, v in model_config.items() if k in fields},
        )
        train(config)
        with (Path(tmp) / "run" / "log.csv").open() as f:
            rates = [float(r["samples_per_s"]) for r in csv.DictReader(f)][warmup:]
    record = {
        "benchmark": "train", "model_config": config.model_config(),
        "diffusion": {"target": target, "weighting": weighting},
        "precision": execution.precision, "execution": execution.as_dict(),
        "fused_optimizer": fused_optimizer, "num_workers": num_workers,
        "batch_size": batch_size, "steps": steps, "warmup": warmup,
        "img_per_s": statistics.median(rates), "img_per_s_min": min(rates),
        "img_per_s_max": max(rates), "s_per_step": batch_size / statistics.median(rates),
        "threads": torch.get_num_threads(), "flops": flops, "environment": environment(dev),
    }
    add_utilisation(record, flops, TRAIN_FACTOR)
    return record
