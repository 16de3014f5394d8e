"""The weighting footprint (the harness's own mechanism check): MSE curves that follow the
relative weight read supported; an inverted weight, or curves moved against it, contradicted."""

import numpy as np
import pytest

from harness.diffusion.user_weighting import describe, from_config
from harness.diffusion.weighting import get_weighting
from harness.report.footprint import judge_weighting_footprint
from harness.report.relative_weight import relative_weights
from harness.report.views import View, paper_view
from harness.stats import CONTRADICTED, NOT_RUN, SUPPORTED

T = np.arange(999, -1, -24)[::-1]  # the quick preset's analysed timesteps (stride 24)


def _block(*entries: dict) -> dict:
    return {"steps": 1000, "noise_schedule": "linear", "entries": list(entries)}


BUILTINS = _block(*(describe(get_weighting(w)) for w in ("constant", "p2", "min_snr")))


def _curves(rho: dict[str, np.ndarray], strength: float, seeds: int = 3,
            images: int = 8) -> dict:
    """MSE per weighting and seed: a shared base curve times ρ(t)^-strength (strength > 0: the
    error falls where the weight rises), a per-seed shift, and per-image spread."""
    base = 0.02 + 0.3 * (1 - T / 999) ** 4
    rng = np.random.default_rng(11)
    spread = 1 + 0.2 * rng.standard_normal((len(T), images))
    spread /= spread.mean(1, keepdims=True)
    out = {}
    for w, r in rho.items():
        for seed in range(seeds):
            shift = 1 + 0.01 * rng.standard_normal()
            mse = base * r[T] ** -strength * shift
            out.setdefault(w, {})[seed] = {
                "t": T.tolist(), "mse": mse.tolist(), "initial": (base * 2).tolist(),
                "mse_images": (mse[:, None] * spread).tolist(),
                "initial_images": (base[:, None] * 2 * spread).tolist()}
    return out


def _view(curves: dict, weights: dict) -> View:
    return View(mse_all=curves, weights=weights, resamples=100)


def test_curves_that_follow_the_weight_read_supported_and_against_it_contradicted():
    rho = relative_weights(BUILTINS)
    assert rho["constant"] == pytest.approx(np.ones(1000))
    follows = judge_weighting_footprint(_view(_curves(rho, 0.2), rho))
    assert follows.outcome == SUPPORTED, follows.details
    assert len(follows.tests) == 4  # P2 and Min-SNR, each on both sides
    against = judge_weighting_footprint(_view(_curves(rho, -0.2), rho))
    assert against.outcome == CONTRADICTED, against.details


def test_an_inverted_weight_reads_contradicted():
    """The plumbing: curves trained under P2, judged as if the weight were P2's inverse
    (1 + SNR, a user formula), must contradict; judged with P2's own weight they support."""
    rho = relative_weights(BUILTINS)
    curves = _curves({w: rho[w] for w in ("constant", "p2")}, 0.2)
    inverted = describe(from_config("inverted_p2", {"space": "eps", "formula": "1 + snr"}))
    wrong = relative_weights(_block(BUILTINS["entries"][0], inverted))
    wrong["p2"] = wrong.pop("inverted_p2")
    assert judge_weighting_footprint(_view(curves, wrong)).outcome == CONTRADICTED
    assert judge_weighting_footprint(_view(curves, rho)).outcome == SUPPORTED


def test_without_analyses_it_is_not_run_and_the_paper_has_no_numbers():
    rho = relative_weights(BUILTINS)
    only_constant = {"constant": _curves({"constant": rho["constant"]}, 0.2)["constant"]}
    assert judge_weighting_footprint(_view(only_constant, rho)).outcome == NOT_RUN
    assert judge_weighting_footprint(paper_view()).outcome == "no numbers"
    unknown = judge_weighting_footprint(_view(_curves(rho, 0.2), {"constant": rho["constant"]}))
    assert unknown.outcome == NOT_RUN
