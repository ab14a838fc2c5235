"""Unit tests of the d-dimensional part of companion.ito against independent references:
NumPy rebuilds of the kernels from the raw counter-based draws, quadrature of the closed forms,
SciPy's matrix exponential and log-normal law, and finite differences of known solutions."""
import numpy as np
import pytest
from scipy import integrate, stats
from scipy.linalg import expm

import companion as cp
from companion import ito


def _increments(n, m, n_steps, seed, h):
    """The Brownian increments the kernels use: stream i, counter step k + 1."""
    return np.sqrt(h) * np.stack([cp.rng.normals(n, m, seed=seed, step=k + 1)
                                  for k in range(n_steps)], axis=1)          # (n, n_steps, m)


def test_exp_martingale_sums_against_a_numpy_rebuild():
    v = np.array([[1.0, 0.0, 0.3], [0.9, 0.6, -0.2]])            # d = 2, m = 3
    lam, c, T, N, n = np.array([0.6, -0.9]), 0.7, 1.3, 12, 50
    s = ito.exp_martingale_sums(v, lam, c, T, N, n, seed=4)
    dX = _increments(n, 3, N, 4, T / N) @ v.T                      # (n, N, 2)
    X = np.concatenate([np.zeros((n, 1, 2)), np.cumsum(dX, axis=1)], axis=1)
    Y = np.exp(X @ lam - 0.5 * c * T / N * np.arange(N + 1))
    ldx = dX @ lam
    np.testing.assert_allclose(s[:, 0], X[:, -1] @ lam, atol=1e-12)
    np.testing.assert_allclose(s[:, 1], np.sum(Y[:, :-1] * ldx, axis=1), atol=1e-12)
    np.testing.assert_allclose(s[:, 2], np.sum(0.5 * (Y[:, :-1] + Y[:, 1:]) * ldx, axis=1),
                               atol=1e-12)


def test_exp_martingale_mse_against_quadrature_and_monte_carlo():
    # E int_0^T (Y_t - Y_{t_k})^2 c dt with E(Y_t - Y_{t_k})^2 = e^{c t_k}(e^{c(t - t_k)} - 1),
    # integrated numerically step by step
    for c, T, N in ((1.0, 1.0, 7), (0.34, 2.0, 16), (2.5, 0.5, 3)):
        h = T / N
        ref = sum(integrate.quad(lambda t, tk=k * h: c * np.exp(c * tk) * np.expm1(c * (t - tk)),
                                 k * h, (k + 1) * h, epsabs=1e-14)[0] for k in range(N))
        assert abs(ito.exp_martingale_mse(c, T, N) - ref) < 1e-10 * ref
    # and the one-dimensional sums of brownian_sums (c = 1) at 5 standard errors
    s = ito.brownian_sums(1.0, 32, 40_000, seed=8)
    m, se = cp.stats.mean_stderr((np.exp(s[:, 0] - 0.5) - 1 - s[:, 4]) ** 2)
    assert abs(m - ito.exp_martingale_mse(1.0, 1.0, 32)) < 5 * se


def test_sine_sums_against_a_numpy_rebuild():
    T, N, n = 1.6, 10, 40
    s = ito.sine_sums(T, N, n, seed=6)
    dB = _increments(n, 1, N, 6, T / N)[:, :, 0]
    B = np.concatenate([np.zeros((n, 1)), np.cumsum(dB, axis=1)], axis=1)
    left = np.cumsum(np.sin(B[:, :-1]) * dB, axis=1)
    right = np.cumsum(np.sin(B[:, 1:]) * dB, axis=1)
    ref = np.column_stack([B[:, 5], left[:, 4], left[:, -1], right[:, 4], right[:, -1],
                           np.sum(np.sin(0.5 * (B[:, :-1] + B[:, 1:])) * dB, axis=1), B[:, -1]])
    np.testing.assert_allclose(s, ref, atol=1e-12)
    assert ito.SINE_SUMS[2] == "M_T" and len(ito.SINE_SUMS) == s.shape[1]


def test_sine_sum_moments_against_gauss_hermite():
    T, N = 1.2, 8
    h, s_half = T / N, T / 2
    z, w = np.polynomial.hermite_e.hermegauss(60)
    w = w / w.sum()
    E = lambda f, var: float(w @ f(np.sqrt(var) * z))           # noqa: E731  E f(N(0, var))
    m = ito.sine_sum_moments(T, N)
    tk = h * np.arange(N)
    assert abs(m["isometry"] - h * sum(E(lambda x: np.sin(x) ** 2, t) for t in tk)) < 1e-12
    # Stein: E[sin(B_k + D) D] = h E cos(B_k + D) with D ~ N(0, h); here by 2-D quadrature
    right = sum(float(np.sum(np.outer(w, w) * np.sin(np.sqrt(t) * z[:, None] + np.sqrt(h) * z)
                             * (np.sqrt(h) * z)[None, :])) for t in tk)
    assert abs(m["right_mean"] - right) < 1e-12
    mid = sum(float(np.sum(np.outer(w, w) * np.sin(np.sqrt(t) * z[:, None] + 0.5 * np.sqrt(h) * z)
                           * (np.sqrt(h) * z)[None, :])) for t in tk)
    assert abs(m["mid_mean"] - mid) < 1e-12
    # E[cos B_s cos B_t] = E cos(B_s) cos(B_s + W), W ~ N(0, t - s) independent
    inc = sum(h * float(np.sum(np.outer(w, w) * np.cos(np.sqrt(s_half) * z[:, None])
                               * np.cos(np.sqrt(s_half) * z[:, None] + np.sqrt(t + h - s_half) * z)))
              for t in tk[N // 2:])
    assert abs(m["right_increment_cos"] - inc) < 1e-12


def test_sine_sums_moments_by_monte_carlo():
    T, N = 1.0, 16
    B_s, M_s, M_T, R_s, R_T, mid_T, B_T = ito.sine_sums(T, N, 60_000, seed=12).T
    m = ito.sine_sum_moments(T, N)
    for x, ref in ((M_T, 0.0), ((M_T - M_s) * np.cos(B_s), 0.0), (M_T**2, m["isometry"]),
                   (R_T, m["right_mean"]), ((R_T - R_s) * np.cos(B_s), m["right_increment_cos"]),
                   (mid_T, m["mid_mean"])):
        mean, se = cp.stats.mean_stderr(x)
        assert abs(mean - ref) < 5 * se


def test_ou_transition_against_quadrature():
    M = np.array([[1.0, 2.0], [-0.5, 1.5]])
    G = np.array([[1.0, 0.0, 0.2], [0.8, 0.5, 0.0]])
    x, h = np.array([0.3, -1.0]), 0.37
    m, C = ito.ou_transition(M, G, x, h)
    ref = integrate.quad_vec(lambda u: expm(-M * u) @ G @ G.T @ expm(-M.T * u), 0.0, h,
                             epsabs=1e-14)[0]
    np.testing.assert_allclose(C, ref, atol=1e-13)
    np.testing.assert_allclose(m, expm(-M * h) @ x, atol=1e-14)
    # the covariance solves the Lyapunov ODE C' = -M C - C M^T + G G^T
    dC = (ito.ou_transition(M, G, x, h + 1e-5)[1] - ito.ou_transition(M, G, x, h - 1e-5)[1]) / 2e-5
    np.testing.assert_allclose(dC, -M @ C - C @ M.T + G @ G.T, atol=1e-7)


def test_gaussian_expectation_moments():
    mean, cov = np.array([0.4, -1.0]), np.array([[1.2, 0.5], [0.5, 0.8]])
    # E|Z|^4 = (tr C + |m|^2)^2 + 2 tr(C^2) + 4 m^T C m
    ref = (np.trace(cov) + mean @ mean) ** 2 + 2 * np.trace(cov @ cov) + 4 * mean @ cov @ mean
    got = ito.gaussian_expectation(lambda y: np.sum(y**2, axis=1) ** 2, mean, cov)
    assert abs(got - ref) < 1e-11
    assert abs(ito.gaussian_expectation(lambda y: y[:, 0] * y[:, 1], mean, cov)
               - (cov[0, 1] + mean[0] * mean[1])) < 1e-13


def test_gbm_density_marginals_and_mass():
    rate, vol, corr = np.array([0.3, -0.2]), np.array([0.5, 0.8]), np.array([[1, -0.6], [-0.6, 1]])
    x0, t = np.array([1.0, 1.5]), 0.5
    # the first coordinate is log-normal
    g = np.linspace(0.01, 6.0, 400)
    u1 = np.linspace(1e-3, 25.0, 6001)
    X1, U = np.meshgrid(g[::40], u1, indexing="ij")
    p = ito.gbm_density(t, np.column_stack([X1.ravel(), U.ravel()]), x0, rate, vol, corr)
    marg = integrate.trapezoid(p.reshape(X1.shape), u1, axis=1)
    ref = stats.lognorm(vol[0] * np.sqrt(t), scale=x0[0] * np.exp((rate[0] - vol[0] ** 2 / 2) * t))
    np.testing.assert_allclose(marg, ref.pdf(g[::40]), atol=2e-4)
    # zero off the orthant
    assert ito.gbm_density(t, [[-1.0, 1.0], [1.0, 0.0]], x0, rate, vol, corr).tolist() == [0, 0]
    b, A = ito.gbm_coefficients([[2.0, 3.0]], rate, vol, corr)
    np.testing.assert_allclose(b, [[0.6, -0.6]])
    np.testing.assert_allclose(A[0], [[1.0, -0.6 * 0.5 * 0.8 * 6], [-0.6 * 0.5 * 0.8 * 6, 5.76]])


def test_forward_residual_forms():
    # constant diffusion matrix: the three forms agree, and the OU density has residual O(h^2)
    M = np.array([[1.0, 0.5], [-0.3, 0.8]])
    G = np.array([[1.0, 0.0], [0.6, 0.7]])
    x0 = np.array([0.5, -0.5])

    def dens(t, y):
        m, C = ito.ou_transition(M, G, x0, t)
        return stats.multivariate_normal(m, C).pdf(y)

    drift = lambda y: -y @ M.T                                    # noqa: E731
    diff = lambda y: np.broadcast_to(G @ G.T, (len(y), 2, 2))     # noqa: E731
    x = np.array([[0.2, -0.3], [0.7, 0.1], [-0.4, -0.9]])
    r = {f: ito.forward_residual(dens, drift, diff, 0.6, x, 1e-3, form=f)
         for f in ("ito", "outside", "fick")}
    assert np.abs(r["ito"]).max() < 1e-5
    np.testing.assert_allclose(r["outside"], r["ito"], atol=1e-9)
    np.testing.assert_allclose(r["fick"], r["ito"], atol=1e-9)
    # position-dependent A: only the Itô form vanishes
    rate, vol, corr = np.array([0.3, -0.2]), np.array([0.5, 0.8]), np.array([[1, -0.6], [-0.6, 1]])
    gd = lambda t, y: ito.gbm_density(t, y, [1.0, 1.5], rate, vol, corr)  # noqa: E731
    gb = lambda y: ito.gbm_coefficients(y, rate, vol, corr)[0]             # noqa: E731
    ga = lambda y: ito.gbm_coefficients(y, rate, vol, corr)[1]             # noqa: E731
    pts = np.array([[1.0, 1.2], [1.4, 2.0], [0.8, 1.0]])
    res = [np.abs(ito.forward_residual(gd, gb, ga, 0.5, pts, h)).max() for h in (0.01, 0.005)]
    assert 3.5 < res[0] / res[1] < 4.5 and res[1] < 1e-3
    for f in ("outside", "fick"):
        assert np.abs(ito.forward_residual(gd, gb, ga, 0.5, pts, 0.005, form=f)).max() > 0.1


def test_reverse_sde_refinements_against_a_numpy_rebuild():
    q = cp.targets.lopsided(d=2)
    T, t_end, n = 1.0, 0.6, 30
    y0 = q.at(T).sample(n, seed=2)
    Y = ito.reverse_sde_refinements(q, y0, T, t_end, [3, 6], seed=5)
    hf = t_end / 6
    dB = _increments(n, 2, 6, 5, hf)
    for lev, r in enumerate((2, 1)):
        y = y0.copy()
        for k in range(6 // r):
            tk = k * r * hf
            y = y + r * hf * (y + 2 * q.at(T - tk).score(y)) + np.sqrt(2) * dB[:, k * r:(k + 1) * r].sum(1)
        np.testing.assert_allclose(Y[lev], y, atol=1e-10)


@pytest.mark.parametrize("call, name", [
    (lambda: ito.exp_martingale_sums([[1.0, 0.0]], [1.0, 2.0], 1.0, 1.0, 4, 3, 0), "lam"),
    (lambda: ito.exp_martingale_mse(0.0, 1.0, 4), "c"),
    (lambda: ito.sine_sums(1.0, 7, 3, 0), "even"),
    (lambda: ito.sine_sum_moments(1.0, 1), "n_steps"),
    (lambda: ito.ou_transition([[1.0, 0.0]], [[1.0]], [0.0], 0.1), "square"),
    (lambda: ito.ou_transition([[1.0]], [[1.0]], [0.0], -0.1), "h"),
    (lambda: ito.gaussian_expectation(lambda y: y[:, 0], [0.0], [[-1.0]]), "cov"),
    (lambda: ito.gbm_density(1.0, [[1.0]], [1.0], [0.1], [-0.3], [[1.0]]), "vol"),
    (lambda: ito.gbm_density(1.0, [[1.0, 1.0]], [1.0, 1.0], [0.1, 0.1], [0.3, 0.3],
                             [[1.0, 2.0], [2.0, 1.0]]), "corr"),
    (lambda: ito.gbm_density(1.0, [[1.0]], [-1.0], [0.1], [0.3], [[1.0]]), "x0"),
    (lambda: ito.forward_residual(None, None, None, 1.0, [[0.0]], 0.1, form="x"), "form"),
    (lambda: ito.reverse_sde_refinements(cp.targets.bimodal(), np.zeros((2, 1)), 1.0, 0.5,
                                         [3, 4], 0), "divide"),
    (lambda: ito.reverse_sde_refinements(cp.targets.bimodal(), np.zeros((2, 1)), 1.0, 1.5,
                                         [4], 0), "t_end"),
    (lambda: ito.reverse_sde_refinements("ring", np.zeros((2, 1)), 1.0, 0.5, [4], 0), "mixture"),
])
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()
