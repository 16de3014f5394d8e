"""The diffusion comparison cases, shared by make_golden_diffusion.py and the tests.

``compute(impl)`` runs every case through one implementation and returns {key: array}:
``OurImpl`` is harness.diffusion; ``RefImpl`` wraps guided-diffusion or the authors' fork
(yuhuUSTC/Debias), imported from a directory outside the project.  Both are driven through
ADM's public methods, with the same tiny deterministic stand-in network (a fixed random conv
plus a timestep term), so nothing here depends on the UNet.
"""

from __future__ import annotations

import os
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from harness.bench.reference import import_guided_diffusion

T = 1000
SHAPE = (4, 3, 8, 8)
RESPACINGS = ("1000", "500", "250", "100", "50", "20", "10", "2", "10,10,10",
              "ddim10", "ddim25", "ddim50")
EPS_WEIGHTINGS = ("constant", "p2", "min_snr", "debias", "snr", "soft_min_snr", "edm", "sigmoid")
# (target, weighting) pairs trained for x0 and v.
OTHER_TARGET_CASES = (("x0", "constant"), ("v", "constant"), ("x0", "min_snr"), ("v", "min_snr"))
TRAIN_T = (0, 1, 250, 999)


class StandIn(torch.nn.Module):
    """A fixed random 3x3 conv plus sin(t)-features; var channels squashed to [-1, 1]."""

    def __init__(self, channels: int = 3, learn_sigma: bool = True, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.RandomState(seed)
        out = channels * (2 if learn_sigma else 1)
        self.channels, self.learn_sigma = channels, learn_sigma
        self.weight = torch.nn.Parameter(torch.from_numpy(
            (rng.randn(out, channels, 3, 3) * 0.2).astype(np.float32)))
        self.bias = torch.nn.Parameter(torch.from_numpy((rng.randn(out) * 0.1).astype(np.float32)))
        self.freq = torch.nn.Parameter(torch.from_numpy((rng.randn(out) * 0.5).astype(np.float32)))

    def forward(self, x, timesteps, y=None):
        h = F.conv2d(x, self.weight, self.bias, padding=1)
        h = h + torch.sin(timesteps.float()[:, None] / 100.0 * self.freq[None])[:, :, None, None]
        if self.learn_sigma:
            mean, var = torch.split(h, self.channels, dim=1)
            h = torch.cat([mean, torch.tanh(var)], dim=1)
        return h


def inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    """x_start in [-1, 1] (with exact +-1 pixels, to reach the decoder's edge bins), noise."""
    rng = np.random.RandomState(seed)
    x = np.clip(rng.randn(*SHAPE) * 0.6, -1, 1).astype(np.float32)
    x[0, 0, 0, :4] = [-1.0, 1.0, -1.0, 1.0]
    noise = rng.randn(*SHAPE).astype(np.float32)
    x_t = rng.randn(*SHAPE).astype(np.float32)
    return {"x_start": torch.from_numpy(x), "noise": torch.from_numpy(noise),
            "x_t": torch.from_numpy(x_t)}


class OurImpl:
    name = "harness"

    def make(self, target="eps", learn_sigma=True, schedule="linear", respacing="",
             weighting="constant", rescale_timesteps=False):
        from harness.diffusion import create_diffusion

        return create_diffusion(steps=T, noise_schedule=schedule, learn_sigma=learn_sigma,
                                target=target, weighting=weighting,
                                timestep_respacing=respacing,
                                rescale_timesteps=rescale_timesteps)

    def space_timesteps(self, n, s):
        from harness.diffusion import space_timesteps

        return space_timesteps(n, s)

    def betas(self, schedule, n):
        from harness.diffusion import get_named_beta_schedule

        return get_named_beta_schedule(schedule, n)


def reference_dirs() -> tuple[Path, Path]:
    """(ADM dir, the authors' fork dir): HARNESS_REFERENCE_DIR and its sibling fork."""
    adm = Path(os.environ.get("HARNESS_REFERENCE_DIR", "/work/ref/openai+guided-diffusion"))
    return adm, adm.parent / "yuhuUSTC+Debias"


def load_reference(root: Path, alias: str) -> types.ModuleType:
    """Import ``root/guided_diffusion`` as package ``alias`` (two copies can coexist)."""
    if not (root / "guided_diffusion" / "gaussian_diffusion.py").is_file():
        raise FileNotFoundError(f"no guided_diffusion package under {root}")
    return import_guided_diffusion(root, alias, ("gaussian_diffusion", "respace"))


def reference_weights(name: str, d, target: str) -> np.ndarray:
    """The weight arrays the fork's commented-out lines would use, from the fork's own
    attributes where it has them; the extras from their papers' formulas (eps form)."""
    s = d.snr
    if name == "constant":
        return np.ones_like(s)
    if name == "p2":
        return 1 / (d.p2_k + s) ** d.p2_gamma
    if name == "min_snr":
        return {"eps": d.noise_MinSNR, "x0": d.x0_MinSNR, "v": d.x0_MinSNR / (s + 1)}[target]
    if name == "debias":
        return 1 / d.sqrt_snr
    if name == "snr":
        return 1 / s
    if name == "soft_min_snr":
        return 5.0 / (5.0 + s)
    if name == "edm":
        return 1 + 1 / (0.25 * s)
    if name == "sigmoid":
        return 1 / (1 + np.exp(np.log(s) + 3.0))
    raise ValueError(name)


class RefImpl:
    """The authors' fork (v target and weightings); ``fork=False``: plain ADM."""

    def __init__(self, root: Path, fork: bool) -> None:
        self.fork = fork
        self.name = "debias-fork" if fork else "guided-diffusion"
        self.pkg = load_reference(root, "_ref_gd_fork" if fork else "_ref_gd_adm")

    def make(self, target="eps", learn_sigma=True, schedule="linear", respacing="",
             weighting="constant", rescale_timesteps=False):
        gd, rs = self.pkg.gaussian_diffusion, self.pkg.respace
        mean_type = {"eps": gd.ModelMeanType.EPSILON, "x0": gd.ModelMeanType.START_X}
        if self.fork:
            mean_type["v"] = gd.ModelMeanType.VELOCITY
        if target not in mean_type or (not self.fork and weighting != "constant"):
            raise NotImplementedError(f"{self.name} has no {target}/{weighting}")
        kwargs = {"p2_gamma": 1, "p2_k": 1} if self.fork else {}
        d = rs.SpacedDiffusion(
            use_timesteps=rs.space_timesteps(T, respacing or [T]),
            betas=gd.get_named_beta_schedule(schedule, T),
            model_mean_type=mean_type[target],
            model_var_type=gd.ModelVarType.LEARNED_RANGE if learn_sigma
            else gd.ModelVarType.FIXED_LARGE,
            loss_type=gd.LossType.RESCALED_MSE,
            rescale_timesteps=rescale_timesteps,
            **kwargs,
        )
        if self.fork:
            # The fork hard-codes `weight = 1 / self.sqrt_snr`; steer it to the wanted array.
            d.sqrt_snr = 1.0 / reference_weights(weighting, d, target)
        return d

    def space_timesteps(self, n, s):
        return self.pkg.respace.space_timesteps(n, s)

    def betas(self, schedule, n):
        return self.pkg.gaussian_diffusion.get_named_beta_schedule(schedule, n)


def _np(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


def _put(out: dict, key: str, tensors: dict) -> None:
    for name, v in tensors.items():
        out[f"{key}__{name}"] = _np(v)


def compute(impl, only_adm: bool = False) -> dict[str, np.ndarray]:
    """Every comparison value of ``impl``; ``only_adm``: the cases plain ADM can run."""
    out: dict[str, np.ndarray] = {}
    data = inputs()
    x0, noise, xt = data["x_start"], data["noise"], data["x_t"]
    for schedule in ("linear", "cosine"):
        for n in (1000, 100):
            out[f"betas__{schedule}__{n}"] = np.asarray(impl.betas(schedule, n))
    for s in RESPACINGS:
        out[f"space__{s}"] = np.array(sorted(impl.space_timesteps(T, s)))
        out[f"map__{s}"] = np.array(impl.make(respacing=s).timestep_map)
    t = torch.tensor(TRAIN_T)
    for schedule in ("linear", "cosine"):
        d = impl.make(schedule=schedule)
        out[f"q_sample__{schedule}"] = _np(d.q_sample(x0, t, noise=noise))
        for k, v in zip(("mean", "var", "logvar"), d.q_posterior_mean_variance(x0, xt, t),
                        strict=True):
            out[f"q_posterior__{schedule}__{k}"] = _np(v)

    # training_losses: eps with every weighting; x0 and v.
    cases = [("eps", w, True, "linear", False) for w in EPS_WEIGHTINGS]
    cases += [(tg, w, True, "linear", False) for tg, w in OTHER_TARGET_CASES]
    cases += [("eps", "constant", False, "linear", False), ("eps", "debias", True, "cosine", False),
              ("eps", "constant", True, "linear", True)]
    for target, weighting, learn_sigma, schedule, rescale in cases:
        if only_adm and (target == "v" or weighting != "constant"):
            continue
        d = impl.make(target=target, learn_sigma=learn_sigma, schedule=schedule,
                      weighting=weighting, rescale_timesteps=rescale)
        model = StandIn(learn_sigma=learn_sigma)
        key = f"train__{target}__{weighting}__{int(learn_sigma)}__{schedule}__{int(rescale)}"
        _put(out, key, d.training_losses(model, x0, t, noise=noise))

    # p_mean_variance, full and respaced.
    for target in ("eps", "x0", "v"):
        if only_adm and target == "v":
            continue
        for respacing, ts in (("", (0, 10, 500, 999)), ("100", (0, 3, 50, 99))):
            for learn_sigma in (True, False):
                d = impl.make(target=target, learn_sigma=learn_sigma, respacing=respacing)
                res = d.p_mean_variance(StandIn(learn_sigma=learn_sigma), xt, torch.tensor(ts),
                                        clip_denoised=target != "eps")
                _put(out, f"pmv__{target}__{respacing or 'full'}__{int(learn_sigma)}", res)

    # Samplers from the same x_T (eta > 0 and ancestral sampling draw from torch's RNG).
    for target in ("eps", "x0", "v"):
        if only_adm and target == "v":
            continue
        for respacing in ("ddim10", "10", "10,10,10"):
            d = impl.make(target=target, respacing=respacing)
            model = StandIn()
            out[f"ddim__{target}__{respacing}"] = _np(
                d.ddim_sample_loop(model, SHAPE, noise=xt, eta=0.0))
        d = impl.make(target=target, respacing="ddim10")
        torch.manual_seed(1)
        out[f"ddim_eta__{target}"] = _np(d.ddim_sample_loop(StandIn(), SHAPE, noise=xt, eta=0.5))
        # x_T from the RNG too: the fork's p_sample_loop ignores its `noise` argument.
        d = impl.make(target=target, respacing="10", learn_sigma=target != "x0")
        torch.manual_seed(2)
        out[f"ddpm__{target}"] = _np(d.p_sample_loop(StandIn(learn_sigma=target != "x0"), SHAPE))
    return out
