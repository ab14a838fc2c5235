"""Negative controls for the ids of chapters 1-3 added from the line-by-line reading of the
sources: each check, given the perturbed statement (often the source's own version), must fail,
and the true statement passes."""
import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

import companion as cp
from companion import verify
from companion import score_matching as sm

HS = np.array([0.04, 0.02, 0.01, 0.005])


# ------------------------------------------------------------------------------- chapter 1
def test_path_covariance_time_changed_brownian_motion_fails():
    """C1: e^{-t} X_0 + B_{1 - e^{-2t}} has covariance 1 - e^{-2 min(s, t)} for the noise part."""
    mu = cp.targets.bimodal()
    times = np.array([0.5, 1.0])
    p = cp.ou.exact_path(mu.sample(100_000, seed=1), times, seed=2)[:, :, 0]
    cov, se = cp.stats.covariance_with_stderr(p)
    S, Tt = np.meshgrid(times, times, indexing="ij")
    c0 = mu.cov()[0, 0]
    verify.close("ou.path_covariance", cov,
                 np.exp(-(S + Tt)) * c0 + np.exp(-np.abs(Tt - S)) - np.exp(-(S + Tt)), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ou.path_covariance", cov,
                     np.exp(-(S + Tt)) * c0 + 1 - np.exp(-2 * np.minimum(S, Tt)), stderr=se)


def _ode_general(x, t, theta, mu, sigma):
    return solve_ivp(lambda r, y: [theta * (mu - y[0]), -2 * theta * y[1] + sigma**2], (0, t),
                     [x, 0.0], method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1]


def test_ou_general_sigma2_over_theta_fails():
    theta, mu, sigma, x, t = 1.5, 0.7, 0.8, -1.0, 0.7
    ode = _ode_general(x, t, theta, mu, sigma)
    m, v = cp.sde.ou_general_law(x, t, theta, mu, sigma)
    verify.close("sde.ou_general", [m, v], ode, rtol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("sde.ou_general", [m, 2 * v], ode, rtol=1e-9)      # sigma^2 / theta


def test_ou_general_law_pins_against_ode_and_simulation():
    for theta, mu, sigma, x, t in [(0.3, -1.0, 2.0, 0.5, 3.0), (4.0, 2.0, 0.5, 0.0, 0.1)]:
        np.testing.assert_allclose(cp.sde.ou_general_law(x, t, theta, mu, sigma),
                                   _ode_general(x, t, theta, mu, sigma), rtol=1e-9)
    with pytest.raises(ValueError, match="theta"):
        cp.sde.ou_general_law(0.0, 1.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="sigma"):
        cp.sde.ou_general_law(0.0, 1.0, 1.0, 0.0, -1.0)


def test_langevin_wrong_invariant_exponent_fails():
    """exp(-U / sigma^2) instead of exp(-2U / sigma^2): the residual does not vanish."""
    mu = cp.targets.bimodal()
    x = np.linspace(-4, 4, 81)[:, None]
    good = [np.abs(cp.sde.langevin_fp_residual(mu, 0.8, x, h)).max() for h in HS]
    verify.slope("sde.langevin_stationary", HS, good, expected=2.0, tol=0.1)
    bad = [np.abs(cp.sde.langevin_fp_residual(mu, 0.8, x, h, exponent=1.0)).max() for h in HS]
    with pytest.raises(AssertionError):
        verify.slope("sde.langevin_stationary", HS, bad, expected=2.0, tol=0.1)


def test_langevin_simulation_does_not_follow_the_wrong_law():
    """The Langevin particles keep p; the law exp(-U/sigma^2) = sqrt(p) has wider components."""
    mu = cp.targets.bimodal()
    x = cp.sde.langevin_em(mu, mu.sample(40_000, seed=3), 1.0, 0.01, 60, seed=4)[:, 0]
    v, se = cp.stats.variance_stderr(x)
    verify.close("sde.langevin_stationary", v, mu.cov()[0, 0], stderr=se)
    half = cp.GaussianMixture(np.sqrt(mu.weights) / np.sqrt(mu.weights).sum(), mu.means, 2 * mu.covs)
    with pytest.raises(AssertionError):
        verify.close("sde.langevin_stationary", v, half.cov()[0, 0], stderr=se)


def test_langevin_em_matches_numpy_on_the_same_noise():
    q = cp.targets.lopsided(2)
    x0 = q.sample(7, seed=5)
    fast = cp.sde.langevin_em(q, x0, 0.7, 0.02, 4, seed=6)
    x = x0.copy()
    for k in range(4):
        x = x + 0.5 * 0.49 * 0.02 * q.score(x) + 0.7 * np.sqrt(0.02) * cp.rng.normals(7, 2, 6, step=k + 1)
    np.testing.assert_allclose(fast, x, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="x0"):
        cp.sde.langevin_em(q, np.zeros((3, 1)), 1.0, 0.1, 2, seed=0)
    with pytest.raises(ValueError, match="h"):
        cp.sde.langevin_em(q, x0, 1.0, 0.0, 2, seed=0)


def test_ddpm_limit_wrong_variance_does_not_converge():
    vp = cp.sde.VP(0.1, 20.0, 1.0)
    Ns = np.array([1_000, 3_000, 10_000, 30_000, 100_000])
    chain = np.array([cp.sde.ddpm_chain_law(vp, N) for N in Ns])
    verify.slope("sde.ddpm_limit", Ns, np.abs(chain[:, 1] - vp.marginal_var(1.0)), expected=-1.0, tol=0.05)
    wrong = 1 - chain[:, 0]                                 # 1 - prod sqrt(1 - b_i)
    with pytest.raises(AssertionError):
        verify.slope("sde.ddpm_limit", Ns, np.abs(wrong - vp.marginal_var(1.0)), expected=-1.0, tol=0.05)


def test_ddpm_chain_law_against_the_recursion():
    vp = cp.sde.VP(0.5, 8.0, 2.0)
    N = 300
    dt, m, v = 2.0 / N, 1.0, 0.0
    for i in range(1, N + 1):
        b = (0.5 + i * dt / 2.0 * 7.5) * dt
        m, v = m * np.sqrt(1 - b), (1 - b) * v + b
    np.testing.assert_allclose(cp.sde.ddpm_chain_law(vp, N), [m, v], rtol=1e-12)
    with pytest.raises(ValueError, match="n_steps"):
        cp.sde.ddpm_chain_law(cp.sde.VP(0.1, 20.0, 1.0), 10)
    with pytest.raises(ValueError, match="VP"):
        cp.sde.ddpm_chain_law(cp.sde.OU(), 10)


def test_cvp_vp_variance_fails():
    cvp = cp.sde.CVP(0.1, 2.0, 1.0)
    ts = np.array([0.1, 0.3, 0.6, 1.0])
    ode = np.array([cp.sde.moment_odes(cvp, s) for s in ts])
    verify.close("sde.cvp_marginal", np.column_stack([cvp.mean_coeff(ts), cvp.marginal_var(ts)]), ode, rtol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("sde.cvp_marginal",
                     np.column_stack([cvp.mean_coeff(ts), -np.expm1(-cvp.int_beta(ts))]), ode, rtol=1e-9)


def test_cvp_closed_form_against_quadrature():
    cvp = cp.sde.CVP(0.3, 1.5, 2.0)
    t = 1.7
    # v(t) = int_0^t exp(-2 int_r^t f) g^2 dr with f = -beta/2
    v = quad(lambda r: np.exp(cvp.int_beta(t) - cvp.int_beta(r)) * cvp.beta(r), 0, t, epsrel=1e-13)[0]
    np.testing.assert_allclose(cvp.marginal_var(t), v, rtol=1e-11)
    np.testing.assert_allclose(cvp.mean_coeff(t), np.exp(0.5 * (0.3 * t + 0.3 * t * t)), rtol=1e-13)


# ------------------------------------------------------------------------------- chapter 2
def _quad_setup():
    q = cp.targets.lopsided()
    xq = np.linspace(-9.0, 10.0, 38_001)
    return q, xq, q.pdf(xq[:, None]), q.score(xq[:, None])[:, 0], np.linspace(-3, 3.5, 14)


def test_score_convolution_without_conditioning_fails():
    q, xq, prior, prior_score, ys = _quad_setup()
    sigma = 0.3
    w = prior * np.exp(-0.5 * ((ys[:, None] - xq[None, :]) / sigma) ** 2)
    rhs = (w * prior_score).sum(1) / w.sum(1)
    lhs = q.channel(1.0, sigma).score(ys[:, None])[:, 0]
    verify.close("tweedie.score_convolution", lhs, rhs, atol=1e-10)
    unconditioned = np.full_like(rhs, np.sum(prior * prior_score) * (xq[1] - xq[0]))   # E_p score = 0
    with pytest.raises(AssertionError):
        verify.close("tweedie.score_convolution", lhs, unconditioned, atol=1e-10)


def test_fisher_ibp_plus_sign_fails():
    q, xq, prior, prior_score, _ = _quad_setup()
    h = 1e-4
    lap = (q.score(xq[:, None] + h)[:, 0] - q.score(xq[:, None] - h)[:, 0]) / (2 * h)
    dx = xq[1] - xq[0]
    fisher, minus_lap = np.sum(prior * prior_score**2) * dx, -np.sum(prior * lap) * dx
    verify.close("sm.fisher_ibp", fisher, minus_lap, atol=1e-7)
    with pytest.raises(AssertionError):
        verify.close("sm.fisher_ibp", fisher, -minus_lap, atol=1e-7)


def test_dsm_weight_source_equality_fails_in_d2():
    """C38: 1 / E||cond. score||^2 = sigma_t^2 / d, not sigma_t^2 (visible when d = 2)."""
    ring, t = cp.targets.ring(), 0.3
    x0 = ring.sample(40_000, seed=8)
    xt = cp.time.alpha(t) * x0 + cp.time.sigma(t) * cp.rng.normals(40_000, 2, seed=9)
    m, se = cp.stats.mean_stderr(np.sum(((cp.time.alpha(t) * x0 - xt) / cp.time.sigma2(t)) ** 2, axis=1))
    verify.close("sm.dsm_weight", m, 2 / cp.time.sigma2(t), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("sm.dsm_weight", m, 1 / cp.time.sigma2(t), stderr=se)
    with pytest.raises(AssertionError):                     # lambda = sigma_t instead of sigma_t^2
        verify.close("sm.dsm_weight", m, 2 / cp.time.sigma(t), stderr=se)


def test_tweedie_quadrature_check_sees_a_wrong_posterior():
    q, xq, prior, _, ys = _quad_setup()
    sigma = 0.6
    w = prior * np.exp(-0.5 * ((ys[:, None] - xq[None, :]) / sigma) ** 2)
    post = (w * xq).sum(1) / w.sum(1)
    verify.close("tweedie.mean", sm.tweedie_mean(q, ys[:, None], 1.0, sigma)[:, 0], post, atol=1e-10)
    with pytest.raises(AssertionError):                     # sigma for sigma^2
        verify.close("tweedie.mean", ys + sigma * q.channel(1.0, sigma).score(ys[:, None])[:, 0], post,
                     atol=1e-10)


# ------------------------------------------------------------------------------- chapter 3
def _ode_coefficients(proc, T, t0, t1):
    f = lambda u: float(proc.f(T - u))
    g2 = lambda u: float(proc.g(T - u)) ** 2
    return solve_ivp(lambda u, y: [f(u) * y[0], f(u) * y[1] + g2(u), 2 * f(u) * y[2] + g2(u)],
                     (t0, t1), [1.0, 0.0, 0.0], method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1]


def _other_placement(proc, T, t0, t1):
    psi = lambda a, b: float(proc.mean_coeff(T - b) / proc.mean_coeff(T - a))
    g2 = lambda u: float(proc.g(T - u)) ** 2
    kw = dict(epsabs=1e-15, epsrel=1e-13)
    return (psi(t0, t1), quad(lambda u: psi(t0, u) * g2(u), t0, t1, **kw)[0],
            quad(lambda u: psi(t0, u) ** 2 * g2(u), t0, t1, **kw)[0])


def test_ei_general_extracted_placement_fails_for_subvp_only():
    """C32: Psi(t_k, u) inside the integrals agrees with the ODE for VP, not for sub-VP."""
    vp, sub = cp.sde.VP(0.1, 20.0, 1.0), cp.sde.SubVP(0.1, 20.0, 1.0)
    for proc in (vp, sub):
        verify.close("rev.ei_general", cp.sde.ei_coefficients(proc, 1.0, 0.8, 0.85),
                     _ode_coefficients(proc, 1.0, 0.8, 0.85), rtol=1e-9)
    verify.close("rev.ei_general", _other_placement(vp, 1.0, 0.8, 0.85),
                 _ode_coefficients(vp, 1.0, 0.8, 0.85), rtol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("rev.ei_general", _other_placement(sub, 1.0, 0.8, 0.85),
                     _ode_coefficients(sub, 1.0, 0.8, 0.85), rtol=1e-9)


def test_ei_coefficients_pinned():
    for proc in (cp.sde.VE(0.01, 10.0, 1.0), cp.sde.CVP(0.1, 2.0, 1.0), cp.sde.SubVP(0.1, 20.0, 1.0)):
        np.testing.assert_allclose(cp.sde.ei_coefficients(proc, 1.0, 0.3, 0.55),
                                   _ode_coefficients(proc, 1.0, 0.3, 0.55), rtol=1e-9)
    with pytest.raises(ValueError, match="t1"):
        cp.sde.ei_coefficients(cp.sde.OU(), 1.0, 0.5, 0.4)
    with pytest.raises(ValueError, match="sde"):
        cp.sde.ei_coefficients("OU", 1.0, 0.1, 0.4)


def test_pc_corrector_fixed_point_v_fails():
    v, e, n = 0.5, 0.2, 100_000
    lang = cp.sde.ConstantLinear(f=1 / v, g=np.sqrt(2.0))
    x = cp.sde.euler_maruyama(lang, np.zeros((n, 1)), 60 * e, 60, seed=14)[:, 0]
    w, se = cp.stats.variance_stderr(x)
    verify.close("rev.pc_corrector", w, v / (1 - e / (2 * v)), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("rev.pc_corrector", w, v, stderr=se)
    one = cp.sde.euler_maruyama(lang, np.sqrt(v) * cp.rng.normals(n, 1, seed=12), e, 1, seed=13)[:, 0]
    w1, se1 = cp.stats.variance_stderr(one)
    with pytest.raises(AssertionError):                     # "the corrector keeps the exact law"
        verify.close("rev.pc_corrector", w1, v, stderr=se1)
