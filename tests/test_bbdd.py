"""Unit tests of companion.bbdd and the chapter-6 closed forms of companion.bounds, against
independent references: closed forms, SciPy quadrature, the samplers' own exact output law and
Monte Carlo."""
import numpy as np
import pytest
from scipy import integrate

import companion as cp
from companion import bbdd

GM = cp.GaussianMixture([0.3, 0.7], [[-2.0], [1.0]], [[[0.25]], [[0.5]]])


def v_of(c, u):
    return c * np.exp(-2 * u) - np.expm1(-2 * u)


# ------------------------------------------------------------------------------ helpers
def test_gh_rule_moments():
    z, w = bbdd.gh_rule(30)
    assert abs(w.sum() - 1) < 1e-13
    assert abs(w @ z**2 - 1) < 1e-12 and abs(w @ z**6 - 15) < 1e-10


def test_derivative_fourth_order():
    assert abs(bbdd.derivative(np.sin, 1.0) - np.cos(1.0)) < 1e-12
    with pytest.raises(ValueError, match="f"):
        bbdd.derivative(1.0, 1.0)
    with pytest.raises(ValueError, match="t"):
        bbdd.derivative(np.sin, 0.0)


# ----------------------------------------------------------------- posterior moments
@pytest.mark.parametrize("u", [0.05, 0.4, 2.0])
def test_posterior_moments_gaussian_closed_form(u):
    c = 0.7
    pm = bbdd.posterior_moments(cp.gaussian([0.3], [[c]]), u)
    v = v_of(c, u)
    s2 = -np.expm1(-2 * u)
    assert np.allclose(pm, [c * s2 / v, (c * s2 / v) ** 2, 1 / v, 1 / v**2], rtol=1e-13)


@pytest.mark.parametrize("u", [0.05, 0.4, 2.0])
def test_posterior_moments_mixture_path_matches_closed_form(u):
    """Two identical components: the quadrature path must reproduce the Gaussian formula."""
    twin = cp.GaussianMixture([0.4, 0.6], [[0.3], [0.3]], [[[0.7]], [[0.7]]])
    ref = bbdd.posterior_moments(cp.gaussian([0.3], [[0.7]]), u)
    assert np.allclose(bbdd.posterior_moments(twin, u), ref, rtol=1e-11)


def test_posterior_moments_diagonal_gaussian_is_sum_of_coordinates():
    C = np.diag([0.2, 1.0, 3.0])
    pm = bbdd.posterior_moments(cp.gaussian(np.zeros(3), C), 0.6)
    parts = [bbdd.posterior_moments(cp.gaussian([0.0], [[c]]), 0.6) for c in np.diag(C)]
    assert np.allclose(pm, np.sum(parts, axis=0), rtol=1e-13)


def test_posterior_moments_grid_against_scipy():
    u = 0.3
    q = GM.at(u)
    f = lambda x: q.pdf(np.array([[x]]))[0] * q.hessian(np.array([[x]]))[0, 0, 0] ** 2
    ref = integrate.quad(f, -12, 12, limit=400, epsabs=1e-13)[0]
    assert abs(bbdd.posterior_moments(GM, u).hessian_energy - ref) < 1e-10


def test_posterior_moments_bad_input():
    with pytest.raises(ValueError, match="target"):
        bbdd.posterior_moments(cp.targets.ring(), 1.0)
    with pytest.raises(ValueError, match="u"):
        bbdd.posterior_moments(GM, 0.0)
    with pytest.raises(ValueError, match="method"):
        bbdd.posterior_moments(GM, 1.0, method="simpson")


# -------------------------------------------------------------------- pair moments
def test_pair_moments_quadrature_matches_closed_form():
    g = cp.gaussian([0.5], [[3.0]])
    s, t = np.array([0.1, 0.4, 1.5]), np.array([0.3, 1.1, 1.95])
    a = bbdd.pair_moments(g, 2.0, s, t)
    b = bbdd.pair_moments(g, 2.0, s, t, method="quadrature")
    for x, y in zip(a, b):
        assert np.allclose(x, y, rtol=1e-11)


def test_pair_moments_gaussian_formula():
    c, T, s, t = 0.5, 3.0, 0.4, 2.0
    pm = bbdd.pair_moments(cp.gaussian([0.0], [[c]]), T, s, t)
    va, vb = v_of(c, T - t), v_of(c, T - s)
    assert np.isclose(pm.E, 1 / va + 1 / vb - 2 * np.exp(-(t - s)) / vb, rtol=1e-13)


def test_pair_moments_one_time_marginals_match_posterior_moments():
    """The kernel's own score and Hessian, against the oracle's, through one-time moments."""
    T, s, t = 2.0, 0.5, 1.2
    pm = bbdd.pair_moments(GM, T, s, t)
    at_t = bbdd.posterior_moments(GM, T - t)
    at_s = bbdd.posterior_moments(GM, T - s)
    assert np.isclose(pm.hess_t, at_t.hessian_energy, rtol=1e-10)
    assert np.isclose(pm.score_t, at_t.score_energy, rtol=1e-10)
    assert np.isclose(pm.score_s, at_s.score_energy, rtol=1e-10)


def test_pair_moments_monte_carlo():
    """E_{s,t} against a direct simulation of (X_{T-t}, X_{T-s}) with the oracle's scores."""
    T, s, t, n = 2.0, 0.6, 1.3, 200_000
    a, b = T - t, T - s
    x0 = GM.sample(n, seed=3)
    z = cp.rng.normals(n, 2, seed=4)
    xa = np.exp(-a) * x0 + np.sqrt(-np.expm1(-2 * a)) * z[:, :1]
    xb = np.exp(-(b - a)) * xa + np.sqrt(-np.expm1(-2 * (b - a))) * z[:, 1:]
    diff = (GM.at(a).score(xa) - GM.at(b).score(xb))[:, 0] ** 2
    pm = bbdd.pair_moments(GM, T, s, t)
    assert abs(diff.mean() - pm.E) < 5 * diff.std() / np.sqrt(n)


def test_pair_moments_bad_input():
    with pytest.raises(ValueError, match="0 <= s <= t < T"):
        bbdd.pair_moments(GM, 2.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="0 <= s <= t < T"):
        bbdd.pair_moments(GM, 2.0, 0.5, 2.0)
    with pytest.raises(ValueError, match="method"):
        bbdd.pair_moments(GM, 2.0, 0.5, 1.0, method="mc")
    with pytest.raises(ValueError, match="order"):
        bbdd.pair_moments(GM, 2.0, 0.5, 1.0, order=500)


# ------------------------------------------------------------------------- Error 3
def test_error3_gaussian_against_scipy():
    c, T = 0.25, 3.0
    g = cp.schedules.bbdd23(T, 0.05, 0.3)
    ref = 0.0
    for tk, tk1 in zip(g[:-1], g[1:]):
        vb = v_of(c, T - tk)
        f = lambda t: 1 / v_of(c, T - t) + 1 / vb - 2 * np.exp(-(t - tk)) / vb
        ref += integrate.quad(f, tk, tk1, epsabs=1e-14)[0]
    assert np.isclose(bbdd.error3(cp.gaussian([0.0], [[c]]), T, g), ref, rtol=1e-10)


def test_error3_mixture_against_monte_carlo():
    T = 3.0
    g = cp.schedules.bbdd23(T, 0.01, 0.2)
    est, se = bbdd.error3_mc(GM, T, g, 100_000, seed=5)
    assert abs(est - bbdd.error3(GM, T, g)) < 5 * se


def test_error3_mc_gaussian_any_dimension():
    T = 3.0
    g = cp.schedules.bbdd23(T, 0.01, 0.2)
    C = np.array([[0.5, 0.2, 0.0], [0.2, 1.0, 0.1], [0.0, 0.1, 0.3]])
    mu = cp.gaussian([0.2, 0.0, -0.3], C)
    est, se = bbdd.error3_mc(mu, T, g, 60_000, seed=6)
    assert abs(est - bbdd.error3(mu, T, g)) < 5 * se
    assert bbdd.error3_mc(mu, T, g, 1000, seed=6) == bbdd.error3_mc(mu, T, g, 1000, seed=6)


def test_fisher_information_against_posterior_moments_and_de_bruijn():
    # one-time Fisher information J(u) = E||grad log q_u||^2: the vectorised trapezoid rule
    # against posterior_moments (targets' own score and density), and for a Gaussian in d = 3
    # against tr Sigma_u^{-1}; then the OU de Bruijn relation J'(u) = 2 J(u) - 2 E||H||_F^2
    us = np.array([0.01, 0.1, 0.7, 2.5])
    J = bbdd.fisher_information(GM, us)
    ref = [bbdd.posterior_moments(GM, u).score_energy for u in us]
    np.testing.assert_allclose(J, ref, rtol=1e-11)
    C = np.array([[0.5, 0.2, 0.0], [0.2, 1.0, 0.1], [0.0, 0.1, 0.3]])
    Jg = bbdd.fisher_information(cp.gaussian(np.zeros(3), C), us)
    ref_g = [np.trace(np.linalg.inv(np.exp(-2 * u) * C - np.expm1(-2 * u) * np.eye(3))) for u in us]
    np.testing.assert_allclose(Jg, ref_g, rtol=1e-13)
    for u in (0.1, 0.7):
        dJ = bbdd.derivative(lambda v: float(bbdd.fisher_information(GM, v)), u)
        H = bbdd.posterior_moments(GM, u).hessian_energy
        assert abs(dJ - (2 * float(bbdd.fisher_information(GM, u)) - 2 * H)) < 1e-7 * abs(dJ)


@pytest.mark.parametrize("T, delta, kappa", [(2.0, 1e-3, 0.2), (4.0, 1e-2, 0.05), (1.0, 0.1, 0.5)])
def test_error3_from_the_fisher_information_equals_the_pair_quadrature(T, delta, kappa):
    g = cp.schedules.bbdd23(T, delta, kappa)
    # mixture: the tensor Gauss-Hermite rule of error3 leaves ~5e-11 at 300 nodes
    assert abs(bbdd.error3_fisher(GM, T, g) / bbdd.error3(GM, T, g, order=300) - 1) < 1e-9
    # Gaussian in d = 3 (correlated): closed forms on both sides, quadrature only in t
    C = np.array([[0.5, 0.2, 0.0], [0.2, 1.0, 0.1], [0.0, 0.1, 0.3]])
    mu = cp.gaussian([0.2, 0.0, -0.3], C)
    assert abs(bbdd.error3_fisher(mu, T, g) / bbdd.error3(mu, T, g) - 1) < 1e-11


def test_fisher_information_bad_input():
    with pytest.raises(ValueError, match="u"):
        bbdd.fisher_information(GM, [0.0, 1.0])
    with pytest.raises(ValueError, match="grid"):
        bbdd.error3_fisher(GM, 2.0, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="nodes"):
        bbdd.error3_fisher(GM, 2.0, [0.0, 1.0], nodes=1)


def test_error3_bad_input():
    with pytest.raises(ValueError, match="grid"):
        bbdd.error3(GM, 2.0, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="target"):
        bbdd.error3_mc(cp.targets.rademacher(1), 2.0, [0.0, 1.0], 10, seed=0)
    with pytest.raises(ValueError, match="n"):
        bbdd.error3_mc(GM, 2.0, [0.0, 1.0], 1, seed=0)


def test_path_kl_gaussian_against_pair_moments():
    """E||S_t - (1+eta) S_tk||^2 = score_t + (1+eta)^2 score_s - 2 (1+eta) cross, integrated."""
    c, T, eta = 0.25, 3.0, 0.3
    g = cp.schedules.uniform(T, 12, delta=0.05)
    x, w = np.polynomial.legendre.leggauss(8)
    total = 0.0
    gauss = cp.gaussian([0.0, 0.0], c * np.eye(2))
    for tk, tk1 in zip(g[:-1], g[1:]):
        t = tk + 0.5 * (tk1 - tk) * (x + 1)
        pm = bbdd.pair_moments(gauss, T, np.full_like(t, tk), t)
        f = pm.score_t + (1 + eta) ** 2 * pm.score_s - 2 * (1 + eta) * pm.cross
        total += 0.5 * (tk1 - tk) * (w @ f)
    assert np.isclose(bbdd.path_kl_gaussian(c, 2, T, g, eta=eta), total, rtol=1e-11)
    with_bias = bbdd.path_kl_gaussian(c, 2, T, g, eta=eta, bias=0.2)
    assert np.isclose(with_bias - total, 0.04 * g[-1], rtol=1e-11)


# ------------------------------------------------------------ exact output laws
@pytest.mark.parametrize("start", ["gaussian", "exact"])
def test_ei_gaussian_law_matches_samplers(start):
    g = cp.schedules.bbdd23(3.0, 0.02, 0.25)
    mean = np.array([0.4, -1.0])
    m, C = cp.samplers.gaussian_output_law(cp.gaussian(mean, 0.6 * np.eye(2)), 3.0, g,
                                           start=start, score_error=0.3)
    M, V = bbdd.ei_gaussian_law(0.6, mean, 3.0, g, start=start, bias=[0.3, 0.0])
    assert np.allclose(M, m, rtol=1e-12, atol=1e-14) and np.allclose(V, np.diag(C), rtol=1e-12)


def test_ei_gaussian_law_multiplicative_error_monte_carlo():
    c, T, eta, n = 0.5, 2.0, 0.4, 40_000
    mu = cp.gaussian([0.7], [[c]])
    g = cp.schedules.uniform(T, 15, delta=0.05)
    y = cp.samplers.sample(mu, T, g, n, seed=8, start="gaussian",
                           score=lambda tau, x: (1 + eta) * mu.at(tau).score(x))[:, 0]
    M, V = bbdd.ei_gaussian_law(c, [0.7], T, g, eta=eta)
    assert abs(y.mean() - M[0]) < 5 * y.std() / np.sqrt(n)
    v, se = cp.stats.variance_stderr(y)
    assert abs(v - V[0]) < 5 * se


def test_sampler_kl_gaussian_matches_gaussian_kl():
    g = cp.schedules.bbdd23(3.0, 0.02, 0.25)
    M, V = bbdd.ei_gaussian_law(0.6, [0.4, -1.0], 3.0, g)
    q = cp.gaussian([0.4, -1.0], 0.6 * np.eye(2)).at(3.0 - g[-1])
    ref = cp.divergences.gaussian_kl(q.means[0], q.covs[0], M, np.diag(V))
    assert np.isclose(bbdd.sampler_kl_gaussian(0.6, [0.4, -1.0], 3.0, g), ref, rtol=1e-12)


def test_output_law_bad_input():
    g = cp.schedules.uniform(2.0, 4, delta=0.1)
    with pytest.raises(ValueError, match="start"):
        bbdd.ei_gaussian_law(0.5, [0.0], 2.0, g, start="uniform")
    with pytest.raises(ValueError, match="bias"):
        bbdd.ei_gaussian_law(0.5, [0.0, 0.0], 2.0, g, bias=[1.0])
    with pytest.raises(ValueError, match="grid"):
        bbdd.ei_gaussian_law(0.5, [0.0], 2.0, [0.0, 3.0])
    with pytest.raises(ValueError, match="eta"):
        bbdd.ei_gaussian_law(0.5, [0.0], 2.0, g, eta=-2.0)


def test_steps_needed_is_minimal():
    N, kappa = bbdd.steps_needed(0.25, 4, 4.0, 1e-3, 1e-3, tol=1e-8)
    kl = lambda k: 4 * bbdd.sampler_kl_gaussian(0.25, np.zeros(1), 4.0,
                                                cp.schedules.bbdd23(4.0, 1e-3, k), start="exact")
    assert kl(kappa) <= 1e-3 < kl(kappa * (1 + 1e-6))
    with pytest.raises(ValueError, match="target_kl"):
        bbdd.steps_needed(0.25, 4, 4.0, 1e-3, 0.0)


# ------------------------------------------------------------------------ bounds
def test_inv_sigma4_integral_against_quad():
    for u0, u1 in ((0.01, 0.2), (0.3, 2.0), (1.0, 5.0)):
        ref = integrate.quad(lambda u: (-np.expm1(-2 * u)) ** -2, u0, u1, epsabs=1e-13)[0]
        assert np.isclose(cp.bounds.inv_sigma4_integral(u0, u1), ref, rtol=1e-11)
    with pytest.raises(ValueError, match="u0"):
        cp.bounds.inv_sigma4_integral(0.0, 1.0)


def test_hessian_energy_bound_against_finite_difference():
    c, t = 0.3, 0.7
    tr = lambda u: c * (-np.expm1(-2 * u)) / v_of(c, u)
    phi = lambda u: (-np.expm1(-2 * u)) ** -2 * tr(u)
    dtr = bbdd.derivative(tr, t)
    ref = (-np.expm1(-2 * t)) ** -2 + 0.5 * bbdd.derivative(phi, t)
    assert np.isclose(cp.bounds.hessian_energy_bound(1, t, tr(t), dtr), ref, rtol=1e-9)
    with pytest.raises(ValueError, match="tr_cov"):
        cp.bounds.hessian_energy_bound(1, t, -1.0, dtr)


def test_eq24_bound_against_quadrature():
    c, T, tk, t = 0.4, 2.0, 0.5, 1.3
    tr = lambda u: c * (-np.expm1(-2 * u)) / v_of(c, u)
    phi = lambda r: (-np.expm1(-2 * (T - r))) ** -2 * tr(T - r)
    integrand = lambda r: (1 / -np.expm1(-2 * (T - tk)) + 2 * (-np.expm1(-2 * (T - r))) ** -2)
    ref = integrate.quad(integrand, tk, t, epsabs=1e-13)[0] - (phi(t) - phi(tk))
    got = cp.bounds.eq24_bound(1, T, tk, t, tr(T - tk), tr(T - t))
    assert np.isclose(got, ref, rtol=1e-10)
    with pytest.raises(ValueError, match="tk"):
        cp.bounds.eq24_bound(1, T, 1.5, 1.0, 0.1, 0.1)


def test_bbdd23_tuning_and_terms():
    T, N, kappa = cp.bounds.bbdd23_tuning(16, 0.2, 1e-2)
    assert np.isclose(T, 0.5 * np.log(16 / 0.04))
    assert N == int(np.ceil(16 * (T + np.log(100)) ** 2 / 0.04))
    terms = cp.bounds.bbdd23_terms(16, N, kappa, T, 0.2)
    assert np.isclose(terms[3], 0.04) and np.all(terms[1:3] <= 0.04 * (1 + 1e-12))
    with pytest.raises(ValueError, match="eps"):
        cp.bounds.bbdd23_tuning(1, 0.5, 1e-2)
    with pytest.raises(ValueError, match="kappa"):
        cp.bounds.bbdd23_terms(1, 10, 0.0, 2.0, 0.1)


def test_step_counts():
    c = cp.bounds.step_counts(np.array([2.0]), 0.5, 0.1, L=3.0, R=2.0)
    assert np.isclose(c["ccl23_lipschitz"][0], 2 * 9 / 0.25)
    assert np.isclose(c["ccl23_support"][0], 2 * 16 / (0.25 * 1e-4))
    assert np.isclose(c["cll23"][0], 4 * np.log(10) ** 2 / 0.25)
    assert np.isclose(c["bbdd23"][0], 2 * np.log(10) ** 2 / 0.25)
    with pytest.raises(ValueError, match="d"):
        cp.bounds.step_counts(0.5, 0.1, 0.1)


def test_bbdd_bound_figure():
    import matplotlib.pyplot as plt

    fig = cp.widgets.bbdd_bound_figure(0.1, 3.0, d=4)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="kappa"):
        cp.widgets.bbdd_bound_figure(0.0, 3.0)


def test_bbdd_explorer():
    box = cp.widgets.bbdd_explorer(kappa=0.2, T=2.0, d=4)
    assert set(box.sliders) == {"kappa", "T"} and box.values() == {"kappa": 0.2, "T": 2.0}
    box.sliders["T"].value = 3.0                      # redraws at once (no event loop)
    assert len(box.redraw_times) == 2
    with pytest.raises(ValueError, match="d"):
        cp.widgets.bbdd_explorer(d=0)
    with pytest.raises(ValueError):
        cp.widgets.bbdd_explorer(kappa=0.3)            # not a value of the slider
