"""Noise schedules (ADM's beta schedules) and the signal-to-noise ratio.

Everything here is float64 numpy: the schedules feed per-timestep coefficient tables that
ADM keeps in float64 and only casts to float32 when they meet a tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

SCHEDULES = ("linear", "cosine")


def get_named_beta_schedule(name: str, num_timesteps: int) -> np.ndarray:
    """Betas of ADM's named schedule, float64, shape (num_timesteps,).

    - ``linear``: Ho et al.'s 1e-4 .. 0.02 over 1000 steps, both ends scaled by
      1000 / num_timesteps so that other step counts describe the same process.
    - ``cosine``: Nichol & Dhariwal's abar(t) = cos^2((t + s) / (1 + s) * pi / 2), s = 0.008,
      discretised into betas capped at 0.999.
    """
    if num_timesteps < 1:
        raise ValueError(f"num_timesteps must be >= 1, got {num_timesteps}")
    if name == "linear":
        scale = 1000 / num_timesteps
        return np.linspace(scale * 0.0001, scale * 0.02, num_timesteps, dtype=np.float64)
    if name == "cosine":
        return betas_for_alpha_bar(
            num_timesteps, lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        )
    raise ValueError(f"unknown noise schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


def betas_for_alpha_bar(
    num_timesteps: int, alpha_bar: Callable[[float], float], max_beta: float = 0.999
) -> np.ndarray:
    """Betas such that prod(1 - beta) follows ``alpha_bar`` on the grid i / num_timesteps."""
    betas = np.empty(num_timesteps, dtype=np.float64)
    for i in range(num_timesteps):
        t1, t2 = i / num_timesteps, (i + 1) / num_timesteps
        betas[i] = min(1.0 - alpha_bar(t2) / alpha_bar(t1), max_beta)
    return betas


def alphas_cumprod(betas: np.ndarray) -> np.ndarray:
    """abar_t = prod_{s <= t} (1 - beta_s), float64."""
    return np.cumprod(1.0 - np.asarray(betas, dtype=np.float64))


def snr(alphas_cumprod: np.ndarray) -> np.ndarray:
    """SNR(t) = abar_t / (1 - abar_t), float64."""
    abar = np.asarray(alphas_cumprod, dtype=np.float64)
    return abar / (1.0 - abar)
