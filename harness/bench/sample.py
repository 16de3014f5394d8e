"""`harness bench sample`: img/s of `harness sample` (model load excluded).

A randomly initialised model of the given config is saved as a harness checkpoint in a
temporary folder and sampled with the real `harness.sampling.sample` (per-sample noise,
chunks, quantisation). Sampling time does not depend on the weights.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch

from harness.bench import environment
from harness.checkpoint import save_checkpoint
from harness.models import create_model
from harness.runtime import resolve_device
from harness.sampling import SampleRequest, sample


def bench_sample(model_config: dict[str, Any], batch_sizes: tuple[int, ...] = (8,),
                 sampler: str = "ddpm", steps: int = 10, batches: int = 1, device: str = "cpu",
                 target: str = "eps", eta: float = 0.0) -> dict[str, Any]:
    """Sample `batches` batches per batch size after a two-step warm-up; img/s each."""
    dev = resolve_device(device)
    config = {**model_config, "use_fp16": False}
    diffusion = {"steps": 1000, "learn_sigma": config.get("learn_sigma", False),
                 "target": target}
    results = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-sample-") as tmp:
        ckpt = Path(tmp) / "ema.pt"
        torch.manual_seed(0)
        save_checkpoint(ckpt, create_model(**config).state_dict(), config, diffusion, step=0)
        for batch in batch_sizes:
            for run, (n, k) in enumerate(((batch, 2), (batch * batches, steps))):
                meta = sample(SampleRequest(
                    checkpoint=str(ckpt), sampler=sampler, steps=k, num_samples=n,
                    batch_size=batch, seed=0, out=str(Path(tmp) / f"s{batch}_{run}.npz"),
                    grid=str(Path(tmp) / f"s{batch}_{run}.png"), eta=eta, device=str(dev),
                    progress=False))
            img_per_s = meta["num_samples"] / meta["wall_time_s"]
            results.append({"batch_size": batch, "num_samples": meta["num_samples"],
                            "wall_time_s": meta["wall_time_s"], "img_per_s": img_per_s,
                            "network_evals_img_per_s": img_per_s * steps})
    return {"benchmark": "sample", "model_config": config, "sampler": sampler, "steps": steps,
            "eta": eta, "results": results, "threads": torch.get_num_threads(),
            "environment": environment(dev)}
