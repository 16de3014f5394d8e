"""Gaussian diffusion with ADM's semantics: schedules, SNR, loss weightings, samplers."""

from __future__ import annotations

from .gaussian_diffusion import GaussianDiffusion, LossType, ModelMeanType, ModelVarType
from .respace import SpacedDiffusion, space_timesteps
from .sampling import StepNoise
from .schedule import SCHEDULES, get_named_beta_schedule, snr
from .weighting import TARGETS, WEIGHTINGS, weight, weight_curve

MEAN_TYPES = {"eps": ModelMeanType.EPSILON, "x0": ModelMeanType.START_X,
              "v": ModelMeanType.VELOCITY}

__all__ = [
    "GaussianDiffusion", "LossType", "ModelMeanType", "ModelVarType", "SpacedDiffusion",
    "SCHEDULES", "StepNoise", "TARGETS", "WEIGHTINGS", "create_diffusion",
    "get_named_beta_schedule", "snr", "space_timesteps", "weight", "weight_curve",
]


def create_diffusion(
    steps: int = 1000,
    noise_schedule: str = "linear",
    learn_sigma: bool = True,
    rescale_learned_sigmas: bool = True,
    target: str = "eps",
    weighting: str = "constant",
    timestep_respacing: str = "",
    p2_gamma: float = 1.0,
    p2_k: float = 1.0,
    min_snr_gamma: float = 5.0,
    sigma_data: float = 0.5,
    sigmoid_bias: float = -3.0,
    use_kl: bool = False,
    rescale_timesteps: bool = False,
    sigma_small: bool = False,
) -> SpacedDiffusion:
    """The diffusion of ADM's ``create_gaussian_diffusion`` (always a SpacedDiffusion), with
    the prediction ``target`` (eps | x0 | v) and a named loss ``weighting``."""
    if target not in MEAN_TYPES:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(MEAN_TYPES)}")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose one of {', '.join(WEIGHTINGS)}")
    betas = get_named_beta_schedule(noise_schedule, steps)
    if use_kl:
        loss_type = LossType.RESCALED_KL
    elif rescale_learned_sigmas:
        loss_type = LossType.RESCALED_MSE
    else:
        loss_type = LossType.MSE
    if learn_sigma:
        var_type = ModelVarType.LEARNED_RANGE
    else:
        var_type = ModelVarType.FIXED_SMALL if sigma_small else ModelVarType.FIXED_LARGE
    return SpacedDiffusion(
        use_timesteps=space_timesteps(steps, timestep_respacing or [steps]),
        betas=betas,
        model_mean_type=MEAN_TYPES[target],
        model_var_type=var_type,
        loss_type=loss_type,
        rescale_timesteps=rescale_timesteps,
        weighting=weighting,
        weighting_params={"p2_gamma": p2_gamma, "p2_k": p2_k, "min_snr_gamma": min_snr_gamma,
                          "sigma_data": sigma_data, "sigmoid_bias": sigmoid_bias},
    )
