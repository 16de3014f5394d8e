"""Per-timestep error of a trained denoiser (Fig. 4, Fig. 10) and one-step x̂0 estimates (Fig. 3).

Every network output is converted to an ε estimate before the MSE against the true noise, so
that x0- and v-prediction models are compared on the paper's quantity:
    eps target: ε̂ = output
    x0 target:  ε̂ = (x_t − √ᾱ_t·x̂0) / √(1−ᾱ_t)
    v target:   ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t        (v = √ᾱ·ε − √(1−ᾱ)·x0)
and the one-step estimate is x̂0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t (Eq. 6), computed directly from the
output for x0 (x̂0 = output) and v (x̂0 = √ᾱ_t·x_t − √(1−ᾱ_t)·v̂) to avoid dividing by √ᾱ_t ≈ 0.
"Initial" is the MSE between the network's input x_t and the noise ε (a network that returns its
input). With learned variance the first half of the output channels is the mean prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

FIG3_TIMESTEPS = (999, 950, 900, 750, 500, 250, 50)
TARGETS = ("eps", "x0", "v")

Model = Callable[..., torch.Tensor]


def analysed_timesteps(num_timesteps: int, stride: int) -> np.ndarray:
    """t = T-1, T-1-stride, ... >= 0, ascending (always includes the noisiest step)."""
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    return np.arange(num_timesteps - 1, -1, -stride)[::-1].copy()


def step_noise(shape: Sequence[int], seed: int, t: int) -> torch.Tensor:
    """The noise used at timestep t: its own generator, so results do not depend on stride."""
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(t))
    return torch.randn(tuple(shape), generator=gen)


def eps_and_x0(output: torch.Tensor, x_t: torch.Tensor, abar: float,
               target: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(ε̂, x̂0) from a network output for the given prediction target (see module doc)."""
    channels = x_t.shape[1]
    out = output[:, :channels] if output.shape[1] == 2 * channels else output
    a, s = float(np.sqrt(abar)), float(np.sqrt(1.0 - abar))
    if target == "eps":
        return out, (x_t - s * out) / a
    if target == "x0":
        return (x_t - a * out) / s, out
    if target == "v":
        return a * out + s * x_t, a * x_t - s * out
    raise ValueError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")


def _model_t(t: int, n: int, num_timesteps: int, rescale: bool, device) -> torch.Tensor:
    value = t * (1000.0 / num_timesteps) if rescale else t
    return torch.full((n,), value, dtype=torch.float32 if rescale else torch.long, device=device)


@torch.no_grad()
def timestep_mse(model: Model, x0: torch.Tensor, alphas_cumprod: np.ndarray, target: str,
                 timesteps: Sequence[int], seed: int = 0, model_kwargs: dict | None = None,
                 batch_size: int = 64, rescale_timesteps: bool = False,
                 progress: bool = False) -> dict[str, list]:
    """MSE(ε̂, ε) and MSE(x_t, ε) per timestep over the images ``x0`` (N,C,H,W in [-1, 1]), and
    per image (`mse_images`, `initial_images`: one row of N per timestep, 7 significant digits),
    the unit the report's intervals resample."""
    device = x0.device
    model_kwargs = model_kwargs or {}
    num_timesteps = len(alphas_cumprod)
    per_image = x0[0].numel()
    mse, initial, mse_images, initial_images = [], [], [], []
    for t in tqdm(timesteps, desc="mse", unit="t", disable=not progress):
        abar = float(alphas_cumprod[int(t)])
        noise = step_noise(x0.shape, seed, int(t)).to(device)
        err, init = [], []
        for i in range(0, len(x0), batch_size):
            xb, nb = x0[i:i + batch_size], noise[i:i + batch_size]
            x_t = np.sqrt(abar) * xb + np.sqrt(1.0 - abar) * nb
            kw = {k: v[i:i + batch_size] for k, v in model_kwargs.items()}
            out = model(x_t, _model_t(int(t), len(xb), num_timesteps, rescale_timesteps,
                                      device), **kw)
            eps_hat, _ = eps_and_x0(out.float(), x_t, abar, target)
            err.append(((eps_hat - nb) ** 2).flatten(1).sum(1).double().cpu())
            init.append(((x_t - nb) ** 2).flatten(1).sum(1).double().cpu())
        err_t, init_t = torch.cat(err), torch.cat(init)
        mse.append(float(err_t.sum()) / x0.numel())
        initial.append(float(init_t.sum()) / x0.numel())
        mse_images.append([float(f"{v:.7g}") for v in (err_t / per_image).tolist()])
        initial_images.append([float(f"{v:.7g}") for v in (init_t / per_image).tolist()])
    return {"t": [int(t) for t in timesteps], "mse": mse, "initial": initial,
            "mse_images": mse_images, "initial_images": initial_images}


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] CHW/NCHW tensor -> uint8 HWC/NHWC array (clipped)."""
    arr = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu().numpy()
    return np.moveaxis(arr, -3, -1)


@torch.no_grad()
def one_step_x0(model: Model, x0: torch.Tensor, alphas_cumprod: np.ndarray, target: str,
                timesteps: Sequence[int] = FIG3_TIMESTEPS, seed: int = 0,
                model_kwargs: dict | None = None,
                rescale_timesteps: bool = False) -> dict[str, np.ndarray]:
    """Fig. 3: x_t from one real image ``x0`` (1,C,H,W) and x̂0 from one network call per t."""
    xt_list, hat_list = [], []
    for t in timesteps:
        abar = float(alphas_cumprod[int(t)])
        noise = step_noise(x0.shape, seed, int(t)).to(x0.device)
        x_t = np.sqrt(abar) * x0 + np.sqrt(1.0 - abar) * noise
        out = model(x_t, _model_t(int(t), 1, len(alphas_cumprod), rescale_timesteps, x0.device),
                    **(model_kwargs or {}))
        _, x0_hat = eps_and_x0(out.float(), x_t, abar, target)
        xt_list.append(to_uint8(x_t[0]))
        hat_list.append(to_uint8(x0_hat[0]))
    return {"x0": to_uint8(x0[0]), "xt": np.stack(xt_list), "x0_hat": np.stack(hat_list),
            "t": np.asarray(timesteps, dtype=np.int64)}
