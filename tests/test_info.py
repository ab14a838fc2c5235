"""companion.info against independent references: closed forms, SciPy quadrature, exact
Gaussian path laws, Monte Carlo; thread independence of the samplers; bad input."""
import numpy as np
import pytest
from scipy import integrate, stats

import companion as cp
from companion import info

RAD = cp.targets.rademacher()
BIM = cp.targets.bimodal()
GAU = cp.gaussian([0.3], [[2.0]])


def _rad_I(s):
    # the audit's cancellation-free form, by SciPy's adaptive quadrature
    f = lambda z: np.log1p(np.exp(-2 * abs(s + np.sqrt(s) * z))) * stats.norm.pdf(z)
    E = integrate.quad(f, -40, 40, epsabs=1e-15, epsrel=1e-13, limit=500, points=[-np.sqrt(s)])[0]
    return (np.log(2) - E - 2 * np.sqrt(s) * stats.norm.pdf(np.sqrt(s))
            + 2 * s * stats.norm.cdf(-np.sqrt(s)))


def _rad_M(s):
    f = lambda z: 2 * np.exp(-np.logaddexp(0, 2 * (s + np.sqrt(s) * z))) * stats.norm.pdf(z)
    return integrate.quad(f, -40, 40, epsabs=1e-16, epsrel=1e-13, limit=500,
                          points=[-np.sqrt(s)])[0]


@pytest.mark.parametrize("s", [1e-4, 0.3, 1.0, 4.0, 20.0, 50.0])
def test_rademacher_against_audit_formulas(s):
    assert abs(info.mutual_information(RAD, s) - _rad_I(s)) < 1e-12
    assert abs(info.mmse(RAD, s) - _rad_M(s)) < 1e-12


def _gm_reference(mix, s):
    """I and M of a 1-D mixture via h(Y) and E X^2 - E E[X|Y]^2 (SciPy quad)."""
    ch = mix.channel(np.sqrt(s), 1.0)
    lo, hi = ch.means.min() - 15 * 3, ch.means.max() + 15 * 3
    pts = list(ch.means[:, 0])
    logp = lambda y: ch.logpdf(np.array([[y]]))[0]
    h = integrate.quad(lambda y: -np.exp(logp(y)) * logp(y), lo, hi, points=pts, limit=500,
                       epsabs=1e-14, epsrel=1e-13)[0]
    post = lambda y: mix.posterior_mean(np.array([[y]]), a=np.sqrt(s), sigma=1.0)[0, 0]
    e2 = integrate.quad(lambda y: np.exp(logp(y)) * post(y) ** 2, lo, hi, points=pts, limit=500,
                        epsabs=1e-14, epsrel=1e-13)[0]
    ex2 = float(mix.cov()[0, 0] + mix.mean()[0] ** 2)
    return h - 0.5 * np.log(2 * np.pi * np.e), ex2 - e2


@pytest.mark.parametrize("s", [0.2, 1.5, 6.0])
def test_mixture_against_entropy_quadrature(s):
    I_ref, M_ref = _gm_reference(BIM, s)
    assert abs(info.mutual_information(BIM, s) - I_ref) < 1e-9
    assert abs(info.mmse(BIM, s) - M_ref) < 1e-9


def test_duplicated_gaussian_runs_the_quadrature_and_matches_the_closed_form():
    twin = cp.GaussianMixture([0.5, 0.5], [[0.3], [0.3]], [[[2.0]], [[2.0]]])
    for s in (0.1, 1.0, 10.0, 300.0):
        assert abs(info.mmse(twin, s) - 2.0 / (1 + 2 * s)) < 1e-12
        assert abs(info.mutual_information(twin, s) - 0.5 * np.log1p(2 * s)) < 1e-12


def test_gaussian_closed_forms_any_d():
    C = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, 0.3], [0.0, 0.3, 0.5]])
    g = cp.gaussian(np.zeros(3), C)
    s = 1.7
    assert np.isclose(info.mmse(g, s), np.trace(C @ np.linalg.inv(np.eye(3) + s * C)), atol=1e-13)
    assert np.isclose(info.mutual_information(g, s),
                      0.5 * np.log(np.linalg.det(np.eye(3) + s * C)), atol=1e-13)
    assert info.mmse(g, [0.0, 1.0]).shape == (2,)


def test_mmse_area_is_the_integral():
    assert abs(info.mmse_area(GAU, np.linspace(0, 5, 6)) - np.log1p(2 * 5.0)) < 1e-12
    ref = integrate.quad(lambda s: _rad_M(s), 0.0, 3.0, epsabs=1e-13)[0]
    assert abs(info.mmse_area(RAD, np.linspace(0, 3, 7)) - ref) < 1e-10


@pytest.mark.parametrize("target", [RAD, BIM, cp.targets.lopsided()])
def test_mmse_derivative_against_finite_differences(target):
    h = 1e-4
    for s in (0.3, 1.0, 3.0):
        fd = (info.mmse(target, s + h) - info.mmse(target, s - h)) / (2 * h)
        assert abs(info.mmse_derivative(target, s) - fd) < 1e-7 * abs(fd)
    # at s = 0 the posterior is the prior: M'(0) = -Var(X)^2
    assert info.mmse_derivative(target, 0.0) == pytest.approx(-target.cov()[0, 0] ** 2, rel=1e-12)


def test_mmse_derivative_gaussian_closed_form_3d():
    C = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, 0.3], [0.0, 0.3, 0.5]])
    g, s, h = cp.gaussian(np.zeros(3), C), 0.8, 1e-5
    fd = (info.mmse(g, s + h) - info.mmse(g, s - h)) / (2 * h)
    assert info.mmse_derivative(g, s) == pytest.approx(fd, rel=1e-8)


def test_optimal_grid_gaussian_closed_form_and_rademacher_rate():
    # N(0, c): sqrt(-M') = c / (1 + s c), so the grid is equally spaced in log(1 + s c)
    c, T, n = 2.0, 5.0, 6
    g = info.optimal_grid(cp.gaussian([0.0], [[c]]), T, n)
    np.testing.assert_allclose(g, ((1 + c * T) ** (np.arange(n + 1) / n) - 1) / c, atol=1e-5)
    # Rademacher on [0, 4]: n Delta_n -> (1/4)(int sqrt(-M'))^2 < (T/4)(M(0) - M(T))
    from scipy import integrate
    u = np.linspace(0.0, 4.0, 2001)
    best = integrate.simpson(np.sqrt(-info.mmse_derivative(RAD, u)), x=u) ** 2 / 4
    nd = [n * info.delta_n(RAD, info.optimal_grid(RAD, 4.0, n)) for n in (64, 128)]
    assert abs(2 * nd[1] - nd[0] - best) < 1e-4 * best
    unif = [n * info.delta_n(RAD, np.linspace(0, 4.0, n + 1)) for n in (64, 128)]
    limit = 4.0 * (1.0 - info.mmse(RAD, 4.0)) / 4
    assert abs(2 * unif[1] - unif[0] - limit) < 1e-4 * limit
    assert best < 0.9 * limit


@pytest.mark.parametrize("target", [RAD, BIM])
def test_delta_n_two_ways(target):
    for grid in (np.linspace(0, 4, 5), info.geometric_grid(6.0, 7, 1.5)):
        assert abs(info.delta_n(target, grid, method="chain") - info.delta_n(target, grid)) < 1e-10


def test_delta_n_gaussian_three_ways_and_moment2_exact():
    grid = info.geometric_grid(5.0, 6, 1.3)
    a = info.delta_n(GAU, grid)
    assert abs(a - info.delta_n(GAU, grid, method="chain")) < 1e-12
    assert abs(a - info.gaussian_path_kl(GAU, grid)) < 1e-11
    assert info.delta_n(GAU, grid, kernel="moment2") == 0.0
    assert info.gaussian_path_kl(GAU, grid, kernel="moment2") < 1e-11
    C = np.array([[1.0, 0.5], [0.5, 2.0]])
    g2 = cp.gaussian([0.1, -0.2], C)
    assert abs(info.delta_n(g2, grid) - info.gaussian_path_kl(g2, grid)) < 1e-11


@pytest.mark.parametrize("target", [RAD, BIM, cp.GaussianMixture([0.3, 0.7], [[-1.0], [0.5]],
                                                              [[[0.2]], [[1.5]]])])
def test_moment2_logdet_formula_equals_the_chain_rule(target):
    # the Remark 5 kernel's closed form against the chain rule, which never uses I-MMSE
    for grid in (np.linspace(0, 4, 9), info.geometric_grid(6.0, 7, 1.5)):
        a = info.delta_n(target, grid, kernel="moment2", method="logdet")
        b = info.delta_n(target, grid, kernel="moment2", method="chain")
        assert abs(a - b) < 1e-10        # terms of order one, each quadrature good to ~1e-11
        assert a < info.delta_n(target, grid)          # never worse than the mean kernel


def test_moment2_logdet_formula_is_zero_for_a_gaussian_in_3d():
    C = np.array([[1.0, 0.6, 0.0], [0.6, 2.0, 0.3], [0.0, 0.3, 0.5]])
    g = cp.gaussian(np.ones(3), C)
    grid = info.geometric_grid(5.0, 6, 1.3)
    assert abs(info.delta_n(g, grid, kernel="moment2", method="logdet")) < 1e-13
    # its terms are not small: the sum of log-determinants is log det(I + t_n C)
    assert 0.5 * np.log(np.linalg.det(np.eye(3) + 5.0 * C)) > 1.0


def test_chain_rule_gh_converged():
    # doubling the inner Gauss-Hermite rule does not move the moment-2 divergence
    grid = np.linspace(0, 4, 9)
    base = info.delta_n(BIM, grid, kernel="moment2")
    x, w = np.polynomial.hermite_e.hermegauss(320)
    old = info._GH_X, info._GH_W
    try:
        info._GH_X, info._GH_W = x, w / np.sqrt(2 * np.pi)
        fine = info.delta_n(BIM, grid, kernel="moment2")
    finally:
        info._GH_X, info._GH_W = old
    assert abs(base - fine) < 2e-11  # about 1e-10 relative


def test_geometric_grid_and_theorem2_limit():
    g = info.geometric_grid(10.0, 5, 1.5)
    assert g[0] == 0 and np.isclose(g[-1], 10.0)
    assert np.allclose(np.diff(g)[1:] / np.diff(g)[:-1], 1.5)
    assert np.allclose(info.geometric_grid(10.0, 5, 1.0), np.linspace(0, 10, 6))
    lim = info.theorem2_bound(RAD, 4.0, 8, 1.0)
    assert np.isclose(info.theorem2_bound(RAD, 4.0, 8, 1 + 1e-8), lim, rtol=1e-6)


def test_gaussian_path_laws_against_monte_carlo():
    grid = np.linspace(0, 3, 4)
    mY, KY, mZ, KZ = info.gaussian_path_laws(GAU, grid)
    z = info.sampler(GAU, grid, 100_000, seed=11)[:, 1:, 0]
    cov, se = cp.stats.covariance_with_stderr(z)
    assert np.all(np.abs(cov - KZ) < 5 * se)
    assert np.all(np.abs(z.mean(0) - mZ) < 5 * z.std(0) / np.sqrt(z.shape[0]))
    X, Y = info.comparison_process(GAU, grid, 100_000, seed=12)
    cov, se = cp.stats.covariance_with_stderr(Y[:, 1:, 0])
    assert np.all(np.abs(cov - KY) < 5 * se)


def test_moment2_sampler_and_posterior_sampler_reproduce_gaussian_law_in_2d():
    C = np.array([[1.0, 0.5], [0.5, 2.0]])
    g2 = cp.gaussian([0.2, -0.1], C)
    grid = np.linspace(0, 2, 4)
    for run in (lambda: info.sampler(g2, grid, 80_000, seed=3, kernel="moment2"),
                lambda: info.posterior_sampler(g2, grid, 80_000, seed=3)):
        z = run()[:, -1]
        cov, se = cp.stats.covariance_with_stderr(z)
        assert np.all(np.abs(cov - (4 * C + 2 * np.eye(2))) < 5 * se)


def test_samplers_do_not_depend_on_thread_count(with_threads):
    grid = np.linspace(0, 2, 5)
    for fn in (lambda: info.sampler(BIM, grid, 501, seed=5, kernel="moment2"),
               lambda: info.posterior_sampler(BIM, grid, 501, seed=5),
               lambda: info.sampler(RAD, grid, 501, seed=5)):
        a, b = with_threads(1, fn), with_threads(2, fn)
        assert np.array_equal(a, b)


def test_marginal_density_matches_gaussian_law():
    grid = np.linspace(0, 4, 5)
    x = np.linspace(-30, 30, 3001)
    for kernel in ("mean", "moment2"):
        p = info.sampler_marginal_density(GAU, grid, x, kernel=kernel)
        mY, KY, mZ, KZ = info.gaussian_path_laws(GAU, grid, kernel=kernel)
        ref = stats.norm.pdf(x, mZ[-1], np.sqrt(KZ[-1, -1]))
        assert np.abs(p - ref).max() < 1e-9


def test_posterior_moments_are_tanh_for_rademacher():
    y = np.linspace(-3, 3, 7)[:, None]
    m, c = info.posterior_moments(RAD, 2.5, y)
    assert np.allclose(m[:, 0], np.tanh(y[:, 0]), atol=1e-13)
    assert np.allclose(c[:, 0, 0], 1 - np.tanh(y[:, 0]) ** 2, atol=1e-13)


@pytest.mark.parametrize("call, match", [
    (lambda: info.mmse(RAD, -1.0), "s"),
    (lambda: info.mmse("x", 1.0), "target"),
    (lambda: info.mutual_information(cp.targets.rademacher(2), 1.0), "target"),
    (lambda: info.delta_n(RAD, [0.1, 1.0]), "grid"),
    (lambda: info.delta_n(RAD, [0.0, 1.0, 0.5]), "grid"),
    (lambda: info.delta_n(RAD, [0.0, 1.0], kernel="cubic"), "kernel"),
    (lambda: info.delta_n(RAD, [0.0, 1.0], kernel="moment2", method="immse"), "method"),
    (lambda: info.delta_n(RAD, [0.0, 1.0], kernel="mean", method="logdet"), "method"),
    (lambda: info.geometric_grid(1.0, 3, 0.0), "alpha"),
    (lambda: info.optimal_grid(cp.discrete([[0.5]], [1.0]), 1.0, 3), "point mass"),
    (lambda: info.optimal_grid(RAD, 1.0, 0), "n"),
    (lambda: info.mmse_derivative(RAD, -0.5), "s"),
    (lambda: info.sampler(RAD, [0.0, 1.0], 0, seed=1), "n"),
    (lambda: info.sampler(RAD, [0.0, 1.0], 3, seed=-1), "seed"),
    (lambda: info.gaussian_path_laws(RAD, [0.0, 1.0]), "target"),
    (lambda: info.sampler_marginal_density(RAD, [0.0, 1.0], [0.0, 1.0]), "x"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
