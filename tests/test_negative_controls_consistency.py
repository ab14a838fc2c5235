"""Negative controls for chapter 10: every check of the chapter, with the statement perturbed
(the source's version where it is wrong), fails; the true statement passes the same check."""
import numpy as np
import pytest

import companion as cp
from companion import consistency as cm
from companion import verify

MU = cp.targets.bimodal()
OU, VP = cp.sde.OU(), cp.sde.VP()


def test_pf_marginals_fails_with_the_sde_drift():
    y_T = VP.marginal(MU, 1.0).sample(800, seed=1)
    target = VP.marginal(MU, 1e-3)
    cdf = lambda v: cm.mixture_cdf(target, v)
    verify.ks("ode.pf_marginals", cm.pf_ode(VP, MU, y_T, 1.0, 1e-3)[:, 0], cdf)
    with pytest.raises(AssertionError):
        verify.ks("ode.pf_marginals", cm.pf_ode(VP, MU, y_T, 1.0, 1e-3, score_coeff=1.0)[:, 0], cdf)


def test_monotone_map_fails_with_the_sde_drift():
    y = OU.marginal(MU, 2.0).sample(100, seed=2)
    exact = cm.flow_map_1d(OU, MU, 0.02, 2.0, y)
    verify.close("ode.monotone_map", cm.pf_ode(OU, MU, y, 2.0, 0.02), exact, atol=1e-8)
    with pytest.raises(AssertionError):
        verify.close("ode.monotone_map", cm.pf_ode(OU, MU, y, 2.0, 0.02, score_coeff=1.0), exact,
                     atol=1e-8)


def test_flow_group_fails_with_a_variance_ratio_instead_of_its_root():
    m0, c = np.array([1.0, -0.5]), 0.3
    gauss = cp.gaussian(m0, c * np.eye(2))
    y = OU.marginal(gauss, 1.5).sample(50, seed=3)
    solved = cm.pf_ode(OU, gauss, y, 1.5, 0.1)
    verify.close("ode.flow_group", solved, cm.gaussian_flow(OU, m0, c, 0.1, 1.5, y), atol=1e-8)
    ms, mt = np.exp(-1.5), np.exp(-0.1)
    vs, vt = ms**2 * c + 1 - np.exp(-3.0), mt**2 * c + 1 - np.exp(-0.2)
    wrong = mt * m0 + (y - ms * m0) * (vt / vs)
    with pytest.raises(AssertionError):
        verify.close("ode.flow_group", solved, wrong, atol=1e-8)
    # composing through the wrong intermediate time fails too
    y1 = OU.marginal(MU, 2.0).sample(50, seed=4)
    with pytest.raises(AssertionError):
        verify.close("ode.flow_group",
                     cm.flow_map_1d(OU, MU, 0.05, 0.7, cm.flow_map_1d(OU, MU, 0.8, 2.0, y1)),
                     cm.flow_map_1d(OU, MU, 0.05, 2.0, y1), atol=1e-12)


def test_reparam_fails_with_s_squared_in_front_of_the_score_at_x_over_s():
    """Mixing the two conventions of 003 eq. 5.12: s^2 belongs with the gradient of the
    composite x -> log p^VE(sigma, x/s), not with the score evaluated at x/s."""
    ve_score = lambda sig, y: MU.channel(1.0, sig).score(y)
    x = np.linspace(-3, 3, 31)[:, None]
    t = 0.37
    direct = cm.pf_velocity(VP, MU, t, x)
    verify.close("ode.reparam", cm.ve_reparam_velocity(VP, ve_score, t, x), direct,
                 atol=1e-12 * np.abs(direct).max())
    s = float(VP.mean_coeff(t))
    sigma = np.sqrt(float(VP.marginal_var(t))) / s
    coeff_source = s * s * float(VP.g(t)) ** 2 / (2 * s * s) * s   # s^2 sigma sigma' = s * (g^2 / 2)
    wrong = -float(VP.f(t)) * x - coeff_source * ve_score(sigma, x / s)
    with pytest.raises(AssertionError):
        verify.close("ode.reparam", wrong, direct, atol=1e-12 * np.abs(direct).max())


def test_consistency_pde_fails_with_the_wrong_sign_and_the_wrong_rate():
    c, eps0, t = 1.0, 0.002, 1.0
    hs = np.geomspace(1e-4, 1e-2, 5)
    y = np.linspace(-3, 3, 41)[:, None]
    F = lambda tt, yy: cm.flow_map_1d(cp.sde.VELinear(), MU, eps0, tt, yy)
    for sign, ok in ((1.0, True), (-1.0, False)):
        res = []
        for h in hs:
            dt = (F(t + h, y) - F(t - h, y)) / (2 * h)
            dy = (F(t, y + h) - F(t, y - h)) / (2 * h)
            res.append(np.abs(dt - sign * t * MU.channel(1.0, t).score(y) * dy).max())
        if ok:
            verify.slope("ode.consistency_pde", hs, res, expected=2.0, tol=0.05)
        else:
            with pytest.raises(AssertionError):
                verify.slope("ode.consistency_pde", hs, res, expected=2.0, tol=0.05)
    deltas = np.geomspace(1e-3, 3e-2, 6)
    loss = [cm.cd_loss_gaussian(c, eps0, t, dl, 2) for dl in deltas]
    verify.slope("ode.consistency_pde", deltas, loss, expected=4.0, tol=0.1)
    with pytest.raises(AssertionError):      # "O(delta^2)" read as the rate
        verify.slope("ode.consistency_pde", deltas, loss, expected=2.0, tol=0.1)


def test_ct_unbiased_fails_when_divided_by_t_squared():
    t = 0.8
    y = np.linspace(-4, 4, 41)[:, None]
    pm = MU.posterior_mean(y, a=1.0, sigma=t)
    rhs = -t * MU.channel(1.0, t).score(y)
    verify.close("ode.ct_unbiased", (y - pm) / t, rhs, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("ode.ct_unbiased", (y - pm) / t**2, rhs, atol=1e-12)


def test_cd_vs_ct_fails_for_the_garbled_covariance_and_for_shared_noise():
    t, dl = 1.0, 0.1
    S_ct = np.diag([t * t, (t - dl) ** 2])
    good = np.array([[t * t, t * (t - dl)], [t * (t - dl), (t - dl) ** 2]])
    w2 = cp.divergences.gaussian_w2(np.zeros(2), good, np.zeros(2), S_ct) ** 2
    verify.close("ode.cd_vs_ct", cm.cd_ct_w2_squared(t, dl), w2, atol=1e-7)
    t2 = 0.6     # the extracted entry t(t - 1) instead of t(t - delta), where they differ
    garbled = np.array([[t2 * t2, t2 * (t2 - 1)], [t2 * (t2 - 1), (t2 - dl) ** 2]])
    garbled = 0.5 * (garbled + garbled.T)
    lam = np.linalg.eigvalsh(garbled)
    assert lam.min() >= -1e-12
    w2_g = cp.divergences.gaussian_w2(np.zeros(2), garbled, np.zeros(2),
                                      np.diag([t2 * t2, (t2 - dl) ** 2])) ** 2
    with pytest.raises(AssertionError):
        verify.close("ode.cd_vs_ct", cm.cd_ct_w2_squared(t2, dl), w2_g, atol=1e-7)
    # with shared noise the CT pairs are the CD pairs: the gap formula does not apply
    point = cp.discrete([[0.0]], [1.0])
    yp, ym = cm.consistency_pairs(point, t, dl, 100_000, seed=8, kind="ct_shared")
    cov, se = cp.stats.covariance_with_stderr(np.column_stack([yp[:, 0], ym[:, 0]]))
    verify.close("ode.cd_vs_ct", cov, good, stderr=se)
    with pytest.raises(AssertionError):
        verify.close("ode.cd_vs_ct", cov, S_ct, stderr=se)
