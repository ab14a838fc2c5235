"""Negative controls for chapter 6 (the BBDD23 proof): every check of the chapter, with its
statement perturbed as named in the docstring, must fail; the true statement passes."""
import numpy as np
import pytest

import companion as cp
from companion import bbdd, verify

GM = cp.GaussianMixture([0.3, 0.7], [[-2.0], [1.0]], [[[0.25]], [[0.5]]])
S_PTS = np.array([0.2, 0.8, 1.4, 0.4])
T_PTS = np.array([0.5, 1.6, 1.9, 1.1])


def lemma2_drift(pm, sign=1.0):
    return -2 * pm.E - sign * 2 * (pm.cross - pm.score_s) + 2 * pm.hess_t


def test_schedule_left_endpoint_rule_fails():
    """Geometric steps gamma_k = kappa (T - t_k) (the left end) break gamma_k <= kappa (T - t_{k+1})."""
    T, delta, kappa = 4.0, 1e-2, 0.2
    g = cp.schedules.bbdd23(T, delta, kappa)
    verify.leq("bbdd.schedule", np.diff(g), kappa * np.minimum(1, T - g[1:]), atol=1e-12)
    rem = (1 - kappa) ** np.arange(0, 40)
    bad = np.concatenate([np.linspace(0, T - 1, 16)[:-1], T - rem[rem > delta]])
    with pytest.raises(AssertionError):
        verify.leq("bbdd.schedule", np.diff(bad), kappa * np.minimum(1, T - bad[1:]), atol=1e-12)


def test_tuning_quarter_log_fails():
    """T = log(d/eps^2)/4 instead of /2: the start term d e^{-2T} exceeds eps^2."""
    eps, delta = 0.3, 1e-3
    for d in (4, 64):
        T, N, kappa = cp.bounds.bbdd23_tuning(d, eps, delta)
        verify.leq("bbdd.tuning", cp.bounds.bbdd23_terms(d, N, kappa, T, eps)[1:], eps**2 * (1 + 1e-12))
        T_bad = 0.25 * np.log(d / eps**2)
        with pytest.raises(AssertionError):
            verify.leq("bbdd.tuning", d * np.exp(-2 * T_bad), eps**2 * (1 + 1e-12))


def test_error_split_without_factors_two_fails():
    """Path KL <= eps^2 + Error3 (no factors 2) fails for a score too large by a factor 1 + eta."""
    c, d, T = 0.25, 4, 4.0
    g = cp.schedules.bbdd23(T, 1e-3, 0.1)
    err3 = bbdd.error3(cp.gaussian(np.zeros(d), c * np.eye(d)), T, g)
    v_k = c * np.exp(-2 * (T - g[:-1])) - np.expm1(-2 * (T - g[:-1]))
    for eta in (0.05, 0.3):
        path = bbdd.path_kl_gaussian(c, d, T, g, eta=eta)
        eps2 = eta**2 * d * np.sum(np.diff(g) / v_k)
        verify.leq("bbdd.error_split", path, 2 * eps2 + 2 * err3)
        with pytest.raises(AssertionError):
            verify.leq("bbdd.error_split", path, eps2 + err3)


@pytest.mark.parametrize("target", [GM, cp.gaussian([0.5], [[3.0]])])
def test_score_sde_growing_factor_fails(target):
    """E[S_t . S_s] = e^{+(t-s)} E||S_s||^2 (the wrong sign of the drift -S_t dt)."""
    pm = bbdd.pair_moments(target, 2.0, S_PTS, T_PTS)
    verify.close("bbdd.score_sde", pm.cross, np.exp(-(T_PTS - S_PTS)) * pm.score_s, rtol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("bbdd.score_sde", pm.cross, np.exp(T_PTS - S_PTS) * pm.score_s, rtol=1e-9)


@pytest.mark.parametrize("target", [GM, cp.gaussian([0.5], [[3.0]])])
def test_lemma2_flipped_cross_term_fails(target):
    """Lemma 3.5 with +2 (S_t - S_s).S_s: the suspected sign slip (C39) is not there."""
    T = 2.0
    pm = bbdd.pair_moments(target, T, S_PTS, T_PTS)
    h = 1e-3 * T_PTS
    E_at = lambda k: bbdd.pair_moments(target, T, S_PTS, T_PTS + k * h).E
    fd = (-E_at(2) + 8 * E_at(1) - 8 * E_at(-1) + E_at(-2)) / (12 * h)
    verify.close("bbdd.lemma2", fd, lemma2_drift(pm), rtol=1e-7)
    with pytest.raises(AssertionError):
        verify.close("bbdd.lemma2", fd, lemma2_drift(pm, sign=-1.0), rtol=1e-7)


def test_eq23_hessian_coefficient_one_fails():
    """dE/dt <= (1/2) E||S_s||^2 + E||H_t||^2 (coefficient 1 on the Hessian) fails at t = s."""
    s = np.array([0.3, 1.0, 1.8])
    for target in (GM, cp.gaussian([0.5], [[0.25]])):
        pm = bbdd.pair_moments(target, 2.0, s, s)
        verify.leq("bbdd.eq23", lemma2_drift(pm), 0.5 * pm.score_s + 2 * pm.hess_t)
        with pytest.raises(AssertionError):
            verify.leq("bbdd.eq23", lemma2_drift(pm), 0.5 * pm.score_s + pm.hess_t)


def test_hessian_energy_wrong_sign_fails():
    """The middle term +2 sigma' sigma^{-5} E tr Sigma (sign flipped)."""
    lhs, good, bad = [], [], []
    for t in (0.05, 0.3, 1.0):
        pm = bbdd.posterior_moments(GM, t)
        s, ds = cp.time.sigma(t), cp.time.dsigma_dt(t)
        lhs.append(pm.hessian_energy)
        good.append(s**-4 - 2 * ds * s**-5 * pm.tr_cov + ds**2 * s**-6 * pm.tr_cov_sq)
        bad.append(s**-4 + 2 * ds * s**-5 * pm.tr_cov + ds**2 * s**-6 * pm.tr_cov_sq)
    verify.close("bbdd.hessian_energy", lhs, good, rtol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("bbdd.hessian_energy", lhs, bad, rtol=1e-10)


def test_lemma34_source_coefficient_fails():
    """C8: the coefficient sigma^3 / sigma' (without the 2) at the end of the source's §4.5."""
    left, left_bad, right = [], [], []
    for t in (0.3, 1.0):
        dE = bbdd.derivative(lambda u: bbdd.posterior_moments(GM, u).tr_cov, t)
        s, ds = cp.time.sigma(t), cp.time.dsigma_dt(t)
        left.append(s**3 / (2 * ds) * dE)
        left_bad.append(s**3 / ds * dE)
        right.append(bbdd.posterior_moments(GM, t).tr_cov_sq)
    verify.close("bbdd.lemma34", left, right, rtol=1e-8)
    with pytest.raises(AssertionError):
        verify.close("bbdd.lemma34", left_bad, right, rtol=1e-8)


def test_hessian_bound_zero_slack_fails():
    """The slack with sigma sigma' replaced by 1, i.e. zero: the bound is not an equality."""
    for t in (0.3, 1.0):
        pm = bbdd.posterior_moments(GM, t)
        dE = bbdd.derivative(lambda u: bbdd.posterior_moments(GM, u).tr_cov, t)
        bound = cp.bounds.hessian_energy_bound(1, t, pm.tr_cov, dE)
        slack = 0.5 * dE / cp.time.sigma2(t)
        verify.close("bbdd.hessian_bound", bound - pm.hessian_energy, slack, rtol=1e-8, atol=1e-12)
        with pytest.raises(AssertionError):
            verify.close("bbdd.hessian_bound", bound - pm.hessian_energy, 0.0, rtol=1e-8,
                         atol=1e-12)


def test_eq24_without_factor_two_fails():
    """Eq. 24 with int sigma^{-4} instead of 2 int sigma^{-4} fails near the data."""
    T, tk, t = 2.0, np.array([1.5]), np.array([1.9])
    E = bbdd.pair_moments(GM, T, tk, t).E
    trk = [bbdd.posterior_moments(GM, T - 1.5).tr_cov]
    trt = [bbdd.posterior_moments(GM, T - 1.9).tr_cov]
    good = cp.bounds.eq24_bound(1, T, tk, t, trk, trt)
    verify.leq("bbdd.eq24", E, good)
    half = good - cp.bounds.inv_sigma4_integral(T - t, T - tk)
    with pytest.raises(AssertionError):
        verify.leq("bbdd.eq24", E, half)


def test_error3_bound_without_d_fails():
    """Error 3 <= kappa^2 N + kappa T without the factor d fails in dimension 16."""
    T, kappa, d = 4.0, 0.1, 16
    g = cp.schedules.bbdd23(T, 1e-3, kappa)
    e3 = bbdd.error3(cp.gaussian(np.zeros(d), 0.25 * np.eye(d)), T, g)
    terms = cp.bounds.bbdd23_terms(d, g.size - 1, kappa, T, 0.0)
    verify.leq("bbdd.error3", e3, terms[1:3].sum())
    with pytest.raises(AssertionError):
        verify.leq("bbdd.error3", e3, terms[1:3].sum() / d)


def test_theorem1_start_term_needs_centring():
    """C5: with data N(m, I), |m|^2 = 4d, KL(q_T || pi) <= d e^{-2T} fails."""
    d = 8
    m = np.full(d, 2.0)
    Ts = np.array([1.0, 2.0, 4.0])
    kl = [cp.divergences.gaussian_kl(np.exp(-T) * m, np.eye(d), np.zeros(d), np.eye(d)) for T in Ts]
    verify.close("bbdd.theorem1", kl, 2 * d * np.exp(-2 * Ts), rtol=1e-12)
    with pytest.raises(AssertionError):
        verify.leq("bbdd.theorem1", kl, d * np.exp(-2 * Ts))


def test_theorem1_reversed_data_processing_fails():
    """The terminal KL is not an upper bound of the path KL (data processing runs one way)."""
    c, T = 0.25, 4.0
    g = cp.schedules.bbdd23(T, 1e-3, 0.1)
    term = bbdd.sampler_kl_gaussian(c, np.zeros(4), T, g, start="exact")
    path = bbdd.path_kl_gaussian(c, 4, T, g)
    verify.leq("bbdd.theorem1", term, path)
    with pytest.raises(AssertionError):
        verify.leq("bbdd.theorem1", path, term)


def _path_terminal(kappas):
    path, term = [], []
    for kappa in kappas:
        g = cp.schedules.bbdd23(4.0, 1e-3, kappa)
        path.append(bbdd.path_kl_gaussian(0.25, 1, 4.0, g))
        term.append(bbdd.sampler_kl_gaussian(0.25, np.zeros(1), 4.0, g, start="exact"))
    return path, term


def test_path_vs_terminal_terminal_slope_one_fails():
    """Expecting the terminal KL to scale like kappa (as the path KL does) fails."""
    kappas = 0.2 / 2.0 ** np.arange(4)
    path, term = _path_terminal(kappas)
    verify.slope("bbdd.path_vs_terminal", kappas, term, expected=2.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("bbdd.path_vs_terminal", kappas, term, expected=1.0, tol=0.1)
    with pytest.raises(AssertionError):
        verify.slope("bbdd.path_vs_terminal", kappas, path, expected=2.0, tol=0.1)


def test_d_linear_gaussian_slope_one_fails():
    """For Gaussian data the steps needed grow like sqrt(d): expecting slope 1 fails."""
    dims = np.array([1, 4, 16, 64])
    needed = [bbdd.steps_needed(0.25, int(d), 4.0, 1e-3, 1e-3)[0] for d in dims]
    verify.slope("bbdd.d_linear", dims, needed, expected=0.5, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("bbdd.d_linear", dims, needed, expected=1.0, tol=0.05)


def test_rates_table_cll23_is_quadratic():
    """CLL23's count is quadratic in d: expecting slope 1 fails."""
    dgrid = np.logspace(0, 3, 7)
    counts = cp.bounds.step_counts(dgrid, 0.1, 1e-3, L=10.0)
    verify.slope("bbdd.rates_table", dgrid, counts["cll23"], expected=2.0, tol=1e-9)
    with pytest.raises(AssertionError):
        verify.slope("bbdd.rates_table", dgrid, counts["cll23"], expected=1.0, tol=1e-9)


def test_error3_explicit_wrong_constants_fail():
    """Prop. bbdd-err3: the per-step constant 1/(2 c0) + 1/c0^2 lowered by 2%, or c0 = 0.9 in the
    step factor kappa (1 + kappa)/c0^2, fails on the BBDD23 grid; the true constants pass."""
    T, delta, kappa = 4.0, 1e-3, 0.05
    g = cp.schedules.bbdd23(T, delta, kappa)
    gam, u = np.diff(g), T - g
    s2 = -np.expm1(-2 * u)
    c0 = 1 - np.exp(-2.0)
    first = 0.5 * gam**2 / s2[:-1] + gam**2 / s2[1:] ** 2
    factor = gam / s2[1:] ** 2 * np.minimum(1.0, u[:-1])
    verify.leq("bbdd.error3_explicit", first, (0.5 / c0 + 1 / c0**2) * kappa**2)
    verify.leq("bbdd.error3_explicit", factor, kappa * (1 + kappa) / c0**2)
    with pytest.raises(AssertionError):
        verify.leq("bbdd.error3_explicit", first, 0.98 * (0.5 / c0 + 1 / c0**2) * kappa**2)
    with pytest.raises(AssertionError):
        verify.leq("bbdd.error3_explicit", factor, kappa * (1 + kappa) / 0.9**2)


def test_error3_eq24_step_tight_near_point_mass():
    """Near a point mass one step of Error 3 is within 1e-3 of eq. 24 integrated over the step:
    Error 3 inflated by 1.5 (a wrong time quadrature) breaks the integrated eq. 24."""
    T, delta, kappa = 2.0, 1e-4, 0.1
    tg = cp.gaussian([0.0], [[1e-8]])
    g = cp.schedules.bbdd23(T, delta, kappa)
    gam, u = np.diff(g), T - g
    e3k = bbdd.error3(tg, T, g, nodes=4, order=60, per_step=True)
    x, w = np.polynomial.legendre.leggauss(6)
    tt = g[:-1, None] + 0.5 * gam[:, None] * (x + 1)
    trc = lambda r: np.array([bbdd.posterior_moments(tg, float(v)).tr_cov for v in np.ravel(r)]).reshape(np.shape(r))
    b24 = cp.bounds.eq24_bound(1, T, np.broadcast_to(g[:-1, None], tt.shape), tt,
                               np.broadcast_to(trc(u[:-1])[:, None], tt.shape), trc(T - tt))
    I24 = (0.5 * gam[:, None] * w * b24).sum(1)
    verify.leq("bbdd.eq24", e3k, I24)
    with pytest.raises(AssertionError):
        verify.leq("bbdd.eq24", 1.5 * e3k, I24)
