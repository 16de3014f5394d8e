import numpy as np
import pytest

from harness.diffusion import WEIGHTINGS, get_named_beta_schedule, weight, weight_curve
from harness.diffusion.schedule import alphas_cumprod, snr


def linear_snr(T=1000):
    # An independent abar: a plain product loop over Ho et al.'s betas.
    betas = [1e-4 + (0.02 - 1e-4) * i / (T - 1) for i in range(T)]
    abar, out = 1.0, []
    for b in betas:
        abar *= 1 - b
        out.append(abar / (1 - abar))
    return np.array(out)


S = linear_snr()


def test_weights_at_known_timesteps_of_the_linear_schedule():
    s0 = (1 - 1e-4) / 1e-4  # t = 0: abar = 1 - beta_0
    assert S[0] == pytest.approx(s0, rel=1e-9)
    assert weight("constant", S)[0] == 1.0
    assert weight("debias", S)[0] == pytest.approx(1 / np.sqrt(s0))
    assert weight("p2", S)[0] == pytest.approx(1 / (1 + s0))
    assert weight("snr", S)[0] == pytest.approx(1 / s0)
    assert weight("min_snr", S)[0] == pytest.approx(5 / s0)
    assert weight("min_snr", S)[999] == 1.0  # SNR(T) ~ 4e-5 < gamma
    assert S[999] == pytest.approx(4.04e-5, rel=1e-2)
    assert weight("debias", S)[999] == pytest.approx(1 / np.sqrt(S[999]))
    assert weight("p2", S, p2_gamma=0.5, p2_k=1.0)[500] == pytest.approx((1 + S[500]) ** -0.5)


@pytest.mark.parametrize("schedule", ["linear", "cosine"])
def test_debias_weight_is_inverse_sqrt_snr(schedule):
    s = snr(alphas_cumprod(get_named_beta_schedule(schedule, 1000)))
    np.testing.assert_allclose(weight("debias", s), 1 / np.sqrt(s), rtol=1e-14)


def test_min_snr_has_the_min_snr_authors_forms_per_target():
    g = 5.0
    np.testing.assert_allclose(weight("min_snr", S, "eps"), np.minimum(S, g) / S)
    np.testing.assert_allclose(weight("min_snr", S, "x0"), np.minimum(S, g))
    np.testing.assert_allclose(weight("min_snr", S, "v"), np.minimum(S, g) / (S + 1))


def test_extras_formulas_for_eps():
    np.testing.assert_allclose(weight("soft_min_snr", S), 5 / (5 + S))
    np.testing.assert_allclose(weight("edm", S, sigma_data=0.5), 1 + 1 / (0.25 * S))
    sigmoid = 1 / (1 + np.exp(np.log(S) + 3))
    np.testing.assert_allclose(weight("sigmoid", S, sigmoid_bias=-3), sigmoid)
    assert weight("sigmoid", np.array([np.exp(-2.0)]), sigmoid_bias=-2.0)[0] == pytest.approx(0.5)


def test_edm_weight_is_edm_lambda_on_the_x0_error():
    sd = 0.5
    sigma = 1 / np.sqrt(S)  # VE noise level of x_t / sqrt(abar)
    lam = (sigma**2 + sd**2) / (sigma * sd) ** 2
    np.testing.assert_allclose(weight("edm", S, "x0", sigma_data=sd), lam, rtol=1e-12)


def test_soft_min_snr_is_a_soft_minimum():
    w = weight("soft_min_snr", S, "x0")
    assert np.all(w <= np.minimum(S, 5.0) + 1e-12)
    assert w[0] == pytest.approx(5.0, rel=1e-3) and w[999] == pytest.approx(S[999], rel=1e-3)


@pytest.mark.parametrize("name", sorted(WEIGHTINGS))
def test_targets_give_the_same_objective(name):
    """||eps err||^2 = SNR ||x0 err||^2 and ||v err||^2 = (SNR+1) ||x0 err||^2."""
    if name == "constant":
        for target in ("eps", "x0", "v"):
            assert np.all(weight(name, S, target) == 1.0)
        return
    w_x0 = weight(name, S, "x0")
    np.testing.assert_allclose(weight(name, S, "eps") * S, w_x0, rtol=1e-12)
    np.testing.assert_allclose(weight(name, S, "v") * (S + 1), w_x0, rtol=1e-12)


def test_bad_names_and_parameters():
    with pytest.raises(ValueError, match="constant, p2, min_snr, debias, snr"):
        weight("uniform", S)
    with pytest.raises(ValueError, match="eps, x0, v"):
        weight("debias", S, target="score")
    with pytest.raises(ValueError, match="p2_gama"):
        weight("p2", S, p2_gama=1.0)
    with pytest.raises(ValueError, match="snr must be"):
        weight("debias", np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="> 0"):
        weight("min_snr", S, min_snr_gamma=0)


def test_weight_curve_for_figures():
    t, w = weight_curve("debias", 1000, "cosine")
    assert t.tolist() == list(range(1000)) and w.shape == (1000,)
    assert np.all(np.diff(w) > 0)  # more weight on noisier steps
    t, w = weight_curve("p2", 100, p2_gamma=0.5)
    assert w.shape == (100,)


def test_registry_entries_say_what_they_are():
    for name, spec in WEIGHTINGS.items():
        assert spec.name == name and spec.space in ("eps", "x0", "any")
        assert spec.fn.__doc__ and spec.source and spec.formula
