"""`harness bench sample`: img/s of `harness sample` (model load excluded).

A randomly initialised model of the given config is saved as a harness checkpoint in a
temporary folder and sampled with the real `harness.sampling.sample` (per-sample noise,
chunks, quantisation). Sampling time does not depend on the weights. A first, untimed call
per batch size (same shapes) warms up: CUDA kernels, cuDNN plans and torch.compile.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from harness.bench import environment
from harness.bench.flops import add_utilisation, flop_context
from harness.checkpoint import save_checkpoint
from harness.models import create_model
from harness.runtime import Execution, resolve_device
from harness.sampling import SampleRequest, sample


def sampling_checkpoint(folder: Path, model_config: dict[str, Any], target: str = "eps",
                        perturb: float = 0.0) -> Path:
    """A harness checkpoint of a random model of `model_config` (seed 0). ADM zero-initialises
    its output layers; `perturb` adds that much Gaussian noise to every weight, so that the
    outputs (and so the rounding of reduced precisions) are not trivially zero."""
    config = {**model_config, "use_fp16": False}
    diffusion = {"steps": 1000, "learn_sigma": config.get("learn_sigma", False),
                 "target": target}
    torch.manual_seed(0)
    model = create_model(**config)
    if perturb:
        with torch.no_grad():
            for p in model.parameters():
                p.add_(perturb * torch.randn_like(p))
    path = folder / "ema.pt"
    save_checkpoint(path, model.state_dict(), config, diffusion, step=0)
    return path


def time_sampling(checkpoint: Path, out: Path, batch: int, batches: int, steps: int,
                  sampler: str, eta: float, device: torch.device,
                  execution: Execution) -> tuple[dict[str, Any], np.ndarray]:
    """Warm up with one batch of 2 steps, then sample `batches` batches of `steps` steps;
    (result, uint8 samples)."""
    for run, (n, k) in enumerate(((batch, 2), (batch * batches, steps))):
        path = out.parent / f"{out.stem}_{run}.npz"
        meta = sample(SampleRequest(
            checkpoint=str(checkpoint), sampler=sampler, steps=k, num_samples=n,
            batch_size=batch, seed=0, out=str(path), grid=str(path.with_suffix(".png")),
            eta=eta, device=str(device), progress=False, execution=execution))
    img_per_s = meta["num_samples"] / meta["wall_time_s"]
    with np.load(path) as z:
        images = z["arr_0"]
    return {"batch_size": batch, "num_samples": meta["num_samples"],
            "wall_time_s": meta["wall_time_s"], "img_per_s": img_per_s,
            "network_evals_img_per_s": img_per_s * steps,
            "compiled": meta["execution"]["compiled"]}, images


def bench_sample(model_config: dict[str, Any], batch_sizes: tuple[int, ...] = (8,),
                 sampler: str = "ddpm", steps: int = 10, batches: int = 1, device: str = "cpu",
                 target: str = "eps", eta: float = 0.0, execution: Execution | None = None,
                 flops: dict[str, Any] | None = None) -> dict[str, Any]:
    """img/s and MFU of `harness sample` for each batch size."""
    dev = resolve_device(device)
    execution = execution or Execution()
    flops = flops or flop_context(model_config, dev)
    results = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-sample-") as tmp:
        ckpt = sampling_checkpoint(Path(tmp), model_config, target)
        for batch in batch_sizes:
            result, _ = time_sampling(ckpt, Path(tmp) / f"s{batch}.npz", batch, batches, steps,
                                      sampler, eta, dev, execution)
            add_utilisation(result, flops, steps)
            results.append(result)
    return {"benchmark": "sample", "model_config": {**model_config, "use_fp16": False},
            "sampler": sampler, "steps": steps, "eta": eta, "execution": execution.as_dict(),
            "results": results, "threads": torch.get_num_threads(), "flops": flops,
            "environment": environment(dev)}
