"""time, sde, ou, schedules, divergences and bounds against independent references."""
import numpy as np
import pytest
from scipy import integrate, stats

import companion as cp


def test_time_conversions():
    t = np.array([1e-6, 0.1, 1.0, 5.0])
    np.testing.assert_allclose(cp.time.alpha(t), np.exp(-t))
    # the naive 1 - exp(-2t) loses ~1e-10 relative at t = 1e-6 to cancellation; expm1 does not
    np.testing.assert_allclose(cp.time.sigma2(t), 1 - np.exp(-2 * t), rtol=1e-9)
    np.testing.assert_allclose(cp.time.sigma2(1e-6), 2e-6 - 2e-12 + 4e-18 / 3, rtol=1e-14)
    np.testing.assert_allclose(cp.time.sigma(t) ** 2, cp.time.sigma2(t), rtol=1e-14)
    s = cp.time.snr(t)
    np.testing.assert_allclose(s, cp.time.alpha(t) ** 2 / cp.time.sigma2(t), rtol=1e-12)
    np.testing.assert_allclose(cp.time.ou_time(s), t, rtol=1e-12)
    h = 1e-6
    fd = (cp.time.sigma(t[1:] + h) - cp.time.sigma(t[1:] - h)) / (2 * h)
    np.testing.assert_allclose(cp.time.dsigma_dt(t[1:]), fd, rtol=1e-6)
    assert isinstance(cp.time.alpha(0.5), float)


@pytest.mark.parametrize("fn", [cp.time.alpha, cp.time.sigma, cp.time.sigma2])
def test_time_rejects_negative_and_nan(fn):
    with pytest.raises(ValueError, match="t"):
        fn(-1.0)
    with pytest.raises(ValueError, match="t"):
        fn(np.nan)


def test_snr_rejects_zero():
    with pytest.raises(ValueError, match="t"):
        cp.time.snr(0.0)
    with pytest.raises(ValueError, match="s"):
        cp.time.ou_time(0.0)


SDES = [cp.sde.OU(), cp.sde.VP(0.1, 20.0, 1.0), cp.sde.VE(0.01, 10.0, 1.0), cp.sde.SubVP(0.1, 20.0, 1.0),
        cp.sde.ConstantLinear(-1.0, np.sqrt(2.0)), cp.sde.ConstantLinear(2.5, 0.5),
        cp.sde.ConstantLinear(0.0, 1.5)]


@pytest.mark.parametrize("proc", SDES, ids=str)
def test_closed_form_marginal_matches_quadrature(proc):
    # v(t) = int_0^t exp(-2 int_r^t f) g(r)^2 dr by nested quadrature, independent of the ODE route
    t = 0.7
    F = lambda a, b: integrate.quad(lambda u: float(proc.f(u)), a, b, epsabs=1e-13)[0]
    v = integrate.quad(lambda r: np.exp(-2 * F(r, t)) * float(proc.g(r)) ** 2, 0, t, epsabs=1e-13, limit=200)[0]
    np.testing.assert_allclose(proc.marginal_var(t), v, rtol=1e-9)
    np.testing.assert_allclose(proc.mean_coeff(t), np.exp(-F(0, t)), rtol=1e-12)
    np.testing.assert_allclose(cp.sde.moment_odes(proc, t), [proc.mean_coeff(t), proc.marginal_var(t)], rtol=1e-9)


@pytest.mark.parametrize("proc", SDES, ids=str)
def test_em_moments_match_simulation(proc):
    n = 100_000
    x = cp.sde.euler_maruyama(proc, np.full((n, 1), 1.5), 0.5, 40, seed=3)[:, 0]
    M, V = cp.sde.em_moments(proc, 0.5, 40)
    assert abs(x.mean() - 1.5 * M) < 5 * np.sqrt(V / n)
    assert abs(x.var() - V) < 5 * V * np.sqrt(2 / n)


def test_em_path_and_end_agree():
    x0 = np.ones((10, 2))
    path = cp.ou.euler_maruyama(x0, 1.0, 30, seed=1, return_path=True)
    end = cp.ou.euler_maruyama(x0, 1.0, 30, seed=1)
    assert path.shape == (10, 31, 2)
    np.testing.assert_array_equal(path[:, -1], end)
    np.testing.assert_array_equal(path[:, 0], x0)


def test_em_uses_documented_noise():
    # step k of particle i uses counter step k + 1: rebuild one step by hand
    x0 = np.array([[0.3, -0.2]])
    h = 0.1
    x1 = cp.ou.euler_maruyama(x0, h, 1, seed=8)
    z = cp.rng.normals(1, 2, seed=8, step=1)
    # the kernel forms sqrt(h) * sqrt(2) where this line forms sqrt(2h): one rounding apart
    np.testing.assert_allclose(x1, x0 - x0 * h + np.sqrt(2 * h) * z, rtol=1e-14)


def test_sde_marginal_and_bad_input():
    mu = cp.targets.bimodal()
    q = cp.sde.OU().marginal(mu, 0.4)
    np.testing.assert_allclose(q.covs, mu.at(0.4).covs)
    with pytest.raises(ValueError, match="sde"):
        cp.sde.euler_maruyama("OU", np.zeros((2, 1)), 1.0, 5, seed=1)
    with pytest.raises(ValueError, match="x0"):
        cp.sde.euler_maruyama(cp.sde.OU(), np.zeros(3), 1.0, 5, seed=1)
    with pytest.raises(ValueError, match="n_steps"):
        cp.ou.euler_maruyama(np.zeros((2, 1)), 1.0, 0, seed=1)
    with pytest.raises(ValueError, match="t_end"):
        cp.ou.euler_maruyama(np.zeros((2, 1)), -1.0, 3, seed=1)
    with pytest.raises(ValueError, match="g"):
        cp.sde.ConstantLinear(1.0, -1.0)
    with pytest.raises(ValueError, match="f"):
        cp.sde.ConstantLinear(np.nan, 1.0)
    with pytest.raises(ValueError, match="beta_min"):
        cp.sde.VP(beta_min=-1.0)
    with pytest.raises(ValueError, match="sigma_max"):
        cp.sde.VE(sigma_min=1.0, sigma_max=0.5)
    with pytest.raises(ValueError, match="mixture"):
        cp.sde.OU().marginal(None, 1.0)


def test_ito_integral_variance_and_law():
    t, M, n = 0.8, 200, 100_000
    x = cp.ou.ito_integral(t, M, n, seed=2)
    v = cp.ou.ito_sum_variance(t, M)
    assert abs(v - cp.time.sigma2(t)) < 1e-5
    assert stats.kstest(x / np.sqrt(v), "norm").pvalue > 1e-4
    with pytest.raises(ValueError, match="t"):
        cp.ou.ito_integral(0.0, 10, 10, seed=1)


def test_fokker_planck_residual_orders():
    mu = cp.targets.bimodal()
    x = np.linspace(-3, 3, 31)[:, None]
    r1 = np.abs(cp.ou.fokker_planck_residual(mu, 0.5, x, 0.02)).max()
    r2 = np.abs(cp.ou.fokker_planck_residual(mu, 0.5, x, 0.01)).max()
    assert 3.6 < r1 / r2 < 4.4
    with pytest.raises(ValueError, match="h"):
        cp.ou.fokker_planck_residual(mu, 0.5, x, -0.1)
    with pytest.raises(ValueError, match="x"):
        cp.ou.fokker_planck_residual(mu, 0.5, np.zeros((3, 2)), 0.1)


def test_sample_is_exact_marginal():
    mu = cp.targets.bimodal()
    x = cp.ou.sample(mu, 0.5, 50_000, seed=1)[:, 0]
    q = mu.at(0.5)
    assert abs(x.mean() - q.mean()[0]) < 5 * np.sqrt(q.cov()[0, 0] / x.size)


def test_schedules_uniform():
    g = cp.schedules.uniform(2.0, 4, delta=0.4)
    np.testing.assert_allclose(g, [0.0, 0.4, 0.8, 1.2, 1.6])
    with pytest.raises(ValueError, match="delta"):
        cp.schedules.uniform(1.0, 4, delta=1.0)
    with pytest.raises(ValueError, match="n_steps"):
        cp.schedules.uniform(1.0, 0)


def test_gaussian_kl_against_quadrature_and_mc():
    p = cp.gaussian([0.3, -0.1], [[1.2, 0.3], [0.3, 0.8]])
    q = cp.gaussian([0.0, 0.5], [[1.0, -0.2], [-0.2, 1.5]])
    exact = cp.divergences.gaussian_kl(p.means[0], p.covs[0], q.means[0], q.covs[0])
    np.testing.assert_allclose(cp.divergences.kl_grid(p, q, n_points=801), exact, rtol=1e-10)
    est, se = cp.divergences.kl_mc(p, q, 200_000, seed=1)
    assert abs(est - exact) < 5 * se


def test_tv_grid_of_shifted_gaussians():
    p, q = cp.gaussian([0.0], [[1.0]]), cp.gaussian([1.0], [[1.0]])
    np.testing.assert_allclose(cp.divergences.tv_grid(p, q, n_points=20001),
                               2 * stats.norm.cdf(0.5) - 1, rtol=1e-7)


def test_divergences_bad_input():
    p = cp.gaussian([0.0], [[1.0]])
    with pytest.raises(ValueError, match="c1"):
        cp.divergences.gaussian_kl([0.0], [[-1.0]], [0.0], [[1.0]])
    with pytest.raises(ValueError, match="dimension"):
        cp.divergences.kl_grid(p, cp.gaussian([0.0, 0.0], np.eye(2)))
    with pytest.raises(ValueError, match="densities"):
        cp.divergences.kl_grid(cp.targets.rademacher(1), p)
    with pytest.raises(ValueError, match="d <= 2"):
        cp.divergences.kl_grid(cp.gaussian(np.zeros(3), np.eye(3)), cp.gaussian(np.zeros(3), np.eye(3)))


def test_bounds_closed_forms():
    mu = cp.targets.standardise(cp.targets.ring())
    # E KL(N(e^-T x0, s^2 I) || N(0, I)) by sampling x0, against the closed form
    x0 = mu.sample(100_000, seed=1)
    T = 0.7
    s2 = cp.time.sigma2(T)
    per = [cp.divergences.gaussian_kl(np.exp(-T) * x, s2 * np.eye(2), np.zeros(2), np.eye(2)) for x in x0[:2000]]
    assert abs(np.mean(per) - cp.bounds.convexity_bound(mu, T)) < 5 * np.std(per) / np.sqrt(2000)
    np.testing.assert_allclose(cp.bounds.convexity_bound(mu, T), cp.bounds.lemma33_bound(2, T), rtol=1e-12)
    assert cp.bounds.lemma33_bound(3, 1.0) <= cp.bounds.lemma33_simple_bound(3, 1.0)
    np.testing.assert_allclose(cp.bounds.kl_decay_bound(2.0, 1.0), 2 * np.exp(-2))
    with pytest.raises(ValueError, match="T"):
        cp.bounds.lemma33_bound(2, 0.0)
    with pytest.raises(ValueError, match="kl0"):
        cp.bounds.kl_decay_bound(-1.0, 1.0)
    with pytest.raises(ValueError, match="d"):
        cp.bounds.lemma33_simple_bound(0, 1.0)


def test_reverse_fokker_planck_residual_against_exact_derivatives():
    # with the exact score, the residual's pieces are differences of closed forms: compare with
    # the analytic value of the reversed OU equation, d/dt p + div((x + 2s) p) - Lap p = 0
    mu = cp.targets.bimodal()
    x = np.linspace(-3, 3, 13)[:, None]
    r = cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3)
    assert np.abs(r).max() < 1e-5
    # a wrong coefficient leaves the analytic difference: c = 1/2 misses (1/2) * 2 div(s p) = Lap p
    r_half = cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3, score_coeff=0.5)
    q = mu.at(1.0)
    h = 1e-4
    lap = (q.pdf(x + h) - 2 * q.pdf(x) + q.pdf(x - h)) / h**2
    np.testing.assert_allclose(r_half, -lap, atol=1e-5)


def test_reverse_fokker_planck_residual_noise_level():
    # the family lam >= 0 with score coefficient (1 + lam^2) / 2; a wrong coefficient c leaves
    # (c - (1 + lam^2) / 2) g^2 div(s p) = (c - (1 + lam^2) / 2) g^2 Lap p, here g^2 = 2
    mu = cp.targets.bimodal()
    x = np.linspace(-3, 3, 13)[:, None]
    q = mu.at(1.0)
    hh = 1e-4
    lap = (q.pdf(x + hh) - 2 * q.pdf(x) + q.pdf(x - hh)) / hh**2
    for lam in (0.0, 0.5, 2.0):
        good = cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3,
                                                     score_coeff=(1 + lam**2) / 2, noise=lam)
        assert np.abs(good).max() < 1e-5
        bad = cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3,
                                                    score_coeff=1.0, noise=lam)
        np.testing.assert_allclose(bad, (1.0 - (1 + lam**2) / 2) * 2 * lap, atol=1e-5)
    # True and False are the levels 1 and 0
    a = cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3, score_coeff=0.7, noise=False)
    b = cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3, score_coeff=0.7, noise=0.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match="noise"):
        cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, x, 1e-3, noise=-1.0)


def test_reverse_fokker_planck_residual_bad_input():
    mu = cp.targets.bimodal()
    x = np.zeros((3, 1))
    with pytest.raises(ValueError, match="sde"):
        cp.sde.reverse_fokker_planck_residual("OU", mu, 2.0, 1.0, x, 0.01)
    with pytest.raises(ValueError, match="mixture"):
        cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), None, 2.0, 1.0, x, 0.01)
    with pytest.raises(ValueError, match="t"):
        cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 2.0, x, 0.01)
    with pytest.raises(ValueError, match="x"):
        cp.sde.reverse_fokker_planck_residual(cp.sde.OU(), mu, 2.0, 1.0, np.zeros((3, 2)), 0.01)


def test_bounds_pinned_to_their_formulas():
    """Each closed-form bound against the formula written out independently, including the
    crossing where the two forms of Lemma 3.3 are equal."""
    T = np.array([0.05, 0.1136, 0.5, 2.0, 7.0])
    for d in (1, 3):
        np.testing.assert_allclose(cp.bounds.lemma33_simple_bound(d, T), d * np.exp(-2 * T), rtol=1e-14)
        np.testing.assert_allclose(cp.bounds.lemma33_bound(d, T), -0.5 * d * np.log(1 - np.exp(-2 * T)),
                                   rtol=1e-12)
    np.testing.assert_allclose(cp.bounds.kl_decay_bound(0.7, T), 0.7 * np.exp(-2 * T), rtol=1e-14)
    from scipy.optimize import brentq
    Ts = brentq(lambda t: -0.5 * np.log(1 - np.exp(-2 * t)) - np.exp(-2 * t), 0.05, 0.5, xtol=1e-15)
    np.testing.assert_allclose(cp.bounds.lemma33_bound(2, Ts), cp.bounds.lemma33_simple_bound(2, Ts), rtol=1e-10)
    mu = cp.targets.bimodal()
    m2 = mu.cov()[0, 0] + mu.mean()[0] ** 2
    s2 = 1 - np.exp(-1.0)
    np.testing.assert_allclose(cp.bounds.convexity_bound(mu, 0.5),
                               0.5 * (np.exp(-1.0) * m2 + s2 - 1 - np.log(s2)), rtol=1e-12)


def test_grid_for_cell_volume_and_quadrature_against_closed_forms():
    q = cp.gaussian([0.3, -1.0], [[0.5, 0.1], [0.1, 0.3]])
    pts, vol = cp.divergences.grid_for([q], 101, width=6.0)
    xs, ys = np.unique(pts[:, 0]), np.unique(pts[:, 1])
    np.testing.assert_allclose(vol, (xs[1] - xs[0]) * (ys[1] - ys[0]), rtol=1e-12)
    np.testing.assert_allclose(np.sum(q.pdf(pts)) * vol, 1.0, rtol=1e-8)
    p1, q1 = cp.gaussian([1.5], [[1.0]]), cp.gaussian([0.0], [[1.0]])
    np.testing.assert_allclose(cp.divergences.kl_grid(p1, q1, n_points=2001), 1.125, rtol=1e-10)
    # |p - q| has a kink where p = q, so the trapezoid rule is only second order there:
    # an error of order (cell width)^2 ~ 3e-5 at most
    np.testing.assert_allclose(cp.divergences.tv_grid(p1, q1, n_points=4001),
                               2 * __import__("scipy").stats.norm.cdf(0.75) - 1, atol=3e-5)


@pytest.mark.parametrize("proc", [cp.sde.OU(), cp.sde.ConstantLinear(2.5, 0.7), cp.sde.VP(0.1, 20.0, 1.0),
                                  cp.sde.CVP(0.1, 2.0, 1.0)])
def test_em_moments_against_independent_formulas(proc):
    t, N = 0.8, 16
    M, V = cp.sde.em_moments(proc, t, N)
    h = t / N
    if isinstance(proc, cp.sde.ConstantLinear):              # geometric sums in closed form
        a = 1 - proc.f_value * h
        np.testing.assert_allclose(M, a**N, rtol=1e-13)
        np.testing.assert_allclose(V, proc.g_value**2 * h * (1 - a ** (2 * N)) / (1 - a * a), rtol=1e-12)
    else:                                                    # the chain's covariance, by linear algebra
        ks = np.arange(N) * h
        a = 1 - proc.f(ks) * h
        tails = np.array([np.prod(a[k + 1:]) for k in range(N)])
        np.testing.assert_allclose(M, np.prod(a), rtol=1e-13)
        np.testing.assert_allclose(V, np.sum(tails**2 * proc.g(ks) ** 2 * h), rtol=1e-12)


def test_exact_path_is_the_exact_transition():
    x0 = np.array([[1.0, -2.0], [0.5, 0.0]])
    p = cp.ou.exact_path(x0, [0.3, 1.0], seed=4)
    z1, z2 = cp.rng.normals(2, 2, 4, step=1), cp.rng.normals(2, 2, 4, step=2)
    x1 = np.exp(-0.3) * x0 + np.sqrt(1 - np.exp(-0.6)) * z1
    np.testing.assert_allclose(p[:, 0], x1, rtol=1e-14)
    np.testing.assert_allclose(p[:, 1], np.exp(-0.7) * x1 + np.sqrt(1 - np.exp(-1.4)) * z2, rtol=1e-14)
    with pytest.raises(ValueError, match="times"):
        cp.ou.exact_path(x0, [0.5, 0.2], seed=0)


def test_langevin_fp_residual_is_second_order_for_the_invariant_law():
    q = cp.targets.lopsided(2)
    x = q.sample(50, seed=3)
    r = [np.abs(cp.sde.langevin_fp_residual(q, 1.2, x, h)).max() for h in (0.02, 0.01, 0.005)]
    assert abs(np.polyfit(np.log([0.02, 0.01, 0.005]), np.log(r), 1)[0] - 2) < 0.1
    with pytest.raises(ValueError, match="x"):
        cp.sde.langevin_fp_residual(q, 1.0, np.zeros((3, 1)), 0.01)
