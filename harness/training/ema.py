"""Exponential moving averages of the parameters, updated as ADM does after each step."""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """One shadow copy of the parameters per rate (ADM's `update_ema`, no warm-up)."""

    def __init__(self, model: nn.Module, rates: list[str]) -> None:
        self.rates = list(rates)
        self.names = [n for n, _ in model.named_parameters()]
        self.params = {
            r: [p.detach().clone() for p in model.parameters()] for r in self.rates
        }

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """target <- rate * target + (1 - rate) * source, for every rate."""
        source = [p.detach() for p in model.parameters()]
        for rate, targets in self.params.items():
            r = float(rate)
            torch._foreach_mul_(targets, r)
            torch._foreach_add_(targets, source, alpha=1.0 - r)

    def state_dict(self, model: nn.Module, rate: str) -> dict[str, torch.Tensor]:
        """A full model state dict with the EMA parameters of `rate` (buffers from `model`)."""
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for name, p in zip(self.names, self.params[rate], strict=True):
            state[name] = p.detach().clone()
        return state

    def to_state(self) -> dict[str, dict[str, torch.Tensor]]:
        """{rate: {param name: tensor}} for the training state file."""
        return {r: dict(zip(self.names, ps, strict=True)) for r, ps in self.params.items()}

    def load_state(self, state: dict[str, dict[str, torch.Tensor]]) -> None:
        missing = set(self.rates) - set(state)
        if missing:
            raise ValueError(f"training state lacks EMA rates {sorted(missing)}")
        for r in self.rates:
            for p, name in zip(self.params[r], self.names, strict=True):
                p.copy_(state[r][name])
