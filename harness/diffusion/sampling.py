"""ADM's samplers: ancestral (DDPM) and DDIM steps and loops, with per-sample noise hooks.

A mixin of GaussianDiffusion: it relies on ``p_mean_variance``, ``_extract`` and the
``_predict_*`` conversions of that class.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import torch
from tqdm.auto import tqdm

# step_noise(t, shape) -> a standard normal tensor of `shape` for the step that samples
# x_{t-1} from x_t (t counts down over the timesteps of this, possibly respaced, diffusion).
StepNoise = Callable[[int, tuple[int, ...]], torch.Tensor]


class Samplers:
    """p_sample / ddim_sample and their loops, as in guided-diffusion, plus ``step_noise``."""

    def condition_mean(self, cond_fn, p_mean_var, x, t, model_kwargs=None):
        """Shift the mean by variance * grad log p(y | x_t) (Sohl-Dickstein et al. 2015)."""
        gradient = cond_fn(x, self._scale_timesteps(t), **(model_kwargs or {}))
        return p_mean_var["mean"].float() + p_mean_var["variance"] * gradient.float()

    def condition_score(self, cond_fn, p_mean_var, x, t, model_kwargs=None):
        """Condition the implied score instead (Song et al. 2020); used by DDIM."""
        alpha_bar = self._extract("alphas_cumprod", t, x.shape)
        eps = self._predict_eps_from_xstart(x, t, p_mean_var["pred_xstart"])
        eps = eps - (1 - alpha_bar).sqrt() * cond_fn(
            x, self._scale_timesteps(t), **(model_kwargs or {})
        )
        out = dict(p_mean_var)
        out["pred_xstart"] = self._predict_xstart_from_eps(x, t, eps)
        out["mean"], _, _ = self.q_posterior_mean_variance(out["pred_xstart"], x, t)
        return out

    def p_sample(self, model, x, t, clip_denoised=True, denoised_fn=None, cond_fn=None,
                 model_kwargs=None, noise=None) -> dict[str, torch.Tensor]:
        """One ancestral step x_t -> x_{t-1}; ``noise`` defaults to randn_like(x)."""
        out = self.p_mean_variance(model, x, t, clip_denoised, denoised_fn, model_kwargs)
        if noise is None:
            noise = torch.randn_like(x)
        nonzero_mask = (t != 0).float().view(-1, *([1] * (x.ndim - 1)))  # no noise at t = 0
        if cond_fn is not None:
            out["mean"] = self.condition_mean(cond_fn, out, x, t, model_kwargs=model_kwargs)
        sample = out["mean"] + nonzero_mask * torch.exp(0.5 * out["log_variance"]) * noise
        return {"sample": sample, "pred_xstart": out["pred_xstart"]}

    def ddim_sample(self, model, x, t, clip_denoised=True, denoised_fn=None, cond_fn=None,
                    model_kwargs=None, eta=0.0, noise=None) -> dict[str, torch.Tensor]:
        """One DDIM step (Song et al. 2021, Eq. 12) with stochasticity ``eta``."""
        out = self.p_mean_variance(model, x, t, clip_denoised, denoised_fn, model_kwargs)
        if cond_fn is not None:
            out = self.condition_score(cond_fn, out, x, t, model_kwargs=model_kwargs)
        # Re-derive eps from x0 so that every target takes the same step.
        eps = self._predict_eps_from_xstart(x, t, out["pred_xstart"])
        alpha_bar = self._extract("alphas_cumprod", t, x.shape)
        alpha_bar_prev = self._extract("alphas_cumprod_prev", t, x.shape)
        sigma = (
            eta
            * torch.sqrt((1 - alpha_bar_prev) / (1 - alpha_bar))
            * torch.sqrt(1 - alpha_bar / alpha_bar_prev)
        )
        if noise is None:
            noise = torch.randn_like(x)
        mean_pred = (
            out["pred_xstart"] * torch.sqrt(alpha_bar_prev)
            + torch.sqrt(1 - alpha_bar_prev - sigma**2) * eps
        )
        nonzero_mask = (t != 0).float().view(-1, *([1] * (x.ndim - 1)))
        sample = mean_pred + nonzero_mask * sigma * noise
        return {"sample": sample, "pred_xstart": out["pred_xstart"]}

    def p_sample_loop(self, model, shape, noise=None, clip_denoised=True, denoised_fn=None,
                      cond_fn=None, model_kwargs=None, device=None, progress=False,
                      step_noise: StepNoise | None = None) -> torch.Tensor:
        """Ancestral sampling from x_T = ``noise`` (or randn) down to x_0.

        ``step_noise(t, shape)`` supplies each step's noise; with per-sample generators behind
        it, sample i does not depend on the batch it was drawn in.
        """
        steps = self.p_sample_loop_progressive(
            model, shape, noise, clip_denoised, denoised_fn, cond_fn, model_kwargs, device,
            progress, step_noise,
        )
        return deque(steps, maxlen=1)[0]["sample"]

    def p_sample_loop_progressive(self, model, shape, noise=None, clip_denoised=True,
                                  denoised_fn=None, cond_fn=None, model_kwargs=None,
                                  device=None, progress=False,
                                  step_noise: StepNoise | None = None) -> Iterator[dict]:
        """As p_sample_loop, yielding each step's ``sample`` and ``pred_xstart``."""
        yield from self._loop(self.p_sample, model, shape, noise, device, progress, step_noise,
                              clip_denoised=clip_denoised, denoised_fn=denoised_fn,
                              cond_fn=cond_fn, model_kwargs=model_kwargs)

    def ddim_sample_loop(self, model, shape, noise=None, clip_denoised=True, denoised_fn=None,
                         cond_fn=None, model_kwargs=None, device=None, progress=False,
                         eta=0.0, step_noise: StepNoise | None = None) -> torch.Tensor:
        """DDIM sampling from x_T = ``noise``; arguments as p_sample_loop plus ``eta``."""
        steps = self.ddim_sample_loop_progressive(
            model, shape, noise, clip_denoised, denoised_fn, cond_fn, model_kwargs, device,
            progress, eta, step_noise,
        )
        return deque(steps, maxlen=1)[0]["sample"]

    def ddim_sample_loop_progressive(self, model, shape, noise=None, clip_denoised=True,
                                     denoised_fn=None, cond_fn=None, model_kwargs=None,
                                     device=None, progress=False, eta=0.0,
                                     step_noise: StepNoise | None = None) -> Iterator[dict]:
        """As ddim_sample_loop, yielding each step's ``sample`` and ``pred_xstart``."""
        yield from self._loop(self.ddim_sample, model, shape, noise, device, progress,
                              step_noise, clip_denoised=clip_denoised, denoised_fn=denoised_fn,
                              cond_fn=cond_fn, model_kwargs=model_kwargs, eta=eta)

    def _loop(self, step, model, shape, noise, device, progress, step_noise, **kwargs):
        if not isinstance(shape, tuple | list):
            raise ValueError(f"shape must be a tuple or list, got {shape!r}")
        if noise is not None:
            img = noise
        else:
            if device is None:
                device = next(model.parameters()).device
            img = torch.randn(*shape, device=device)
        indices = range(self.num_timesteps - 1, -1, -1)
        if progress:
            indices = tqdm(indices, desc="sampling", leave=False)
        for i in indices:
            t = torch.full((shape[0],), i, device=img.device, dtype=torch.long)
            step_eps = None if step_noise is None else step_noise(i, tuple(img.shape)).to(img)
            with torch.no_grad():
                out = step(model, img, t, noise=step_eps, **kwargs)
            yield out
            img = out["sample"]
