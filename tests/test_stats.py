"""harness.stats: estimates against scipy, the contrast rules, verdicts with Holm, shared
bootstrap indices, and the calibration of the whole machinery by simulated A/A trials."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from harness.stats import (
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_RUN,
    SUPPORTED,
    Replicate,
    combine,
    decide,
    direction,
    equivalence,
    exact,
    holm_rejections,
    resample_counts,
    resample_indices,
)
from harness.stats import estimate as est
from harness.stats.calibration import simulate_aa

# A decision rate estimated from T independent trials has Monte Carlo sd sqrt(p(1-p)/T); an
# exactly calibrated test has p = 0.05, so its observed rate lies within 4 sd of 5% except
# with probability 6e-5.
ALPHA = 0.05


def mc_band(trials: int, p: float = ALPHA) -> float:
    return 4 * math.sqrt(p * (1 - p) / trials)


# ---------------------------------------------------------------- resample indices
def test_resample_indices_depend_only_on_seed_n_and_b():
    a = resample_indices(7, 40, 20)
    assert a.shape == (20, 40) and a.min() >= 0 and a.max() < 40
    assert np.array_equal(a, resample_indices(7, 40, 20))
    assert np.array_equal(a[:5], resample_indices(7, 40, 5))  # more resamples extend the list
    assert not np.array_equal(a, resample_indices(8, 40, 20))
    assert not np.array_equal(a[:, :39], resample_indices(7, 39, 20))
    counts = resample_counts(a)
    assert np.array_equal(counts.sum(1), np.full(20, 40.0))
    assert np.array_equal(counts[3], np.bincount(a[3], minlength=40))
    with pytest.raises(ValueError, match="n=0"):
        resample_indices(0, 0, 3)


# ---------------------------------------------------------------- estimates
def test_paired_t_interval_equals_scipy():
    d = np.array([0.8, 1.9, 1.1, 0.2])
    e = est.paired(d)
    lo, hi = sps.ttest_1samp(d, 0).confidence_interval(0.95)
    assert e.interval(0.95) == pytest.approx((lo, hi), rel=1e-12)
    assert e.p_above(0) == pytest.approx(sps.ttest_1samp(d, 0, alternative="greater").pvalue)
    assert e.p_below(0) == pytest.approx(sps.ttest_1samp(d, 0, alternative="less").pvalue)
    assert e.n == 4 and e.df == 3 and "paired t over 4 training seeds" in e.note
    with pytest.raises(ValueError, match="at least 2"):
        est.paired([1.0])


def test_welch_equals_scipy():
    a, b = np.array([3.0, 3.4, 2.9]), np.array([2.0, 2.9, 2.2, 2.6, 1.7])
    e = est.welch([(1.0, a), (-1.0, b)])
    ref = sps.ttest_ind(a, b, equal_var=False, alternative="greater")
    assert e.value == pytest.approx(a.mean() - b.mean())
    assert e.p_above(0) == pytest.approx(ref.pvalue, rel=1e-10)
    lo, hi = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert e.interval(0.95) == pytest.approx((lo, hi), rel=1e-10)


def test_bootstrap_estimate_is_centred_on_the_point_value():
    reps = np.array([10.0, 12.0, 11.0, 13.0, 9.0])  # centred on 11: the point is 50
    e = est.bootstrap(50.0, reps, n_samples=5)
    se = reps.std(ddof=1) * math.sqrt(5 / 4)
    q = sps.t.ppf(0.975, 4)
    assert e.interval(0.95) == pytest.approx((50 - q * se, 50 + q * se))
    assert "one training seed: sampling noise only" in e.note
    assert est.bootstrap(1.0, np.array([np.nan, 2.0]), 5).se is None  # one finite replicate


def test_exact_and_infinite_values_decide_by_sign():
    assert exact(0.3).p_above() == 0.0 and exact(-0.3).p_below() == 0.0
    assert exact(0.0).p_above() == 1.0 and exact(0.0).p_below() == 1.0
    assert exact(0.3).interval(0.95) == (0.3, 0.3)
    assert est.no_interval(5.0).interval(0.95) is None and est.no_interval(5.0).p_above() == 1


# ---------------------------------------------------------------- contrasts
def cell(points, boots=None, n_samples=40, se=None):
    return {r: Replicate(p, None if boots is None else boots[r], se, n_samples)
            for r, p in enumerate(points)}


def test_combine_pairs_by_replicate():
    a, b = cell([5.0, 6.0, 7.5]), cell([4.0, 5.5, 6.0])
    e = combine([(1.0, a), (-1.0, b)])
    assert e.method == "paired" and e.value == pytest.approx(1.0)
    assert e.interval(0.95) == pytest.approx(est.paired([1.0, 0.5, 1.5]).interval(0.95))
    # Only the seeds both cells have are paired.
    del b[2]
    assert combine([(1.0, a), (-1.0, b)]).value == pytest.approx(0.75)


def test_combine_falls_back_to_welch_when_seeds_do_not_pair():
    a = cell([5.0, 6.0])
    b = {7: Replicate(4.0), 8: Replicate(4.4)}
    e = combine([(1.0, a), (-1.0, b)])
    assert e.method == "welch" and e.value == pytest.approx(5.5 - 4.2)


def test_one_seed_uses_the_paired_bootstrap_and_the_point_values():
    rng = np.random.default_rng(0)
    shared = rng.normal(size=200)
    a = cell([10.0], [3.0 + shared + 0.1 * rng.normal(size=200)])
    b = cell([9.0], [2.0 + shared + 0.1 * rng.normal(size=200)])
    e = combine([(1.0, a), (-1.0, b)])
    assert e.method == "bootstrap" and e.value == 1.0  # centred on the points, not on 3 - 2
    diff = a[0].boot - b[0].boot
    assert e.se == pytest.approx(diff.std(ddof=1) * math.sqrt(40 / 39))
    # pairing cancels the shared part: far tighter than either cell alone
    assert e.se < 0.2 * a[0].boot_se()


def test_one_seed_without_bootstrap_uses_carried_spreads_else_no_interval():
    e = combine([(1.0, cell([0.5], se=0.1)), (-1.0, cell([0.2], se=0.2))])
    assert e.method == "spread" and e.se == pytest.approx(math.sqrt(0.05))
    e = combine([(1.0, cell([0.5])), (-1.0, cell([0.2], se=0.2))])
    assert e.interval(0.95) is None and e.value == pytest.approx(0.3)
    assert decide([direction("c", e)], 0.95).outcome == INCONCLUSIVE
    assert combine([(1.0, cell([0.5])), (-1.0, {})]) is None


def test_diverged_arm_counts_as_infinitely_bad():
    ok, diverged = cell([3.0, 3.1]), cell([math.inf, math.inf])
    assert combine([(1.0, diverged), (-1.0, ok)]).value == math.inf
    assert decide([direction("c", combine([(1.0, ok), (-1.0, diverged)]))],
                  0.95).outcome == CONTRADICTED
    both = combine([(1.0, diverged), (-1.0, diverged)])
    assert decide([direction("c", both)], 0.95).outcome == INCONCLUSIVE


# ---------------------------------------------------------------- decisions
def test_holm_step_down():
    # k = 4 at 0.05: thresholds 0.0125, 0.01667, 0.025, 0.05
    assert holm_rejections([0.01, 0.015, 0.03, 0.04], 0.05) == 2
    assert holm_rejections([0.011, 0.9, 0.9, 0.9], 0.05) == 1
    assert holm_rejections([0.013, 0.001, 0.9], 0.05) == 2
    assert holm_rejections([0.02, 0.02], 0.05) == 2 and holm_rejections([], 0.05) == 0


def test_claim_rule_all_supported_holm_contradicted_else_inconclusive():
    up, down, flat = exact(1.0), exact(-1.0), est.paired([0.5, -0.4, 0.1])
    assert decide([direction("a", up), direction("b", up)], 0.95).outcome == SUPPORTED
    mixed = decide([direction("a", up), direction("b", flat)], 0.95)
    assert mixed.outcome == INCONCLUSIVE and mixed.counts[SUPPORTED] == 1
    assert mixed.summary() == "2 cells: 1 supported, 1 inconclusive"
    assert decide([direction("a", up), direction("b", down)], 0.95).outcome == CONTRADICTED
    assert decide([direction("a", up), direction("b", None)], 0.95).outcome == NOT_RUN
    assert decide([], 0.95).outcome == NOT_RUN
    # A cell contradicted at the per-cell level but not after Holm over 3 cells.
    weak = est.Estimate(-2.3, 1.0, math.inf, 3, "paired")  # one-sided p = 0.0107 > 0.025/3
    d = decide([direction("a", weak), direction("b", up), direction("c", up)], 0.95)
    assert d.counts[CONTRADICTED] == 1 and d.holm_contradicted == 0
    assert d.outcome == INCONCLUSIVE and "0 contradicted after Holm" in d.summary()
    with pytest.raises(ValueError, match="confidence"):
        decide([direction("a", up)], 95)


def test_equivalence_by_two_one_sided_tests():
    margin = 1.0
    assert equivalence("e", est.paired([0.1, -0.1, 0.05]), margin).outcome(0.95) == SUPPORTED
    assert equivalence("e", est.paired([3.0, 3.2, 2.9]), margin).outcome(0.95) == CONTRADICTED
    assert equivalence("e", est.paired([0.9, 0.1, 1.6]), margin).outcome(0.95) == INCONCLUSIVE
    assert equivalence("e", exact(0.99), margin).outcome(0.95) == SUPPORTED
    with pytest.raises(ValueError, match="positive"):
        equivalence("e", exact(0.0), 0.0)


# ---------------------------------------------------------------- calibration (A/A)
@pytest.mark.parametrize("replicates, seed_sd", [(3, 0.5), (2, 0.5), (5, 2.0), (1, 0.0)])
def test_aa_single_cell_is_calibrated(replicates, seed_sd):
    """Both arms from one distribution: decided (wrongly) in 5% of trials, within MC error.

    An exactly calibrated 95% test says 'inconclusive' in 95% of A/A trials on average, so the
    observed rate is held to 5% ± 4 Monte Carlo sd in both directions: above means
    false discoveries, below would mean intervals wider than they need be. With one training
    seed the bootstrap sees sampling noise only, so that case is simulated without seed noise.
    """
    trials = 4000
    sim = simulate_aa(trials=trials, replicates=replicates, seed_sd=seed_sd, seed=replicates)
    assert abs(sim.false_decisions - ALPHA) < mc_band(trials), sim.rates
    assert sim.rates[NOT_RUN] == 0


@pytest.mark.parametrize("replicates, seed_sd", [(3, 0.5), (1, 0.0)])
def test_aa_multi_cell_claims_stay_inconclusive(replicates, seed_sd):
    """Over 4 cells, Holm (contradicted) and all-cells (supported) keep errors under 2.5%."""
    sim = simulate_aa(trials=800, cells=4, replicates=replicates, seed_sd=seed_sd, seed=11)
    assert sim.rates[INCONCLUSIVE] >= 0.95, sim.rates
    assert sim.rates[SUPPORTED] <= 0.005  # needs 4 independent 2.5% errors at once


def test_one_seed_with_seed_noise_is_not_calibrated_and_says_so():
    """The bootstrap cannot see training-seed noise: this is why n = 1 is labelled."""
    sim = simulate_aa(trials=1000, replicates=1, seed_sd=1.0, seed=5)
    assert sim.false_decisions > 0.2


@pytest.mark.parametrize("replicates, seed_sd", [(3, 0.2), (1, 0.0)])
def test_separated_arms_are_decided(replicates, seed_sd):
    sim = simulate_aa(trials=500, cells=2, replicates=replicates, seed_sd=seed_sd,
                      effect=2.0, seed=3)
    assert sim.rates[SUPPORTED] >= 0.95, sim.rates
    flipped = simulate_aa(trials=500, cells=2, replicates=replicates, seed_sd=seed_sd,
                          effect=-2.0, seed=3)
    assert flipped.rates[CONTRADICTED] >= 0.95, flipped.rates
