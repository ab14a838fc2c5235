"""Negative controls for the identities added to chapter 1 in its second edition: each check of
the chapter, run with the true statement, passes; with a plausible wrong statement it fails.

The computations are those of the chapter (same tolerance rules), at a smaller size."""
import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

import companion as cp
from companion import verify

GAMMA1 = cp.gaussian([0.0], [[1.0]])
GAMMA2 = cp.gaussian(np.zeros(2), np.eye(2))


def rel_fisher(p, n_points=2001):
    x, dx = cp.divergences.grid_for([p, GAMMA1], n_points)
    return float(np.sum(p.pdf(x) * (p.score(x)[:, 0] + x[:, 0]) ** 2) * dx)


def abs_fisher(p, n_points=2001):
    x, dx = cp.divergences.grid_for([p, GAMMA1], n_points)
    return float(np.sum(p.pdf(x) * p.score(x)[:, 0] ** 2) * dx)


def kl_slope(p, T, h):
    kl_at = lambda s: cp.divergences.kl_grid(p.at(s), GAMMA1, n_points=2001)
    return (kl_at(T + h) - kl_at(T - h)) / (2 * h)


@pytest.fixture(scope="module")
def de_bruijn_sides():
    mu = cp.targets.lopsided()
    Ts = np.array([0.2, 1.0])
    d_h = np.array([kl_slope(mu, T, 1e-3) for T in Ts])
    d_2h = np.array([kl_slope(mu, T, 2e-3) for T in Ts])
    rtol = 5 * np.max(np.abs(d_2h - d_h) / (3 * np.abs(d_h)))
    return mu, Ts, d_h, rtol


def test_de_bruijn_true_statement_passes(de_bruijn_sides):
    mu, Ts, d_h, rtol = de_bruijn_sides
    verify.close("ou.de_bruijn", d_h, [-rel_fisher(mu.at(T)) for T in Ts], rtol=rtol)


@pytest.mark.parametrize("wrong", ["factor two", "absolute Fisher information"])
def test_de_bruijn_wrong_rate_fails(de_bruijn_sides, wrong):
    """dKL/dt = -2 I, or minus the absolute Fisher information int q |grad log q|^2."""
    mu, Ts, d_h, rtol = de_bruijn_sides
    rhs = [-2 * rel_fisher(mu.at(T)) if wrong == "factor two" else -abs_fisher(mu.at(T)) for T in Ts]
    with pytest.raises(AssertionError):
        verify.close("ou.de_bruijn", d_h, rhs, rtol=rtol)


def test_lsi_constant_one_quarter_fails_on_the_mixture():
    """KL <= I/4: the bimodal mixture along the flow breaks it."""
    mu = cp.targets.bimodal()
    Ts = np.array([0.3, 1.0, 2.0])
    kl = [cp.divergences.kl_grid(mu.at(T), GAMMA1, n_points=2001) for T in Ts]
    fisher = np.array([rel_fisher(mu.at(T)) for T in Ts])
    verify.leq("ou.gaussian_lsi", kl, fisher / 2, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.leq("ou.gaussian_lsi", kl, fisher / 4, atol=1e-12)


def test_lsi_constant_one_fails_the_equality_case():
    """KL = I (constant 1 instead of 1/2) for the translates N(m, 1)."""
    ps = [cp.gaussian([1.5], [[1.0]]).at(T) for T in (0.0, 0.5, 2.0)]
    kl = [cp.divergences.kl_grid(p, GAMMA1, n_points=2001) for p in ps]
    verify.close("ou.gaussian_lsi", kl, [rel_fisher(p) / 2 for p in ps], rtol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("ou.gaussian_lsi", kl, [rel_fisher(p) for p in ps], rtol=1e-10)


def test_fisher_decay_rate_four_fails():
    """I(q_t) <= e^{-4t} I(q) is false for a law with a mean (the rate 2 is attained)."""
    mu = cp.targets.bimodal()
    Ts = np.array([1.0, 2.0, 3.0])
    fisher0 = rel_fisher(mu)
    fisher = np.array([rel_fisher(mu.at(T)) for T in Ts])
    verify.leq("ou.gaussian_lsi", fisher, np.exp(-2 * Ts) * fisher0, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.leq("ou.gaussian_lsi", fisher, np.exp(-4 * Ts) * fisher0, atol=1e-12)


def _w2(p):
    return cp.divergences.gaussian_w2(p.means[0], p.covs[0], np.zeros(2), np.eye(2))


def test_w2_contraction_rate_two_fails():
    """W_2(q_T, gamma) <= e^{-2T} W_2(q, gamma): false (that is the rate of KL, not of W_2)."""
    Ts = np.array([0.5, 1.0, 2.0])
    rot = np.array([[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]])
    q = cp.gaussian([1.0, -0.5], rot @ np.diag([0.2, 3.0]) @ rot.T)
    lhs = [_w2(q.at(T)) for T in Ts]
    verify.leq("ou.w2_contraction", lhs, np.exp(-Ts) * _w2(q))
    with pytest.raises(AssertionError):
        verify.leq("ou.w2_contraction", lhs, np.exp(-2 * Ts) * _w2(q))
    shift = cp.gaussian([1.0, -0.5], np.eye(2))
    with pytest.raises(AssertionError):
        verify.close("ou.w2_contraction", [_w2(shift.at(T)) for T in Ts],
                     np.exp(-2 * Ts) * np.hypot(1.0, -0.5), rtol=1e-10)


def test_w2_equality_sees_a_forward_process_at_double_speed():
    shift = cp.gaussian([1.0, -0.5], np.eye(2))
    Ts = np.array([0.5, 1.0])
    fast = [_w2(shift.at(2 * T)) for T in Ts]
    with pytest.raises(AssertionError):
        verify.close("ou.w2_contraction", fast, np.exp(-Ts) * np.hypot(1.0, -0.5), rtol=1e-10)


def _average_gaussian_kl(p, T):
    density = lambda x: p.weights @ stats.norm.pdf(x, p.means[:, 0], np.sqrt(p.covs[:, 0, 0]))
    kl_x = lambda x: cp.divergences.gaussian_kl([np.exp(-T) * x], [[cp.time.sigma2(T)]], [0.0], [[1.0]])
    return quad(lambda x: density(x) * kl_x(x), -12.0, 12.0, points=p.means[:, 0],
                epsabs=1e-13, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("wrong", ["no -d", "source's doubling"])
def test_convexity_bound_wrong_general_value_fails(wrong):
    """(1/2)(e^{-2T} M_2 - d log sigma_T^2), or the whole log term doubled as in the source."""
    mu = cp.targets.bimodal()
    Ts = np.array([0.1, 1.0])
    avg = [_average_gaussian_kl(mu, T) for T in Ts]
    m2 = float(mu.cov()[0, 0] + mu.mean()[0] ** 2)
    s2 = -np.expm1(-2 * Ts)
    right = 0.5 * (np.exp(-2 * Ts) * (m2 - 1) - np.log(s2))
    verify.close("ou.convexity_bound", avg, right, rtol=1e-9)
    verify.close("ou.convexity_bound", avg, [cp.bounds.convexity_bound(mu, T) for T in Ts], rtol=1e-9)
    wrong_value = (0.5 * (np.exp(-2 * Ts) * m2 - np.log(s2)) if wrong == "no -d"
                   else 0.5 * np.exp(-2 * Ts) * (m2 - 1) - np.log(s2))
    with pytest.raises(AssertionError):
        verify.close("ou.convexity_bound", avg, wrong_value, rtol=1e-9)


def test_lemma33_point_mass_rejects_the_source_value():
    """The first inequality is attained by a point mass with |x0|^2 = d: the quadrature equals
    -(d/2) log(1 - e^{-2T}) and not the source's -d log(1 - e^{-2T})."""
    point = cp.targets.discrete([[1.0, 1.0]], [1.0])
    Ts = np.array([0.15, 0.5])
    kl = [cp.divergences.kl_grid(point.at(T), GAMMA2, n_points=201) for T in Ts]
    verify.close("ou.lemma33", kl, cp.bounds.lemma33_bound(2, Ts), rtol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("ou.lemma33", kl, 2 * cp.bounds.lemma33_bound(2, Ts), rtol=1e-10)


@pytest.fixture(scope="module")
def standardised_bimodal_kl():
    b = cp.targets.standardise(cp.targets.bimodal())
    Ts = np.array([2.0, 2.5, 3.0, 3.5, 4.0])
    kl = np.array([cp.divergences.kl_grid(b.at(T), GAMMA1, n_points=2001) for T in Ts])
    w, m, v = b.weights, b.means[:, 0], b.covs[:, 0, 0]
    return Ts, kl, float(np.sum(w * (m**3 + 3 * m * v)))


@pytest.mark.parametrize("rate", [-4.0, -8.0])
def test_cumulant_rate_wrong_exponent_fails(standardised_bimodal_kl, rate):
    """e^{-4T} (the cumulants damped like the covariance) or e^{-8T} (as if kappa_3 = 0)."""
    Ts, kl, _ = standardised_bimodal_kl
    verify.slope("ou.kl_cumulant_rate", np.exp(Ts), kl, expected=-6.0, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("ou.kl_cumulant_rate", np.exp(Ts), kl, expected=rate, tol=0.05)


@pytest.mark.parametrize("constant", [1 / 6, 1 / 36])
def test_cumulant_rate_wrong_constant_fails(standardised_bimodal_kl, constant):
    """kappa_3^2/6 (no factor 1/2 of the chi-square expansion) or kappa_3^2/36 (no 3! of the
    Hermite norm) instead of kappa_3^2/12."""
    Ts, kl, k3 = standardised_bimodal_kl
    ratio = kl * np.exp(6 * Ts) / (k3**2 / 12)
    atol = 5 * abs(ratio[-2] - ratio[-1]) / (np.e - 1)
    verify.close("ou.kl_cumulant_rate", ratio[-1], 1.0, atol=atol)
    wrong = kl * np.exp(6 * Ts) / (k3**2 * constant)
    with pytest.raises(AssertionError):
        verify.close("ou.kl_cumulant_rate", wrong[-1], 1.0, atol=atol)


def test_smld_chain_with_differences_of_sigmas_fails():
    """Increments of standard deviation sigma_i - sigma_{i-1} instead of
    sqrt(sigma_i^2 - sigma_{i-1}^2): the chain no longer has the VE marginal."""
    ve = cp.sde.VE(sigma_min=0.01, sigma_max=10.0, T=1.0)
    sig = ve.sigma(np.linspace(0.0, 1.0, 5))
    n = 20_000
    for wrong in (False, True):
        x = np.zeros((n, 1))
        for i in range(1, 5):
            sd = sig[i] - sig[i - 1] if wrong else np.sqrt(sig[i] ** 2 - sig[i - 1] ** 2)
            x = x + sd * cp.rng.normals(n, 1, seed=60, step=i)
        v, se = cp.stats.variance_stderr(x[:, 0])
        if wrong:
            with pytest.raises(AssertionError):
                verify.close("sde.smld_limit", v, ve.marginal_var(1.0), stderr=se)
        else:
            verify.close("sde.smld_limit", v, ve.marginal_var(1.0), stderr=se)


def test_ve_init_error_wrong_bounds_fail():
    """The bound with the mean only, m^2/(2 v_T), fails on the mixture; M_2/v_T (no 1/2) fails
    the point-mass equality."""
    mu = cp.targets.bimodal()
    m2 = float(mu.cov()[0, 0] + mu.mean()[0] ** 2)
    kl, kl_pt, vs = [], [], []
    for s in (1.0, 10.0):
        ve = cp.sde.VE(sigma_min=0.01, sigma_max=s, T=1.0)
        v = float(ve.marginal_var(1.0))
        vs.append(v)
        noise = cp.gaussian([0.0], [[v]])
        kl.append(cp.divergences.kl_grid(ve.marginal(mu, 1.0), noise, n_points=2001))
        kl_pt.append(cp.divergences.kl_grid(ve.marginal(cp.targets.discrete([[1.5]], [1.0]), 1.0), noise,
                                            n_points=2001))
    vs = np.array(vs)
    verify.leq("sde.ve_init_error", kl, m2 / (2 * vs), atol=1e-12)
    verify.close("sde.ve_init_error", kl_pt, 1.5**2 / (2 * vs), rtol=1e-10)
    with pytest.raises(AssertionError):
        verify.leq("sde.ve_init_error", kl, mu.mean()[0] ** 2 / (2 * vs), atol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("sde.ve_init_error", kl_pt, 1.5**2 / vs, rtol=1e-10)
