"""Negative controls for chapter 3 (time reversal, probability-flow ODE, samplers): each check
of the chapter, given a perturbed statement, must fail."""
import numpy as np
import pytest
from scipy import stats

import companion as cp
from companion import verify

HS = np.array([0.04, 0.02, 0.01, 0.005])


def mixture_cdf(mix):
    w, m, s = mix.weights, mix.means[:, 0], np.sqrt(mix.covs[:, 0, 0])
    return lambda v: stats.norm.cdf((np.asarray(v)[:, None] - m) / s) @ w


def _residuals(proc, mix, T, t, x, **kw):
    return [np.abs(cp.sde.reverse_fokker_planck_residual(proc, mix, T, t, x, h, **kw)).max()
            for h in HS]


@pytest.fixture(scope="module")
def ring_points():
    ring = cp.targets.ring()
    return ring, ring.at(0.6).sample(150, seed=1)


@pytest.mark.parametrize("kw", [dict(score_coeff=0.5), dict(score_coeff=1.0, noise=False),
                                dict(score_coeff=-1.0)])
def test_reverse_fokker_planck_wrong_drift_fails(ring_points, kw):
    """The reverse SDE with the score's factor 2 halved, without its noise, or with the sign flipped."""
    ring, x = ring_points
    ou = cp.sde.OU()
    verify.slope("rev.fokker_planck", HS, _residuals(ou, ring, 2.0, 1.4, x), expected=2.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("rev.fokker_planck", HS, _residuals(ou, ring, 2.0, 1.4, x, **kw),
                     expected=2.0, tol=0.1)


def test_reverse_rhs_is_not_the_forward_rhs_unnegated(ring_points):
    """The reversed right side equals minus the forward one, not the forward one itself."""
    ring, x = ring_points
    q = ring.at(0.6)
    h = 1e-3
    lap = sum((q.pdf(x + h * e) - 2 * q.pdf(x) + q.pdf(x - h * e)) / h**2 for e in np.eye(2))
    flux = lambda y, c: (y + c * q.score(y)) * q.pdf(y)[:, None]
    div = lambda c: sum((flux(x + h * e, c)[:, j] - flux(x - h * e, c)[:, j]) / (2 * h)
                        for j, e in enumerate(np.eye(2)))
    reverse, forward = -div(2.0) + lap, div(0.0) + lap
    verify.close("rev.fokker_planck", reverse, -forward, atol=1e-5 * np.abs(forward).max())
    with pytest.raises(AssertionError):
        verify.close("rev.fokker_planck", reverse, forward, atol=1e-5 * np.abs(forward).max())


def test_reverse_sde_wrong_score_factor_misses_the_marginals():
    """Running dY = (Y + s) dt + sqrt 2 dB (factor 1, not 2): the particles leave q_{T-t}."""
    mu = cp.targets.bimodal()
    T = 3.0
    grid = cp.schedules.uniform(T, 300, delta=0.02)
    good = cp.samplers.sample(mu, T, grid, 20_000, seed=2, method="ei", start="exact")[:, 0]
    target = mu.at(0.02)
    verify.ks("rev.marginals", good, mixture_cdf(target))
    bad = cp.samplers.sample(mu, T, grid, 20_000, seed=2, method="ei", start="exact",
                             score=lambda tau, x: 0.5 * mu.at(tau).score(x))[:, 0]
    with pytest.raises(AssertionError):
        verify.ks("rev.marginals", bad, mixture_cdf(target))


def test_exponential_integrator_euler_variance_fails():
    """The one-step variance 2h (Euler-Maruyama's) in place of e^{2h} - 1."""
    h, y0, s = 0.5, 0.7, -1.3
    n, M = 50_000, 500
    shifted = cp.sde.ConstantLinear(f=-1.0, g=np.sqrt(2.0))
    z = cp.sde.euler_maruyama(shifted, np.full((n, 1), y0 + 2 * s), h, M, seed=3)[:, 0] - 2 * s
    se_v = np.sqrt(np.var((z - z.mean()) ** 2) / n)
    verify.close("rev.exp_integrator", z.var(), np.expm1(2 * h), stderr=se_v)
    with pytest.raises(AssertionError):
        verify.close("rev.exp_integrator", z.var(), 2 * h, stderr=se_v)
    se_m = z.std() / np.sqrt(n)
    with pytest.raises(AssertionError):     # the mean without the factor 2 on the score
        verify.close("rev.exp_integrator", z.mean(), np.exp(h) * y0 + np.expm1(h) * s, stderr=se_m)


@pytest.mark.parametrize("proc", [cp.sde.VP(0.1, 20.0, 1.0), cp.sde.VE(0.01, 10.0, 1.0)], ids=str)
def test_general_reversal_without_the_square_fails(ring_points, proc):
    """g instead of g^2 in front of the score (here: a coefficient of 1/2, and no noise)."""
    ring, x = ring_points
    hs = [0.02, 0.01, 0.005, 0.0025]
    res = lambda **kw: [np.abs(cp.sde.reverse_fokker_planck_residual(proc, ring, 1.0, 0.5, x, h, **kw)).max()
                        for h in hs]
    verify.slope("rev.time_reversal_general", hs, res(), expected=2.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("rev.time_reversal_general", hs, res(score_coeff=0.5), expected=2.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("rev.time_reversal_general", hs, res(noise=False), expected=2.0, tol=0.1)


def test_pf_ode_with_the_full_score_fails(ring_points):
    """The ODE velocity y + 2 s (the SDE's drift, without its noise) does not transport q."""
    ring, x = ring_points
    ou = cp.sde.OU()
    verify.slope("rev.pf_ode", HS, _residuals(ou, ring, 2.0, 1.0, x, score_coeff=0.5, noise=False),
                 expected=2.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("rev.pf_ode", HS, _residuals(ou, ring, 2.0, 1.0, x, score_coeff=1.0, noise=False),
                     expected=2.0, tol=0.1)
    # and the particles: Heun on dY/dt = Y + 2 s leaves the marginals
    mu = cp.targets.bimodal()
    grid = cp.schedules.uniform(3.0, 200, delta=0.02)
    bad = cp.samplers.sample(mu, 3.0, grid, 20_000, seed=4, method="heun", start="exact",
                             score=lambda tau, y: 2 * mu.at(tau).score(y))[:, 0]
    with pytest.raises(AssertionError):
        verify.ks("rev.pf_ode", bad, mixture_cdf(mu.at(0.02)))


def test_discretisation_orders_are_not_interchangeable():
    """Claiming order 2 for Euler-Maruyama, or order 1 for Heun, must fail."""
    gauss = cp.gaussian([0.8], [[1.29]])
    T, delta = 3.0, 0.05
    qd = gauss.at(delta)
    Ns = np.array([25, 50, 100, 200, 400])
    steps = (T - delta) / Ns

    def err(method):
        e = []
        for N in Ns:
            m, c = cp.samplers.gaussian_output_law(gauss, T, cp.schedules.uniform(T, N, delta=delta),
                                                   method=method, start="exact")
            e.append(abs(m[0] - qd.mean()[0]) + abs(c[0, 0] - qd.cov()[0, 0]))
        return np.array(e)

    em, heun = err("em"), err("heun")
    verify.slope("rev.discretisation_order", steps, em, expected=1.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("rev.discretisation_order", steps, em, expected=2.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("rev.discretisation_order", steps, heun, expected=1.0, tol=0.1)


def test_ula_unbiased_claim_fails():
    """The exact target variance v in place of v / (1 - eps / (2v))."""
    v, eps, n = 0.5, 0.2, 100_000
    langevin = cp.sde.ConstantLinear(f=1 / v, g=np.sqrt(2.0))
    y = cp.sde.euler_maruyama(langevin, np.zeros((n, 1)), eps * 60, 60, seed=6)[:, 0]
    V = y.var()
    se = np.sqrt(np.var((y - y.mean()) ** 2) / n)
    verify.close("rev.ula_bias", V, v / (1 - eps / (2 * v)), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("rev.ula_bias", V, v, stderr=se)


def test_ode_and_sde_paths_are_not_interchangeable():
    """Claiming the SDE path keeps Cov(Y_0, Y_1) = 1 like the ODE (or the ODE decorrelates)."""
    std = cp.gaussian([0.0], [[1.0]])
    grid = cp.schedules.uniform(3.0, 1500, delta=0.0)[:501]
    for method, right, wrong in (("em", np.exp(-1.0), 1.0), ("heun", 1.0, np.exp(-1.0))):
        p = cp.samplers.sample(std, 3.0, grid, 40_000, seed=7, method=method, return_path=True)
        prod = p[:, 0, 0] * p[:, -1, 0]
        se = prod.std() / np.sqrt(prod.size)
        verify.close("rev.ode_vs_sde_paths", prod.mean(), right, stderr=se)
        with pytest.raises(AssertionError):
            verify.close("rev.ode_vs_sde_paths", prod.mean(), wrong, stderr=se)


@pytest.mark.parametrize("wrong", ["score_weight_one", "no_growth", "variance_h"])
def test_one_step_wrong_version_fails(wrong):
    """One backward step with the score's factor 2 dropped, without the e^h growth of y, or with
    noise variance h instead of 2h: the error then falls like h, not h^2."""
    q_lop = cp.targets.lopsided(2)
    tau = 0.8
    y = q_lop.at(tau).sample(200, seed=2)
    err_mean, err_cov = [], []
    for h in HS:
        m, C = q_lop.at(tau - h).posterior(y, a=np.exp(-h), sigma=np.sqrt(-np.expm1(-2 * h)))
        s = q_lop.at(tau).score(y)
        step = {"score_weight_one": y + h * (y + s), "no_growth": y + 2 * h * s}.get(
            wrong, y + h * (y + 2 * s))
        err_mean.append(np.abs(m - step).max())
        err_cov.append(np.abs(C - (h if wrong == "variance_h" else 2 * h) * np.eye(2)).max())
    with pytest.raises(AssertionError):
        verify.slope("rev.one_step", HS, err_mean, expected=2.0, tol=0.1)
        verify.slope("rev.one_step", HS, err_cov, expected=2.0, tol=0.1)


def test_score_growth_global_lipschitz_claim_fails():
    """The first edition's standing assumption, a globally Lipschitz score: on the ring the
    largest Hessian eigenvalue of log q exceeds any constant, here 1e3 at radius 5 and 1e6 at
    radius 80, at least 40 R^2."""
    ring = cp.targets.ring()
    radii = np.array([5.0, 20.0, 80.0])
    ang = np.linspace(0, 2 * np.pi, 20_001)[:-1]
    top = []
    for R in radii:
        pts = R * np.column_stack([np.cos(ang), np.sin(ang)])
        top.append(np.linalg.eigvalsh(ring.hessian(pts)).max())
    top = np.array(top)
    with pytest.raises(AssertionError):                       # "bounded by the value at R = 5"
        verify.leq("rev.score_growth", top, np.full(3, top[0]) * 1.01)
    verify.leq("rev.score_growth", 40 * radii**2, top)         # what the chapter checks instead
