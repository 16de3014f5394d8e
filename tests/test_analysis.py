"""harness.analysis: the MSE/x̂0 math against oracle denoisers, and `harness analyze` end to end."""

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from harness.analysis import analysed_timesteps, eps_and_x0, one_step_x0, timestep_mse
from harness.diffusion.schedule import alphas_cumprod, get_named_beta_schedule

ABAR = alphas_cumprod(get_named_beta_schedule("linear", 1000))


def _images(n=3, size=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand((n, 3, size, size), generator=gen) * 2 - 1


class Oracle(torch.nn.Module):
    """Knows the clean images, so it returns the exact target (eps, x0 or v) for any x_t."""

    def __init__(self, x0, target, learn_sigma=False):
        super().__init__()
        self.x0, self.target, self.learn_sigma = x0, target, learn_sigma

    def forward(self, x_t, t):
        a = torch.tensor(np.sqrt(ABAR[t.long().numpy()]), dtype=torch.float32).view(-1, 1, 1, 1)
        s = torch.sqrt(1 - a**2)
        x0 = self.x0[: len(x_t)]
        eps = (x_t - a * x0) / s
        out = {"eps": eps, "x0": x0, "v": a * eps - s * x0}[self.target]
        return torch.cat([out, torch.zeros_like(out)], 1) if self.learn_sigma else out


def test_timesteps_include_the_noisiest():
    assert analysed_timesteps(1000, 10)[-1] == 999
    assert analysed_timesteps(1000, 10)[0] == 9
    assert len(analysed_timesteps(1000, 1)) == 1000
    with pytest.raises(ValueError, match="stride"):
        analysed_timesteps(1000, 0)


@pytest.mark.parametrize("target", ["eps", "x0", "v"])
def test_oracle_has_zero_error_for_every_target(target):
    x0 = _images()
    ts = [0, 500, 950, 999]
    res = timestep_mse(Oracle(x0, target, learn_sigma=True), x0, ABAR, target, ts, seed=3)
    assert res["t"] == ts
    assert max(res["mse"]) < 1e-6 * max(res["initial"]) + 1e-8
    strip = one_step_x0(Oracle(x0[:1], target), x0[:1], ABAR, target, (999, 50), seed=3)
    ref = np.moveaxis(((x0[0].clamp(-1, 1) + 1) * 127.5).round().numpy(), 0, -1)
    assert np.abs(strip["x0_hat"].astype(int) - ref[None]).max() <= 1
    assert strip["xt"].shape == (2, 8, 8, 3) and strip["x0"].dtype == np.uint8


def test_do_nothing_model_scores_initial_and_initial_is_analytic():
    x0 = _images(n=4, size=16)
    res = timestep_mse(lambda x, t: x.clone(), x0, ABAR, "eps", [10, 600, 999], seed=1)
    np.testing.assert_allclose(res["mse"], res["initial"], rtol=1e-6)
    # E|x_t - eps|^2 = abar*E[x0^2] + (sqrt(1-abar) - 1)^2 : near 0 at t = 999, large at t = 10
    expected = ABAR[999] * float((x0**2).mean()) + (np.sqrt(1 - ABAR[999]) - 1) ** 2
    assert res["initial"][2] == pytest.approx(expected, rel=0.2)
    assert res["initial"][0] > 100 * res["initial"][2]


def test_results_do_not_depend_on_batch_size_or_stride():
    x0 = _images(n=5)

    def noisy(x, t):
        return 0.5 * x + 1e-3 * t.view(-1, 1, 1, 1)

    a = timestep_mse(noisy, x0, ABAR, "eps", [99, 999], seed=2, batch_size=2)
    b = timestep_mse(noisy, x0, ABAR, "eps", [999], seed=2, batch_size=5)
    assert a["mse"][1] == pytest.approx(b["mse"][0], rel=1e-6)


def test_eps_and_x0_conversions_agree():
    x0, eps = _images(seed=1), _images(seed=2)
    abar = float(ABAR[700])
    a, s = np.sqrt(abar), np.sqrt(1 - abar)
    x_t = a * x0 + s * eps
    for target, out in (("eps", eps), ("x0", x0), ("v", a * eps - s * x0)):
        e, x = eps_and_x0(out, x_t, abar, target)
        torch.testing.assert_close(e, eps, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(x, x0, atol=1e-4, rtol=1e-4)
    with pytest.raises(ValueError, match="eps, x0, v"):
        eps_and_x0(eps, x_t, abar, "score")


@pytest.mark.slow
def test_analyze_cli_end_to_end(tmp_path):
    from harness.checkpoint import save_checkpoint
    from harness.cli import main
    from harness.models import create_model

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(
            data / f"{i:03d}.png")
    model_cfg = dict(image_size=16, num_channels=32, num_res_blocks=1, channel_mult="1,2",
                     attention_resolutions="8", learn_sigma=True)
    diff_cfg = dict(steps=1000, noise_schedule="linear", learn_sigma=True, target="v",
                    weighting="debias")
    torch.manual_seed(0)
    ckpt = tmp_path / "ema_0.9999_000010.pt"
    save_checkpoint(ckpt, create_model(**model_cfg).state_dict(), model_cfg, diff_cfg, step=10)
    out_mse, out_x0 = tmp_path / "a" / "mse.json", tmp_path / "a" / "x0.npz"
    args = ["analyze", "--checkpoint", str(ckpt), "--data", str(data), "--out-mse", str(out_mse),
            "--out-x0", str(out_x0), "--num-images", "4", "--stride", "250", "--seed", "0",
            "--device", "cpu"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rec = json.loads(out_mse.read_text())
    assert rec["t"] == [249, 499, 749, 999] and rec["target"] == "v"
    assert rec["weighting"] == "debias" and rec["iteration"] == 10 and rec["num_images"] == 4
    assert all(np.isfinite(rec["mse"])) and rec["initial"][-1] < rec["initial"][0]
    strip = np.load(out_x0)
    assert strip["x0_hat"].shape == (7, 16, 16, 3) and list(strip["t"]) == [999, 950, 900, 750,
                                                                            500, 250, 50]
