"""Analytic properties of harness.diffusion.GaussianDiffusion (no reference code needed)."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.diffusion import create_diffusion
from harness.diffusion.gaussian_diffusion import (
    GaussianDiffusion,
    LossType,
    ModelMeanType,
    ModelVarType,
)

sys.path.insert(0, str(Path(__file__).parent / "golden"))
from diffusion_cases import StandIn  # noqa: E402

torch.manual_seed(0)
X0 = torch.rand(3, 3, 8, 8) * 2 - 1
EPS = torch.randn(3, 3, 8, 8)


def constant_output(out):
    return lambda x, t, **kw: out


def test_pred_xstart_is_x0_plus_amplified_eps_error():
    """The paper's Eq. 6: x0_hat = x0 + (eps - eps_theta) / sqrt(SNR(t))."""
    d = create_diffusion(learn_sigma=False)
    t = torch.tensor([0, 500, 999])
    x_t = d.q_sample(X0, t, noise=EPS)
    eps_theta = EPS + 0.01 * torch.randn_like(EPS)
    out = d.p_mean_variance(constant_output(eps_theta), x_t, t, clip_denoised=False)
    amp = torch.from_numpy(1 / np.sqrt(d.snr[t.numpy()])).float().view(-1, 1, 1, 1)
    expected = X0 + (EPS - eps_theta) * amp
    torch.testing.assert_close(out["pred_xstart"], expected, rtol=1e-4, atol=2e-5 * amp.max())


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_posterior_variance_is_the_gaussian_posterior(schedule):
    d = create_diffusion(noise_schedule=schedule)
    abar, abar_prev, beta = d.alphas_cumprod, d.alphas_cumprod_prev, d.betas
    # 1 / var = 1 / var(x_{t-1} | x0) + alpha_t / beta_t, for t >= 1 (0 at t = 0).
    precision = 1 / (1 - abar_prev[1:]) + (1 - beta[1:]) / beta[1:]
    np.testing.assert_allclose(d.posterior_variance[1:], 1 / precision, rtol=1e-9)
    assert d.posterior_variance[0] == 0
    np.testing.assert_allclose(d.posterior_variance, beta * (1 - abar_prev) / (1 - abar))
    assert d.posterior_log_variance_clipped[0] == d.posterior_log_variance_clipped[1]


@pytest.mark.parametrize("target", ["eps", "x0", "v"])
def test_oracle_model_has_zero_mse_and_recovers_x0(target):
    d = create_diffusion(target=target, learn_sigma=False)
    t = torch.tensor([3, 400, 998])
    x_t = d.q_sample(X0, t, noise=EPS)
    truth = d.training_target(X0, x_t, t, EPS)
    if target == "v":
        a = torch.from_numpy(d.sqrt_alphas_cumprod[t.numpy()]).float().view(-1, 1, 1, 1)
        s = torch.from_numpy(d.sqrt_one_minus_alphas_cumprod[t.numpy()]).float().view(-1, 1, 1, 1)
        torch.testing.assert_close(truth, a * EPS - s * X0)
    losses = d.training_losses(constant_output(truth), X0, t, noise=EPS)
    assert torch.all(losses["mse"] == 0) and set(losses) == {"mse", "loss"}
    out = d.p_mean_variance(constant_output(truth), x_t, t, clip_denoised=False)
    torch.testing.assert_close(out["pred_xstart"], X0, rtol=1e-3, atol=2e-3)


def test_weight_multiplies_the_mse_term_only():
    t = torch.tensor([0, 250, 999])
    model = StandIn()
    plain = create_diffusion().training_losses(model, X0, t, noise=EPS)
    debiased = create_diffusion(weighting="debias")
    weighted = debiased.training_losses(model, X0, t, noise=EPS)
    torch.testing.assert_close(weighted["vb"], plain["vb"])
    w = torch.from_numpy(1 / np.sqrt(debiased.snr[t.numpy()])).float()
    torch.testing.assert_close(weighted["mse"], plain["mse"] * w)
    torch.testing.assert_close(weighted["loss"], weighted["mse"] + weighted["vb"])
    assert len(debiased._tensors) == 1  # coefficient tables moved to the device once


def test_rescaled_mse_scales_vb_by_steps_over_1000():
    t = torch.tensor([0, 5, 9])
    model = StandIn()
    kw = {"steps": 1000, "timestep_respacing": "10"}
    plain = create_diffusion(rescale_learned_sigmas=False, **kw)
    mse = plain.training_losses(model, X0, t, noise=EPS)
    rescaled = create_diffusion(**kw).training_losses(model, X0, t, noise=EPS)
    torch.testing.assert_close(rescaled["vb"], mse["vb"] * 10 / 1000)
    torch.testing.assert_close(rescaled["mse"], mse["mse"])


def test_vb_term_trains_the_variance_only():
    model = StandIn()
    d = create_diffusion()
    x_t = d.q_sample(X0, torch.tensor([10, 20, 30]), noise=EPS)
    x_t.requires_grad_(True)
    out = model(x_t, torch.tensor([10, 20, 30]))
    mean, var = torch.split(out, 3, dim=1)
    frozen = torch.cat([mean.detach(), var], dim=1)
    vb = d._vb_terms_from_output(frozen, X0, x_t, torch.tensor([10, 20, 30]), False)["output"]
    (g,) = torch.autograd.grad(vb.sum(), out)
    assert torch.all(g[:, :3] == 0) and torch.any(g[:, 3:] != 0)


def test_kl_losses():
    t = torch.tensor([0, 5, 49])
    model = StandIn()
    kl = create_diffusion(steps=50, use_kl=True).training_losses(model, X0, t, noise=EPS)
    assert set(kl) == {"loss"} and torch.all(torch.isfinite(kl["loss"]))
    d = GaussianDiffusion(betas=create_diffusion(steps=50).betas,
                          model_mean_type=ModelMeanType.EPSILON,
                          model_var_type=ModelVarType.LEARNED_RANGE, loss_type=LossType.KL)
    torch.testing.assert_close(kl["loss"], d.training_losses(model, X0, t, noise=EPS)["loss"] * 50)


def per_sample_noise(seeds):
    gens = [torch.Generator().manual_seed(s) for s in seeds]

    def step_noise(t, shape):
        return torch.stack([torch.randn(shape[1:], generator=g) for g in gens])

    return step_noise


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_per_sample_seeding_makes_samples_independent_of_the_batch(sampler):
    d = create_diffusion(timestep_respacing="5")
    model = StandIn()
    x_T = torch.randn(3, 3, 8, 8)

    def run(idx):
        kw = {"noise": x_T[idx], "step_noise": per_sample_noise([10 + i for i in idx])}
        if sampler == "ddim":
            return d.ddim_sample_loop(model, tuple(x_T[idx].shape), eta=1.0, **kw)
        return d.p_sample_loop(model, tuple(x_T[idx].shape), **kw)

    batch = run([0, 1, 2])
    torch.testing.assert_close(run([1]), batch[1:2], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(run([2, 0]), batch[[2, 0]], rtol=1e-5, atol=1e-6)


def test_ddim_eta0_is_deterministic_and_progressive_yields_every_step():
    d = create_diffusion(timestep_respacing="ddim5", target="v")
    model = StandIn()
    x_T = torch.randn(2, 3, 8, 8)
    torch.manual_seed(1)
    a = d.ddim_sample_loop(model, (2, 3, 8, 8), noise=x_T, progress=True)
    torch.manual_seed(2)
    b = d.ddim_sample_loop(model, (2, 3, 8, 8), noise=x_T)
    torch.testing.assert_close(a, b)
    steps = list(d.ddim_sample_loop_progressive(model, (2, 3, 8, 8), noise=x_T))
    assert len(steps) == 5 and torch.equal(steps[-1]["sample"], a)
    assert set(steps[0]) == {"sample", "pred_xstart"}


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="eps, x0, v"):
        create_diffusion(target="score")
    with pytest.raises(ValueError, match="constant, p2, min_snr, debias, snr"):
        create_diffusion(weighting="p3")
    with pytest.raises(ValueError, match="linear, cosine"):
        create_diffusion(noise_schedule="sqrt")
    d = create_diffusion()
    with pytest.raises(ValueError, match="must output 6 channels"):
        d.p_mean_variance(constant_output(EPS), X0, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="does not match the target"):
        create_diffusion(learn_sigma=False).training_losses(
            constant_output(EPS[:, :2]), X0, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="needs an eps, x0 or v target"):
        GaussianDiffusion(betas=d.betas, model_mean_type=ModelMeanType.PREVIOUS_X,
                          model_var_type=ModelVarType.FIXED_SMALL, loss_type=LossType.MSE,
                          weighting="debias")


def test_config_records_the_settings():
    cfg = create_diffusion(target="x0", weighting="p2", p2_gamma=0.5).config()
    assert cfg["model_mean_type"] == "START_X" and cfg["weighting"] == "p2"
    assert cfg["weighting_params"]["p2_gamma"] == 0.5 and cfg["num_timesteps"] == 1000


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    d = create_diffusion(weighting="debias", timestep_respacing="ddim10")
    model = StandIn()
    t = torch.tensor([0, 4, 9])
    cpu = d.training_losses(model, X0, t, noise=EPS)
    gpu = d.training_losses(model.cuda(), X0.cuda(), t.cuda(), noise=EPS.cuda())
    for k in cpu:
        torch.testing.assert_close(gpu[k].cpu(), cpu[k], rtol=1e-4, atol=1e-5)
    x_gpu = d.ddim_sample_loop(model, tuple(X0.shape), noise=EPS.cuda())
    x_cpu = d.ddim_sample_loop(model.cpu(), tuple(X0.shape), noise=EPS)
    torch.testing.assert_close(x_gpu.cpu(), x_cpu, rtol=1e-4, atol=1e-4)
    assert len(d._tensors) == 2  # one table set per device
