"""Respacing: run a diffusion trained with T steps on a subset of its timesteps (ADM)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from .gaussian_diffusion import GaussianDiffusion


def space_timesteps(num_timesteps: int, section_counts: str | Iterable[int]) -> set[int]:
    """The timesteps of a T-step process to keep, with ADM's semantics.

    ``section_counts`` is a comma-separated list of counts ("10,15,20"): the T steps are cut
    into that many near-equal sections and each is strided (fractional stride, rounded) to its
    count.  "ddimN" instead takes range(0, T, k) for the smallest integer stride k that gives
    exactly N steps, as in the DDIM paper.
    """
    if isinstance(section_counts, str):
        if section_counts.startswith("ddim"):
            try:
                desired = int(section_counts[len("ddim"):])
            except ValueError:
                raise ValueError(f"bad respacing {section_counts!r}: expected 'ddimN'") from None
            for stride in range(1, num_timesteps):
                if len(range(0, num_timesteps, stride)) == desired:
                    return set(range(0, num_timesteps, stride))
            raise ValueError(
                f"respacing {section_counts!r}: cannot take exactly {desired} of "
                f"{num_timesteps} steps with an integer stride"
            )
        try:
            section_counts = [int(x) for x in section_counts.split(",")]
        except ValueError:
            raise ValueError(
                f"bad respacing {section_counts!r}: expected 'N', 'N1,N2,...' or 'ddimN'"
            ) from None
    counts = list(section_counts)
    if not counts or any(c < 1 for c in counts):
        raise ValueError(f"respacing {counts}: every section needs a count >= 1")
    size_per, extra = divmod(num_timesteps, len(counts))
    start, steps = 0, []
    for i, count in enumerate(counts):
        size = size_per + (1 if i < extra else 0)
        if size < count:
            raise ValueError(
                f"respacing {counts}: cannot take {count} steps from a section of {size} "
                f"(T = {num_timesteps} split into {len(counts)} sections)"
            )
        stride = 1 if count <= 1 else (size - 1) / (count - 1)
        cur = 0.0
        for _ in range(count):
            steps.append(start + round(cur))
            cur += stride
        start += size
    return set(steps)


class SpacedDiffusion(GaussianDiffusion):
    """A GaussianDiffusion over the kept timesteps ``use_timesteps`` of a base process.

    The new betas are chosen so that abar at each kept step equals the base process's abar
    there; ``timestep_map[i]`` is the base timestep of step i, and that is what the network
    sees (rescaled to [0, 1000) when ``rescale_timesteps``).  Loss weights are computed from
    this process's own SNR, which at the kept steps is the base SNR (and a formula in t sees
    the base timestep and T).
    """

    def __init__(self, use_timesteps: Iterable[int], **kwargs) -> None:
        base_betas = np.asarray(kwargs["betas"], dtype=np.float64)
        self.original_num_steps = len(base_betas)
        self.use_timesteps = set(int(t) for t in use_timesteps)
        bad = sorted(t for t in self.use_timesteps if not 0 <= t < self.original_num_steps)
        if bad or not self.use_timesteps:
            raise ValueError(f"use_timesteps must be a non-empty subset of "
                             f"0..{self.original_num_steps - 1}; bad: {bad[:5]}")
        base_abar = np.cumprod(1.0 - base_betas)
        self.timestep_map = sorted(self.use_timesteps)
        last, new_betas = 1.0, []
        for i in self.timestep_map:
            new_betas.append(1.0 - base_abar[i] / last)
            last = base_abar[i]
        kwargs["betas"] = np.array(new_betas)
        super().__init__(weighting_time=(self.timestep_map, self.original_num_steps), **kwargs)
        self._map_tensors: dict[torch.device, torch.Tensor] = {}

    def _scale_timesteps(self, t: torch.Tensor) -> torch.Tensor:
        """Map respaced indices to base timesteps (ADM's _WrappedModel), then rescale."""
        table = self._map_tensors.get(t.device)
        if table is None:
            table = torch.tensor(self.timestep_map, device=t.device, dtype=torch.long)
            self._map_tensors[t.device] = table
        new_t = table[t].to(t.dtype)
        if self.rescale_timesteps:
            return new_t.float() * (1000.0 / self.original_num_steps)
        return new_t
