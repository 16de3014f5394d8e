import numpy as np
import pytest
import torch

from harness.diffusion import create_diffusion, get_named_beta_schedule, space_timesteps
from harness.diffusion.schedule import alphas_cumprod

RESPACINGS = ["1000", "500", "250", "100", "50", "20", "10", "2", "10,10,10",
              "ddim10", "ddim25", "ddim50"]


def test_known_spacings():
    assert sorted(space_timesteps(1000, "10")) == [round(111 * i) for i in range(10)]
    assert sorted(space_timesteps(1000, "ddim10")) == list(range(0, 1000, 100))
    assert sorted(space_timesteps(1000, "2")) == [0, 999]
    assert len(space_timesteps(1000, "ddim25")) == 25
    three = sorted(space_timesteps(1000, "10,10,10"))  # sections of 334, 333, 333 steps
    assert len(three) == 30 and three[:2] == [0, 37] and three[9] == 333 and three[10] == 334
    assert space_timesteps(1000, [5, 5]) == space_timesteps(1000, "5,5")
    assert space_timesteps(1000, "1000") == set(range(1000))


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
@pytest.mark.parametrize("respacing", RESPACINGS)
def test_respaced_betas_reproduce_abar_at_kept_steps(schedule, respacing):
    base = alphas_cumprod(get_named_beta_schedule(schedule, 1000))
    d = create_diffusion(noise_schedule=schedule, timestep_respacing=respacing)
    assert d.timestep_map == sorted(space_timesteps(1000, respacing))
    assert d.num_timesteps == len(d.timestep_map) and d.original_num_steps == 1000
    # Up to float64 rounding: the ratios telescope back to abar (atol for cosine's last step,
    # abar ~ 2e-9, where 1 - (1 - beta) cancels).
    np.testing.assert_allclose(d.alphas_cumprod, base[d.timestep_map], rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(d.snr, base[d.timestep_map] / (1 - base[d.timestep_map]),
                               rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("bad, message", [
    ("2000", "cannot take 2000 steps from a section of 1000"),
    ("600,600", "cannot take 600 steps from a section of 500"),
    ("ddim2000", "cannot take exactly 2000 of 1000 steps"),
    ("ddimx", "expected 'ddimN'"),
    ("ten", "expected 'N', 'N1,N2,...' or 'ddimN'"),
    ("0", "count >= 1"),
])
def test_unmeetable_respacing_is_a_clear_error(bad, message):
    with pytest.raises(ValueError, match=message):
        space_timesteps(1000, bad)


class Recorder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x, t, y=None):
        self.seen.append(t.clone())
        return torch.zeros(x.shape[0], 2 * x.shape[1], *x.shape[2:])


@pytest.mark.parametrize("rescale", [False, True])
def test_network_sees_base_timesteps(rescale):
    d = create_diffusion(timestep_respacing="ddim10", rescale_timesteps=rescale)
    model = Recorder()
    d.p_mean_variance(model, torch.zeros(2, 3, 4, 4), torch.tensor([0, 9]))
    seen = model.seen[-1]
    assert seen.tolist() == [0, 900] if not rescale else seen.tolist() == [0.0, 900.0]
    assert seen.dtype == (torch.float32 if rescale else torch.int64)
    d = create_diffusion(steps=100, timestep_respacing="10", rescale_timesteps=rescale)
    d.training_losses(model, torch.zeros(2, 3, 4, 4), torch.tensor([1, 9]))
    expected = [11.0 * 10, 99.0 * 10] if rescale else [11, 99]
    assert model.seen[-1].tolist() == expected


def test_bad_use_timesteps():
    from harness.diffusion import SpacedDiffusion
    from harness.diffusion.gaussian_diffusion import LossType, ModelMeanType, ModelVarType

    with pytest.raises(ValueError, match="subset of 0..9"):
        SpacedDiffusion(use_timesteps=[3, 10], betas=get_named_beta_schedule("linear", 10),
                        model_mean_type=ModelMeanType.EPSILON,
                        model_var_type=ModelVarType.FIXED_LARGE, loss_type=LossType.MSE)
