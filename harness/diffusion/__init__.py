"""Gaussian diffusion with ADM's semantics: schedules, SNR, loss weightings, samplers.

Schedules and weightings (numpy only) load with the package; the torch-backed names load on
first use, so the workflow can check weightings when it plans without starting torch.
"""

from __future__ import annotations

import importlib

from .schedule import SCHEDULES, get_named_beta_schedule, snr
from .user_weighting import PluginWeighting, UserWeighting
from .weighting import TARGETS, WEIGHTINGS, weight, weight_curve

_LAZY = {"GaussianDiffusion": "gaussian_diffusion", "LossType": "gaussian_diffusion",
         "ModelMeanType": "gaussian_diffusion", "ModelVarType": "gaussian_diffusion",
         "SpacedDiffusion": "respace", "space_timesteps": "respace", "StepNoise": "sampling",
         "MEAN_TYPES": "factory", "create_diffusion": "factory"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GaussianDiffusion", "LossType", "MEAN_TYPES", "ModelMeanType", "ModelVarType",
    "PluginWeighting", "SCHEDULES", "SpacedDiffusion", "StepNoise", "TARGETS", "UserWeighting",
    "WEIGHTINGS", "create_diffusion", "get_named_beta_schedule", "snr", "space_timesteps",
    "weight", "weight_curve",
]
