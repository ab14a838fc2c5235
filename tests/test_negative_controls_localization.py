"""Negative controls for chapter 5 (stochastic localization): each check of the chapter, given
a perturbed statement or a source's wrong version, must fail; the true statement passes."""
import numpy as np
import pytest
from scipy import stats

import companion as cp
from companion import localization as sl
from companion import verify

GL_X, GL_W = np.polynomial.legendre.leggauss(40)


def quad(f, a, b):
    r = a + (b - a) * (GL_X + 1) / 2
    return (b - a) / 2 * sum(w * f(ri) for w, ri in zip(GL_W, r))


def cdf(mix):
    w, m, s = mix.weights, mix.means[:, 0], np.sqrt(mix.covs[:, 0, 0])
    return lambda v: stats.norm.cdf((np.asarray(v)[:, None] - m) / s) @ w


@pytest.fixture(scope="module")
def mu():
    return cp.targets.bimodal()


def test_tilt_with_the_wrong_sign_of_the_quadratic_fails():
    cube = cp.discrete([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], [0.25] * 4)
    u, s = np.array([1.3, -0.4]), 1.7
    nu = sl.tilt(cube, u, s)
    good = np.exp(cube.means @ u - 0.5 * s * np.sum(cube.means**2, 1))
    bad = np.exp(cube.means @ u + 0.5 * s * np.sum(cube.means**2, 1))
    verify.close("sl.tilt", nu.weights, good / good.sum(), atol=1e-14)
    with pytest.raises(AssertionError):
        verify.close("sl.tilt", nu.weights, bad / bad.sum(), atol=1e-14)


def test_sde_without_its_drift_is_not_the_observation_process(mu):
    """Dropping a_s (plain Brownian motion) misses the law of s x* + B_s."""
    grid = np.linspace(0.0, 2.0, 201)
    U = sl.paths(mu, grid, 20_000, seed=1, method="sde", return_cov=False).U[:, -1, 0]
    law = mu.channel(2.0, np.sqrt(2.0))
    verify.ks("sl.sde", U, cdf(law))
    B = np.sqrt(2.0) * cp.rng.normals(20_000, 1, seed=1)[:, 0]
    with pytest.raises(AssertionError):
        verify.ks("sl.sde", B, cdf(law))


def test_equivalence_without_the_scale_fails(mu):
    """e^{t(s)} alone (the source's s dropped) or sqrt(s) instead of sqrt(s(s+1))."""
    s = np.array([0.3, 1.0, 2.5])
    a = sl.sl_fdd(mu, s)
    b = sl.ou_fdd(mu, s)
    verify.close("sl.equivalence", a.covs.ravel(), b.covs.ravel(), atol=1e-12)
    f = np.repeat(np.sqrt(s) / sl.scale(s), 1)
    wrong = b.covs * np.outer(f, f)
    with pytest.raises(AssertionError):
        verify.close("sl.equivalence", a.covs.ravel(), wrong.ravel(), atol=1e-12)


def test_equivalence_joint_statistic_fails_for_independent_times(mu):
    """Same marginals, independent across times: the joint statistic is off."""
    s = np.array([0.0, 0.5, 2.0])
    U = sl.ou_paths(mu, s, 40_000, seed=3)[:, 1:, 0]
    law = sl.sl_fdd(mu, s[1:])
    c, se = cp.stats.covariance_with_stderr(U)
    verify.close("sl.equivalence", c[0, 1], law.cov()[0, 1], stderr=se[0, 1])
    shuffled = np.stack([U[:, 0], np.roll(U[:, 1], 1)], axis=1)
    c2, se2 = cp.stats.covariance_with_stderr(shuffled)
    with pytest.raises(AssertionError):
        verify.close("sl.equivalence", c2[0, 1], law.cov()[0, 1], stderr=se2[0, 1])


def test_martingale_fails_under_the_wrong_channel(mu):
    """E mu_s(A) over U_s drawn with noise s instead of sqrt(s) is not mu(A)."""
    s = 2.0
    mass = lambda nu: float(nu.weights @ stats.norm.sf(0.0, nu.means[:, 0],
                                                          np.sqrt(nu.covs[:, 0, 0])))
    f = lambda U: np.array([mass(sl.tilt(mu, v, s)) for v in U])
    mu_pos = 1 - cdf(mu)(np.array([0.0]))[0]
    verify.close("sl.martingale", sl.expectation(mu, s, f), mu_pos, atol=1e-8)
    wrong = cp.GaussianMixture(mu.weights, mu.means, mu.covs + 1.0)   # U_s of a noisier prior
    with pytest.raises(AssertionError):
        verify.close("sl.martingale", sl.expectation(wrong, s, f), mu_pos, atol=1e-8)


def _ito_mse(p, x, innovation):
    M = p.s.size - 1
    L = np.exp(sl.path_log_likelihood_ratio(p, [x]))
    hs, mse, groups = [], [], []
    for step in (1, 2, 4, 8, 16):
        idx = np.arange(0, M + 1, step)
        a_left, ds = p.a[:, idx[:-1], 0], np.diff(p.s[idx])
        drift = a_left if innovation else p.xstar[:, :1]
        dB = np.diff(p.U[:, idx, 0], axis=1) - drift * ds
        e = (L[:, -1] - 1 - np.sum(L[:, idx[:-1]] * (x - a_left) * dB, axis=1)) ** 2
        hs.append(ds[0]); mse.append(e.mean()); groups.append(e.reshape(10, -1).mean(axis=1))
    return hs, mse, cp.stats.loglog_slope_stderr(np.array(hs), np.array(groups))


def test_prop1_with_the_brownian_motion_of_the_observation_fails(mu):
    """C9: with the B of U = s x* + B instead of the innovation, the Ito sum does not converge."""
    p = sl.paths(mu, np.linspace(0.0, 1.0, 513), 2000, seed=9, method="exact", return_cov=False)
    hs, mse, se = _ito_mse(p, 0.5, True)
    verify.slope("sl.prop1", hs, mse, expected=1.0, tol=5 * se)
    hs, mse, se_b = _ito_mse(p, 0.5, False)
    with pytest.raises(AssertionError):
        verify.slope("sl.prop1", hs, mse, expected=1.0, tol=5 * se)


@pytest.mark.parametrize("s", [0.5, 2.0])
def test_logL_drift_with_the_slipped_sign_fails(s):
    """C9: the source's substitution gives +1/2 int E||x - a||^2."""
    rad = cp.targets.rademacher(1)
    lhs = sl.expectation(rad, s, lambda U: sl.log_likelihood_ratio(rad, U, s, [1.0]))
    integral = quad(lambda r: sl.expectation(rad, r, lambda U: (1 - np.tanh(U[:, 0])) ** 2), 0, s)
    verify.close("sl.logL_drift", lhs, -0.5 * integral, atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("sl.logL_drift", lhs, +0.5 * integral, atol=1e-10)


def test_posterior_mean_qv_without_a0_fails():
    """C10: dropping a_0 = E x* (non-centred two-point prior)."""
    bern = cp.discrete([[0.0], [1.0]], [0.3, 0.7])
    s = 1.0
    pc = lambda r: (lambda U: bern.posterior(U, r, np.sqrt(r))[1][:, 0, 0] ** 2)
    I = quad(lambda r: sl.expectation(bern, r, pc(r)), 0.0, s)
    Ea2 = sl.expectation(bern, s, lambda U: bern.posterior_mean(U, s, 1.0)[:, 0] ** 2)
    verify.close("sl.posterior_mean_qv", Ea2, 0.7**2 + I, atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("sl.posterior_mean_qv", Ea2, I, atol=1e-9)


@pytest.mark.parametrize("wrong", ["plus", "factor2"])
def test_prop2_perturbed_fails(wrong):
    rad = cp.targets.rademacher(1)
    s, h = 0.5, 1e-4
    EA = lambda s: sl.expectation(rad, s, lambda U: np.cosh(U[:, 0]) ** -2)
    EA2 = sl.expectation(rad, s, lambda U: np.cosh(U[:, 0]) ** -4)
    d = (EA(s + h) - EA(s - h)) / (2 * h)
    verify.close("sl.prop2", d, -EA2, atol=1e-7)
    with pytest.raises(AssertionError):
        verify.close("sl.prop2", d, EA2 if wrong == "plus" else -2 * EA2, atol=1e-7)


def test_localizes_rate_and_limit_law_fail_when_perturbed(mu):
    s_big = np.array([100.0, 200.0, 400.0, 800.0, 1600.0])
    EA = [sl.expectation(mu, s, lambda U, s=s: mu.posterior(U, s, np.sqrt(s))[1][:, 0, 0])
          for s in s_big]
    verify.slope("sl.localizes", s_big, EA, expected=-1.0, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("sl.localizes", s_big, EA, expected=-0.5, tol=0.05)
    grid = np.r_[np.linspace(0.0, 2.0, 101), np.geomspace(2.0, 64.0, 101)[1:]]
    a = sl.paths(mu, grid, 20_000, seed=7, method="sde", return_cov=False).a[:, -1, 0]
    frac, se = cp.stats.mean_stderr((a > 0).astype(float))
    verify.close("sl.localizes", frac, 0.7, stderr=se)
    with pytest.raises(AssertionError):        # the limit is not the symmetrised prior
        verify.close("sl.localizes", frac, 0.5, stderr=se)


def test_reverse_reparam_with_the_slides_noise_factor_fails():
    """C12: the marginal written with noise (1 - e^{-2t'}) instead of its square root."""
    ring = cp.targets.ring()
    s = 1.0
    t = cp.time.ou_time(s)
    x = ring.at(0.5).sample(40, seed=5)
    tweedie = sl.reverse_drift(ring, s, x, form="tweedie")
    verify.close("sl.reverse_reparam", sl.reverse_drift(ring, s, x, form="score"), tweedie,
                 atol=1e-10)
    misprinted = ring.channel(np.exp(-t), -np.expm1(-2 * t))
    bad = x / (2 * s * (s + 1)) + misprinted.score(x) / (s * (s + 1))
    with pytest.raises(AssertionError):
        verify.close("sl.reverse_reparam", bad, tweedie, atol=1e-10)
