"""ADM's Gaussian diffusion (openai/guided-diffusion, as forked by the paper's authors).

Same attributes, methods, arguments and return values as guided-diffusion's
``GaussianDiffusion``, plus the authors' v-prediction target and one loss weighting chosen by
name instead of by commenting lines in and out.  Coefficient tables are float64 numpy arrays
(ADM's names); each is turned into a float32 tensor once per device and indexed by t, which is
what ADM's ``_extract_into_tensor`` computes on every call.

Where this differs from the authors' fork, on purpose: the v target is computed as
sqrt(abar) eps - sqrt(1 - abar) x0 rather than (sqrt(abar) x_t - x0) / sqrt(1 - abar) (equal
up to float32 rounding, ~1e-7 relative); ``p_sample_loop`` honours ``noise`` as ADM does (the
fork ignores it); weightings for x0 / v targets are converted to the same objective (see
weighting.py) where the fork's commented-out lines would reuse the eps arrays unchanged.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
import torch

from .losses import discretized_gaussian_log_likelihood, mean_flat, normal_kl
from .sampling import Samplers
from .schedule import snr as snr_of
from .user_weighting import from_definition
from .weighting import weight


class ModelMeanType(enum.Enum):
    """What the network predicts."""

    PREVIOUS_X = enum.auto()  # x_{t-1}
    START_X = enum.auto()  # x_0
    EPSILON = enum.auto()  # eps
    VELOCITY = enum.auto()  # v = sqrt(abar) eps - sqrt(1 - abar) x_0


class ModelVarType(enum.Enum):
    """Where the reverse-process variance comes from (LEARNED_RANGE: a learned interpolation
    between FIXED_SMALL and FIXED_LARGE in log space, Nichol & Dhariwal 2021)."""

    LEARNED = enum.auto()
    FIXED_SMALL = enum.auto()
    FIXED_LARGE = enum.auto()
    LEARNED_RANGE = enum.auto()


class LossType(enum.Enum):
    MSE = enum.auto()  # (weighted) MSE, plus the VB term when the variance is learned
    RESCALED_MSE = enum.auto()  # as MSE, the VB term scaled by num_timesteps / 1000
    KL = enum.auto()  # the variational bound
    RESCALED_KL = enum.auto()  # the bound scaled to estimate the full VLB

    def is_vb(self) -> bool:
        return self in (LossType.KL, LossType.RESCALED_KL)


TARGET_OF = {ModelMeanType.EPSILON: "eps", ModelMeanType.START_X: "x0", ModelMeanType.VELOCITY: "v"}


class GaussianDiffusion(Samplers):
    """Training losses and samplers of a discrete Gaussian diffusion with ``betas``.

    ``weighting`` names an entry of ``weighting.WEIGHTINGS``, or a user weighting with its
    ``weighting_definition`` (user_weighting.py); its per-timestep weights are computed from
    this diffusion's own SNR (float64) and multiply the per-sample MSE term of
    ``training_losses`` only, never the learned-variance VB term (as in the authors' code).
    A user weighting's timestep density gives ``timestep_density`` (None: uniform t) and
    ``importance_weights``, which a training loop multiplies into the loss (ADM's schedule
    samplers). ``weighting_time`` is (base timestep of each step, base T) for a respaced
    process, so that formulas in t see the base process's t.
    """

    def __init__(
        self,
        *,
        betas: np.ndarray,
        model_mean_type: ModelMeanType,
        model_var_type: ModelVarType,
        loss_type: LossType,
        rescale_timesteps: bool = False,
        weighting: str = "constant",
        weighting_params: dict[str, float] | None = None,
        weighting_definition: dict[str, Any] | None = None,
        weighting_time: tuple[list[int], int] | None = None,
    ) -> None:
        self.model_mean_type = model_mean_type
        self.model_var_type = model_var_type
        self.loss_type = loss_type
        self.rescale_timesteps = rescale_timesteps

        betas = np.array(betas, dtype=np.float64)
        if betas.ndim != 1 or not ((betas > 0).all() and (betas <= 1).all()):
            raise ValueError(f"betas must be a 1-D array with values in (0, 1]; got shape "
                             f"{betas.shape}, range [{betas.min()}, {betas.max()}]")
        self.betas = betas
        self.num_timesteps = int(betas.shape[0])

        alphas = 1.0 - betas
        self.alphas = alphas
        self.alphas_cumprod = np.cumprod(alphas, axis=0)
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])
        self.alphas_cumprod_next = np.append(self.alphas_cumprod[1:], 0.0)
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - self.alphas_cumprod)
        self.log_one_minus_alphas_cumprod = np.log(1.0 - self.alphas_cumprod)
        self.sqrt_recip_alphas_cumprod = np.sqrt(1.0 / self.alphas_cumprod)
        self.sqrt_recipm1_alphas_cumprod = np.sqrt(1.0 / self.alphas_cumprod - 1)
        # Posterior q(x_{t-1} | x_t, x_0).
        self.posterior_variance = (
            betas * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )
        # The posterior variance is 0 at t = 0; ADM clips its log by repeating t = 1.
        self.posterior_log_variance_clipped = np.log(
            np.append(self.posterior_variance[1], self.posterior_variance[1:])
        )
        self.posterior_mean_coef1 = (
            betas * np.sqrt(self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        )
        self.posterior_mean_coef2 = (
            (1.0 - self.alphas_cumprod_prev) * np.sqrt(alphas) / (1.0 - self.alphas_cumprod)
        )
        self.snr = snr_of(self.alphas_cumprod)

        self.weighting = weighting
        self.weighting_params = dict(weighting_params or {})
        self.weighting_definition = weighting_definition
        user = None if weighting_definition is None else from_definition(
            weighting, weighting_definition)
        timesteps, base_T = weighting_time or (list(range(self.num_timesteps)),
                                               self.num_timesteps)
        if model_mean_type in TARGET_OF and user is not None:
            self.loss_weights = user.weights(self.snr, TARGET_OF[model_mean_type],
                                             np.asarray(timesteps), base_T)
        elif model_mean_type in TARGET_OF:
            target = TARGET_OF[model_mean_type]
            self.loss_weights = weight(weighting, self.snr, target, **self.weighting_params)
        elif weighting == "constant":
            self.loss_weights = np.ones(self.num_timesteps)
        else:
            raise ValueError(f"weighting {weighting!r} needs an eps, x0 or v target, "
                             f"not {model_mean_type}")
        self.timestep_density = None if user is None else user.timestep_density(
            self.snr, np.asarray(timesteps), base_T)

        # FIXED_LARGE uses betas, with the first entry replaced for a better decoder NLL.
        fixed_large = np.append(self.posterior_variance[1], self.betas[1:])
        self._arrays = {
            "sqrt_alphas_cumprod": self.sqrt_alphas_cumprod,
            "sqrt_one_minus_alphas_cumprod": self.sqrt_one_minus_alphas_cumprod,
            "one_minus_alphas_cumprod": 1.0 - self.alphas_cumprod,
            "log_one_minus_alphas_cumprod": self.log_one_minus_alphas_cumprod,
            "sqrt_recip_alphas_cumprod": self.sqrt_recip_alphas_cumprod,
            "sqrt_recipm1_alphas_cumprod": self.sqrt_recipm1_alphas_cumprod,
            "alphas_cumprod": self.alphas_cumprod,
            "alphas_cumprod_prev": self.alphas_cumprod_prev,
            "posterior_mean_coef1": self.posterior_mean_coef1,
            "posterior_mean_coef2": self.posterior_mean_coef2,
            "posterior_variance": self.posterior_variance,
            "posterior_log_variance_clipped": self.posterior_log_variance_clipped,
            "log_betas": np.log(self.betas),
            "fixed_large_variance": fixed_large,
            "fixed_large_log_variance": np.log(fixed_large),
            "recip_posterior_mean_coef1": 1.0 / self.posterior_mean_coef1,
            "posterior_mean_coef_ratio": self.posterior_mean_coef2 / self.posterior_mean_coef1,
            "loss_weights": self.loss_weights,
        }
        if self.timestep_density is not None:  # ADM's ScheduleSampler: 1 / (T p(t))
            self._arrays["importance_weights"] = 1.0 / (self.num_timesteps
                                                        * self.timestep_density)
        self._tensors: dict[torch.device, dict[str, torch.Tensor]] = {}

    # -- coefficient tables -------------------------------------------------------------
    def _extract(self, name: str, t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
        """Table ``name`` at timesteps ``t`` as float32, broadcast to ``shape``."""
        tables = self._tensors.get(t.device)
        if tables is None:
            tables = {
                k: torch.from_numpy(v).to(device=t.device, dtype=torch.float32)
                for k, v in self._arrays.items()
            }
            self._tensors[t.device] = tables
        res = tables[name][t]
        return res.view(res.shape + (1,) * (len(shape) - res.ndim)).expand(shape)

    def _scale_timesteps(self, t: torch.Tensor) -> torch.Tensor:
        """The timesteps the network sees (ADM: floats in [0, 1000) when rescaling)."""
        if self.rescale_timesteps:
            return t.float() * (1000.0 / self.num_timesteps)
        return t

    # -- forward process ----------------------------------------------------------------
    def q_mean_variance(self, x_start: torch.Tensor, t: torch.Tensor):
        """Mean, variance and log variance of q(x_t | x_0)."""
        mean = self._extract("sqrt_alphas_cumprod", t, x_start.shape) * x_start
        variance = self._extract("one_minus_alphas_cumprod", t, x_start.shape)
        log_variance = self._extract("log_one_minus_alphas_cumprod", t, x_start.shape)
        return mean, variance, log_variance

    def q_sample(self, x_start: torch.Tensor, t: torch.Tensor, noise: torch.Tensor | None = None):
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise."""
        if noise is None:
            noise = torch.randn_like(x_start)
        if noise.shape != x_start.shape:
            raise ValueError(f"noise shape {tuple(noise.shape)} != x_start {tuple(x_start.shape)}")
        return (
            self._extract("sqrt_alphas_cumprod", t, x_start.shape) * x_start
            + self._extract("sqrt_one_minus_alphas_cumprod", t, x_start.shape) * noise
        )

    def q_posterior_mean_variance(self, x_start: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor):
        """Mean, variance and clipped log variance of q(x_{t-1} | x_t, x_0)."""
        mean = (
            self._extract("posterior_mean_coef1", t, x_t.shape) * x_start
            + self._extract("posterior_mean_coef2", t, x_t.shape) * x_t
        )
        variance = self._extract("posterior_variance", t, x_t.shape)
        log_variance = self._extract("posterior_log_variance_clipped", t, x_t.shape)
        return mean, variance, log_variance

    # -- reverse process ----------------------------------------------------------------
    def p_mean_variance(
        self, model, x, t, clip_denoised=True, denoised_fn=None, model_kwargs=None
    ) -> dict[str, torch.Tensor]:
        """Run the model; return p(x_{t-1} | x_t) as ``mean``, ``variance``,
        ``log_variance`` and the model's ``pred_xstart``."""
        model_output = model(x, self._scale_timesteps(t), **(model_kwargs or {}))
        return self._p_mean_variance_from_output(model_output, x, t, clip_denoised, denoised_fn)

    def _p_mean_variance_from_output(self, model_output, x, t, clip_denoised, denoised_fn):
        B, C = x.shape[:2]
        if t.shape != (B,):
            raise ValueError(f"t must have shape ({B},), got {tuple(t.shape)}")
        if self.model_var_type in (ModelVarType.LEARNED, ModelVarType.LEARNED_RANGE):
            if model_output.shape != (B, C * 2, *x.shape[2:]):
                raise ValueError(f"a learned-variance model must output {2 * C} channels, "
                                 f"got shape {tuple(model_output.shape)}")
            model_output, var_values = torch.split(model_output, C, dim=1)
            if self.model_var_type == ModelVarType.LEARNED:
                log_variance = var_values
            else:
                min_log = self._extract("posterior_log_variance_clipped", t, x.shape)
                max_log = self._extract("log_betas", t, x.shape)
                frac = (var_values + 1) / 2  # [-1, 1] -> [min_log, max_log]
                log_variance = frac * max_log + (1 - frac) * min_log
            variance = torch.exp(log_variance)
        elif self.model_var_type == ModelVarType.FIXED_LARGE:
            variance = self._extract("fixed_large_variance", t, x.shape)
            log_variance = self._extract("fixed_large_log_variance", t, x.shape)
        else:
            variance = self._extract("posterior_variance", t, x.shape)
            log_variance = self._extract("posterior_log_variance_clipped", t, x.shape)

        def process_xstart(x0):
            if denoised_fn is not None:
                x0 = denoised_fn(x0)
            return x0.clamp(-1, 1) if clip_denoised else x0

        if self.model_mean_type == ModelMeanType.PREVIOUS_X:
            pred_xstart = process_xstart(self._predict_xstart_from_xprev(x, t, model_output))
            mean = model_output
        else:
            if self.model_mean_type == ModelMeanType.START_X:
                pred_xstart = process_xstart(model_output)
            elif self.model_mean_type == ModelMeanType.EPSILON:
                pred_xstart = process_xstart(self._predict_xstart_from_eps(x, t, model_output))
            else:
                pred_xstart = process_xstart(self._predict_xstart_from_v(x, t, model_output))
            mean, _, _ = self.q_posterior_mean_variance(pred_xstart, x, t)
        return {"mean": mean, "variance": variance, "log_variance": log_variance,
                "pred_xstart": pred_xstart}

    def _predict_xstart_from_eps(self, x_t, t, eps):
        return (
            self._extract("sqrt_recip_alphas_cumprod", t, x_t.shape) * x_t
            - self._extract("sqrt_recipm1_alphas_cumprod", t, x_t.shape) * eps
        )

    def _predict_xstart_from_v(self, x_t, t, v):
        return (
            self._extract("sqrt_alphas_cumprod", t, x_t.shape) * x_t
            - self._extract("sqrt_one_minus_alphas_cumprod", t, x_t.shape) * v
        )

    def _predict_xstart_from_xprev(self, x_t, t, xprev):
        return (  # (xprev - coef2 * x_t) / coef1
            self._extract("recip_posterior_mean_coef1", t, x_t.shape) * xprev
            - self._extract("posterior_mean_coef_ratio", t, x_t.shape) * x_t
        )

    def _predict_eps_from_xstart(self, x_t, t, pred_xstart):
        return (
            self._extract("sqrt_recip_alphas_cumprod", t, x_t.shape) * x_t - pred_xstart
        ) / self._extract("sqrt_recipm1_alphas_cumprod", t, x_t.shape)

    # -- training -----------------------------------------------------------------------
    def _vb_terms_bpd(self, model, x_start, x_t, t, clip_denoised=True, model_kwargs=None):
        """The VLB term at t in bits per dimension: KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t)),
        or the decoder NLL at t = 0; returns ``output`` [N] and ``pred_xstart``."""
        model_output = model(x_t, self._scale_timesteps(t), **(model_kwargs or {}))
        return self._vb_terms_from_output(model_output, x_start, x_t, t, clip_denoised)

    def _vb_terms_from_output(self, model_output, x_start, x_t, t, clip_denoised):
        true_mean, _, true_log_variance = self.q_posterior_mean_variance(x_start, x_t, t)
        out = self._p_mean_variance_from_output(model_output, x_t, t, clip_denoised, None)
        kl = normal_kl(true_mean, true_log_variance, out["mean"], out["log_variance"])
        kl = mean_flat(kl) / np.log(2.0)
        decoder_nll = -discretized_gaussian_log_likelihood(
            x_start, means=out["mean"], log_scales=0.5 * out["log_variance"]
        )
        decoder_nll = mean_flat(decoder_nll) / np.log(2.0)
        return {"output": torch.where(t == 0, decoder_nll, kl), "pred_xstart": out["pred_xstart"]}

    def training_target(self, x_start, x_t, t, noise) -> torch.Tensor:
        """What the network is trained to output (its mean half) for this mean type."""
        if self.model_mean_type == ModelMeanType.EPSILON:
            return noise
        if self.model_mean_type == ModelMeanType.START_X:
            return x_start
        if self.model_mean_type == ModelMeanType.VELOCITY:
            return (
                self._extract("sqrt_alphas_cumprod", t, x_start.shape) * noise
                - self._extract("sqrt_one_minus_alphas_cumprod", t, x_start.shape) * x_start
            )
        return self.q_posterior_mean_variance(x_start, x_t, t)[0]

    def training_losses(self, model, x_start, t, model_kwargs=None, noise=None
                        ) -> dict[str, torch.Tensor]:
        """Per-sample losses at timesteps ``t``: ``loss``, and for MSE losses ``mse`` (the
        weighted MSE of the target) plus ``vb`` when the variance is learned."""
        model_kwargs = model_kwargs or {}
        if noise is None:
            noise = torch.randn_like(x_start)
        x_t = self.q_sample(x_start, t, noise=noise)
        model_output = model(x_t, self._scale_timesteps(t), **model_kwargs)
        terms: dict[str, torch.Tensor] = {}
        if self.loss_type.is_vb():
            terms["loss"] = self._vb_terms_from_output(model_output, x_start, x_t, t, False)[
                "output"]
            if self.loss_type == LossType.RESCALED_KL:
                terms["loss"] = terms["loss"] * self.num_timesteps
            return terms

        if self.model_var_type in (ModelVarType.LEARNED, ModelVarType.LEARNED_RANGE):
            C = x_t.shape[1]
            model_output, var_values = torch.split(model_output, C, dim=1)
            # The VB term trains the variance only: the mean is detached.
            frozen = torch.cat([model_output.detach(), var_values], dim=1)
            terms["vb"] = self._vb_terms_from_output(frozen, x_start, x_t, t, False)["output"]
            if self.loss_type == LossType.RESCALED_MSE:
                # ADM: divide by 1000 for equivalence with the initial implementation.
                terms["vb"] = terms["vb"] * (self.num_timesteps / 1000.0)

        target = self.training_target(x_start, x_t, t, noise)
        if model_output.shape != target.shape:
            raise ValueError(f"model output {tuple(model_output.shape)} does not match the "
                             f"target {tuple(target.shape)}")
        mse = mean_flat((target - model_output) ** 2)
        if self.weighting != "constant":  # the one place where weights are applied
            mse = mse * self._extract("loss_weights", t, mse.shape)
        terms["mse"] = mse
        terms["loss"] = mse + terms["vb"] if "vb" in terms else mse
        return terms

    def importance_weights(self, t: torch.Tensor) -> torch.Tensor | None:
        """1 / (T p(t)) for timesteps drawn from ``timestep_density``; None for uniform t."""
        if self.timestep_density is None:
            return None
        return self._extract("importance_weights", t, t.shape)

    def config(self) -> dict[str, Any]:
        """The settings that define this diffusion (for logs and run directories)."""
        config = {"num_timesteps": self.num_timesteps,
                  "model_mean_type": self.model_mean_type.name,
                  "model_var_type": self.model_var_type.name, "loss_type": self.loss_type.name,
                  "rescale_timesteps": self.rescale_timesteps, "weighting": self.weighting,
                  "weighting_params": dict(self.weighting_params)}
        if self.weighting_definition is not None:
            config["weighting_definition"] = self.weighting_definition
        return config
