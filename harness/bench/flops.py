"""Model FLOP utilisation: the UNet's FLOPs per image against a bf16 matrix-product peak
measured on the same device in the same run (datasheet peaks are not what a card sustains).

FLOPs per image come from torch.utils.flop_counter on the meta device (nothing is allocated):
a forward is F, a training step ~3F (the backward costs about twice the forward), sampling
`steps` network calls per image.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from harness.bench import synchronize, time_calls

TRAIN_FACTOR = 3.0
PEAK_SIZE = {"cuda": 8192, "cpu": 1024}  # square bf16 products big enough to fill the device


def model_flops(model_config: dict[str, Any]) -> float:
    """Forward FLOPs of one image through the UNet."""
    from harness.models import create_model

    with torch.device("meta"):
        model = create_model(**model_config)
        size = model_config["image_size"]
        x = torch.empty(1, 3, size, size)
        t = torch.zeros(1, dtype=torch.long)
        kwargs = {"y": torch.zeros(1, dtype=torch.long)} if model_config.get("class_cond") else {}
        with FlopCounterMode(display=False) as counter:
            model(x, t, **kwargs)
    return float(counter.get_total_flops())


def peak_bf16_matmul(device: torch.device, iters: int = 10) -> dict[str, Any]:
    """Sustained bf16 TFLOP/s of an n x n x n product on random data (median of `iters`)."""
    n = PEAK_SIZE.get(device.type, 1024)
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16, generator=g)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16, generator=g)
    timing = time_calls(lambda: a @ b, device, warmup=3, iters=iters)
    synchronize(device)
    return {"n": n, "iters": iters, "median_s": timing["median_s"],
            "tflops": 2 * n**3 / timing["median_s"] / 1e12,
            "tflops_spread": [2 * n**3 / max(timing["times_s"]) / 1e12,
                              2 * n**3 / min(timing["times_s"]) / 1e12]}


def utilisation(img_per_s: float, flops_per_img: float, peak_tflops: float) -> float | None:
    """Achieved FLOP/s over the measured peak (None without a peak)."""
    if not peak_tflops:
        return None
    return img_per_s * flops_per_img / (peak_tflops * 1e12)


def flop_context(model_config: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """The numbers every MFU in a record is computed from: FLOPs per image and the peak."""
    return {"forward_gflop_per_img": model_flops(model_config) / 1e9,
            "peak_bf16": peak_bf16_matmul(device)}


def add_utilisation(result: dict[str, Any], flops: dict[str, Any], calls_per_img: float) -> None:
    """Set result["mfu"] from its img_per_s: `calls_per_img` forwards' worth per image."""
    peak = flops["peak_bf16"]["tflops"]
    value = utilisation(result["img_per_s"], flops["forward_gflop_per_img"] * 1e9 * calls_per_img,
                        peak)
    result["mfu"] = None if value is None else round(value, 4)
