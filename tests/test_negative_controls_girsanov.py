"""Negative controls for chapter 4 (Girsanov and path-space KL) and appendix A (the Itô
toolbox): each check of the chapter, given a perturbed statement, must fail; the true
statement passes the same check."""
import numpy as np
import pytest
from scipy import stats

import companion as cp
from companion import verify
from companion.girsanov import Drift

G = cp.girsanov
LQ = Drift([[-1.0, 0.3], [0.0, -0.5]], c=[0.5, 0.0])
LP = Drift([[-0.6, 0.0], [0.2, -0.5]], c=[0.0, 0.2])
M0, S0 = np.array([0.3, -0.2]), np.diag([0.5, 0.8])
DATA = cp.gaussian([0.5, -0.3], [[0.3, 0.1], [0.1, 0.2]])
MIX = cp.GaussianMixture([0.3, 0.7], [[-0.6], [0.6]], [[[0.5]], [[0.5]]])


# ---------------------------------------------------------------------- chapter 4
def test_discrete_lr_middle_line_of_the_slides_fails():
    """C13: the slides' middle line drops a sqrt(h) in the noise term."""
    q, p = Drift([[-1.0, 0.4], [0.0, -0.5]], c=[0.3, 0.0], k=[0.6, 0.0]), \
        Drift([[-0.7, 0.0], [0.2, -0.5]], c=[0.0, 0.2])
    n, N = 500, 20
    h = 1.0 / N
    path, lr = G.log_ratio_paths(q, p, cp.rng.normals(n, 2, seed=1), 1.0, N, seed=1, world="p",
                                 return_path=True)
    g = np.stack([cp.rng.normals(n, 2, seed=1, step=k + 1) for k in range(N)], axis=1)
    D = np.stack([q(path[:, k]) - p(path[:, k]) for k in range(N)], axis=1)
    drift = -0.25 * h * np.sum(D**2, axis=(1, 2))
    verify.close("gir.discrete_lr", lr, drift + np.sum(np.sqrt(h) * g * D, axis=(1, 2)) / np.sqrt(2),
                 atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("gir.discrete_lr", lr, drift + np.sum(g * D, axis=(1, 2)) / np.sqrt(2),
                     atol=1e-9)


def test_martingale_with_half_instead_of_quarter_fails():
    """dQ/dP with (1/2) int ||D||^2 in place of (1/4): the mean is no longer 1."""
    gap = 0.8
    _, lr = G.log_ratio_paths(Drift([[-1.0]], c=[gap]), Drift([[-1.0]]), np.zeros((100_000, 1)),
                              1.0, 10, seed=2, world="p")
    m, se = cp.stats.mean_stderr(np.exp(lr))
    verify.close("gir.martingale", m, 1.0, stderr=se)
    m, se = cp.stats.mean_stderr(np.exp(lr - gap**2 / 4))
    with pytest.raises(AssertionError):
        verify.close("gir.martingale", m, 1.0, stderr=se)


def test_brownian_shift_with_plus_sign_fails():
    """beta_T = B_T + int b dt instead of B_T - int b dt."""
    n, N = 50_000, 50
    path, lr = G.log_ratio_paths(Drift([[0.0]], k=[0.6]), Drift([[0.0]]), np.zeros((n, 1)), 1.0, N,
                                 seed=3, world="p", sigma=1.0, return_path=True)
    w = np.exp(lr)
    drift = np.sum(0.6 * np.tanh(path[:, :-1, 0]), axis=1) / N
    for sign, ok in ((-1, True), (1, False)):
        beta = path[:, -1, 0] + sign * drift
        m, se = cp.stats.mean_stderr(np.stack([w * beta, w * beta**2], 1))
        if ok:
            verify.close("gir.brownian_shift", m, [0.0, 1.0], stderr=se)
        else:
            with pytest.raises(AssertionError):
                verify.close("gir.brownian_shift", m, [0.0, 1.0], stderr=se)


def test_kl_path_with_factor_half_fails():
    """KL = (1/2) E int ||b - b'||^2 (noise sqrt 2 forgotten) against the chain KL."""
    cont = G.linear_path_kl(LQ, LP, M0, S0, 1.0)
    g = np.array([G.discrete_girsanov_sum(LQ, LP, M0, S0, 1.0, n) for n in (800, 1600)])
    verify.close("gir.kl_path", 2 * g[1] - g[0], cont, atol=1e-7)
    with pytest.raises(AssertionError):
        verify.close("gir.kl_path", 2 * g[1] - g[0], 2 * cont, atol=1e-7)


def test_kl_path_under_the_wrong_law_fails():
    """E_P[log dQ/dP] is -KL(P||Q), not KL(Q||P)."""
    x0 = M0 + cp.rng.normals(50_000, 2, seed=5) @ np.linalg.cholesky(S0).T
    _, lr = G.log_ratio_paths(LQ, LP, x0, 1.0, 50, seed=6, world="p")
    m, se = cp.stats.mean_stderr(lr)
    with pytest.raises(AssertionError):
        verify.close("gir.kl_path", m, G.euler_chain_kl(LQ, LP, M0, S0, 1.0, 50), stderr=se)


def test_kl_chain_without_terminal_term_fails():
    grid = cp.schedules.uniform(2.0, 8, delta=0.05)
    q_T = DATA.at(2.0)
    kl_T = cp.divergences.gaussian_kl(q_T.means[0], q_T.covs[0], np.zeros(2), np.eye(2))
    a = G.diffusion_skeleton_kl(DATA, 2.0, grid, 2, score_error=0.1, start="gaussian")
    b = G.diffusion_skeleton_kl(DATA, 2.0, grid, 2, score_error=0.1, start="exact")
    verify.close("gir.kl_chain", a, b + kl_T, atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("gir.kl_chain", a, b, atol=1e-10)


def test_dpi_reversed_fails():
    grid = cp.schedules.uniform(2.0, 8, delta=0.05)
    q_T, q_d = DATA.at(2.0), DATA.at(0.05)
    m, c = cp.samplers.gaussian_output_law(DATA, 2.0, grid, method="ei", score_error=0.1)
    out = cp.divergences.gaussian_kl(q_d.means[0], q_d.covs[0], m, c)
    path = G.diffusion_path_kl(DATA, 2.0, grid, score_error=0.1) + cp.divergences.gaussian_kl(
        q_T.means[0], q_T.covs[0], np.zeros(2), np.eye(2))
    verify.leq("gir.dpi", out, path)
    with pytest.raises(AssertionError):
        verify.leq("gir.dpi", path, out)


@pytest.mark.parametrize("factor", [0.5, 0.25])
def test_diffusion_kl_with_wrong_constant_fails(factor):
    """The constant 1 of Prop 3.2 replaced by 1/2 (as with unit noise, C2) or 1/4 (the
    (1/4) of Girsanov without the 2^2 of the drift)."""
    grid = cp.schedules.uniform(2.0, 8, delta=0.05)
    path = G.diffusion_path_kl(DATA, 2.0, grid, score_error=0.1)
    sk = [G.diffusion_skeleton_kl(DATA, 2.0, grid, M, score_error=0.1) for M in (8, 16)]
    verify.close("gir.diffusion_kl", (4 * sk[1] - sk[0]) / 3, path, atol=1e-7)
    with pytest.raises(AssertionError):
        verify.close("gir.diffusion_kl", (4 * sk[1] - sk[0]) / 3, factor * path, atol=1e-7)


def test_langevin_slope_two_fails_and_skeleton_rejects_half():
    hs = np.array([0.2, 0.1, 0.05, 0.025])
    exact = np.array([G.langevin_kl_gaussian(1.0, 1, 1.0, h) for h in hs])
    verify.slope("gir.langevin", hs, exact, expected=1.0, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("gir.langevin", hs, exact, expected=2.0, tol=0.05)
    sk = [G.langevin_skeleton_kl(1.0, 1.0, 0.1, M) for M in (8, 16)]
    with pytest.raises(AssertionError):
        verify.close("gir.langevin", (4 * sk[1] - sk[0]) / 3, 0.5 * exact[1], rtol=1e-6)


def test_langevin_bound_fails_with_wrong_sign_drift():
    """C14(a): with drift -grad log q = +alpha x the Gaussian is not stationary, so the
    variance after time 1 is not 1/alpha (exact variance of the linear SDE)."""
    alpha, t = 1.0, 1.0
    # dx = -f x dt + sqrt 2 dB from variance 1 / alpha: v = e^{-2 f t} / alpha + (1 - e^{-2 f t}) / f
    var = lambda f: np.exp(-2 * f * t) / alpha - np.expm1(-2 * f * t) / f
    verify.close("gir.langevin", var(alpha), 1 / alpha, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("gir.langevin", var(-alpha), 1 / alpha, atol=1e-12)


def test_talagrand_slides_constant_fails_on_translate():
    alpha, m = 2.0, np.array([0.7, -0.2, 0.4])
    kl = cp.divergences.gaussian_kl(m, np.eye(3) / alpha, np.zeros(3), np.eye(3) / alpha)
    verify.leq("gir.talagrand", m @ m, 2 / alpha * kl + 1e-12)
    with pytest.raises(AssertionError):
        verify.leq("gir.talagrand", m @ m, 1 / alpha * kl)


def test_chen_bracket_with_h_squared_fails():
    """A discretisation term of order h^2 instead of sqrt(h) is violated at small h."""
    xs = np.linspace(-6, 6, 301)
    dx = xs[1] - xs[0]
    q_pdf = MIX.pdf(xs[:, None])
    L = 2.0
    tv, wrong = [], []
    for T, h in ((3.0, 0.1), (3.0, 0.05)):
        p = G.density_ei_1d(MIX, T, cp.schedules.uniform(T, round(T / h), delta=0.0), xs)
        tv.append(0.5 * np.sum(np.abs(p - q_pdf)) * dx)
        wrong.append(L * h**2 * np.sqrt(T))
    with pytest.raises(AssertionError):
        verify.leq("gir.chen_tv", tv, wrong)


def test_init_dpi_reversed_fails():
    c = 0.25
    Ts = [0.5, 1.0, 2.0]
    out = [cp.divergences.gaussian_kl([0.0], [[c]], [0.0], [[G.reverse_output_variance(c, t)]])
           for t in Ts]
    start = [cp.divergences.gaussian_kl([0.0], [[c * np.exp(-2 * t) - np.expm1(-2 * t)]],
                                        [0.0], [[1.0]]) for t in Ts]
    verify.leq("conv.init_dpi", out, start)
    with pytest.raises(AssertionError):
        verify.leq("conv.init_dpi", start, out)


def test_space_disc_without_square_fails():
    """(1 - e^{-tau}) unsquared in the displacement identity."""
    a, tau, n = 0.5, 0.5, 100_000
    b = a + tau
    x0 = MIX.sample(n, seed=7)[:, 0]
    sa2, sb2 = -np.expm1(-2 * a), -np.expm1(-2 * b)
    cov = np.array([[sa2, np.exp(-tau) * sa2], [np.exp(-tau) * sa2, sb2]])
    z = cp.rng.normals(n, 2, seed=8) @ np.linalg.cholesky(cov).T
    xa, xb = np.exp(-a) * x0 + z[:, 0], np.exp(-b) * x0 + z[:, 1]
    m2 = np.exp(-2 * a) * (MIX.cov()[0, 0] + MIX.mean()[0] ** 2) - np.expm1(-2 * a)
    lhs, se = cp.stats.mean_stderr((xa - xb) ** 2)
    verify.close("conv.space_disc", lhs, (1 - np.exp(-tau)) ** 2 * m2 + 1 - np.exp(-2 * tau),
                 stderr=se)
    with pytest.raises(AssertionError):
        verify.close("conv.space_disc", lhs, (1 - np.exp(-tau)) * m2 + 1 - np.exp(-2 * tau),
                     stderr=se)


def test_time_disc_with_lower_curvature_bound_fails():
    """C14(b): reading Hess V >= L I, i.e. L the smallest curvature, breaks the lemma."""
    p = cp.GaussianMixture([0.5, 0.5], [[-0.6], [0.6]], [[[0.5]], [[0.5]]])
    x = np.linspace(-10, 10, 8001)[:, None]
    dx = x[1, 0] - x[0, 0]
    curv = -p.hessian(x)[:, 0, 0]
    L_up, L_low = np.abs(curv).max(), curv.min()
    sig = np.array([0.3, 1.0])
    gap = np.array([np.sum(p.channel(1.0, s).pdf(x) * (p.score(x) - p.channel(1.0, s).score(x))[:, 0] ** 2) * dx
                    for s in sig])
    verify.leq("conv.time_disc", gap, L_up**2 * sig**2)
    with pytest.raises(AssertionError):
        verify.leq("conv.time_disc", gap, L_low**2 * sig**2)


# ---------------------------------------------------------------------- appendix A
def test_quadratic_variation_of_a_smooth_path_claim_fails():
    """The claim 'sum (Delta B)^2 -> 0', as for a smooth path."""
    qv = cp.ito.brownian_sums(1.0, 256, 20_000, seed=256)[:, 1]
    m, se = cp.stats.mean_stderr(qv)
    verify.close("ito.quadratic_variation", m, 1.0, stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ito.quadratic_variation", m, 0.0, stderr=se)


def test_ito_lemma_without_correction_term_fails():
    """Y = e^{B} in place of e^{B - t/2} (ordinary calculus: dY = Y dB without a correction):
    the remainder's mean square misses the exact value of the true statement."""
    n = 256
    s = cp.ito.brownian_sums(1.0, n, 20_000, seed=1000 + n)
    exact = cp.ito.exp_martingale_mse(1.0, 1.0, n)
    m, se = cp.stats.mean_stderr((np.exp(s[:, 0] - 0.5) - 1 - s[:, 4]) ** 2)
    verify.close("ito.lemma", m, exact, stderr=se)
    w = cp.ito.exp_martingale_sums([[1.0]], [1.0], 0.0, 1.0, n, 20_000, seed=1000 + n)
    m, se = cp.stats.mean_stderr((np.exp(w[:, 0]) - 1 - w[:, 1]) ** 2)
    with pytest.raises(AssertionError):
        verify.close("ito.lemma", m, exact, stderr=se)


def test_stratonovich_mean_claimed_zero_fails():
    """The exercise: the midpoint sums are not a martingale (mean 1 - e^{-T/2}, not 0)."""
    mid = cp.ito.sine_sums(1.0, 64, 20_000, seed=7)[:, 5]
    m, se = cp.stats.mean_stderr(mid)
    verify.close("ito.lemma", m, cp.ito.sine_sum_moments(1.0, 64)["mid_mean"], stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ito.lemma", m, 0.0, stderr=se)


def test_ito_lemma_d_without_covariation_or_with_midpoints_fails():
    """d = 2, X = v B with correlated coordinates: the correction with the diagonal of v v^T
    only, and the midpoint (Stratonovich) sums, both fail the mean-square check."""
    v, lam, T, n = np.array([[1.0, 0.0], [0.9, 0.6]]), np.array([0.6, -0.9]), 1.0, 64
    c = lam @ v @ v.T @ lam
    c_diag = lam**2 @ np.diag(v @ v.T)
    s = cp.ito.exp_martingale_sums(v, lam, c, T, n, 20_000, seed=364)
    m, se = cp.stats.mean_stderr((np.exp(s[:, 0] - c * T / 2) - 1 - s[:, 1]) ** 2)
    verify.close("ito.lemma_d", m, cp.ito.exp_martingale_mse(c, T, n), stderr=se)
    m, se = cp.stats.mean_stderr((np.exp(s[:, 0] - c * T / 2) - 1 - s[:, 2]) ** 2)
    with pytest.raises(AssertionError):
        verify.close("ito.lemma_d", m, cp.ito.exp_martingale_mse(c, T, n), stderr=se)
    w = cp.ito.exp_martingale_sums(v, lam, c_diag, T, n, 20_000, seed=364)
    m, se = cp.stats.mean_stderr((np.exp(w[:, 0] - c_diag * T / 2) - 1 - w[:, 1]) ** 2)
    with pytest.raises(AssertionError):
        verify.close("ito.lemma_d", m, cp.ito.exp_martingale_mse(c_diag, T, n), stderr=se)


def test_martingale_claim_for_right_point_sums_fails():
    """Non-adapted integrand sin(B_{t_{k+1}}): neither the mean nor the increment given the past
    is zero."""
    B_s, M_s, M_T, R_s, R_T, _, _ = cp.ito.sine_sums(1.0, 64, 20_000, seed=9).T
    for left, right in ((M_T, R_T), ((M_T - M_s) * np.cos(B_s), (R_T - R_s) * np.cos(B_s))):
        m, se = cp.stats.mean_stderr(left)
        verify.close("ito.martingale", m, 0.0, stderr=se)
        m, se = cp.stats.mean_stderr(right)
        with pytest.raises(AssertionError):
            verify.close("ito.martingale", m, 0.0, stderr=se)


def test_well_posed_with_strong_order_one_half_fails():
    """The claimed rate of the Cauchy gaps: h (strong order 1/2) in place of h^2."""
    ring = cp.targets.ring()
    steps = np.array([16, 32, 64, 128, 256])
    Y = cp.ito.reverse_sde_refinements(ring, ring.at(1.0).sample(2000, seed=3), 1.0, 0.8, steps,
                                       seed=4)
    runs = np.sum((Y[:-1] - Y[1:]) ** 2, axis=2).reshape(len(steps) - 1, 20, -1).mean(axis=2)
    h = 0.8 / steps[:-1]
    se = cp.stats.loglog_slope_stderr(h, runs)
    verify.slope("ito.well_posed", h, runs.mean(axis=1), expected=2.0, tol=5 * se)
    with pytest.raises(AssertionError):
        verify.slope("ito.well_posed", h, runs.mean(axis=1), expected=1.0, tol=5 * se)


def _generator_quotients():
    M = np.array([[1.0, 2.0], [-0.5, 1.5]])
    G = np.array([[1.0, 0.0], [0.8, 0.5]])
    x = np.array([1.0, 0.5])
    f = lambda y: y[:, 0] * y[:, 1] ** 2                                  # noqa: E731
    grad, hess = np.array([x[1] ** 2, 2 * x[0] * x[1]]), np.array([[0.0, 2 * x[1]], [2 * x[1], 2 * x[0]]])
    hs = np.array([0.008, 0.004, 0.002, 0.001])
    q = np.array([(cp.ito.gaussian_expectation(f, *cp.ito.ou_transition(M, G, x, h))
                   - f(x[None])[0]) / h for h in hs])
    return hs, q, lambda A, Mx=M @ x: -Mx @ grad + 0.5 * np.trace(A @ hess), G, M, x, grad, hess


def test_generator_with_misplaced_diffusion_or_drift_fails():
    """G^T G for G G^T, the diagonal of G G^T, no 1/2, and M^T for M: the quotient's distance
    to each stops shrinking."""
    hs, q, L, G, M, x, grad, hess = _generator_quotients()
    verify.slope("ito.generator", hs, np.abs(q - L(G @ G.T)), expected=1.0, tol=0.1)
    wrong = [L(G.T @ G), L(np.diag(np.diag(G @ G.T))), L(2 * G @ G.T),
             -(M.T @ x) @ grad + 0.5 * np.trace(G @ G.T @ hess)]
    for w in wrong:
        with pytest.raises(AssertionError):
            verify.slope("ito.generator", hs, np.abs(q - w), expected=1.0, tol=0.1)


def test_fokker_planck_with_misplaced_diffusion_matrix_fails():
    """A_ij d_i d_j p and d_i(A_ij d_j p) in place of d_i d_j(A_ij p), for position-dependent A."""
    rate, vol, rho = np.array([0.3, -0.2]), np.array([0.5, 0.8]), np.array([[1.0, -0.6], [-0.6, 1.0]])
    x0, t = np.array([1.0, 1.5]), 0.5
    dens = lambda t_, y: cp.ito.gbm_density(t_, y, x0, rate, vol, rho)     # noqa: E731
    drift = lambda y: cp.ito.gbm_coefficients(y, rate, vol, rho)[0]       # noqa: E731
    diff = lambda y: cp.ito.gbm_coefficients(y, rate, vol, rho)[1]        # noqa: E731
    L = np.linalg.cholesky(t * rho * np.outer(vol, vol))
    pts = np.exp(np.log(x0) + (rate - vol**2 / 2) * t + cp.rng.normals(100, 2, seed=5) @ L.T)
    hs = np.array([0.02, 0.01, 0.005, 0.0025])
    res = {f: [np.abs(cp.ito.forward_residual(dens, drift, diff, t, pts, h, form=f)).max()
               for h in hs] for f in ("ito", "outside", "fick")}
    verify.slope("ito.fokker_planck", hs, res["ito"], expected=2.0, tol=0.1)
    for f in ("outside", "fick"):
        with pytest.raises(AssertionError):
            verify.slope("ito.fokker_planck", hs, res[f], expected=2.0, tol=0.1)
    # the Stratonovich reading of the SDE (log X with mean log x0 + rate t) fails too
    strat = lambda t_, y: cp.ito.gbm_density(t_, y, x0, rate + vol**2 / 2, vol, rho)  # noqa: E731
    r = [np.abs(cp.ito.forward_residual(strat, drift, diff, t, pts, h)).max() for h in hs]
    with pytest.raises(AssertionError):
        verify.slope("ito.fokker_planck", hs, r, expected=2.0, tol=0.1)


def test_isometry_with_right_endpoint_fails():
    """Non-adapted integrand: the right-point sums do not satisfy the isometry."""
    n = 64
    s = cp.ito.brownian_sums(1.0, n, 100_000, seed=7)
    m, se = cp.stats.mean_stderr(s[:, 2] ** 2)
    verify.close("ito.isometry", m, (n - 1) / (2 * n), stderr=se)
    m, se = cp.stats.mean_stderr(s[:, 3] ** 2)
    with pytest.raises(AssertionError):
        verify.close("ito.isometry", m, (n - 1) / (2 * n), stderr=se)
    # and they converge to (B_T^2 + T) / 2, not (B_T^2 - T) / 2
    with pytest.raises(AssertionError):
        verify.close("ito.isometry", s[:, 3], 0.5 * (s[:, 0] ** 2 - 1.0), atol=0.5)
    # the same for the integrand sin(B), whose isometry value is exact at n steps
    sine = cp.ito.sine_sums(1.0, n, 100_000, seed=7)
    exact = cp.ito.sine_sum_moments(1.0, n)["isometry"]
    m, se = cp.stats.mean_stderr(sine[:, 2] ** 2)
    verify.close("ito.isometry", m, exact, stderr=se)
    m, se = cp.stats.mean_stderr(sine[:, 4] ** 2)
    with pytest.raises(AssertionError):
        verify.close("ito.isometry", m, exact, stderr=se)


def test_dds_with_unsquared_clock_fails():
    """The clock e^s - 1 instead of e^{2s} - 1."""
    s_pts = np.array([0.2, 0.4, 0.6])
    M = cp.ito.dds_samples(s_pts, 300, 20_000, seed=11)
    cov, se = cp.stats.covariance_with_stderr(M)
    v = np.expm1(2 * s_pts)
    verify.close("ito.dds", cov, np.minimum.outer(v, v), stderr=se)
    v = np.expm1(s_pts)
    with pytest.raises(AssertionError):
        verify.close("ito.dds", cov, np.minimum.outer(v, v), stderr=se)
