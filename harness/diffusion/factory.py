"""`create_diffusion`: ADM's ``create_gaussian_diffusion`` with a target and a named weighting."""

from __future__ import annotations

from typing import Any

from .gaussian_diffusion import LossType, ModelMeanType, ModelVarType
from .respace import SpacedDiffusion, space_timesteps
from .schedule import get_named_beta_schedule
from .user_weighting import resolve

MEAN_TYPES = {"eps": ModelMeanType.EPSILON, "x0": ModelMeanType.START_X,
              "v": ModelMeanType.VELOCITY}


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
    weighting_definition: dict[str, Any] | None = None,
) -> SpacedDiffusion:
    """The diffusion of ADM's ``create_gaussian_diffusion`` (always a SpacedDiffusion), with
    the prediction ``target`` (eps | x0 | v) and a loss ``weighting``: a built-in name, or a
    user weighting's name with its ``weighting_definition`` (harness.diffusion.user_weighting)."""
    if target not in MEAN_TYPES:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(MEAN_TYPES)}")
    if weighting_definition is None:
        resolve(weighting)  # an unknown name fails naming the choices, before any table
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
        weighting_definition=weighting_definition,
    )
