"""`harness analyze` as a function: a checkpoint and a dataset in, mse.json and x0.npz out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from harness.analysis.timestep_mse import (
    FIG3_TIMESTEPS,
    analysed_timesteps,
    one_step_x0,
    timestep_mse,
)
from harness.checkpoint import load_model
from harness.data.dataset import ImageDataset, check_resolution
from harness.diffusion import create_diffusion
from harness.inputs import check_output_path
from harness.runtime import atomic_target, resolve_device, write_text_atomic
from harness.training.status import no_weights_reason


def analyze(checkpoint: str | Path, data: str | Path, out_mse: str | Path, out_x0: str | Path,
            num_images: int = 64, stride: int = 10, seed: int = 0, batch_size: int = 64,
            device: str = "auto", progress: bool = True) -> dict:
    """Per-timestep MSE over ``num_images`` seeded dataset images, and Fig. 3's x̂0 strip."""
    start = time.time()
    check_output_path(out_mse, "MSE output")
    check_output_path(out_x0, "x0 output")
    reason = no_weights_reason(checkpoint)
    if reason is not None:
        return _diverged(checkpoint, data, out_mse, out_x0, reason)
    dev = resolve_device(device)
    model, ckpt = load_model(checkpoint, device=dev)
    model.eval()
    dcfg = dict(ckpt.diffusion_config or {})
    dcfg.pop("timestep_respacing", None)  # analyse every training timestep
    diffusion = create_diffusion(**dcfg)
    target = dcfg.get("target", "eps")
    mcfg = ckpt.model_config or {}
    check_resolution(data, int(mcfg["image_size"]), f"the image_size of '{checkpoint}'")
    dataset = ImageDataset(data, resolution=int(mcfg["image_size"]),
                           class_cond=bool(mcfg.get("class_cond", False)),
                           num_classes=mcfg.get("num_classes") if mcfg.get("class_cond") else None)
    if len(dataset) == 0:
        raise ValueError(f"no images in {data}")
    order = np.random.default_rng(seed).permutation(len(dataset))[:num_images]
    items = [dataset[int(i)] for i in order]
    x0 = torch.stack([x for x, _ in items]).to(dev)
    kwargs = {"y": torch.stack([kw["y"] for _, kw in items]).to(dev)} if items[0][1] else {}
    abar = np.asarray(diffusion.alphas_cumprod, dtype=np.float64)
    rescale = bool(dcfg.get("rescale_timesteps", False))
    ts = analysed_timesteps(len(abar), stride)
    curves = timestep_mse(model, x0, abar, target, ts, seed, kwargs, batch_size, rescale,
                          progress)
    first = {k: v[:1] for k, v in kwargs.items()}
    strip_ts = [t for t in FIG3_TIMESTEPS if t < len(abar)]
    strip = one_step_x0(model, x0[:1], abar, target, strip_ts, seed, first, rescale)
    meta = {
        "format": "harness-analysis/1", "checkpoint": str(checkpoint), "data": str(data),
        "iteration": (ckpt.meta or {}).get("step", (ckpt.meta or {}).get("iteration")),
        "target": target, "weighting": dcfg.get("weighting", "constant"),
        "weighting_definition": dcfg.get("weighting_definition"),
        "num_images": len(x0), "stride": stride, "seed": seed,
        "image_indices": [int(i) for i in order],
        "mse_definition": "mean over images and pixels of (eps_hat - eps)^2; eps_hat converted "
                          "from the x0/v output where the target is not eps",
        "initial_definition": "mean over images and pixels of (x_t - eps)^2",
        "device": str(dev), "wall_time_s": round(time.time() - start, 3),
    }
    record = {**meta, **curves}
    write_text_atomic(out_mse, json.dumps(record, indent=1))

    with atomic_target(out_x0) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, **strip, meta=np.array(json.dumps(meta)))
    return record


def _diverged(checkpoint: str | Path, data: str | Path, out_mse: str | Path, out_x0: str | Path,
              reason: str) -> dict:
    """Outputs that say the run never reached this checkpoint: no curve and no strip, so the
    report draws the other weightings and names this one, instead of the job failing."""
    record = {"format": "harness-analysis/1", "checkpoint": str(checkpoint), "data": str(data),
              "status": reason, "t": [], "mse": [], "initial": []}
    write_text_atomic(out_mse, json.dumps(record, indent=1))
    with atomic_target(out_x0) as tmp, tmp.open("wb") as f:
        np.savez_compressed(f, meta=np.array(json.dumps(record)))
    return record
