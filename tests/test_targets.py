"""The Gaussian-mixture oracle against independent references."""
import numpy as np
import pytest
from scipy.stats import multivariate_normal as mvn

import companion as cp
from companion.targets import GaussianMixture


def mix2d():
    covs = [[[0.5, 0.2], [0.2, 0.3]], [[0.4, -0.15], [-0.15, 0.6]], [[0.25, 0.1], [0.1, 0.35]]]
    return GaussianMixture([0.2, 0.5, 0.3], [[-1.0, 0.5], [1.2, -0.3], [0.2, 1.4]], covs)


def ref_pdf(mu, x):
    return sum(w * mvn(m, c).pdf(x) for w, m, c in zip(mu.weights, mu.means, mu.covs))


def test_logpdf_matches_scipy():
    mu = mix2d()
    x = mu.sample(200, seed=1)
    np.testing.assert_allclose(mu.logpdf(x), np.log(ref_pdf(mu, x)), rtol=1e-10, atol=1e-12)


def test_logpdf_far_in_the_tails_is_finite():
    mu = cp.targets.bimodal(var=1e-4)
    x = np.array([[0.0], [50.0], [-300.0]])
    lp = mu.logpdf(x)
    assert np.all(np.isfinite(lp))
    # at x = 50, the nearer component dominates: compare with its log-density alone
    expected = np.log(0.7) + mvn(2.0, 1e-4).logpdf(50.0)
    assert abs(lp[1] - expected) < 1e-9 * abs(expected)


def test_score_matches_finite_differences():
    mu = mix2d()
    x = mu.sample(50, seed=2)
    h = 1e-5
    fd = np.stack([(mu.logpdf(x + h * e) - mu.logpdf(x - h * e)) / (2 * h) for e in np.eye(2)], 1)
    np.testing.assert_allclose(mu.score(x), fd, rtol=1e-7, atol=1e-7)


def test_hessian_matches_finite_differences_of_score():
    mu = mix2d()
    x = mu.sample(30, seed=3)
    h = 1e-5
    fd = np.stack([(mu.score(x + h * e) - mu.score(x - h * e)) / (2 * h) for e in np.eye(2)], 2)
    np.testing.assert_allclose(mu.hessian(x), fd, rtol=1e-6, atol=1e-6)


def _grid_posterior(mu, y, a, sigma, h=0.01, half=5.0):
    """Posterior moments by the trapezoid rule on a grid, with SciPy densities only."""
    g = np.arange(-half, half + h / 2, h)
    X1, X2 = np.meshgrid(g, g, indexing="ij")
    X = np.stack([X1.ravel(), X2.ravel()], 1)
    prior = ref_pdf(mu, X)
    lik = np.exp(-np.sum((y - a * X) ** 2, 1) / (2 * sigma**2))
    w = prior * lik
    Z = w.sum()
    m = (w[:, None] * X).sum(0) / Z
    D = X - m
    C = (w[:, None, None] * D[:, :, None] * D[:, None, :]).sum(0) / Z
    # score of the channel density: grad_y log int N(y; a x, sigma^2) prior(x) dx
    grad = (w[:, None] * (-(y - a * X) / sigma**2)).sum(0) / Z
    return m, C, grad


@pytest.mark.parametrize("y", [[0.3, -0.2], [1.5, 0.8], [-1.0, 1.2]])
def test_posterior_and_channel_score_match_numerical_integration(y):
    mu = mix2d()
    a, sigma = 0.8, 0.6
    y = np.array(y)
    m_ref, C_ref, s_ref = _grid_posterior(mu, y, a, sigma)
    m, C = mu.posterior(y, a, sigma)
    np.testing.assert_allclose(m, m_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(C, C_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mu.channel(a, sigma).score(y), s_ref, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(mu.posterior_mean(y[None], a, sigma)[0], m, rtol=1e-14)


def test_posterior_of_discrete_prior_is_exact():
    mu = cp.targets.rademacher(1)
    y = np.array([[0.7], [-2.0]])
    m, C = mu.posterior(y, 1.0, 0.5)
    expected = np.tanh(y[:, 0] / 0.25)
    np.testing.assert_allclose(m[:, 0], expected, rtol=1e-13)
    np.testing.assert_allclose(C[:, 0, 0], 1 / np.cosh(y[:, 0] / 0.25) ** 2, rtol=1e-9)


def test_posterior_at_tiny_noise_is_stable():
    mu = cp.targets.rademacher(3)
    y = mu.sample(10, seed=1)
    m, C = mu.posterior(y, 1.0, 1e-6)
    assert np.all(np.isfinite(m)) and np.all(np.isfinite(C))
    np.testing.assert_allclose(m, y, atol=1e-9)


def test_moments_are_exact_and_match_samples():
    mu = mix2d()
    mean = sum(w * m for w, m in zip(mu.weights, mu.means))
    second = sum(w * (c + np.outer(m, m)) for w, m, c in zip(mu.weights, mu.means, mu.covs))
    np.testing.assert_allclose(mu.mean(), mean, rtol=1e-14)
    np.testing.assert_allclose(mu.cov(), second - np.outer(mean, mean), rtol=1e-13)
    x = mu.sample(200_000, seed=9)
    se = np.sqrt(np.diag(mu.cov()) / x.shape[0])
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se)


def test_channel_and_at():
    mu = mix2d()
    nu = mu.channel(0.5, 0.3)
    np.testing.assert_allclose(nu.means, 0.5 * mu.means)
    np.testing.assert_allclose(nu.covs, 0.25 * mu.covs + 0.09 * np.eye(2))
    q = mu.at(0.7)
    np.testing.assert_allclose(q.cov(), np.exp(-1.4) * mu.cov() + (1 - np.exp(-1.4)) * np.eye(2))
    assert mu.at(0.0).covs.tolist() == mu.covs.tolist()


def test_presets_and_standardise():
    r = cp.targets.rademacher(3)
    assert r.n_components == 8 and np.allclose(r.cov(), np.eye(3)) and not r.has_density
    s = cp.targets.standardise(mix2d())
    np.testing.assert_allclose(s.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(s.cov(), np.eye(2), atol=1e-12)
    ring = cp.targets.ring(d=4, k=6)
    assert ring.dim == 4 and ring.n_components == 6 and ring.has_density
    b = cp.targets.bimodal()
    assert b.dim == 1 and np.isclose(b.mean()[0], 0.8)
    g = cp.gaussian([1.0, 2.0], [[1.0, 0.3], [0.3, 2.0]])
    np.testing.assert_allclose(g.cov(), [[1.0, 0.3], [0.3, 2.0]])


def test_single_point_shapes():
    mu = mix2d()
    assert np.ndim(mu.logpdf([0.0, 0.0])) == 0
    assert mu.score([0.0, 0.0]).shape == (2,)
    assert mu.hessian([0.0, 0.0]).shape == (2, 2)
    m, C = mu.posterior([0.0, 0.0], 1.0, 1.0)
    assert m.shape == (2,) and C.shape == (2, 2)


@pytest.mark.parametrize("args,name", [
    (([0.5, 0.6], [[0.0], [1.0]], [[[1.0]], [[1.0]]]), "weights"),
    (([-0.5, 1.5], [[0.0], [1.0]], [[[1.0]], [[1.0]]]), "weights"),
    (([0.5, 0.5], [[0.0], [1.0], [2.0]], [[[1.0]], [[1.0]]]), "means"),
    (([0.5, 0.5], [[0.0], [1.0]], [[[1.0]]]), "covs"),
    (([0.5, 0.5], [[0.0], [1.0]], [[[-1.0]], [[1.0]]]), "covs"),
    (([1.0], [[0.0, 0.0]], [[[1.0, 2.0], [2.0, 1.0]]]), "covs"),
    (([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.0, 1.0]]]), "covs"),
    (([1.0], [[np.nan, 0.0]], [[[1.0, 0.0], [0.0, 1.0]]]), "means"),
    (([np.nan], [[0.0]], [[[1.0]]]), "weights"),
])
def test_constructor_rejects_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        GaussianMixture(*args)


def test_methods_reject_bad_input():
    mu = mix2d()
    with pytest.raises(ValueError, match="x"):
        mu.logpdf(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="x"):
        mu.score([np.nan, 0.0])
    with pytest.raises(ValueError, match="sigma"):
        mu.posterior([0.0, 0.0], 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma"):
        mu.channel(1.0, -1.0)
    with pytest.raises(ValueError, match="t"):
        mu.at(-0.1)
    with pytest.raises(ValueError, match="n"):
        mu.sample(0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        mu.sample(3, seed=-2)
    with pytest.raises(ValueError, match="y"):
        mu.posterior(np.zeros((2, 5)), 1.0, 1.0)
    with pytest.raises(ValueError, match="density"):
        cp.targets.rademacher(2).logpdf([0.0, 0.0])
    with pytest.raises(ValueError, match="d"):
        cp.targets.rademacher(13)
    with pytest.raises(ValueError, match="weights"):
        cp.discrete([[0.0], [1.0]], [1.0])
    with pytest.raises(ValueError, match="mixture"):
        cp.targets.standardise("not a mixture")
    with pytest.raises(ValueError, match="cov"):
        cp.gaussian([0.0, 0.0], [[1.0, 0.0]])


def test_lopsided_preset_has_different_determinants_and_exact_density():
    from scipy import stats as st
    for d in (1, 3):
        q = cp.targets.lopsided(d)
        dets = np.linalg.det(q.covs)
        assert len(set(np.round(np.log(dets), 6))) == 3
        x = q.sample(30, seed=2)
        ref = sum(w * st.multivariate_normal(m, c).pdf(x) for w, m, c in zip(q.weights, q.means, q.covs))
        np.testing.assert_allclose(q.pdf(x), np.atleast_1d(ref), rtol=1e-12)
        h = 1e-5
        fd = np.stack([(q.logpdf(x + h * e) - q.logpdf(x - h * e)) / (2 * h) for e in np.eye(d)], axis=1)
        np.testing.assert_allclose(q.score(x), fd, rtol=1e-6, atol=1e-6)
