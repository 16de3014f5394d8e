"""Time the UNet: forward throughput, forward+backward, and a full training step.

The training step is what training does per batch: model forward inside the diffusion's
``training_losses``, mean loss, backward, AdamW step. The network runs as training and
sampling run it (harness.runtime.Network: precision, compile, memory format).
"""

from __future__ import annotations

from typing import Any

import torch

from harness.bench import environment, time_calls
from harness.bench.flops import TRAIN_FACTOR, add_utilisation, flop_context
from harness.models import create_model
from harness.runtime import Execution, Network, numerics, resolve_device
from harness.runtime.execution import memory_format

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
    execution: Execution | None = None,
    warmup: int = 2,
    iters: int = 5,
    train_step: bool = False,
    forward_backward: bool = True,
    diffusion_config: dict[str, Any] | None = None,
    seed: int = 0,
    fused_optimizer: bool = False,
    flops: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Time forward (no grad), forward+backward of a mean-square loss and, when
    ``train_step``, the full training step; img/s and model FLOP utilisation of each.

    ``flops`` (harness.bench.flops.flop_context) is measured here unless given.
    """
    dev = resolve_device(device)
    execution = execution or Execution()
    flops = flops or flop_context(model_config, dev)
    with numerics(execution):
        torch.manual_seed(seed)
        model = memory_format(create_model(**model_config).to(dev), execution)
        n_params = sum(p.numel() for p in model.parameters())
        net = Network(model, execution, dev)
        x, t, kwargs = fixed_inputs(model_config, batch_size, dev, seed)

        def forward():
            with torch.no_grad():
                net(x, t, **kwargs)

        def forward_backward():
            net(x, t, **kwargs).square().mean().backward()
            model.zero_grad(set_to_none=True)

        record: dict[str, Any] = {
            "benchmark": "model", "model_config": model_config, "parameters": n_params,
            "batch_size": batch_size,
            "execution": {**execution.as_dict(), "compiled": net.compiled},
            "fused_optimizer": fused_optimizer, "warmup": warmup, "iters": iters, "seed": seed,
            "flops": flops, "environment": environment(dev),
        }
        model.eval()  # no dropout while timing the forward pass
        record["forward"] = time_calls(forward, dev, warmup, iters)
        model.train()
        if forward_backward:
            record["forward_backward"] = time_calls(forward_backward, dev, warmup, iters)
        if train_step:
            step = TrainingStep(model, net, x, t, kwargs, model_config, diffusion_config or {},
                                 fused_optimizer)
            record["train_step"] = {"diffusion_config": step.config,
                                    **time_calls(step, dev, warmup, iters)}
    for key, calls in (("forward", 1), ("forward_backward", TRAIN_FACTOR),
                       ("train_step", TRAIN_FACTOR)):
        if key in record:
            record[key]["img_per_s"] = batch_size / record[key]["median_s"]
            add_utilisation(record[key], flops, calls)
    return record


def fixed_inputs(model_config: dict[str, Any], batch_size: int, device: torch.device,
                 seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """A random batch of images, timesteps and (class-conditional) labels on `device`."""
    size = model_config["image_size"]
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch_size, 3, size, size, generator=gen).to(device)
    t = torch.randint(0, 1000, (batch_size,), generator=gen).to(device)
    kwargs = {}
    if model_config.get("class_cond"):
        y = torch.randint(0, model_config.get("num_classes", 1000), (batch_size,), generator=gen)
        kwargs["y"] = y.to(device)
    return x, t, kwargs


class TrainingStep:
    """One training step on fixed inputs: training_losses through `net`, backward, AdamW."""

    def __init__(self, model, net, x, t, kwargs, model_config, diffusion_config,
                 fused_optimizer=False) -> None:
        from harness.diffusion import create_diffusion

        self.config = {"learn_sigma": bool(model_config.get("learn_sigma")), **diffusion_config}
        self.diffusion = create_diffusion(**self.config)
        self.opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.0,
                                     fused=fused_optimizer or None)
        self.net, self.x, self.t, self.kwargs = net, x, t, kwargs
        self.noise = torch.randn_like(x)

    def __call__(self) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=True)
        losses = self.diffusion.training_losses(self.net, self.x, self.t,
                                                model_kwargs=self.kwargs, noise=self.noise)
        loss = losses["loss"].mean()
        loss.backward()
        self.opt.step()
        return loss.detach()
