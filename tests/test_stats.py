"""harness.stats: estimates against scipy, the contrast rules, training-seed noise, diverged
seeds, verdicts with Holm, shared bootstrap indices (the calibration of every decision path by
simulated A/A trials is in test_stats_calibration.py)."""

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
    Divergence,
    Replicate,
    SeedNoise,
    below,
    combine,
    combine_bounded,
    decide,
    decide_bounded,
    direction,
    divergence_rate_interval,
    equivalence,
    exact,
    holm_rejections,
    log_cell,
    one_seed_sampling,
    pool_seed_noise,
    prior_for,
    resample_counts,
    resample_indices,
)
from harness.stats import estimate as est


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
    assert "one training seed, sampling noise by a paired bootstrap" in e.note
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
    e = one_seed_sampling([1.0, -1.0], [a[0], b[0]])
    assert e.method == "bootstrap" and e.value == 1.0  # centred on the points, not on 3 - 2
    diff = a[0].boot - b[0].boot
    assert e.se == pytest.approx(diff.std(ddof=1) * math.sqrt(40 / 39))
    # pairing cancels the shared part: far tighter than either cell alone
    assert e.se < 0.2 * a[0].boot_se()


def test_one_seed_without_bootstrap_uses_carried_spreads_else_no_interval():
    noise = SeedNoise(0.0, math.inf, "test: none")
    e = combine([(1.0, cell([0.5], se=0.1)), (-1.0, cell([0.2], se=0.2))], noise)
    assert e.se == pytest.approx(math.sqrt(0.05)) and "spreads the result files carry" in e.note
    e = combine([(1.0, cell([0.5])), (-1.0, cell([0.2], se=0.2))], noise)
    assert e.interval(0.95) is None and e.value == pytest.approx(0.3)
    assert decide([direction("c", e)], 0.95).outcome == INCONCLUSIVE
    assert combine([(1.0, cell([0.5])), (-1.0, {})]) is None


def test_one_seed_without_a_seed_noise_model_has_no_interval():
    """Sampling noise alone says nothing about another training seed: never decided on it."""
    rng = np.random.default_rng(1)
    a = cell([10.0], [10.0 + rng.normal(size=200)])
    b = cell([5.0], [5.0 + rng.normal(size=200)])
    e = combine([(1.0, a), (-1.0, b)])
    assert e.value == 5.0 and e.se is None and "no estimate of training-seed noise" in e.note
    assert decide([direction("c", e)], 0.95).outcome == INCONCLUSIVE


def test_one_seed_adds_the_seed_variance_to_the_paired_bootstrap():
    rng = np.random.default_rng(2)
    shared = rng.normal(size=200)
    a = cell([10.0], [10.0 + shared + 0.1 * rng.normal(size=200)])
    b = cell([9.0], [9.0 + shared + 0.1 * rng.normal(size=200)])
    boot = combine([(1.0, a), (-1.0, b)], SeedNoise(0.0, math.inf, "zero"))
    noise = SeedNoise(0.02 ** 2, 12.0, "pooled")
    e = combine([(1.0, a), (-1.0, b)], noise)
    seed_var = 0.02 ** 2 * (10.0 ** 2 + 9.0 ** 2)  # sum of a_k^2 cv^2 value_k^2
    assert e.se == pytest.approx(math.sqrt(boot.se ** 2 + seed_var), rel=1e-12)
    assert e.df == 12.0  # the smaller of the parts' degrees of freedom (bootstrap: 39)
    assert "paired bootstrap" in e.note and "pooled" in e.note
    # Published numbers carry no sampling noise: a prior is all their interval is.
    pub = combine([(1.0, {0: Replicate(10.0, exact=True)}), (-1.0, {0: Replicate(9.0,
                                                                              exact=True)})],
                  SeedNoise(0.02 ** 2, math.inf, "prior (test)"))
    assert pub.se == pytest.approx(math.sqrt(seed_var)) and pub.df == math.inf


def test_pooled_seed_noise_is_the_between_seed_cv_with_its_df():
    cells = [cell([10.0, 11.0, 9.0]), cell([20.0, 22.0]), cell([0.0, 0.0, 0.0]),  # mean 0: out
             cell([5.0])]  # one seed: out
    noise = pool_seed_noise(cells)
    cv2_a, cv2_b = np.var([10, 11, 9], ddof=1) / 100, np.var([20, 22], ddof=1) / 441
    assert noise.cv2 == pytest.approx((2 * cv2_a + 1 * cv2_b) / 3)
    assert noise.df == 3 and noise.cells == 2 and "pooled from 2 replicated cells" in noise.text()
    assert pool_seed_noise([cell([5.0])]) is None
    absolute = pool_seed_noise([cell([1.0, 3.0])], relative=False)
    assert absolute.variance(100.0) == pytest.approx(2.0) and "sd" in absolute.text()
    assert prior_for("fid").cv == 0.02 and prior_for("kid") is None and prior_for("is") is None


def test_diverged_seeds_are_an_outcome_with_an_interval_not_a_certainty():
    """One diverged seed of three: decided on the two finite seeds plus Fisher's test of the
    counts, never an exact infinite difference."""
    finite = direction("c", est.paired([0.1, -0.05]),  # the two finite seeds: inconclusive
                       divergence=Divergence(((1.0, "Constant", 0, 3), (-1.0, "Ours", 1, 3))))
    assert finite.divergence.blocks_support and not finite.divergence.blocks_contradiction
    assert finite.p_support == 1.0  # the claimed-better arm diverged more: never supported
    assert finite.outcome(0.95) == INCONCLUSIVE
    # Fisher's test of 1/3 vs 0/3 (p = 0.5), Bonferroni with the finite test
    p_fisher = sps.fisher_exact([[0, 3], [1, 2]], alternative="less").pvalue
    assert finite.p_contradict == pytest.approx(min(1, 2 * min(
        est.paired([0.1, -0.05]).p_below(0), p_fisher)))
    # Every seed of one arm diverged, none of the other: only the counts decide, and with three
    # seeds per arm they cannot (p = 0.05 > 0.025).
    only = direction("c", None, divergence=Divergence(((1.0, "SNR", 3, 3), (-1.0, "Ours", 0, 3))))
    assert only.run and only.p_support == pytest.approx(0.05) and only.outcome(0.95) == INCONCLUSIVE
    six = direction("c", None, divergence=Divergence(((1.0, "SNR", 6, 6), (-1.0, "Ours", 0, 6))))
    assert six.outcome(0.95) == SUPPORTED  # p = 1/924
    low, high = divergence_rate_interval(1, 3, 0.95)
    assert low == pytest.approx(sps.binomtest(1, 3).proportion_ci(0.95).low) and high < 1


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
    # A clear contradiction is never hidden behind a cell that was not run (regression).
    hidden = decide([direction("a", down), direction("b", None), direction("c", None)], 0.95)
    assert hidden.outcome == CONTRADICTED and "2 not run" in hidden.summary()
    assert decide([direction("a", flat), direction("b", None)], 0.95).outcome == NOT_RUN
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


# ---------------------------------------------------------------- one network, one seed shift
def test_a_shared_seed_shift_is_counted_once_per_network():
    """gain(100) − gain(1000) of one pair of networks: each network's two cells share its shift,
    so its coefficients sum before squaring; independent shifts square each cell's. The
    sampling share is each cell's own, independent either way."""
    a, b = ("ds", "constant", 0), ("ds", "debias", 0)
    terms = [(1.0, Replicate(12.0, network=a)), (-1.0, Replicate(9.0, network=b)),
             (-1.0, Replicate(9.4, network=a)), (1.0, Replicate(6.0, network=b))]
    noise = SeedNoise(0.02 ** 2, math.inf, "prior (test)")
    shared = 0.02 ** 2 * ((12.0 - 9.4) ** 2 + (-9.0 + 6.0) ** 2)
    independent = 0.02 ** 2 * (12.0 ** 2 + 9.0 ** 2 + 9.4 ** 2 + 6.0 ** 2)
    assert noise.combination_variance(terms) == pytest.approx(shared, rel=1e-12)
    assert noise.independent().combination_variance(terms) == pytest.approx(independent)
    share = SeedNoise(0.02 ** 2, math.inf, "prior (test)", sampling_share=0.1)
    assert share.combination_variance(terms) == pytest.approx(0.9 * shared + 0.1 * independent)
    # The opposite evidence: a sum over one network's cells grows when its shift is shared.
    plus = [(1.0, Replicate(12.0, network=a)), (1.0, Replicate(9.4, network=a))]
    assert noise.combination_variance(plus) > noise.independent().combination_variance(plus)
    # A network that is not known is its own.
    unknown = [(1.0, Replicate(12.0)), (-1.0, Replicate(9.4))]
    assert noise.combination_variance(unknown) == noise.independent().combination_variance(
        unknown)


def test_combine_bounded_gives_the_independent_estimate_only_where_it_differs():
    a, b = ("ds", "constant", 0), ("ds", "debias", 0)
    gain_growth = [(1.0, {0: Replicate(12.0, exact=True, network=a)}),
                   (-1.0, {0: Replicate(9.0, exact=True, network=b)}),
                   (-1.0, {0: Replicate(9.4, exact=True, network=a)}),
                   (1.0, {0: Replicate(6.0, exact=True, network=b)})]
    noise = SeedNoise(0.02 ** 2, math.inf, "prior (test)")
    e, ind = combine_bounded(gain_growth, noise)
    assert e.value == ind.value == pytest.approx(-0.4) and e.se < ind.se
    two = [(1.0, {0: Replicate(12.0, exact=True, network=a)}),
           (-1.0, {0: Replicate(9.0, exact=True, network=b)})]
    assert combine_bounded(two, noise)[1] is None  # two networks: nothing to share
    assert combine_bounded(gain_growth, None)[1] is None


def test_a_verdict_stands_only_where_shared_and_independent_shifts_agree():
    """Decided with the shift shared but not with it independent: inconclusive, and the text
    says which way decided; decided both ways: the verdict stands."""
    one_way = direction("g", est.Estimate(-0.4, 0.1), independent=est.Estimate(-0.4, 0.3))
    bounded = decide_bounded([one_way], 0.95)
    assert bounded.shared.outcome == CONTRADICTED and bounded.independent.outcome == INCONCLUSIVE
    assert bounded.outcome == INCONCLUSIVE and not bounded.agree
    assert bounded.text().startswith("contradicted if a trained network's seed shift is shared")
    both = direction("g", est.Estimate(-0.4, 0.1), independent=est.Estimate(-0.4, 0.15))
    assert decide_bounded([both], 0.95).outcome == CONTRADICTED
    assert decide_bounded([both], 0.95).text() == ""
    missing = decide_bounded([one_way, direction("h", None)], 0.95)
    assert missing.outcome == NOT_RUN  # contradicted (shared) or not run (independent)


def test_pooled_df_counts_one_set_of_networks_once():
    """Three seeds of one pair of networks sampled at two step counts: four cells, but their
    between-seed variances share the networks' shifts: 2 x 2 df, not 4 x 2."""
    def seeds(values, weighting):
        return {r: Replicate(v, network=("ds", weighting, r)) for r, v in enumerate(values)}

    cells = [seeds([10.0, 11.0, 9.0], "constant"), seeds([20.0, 22.0, 19.0], "constant"),
             seeds([8.0, 8.5, 7.5], "debias"), seeds([15.0, 16.0, 14.5], "debias")]
    noise = pool_seed_noise(cells)
    assert noise.cells == 4 and noise.df == 4 and "(4 df)" in noise.source
    # The opposite: other seeds for each step count (other networks) are independent.
    others = [{r: Replicate(x.point, network=("ds", i, r)) for r, x in c.items()}
              for i, c in enumerate(cells)]
    assert pool_seed_noise(others).df == 8


def test_below_a_bound_shows_the_difference_and_tests_it_against_the_bound():
    """Non-inferiority ('at most slightly larger'): the estimate is the difference itself."""
    bound = math.log(1.1)
    above = below("d", est.Estimate(0.678, 0.05), bound)
    assert above.outcome(0.95) == CONTRADICTED and above.estimate.value == 0.678
    assert below("d", est.Estimate(-0.5, 0.05), bound).outcome(0.95) == SUPPORTED
    assert below("d", est.Estimate(0.09, 0.05), bound).outcome(0.95) == INCONCLUSIVE


def test_a_bound_that_is_not_zero_never_prints_as_zero():
    """[-0.0175, -0.0000] printed a bound of -0.00001 as 0: it gets two significant digits."""
    text = est.Estimate(-0.00875, 0.00874 / 1.959964).text(0.95)
    assert text == "-0.008750 [-0.017490, -0.000010]"  # one number of decimals for all three
    assert est.Estimate(0.0123, 0.004).text(0.95) == "+0.0123 [+0.0045, +0.0201]"


def test_log_scale_replicates():
    """A relative comparison needs positive values: the log of the point and of the bootstrap,
    else the delta method's se / point; not positive: none."""
    rep = Replicate(2.0, np.array([1.9, 2.0, 2.1, 2.2]), None, 40, network=("n",))
    logged = rep.log()
    assert logged.point == pytest.approx(math.log(2.0)) and logged.network == ("n",)
    assert np.allclose(logged.boot, np.log([1.9, 2.0, 2.1, 2.2]))
    negative = Replicate(2.0, np.array([-0.1, 2.0, 4.1]), None, 40).log()
    assert negative.boot is None and negative.se == pytest.approx(
        Replicate(2.0, np.array([-0.1, 2.0, 4.1]), None, 40).boot_se() / 2.0)
    assert Replicate(-0.01).log() is None and log_cell({0: Replicate(-0.01)}) is None
