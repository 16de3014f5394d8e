import math

import numpy as np
import pytest

from harness.diffusion import get_named_beta_schedule, snr
from harness.diffusion.schedule import alphas_cumprod


def test_linear_schedule_is_ho_et_al_scaled_to_the_step_count():
    b = get_named_beta_schedule("linear", 1000)
    assert b.dtype == np.float64 and b.shape == (1000,)
    assert b[0] == pytest.approx(1e-4) and b[-1] == pytest.approx(0.02)
    assert np.allclose(np.diff(b), (0.02 - 1e-4) / 999)
    b100 = get_named_beta_schedule("linear", 100)
    assert b100[0] == pytest.approx(1e-3) and b100[-1] == pytest.approx(0.2)


def test_cosine_schedule_follows_the_squared_cosine_until_the_cap():
    T = 1000
    b = get_named_beta_schedule("cosine", T)
    assert b.max() <= 0.999
    f = [math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2 for t in range(T + 1)]
    abar = alphas_cumprod(b)
    expected = np.array(f[1:]) / f[0]
    uncapped = np.cumsum(b >= 0.999) == 0  # before the first capped beta
    np.testing.assert_allclose(abar[uncapped], expected[uncapped], rtol=1e-10)


def test_snr_is_abar_over_one_minus_abar():
    abar = np.array([0.9999, 0.5, 1e-4])
    np.testing.assert_allclose(snr(abar), [9999.0, 1.0, 1e-4 / (1 - 1e-4)])


def test_unknown_schedule_lists_the_choices():
    with pytest.raises(ValueError, match="linear, cosine"):
        get_named_beta_schedule("quadratic", 1000)
