"""Negative controls: each identity of the book, with its statement perturbed, must fail the
same check the chapter runs. A check that cannot fail proves nothing.

Each test rebuilds the chapter's computation at a smaller size (same tolerance rules), swaps
in the perturbed statement named in its docstring, and asserts that verify raises."""
import numpy as np
import pytest
from scipy import stats

import companion as cp
from companion import verify


def mixture_cdf(mix):
    w, m, s = mix.weights, mix.means[:, 0], np.sqrt(mix.covs[:, 0, 0])
    return lambda v: stats.norm.cdf((np.asarray(v)[:, None] - m) / s) @ w


@pytest.fixture(scope="module")
def ou_particles():
    mu = cp.targets.bimodal()
    xt = cp.ou.euler_maruyama(mu.sample(50_000, seed=1), 1.0, 200, seed=2)[:, 0]
    return mu, xt


# ---------------------------------------------------------------- chapter 1: forward process
def test_closed_form_true_statement_passes(ou_particles):
    mu, xt = ou_particles
    verify.ks("ou.closed_form", xt, mixture_cdf(mu.at(1.0)))


def test_closed_form_wrong_variance_fails(ou_particles):
    """sigma_t^2 = 1 - e^{-t} instead of 1 - e^{-2t}."""
    mu, xt = ou_particles
    wrong = mu.channel(np.exp(-1.0), np.sqrt(1 - np.exp(-1.0)))
    with pytest.raises(AssertionError):
        verify.ks("ou.closed_form", xt, mixture_cdf(wrong))
    se = np.sqrt(np.var((xt - xt.mean()) ** 2) / xt.size)
    with pytest.raises(AssertionError):
        verify.close("ou.closed_form", xt.var(), wrong.cov()[0, 0], stderr=se)


def test_closed_form_wrong_mean_factor_fails(ou_particles):
    """e^{-2t} X_0 instead of e^{-t} X_0 in the mean."""
    mu, xt = ou_particles
    with pytest.raises(AssertionError):
        verify.close("ou.closed_form", xt.mean(), np.exp(-2.0) * mu.mean()[0],
                     stderr=xt.std() / np.sqrt(xt.size))


def test_ito_isometry_missing_factor_two_fails():
    """Var = (1 - e^{-2t}) / 2, the variance without the sqrt(2) in front of the integral."""
    t, n = 1.0, 50_000
    x = cp.ou.ito_integral(t, 200, n, seed=10)
    v = x.var()
    se = np.sqrt(np.var(x**2 - v) / n)
    verify.close("ou.ito_isometry", v, cp.time.sigma2(t), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ou.ito_isometry", v, cp.time.sigma2(t) / 2, stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ou.ito_isometry", v, 1 - np.exp(-t), stderr=se)


@pytest.mark.parametrize("drift,diffusion", [(1.0, 0.5), (-1.0, 1.0), (1.0, 2.0)])
def test_fokker_planck_wrong_coefficients_fail(drift, diffusion):
    """Laplacian/2 (the SDE with dB instead of sqrt 2 dB), a sign flip of the drift, 2 Laplacian."""
    hs = np.array([0.04, 0.02, 0.01, 0.005])
    mu = cp.targets.bimodal()
    x = np.linspace(-4, 4, 81)[:, None]
    res = [np.abs(cp.ou.fokker_planck_residual(mu, 0.5, x, h, drift, diffusion)).max() for h in hs]
    with pytest.raises(AssertionError):
        verify.slope("ou.fokker_planck", hs, res, expected=2.0, tol=0.1)


def test_fokker_planck_2d_wrong_coefficient_fails():
    hs = np.array([0.04, 0.02, 0.01, 0.005])
    ring = cp.targets.ring()
    x = ring.at(0.4).sample(100, seed=3)
    ok = [np.abs(cp.ou.fokker_planck_residual(ring, 0.4, x, h)).max() for h in hs]
    verify.slope("ou.fokker_planck", hs, ok, expected=2.0, tol=0.1)
    bad = [np.abs(cp.ou.fokker_planck_residual(ring, 0.4, x, h, 1.0, 0.5)).max() for h in hs]
    with pytest.raises(AssertionError):
        verify.slope("ou.fokker_planck", hs, bad, expected=2.0, tol=0.1)


def test_kl_decay_faster_rate_fails():
    """e^{-3T} instead of e^{-2T}: violated at large T by a mixture with non-zero mean."""
    mu = cp.targets.bimodal()
    g = cp.gaussian([0.0], [[1.0]])
    Ts = np.linspace(0.0, 4.0, 21)
    kl = np.array([cp.divergences.kl_grid(mu.at(T), g, n_points=4001) for T in Ts])
    verify.leq("ou.kl_decay", kl, np.exp(-2 * Ts) * kl[0], atol=1e-14)
    with pytest.raises(AssertionError):
        verify.leq("ou.kl_decay", kl, np.exp(-3 * Ts) * kl[0], atol=1e-14)


def test_lemma33_source_constant_fails():
    """The source's -d log(1 - e^{-2T}) as the value of the averaged divergence (computed, as in
    the chapter, by the general Gaussian KL routine rather than the proof's formula)."""
    mu = cp.targets.standardise(cp.targets.ring())
    d = 2
    x0 = mu.sample(2000, seed=4)
    Ts = np.array([0.15, 0.5, 1.0, 2.0])
    avg, se = [], []
    for T in Ts:
        per = np.array([cp.divergences.gaussian_kl(np.exp(-T) * x, cp.time.sigma2(T) * np.eye(d),
                                                   np.zeros(d), np.eye(d)) for x in x0])
        avg.append(per.mean())
        se.append(per.std() / np.sqrt(per.size))
    verify.close("ou.lemma33", avg, cp.bounds.lemma33_bound(d, Ts), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ou.lemma33", avg, -d * np.log(-np.expm1(-2 * Ts)), stderr=se)


def test_lemma33_inequality_too_strong_fails():
    """A bound far below the truth (1e-3 d e^{-8T}) must be refuted by the quadrature value."""
    mu = cp.targets.standardise(cp.targets.ring())
    g = cp.gaussian([0.0, 0.0], np.eye(2))
    Ts = np.array([0.25, 0.5])
    kl = np.array([cp.divergences.kl_grid(mu.at(T), g, n_points=401) for T in Ts])
    verify.leq("ou.lemma33", kl, cp.bounds.lemma33_bound(2, Ts), atol=1e-12)
    with pytest.raises(AssertionError):
        verify.leq("ou.lemma33", kl, 2 * np.exp(-8 * Ts) * 1e-3, atol=1e-12)


@pytest.mark.parametrize("cid,proc,wrong_ode,wrong_sim", [
    ("sde.vp_marginal", cp.sde.VP(0.1, 20.0, 1.0),
     lambda p, t: 1 - np.exp(-2 * p.int_beta(t)), lambda p, t: 1 - np.exp(-2 * p.int_beta(t))),
    ("sde.ve_marginal", cp.sde.VE(0.01, 10.0, 1.0),
     lambda p, t: p.sigma(t) ** 2, lambda p, t: 0.5 * p.marginal_var(t)),
    ("sde.subvp_marginal", cp.sde.SubVP(0.1, 20.0, 1.0),
     lambda p, t: -np.expm1(-p.int_beta(t)), lambda p, t: -np.expm1(-p.int_beta(t))),
])
def test_forward_sde_wrong_variance_fails(cid, proc, wrong_ode, wrong_sim):
    """VP: exp(-2 int beta) for exp(-int beta); VE: sigma^2(t) without - sigma_min^2 (against the
    ODE) and g^2 off by a factor 2 (against simulation); sub-VP: the VP variance, not squared."""
    ts = np.array([0.1, 0.3, 0.6, 1.0])
    ode = np.array([cp.sde.moment_odes(proc, s) for s in ts])
    closed = np.stack([proc.mean_coeff(ts), proc.marginal_var(ts)], 1)
    verify.close(cid, closed, ode, rtol=1e-9)
    perturbed = np.stack([proc.mean_coeff(ts), wrong_ode(proc, ts)], 1)
    with pytest.raises(AssertionError):
        verify.close(cid, perturbed, ode, rtol=1e-9)
    # and through simulation, at the time the chapter uses
    n, x_start, t = 40_000, np.array([1.5, -0.5]), 0.3
    xt = cp.sde.euler_maruyama(proc, np.tile(x_start, (n, 1)), t, 1000, seed=7)
    se_v = np.sqrt(np.var((xt - xt.mean(0)) ** 2, axis=0) / n)
    verify.close(cid, xt.var(0), proc.marginal_var(t), stderr=se_v)
    with pytest.raises(AssertionError):
        verify.close(cid, xt.var(0), wrong_sim(proc, t), stderr=se_v)


def test_em_stationary_variance_exact_ou_variance_fails():
    """The OU stationary variance 1 in place of the chain's 1 / (1 - h/2)."""
    h, n = 0.2, 100_000
    x = cp.ou.euler_maruyama(np.zeros((n, 1)), h * 200, 200, seed=5)[:, 0]
    v = x.var()
    se = np.sqrt(np.var(x**2 - v) / n)
    verify.close("ou.em_stationary_variance", v, 1 / (1 - h / 2), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ou.em_stationary_variance", v, 1.0, stderr=se)


def test_demo_wrong_variance_fails():
    x = cp.gaussian([0.0], [[2.0]]).sample(100_000, seed=1)[:, 0]
    v = x.var()
    se = np.sqrt(np.mean((x**2 - v) ** 2) / x.size)
    verify.close("demo.sample_variance", v, 2.0, stderr=se)
    with pytest.raises(AssertionError):
        verify.close("demo.sample_variance", v, 2.1, stderr=se)
