"""Negative controls for chapter 11: each check, with its statement perturbed (the source's
version where it is wrong), fails; the true statement passes the same check."""
import numpy as np
import pytest

import companion as cp
from companion import score_matching as sm
from companion import verify
from companion.finetune import LQFineTuning, policy_gradient_ascent, policy_gradient_mc

MU = cp.targets.bimodal()


def test_vp_tweedie_fails_with_the_sub_vp_gamma():
    vp = cp.sde.VP()
    x = np.linspace(-4, 4, 41)[:, None]
    B = float(vp.int_beta(0.1))
    score = vp.marginal(MU, 0.1).score(x)
    for gamma, ok in ((np.exp(-B), True), (np.exp(-2 * B), False)):
        rhs = (np.sqrt(gamma) * MU.posterior_mean(x, a=np.sqrt(gamma), sigma=np.sqrt(1 - gamma))
               - x) / (1 - gamma)
        if ok:
            verify.close("stat.vp_tweedie_param", rhs, score, atol=1e-12 * np.abs(score).max())
        else:
            with pytest.raises(AssertionError):
                verify.close("stat.vp_tweedie_param", rhs, score, atol=1e-12 * np.abs(score).max())


def test_ism_minimizer_fails_without_the_minus_sign():
    fam = sm.PolynomialExpFamily([4])
    A, b = fam.ism_parameters(np.array([-0.25]))
    verify.close("stat.ism_minimizer", -4 * float(-np.linalg.solve(A, b)[0]), 1.0, atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("stat.ism_minimizer", -4 * float(np.linalg.solve(A, b)[0]), 1.0, atol=1e-10)


def test_sm_efficiency_fails_against_the_mle_variance():
    fam = sm.PolynomialExpFamily([4])
    eta = np.array([-0.25])
    gamma_sm = 16 * float(fam.sandwich(eta)[0, 0])
    gamma_mle = 16 / float(fam.cov(eta)[0, 0])
    with pytest.raises(AssertionError):          # the reversed inequality
        verify.leq("stat.sm_efficiency", gamma_sm, gamma_mle)
    R, n = 600, 8000
    th = -4 * fam.sm_estimates(fam.sample(eta, R * n, seed=3).reshape(R, n))[:, 0]
    v, se = cp.stats.variance_stderr(th)
    verify.close("stat.sm_efficiency", n * v, gamma_sm, stderr=n * se)
    with pytest.raises(AssertionError):
        verify.close("stat.sm_efficiency", n * v, gamma_mle, stderr=n * se)


def test_error_decomp_fails_with_a_wrong_rate():
    alpha, sigma = np.exp(-0.5), np.sqrt(1 - np.exp(-1.0))
    model = sm.RBFScoreModel(np.linspace(-2.5, 2.5, 4)[:, None], width=1.2)
    pop = sm.dsm_population(model, MU, alpha, sigma)
    R, n = 200, 4000
    x0 = MU.sample(R * n, seed=7).reshape(R, n, 1)
    xt = alpha * x0 + sigma * cp.rng.normals(R * n, 1, seed=7, step=1).reshape(R, n, 1)
    ex = sm.esm_excess(model, sm.fit_dsm_replicates(model, xt, x0, alpha, sigma), pop)
    m, se = cp.stats.mean_stderr(ex)
    verify.close("stat.error_decomp", m, pop["excess_coeff"] / n, stderr=se)
    with pytest.raises(AssertionError):          # predicted like 1/n^2
        verify.close("stat.error_decomp", m, pop["excess_coeff"] / n**2, stderr=se)
    with pytest.raises(AssertionError):          # the sandwich without the posterior-variance term
        q = MU.channel(alpha, sigma)
        x = np.linspace(-10, 10, 6001)[:, None]
        w = q.pdf(x) * (x[1, 0] - x[0, 0])
        r2 = (model.score(pop["theta_star"], x)[:, 0] - q.score(x)[:, 0]) ** 2
        omega, _, _ = sm.normal_equations(model, x, None, weights=w * r2)
        verify.close("stat.error_decomp", m, np.trace(np.linalg.solve(pop["G"], omega)) / n,
                     stderr=se)


def test_kl_path_bound_fails_reversed():
    p = LQFineTuning()
    th = np.linspace(0.05, 1.0, 10)
    verify.leq("rl.kl_path_bound", p.terminal_kl(th), p.path_kl(th))
    with pytest.raises(AssertionError):          # "equivalent": the terminal KL would be the larger
        verify.leq("rl.kl_path_bound", p.path_kl(th), p.terminal_kl(th))


def test_policy_gradient_fails_without_the_running_reward():
    p = LQFineTuning()
    from scipy import integrate
    good = integrate.quad(lambda t: p.pg_integrand(t, 0.3), 0, p.T, epsabs=1e-13)[0]
    verify.close("rl.policy_gradient", good, p.dJ(0.3), atol=1e-10)
    bad = good + 2 * p.beta * 0.3 * p.T                  # the penalty's gradient dropped
    with pytest.raises(AssertionError):
        verify.close("rl.policy_gradient", bad, p.dJ(0.3), atol=1e-10)
    est, _ = policy_gradient_mc(p, 0.3, 20_000, 100, seed=2)
    m, se = cp.stats.mean_stderr(est)
    verify.close("rl.policy_gradient", m, p.grid_gradient(0.3, 100), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("rl.policy_gradient", m, p.grid_gradient(0.3, 100) + 2 * p.beta * 0.3 * p.T,
                     stderr=se)


def test_q_zero_mean_fails_for_the_printed_q_and_without_the_laplacian():
    p = LQFineTuning()
    tt, yy = np.meshgrid(np.linspace(0.1, 1.9, 5), np.linspace(-2, 2, 5), indexing="ij")
    mu_a = p.s_pre(tt, yy) + 0.3
    full = p.q(tt, yy, mu_a, 0.3, full=True) - p.beta * p.sigma_e**2
    printed = p.q(tt, yy, mu_a, 0.3, full=False) - p.beta * p.sigma_e**2
    no_laplacian = full - p.d2V_dy2(tt)
    verify.close("rl.q_zero_mean", full, 0.0, atol=1e-12)
    for wrong in (printed, no_laplacian, full + p.d2V_dy2(tt)):
        with pytest.raises(AssertionError):
            verify.close("rl.q_zero_mean", wrong, 0.0, atol=1e-12)


def test_learned_theta_is_not_the_terminal_kl_maximiser():
    """003 eqs. 7.13-7.14 read as 'equivalent': gradient ascent on the running cost would then
    find the maximiser of the terminal-KL objective. It does not."""
    p = LQFineTuning()
    runs = [policy_gradient_ascent(p, 0.0, 60, 0.05, 4000, 100, seed=10_000 * (r + 1))[30:].mean()
            for r in range(4)]
    m, se = np.mean(runs), np.std(runs, ddof=1) / 2
    g0, g1 = p.grid_gradient(0.0, 100), p.grid_gradient(1.0, 100)
    verify.close("rl.kl_path_bound", m, -g0 / (g1 - g0), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("rl.kl_path_bound", m, p.theta_terminal(), stderr=se)
