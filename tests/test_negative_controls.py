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


# ------------------------------------------------- chapter 2: Tweedie's formula and score matching
from companion import score_matching as sm  # noqa: E402


def _ou(t):
    return np.exp(-t), np.sqrt(-np.expm1(-2 * t))


def test_tweedie_mean_sigma_instead_of_sigma2_fails():
    """x~ + sigma grad log p~ (sigma for sigma^2), in the closed-form and the regression check."""
    ring = cp.targets.ring()
    sigma = 0.5
    y = ring.channel(1.0, sigma).sample(2000, seed=1)
    post = ring.posterior_mean(y, a=1.0, sigma=sigma)
    score = ring.channel(1.0, sigma).score(y)
    verify.close("tweedie.mean", post, y + sigma**2 * score, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("tweedie.mean", post, y + sigma * score, atol=1e-12)
    # the Monte Carlo regression of the chapter, at a quarter of its size
    mu, sigma, n = cp.targets.bimodal(), 0.8, 100_000
    x = mu.sample(n, seed=4)[:, 0]
    xn = x + sigma * cp.rng.normals(n, 1, seed=5)[:, 0]
    score = mu.channel(1.0, sigma).score(xn[:, None])[:, 0]
    edges = np.linspace(-3.5, 3.5, 29)
    for factor, passes in [(sigma**2, True), (sigma, False), (2 * sigma**2, False)]:
        pred = xn + factor * score
        m, se, _ = cp.stats.binned_means(xn, np.column_stack([x, pred, x - pred]), edges)
        if passes:
            verify.close("tweedie.mean", m[:, 0], m[:, 1], stderr=se[:, 2])
        else:
            with pytest.raises(AssertionError):
                verify.close("tweedie.mean", m[:, 0], m[:, 1], stderr=se[:, 2])


def test_tweedie_noise_wrong_power_fails():
    """-sigma grad log p~ (sigma for sigma^2) and +sigma^2 grad log p~ (wrong sign)."""
    ring, sigma, n = cp.targets.ring(), 0.5, 40_000
    x = ring.sample(n, seed=6)
    noise = sigma * cp.rng.normals(n, 2, seed=7)
    xn = x + noise
    score = ring.channel(1.0, sigma).score(xn)
    feats = sm.RBFScoreModel.on_grid(5, 2.4)
    coef_noise = sm.fit_least_squares(feats, xn, noise)
    for pred, passes in [(-sigma**2 * score, True), (-sigma * score, False), (sigma**2 * score, False)]:
        coef = sm.fit_least_squares(feats, xn, pred)
        se = np.sqrt(np.diag(sm.sandwich_least_squares(feats, xn, noise - pred)) / n)
        if passes:
            verify.close("tweedie.noise", coef_noise, coef, stderr=se)
        else:
            with pytest.raises(AssertionError):
                verify.close("tweedie.noise", coef_noise, coef, stderr=se)


def test_ou_score_wrong_shrinkage_fails():
    """e^{-2t} m_t in place of e^{-t} m_t."""
    ring = cp.targets.ring()
    for t in [0.3, 1.0]:
        a, sig = _ou(t)
        q = ring.at(t)
        x = q.sample(500, seed=10)
        m = ring.posterior_mean(x, a, sig)
        tol = 1e-12 * (1 + np.abs(x).max()) / sig**2
        verify.close("tweedie.ou_score", q.score(x), sm.ou_score_from_mean(x, m, t), atol=tol)
        with pytest.raises(AssertionError):
            verify.close("tweedie.ou_score", q.score(x), (a * a * m - x) / sig**2, atol=tol)


def test_ou_hessian_sigma2_instead_of_sigma4_fails():
    """e^{-2t} sigma_t^{-2} Sigma_t in place of e^{-2t} sigma_t^{-4} Sigma_t: both the
    Richardson-tolerance comparison and the h^2 slope fail."""
    ring = cp.targets.ring()
    hs = np.array([0.02, 0.01, 0.005, 0.0025])
    t = 0.5
    a, sig = _ou(t)
    q = ring.at(t)
    x = q.sample(200, seed=21)
    _, S = ring.posterior(x, a, sig)
    good = sm.ou_hessian_from_cov(S, t)
    bad = -np.eye(2) / sig**2 + a * a / sig**2 * S
    fd = [sm.fd_jacobian(q.score, x, h) for h in hs]
    tol = np.abs(fd[-2] - fd[-1]).max() + 1e-10
    verify.close("tweedie.ou_hessian", fd[-1], good, atol=tol)
    verify.slope("tweedie.ou_hessian", hs, [np.abs(J - good).max() for J in fd], 2.0, 0.1)
    with pytest.raises(AssertionError):
        verify.close("tweedie.ou_hessian", fd[-1], bad, atol=tol)
    with pytest.raises(AssertionError):
        verify.slope("tweedie.ou_hessian", hs, [np.abs(J - bad).max() for J in fd], 2.0, 0.1)


def test_score_energy_wrong_factor_fails():
    """e^{-t} sigma_t^{-4} for e^{-2t} sigma_t^{-4} in the identity; d in place of d sigma_t^{-2}
    in the bound."""
    ring, d, n = cp.targets.ring(), 2, 50_000
    ts = np.array([0.05, 0.5])
    lhs_m, good_m, bad_m, se_g, se_b, se_l = [], [], [], [], [], []
    for i, t in enumerate(ts):
        a, sig = _ou(t)
        q = ring.at(t)
        x = q.sample(n, seed=30 + i)
        _, S = ring.posterior(x, a, sig)
        lhs = np.sum(q.score(x) ** 2, axis=1)
        tr = np.trace(S, axis1=1, axis2=2)
        good, bad = d / sig**2 - a * a / sig**4 * tr, d / sig**2 - a / sig**4 * tr
        lhs_m.append(lhs.mean()); good_m.append(good.mean()); bad_m.append(bad.mean())
        se_g.append((lhs - good).std() / np.sqrt(n)); se_b.append((lhs - bad).std() / np.sqrt(n))
        se_l.append(lhs.std() / np.sqrt(n))
    verify.close("sm.score_energy", lhs_m, good_m, stderr=se_g)
    verify.leq("sm.score_energy", lhs_m, d / (1 - np.exp(-2 * ts)), stderr=se_l)
    with pytest.raises(AssertionError):
        verify.close("sm.score_energy", lhs_m, bad_m, stderr=se_b)
    with pytest.raises(AssertionError):
        verify.leq("sm.score_energy", lhs_m, np.full(2, float(d)), stderr=se_l)


@pytest.fixture(scope="module")
def sm_setup():
    ring = cp.targets.ring()
    t = 0.2
    a, sig = _ou(t)
    q = ring.at(t)
    model = sm.RBFScoreModel.on_grid(5, 2.4)
    grid, vol = cp.divergences.grid_for([q], 121, width=8.0)
    w = q.pdf(grid) * vol
    score_grid = q.score(grid)
    theta_star = sm.fit_esm(model, grid, score_grid, weights=w)
    thetas = np.vstack([theta_star, theta_star + 0.5 * cp.rng.normals(3, model.n_params, seed=42)])
    n = 40_000
    x0 = ring.sample(n, seed=40)
    g = cp.rng.normals(n, 2, seed=41)
    xt = a * x0 + sig * g
    return dict(ring=ring, t=t, a=a, sig=sig, q=q, model=model, grid=grid, w=w, score_grid=score_grid,
                theta_star=theta_star, thetas=thetas, n=n, x0=x0, g=g, xt=xt, score_xt=q.score(xt))


def test_ism_missing_factor_two_fails(sm_setup):
    """|s|^2 + div s (the factor 2 dropped): the gap to J_ESM then depends on theta."""
    S = sm_setup
    model, grid, w, sg = S["model"], S["grid"], S["w"], S["score_grid"]
    energy = w @ np.sum(sg**2, axis=1)
    esm = np.array([w @ sm.esm_terms(model, th, grid, sg) for th in S["thetas"]])
    ism = np.array([w @ sm.ism_terms(model, th, grid) for th in S["thetas"]])
    half = np.array([w @ (np.sum(model.score(th, grid) ** 2, 1) + model.divergence(th, grid))
                     for th in S["thetas"]])
    verify.close("sm.ism", ism - esm, -energy, atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("sm.ism", half - esm, -energy, atol=1e-9)
    # the Monte Carlo version: the gap is not constant across theta
    xt, sc, n = S["xt"], S["score_xt"], S["n"]
    per = np.array([np.sum(model.score(th, xt) ** 2, 1) + model.divergence(th, xt)
                    - sm.esm_terms(model, th, xt, sc) for th in S["thetas"]])
    with pytest.raises(AssertionError):
        verify.close("sm.ism", per[1:].mean(1), per[0].mean(),
                     stderr=(per[1:] - per[0]).std(1) / np.sqrt(n))


def test_sliced_wrong_probe_scale_fails(sm_setup):
    """Probes v ~ N(0, 2 I), so E[v^T J v] = 2 div s; and the sliced objective built with them."""
    S = sm_setup
    model, th = S["model"], S["theta_star"]
    pts = S["xt"][:100]
    J = model.jacobian(th, pts)
    est, se = sm.hutchinson_divergence(J, n_probes=1000, seed=43)
    verify.close("sm.sliced", est, model.divergence(th, pts), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("sm.sliced", 2 * est, model.divergence(th, pts), stderr=2 * se)
    ssm = sm.sliced_terms(model, th, S["xt"], seed=45)          # |s|^2 + 2 v^T J v
    ism = sm.ism_terms(model, th, S["xt"])
    energy = np.sum(model.score(th, S["xt"]) ** 2, axis=1)
    wrong = 2 * ssm - energy                                     # |s|^2 + 2 (sqrt2 v)^T J (sqrt2 v)
    verify.close("sm.sliced", ssm.mean(), ism.mean(), stderr=(ssm - ism).std() / np.sqrt(S["n"]))
    with pytest.raises(AssertionError):
        verify.close("sm.sliced", wrong.mean(), ism.mean(),
                     stderr=(wrong - ism).std() / np.sqrt(S["n"]))


def test_dsm_wrong_conditional_score_fails(sm_setup):
    """-(x_t - alpha x_0)/sigma (sigma for sigma^2) as the denoising target: the shift to J_ESM is
    no longer constant, the fit no longer agrees with the ESM fit; sigma (not sigma^2) in the
    noise-prediction identity; and the slope of the excess loss against a wrong reference."""
    S = sm_setup
    model, xt, x0, a, sig, n = S["model"], S["xt"], S["x0"], S["a"], S["sig"], S["n"]
    esm = np.array([sm.esm_terms(model, th, xt, S["score_xt"]) for th in S["thetas"]])
    good = np.array([sm.dsm_terms(model, th, xt, x0, a, sig) for th in S["thetas"]]) - esm
    bad_target = -(xt - a * x0) / sig
    bad = np.array([np.sum((model.score(th, xt) - bad_target) ** 2, 1) for th in S["thetas"]]) - esm
    verify.close("sm.dsm", good[1:].mean(1), good[0].mean(),
                 stderr=(good[1:] - good[0]).std(1) / np.sqrt(n))
    with pytest.raises(AssertionError):
        verify.close("sm.dsm", bad[1:].mean(1), bad[0].mean(),
                     stderr=(bad[1:] - bad[0]).std(1) / np.sqrt(n))
    # the constant itself: sigma_t^{-2} in place of sigma_t^{-4} in front of the trace
    _, Sig = S["ring"].posterior(xt, a, sig)
    tr = np.trace(Sig, axis1=1, axis2=2)
    verify.close("sm.dsm", good[0].mean(), (a * a / sig**4 * tr).mean(),
                 stderr=(good[0] - a * a / sig**4 * tr).std() / np.sqrt(n))
    with pytest.raises(AssertionError):
        verify.close("sm.dsm", good[0].mean(), (a * a / sig**2 * tr).mean(),
                     stderr=(good[0] - a * a / sig**2 * tr).std() / np.sqrt(n))
    # noise prediction is sigma^2 (not sigma) times DSM
    eps = sm.noise_prediction_terms(model, S["theta_star"], xt, S["g"], sig)
    d0 = sm.dsm_terms(model, S["theta_star"], xt, x0, a, sig)
    verify.close("sm.dsm", eps, sig**2 * d0, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("sm.dsm", eps, sig * d0, atol=1e-12)
    # the fitted coefficients
    th_esm = sm.fit_esm(model, xt, S["score_xt"])
    for target, passes in [(-(xt - a * x0) / sig**2, True), (bad_target, False)]:
        th = sm.fit_least_squares(model, xt, target)
        se = np.sqrt(np.diag(sm.sandwich_least_squares(model, xt, target - S["score_xt"])) / n)
        if passes:
            verify.close("sm.dsm", th, th_esm, stderr=se)
        else:
            with pytest.raises(AssertionError):
                verify.close("sm.dsm", th, th_esm, stderr=se)


def test_dsm_rate_against_wrong_reference_fails(sm_setup):
    """The excess loss measured from the best approximation at the wrong time (t = 0.3): it
    stalls at a positive floor and the -1 slope is lost (tolerance: five delta-method standard
    errors of the fitted slope, as in the chapter)."""
    S = sm_setup
    model, ring, a, sig = S["model"], S["ring"], S["a"], S["sig"]
    A = sm.normal_equations(model, S["grid"], weights=S["w"])[0]
    q_wrong = ring.at(0.3)
    wrong_ref = sm.fit_esm(model, S["grid"], q_wrong.score(S["grid"]), weights=S["w"])
    ns = 2000 * 2 ** np.arange(5)
    good, bad = np.empty((ns.size, 8)), np.empty((ns.size, 8))
    for i, size in enumerate(ns):
        for rep in range(8):
            x0 = ring.sample(size, seed=100 + 100 * i + rep)
            xt = a * x0 + sig * cp.rng.normals(size, 2, seed=1000 + 100 * i + rep)
            th = sm.fit_dsm(model, xt, x0, a, sig)
            good[i, rep] = (th - S["theta_star"]) @ A @ (th - S["theta_star"])
            bad[i, rep] = (th - wrong_ref) @ A @ (th - wrong_ref)
    tol_good = 5 * cp.stats.loglog_slope_stderr(ns, good)
    tol_bad = 5 * cp.stats.loglog_slope_stderr(ns, bad)
    verify.slope("sm.dsm", ns, good.mean(axis=1), expected=-1.0, tol=tol_good)
    with pytest.raises(AssertionError):
        verify.slope("sm.dsm", ns, bad.mean(axis=1), expected=-1.0, tol=tol_bad)


def test_asymptotic_normality_mle_covariance_fails():
    """Gamma_MLE = Cov(F)^{-1} in place of Gamma_SM, and A^{-1} alone (no middle factor)."""
    fam = sm.PolynomialExpFamily([2, 4])
    th = np.array([1.0, -0.5])
    n, R = 1000, 2000
    x = fam.sample(th, n * R, seed=50)[:, 0].reshape(R, n)
    z = np.sqrt(n) * (fam.sm_estimates(x) - th)
    cov, se = cp.stats.covariance_with_stderr(z)
    verify.close("sm.asymptotic_normality", cov, fam.sandwich(th), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("sm.asymptotic_normality", cov, np.linalg.inv(fam.cov(th)), stderr=se)
    A, _ = fam.ism_parameters(th)
    with pytest.raises(AssertionError):
        verify.close("sm.asymptotic_normality", cov, np.linalg.inv(A), stderr=se)


def _wrong_sign_sandwich(fam, th):
    """A^{-1} Cov(Z') A^{-1} with Z' = grad F grad F^T theta - Delta F: the statistic of the
    exp(-<theta, F>) convention used with the exp(+<theta, F>) family."""
    phi, dphi = fam.features(fam.grid[:, None])
    phi = phi[:, 0, :]
    zw = phi * (phi @ th)[:, None] - dphi
    mw = fam.expect(th, zw)
    cov = fam.expect(th, zw[:, :, None] * zw[:, None, :]) - np.outer(mw, mw)
    Ai = np.linalg.inv(fam.ism_parameters(th)[0])
    return Ai @ cov @ Ai


def test_sm_efficiency_without_middle_factor_fails():
    """A^{-1} (the sandwich without its middle factor) in place of Gamma_SM: it would beat the
    inverse Fisher information, and the equality direction A e_1 is lost."""
    from scipy import linalg

    fam = sm.PolynomialExpFamily([2, 4])
    th = np.array([1.0, -0.5])
    g_sm, g_mle = fam.sandwich(th), np.linalg.inv(fam.cov(th))
    A, _ = fam.ism_parameters(th)
    a = A @ np.array([1.0, 0.0])
    for gamma, passes in [(g_sm, True), (np.linalg.inv(A), False)]:
        lam = linalg.eigh(gamma, g_mle, eigvals_only=True)
        if passes:
            verify.leq("sm.asymptotic_normality", np.ones_like(lam), lam, atol=1e-10)
            verify.close("sm.asymptotic_normality", a @ gamma @ a, a @ g_mle @ a, rtol=1e-10)
        else:
            with pytest.raises(AssertionError):
                verify.leq("sm.asymptotic_normality", np.ones_like(lam), lam, atol=1e-10)
            with pytest.raises(AssertionError):
                verify.close("sm.asymptotic_normality", a @ gamma @ a, a @ g_mle @ a, rtol=1e-10)


def test_asymptotic_normality_ks_wrong_limit_fails():
    """KS of standardised projections at n = 10^4 (R = 1000, half the chapter's R): the limit
    N(0, A^{-1}) and the wrong-sign sandwich are rejected, N(0, Gamma_SM) is not."""
    fam = sm.PolynomialExpFamily([2, 4])
    th = np.array([1.0, -0.5])
    n, R = 10_000, 1000
    z = np.sqrt(n) * (fam.sm_estimates(fam.sample(th, n * R, seed=51)[:, 0].reshape(R, n)) - th)
    A, _ = fam.ism_parameters(th)

    def ks_all(gamma):
        _, vec = np.linalg.eigh(gamma)
        for a in np.column_stack([np.eye(2), vec]).T:
            verify.ks("sm.asymptotic_normality", z @ a / np.sqrt(a @ gamma @ a), stats.norm.cdf)

    ks_all(fam.sandwich(th))
    for wrong in [np.linalg.inv(A), _wrong_sign_sandwich(fam, th)]:
        with pytest.raises(AssertionError):
            ks_all(wrong)


def test_hutchinson_variance_gaussian_formula_for_rademacher_fails():
    """2 ||S||_F^2 (the Gaussian value) claimed for Rademacher probes."""
    d, N = 5, 200_000
    M = cp.rng.normals(d, d, seed=60) + 3 * np.eye(d)
    S = 0.5 * (M + M.T)
    v = np.where(cp.rng.uniforms(N * d, seed=62).reshape(N, d) < 0.5, -1.0, 1.0)
    quad = np.einsum("na,ab,nb->n", v, M, v)
    dev2 = (quad - quad.mean()) ** 2
    se = dev2.std() / np.sqrt(N)
    exact = 2 * (np.sum(S**2) - np.sum(np.diag(S) ** 2))
    verify.close("sm.hutchinson_variance", dev2.mean(), exact, stderr=se)
    with pytest.raises(AssertionError):
        verify.close("sm.hutchinson_variance", dev2.mean(), 2 * np.sum(S**2), stderr=se)


def _kl_and_fisher_1d(q, p, times, x):
    """KL(q_t || p_t) by quadrature and E_{q_t} |grad log q_t - grad log p_t|^2 (OU), d = 1."""
    dx = x[1, 0] - x[0, 0]
    kl = [np.sum(q.at(t).pdf(x) * (q.at(t).logpdf(x) - p.at(t).logpdf(x))) * dx for t in times]
    fisher = [np.sum(q.at(t).pdf(x) * (q.at(t).score(x) - p.at(t).score(x))[:, 0] ** 2) * dx
              for t in times]
    return np.array(kl), np.array(fisher)


def test_kl_fisher_wrong_weights_fail():
    """The likelihood weight g^2/2 (= 1 for OU) passes; g^2, and the weight sigma_t^2, fail."""
    q, p = cp.targets.lopsided(), cp.gaussian([0.3], [[1.5]])
    x = np.linspace(-12, 12, 6001)[:, None]
    T = 2.0
    u, w = np.polynomial.legendre.leggauss(24)
    u, w = (u + 1) / 2, w / 2
    t = T * u**2
    kl, _ = _kl_and_fisher_1d(q, p, [0.0, T], x)
    _, fisher = _kl_and_fisher_1d(q, p, t, x)
    lhs = kl[0] - kl[1]
    jac = 2 * T * u * w
    verify.close("sm.kl_fisher", lhs, jac @ fisher, atol=1e-6)
    for weight in (2.0 * np.ones_like(t), cp.time.sigma2(t)):
        with pytest.raises(AssertionError):
            verify.close("sm.kl_fisher", lhs, jac @ (weight * fisher), atol=1e-6)


def test_likelihood_weighting_sigma2_weight_fails():
    """The time-integrated DSM gap between two noised-law models, weighted by 1, matches the
    likelihood gap; weighted by sigma_t^2 (the source's weight) it does not."""
    q = cp.targets.lopsided()
    models = [cp.GaussianMixture([0.3, 0.3, 0.4], q.means, q.covs), cp.gaussian(q.mean(), q.cov())]
    x = np.linspace(-12, 12, 6001)[:, None]
    delta, T = 0.01, 2.0
    u, w = np.polynomial.legendre.leggauss(16)
    lo, hi = np.log(delta), np.log(T)
    t = np.exp(lo + (hi - lo) * (u + 1) / 2)
    wt = (hi - lo) * w / 2 * t
    kls = [_kl_and_fisher_1d(q, p, [delta, T], x)[0] for p in models]
    nll_gap = (kls[0][0] - kls[0][1]) - (kls[1][0] - kls[1][1])
    fields = [lambda s, y, p=p: p.at(s).score(y) for p in models]
    terms = sm.dsm_terms_over_time(q, fields, t, n=20_000, seed=7)
    gap = terms[0] - terms[1]
    se = np.sqrt(wt**2 @ gap.var(axis=1) / gap.shape[1])
    verify.close("sm.likelihood_weighting", wt @ gap.mean(axis=1), nll_gap, stderr=se)
    with pytest.raises(AssertionError):
        verify.close("sm.likelihood_weighting", wt @ (cp.time.sigma2(t) * gap.mean(axis=1)), nll_gap,
                     stderr=se)
    with pytest.raises(AssertionError):
        verify.close("sm.likelihood_weighting", 2 * wt @ gap.mean(axis=1), nll_gap, stderr=se)
