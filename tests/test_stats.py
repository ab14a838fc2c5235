"""companion.stats: each helper against a plain NumPy or SciPy reference, its standard error
tested for coverage (over repeated simulations with known truth, the nominal fraction of the
intervals estimate +- 1.96 se contains the truth), and its refusal of bad input."""
import numpy as np
import pytest
from scipy import stats

import companion as cp

R_COVER = 1000                        # repetitions per coverage test
# the coverage of a correct 95% interval over R_COVER repetitions is 0.95 +- 0.0069 (one sd);
# a band of +-0.03 (4.4 sd) keeps a correct helper passing and fails an error off by a factor
# 1.25 or more (coverage 0.88 or 0.99)
BAND = 0.03


def coverage(hits):
    return float(np.mean(hits))


def test_mean_stderr_matches_numpy_and_covers():
    x = np.random.default_rng(0).exponential(2.0, size=(50, 3))
    m, se = cp.stats.mean_stderr(x)
    np.testing.assert_allclose(m, x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(se, x.std(axis=0, ddof=1) / np.sqrt(50), rtol=1e-14)
    g = np.random.default_rng(1)
    x = g.exponential(2.0, size=(R_COVER, 400))             # skewed data, truth 2
    m, se = cp.stats.mean_stderr(x, axis=1)
    assert abs(coverage(np.abs(m - 2.0) <= 1.96 * se) - 0.95) < BAND


def test_variance_stderr_covers_without_a_gaussian_assumption():
    g = np.random.default_rng(2)
    hits_t, hits_n = [], []
    for r in range(R_COVER):
        x = g.standard_t(10, size=2000)                     # variance 10/8, heavy tails
        v, se = cp.stats.variance_stderr(x)
        hits_t.append(abs(v - 1.25) <= 1.96 * se)
        y = 3.0 * g.standard_normal(500)
        v, se = cp.stats.variance_stderr(y)
        hits_n.append(abs(v - 9.0) <= 1.96 * se)
        if r == 0:
            np.testing.assert_allclose(v, np.var(y, ddof=1), rtol=1e-13)
    assert abs(coverage(hits_t) - 0.95) < BAND
    assert abs(coverage(hits_n) - 0.95) < BAND


def test_covariance_with_stderr_covers():
    L = np.array([[1.0, 0.0], [0.6, 0.8]])
    C = L @ L.T
    g = np.random.default_rng(3)
    hits = []
    for _ in range(R_COVER):
        z = g.standard_normal((1000, 2)) @ L.T
        z[:, 1] = z[:, 1] ** 2 + z[:, 0]                    # non-Gaussian second coordinate
        cov, se = cp.stats.covariance_with_stderr(z)
        # truth for (z0, z0^2... ): Cov(z0, w) with w = (0.6 z0 + 0.8 u)^2 + z0 is 1 (odd moments vanish)
        hits.append([abs(cov[0, 0] - C[0, 0]) <= 1.96 * se[0, 0],
                     abs(cov[0, 1] - 1.0) <= 1.96 * se[0, 1]])
    cover = np.mean(hits, axis=0)
    assert np.all(np.abs(cover - 0.95) < BAND), cover


def test_binned_means_covers():
    g = np.random.default_rng(4)
    edges = np.array([-1.0, -0.2, 0.3, 1.0])
    # E[sin(3 key) + noise | bin] computed exactly for key ~ U(-1, 1)
    exact = np.array([(np.cos(3 * a) - np.cos(3 * b)) / (3 * (b - a))
                      for a, b in zip(edges[:-1], edges[1:])])
    hits = []
    for _ in range(R_COVER):
        key = g.uniform(-1, 1, 600)
        vals = np.sin(3 * key) + 0.5 * g.standard_normal(600)
        m, se, _ = cp.stats.binned_means(key, vals, edges)
        hits.append(np.abs(m - exact) <= 1.96 * se)
    cover = np.mean(hits, axis=0)
    assert np.all(np.abs(cover - 0.95) < BAND), cover


def test_loglog_slope_stderr_covers():
    """Replicates C/x times a mean of 20 squared normals: the slope's interval covers -1."""
    x = 2000 * 2.0 ** np.arange(6)
    g = np.random.default_rng(5)
    hits = []
    for _ in range(R_COVER):
        runs = (1 / x)[:, None] * np.mean(g.standard_normal((6, 8, 20)) ** 2, axis=2)
        p = np.polyfit(np.log(x), np.log(runs.mean(axis=1)), 1)[0]
        hits.append(abs(p + 1) <= 1.96 * cp.stats.loglog_slope_stderr(x, runs))
    assert abs(coverage(hits) - 0.95) < BAND


def test_binned_means_matches_numpy():
    key = cp.rng.uniforms(2000, seed=27) * 4 - 1
    vals = np.column_stack([key**2, np.sin(key)])
    edges = np.array([-0.5, 0.0, 0.7, 1.0, 2.5, 2.6, 2.6001])
    mean, se, counts = cp.stats.binned_means(key, vals, edges)
    idx = np.digitize(key, edges) - 1
    for b in range(len(edges) - 1):
        sel = idx == b
        assert counts[b] == sel.sum()
        if sel.sum() >= 2:
            np.testing.assert_allclose(mean[b], vals[sel].mean(axis=0), rtol=1e-12)
            np.testing.assert_allclose(se[b], vals[sel].std(axis=0, ddof=1) / np.sqrt(sel.sum()),
                                       rtol=1e-9)
        else:
            assert np.all(np.isnan(se[b]))
    assert counts.sum() == np.sum((key >= -0.5) & (key < 2.6001))
    m1, s1, c1 = cp.stats.binned_means(key, key**2, edges)
    np.testing.assert_allclose(m1, mean[:, 0], equal_nan=True)


def test_covariance_with_stderr():
    L = np.array([[1.0, 0.0], [0.6, 0.8]])
    z = cp.rng.normals(200_000, 2, seed=28) @ L.T
    cov, se = cp.stats.covariance_with_stderr(z)
    np.testing.assert_allclose(cov, np.cov(z.T), rtol=1e-12)
    C = L @ L.T
    gauss = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / z.shape[0])  # Gaussian theory
    np.testing.assert_allclose(se, gauss, rtol=0.05)


def test_loglog_slope_stderr_predicts_the_spread_of_slopes():
    """Replicates C/x times a mean of 20 squared normals: the delta-method standard error
    matches the spread of the fitted slope over 400 independent experiments."""
    x = 2000 * 2.0 ** np.arange(6)
    slopes, ses = [], []
    for e in range(400):
        g = cp.rng.normals(6 * 8 * 20, 1, seed=1000 + e)[:, 0].reshape(6, 8, 20)
        runs = (1 / x)[:, None] * np.mean(g**2, axis=2)
        slopes.append(np.polyfit(np.log(x), np.log(runs.mean(axis=1)), 1)[0])
        ses.append(cp.stats.loglog_slope_stderr(x, runs))
    assert abs(np.mean(slopes) + 1) < 0.01
    np.testing.assert_allclose(np.mean(ses), np.std(slopes), rtol=0.1)


def test_edgeworth_ks_offset_matches_the_exact_gamma_law():
    """The standardised sum of 50 exponentials: the first-order Edgeworth offset, estimated from
    a sample, against the exact sup |P(u <= x) - Phi(x)| of the gamma law."""
    n = 50
    u = (stats.gamma.ppf(cp.rng.uniforms(400_000, seed=3), n) - n) / np.sqrt(n)
    xs = np.linspace(-8, 8, 4001)
    exact = np.max(np.abs(stats.gamma.cdf(n + xs * np.sqrt(n), n) - stats.norm.cdf(xs)))
    np.testing.assert_allclose(cp.stats.edgeworth_ks_offset(u), exact, rtol=0.1)
    assert cp.stats.edgeworth_ks_offset(cp.rng.normals(400_000, 1, seed=4)[:, 0]) < 2e-3


def test_stats_bad_input():
    with pytest.raises(ValueError, match="edges"):
        cp.stats.binned_means([0.0, 1.0], [1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="values"):
        cp.stats.binned_means([0.0, 1.0], [1.0, 2.0, 3.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="key"):
        cp.stats.binned_means([[0.0, 1.0]], [1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="z"):
        cp.stats.covariance_with_stderr(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="z"):
        cp.stats.covariance_with_stderr(np.zeros(5))
    with pytest.raises(ValueError, match="runs"):
        cp.stats.loglog_slope_stderr([1.0, 2.0, 4.0], np.ones((3, 1)))
    with pytest.raises(ValueError, match="runs"):
        cp.stats.loglog_slope_stderr([1.0, 2.0], np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive"):
        cp.stats.loglog_slope_stderr([1.0, 2.0, 4.0], -np.ones((3, 2)))
    with pytest.raises(ValueError, match="u"):
        cp.stats.edgeworth_ks_offset(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="u"):
        cp.stats.edgeworth_ks_offset([0.0, 1.0])
