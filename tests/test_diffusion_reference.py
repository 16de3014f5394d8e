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
RTOL, ATOL = 1e-5, 1e-6  # atol only for entries near zero; values are O(1)


@pytest.fixture(scope="module")
def ours() -> dict[str, np.ndarray]:
    return cases.compute(cases.OurImpl())


def assert_same(ours: dict, ref: dict) -> None:
    missing = sorted(set(ref) - set(ours))
    assert not missing, f"not computed by the harness: {missing}"
    for key, expected in ref.items():
        np.testing.assert_allclose(ours[key], expected, rtol=RTOL, atol=ATOL, err_msg=key)


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
