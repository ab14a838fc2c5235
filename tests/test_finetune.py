"""Unit tests of companion.finetune and of the error-decomposition helpers of score_matching,
against independent references: nested quadrature of the defining integrals, a hand-written
Euler-Maruyama simulation in NumPy, direct least squares, Monte Carlo."""
import numpy as np
import pytest
from scipy import integrate

import companion as cp
from companion import score_matching as sm
from companion.finetune import LQFineTuning, policy_gradient_ascent, policy_gradient_mc


@pytest.mark.parametrize("c", [0.5, 1.0, 2.0, 3.0])
def test_phi_K_and_variance_against_quadrature(c):
    p = LQFineTuning(c=c, T=1.7)
    v = lambda tau: c * np.exp(-2 * tau) + 1 - np.exp(-2 * tau)
    log_phi = lambda t: integrate.quad(lambda u: 1 - 2 / v(p.T - u), t, p.T, epsabs=1e-14)[0]
    for t in (0.0, 0.4, 1.2):
        assert p.phi(t) == pytest.approx(np.exp(log_phi(t)), rel=1e-12)
        ref = integrate.quad(lambda u: np.exp(log_phi(u)), t, p.T, epsabs=1e-13)[0]
        assert p.phi_integral(t) == pytest.approx(ref, rel=1e-10)
    var = np.exp(2 * log_phi(0.0)) + 2 * integrate.quad(lambda u: np.exp(2 * log_phi(u)), 0, p.T,
                                                        epsabs=1e-13)[0]
    assert p.var_YT == pytest.approx(var, rel=1e-10)


def test_reference_numbers_of_the_example():
    p = LQFineTuning(c=2.0, T=2.0, lam=0.25, y_star=2.0, beta=2.0, sigma_e=0.3)
    assert p.dJ(0.2) == pytest.approx(0.3256886831, abs=1e-10)
    assert float(p.terminal_kl(0.1)) == pytest.approx(0.016957, abs=1e-6)
    assert float(p.path_kl(0.5)) == pytest.approx(0.5)


def test_J_against_simulated_rewards_and_maximisers_against_numerical_optimisation():
    from scipy import optimize
    p = LQFineTuning()
    # J from its definition: E R(Y_T) by simulation (exact Gaussian transition) + running cost
    theta, n = 0.3, 400_000
    g = np.random.default_rng(1)
    yT = 2 * theta * p.K + np.sqrt(p.var_YT) * g.standard_normal(n)
    R = -p.lam * (yT - p.y_star) ** 2
    run = -p.beta * p.T * (theta**2 + p.sigma_e**2)
    assert abs(R.mean() + run - float(p.J(theta))) < 5 * R.std() / np.sqrt(n)
    # the two maximisers, by bounded scalar optimisation of the two objectives
    best_run = optimize.minimize_scalar(lambda th: -float(p.J(th)), bounds=(-1, 2),
                                        method="bounded", options={"xatol": 1e-10}).x
    term = lambda th: (-p.lam * ((2 * th * p.K - p.y_star) ** 2 + p.var_YT)
                       - p.beta * float(p.terminal_kl(th)))
    best_term = optimize.minimize_scalar(lambda th: -term(th), bounds=(-1, 2), method="bounded",
                                         options={"xatol": 1e-10}).x
    assert p.theta_running() == pytest.approx(best_run, abs=1e-8)
    assert p.theta_terminal() == pytest.approx(best_term, abs=1e-8)
    assert p.theta_terminal() - p.theta_running() > 0.02


def test_simulation_matches_moments_and_a_numpy_reference():
    p = LQFineTuning()
    theta, n, steps = 0.4, 40_000, 200
    est, yT = policy_gradient_mc(p, theta, n, steps, seed=3)
    # a plain NumPy Euler-Maruyama of the exploratory dynamics (its own noise)
    g = np.random.default_rng(0)
    h = p.T / steps
    y = g.standard_normal(n)
    for k in range(steps):
        t = k * h
        a = p.s_pre(t, y) + theta + p.sigma_e * g.standard_normal(n)
        y = y + (y + 2 * a) * h + np.sqrt(2 * h) * g.standard_normal(n)
    for stat in (np.mean, np.var):
        se = np.sqrt(np.var(yT) / n) if stat is np.mean else np.var(yT) * np.sqrt(2 / n)
        assert abs(stat(yT) - stat(y)) < 5 * np.sqrt(2) * se
    assert abs(yT.mean() - 2 * theta * p.K) < 5 * yT.std() / np.sqrt(n) + 0.02  # O(h) grid bias
    assert abs(yT.var() - p.var_YT) < 5 * p.var_YT * np.sqrt(2 / n) + 0.05


def test_policy_gradient_estimator_expectation_is_the_grid_sum():
    p = LQFineTuning()
    for full in (False, True):
        est, _ = policy_gradient_mc(p, 0.3, 40_000, 100, seed=5, full=full)
        assert abs(est.mean() - p.grid_gradient(0.3, 100)) < 5 * est.std() / np.sqrt(est.size)
    # the grid sum tends to dJ at rate h
    gaps = [p.grid_gradient(0.3, n) - p.dJ(0.3) for n in (200, 400, 800)]
    assert 1.9 < gaps[0] / gaps[1] < 2.1 and 1.9 < gaps[1] / gaps[2] < 2.1


def test_grid_gradient_against_a_numpy_euler_chain():
    # E[grad] on the grid from a simulated Euler chain of the mean dynamics (no noise needed:
    # the chain is linear, so its mean follows the noiseless recursion)
    p = LQFineTuning()
    theta, steps = 0.25, 50
    h = p.T / steps
    m, total = 0.0, 0.0
    for k in range(steps):
        t = k * h
        total += h * (2 * float(p.dV_dy(t, m, theta)) - 2 * p.beta * theta)
        m = m + (m + 2 * (float(p.s_pre(t, m)) + theta)) * h
    assert p.grid_gradient(theta, steps) == pytest.approx(total, rel=1e-12)


def test_policy_gradient_ascent_settles_at_the_grid_maximiser():
    p = LQFineTuning()
    th = policy_gradient_ascent(p, 0.0, 60, 0.05, 4000, 100, seed=77)
    g0, g1 = p.grid_gradient(0.0, 100), p.grid_gradient(1.0, 100)
    assert abs(th[30:].mean() - (-g0 / (g1 - g0))) < 0.003
    assert th[0] == 0.0 and th.size == 61


def test_same_bits_with_one_or_two_threads(with_threads):
    p = LQFineTuning()
    a = with_threads(1, lambda: policy_gradient_mc(p, 0.3, 301, 20, seed=9))
    b = with_threads(2, lambda: policy_gradient_mc(p, 0.3, 301, 20, seed=9))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_value_function_solves_its_feynman_kac_equation_by_finite_differences():
    p = LQFineTuning()
    theta, h = 0.3, 1e-4
    for t in (0.2, 1.1):
        for y in (-1.0, 0.5):
            dt = (p.V(t + h, y, theta) - p.V(t - h, y, theta)) / (2 * h)
            dy = (p.V(t, y + h, theta) - p.V(t, y - h, theta)) / (2 * h)
            d2 = (p.V(t, y + 1e-3, theta) - 2 * p.V(t, y, theta) + p.V(t, y - 1e-3, theta)) / 1e-6
            mu_a = float(p.s_pre(t, y)) + theta
            # drift y + 2 mu, (g^2/2) V'' = V'', E r = -beta (theta^2 + sigma_e^2)
            resid = dt + (y + 2 * mu_a) * dy + d2 - p.beta * (theta**2 + p.sigma_e**2)
            assert abs(resid) < 1e-5
    y = np.array([0.3, -2.0])
    assert np.allclose(p.V(p.T, y, theta), -p.lam * (y - p.y_star) ** 2)


def test_dsm_population_against_direct_computations():
    mu = cp.targets.bimodal()
    alpha, sigma = np.exp(-0.5), np.sqrt(1 - np.exp(-1.0))
    model = sm.RBFScoreModel(np.linspace(-2.5, 2.5, 4)[:, None], width=1.2)
    pop = sm.dsm_population(model, mu, alpha, sigma)
    q = mu.channel(alpha, sigma)
    # theta_star minimises J_ESM: its gradient vanishes (finite differences of a quadrature)
    x = np.linspace(-10, 10, 8001)[:, None]
    w = q.pdf(x) * (x[1, 0] - x[0, 0])
    J = lambda th: w @ (model.score(th, x)[:, 0] - q.score(x)[:, 0]) ** 2
    assert J(pop["theta_star"]) == pytest.approx(pop["approx_error"], rel=1e-9)
    for j in range(model.n_params):
        e = np.zeros(model.n_params)
        e[j] = 1e-4
        assert abs(J(pop["theta_star"] + e) - J(pop["theta_star"] - e)) < 1e-10
    # Omega by Monte Carlo over joint pairs
    n = 400_000
    x0 = mu.sample(n, seed=1)
    xt = alpha * x0 + sigma * cp.rng.normals(n, 1, seed=1, step=1)
    r = model.score(pop["theta_star"], xt)[:, 0] + (xt - alpha * x0)[:, 0] / sigma**2
    phi, _ = model.features(xt)
    z = phi[:, 0, :] * r[:, None]
    omega_mc = z.T @ z / n
    se = np.sqrt(np.var(z[:, :, None] * z[:, None, :], axis=0) / n)
    assert np.all(np.abs(omega_mc - pop["omega"]) < 5 * se + 1e-12)


def test_fit_dsm_replicates_equals_fit_dsm_and_esm_excess_is_the_quadratic_form():
    mu = cp.targets.bimodal()
    model = sm.RBFScoreModel(np.linspace(-2, 2, 3)[:, None], width=1.0)
    x0 = mu.sample(3 * 500, seed=2).reshape(3, 500, 1)
    xt = 0.7 * x0 + 0.5 * cp.rng.normals(1500, 1, seed=2, step=1).reshape(3, 500, 1)
    th = sm.fit_dsm_replicates(model, xt, x0, 0.7, 0.5)
    for r in range(3):
        np.testing.assert_allclose(th[r], sm.fit_dsm(model, xt[r], x0[r], 0.7, 0.5), rtol=1e-10)
    pop = sm.dsm_population(model, mu, 0.7, 0.5)
    d = th[0] - pop["theta_star"]
    assert sm.esm_excess(model, th[0], pop) == pytest.approx(d @ pop["G"] @ d)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="c"):
        LQFineTuning(c=0.0)
    with pytest.raises(ValueError, match="sigma_e"):
        LQFineTuning(sigma_e=0.0)
    p = LQFineTuning()
    with pytest.raises(ValueError, match="t must lie"):
        p.phi(3.0)
    with pytest.raises(ValueError, match="theta"):
        p.dJ(np.nan)
    with pytest.raises(ValueError, match="problem"):
        policy_gradient_mc("p", 0.3, 10, 10, seed=0)
    with pytest.raises(ValueError, match="n_paths"):
        policy_gradient_mc(p, 0.3, 1, 10, seed=0)
    with pytest.raises(ValueError, match="full"):
        policy_gradient_mc(p, 0.3, 10, 10, seed=0, full="yes")
    with pytest.raises(ValueError, match="lr"):
        policy_gradient_ascent(p, 0.0, 5, 0.0, 10, 10, seed=0)
    with pytest.raises(ValueError, match="y_star"):
        LQFineTuning(y_star=np.inf)
    model = sm.RBFScoreModel([[0.0]], 1.0)
    with pytest.raises(ValueError, match="1-D"):
        sm.dsm_population(model, cp.targets.ring(), 0.5, 0.5)
    with pytest.raises(ValueError, match="sigma"):
        sm.dsm_population(model, cp.targets.bimodal(), 0.5, 0.0)
    with pytest.raises(ValueError, match="theta"):
        sm.esm_excess(model, np.zeros(5), {"theta_star": np.zeros(3), "G": np.eye(3)})
    with pytest.raises(ValueError, match="xt"):
        sm.fit_dsm_replicates(model, np.zeros((2, 3)), np.zeros((2, 3)), 0.5, 0.5)


def test_value_derivatives_against_finite_differences():
    p = LQFineTuning()
    theta, h = 0.3, 1e-5
    for t in (0.2, 1.1, 1.9):
        for y in (-1.5, 0.4):
            dt = (p.V(t + h, y, theta) - p.V(t - h, y, theta)) / (2 * h)
            dy = (p.V(t, y + h, theta) - p.V(t, y - h, theta)) / (2 * h)
            d2 = (p.V(t, y + 1e-3, theta) - 2 * p.V(t, y, theta) + p.V(t, y - 1e-3, theta)) / 1e-6
            assert float(p.dV_dt(t, y, theta)) == pytest.approx(float(dt), abs=1e-7)
            assert float(p.dV_dy(t, y, theta)) == pytest.approx(float(dy), abs=1e-7)
            assert float(p.d2V_dy2(t)) == pytest.approx(float(d2), abs=1e-5)
