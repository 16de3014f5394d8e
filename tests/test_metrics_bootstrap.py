"""Bootstrap replicates of FID, KID and colour shift against direct computations, the pairing of
cells through shared indices, and the accuracy of the bootstrap's standard error."""

from __future__ import annotations

import numpy as np
import pytest

from harness.metrics.bootstrap import bootstrap_color_shift, bootstrap_fid, bootstrap_kid
from harness.metrics.distances import color_shift, fid_from_stats, kid_from_features
from harness.stats import resample_indices


def features(rng, n, d, shift=0.0):
    mix = np.random.default_rng(99).normal(size=(d, d)) / np.sqrt(d)
    return np.abs(rng.normal(size=(n, d)) @ mix + shift)


@pytest.mark.parametrize("n, d", [(9, 24), (24, 24), (60, 12)])
def test_bootstrap_fid_equals_the_direct_frechet_distance(n, d):
    """n < d takes the n x n eigenproblem, n >= d the d x d one: both equal clean-fid's value.

    Tolerance: with n < d the sample covariance is singular and the reference implementations
    take square roots of round-off-level eigenvalues (~1e-16 -> 1e-8), so 1e-7 relative.
    """
    rng = np.random.default_rng(n)
    x, ref = features(rng, n, d, 0.3), features(rng, 300, d)
    mu, sigma = ref.mean(0), np.cov(ref, rowvar=False)
    idx = resample_indices(1, n, 6)
    idx[0] = np.arange(n)  # the identity resample is the cell itself
    boot = bootstrap_fid(x, mu, sigma, idx)
    for b, i in enumerate(idx):
        direct = fid_from_stats(x[i].mean(0), np.cov(x[i], rowvar=False), mu, sigma)
        assert boot[b] == pytest.approx(direct, rel=1e-7), b
    assert boot[0] == pytest.approx(fid_from_stats(x.mean(0), np.cov(x, rowvar=False), mu,
                                                   sigma, impl="eigh"), rel=1e-7)


def test_bootstrap_kid_identity_equals_clean_fids_kid_and_resamples_skip_self_pairs():
    rng = np.random.default_rng(2)
    n, d = 30, 16
    x, ref = features(rng, n, d, 0.5), features(rng, n, d)
    idx = resample_indices(4, n, 5)
    idx[0] = np.arange(n)
    boot = bootstrap_kid(x, ref, idx)
    # With equal set sizes and subsets of all n, clean-fid's one-subset KID is the complete
    # unbiased MMD^2 (a subset of all n without replacement is a permutation).
    full = kid_from_features(ref, x, subset_size=n, num_subsets=1)["kid"]
    assert boot[0] == pytest.approx(full, rel=1e-6)

    def kern(a, b):
        return (a @ b.T / d + 1) ** 3

    k_rr = kern(ref, ref)
    ref_ref = (k_rr.sum() - np.trace(k_rr)) / (n * (n - 1))
    for b, i in enumerate(idx):
        g = x[i]
        distinct = i[:, None] != i[None, :]  # pairs of positions holding different samples
        gen_gen = kern(g, g)[distinct].mean()
        assert boot[b] == pytest.approx(gen_gen + ref_ref - 2 * kern(g, ref).mean(), rel=1e-9)


def test_bootstrap_color_shift_equals_color_shift_of_each_resample():
    rng = np.random.default_rng(3)
    rgb, ref = rng.normal(120, 20, (50, 3)) + [15, 0, -5], rng.normal(120, 20, (400, 3))
    mu, sigma = ref.mean(0), np.cov(ref, rowvar=False)
    idx = resample_indices(0, 50, 4)
    boot = bootstrap_color_shift(rgb, mu, sigma, idx)
    for b, i in enumerate(idx):
        want = color_shift(rgb[i].mean(0), np.cov(rgb[i], rowvar=False), mu, sigma)
        assert boot[b] == pytest.approx(want["frechet_mean_rgb"], rel=1e-7)


def test_cells_with_one_sample_count_share_indices_so_differences_pair():
    """Sample i of two weightings shares its x_T: identical sets give identical replicates,
    and a common part of the samples cancels in the elementwise difference."""
    rng = np.random.default_rng(4)
    n, d = 40, 8
    ref = features(rng, 200, d)
    a = features(rng, n, d, 1.0)
    b = a + 0.02 * rng.normal(size=a.shape)  # the same x_T, a slightly different model
    idx = resample_indices(0, n, 200)
    ka, kb = bootstrap_kid(a, ref, idx), bootstrap_kid(b, ref, idx)
    assert np.array_equal(ka, bootstrap_kid(a.copy(), ref, resample_indices(0, n, 200)))
    assert (ka - kb).std() < 0.1 * ka.std()


@pytest.mark.parametrize("shift", [0.5, 2.0])
def test_bootstrap_standard_error_of_kid_matches_its_sampling_spread(shift):
    """Per-sample noise as the harness sees it: over 300 independent sample sets of one model,
    the mean bootstrap standard error is within 20% of the sd of the KID point values (the
    Monte Carlo error of an sd from 300 draws is ~4%)."""
    rng = np.random.default_rng(5)
    n, d = 40, 16
    ref = features(rng, 200, d)
    idx = resample_indices(0, n, 200)
    points, ses = [], []
    for _ in range(300):
        x = features(rng, n, d, shift)
        points.append(bootstrap_kid(x, ref, np.arange(n)[None])[0])  # the cell's own KID
        ses.append(bootstrap_kid(x, ref, idx).std(ddof=1) * np.sqrt(n / (n - 1)))
    ratio = np.mean(ses) / np.std(points, ddof=1)
    assert 0.8 < ratio < 1.2, ratio
