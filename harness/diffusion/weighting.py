"""Loss weightings: pure functions of SNR(t), one registry, one conversion between targets.

Every weighting is defined in the space its source defines it in:

- ``eps`` space: a multiplier of ||eps - eps_theta||^2 (P2, the paper's "Ours", 1/SNR, sigmoid);
- ``x0`` space: a multiplier of ||x0 - x0_theta||^2 (Min-SNR, soft-min-SNR, EDM);
- ``any``: the same multiplier for every target (constant, i.e. ADM's plain MSE).

For a model that predicts another target, `weight` returns the multiplier of *that* target's
MSE which gives the same objective.  With x_t = sqrt(abar) x0 + sqrt(1 - abar) eps and
v = sqrt(abar) eps - sqrt(1 - abar) x0, the per-sample errors satisfy
||eps err||^2 = SNR ||x0 err||^2 and ||v err||^2 = (SNR + 1) ||x0 err||^2, so an x0-space weight
W becomes W / SNR for eps and W / (SNR + 1) for v (and an eps-space weight w is W = w * SNR).
This is exactly how the Min-SNR authors write min_snr for the three targets.  The paper itself
only trains x0 and v with constant weighting (its Table 4), where no conversion happens.

Weights are float64 numpy arrays; the diffusion turns them into one tensor per device, once.
Weightings users define (a formula in a config, or a plugin) live in user_weighting.py and are
converted between targets by the same `convert`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .schedule import alphas_cumprod, get_named_beta_schedule, snr

TARGETS = ("eps", "x0", "v")


@dataclass(frozen=True)
class Weighting:
    """A loss weighting: ``fn(snr, **params)`` is the weight in ``space`` (eps | x0 | any);
    ``formula`` is its eps-prediction form, for tables and legends."""

    name: str
    space: str
    params: tuple[str, ...]
    fn: Callable[..., np.ndarray]
    formula: str
    source: str


def _constant(s: np.ndarray) -> np.ndarray:
    """1: ADM's L_simple (Ho et al. 2020), the paper's "Constant" column."""
    return np.ones_like(s)


def _p2(s: np.ndarray, p2_gamma: float, p2_k: float) -> np.ndarray:
    """1 / (k + SNR)^gamma on the eps-MSE (Choi et al. 2022, "P2").

    The authors' training script (yuhuUSTC/Debias) uses gamma = 1, k = 1; the P2 paper's
    FFHQ models used gamma = 0.5.
    """
    return 1.0 / (p2_k + s) ** p2_gamma


def _min_snr(s: np.ndarray, min_snr_gamma: float) -> np.ndarray:
    """min(SNR, gamma) on the x0-MSE (Hang et al. 2023, "Min-SNR-gamma", gamma = 5).

    For eps this is min(SNR, gamma) / SNR, for v min(SNR, gamma) / (SNR + 1).
    """
    return np.minimum(s, min_snr_gamma)


def _debias(s: np.ndarray) -> np.ndarray:
    """1 / sqrt(SNR) on the eps-MSE: the paper's "Ours" (Yu et al., Eq. 8)."""
    return 1.0 / np.sqrt(s)


def _snr(s: np.ndarray) -> np.ndarray:
    """1 / SNR on the eps-MSE (the paper's appendix "SNR" variant; it diverges).

    Equal to an unweighted x0-MSE, i.e. Ho et al.'s VLB weighting without the beta factors.
    """
    return 1.0 / s


def _soft_min_snr(s: np.ndarray, min_snr_gamma: float) -> np.ndarray:
    """gamma * SNR / (gamma + SNR) on the x0-MSE, i.e. gamma / (gamma + SNR) on the eps-MSE.

    A smooth min(SNR, gamma) (Crowson et al. 2024, "Hourglass Diffusion Transformers";
    k-diffusion's ``soft-min-snr``, which is the case gamma = 1 / sigma_data^2 = 4).
    Shares ``min_snr_gamma`` with ``min_snr``.
    """
    return min_snr_gamma * s / (min_snr_gamma + s)


def _edm(s: np.ndarray, sigma_data: float) -> np.ndarray:
    """EDM's lambda(sigma) = (sigma^2 + sigma_data^2) / (sigma sigma_data)^2 (Karras et al. 2022).

    EDM weights the denoiser (x0) error at VE noise level sigma, and sigma^2 = 1 / SNR, so the
    x0-space weight is SNR + 1 / sigma_data^2 and the eps-space weight 1 + 1 / (sigma_data^2 SNR).
    Only the weight is taken over: EDM also draws sigma log-normally, which damps the extremes;
    under ADM's uniform t the eps weight grows like 1 / (sigma_data^2 SNR) at high noise
    (about 1e5 at t = T on the linear schedule), much like ``snr``.
    """
    return s + 1.0 / sigma_data**2


def _sigmoid(s: np.ndarray, sigmoid_bias: float) -> np.ndarray:
    """sigmoid(b - log SNR) on the eps-MSE (Kingma & Gao 2023, "Understanding diffusion
    objectives as the ELBO", monotonic sigmoid weighting w(lambda) = sigmoid(-lambda + b)).

    Their weighted loss also carries the schedule's density -d lambda / dt; this harness keeps
    ADM's uniform-t sampling and applies w(lambda_t) per timestep without that factor. The
    default b = -3 is this harness's choice; Kingma & Gao sweep b, so set it explicitly.
    """
    return 1.0 / (1.0 + np.exp(np.log(s) - sigmoid_bias))


WEIGHTINGS: dict[str, Weighting] = {
    w.name: w
    for w in (
        Weighting("constant", "any", (), _constant, "1", "Ho et al. 2020 (ADM L_simple)"),
        Weighting("p2", "eps", ("p2_gamma", "p2_k"), _p2, "1/(k+SNR)^gamma", "Choi et al. 2022"),
        Weighting("min_snr", "x0", ("min_snr_gamma",), _min_snr, "min(SNR,gamma)/SNR",
                  "Hang et al. 2023"),
        Weighting("debias", "eps", (), _debias, "1/sqrt(SNR)", "Yu et al. (this paper)"),
        Weighting("snr", "eps", (), _snr, "1/SNR", "Yu et al., appendix"),
        Weighting("soft_min_snr", "x0", ("min_snr_gamma",), _soft_min_snr,
                  "gamma/(gamma+SNR)", "Crowson et al. 2024 (k-diffusion)"),
        Weighting("edm", "x0", ("sigma_data",), _edm, "1+1/(sigma_data^2 SNR)",
                  "Karras et al. 2022"),
        Weighting("sigmoid", "eps", ("sigmoid_bias",), _sigmoid, "sigmoid(b-log SNR)",
                  "Kingma & Gao 2023"),
    )
}

DEFAULT_PARAMS: dict[str, float] = {
    "p2_gamma": 1.0,
    "p2_k": 1.0,
    "min_snr_gamma": 5.0,
    "sigma_data": 0.5,
    "sigmoid_bias": -3.0,
}


def get_weighting(name: str) -> Weighting:
    """The registry entry for ``name``; ValueError listing the choices otherwise."""
    try:
        return WEIGHTINGS[name]
    except KeyError:
        raise ValueError(
            f"unknown weighting {name!r}; choose one of {', '.join(WEIGHTINGS)}"
        ) from None


def weight(name: str, snr: np.ndarray, target: str = "eps", **params: float) -> np.ndarray:
    """Per-timestep multiplier of the ``target``-MSE for weighting ``name`` (float64).

    ``params`` may hold any of DEFAULT_PARAMS' names (those the weighting does not use are
    ignored, so a caller can pass all of them); missing ones take the defaults.
    """
    spec = get_weighting(name)
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    unknown = sorted(set(params) - set(DEFAULT_PARAMS))
    if unknown:
        raise ValueError(
            f"unknown weighting parameter(s) {unknown}; known: {', '.join(DEFAULT_PARAMS)}"
        )
    s = np.asarray(snr, dtype=np.float64)
    if np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ValueError("snr must be finite and > 0 at every timestep")
    kwargs = {k: float(params.get(k, DEFAULT_PARAMS[k])) for k in spec.params}
    if kwargs.get("min_snr_gamma", 1.0) <= 0 or kwargs.get("sigma_data", 1.0) <= 0:
        raise ValueError(f"weighting {name!r}: min_snr_gamma and sigma_data must be > 0")
    return convert(spec.fn(s, **kwargs), spec.space, s, target)


def convert(w: np.ndarray, space: str, snr: np.ndarray, target: str) -> np.ndarray:
    """The multiplier of the ``target``-MSE equal to weight ``w`` on the ``space``-MSE, through
    the x0-space weight W (see the module docstring)."""
    if space in ("any", target):
        return w
    w_x0 = w * snr if space == "eps" else w
    if target == "x0":
        return w_x0
    if target == "eps":
        return w_x0 / snr
    return w_x0 / (snr + 1.0)


def weight_curve(
    name: str,
    num_timesteps: int = 1000,
    noise_schedule: str = "linear",
    target: str = "eps",
    **params: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(t, w): the weight at every timestep t = 0..T-1 of a named schedule, for figures."""
    abar = alphas_cumprod(get_named_beta_schedule(noise_schedule, num_timesteps))
    return np.arange(num_timesteps), weight(name, snr(abar), target=target, **params)
