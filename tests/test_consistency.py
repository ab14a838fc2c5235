"""Unit tests of companion.consistency (flow maps, ODE solver, consistency pairs) against
independent references: SciPy's normal CDF and ODE solver on hand-written equations, moment
ODEs, generic Gaussian W_2 with SciPy's matrix square root, Monte Carlo."""
import numpy as np
import pytest
from scipy import integrate, linalg, stats

import companion as cp
from companion import consistency as cm
from companion import sde as S

MU = cp.targets.bimodal()
# components of different variances and weights: a mixture whose CDF is not symmetric
SKEW = cp.GaussianMixture([0.2, 0.5, 0.3], [[-2.0], [0.5], [2.5]], [[[0.1]], [[0.6]], [[0.3]]])


def test_mixture_cdf_matches_scipy():
    x = np.linspace(-5, 5, 41)
    ref = sum(w * stats.norm.cdf(x, m[0], np.sqrt(c[0, 0]))
              for w, m, c in zip(SKEW.weights, SKEW.means, SKEW.covs))
    np.testing.assert_allclose(cm.mixture_cdf(SKEW, x), ref, atol=1e-15)


def test_mixture_quantile_inverts_the_cdf():
    u = np.array([1e-9, 0.01, 0.3, 0.5, 0.77, 0.999, 1 - 1e-9])
    x = cm.mixture_quantile(SKEW, u)
    np.testing.assert_allclose(cm.mixture_cdf(SKEW, x), u, rtol=1e-12, atol=1e-16)
    assert np.all(np.diff(x) > 0)


def test_flow_map_pushes_marginals_and_is_increasing():
    ou = S.OU()
    y = np.linspace(-4, 4, 33)[:, None]
    F = cm.flow_map_1d(ou, SKEW, 0.3, 1.7, y)
    np.testing.assert_allclose(cm.mixture_cdf(ou.marginal(SKEW, 0.3), F),
                               cm.mixture_cdf(ou.marginal(SKEW, 1.7), y), atol=1e-13)
    assert np.all(np.diff(F[:, 0]) > 0)


def _scalar_pf_rhs(proc, mixture):
    """The PF velocity written out by hand for a 1-D mixture, from SciPy's normal density."""
    w, m, c = mixture.weights, mixture.means[:, 0], mixture.covs[:, 0, 0]

    def rhs(t, x):
        a = float(proc.mean_coeff(t))
        v = a * a * c + float(proc.marginal_var(t))
        dens = w * stats.norm.pdf(x[:, None], a * m, np.sqrt(v))
        score = (dens * (-(x[:, None] - a * m) / v)).sum(1) / dens.sum(1)
        return -float(proc.f(t)) * x - 0.5 * float(proc.g(t)) ** 2 * score

    return rhs


@pytest.mark.parametrize("proc", [S.OU(), S.VP(), S.VE(), S.SubVP(), S.VELinear()],
                         ids=lambda p: p.name)
def test_pf_ode_matches_an_independent_solver_and_the_exact_map(proc):
    y = np.linspace(-2.5, 2.5, 9)
    s, t = 0.8, 0.1
    ref = integrate.solve_ivp(_scalar_pf_rhs(proc, SKEW), (s, t), y, method="Radau",
                              rtol=1e-11, atol=1e-12).y[:, -1]
    got = cm.pf_ode(proc, SKEW, y[:, None], s, t)[:, 0]
    np.testing.assert_allclose(got, ref, atol=1e-8)
    np.testing.assert_allclose(got, cm.flow_map_1d(proc, SKEW, t, s, y[:, None])[:, 0], atol=1e-8)


@pytest.mark.parametrize("proc", [S.OU(), S.VP(), S.VE()], ids=lambda p: p.name)
def test_gaussian_flow_matches_the_moment_odes(proc):
    # m(t), v(t) from the moment ODEs (independent of mean_coeff/marginal_var), then the
    # linear flow solved numerically in d = 2
    m0, c = np.array([0.7, -1.2]), 0.4
    s, t = 0.9, 0.15
    y = np.array([[0.1, 0.2], [1.5, -2.0], [-1.0, 0.4]])
    gauss = cp.gaussian(m0, c * np.eye(2))
    got = cm.gaussian_flow(proc, m0, c, t, s, y)
    np.testing.assert_allclose(got, cm.pf_ode(proc, gauss, y, s, t), atol=1e-8)
    mean_s, var_s = cp.sde.moment_odes(proc, s)
    mean_t, var_t = cp.sde.moment_odes(proc, t)
    vs, vt = mean_s**2 * c + var_s, mean_t**2 * c + var_t
    np.testing.assert_allclose(got, mean_t * m0 + (y - mean_s * m0) * np.sqrt(vt / vs), atol=1e-9)


def test_solve_flow_on_a_linear_ode_both_directions():
    y = np.array([[1.0, -2.0]])
    fwd = cm.solve_flow(lambda t, x: -2.0 * x, y, 0.0, 1.5)
    np.testing.assert_allclose(fwd, y * np.exp(-3.0), rtol=1e-10)
    np.testing.assert_allclose(cm.solve_flow(lambda t, x: -2.0 * x, fwd, 1.5, 0.0), y, rtol=1e-9)
    assert cm.solve_flow(lambda t, x: x, y, 0.3, 0.3) is not y


@pytest.mark.parametrize("proc", [S.OU(), S.VP(), S.SubVP(), S.VE()], ids=lambda p: p.name)
def test_reparam_velocity_equals_direct_velocity(proc):
    x = np.linspace(-3, 3, 13)[:, None]
    ve_score = lambda sig, y: SKEW.channel(1.0, sig).score(y)
    for t in (0.05, 0.4, 0.9):
        direct = cm.pf_velocity(proc, SKEW, t, x)
        np.testing.assert_allclose(cm.ve_reparam_velocity(proc, ve_score, t, x), direct,
                                   atol=1e-11 * max(1.0, np.abs(direct).max()))


def test_vp_coefficient_closed_form():
    vp = S.VP()
    for t in (0.1, 0.37, 0.8):
        B, beta = float(vp.int_beta(t)), float(vp.beta(t))
        sigma = lambda u: np.sqrt(np.expm1(float(vp.int_beta(u))))
        h = 1e-6
        fd = np.exp(-B / 2) * sigma(t) * (sigma(t + h) - sigma(t - h)) / (2 * h)
        np.testing.assert_allclose(fd, 0.5 * beta * np.exp(B / 2), rtol=1e-7)
        assert np.isclose(float(vp.g(t)) ** 2 / (2 * float(vp.mean_coeff(t))), fd, rtol=1e-7)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")   # sqrtm of a rank-one matrix
def test_cd_ct_w2_against_scipy_sqrtm():
    for t, dl, d in ((1.0, 0.1, 1), (0.5, 0.3, 3), (2.0, 0.01, 2)):
        S1 = np.array([[t * t, t * (t - dl)], [t * (t - dl), (t - dl) ** 2]])
        S2 = np.diag([t * t, (t - dl) ** 2])
        r1 = linalg.sqrtm(S1).real
        w2 = np.trace(S1) + np.trace(S2) - 2 * np.trace(linalg.sqrtm(r1 @ S2 @ r1).real)
        assert abs(cm.cd_ct_w2_squared(t, dl, d) - d * w2) < 1e-6 * d
    assert abs(cm.cd_ct_w2_squared(1.3, 0.0, 4) - 2 * (2 - np.sqrt(2)) * 1.69 * 4) < 1e-12
    assert cm.cd_ct_w2_squared(1.0, 1.0) == 0.0


def test_gaussian_w2_against_closed_forms():
    w = cp.divergences.gaussian_w2([1.0], [[4.0]], [0.0], [[1.0]])
    assert abs(w**2 - (1.0 + 1.0)) < 1e-12
    c1, c2 = np.diag([1.0, 9.0]), np.diag([4.0, 1.0])
    w = cp.divergences.gaussian_w2([0, 0], c1, [1, 1], c2)
    assert abs(w**2 - (2 + (1 - 2) ** 2 + (3 - 1) ** 2)) < 1e-12
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    R = linalg.sqrtm(A).real
    ref = np.trace(A) + 2 - 2 * np.trace(linalg.sqrtm(R @ np.eye(2) @ R).real)
    assert abs(cp.divergences.gaussian_w2([0, 0], A, [0, 0], np.eye(2)) ** 2 - ref) < 1e-12


def test_consistency_pairs_kinds_and_reproducibility():
    point = cp.discrete([[0.0], ], [1.0])
    a = cm.consistency_pairs(MU, 0.8, 0.1, 500, seed=3, kind="cd")
    b = cm.consistency_pairs(MU, 0.8, 0.1, 500, seed=3, kind="cd")
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    ct = cm.consistency_pairs(MU, 0.8, 0.1, 500, seed=3, kind="ct")
    assert np.array_equal(ct[0], a[0]) and not np.array_equal(ct[1], a[1])
    sh = cm.consistency_pairs(point, 1.0, 0.25, 100, seed=1, kind="ct_shared")
    cd = cm.consistency_pairs(point, 1.0, 0.25, 100, seed=1, kind="cd")
    np.testing.assert_allclose(sh[1], cd[1], atol=1e-15)
    # the CD step uses the given score when there is one
    cd2 = cm.consistency_pairs(MU, 0.8, 0.1, 50, seed=3, kind="cd", score=lambda t, y: 0 * y)
    np.testing.assert_array_equal(cd2[1], cd2[0])


def test_ct_pairs_have_independent_noise():
    yp, ym = cm.consistency_pairs(cp.discrete([[0.0]], [1.0]), 1.0, 0.2, 100_000, seed=5, kind="ct")
    prod = yp[:, 0] * ym[:, 0]
    assert abs(prod.mean()) < 5 * prod.std() / np.sqrt(prod.size)
    assert abs(ym.var() - 0.64) < 5 * 0.64 * np.sqrt(2 / ym.size)


def test_consistency_losses_against_monte_carlo():
    c, eps0, t, dl, d = 0.6, 0.01, 0.9, 0.2, 2
    data = cp.gaussian(np.zeros(d), c * np.eye(d))
    F = lambda tt, y: cm.ve_consistency_gaussian(c, eps0, tt, y)
    for kind, exact in (("cd", cm.cd_loss_gaussian), ("ct", cm.ct_loss_gaussian)):
        yp, ym = cm.consistency_pairs(data, t, dl, 200_000, seed=11, kind=kind)
        z = np.sum((F(t, yp) - F(t - dl, ym)) ** 2, axis=1)
        assert abs(z.mean() - exact(c, eps0, t, dl, d)) < 5 * z.std() / np.sqrt(z.size)
    assert cm.ve_consistency_gaussian(c, eps0, eps0, np.array([1.7]))[0] == pytest.approx(1.7)


@pytest.mark.parametrize("kind", ["cd", "ct", "ct_shared"])
def test_pair_moments_against_monte_carlo(kind):
    c, t, dl = 0.7, 0.9, 0.3
    yp, ym = cm.consistency_pairs(cp.gaussian([0.0], [[c]]), t, dl, 400_000, seed=21, kind=kind)
    for exact, z in zip(cm.pair_moments_gaussian(c, t, dl, kind),
                        (yp[:, 0] ** 2, yp[:, 0] * ym[:, 0], ym[:, 0] ** 2)):
        assert abs(z.mean() - exact) < 5 * z.std() / np.sqrt(z.size)


@pytest.mark.parametrize("kind", ["cd", "ct", "ct_shared"])
def test_joint_slopes_minimise_the_summed_loss(kind):
    # an independent minimisation of the explicit sum (BFGS on the quadratic)
    from scipy import optimize
    c, grid = 0.8, np.array([0.01, 0.2, 0.35, 0.6, 0.8, 1.1])
    mom = [cm.pair_moments_gaussian(c, grid[n], grid[n] - grid[n - 1], kind)
           for n in range(1, grid.size)]

    def loss(k_free):
        k = np.concatenate([[1.0], k_free])
        return sum(k[n] ** 2 * A - 2 * k[n] * k[n - 1] * B + k[n - 1] ** 2 * C
                   for n, (A, B, C) in enumerate(mom, start=1))
    best = optimize.minimize(loss, np.full(grid.size - 1, 0.5), method="BFGS",
                             options={"gtol": 1e-12}).x
    np.testing.assert_allclose(cm.linear_consistency_slopes(c, grid, kind, "joint")[1:], best,
                               atol=1e-6)


def test_stop_gradient_slopes_limits():
    c, eps0, T = 1.0, 0.002, 1.0
    k_star = np.sqrt((c + eps0**2) / (c + T**2))
    g = np.linspace(eps0, T, 4001)
    # shared noise and distillation: the same recursion, converging to the consistency slope
    k_sh = cm.linear_consistency_slopes(c, g, "ct_shared")
    np.testing.assert_allclose(k_sh, cm.linear_consistency_slopes(c, g, "cd"), rtol=1e-12)
    assert abs(k_sh[-1] - k_star) < 1e-4
    np.testing.assert_allclose(k_sh, np.sqrt((c + eps0**2) / (c + g**2)), atol=1e-4)
    # independent noise: log k_N / N -> -(1/T) int log(1 + t^2/c)
    g = np.linspace(eps0, T, 1001)
    rate = (np.log(2.0) - 2.0 + np.pi / 2) / (T - eps0)     # int_0^1 log(1 + t^2) dt, closed form
    assert abs(np.log(cm.linear_consistency_slopes(c, g, "ct")[-1]) / 1000 + rate) < 2e-3
    # the joint squared loss with shared noise settles away from the consistency slope
    assert abs(cm.linear_consistency_slopes(c, g, "ct_shared", "joint")[-1] - 0.56073) < 1e-4


def test_velinear_moments():
    v = S.VELinear()
    t = np.array([0.0, 0.3, 1.0, 2.5])
    np.testing.assert_allclose([cp.sde.moment_odes(v, r)[1] for r in t[1:]], t[1:] ** 2, atol=1e-10)
    np.testing.assert_allclose(v.marginal_var(t), t**2)
    np.testing.assert_allclose(v.g(t) ** 2, 2 * t)


def test_bad_inputs_name_the_argument():
    ou = S.OU()
    with pytest.raises(ValueError, match="sde"):
        cm.gaussian_flow("OU", [0.0], 1.0, 1.0, 0.5, [[0.0]])
    with pytest.raises(ValueError, match="var"):
        cm.gaussian_flow(ou, [0.0], -1.0, 1.0, 0.5, [[0.0]])
    with pytest.raises(ValueError, match="y"):
        cm.gaussian_flow(ou, [0.0, 0.0], 1.0, 1.0, 0.5, [[0.0]])
    with pytest.raises(ValueError, match="mixture"):
        cm.mixture_cdf(cp.targets.ring(), [0.0])
    with pytest.raises(ValueError, match="density"):
        cm.mixture_cdf(cp.discrete([[0.0]], [1.0]), [0.0])
    with pytest.raises(ValueError, match="u"):
        cm.mixture_quantile(MU, [0.0, 0.5])
    with pytest.raises(ValueError, match="t"):
        cm.flow_map_1d(ou, MU, -1.0, 0.5, [[0.0]])
    with pytest.raises(ValueError, match="x"):
        cm.pf_velocity(ou, MU, 0.5, [[np.nan]])
    with pytest.raises(ValueError, match="velocity"):
        cm.solve_flow(None, [[0.0]], 0.0, 1.0)
    with pytest.raises(ValueError, match="velocity must return"):
        cm.solve_flow(lambda t, x: x[:, :0], [[0.0]], 0.0, 1.0)
    with pytest.raises(ValueError, match="ve_score"):
        cm.ve_reparam_velocity(ou, 3.0, 0.5, [[0.0]])
    with pytest.raises(ValueError, match="delta"):
        cm.cd_ct_w2_squared(1.0, 2.0)
    with pytest.raises(ValueError, match="d"):
        cm.cd_ct_w2_squared(1.0, 0.1, d=0)
    with pytest.raises(ValueError, match="kind"):
        cm.consistency_pairs(MU, 1.0, 0.1, 10, seed=0, kind="dc")
    with pytest.raises(ValueError, match="score"):
        cm.consistency_pairs(MU, 1.0, 0.1, 10, seed=0, score=3)
    with pytest.raises(ValueError, match="seed"):
        cm.consistency_pairs(MU, 1.0, 0.1, 10, seed=-1)
    with pytest.raises(ValueError, match="c"):
        cm.cd_loss_gaussian(-1.0, 0.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="grid"):
        cm.linear_consistency_slopes(1.0, [0.5, 0.2])
    with pytest.raises(ValueError, match="target"):
        cm.linear_consistency_slopes(1.0, [0.0, 0.5], target="ema")
    with pytest.raises(ValueError, match="kind"):
        cm.pair_moments_gaussian(1.0, 1.0, 0.1, kind="dc")
    with pytest.raises(ValueError, match="c1"):
        cp.divergences.gaussian_w2([0.0], [[-1.0]], [0.0], [[1.0]])
