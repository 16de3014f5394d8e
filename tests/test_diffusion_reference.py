"""harness.diffusion against guided-diffusion and the authors' fork, float32 on CPU.

Golden values (tests/golden/diffusion_reference.npz, from make_golden_diffusion.py) are
checked always; the live comparisons run where the reference code is present.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "golden"))
import diffusion_cases as cases  # noqa: E402

GOLDEN = Path(__file__).parent / "golden" / "diffusion_reference.npz"

# Tolerances from the float32 noise floor. u = 2**-24 (unit roundoff): one rounding changes a
# value v by at most u * |v|. Both sides are float32 computations (ours, and the reference code
# that made the golden file on another CPU, whose vector units round and sum in another order),
# so they may differ by twice the rounding error of one.
U = 2.0**-24
# One evaluation (schedules, q_sample, posteriors, p_mean_variance, losses): per element a chain
# of at most ~30 roundings (the stand-in's 27-term 3x3x3 convolution dominates), i.e. at most
# 2 * 30 * u = 3.6e-6 relative; ATOL is for entries near zero, sums of O(1) terms with a few
# roundings each (2 * 8 * u = 1e-6). Largest difference found: 1.2e-7 relative.
RTOL, ATOL = 1e-5, 1e-6
# A sampler trajectory repeats one step S times. A step (ADM's DDIM/ancestral update:
# x0_hat = clip(c1 x_t - c2 eps_hat), eps' = (c1 x_t - x0_hat) / c2, then
# x_{t-1} = sqrt(abar_{t-1}) x0_hat + sqrt(1 - abar_{t-1}) eps' [+ sigma z]) makes about 6
# roundings on terms no larger than M = 4 (x_T, the stand-in's output and z are N(0, 1)-sized:
# below 4 for these few thousand draws). An error already in x_t reaches x_{t-1} with gain
# <= 1: its coefficient is sqrt((1 - abar_{t-1}) / (1 - abar_t)) <= 1 where x0_hat is clipped
# and sqrt(abar_{t-1} / abar_t) -> 1 near t = 0 where it is not. So after S steps the error is
# at most S * 6 * M * u per implementation, and two implementations differ by at most
# S * TRAJECTORY_ATOL_PER_STEP (8.6e-5 for 30 steps). Measured: the float32 result of the
# 30-step DDIM case differs from the same code in float64 by 9.3e-6, ours from the golden
# file by 6.4e-6 (an absolute miss of 2.3e-6 beyond RTOL on an entry of 3.7e-3).
TRAJECTORY_ATOL_PER_STEP = 2 * 6 * 4 * U
# The respacing of each trajectory key (as in diffusion_cases.compute).
TRAJECTORY_RESPACING = {"ddim_eta": "ddim10", "ddpm": "10"}


def tolerance(key: str) -> tuple[float, float]:
    """(rtol, atol) for one golden key: a trajectory's atol grows with its number of steps."""
    kind, *rest = key.split("__")
    if kind == "ddim":
        respacing = rest[-1]
    elif kind in TRAJECTORY_RESPACING:
        respacing = TRAJECTORY_RESPACING[kind]
    else:
        return RTOL, ATOL
    from harness.diffusion import space_timesteps

    steps = len(space_timesteps(cases.T, respacing))
    return RTOL, max(ATOL, steps * TRAJECTORY_ATOL_PER_STEP)


@pytest.fixture(scope="module")
def ours() -> dict[str, np.ndarray]:
    return cases.compute(cases.OurImpl())


def assert_same(ours: dict, ref: dict) -> None:
    missing = sorted(set(ref) - set(ours))
    assert not missing, f"not computed by the harness: {missing}"
    for key, expected in ref.items():
        rtol, atol = tolerance(key)
        np.testing.assert_allclose(ours[key], expected, rtol=rtol, atol=atol, err_msg=key)


def test_trajectory_tolerances_follow_the_number_of_steps():
    assert tolerance("ddim__eps__10,10,10")[1] == pytest.approx(30 * 48 * U)
    assert tolerance("ddim__v__ddim10")[1] == tolerance("ddpm__eps")[1] == pytest.approx(
        10 * 48 * U)
    assert tolerance("pmv__eps__full__1__mean") == (RTOL, ATOL)


def test_golden_values_cover_the_acceptance_cases():
    golden = np.load(GOLDEN)
    keys = set(golden.files)
    for s in cases.RESPACINGS:
        assert f"space__{s}" in keys and f"map__{s}" in keys
    for w in cases.EPS_WEIGHTINGS:
        assert f"train__eps__{w}__1__linear__0__loss" in keys
    for target in ("x0", "v"):
        assert f"train__{target}__constant__1__linear__0__mse" in keys
        assert f"ddim__{target}__ddim10" in keys
    assert {"pmv__v__100__1__mean", "q_sample__cosine", "betas__cosine__1000"} <= keys


def test_matches_golden_reference_values(ours):
    golden = np.load(GOLDEN)
    assert_same(ours, {k: golden[k] for k in golden.files if k != "__meta__"})


def _reference(fork: bool) -> cases.RefImpl:
    adm, fork_dir = cases.reference_dirs()
    root = fork_dir if fork else adm
    if not (root / "guided_diffusion" / "gaussian_diffusion.py").is_file():
        pytest.skip(f"reference code not found at {root} (set HARNESS_REFERENCE_DIR)")
    return cases.RefImpl(root, fork=fork)


@pytest.mark.reference
@pytest.mark.slow
def test_matches_live_guided_diffusion(ours):
    assert_same(ours, cases.compute(_reference(fork=False), only_adm=True))


@pytest.mark.reference
@pytest.mark.slow
def test_matches_live_authors_fork(ours):
    assert_same(ours, cases.compute(_reference(fork=True)))
