"""Chapter 7 tools against independent references: exact Gaussian TV and W_2 against quadrature,
Monte Carlo and eigenvalue formulas; the reverse moment ODEs and the synchronous coupling against
closed forms and a simulation; the chapter-7 bounds against direct quadrature and ODE solutions
of their definitions."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import integrate, stats  # noqa: E402

import companion as cp  # noqa: E402
from companion import bounds, guarantees as gr  # noqa: E402
from companion.divergences import _tv_1d, _tv_isotropic, gaussian_kl, gaussian_tv, gaussian_w2  # noqa: E402


# ---- exact total variation ----

@pytest.mark.parametrize("m1,v1,m2,v2", [(0.3, 0.7, -0.2, 1.6), (1.0, 1.0, 0.0, 1.0),
                                         (0.0, 2.0, 0.0, 0.5), (2.0, 0.3, -1.0, 0.31),
                                         (0.0, 1.0, 5.0, 4.0)])
def test_tv_1d_matches_quadrature(m1, v1, m2, v2):
    quad = cp.divergences.tv_grid(cp.gaussian([m1], [[v1]]), cp.gaussian([m2], [[v2]]), 40_001)
    assert abs(gaussian_tv(m1, v1, m2, v2) - quad) < 1e-7
    assert gaussian_tv(m1, v1, m2, v2) == pytest.approx(gaussian_tv(m2, v2, m1, v1), abs=1e-15)


@pytest.mark.parametrize("m1,v1,m2,v2", [(0.3, 0.7, -0.2, 1.6), (0.0, 2.0, 0.0, 0.5),
                                         (1.0, 0.5, 0.0, 0.6)])
def test_tv_line_by_intervals_equals_chi_square_route(m1, v1, m2, v2):
    a = _tv_1d(m1, v1, m2, v2)
    b = _tv_isotropic(np.array([m1]), v1, np.array([m2]), v2)
    assert abs(a - b) < 1e-9


def test_tv_2d_matches_quadrature():
    m1, m2 = np.array([0.3, 0.1]), np.array([-0.2, 0.4])
    quad = cp.divergences.tv_grid(cp.gaussian(m1, 0.7 * np.eye(2)), cp.gaussian(m2, 1.6 * np.eye(2)),
                                  1201, width=7.0)
    assert abs(gaussian_tv(m1, 0.7, m2, 1.6) - quad) < 1e-6
    quad = cp.divergences.tv_grid(cp.gaussian(m1, np.eye(2)), cp.gaussian(m2, np.eye(2)), 1201, width=7.0)
    assert abs(gaussian_tv(m1, 1.0, m2, 1.0) - quad) < 1e-6


@pytest.mark.parametrize("d,shift", [(4, 0.0), (6, 0.3)])
def test_tv_high_dimension_matches_monte_carlo(d, shift):
    m1, m2 = np.full(d, shift), np.zeros(d)
    n = 200_000
    x = m1 + np.sqrt(0.9) * cp.rng.normals(n, d, seed=3, step=0)
    p1, p2 = cp.gaussian(m1, 0.9 * np.eye(d)), cp.gaussian(m2, 1.2 * np.eye(d))
    w = np.clip(1 - np.exp(p2.logpdf(x) - p1.logpdf(x)), 0, None)
    assert abs(gaussian_tv(m1, 0.9, m2, 1.2) - w.mean()) < 5 * w.std() / np.sqrt(n)


@pytest.mark.parametrize("d", [1, 2, 3, 64])
def test_tv_with_nearly_equal_variances_is_finite_and_continuous(d):
    # Variances one ulp to 1e-3 apart (as two code paths may compute "the same" variance): the
    # ball's centre and radius run off like 1/(v2 - v1), and the chi-square route used to
    # return NaN from a relative difference of 1e-14 to 1e-6. TV must tend to its
    # equal-variance value at the rate of the variance change (|dTV/dv| <= sqrt(d) here).
    m1, m2 = np.r_[0.3, np.zeros(d - 1)], np.zeros(d)
    tv0 = gaussian_tv(m1, 1.0, m2, 1.0)
    for rel in (2.2e-16, 1e-14, 1e-12, 1e-10, 1e-8, 1e-6, 1e-5, 1e-4, 1e-3):
        for v2 in (1.0 + rel, 1.0 - rel):
            tv = gaussian_tv(m1, 1.0, m2, v2)
            assert np.isfinite(tv) and abs(tv - tv0) <= np.sqrt(d) * rel + 1e-14, (rel, tv, tv0)
            if d == 1:                        # the crossing points on the line, another formula
                assert abs(_tv_isotropic(m1, 1.0, m2, v2) - _tv_1d(0.3, 1.0, 0.0, v2)) < 1e-12


@pytest.mark.parametrize("m,v1,v2,d", [(1.0, 1.0, 1.01, 5), (0.05, 0.9, 1.0, 2), (2.0, 1.0, 1.05, 16),
                                       (0.3, 1.0, 1.0005, 3)])
def test_tv_far_ball_route_equals_chi_square_route(m, v1, v2, d, monkeypatch):
    # where both are well conditioned, the two routes to P(ball) agree
    m1, m2 = np.r_[m, np.zeros(d - 1)], np.zeros(d)
    monkeypatch.setattr(cp.divergences, "_NC_MAX", np.inf)
    chi2_route = _tv_isotropic(m1, v1, m2, v2)
    monkeypatch.setattr(cp.divergences, "_NC_MAX", -1.0)
    far_route = _tv_isotropic(m1, v1, m2, v2)
    assert abs(chi2_route - far_route) < 1e-11


def test_tv_grows_like_sqrt_d_for_a_small_variance_change():
    ds = np.array([64, 256, 1024])
    tv = [gaussian_tv(np.zeros(d), 1.0, np.zeros(d), 1.0 + 1e-3) for d in ds]
    # for delta sqrt(d) -> 0, TV ~ delta sqrt(d) / (2 sqrt(pi)) (chi-square density at its mean)
    np.testing.assert_allclose(tv, 1e-3 * np.sqrt(ds) / (2 * np.sqrt(np.pi)), rtol=0.03)


def test_tv_bad_input():
    with pytest.raises(ValueError, match="v1"):
        gaussian_tv(0.0, 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="m2"):
        gaussian_tv([0.0, 1.0], 1.0, [0.0], 1.0)
    with pytest.raises(ValueError, match="m1"):
        gaussian_tv(np.zeros((2, 2)), 1.0, np.zeros((2, 2)), 1.0)
    with pytest.raises(ValueError, match="v2"):
        gaussian_tv(0.0, 1.0, 0.0, np.nan)


# ---- exact W_2 ----

def test_w2_one_dimension_closed_form():
    for m1, v1, m2, v2 in [(1.0, 4.0, 0.0, 1.0), (0.3, 0.2, -0.5, 0.9)]:
        expected = np.sqrt((m1 - m2) ** 2 + (np.sqrt(v1) - np.sqrt(v2)) ** 2)
        assert gaussian_w2(m1, v1, m2, v2) == pytest.approx(expected, rel=1e-13)
        assert gaussian_w2([m1], [[v1]], [m2], [[v2]]) == pytest.approx(expected, rel=1e-13)


def test_w2_non_commuting_covariances_by_eigenvalues_of_the_product():
    c1 = np.array([[2.0, 0.6], [0.6, 0.5]])
    c2 = np.array([[0.7, -0.3], [-0.3, 1.4]])
    m1, m2 = np.array([0.1, -0.4]), np.array([1.0, 0.2])
    # tr (c1^{1/2} c2 c1^{1/2})^{1/2} = sum of square roots of the eigenvalues of c1 c2
    cross = np.sum(np.sqrt(np.linalg.eigvals(c1 @ c2).real))
    expected = np.sqrt(np.sum((m1 - m2) ** 2) + np.trace(c1 + c2) - 2 * cross)
    assert gaussian_w2(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-12)
    assert gaussian_w2(m1, c1, m2, c2) == pytest.approx(gaussian_w2(m2, c2, m1, c1), rel=1e-12)


def test_w2_singular_covariance_and_zero_distance():
    v = np.array([1.0, 2.0])
    c1 = np.outer(v, v)                       # rank one
    c2 = np.eye(2)
    cross = np.sqrt(v @ c2 @ v)               # tr sqrt(S1^{1/2} S2 S1^{1/2}) for S1 = v v^T
    expected = np.sqrt(np.trace(c1) + 2 - 2 * cross)
    assert gaussian_w2([0, 0], c1, [0, 0], c2) == pytest.approx(expected, rel=1e-7)
    assert gaussian_w2([1, 2], c2, [1, 2], c2) == pytest.approx(0.0, abs=1e-7)


def test_w2_bad_input():
    with pytest.raises(ValueError, match="c1"):
        gaussian_w2([0.0, 0.0], [[1.0, 0.5], [0.0, 1.0]], [0.0, 0.0], np.eye(2))
    with pytest.raises(ValueError, match="c2"):
        gaussian_w2([0.0, 0.0], np.eye(2), [0.0, 0.0], [[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="m2"):
        gaussian_w2([0.0, 0.0], np.eye(2), [0.0], np.eye(2))
    with pytest.raises(ValueError, match="c1"):
        gaussian_w2([0.0, 0.0], np.eye(3), [0.0, 0.0], np.eye(2))


# ---- reverse moment ODEs and the synchronous coupling ----

PROCESSES = [cp.sde.OU(), cp.sde.VP(0.1, 20.0, 1.0), gr.CVP(0.1, 20.0, 1.0),
             cp.sde.ConstantLinear(0.5, 1.3), cp.sde.ConstantLinear(0.0, 1.0)]


@pytest.mark.parametrize("proc", PROCESSES, ids=str)
def test_fast_coefficients_equal_the_public_methods(proc):
    fast, slow = gr._fast_scalars(proc), gr._generic_scalars(proc)
    for tau in (0.0, 0.3, 0.9):
        np.testing.assert_allclose(fast(tau), slow(tau), rtol=1e-14, atol=0)


def test_cvp_marginal_variance_solves_its_ode():
    p = gr.CVP(0.1, 20.0, 1.0)
    sol = integrate.solve_ivp(lambda t, v: [float(p.beta(t)) * v[0] + float(p.beta(t))], (0, 1), [0.0],
                              rtol=1e-12, atol=1e-14, t_eval=[0.3, 1.0])
    np.testing.assert_allclose(sol.y[0], p.marginal_var([0.3, 1.0]), rtol=1e-9)
    np.testing.assert_allclose(p.mean_coeff(1.0), np.exp(0.5 * p.int_beta(1.0)), rtol=1e-15)


@pytest.mark.parametrize("proc", PROCESSES[:4], ids=str)
def test_exact_score_from_p_T_keeps_the_marginals(proc):
    m, c, T = 0.7, 0.3, 1.0
    a = float(proc.mean_coeff(T))
    ts = np.linspace(0, T, 6)
    mean, var = gr.reverse_moments(proc, m, c, T, start=(a * m, a * a * c + float(proc.marginal_var(T))),
                                   t_eval=ts)
    tau = T - ts
    np.testing.assert_allclose(mean, m * proc.mean_coeff(tau), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(var, c * proc.mean_coeff(tau) ** 2 + proc.marginal_var(tau), rtol=1e-9)


def test_biased_ou_output_law_closed_form():
    for T in (0.3, 1.0, 4.0):
        m, v = gr.reverse_moments(cp.sde.OU(), 0.0, 1.0, T, eps=0.2, start=(0.1, 0.5))
        assert m == pytest.approx(0.1 * np.exp(-T) + 0.4 * -np.expm1(-T), abs=1e-11)
        assert v == pytest.approx(1 - 0.5 * np.exp(-2 * T), abs=1e-11)


def test_coupling_closed_form_for_ou():
    # data N(0,1) under OU: lambda = -1, so D = U - V has D' = -D - 2 eps and Var(D)' = -2 Var(D)
    T, eps = 1.3, 0.1
    r = gr.coupling_moments(cp.sde.OU(), 0.0, 1.0, T, eps, start_u=(0.2, 1.0), start_v=(-0.1, 0.4))
    D = 0.3 * np.exp(-T) - 2 * eps * -np.expm1(-T)
    expected = D ** 2 + np.exp(-2 * T) * (1.0 - np.sqrt(0.4)) ** 2
    assert r["msd"] == pytest.approx(expected, abs=1e-11)
    assert r["cov_uv"] <= np.sqrt(r["var_u"] * r["var_v"]) + 1e-12


def test_coupling_matches_a_simulation_of_the_coupled_sdes():
    vp = cp.sde.VP(0.1, 5.0, 1.0)
    s0sq, eps, n, N = 0.5, 0.2, 40_000, 1000
    r = gr.coupling_moments(vp, 0.0, s0sq, 1.0, eps, start_v=(0.0, 1.0))
    pT = float(np.exp(-vp.int_beta(1.0)) * s0sq + vp.marginal_var(1.0))
    gen = np.random.default_rng(4)
    z0 = gen.standard_normal(n)
    U, V = np.sqrt(pT) * z0, z0.copy()                 # comonotone start
    h = 1.0 / N
    tau = 1.0 - h * np.arange(N)
    beta = vp.beta(tau)
    v = np.exp(-vp.int_beta(tau)) * s0sq + vp.marginal_var(tau)
    for k in range(N):                                  # Euler-Maruyama, the same noise for both
        dB = np.sqrt(h * beta[k]) * gen.standard_normal(n)
        lam = 0.5 * beta[k] - beta[k] / v[k]
        U = U + h * lam * U + dB
        V = V + h * (lam * V + beta[k] * eps) + dB
    sq = (U - V) ** 2
    # Monte Carlo error (5 se) plus the Euler bias, O(h) relative ~ 1e-2 here
    assert abs(sq.mean() - r["msd"]) < 5 * sq.std() / np.sqrt(n) + 0.02 * r["msd"]
    assert abs(U.var() - r["var_u"]) < 0.03 * r["var_u"]


def test_reverse_moments_bad_input():
    with pytest.raises(ValueError, match="process"):
        gr.reverse_moments("OU", 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="data_var"):
        gr.reverse_moments(cp.sde.OU(), 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="t_eval"):
        gr.reverse_moments(cp.sde.OU(), 0.0, 1.0, 1.0, t_eval=[0.5, 2.0])
    with pytest.raises(ValueError, match="start"):
        gr.coupling_moments(cp.sde.OU(), 0.0, 1.0, 1.0, 0.1, start_v=(0.0, -1.0))
    with pytest.raises(ValueError, match="eps"):
        gr.coupling_moments(cp.sde.OU(), 0.0, 1.0, 1.0, np.inf)


def test_vp_kappa():
    B = np.linspace(0, 8, 9)
    for k in (0.3, 0.75, 1.0, 3.0):
        kt = gr.vp_kappa(k, B)
        np.testing.assert_allclose(kt, 1 / (np.exp(-B) / k + 1 - np.exp(-B)), rtol=1e-14)
        assert np.all(kt >= min(k, 1) - 1e-15) and np.all(kt <= max(k, 1) + 1e-15)
        assert np.all(np.diff(kt) * np.sign(1 - k) >= -1e-15)          # monotone towards 1
    with pytest.raises(ValueError, match="kappa"):
        gr.vp_kappa(0.0, 1.0)
    with pytest.raises(ValueError, match="B"):
        gr.vp_kappa(1.0, -1.0)


# ---- chapter-7 bounds against their definitions ----

def test_tv_score_bound():
    assert bounds.tv_score_bound(0.1, 0.2, 8.0) == pytest.approx(0.1 + 0.1 * np.sqrt(8.0), rel=1e-15)
    with pytest.raises(ValueError, match="eps"):
        bounds.tv_score_bound(0.0, -0.1, 1.0)


def test_vp_init_kl_is_the_average_gaussian_kl_for_any_data():
    atoms = np.array([[1.0, -2.0], [0.5, 0.3], [-1.0, 0.0]])
    w = np.array([0.2, 0.5, 0.3])
    m2 = float(w @ np.sum(atoms ** 2, axis=1))
    for B in (0.2, 1.0, 5.0):
        a, s = np.exp(-B / 2), -np.expm1(-B)
        avg = sum(wi * gaussian_kl(a * x, s * np.eye(2), np.zeros(2), np.eye(2)) for wi, x in zip(w, atoms))
        assert bounds.vp_init_kl(B, m2, 2) == pytest.approx(avg, rel=1e-12)


def test_tv_vp_bound_dominates_pinsker_and_is_tight_for_large_B():
    for B in (0.1, 1.0, 3.0, 20.0):
        for m2, d in ((0.0, 3), (2.0, 1)):
            kl = float(bounds.vp_init_kl(B, m2, d))
            first = float(bounds.tv_vp_bound(B, m2, d, 0.0))
            assert first >= np.sqrt(kl / 2) * (1 - 1e-12)
            if B == 20.0:                    # -u - log(1-u) ~ u^2/2 as u -> 0
                assert first == pytest.approx(np.sqrt(kl / 2), rel=1e-6)
    assert bounds.tv_vp_bound(2.0, 0.0, 1, 0.1) - bounds.tv_vp_bound(2.0, 0.0, 1, 0.0) == \
        pytest.approx(0.05 * np.sqrt(2.0), rel=1e-12)


def test_w2_coupling_bound_against_its_definition_for_cvp():
    p = gr.CVP(0.1, 20.0, 1.0)
    T, L, h, eps, W0 = 1.0, 0.02, 0.25, 0.1, 0.03
    phi = lambda s: -2 * (0.5 * float(p.beta(s))) + (2 * L + 2 * h) * float(p.beta(s))   # r_f = beta/2
    u = lambda t: integrate.quad(phi, T - t, T, epsabs=0, epsrel=1e-13)[0]
    uT = u(T)
    integral = integrate.quad(lambda t: float(p.beta(t)) * np.exp(uT - u(T - t)), 0, T,
                              epsabs=0, epsrel=1e-11)[0]
    expected = np.exp(uT) * W0 + eps ** 2 / (2 * h) * integral
    got = bounds.w2_coupling_bound(float(p.int_beta(T)), -1 + 2 * L + 2 * h, eps, h, W0)
    assert got == pytest.approx(expected, rel=1e-9)
    assert bounds.w2_coupling_bound(2.0, 0.0, 1.0, 0.5, 0.0) == pytest.approx(2.0)


def test_w2_vp_gronwall_bound_solves_the_differential_inequality_with_equality():
    vp = cp.sde.VP(0.1, 20.0, 1.0)
    T, kappa, eps, h, e0 = 1.0, 2.0, 0.05, 0.25, 0.01
    B = lambda s: float(vp.int_beta(s))

    def rhs(t, e):
        beta = float(vp.beta(T - t))
        return [beta * (1 + 2 * h - 2 * float(gr.vp_kappa(kappa, B(T - t)))) * e[0] + beta * eps ** 2 / (2 * h)]

    sol = integrate.solve_ivp(rhs, (0, T), [e0], method="DOP853", rtol=1e-12, atol=1e-15)
    got = bounds.w2_vp_gronwall_bound(B(T), kappa, eps, h, e0)
    assert got == pytest.approx(sol.y[0, -1], rel=1e-8)


def test_w2_vp_bound_dominates_gronwall_and_equals_it_for_kappa_one():
    for kappa in (0.7, 1.0, 2.0, 5.0):
        h = 0.5 * (min(kappa, 1) - 0.5)
        for B in (0.5, 3.0, 10.0):
            g = bounds.w2_vp_gronwall_bound(B, kappa, 0.3, h, 0.2)
            b = bounds.w2_vp_bound(B, kappa, 0.3, h, 0.2)
            assert g <= b * (1 + 1e-12)
            if kappa == 1.0:
                assert g == pytest.approx(b, rel=1e-10)
    c = 2 * 1 - 1 - 2 * 0.25
    assert bounds.w2_vp_bound(10.0, 1.0, 1.0, 0.25, 0.0) == pytest.approx(-np.expm1(-c * 10) / (2 * 0.25 * c))
    assert bounds.w2_vp_bound(10.0, 1.0, 1.0, 0.25, 0.0, sharp=False) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="h must be"):
        bounds.w2_vp_bound(1.0, 0.8, 0.1, 0.35, 0.0)
    with pytest.raises(ValueError, match="kappa"):
        bounds.w2_vp_bound(1.0, 0.5, 0.1, 0.1, 0.0)


def test_w2_vp_init_bound_is_the_synchronous_coupling_cost():
    # X_T = e^{-B/2} x + sqrt(1 - e^{-B}) Z against Z: E|X_T - Z|^2 by Monte Carlo, two-point data
    d, n, B = 3, 200_000, 0.8
    x = np.where(cp.rng.normals(n, 1, seed=8, step=0) > 0, 1.0, -1.0) * np.array([1.0, 0.5, 0.0])
    Z = cp.rng.normals(n, d, seed=8, step=1)
    XT = np.exp(-B / 2) * x + np.sqrt(-np.expm1(-B)) * Z
    sq = np.sum((XT - Z) ** 2, axis=1)
    bound = bounds.w2_vp_init_bound(B, 1.25, d)
    assert abs(sq.mean() - bound) < 5 * sq.std() / np.sqrt(n)


# ---- the explorer ----

def test_tv_bias_figure_and_explorer():
    import matplotlib.pyplot as plt

    fig = cp.widgets.tv_bias_figure(T=1.25, eps=0.05)
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 4
    plt.close(fig)
    box = cp.widgets.tv_bias_explorer(T=1.0, eps=0.1)
    header, out = box.children
    assert len(out.outputs) == 1
    header.children[0].value = 2.0
    assert len(out.outputs) == 1
    with pytest.raises(ValueError, match="eps"):
        cp.widgets.tv_bias_figure(T=1.0, eps=0.0)
    with pytest.raises(ValueError):
        cp.widgets.tv_bias_explorer(T=1.1)
