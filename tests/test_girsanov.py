"""Unit tests of companion.girsanov and companion.ito against independent references."""
import numpy as np
import pytest
from scipy import integrate

import companion as cp
from companion.girsanov import Drift

G = cp.girsanov
LQ = Drift([[-1.0, 0.3], [0.0, -0.5]], c=[0.5, 0.0])
LP = Drift([[-0.6, 0.0], [0.2, -0.5]], c=[0.0, 0.2])
M0, S0 = np.array([0.3, -0.2]), np.diag([0.5, 0.8])


def test_log_ratio_is_the_gaussian_transition_ratio():
    """The kernel's log-ratio equals the ratio of Gaussian transition densities (scipy)."""
    from scipy import stats
    q, p = Drift([[-1.0]], c=[0.4], k=[0.5]), Drift([[-0.5]])
    x0 = np.full((3, 1), 0.2)
    path, lr = G.log_ratio_paths(q, p, x0, 1.0, 7, seed=5, world="q", return_path=True)
    h = 1 / 7
    ref = np.zeros(3)
    for k in range(7):
        x, y = path[:, k, 0], path[:, k + 1, 0]
        ref += (stats.norm.logpdf(y, x + h * q(x[:, None])[:, 0], np.sqrt(2 * h))
                - stats.norm.logpdf(y, x + h * p(x[:, None])[:, 0], np.sqrt(2 * h)))
    np.testing.assert_allclose(lr, ref, atol=1e-10)


def test_log_ratio_paths_follow_euler_maruyama_of_sde_module():
    """In the P world with a linear drift -x the paths are the EM paths of the OU module."""
    x0 = cp.rng.normals(50, 2, seed=1)
    q, p = Drift(-np.eye(2), c=[1.0, 0.0]), Drift(-np.eye(2))
    x, _ = G.log_ratio_paths(q, p, x0, 1.0, 20, seed=9, world="p")
    ref = cp.sde.euler_maruyama(cp.sde.OU(), x0, 1.0, 20, seed=9)
    np.testing.assert_allclose(x, ref, atol=1e-12)


def test_linear_path_kl_against_quadrature_of_closed_moments():
    """1-D OU pair with a constant gap and a rate gap: moments in closed form, scipy quad."""
    a, a2, c = -1.0, -0.4, 0.3
    m0, v0, T = 0.5, 0.7, 1.5
    m = lambda t: (m0 + c / a) * np.exp(a * t) - c / a
    v = lambda t: (v0 + 1 / a) * np.exp(2 * a * t) - 1 / a        # v' = 2 a v + 2
    f = lambda t: ((a - a2) ** 2 * (v(t) + m(t) ** 2) + 2 * c * (a - a2) * m(t) + c * c) / 4
    ref = integrate.quad(f, 0, T, epsabs=1e-13)[0]
    got = G.linear_path_kl(Drift([[a]], c=[c]), Drift([[a2]]), [m0], [[v0]], T)
    assert abs(got - ref) < 1e-10


def test_chain_kl_equals_discrete_sum_and_mc():
    assert abs(G.euler_chain_kl(LQ, LP, M0, S0, 1.0, 30)
               - G.discrete_girsanov_sum(LQ, LP, M0, S0, 1.0, 30)) < 1e-11
    x0 = M0 + cp.rng.normals(40_000, 2, seed=2) @ np.linalg.cholesky(S0).T
    _, lr = G.log_ratio_paths(LQ, LP, x0, 1.0, 30, seed=3, world="q")
    m, se = cp.stats.mean_stderr(lr)
    assert abs(m - G.discrete_girsanov_sum(LQ, LP, M0, S0, 1.0, 30)) < 5 * se


def test_gaussian_chain_law_random_walk():
    m, C = G.gaussian_chain_law([1.0], [[2.0]], [([[1.0]], None, 0, [0.5], [[1.0]])] * 3)
    np.testing.assert_allclose(m, [1.0, 1.5, 2.0, 2.5])
    np.testing.assert_allclose(C, 2.0 + np.minimum.outer(np.arange(4), np.arange(4)))


def test_gaussian_chain_law_memory_matches_monte_carlo():
    steps = [([[0.9]], None, 0, [0.0], [[0.1]]), ([[1.0]], [[-0.5]], 0, [0.2], [[0.2]])]
    m, C = G.gaussian_chain_law([0.0], [[1.0]], steps)
    z = cp.rng.normals(200_000, 3, seed=4)
    x0 = z[:, 0]
    x1 = 0.9 * x0 + np.sqrt(0.1) * z[:, 1]
    x2 = x1 - 0.5 * x0 + 0.2 + np.sqrt(0.2) * z[:, 2]
    X = np.stack([x0, x1, x2], 1)
    cov, se = cp.stats.covariance_with_stderr(X)
    assert np.all(np.abs(cov - C) < 5 * se)


def test_diffusion_path_kl_on_stationary_data():
    """q_t = N(0, I): the integrand is 2 d (1 - e^{-(t - t_k)}) + eps^2."""
    q = cp.gaussian([0.0, 0.0], np.eye(2))
    g = cp.schedules.uniform(2.0, 5, delta=0.1)
    h = np.diff(g)
    ref = 4 * np.sum(h + np.expm1(-h)) + 0.09 * g[-1]
    assert abs(G.diffusion_path_kl(q, 2.0, g, score_error=0.3) - ref) < 1e-13


def test_diffusion_path_kl_against_monte_carlo_of_the_integrand():
    """E||S_t - s(Y_{t_k})||^2 at one time by sampling the joint law of (X_a, X_b)."""
    q = cp.gaussian([0.5], [[0.25]])
    T, a, b = 2.0, 0.7, 1.0
    grid = np.array([0.0, T - b, T - a])
    # per-step values: the integrand integrated over [T - b, T - a] vs a MC of the mean over t
    kl = G.diffusion_path_kl(q, T, grid, per_step=True)[1]
    ts = np.linspace(T - b, T - a, 9)
    vals = []
    for t in ts:
        aa = T - t
        x0 = q.sample(100_000, seed=5)[:, 0]
        z = cp.rng.normals(100_000, 2, seed=6)
        xa = np.exp(-aa) * x0 + np.sqrt(-np.expm1(-2 * aa)) * z[:, 0]
        xb = np.exp(-(b - aa)) * xa + np.sqrt(-np.expm1(-2 * (b - aa))) * z[:, 1]
        sa = q.at(aa).score(xa[:, None])[:, 0]
        sb = q.at(b).score(xb[:, None])[:, 0]
        vals.append(np.mean((sa - sb) ** 2))
    assert abs(integrate.simpson(vals, x=ts) - kl) < 0.02 * kl


def test_skeleton_output_law_matches_samplers_gaussian_output_law():
    """With one substep the sampler's last marginal is the exponential integrator's output."""
    q = cp.gaussian([0.5], [[0.25]])
    grid = cp.schedules.uniform(2.0, 6, delta=0.05)
    m, C = cp.samplers.gaussian_output_law(q, 2.0, grid, method="ei", start="gaussian",
                                           score_error=0.2)
    # the skeleton's last block: rebuild it through the public chain law
    kl_sk = G.diffusion_skeleton_kl(q, 2.0, grid, 1, score_error=0.2, start="gaussian")
    assert kl_sk > cp.divergences.gaussian_kl(q.at(0.05).means[0], q.at(0.05).covs[0], m, C)


def test_langevin_closed_form_small_h_and_skeleton():
    assert abs(G.langevin_kl_gaussian(2.0, 3, 1.0, 1e-5) / (4 * 3 * 1e-5 / 4) - 1) < 1e-4
    gaps = [G.langevin_kl_gaussian(1.0, 1, 1.0, 0.1) - G.langevin_skeleton_kl(1.0, 1.0, 0.1, M)
            for M in (4, 8)]
    assert gaps[1] > 0 and abs(gaps[0] / gaps[1] - 4) < 0.1


def test_reverse_output_variance_matches_fine_exponential_integrator():
    c, T = 0.25, 1.0
    m, C = cp.samplers.gaussian_output_law(cp.gaussian([0.0], [[c]]), T,
                                           cp.schedules.uniform(T, 4000, delta=0.0))
    assert abs(C[0, 0] - G.reverse_output_variance(c, T)) < 2e-3


def test_density_ei_1d_matches_gaussian_output_law():
    q = cp.gaussian([0.4], [[0.3]])
    grid = cp.schedules.uniform(2.0, 10, delta=0.0)
    x = np.linspace(-8, 8, 1601)
    p = G.density_ei_1d(q, 2.0, grid, x)
    m, C = cp.samplers.gaussian_output_law(q, 2.0, grid, method="ei")
    ref = np.exp(-(x - m[0]) ** 2 / (2 * C[0, 0])) / np.sqrt(2 * np.pi * C[0, 0])
    assert np.abs(p - ref).max() < 1e-8


def test_ito_sums_identities():
    s = cp.ito.brownian_sums(2.0, 50, 100, seed=1)
    np.testing.assert_allclose(s[:, 3] - s[:, 2], s[:, 1], atol=1e-12)
    np.testing.assert_allclose(s[:, 2] + 0.5 * s[:, 1], 0.5 * s[:, 0] ** 2, atol=1e-12)
    z = np.stack([cp.rng.normals(100, 1, seed=1, step=k + 1)[:, 0] for k in range(50)], 1)
    np.testing.assert_allclose(s[:, 0], np.sqrt(2.0 / 50) * z.sum(1), atol=1e-12)


def test_dds_variance():
    M = cp.ito.dds_samples([0.3, 0.6], 300, 40_000, seed=2)
    v, se = cp.stats.variance_stderr(M[:, 1])
    assert abs(v - np.expm1(1.2)) < 5 * se


@pytest.mark.parametrize("call, name", [
    (lambda: Drift([[1.0, 0.0]]), "A"),
    (lambda: Drift([[1.0]], c=[1.0, 2.0]), "c"),
    (lambda: G.log_ratio_paths(LQ, LP, np.zeros((3, 1)), 1.0, 5, 0), "x0"),
    (lambda: G.log_ratio_paths(LQ, LP, np.zeros((3, 2)), -1.0, 5, 0), "T"),
    (lambda: G.log_ratio_paths(LQ, LP, np.zeros((3, 2)), 1.0, 5, 0, world="x"), "world"),
    (lambda: G.log_ratio_paths(LQ, LP, np.zeros((3, 2)), 1.0, 5, 0, sigma=0.0), "sigma"),
    (lambda: G.log_ratio_paths(LQ, Drift([[1.0]]), np.zeros((3, 2)), 1.0, 5, 0), "drift_q"),
    (lambda: G.linear_path_kl(Drift(-np.eye(2), k=[1.0, 0.0]), LP, M0, S0, 1.0), "linear"),
    (lambda: G.linear_path_kl(LQ, LP, M0, -S0, 1.0), "S0"),
    (lambda: G.euler_chain_kl(LQ, LP, M0, S0, 1.0, 0), "n_steps"),
    (lambda: G.gaussian_chain_law([0.0], [[1.0]], []), "steps"),
    (lambda: G.diffusion_path_kl(cp.targets.bimodal(), 1.0, [0.0, 0.5]), "target"),
    (lambda: G.diffusion_path_kl(cp.gaussian([0.0], [[1.0]]), 1.0, [0.0, 2.0]), "grid"),
    (lambda: G.diffusion_skeleton_kl(cp.gaussian([0.0], [[1.0]]), 1.0, [0.0, 0.5], 0), "substeps"),
    (lambda: G.diffusion_skeleton_kl(cp.gaussian([0.0], [[1.0]]), 1.0, [0.0, 0.5], 1,
                                     start="x"), "start"),
    (lambda: G.langevin_kl_gaussian(0.0, 1, 1.0, 0.1), "alpha"),
    (lambda: G.langevin_skeleton_kl(1.0, 1.0, 0.3, 2), "T / h"),
    (lambda: G.reverse_output_variance(-1.0, 1.0), "c"),
    (lambda: G.density_ei_1d(cp.targets.ring(), 1.0, [0.0, 0.5], np.linspace(-1, 1, 5)), "target"),
    (lambda: G.density_ei_1d(cp.targets.bimodal(), 1.0, [0.0, 0.5], [0.0, 1.0, 3.0]), "x"),
    (lambda: cp.ito.brownian_sums(1.0, 0, 5, 0), "n_steps"),
    (lambda: cp.ito.dds_samples([0.3, 0.25], 10, 5, 0), "s_values"),
    (lambda: cp.ito.dds_samples([0.3, 1.0], 7, 5, 0), "multiple"),
])
def test_bad_input(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_girsanov_figure_and_explorer():
    import matplotlib.pyplot as plt
    fig = cp.widgets.girsanov_figure(1.0, n=200)
    assert len(fig.axes) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="gap"):
        cp.widgets.girsanov_figure(-1.0)
