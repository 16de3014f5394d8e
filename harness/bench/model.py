"""Time the UNet: forward throughput, forward+backward, and a full training step.

The training step is what training does per batch: model forward inside the diffusion's
``training_losses``, mean loss, backward, AdamW step.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from harness.bench import environment, time_calls
from harness.models import create_model
from harness.runtime import resolve_device

PAPER = dict(
    image_size=256, num_channels=128, num_res_blocks=1, attention_resolutions="16",
    num_head_channels=64, learn_sigma=True, resblock_updown=True, use_scale_shift_norm=True,
)  # fmt: skip
PRESETS: dict[str, dict[str, Any]] = {
    # The paper's FFHQ/CelebA-HQ/AFHQ/MetFaces network (93.6M parameters).
    "paper": PAPER,
    # The same arguments at 32 px, class-conditional CIFAR-10 (30.5M parameters).
    "cifar": dict(PAPER, image_size=32, class_cond=True, num_classes=10),
    # A CPU-sized network with every ADM feature switched on.
    "tiny": dict(
        PAPER, image_size=32, num_channels=32, channel_mult="1,2,2",
        attention_resolutions="16,8", num_head_channels=32,
    ),
}  # fmt: skip


def resolve_config(preset: str | None, **overrides: Any) -> dict[str, Any]:
    """create_model kwargs: the preset's (if any) updated with the non-None overrides."""
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    config = dict(PRESETS[preset]) if preset else {}
    config.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("image_size", "num_channels", "num_res_blocks"):
        if key not in config:
            raise ValueError(f"{key} is required when no preset is given (presets: paper, ...)")
    return config


def bench_model(
    model_config: dict[str, Any],
    batch_size: int = 8,
    device: str = "cpu",
    bf16: bool = False,
    channels_last: bool = False,
    compile: bool = False,
    warmup: int = 2,
    iters: int = 5,
    train_step: bool = False,
    diffusion_config: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Time forward (no grad), forward+backward of a mean-square loss and, when
    ``train_step``, the full training step; returns a JSON-able record."""
    dev = resolve_device(device)
    torch.manual_seed(seed)
    model = create_model(**model_config).to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    net = torch.compile(model) if compile else model
    size = model_config["image_size"]
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 3, size, size, generator=gen).to(dev, memory_format=memory_format)
    t = torch.randint(0, 1000, (batch_size,), generator=gen).to(dev)
    kwargs = {}
    if model_config.get("class_cond"):
        y = torch.randint(0, model_config.get("num_classes", 1000), (batch_size,), generator=gen)
        kwargs["y"] = y.to(dev)

    def autocast():
        if not bf16:
            return contextlib.nullcontext()
        return torch.autocast(dev.type, dtype=torch.bfloat16)

    def forward():
        with torch.no_grad(), autocast():
            net(x, t, **kwargs)

    def forward_backward():
        with autocast():
            loss = net(x, t, **kwargs).float().square().mean()
        loss.backward()
        model.zero_grad(set_to_none=True)

    record: dict[str, Any] = {
        "benchmark": "model",
        "model_config": model_config,
        "parameters": n_params,
        "batch_size": batch_size,
        "options": {"bf16": bf16, "channels_last": channels_last, "compile": compile},
        "warmup": warmup,
        "iters": iters,
        "seed": seed,
        "environment": environment(dev),
    }
    model.eval()  # no dropout while timing the forward pass
    record["forward"] = time_calls(forward, dev, warmup, iters)
    model.train()
    record["forward_backward"] = time_calls(forward_backward, dev, warmup, iters)
    if train_step:
        record["train_step"] = time_train_step(
            model, net, x, t, kwargs, model_config, diffusion_config or {}, autocast,
            dev, warmup, iters,
        )  # fmt: skip
    for key in ("forward", "forward_backward", "train_step"):
        if key in record:
            record[key]["img_per_s"] = batch_size / record[key]["median_s"]
    return record


def time_train_step(model, net, x, t, kwargs, model_config, diffusion_config, autocast, dev,
                    warmup, iters) -> dict[str, Any]:  # fmt: skip
    """Time forward + training_losses + backward + AdamW step on fixed inputs."""
    from harness.diffusion import create_diffusion

    config = {"learn_sigma": bool(model_config.get("learn_sigma")), **diffusion_config}
    diffusion = create_diffusion(**config)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0)
    noise = torch.randn_like(x)

    def step():
        opt.zero_grad(set_to_none=True)
        with autocast():
            losses = diffusion.training_losses(net, x, t, model_kwargs=kwargs, noise=noise)
        losses["loss"].mean().backward()
        opt.step()

    return {"diffusion_config": config, **time_calls(step, dev, warmup, iters)}
