"""companion.moments against independent references: Gaussian closed forms, SciPy quadrature
with a separately derived cancellation-free log-ratio, sorted couplings, the I-MMSE route to
Delta_n (companion.info); bad input."""
import math

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

import companion as cp
from companion import info, moments

RAD = cp.targets.rademacher()
STD = cp.gaussian([0.0], [[1.0]])
BIM = cp.targets.bimodal()


# ----------------------------------------------------------------------------- Lemma 3
@pytest.mark.parametrize("s", [1e-3, 0.1, 1.0, 10.0])
def test_smoothed_kl_gaussians_closed_form(s):
    a, b = cp.gaussian([0.3], [[2.0]]), cp.gaussian([-0.4], [[0.5]])
    ref = cp.divergences.gaussian_kl([0.3], [[2.0 + 1 / s]], [-0.4], [[0.5 + 1 / s]])
    assert abs(moments.smoothed_kl(a, b, s) / ref - 1) < 1e-10


def _logcosh_minus_half_sq(a):
    """log cosh a - a^2/2, by its Taylor series for small a (no cancellation)."""
    a = abs(a)
    if a < 0.1:
        a2 = a * a
        return a2 * a2 * (-1 / 12 + a2 * (1 / 45 + a2 * (-17 / 2520 + a2 * 31 / 14175)))
    return a + math.log1p(math.exp(-2 * a)) - math.log(2) - 0.5 * a * a


def _rad_std_reference(s):
    """D(Rademacher * N(1/s) || N(0,1) * N(1/s)) from L(y) = -(s - log1p s)/2
    + [log cosh(sqrt(s) y) - s y^2/2] + s^2 y^2 / (2 (1 + s)), each bracket without
    cancellation, integrated against q = N(0, 1 + s) by SciPy's adaptive quadrature."""
    sml = 0.5 * (s - math.log1p(s)) if s > 1e-3 else s * s * (0.25 - s / 6 + s * s / 8)

    def integrand(y):
        L = -sml + _logcosh_minus_half_sq(math.sqrt(s) * y) + s * s * y * y / (2 * (1 + s))
        phi = (L * L * (0.5 + L / 3 + L * L / 8 + L**3 / 30) if abs(L) < 1e-3
               else L * math.exp(L) - math.expm1(L))
        return stats.norm.pdf(y, 0, math.sqrt(1 + s)) * phi

    lim = 14 * math.sqrt(1 + s)
    return integrate.quad(integrand, -lim, lim, epsabs=0, epsrel=1e-12, limit=400)[0]


@pytest.mark.parametrize("s", [1e-4, 1e-3, 1e-2, 0.3, 3.0])
def test_smoothed_kl_rademacher_against_independent_quadrature(s):
    assert abs(moments.smoothed_kl(RAD, STD, s) / _rad_std_reference(s) - 1) < 1e-8


def _log_mix(y, mix, a):
    """log density at the scalar y of a X + N, X ~ mix (1-D), from scipy.stats."""
    w, m, c = mix.weights, mix.means[:, 0], mix.covs[:, 0, 0]
    return float(np.logaddexp.reduce(np.log(w) + stats.norm.logpdf(y, a * m,
                                                                  np.sqrt(a * a * c + 1))))


def test_smoothed_kl_mixtures_against_scipy_at_moderate_s():
    s, nu = 0.7, cp.gaussian([0.4], [[1.1]])
    r = math.sqrt(s)
    f = lambda y: math.exp(_log_mix(y, BIM, r)) * (_log_mix(y, BIM, r) - _log_mix(y, nu, r))
    ref = integrate.quad(f, -25, 25, limit=400, points=[-2 * r, 2 * r], epsabs=1e-14)[0]
    assert abs(moments.smoothed_kl(BIM, nu, s) / ref - 1) < 1e-9


def test_naive_integrand_loses_digits_where_stable_does_not():
    s = np.array([1e-3, 1e-4])
    ref = np.array([_rad_std_reference(v) for v in s])
    stable = moments.smoothed_kl(RAD, STD, s)
    naive = moments.smoothed_kl(RAD, STD, s, integrand="naive")
    assert np.all(np.abs(stable / ref - 1) < 1e-8)
    assert abs(naive[1] / ref[1] - 1) > 0.1


def test_smoothed_kl_point_masses_is_half_s_distance_squared():
    a, b = cp.discrete([[1.0]], [1.0]), cp.discrete([[-2.0]], [1.0])
    for s in (1e-3, 1.0, 7.0):
        assert abs(moments.smoothed_kl(a, b, s) - 4.5 * s) < 1e-12 * max(1.0, 4.5 * s)


def test_smoothed_kl_shape():
    out = moments.smoothed_kl(RAD, STD, [[0.1, 0.2]])
    assert out.shape == (1, 2)
    assert isinstance(moments.smoothed_kl(RAD, STD, 0.1), float)


# ------------------------------------------------------------------- moments, constants
def test_raw_moments_against_scipy():
    g = cp.gaussian([0.7], [[1.8]])
    ref = [stats.norm(0.7, math.sqrt(1.8)).moment(k) for k in range(7)]
    assert np.allclose(moments.raw_moments(g, 6), ref, rtol=1e-12)
    bim_ref = [integrate.quad(lambda x: x**k * BIM.pdf(np.array([[x]]))[0], -12, 12,
                              points=[-2, 2], epsabs=1e-13)[0] for k in range(5)]
    assert np.allclose(moments.raw_moments(BIM, 4), bim_ref, rtol=1e-10, atol=1e-12)


def test_lemma3_constant_examples():
    assert moments.lemma3_constant(RAD, STD) == (3, pytest.approx(1 / 12, rel=1e-14))
    assert moments.lemma3_constant(RAD, cp.gaussian([0.0], [[2.0]])) == (1, pytest.approx(0.25))
    skew = cp.discrete([[2.0], [-0.5]], [0.2, 0.8])
    assert moments.lemma3_constant(skew, STD) == (2, pytest.approx(1.5**2 / 12))
    # different means: m = 0, constant (E A - E B)^2 / 2, the leading term of s (a - b)^2 / 2
    m, C = moments.lemma3_constant(cp.discrete([[1.0]], [1.0]), STD)
    assert (m, C) == (0, pytest.approx(0.5))


# --------------------------------------------------------------------------------- W_2
def test_w2_gaussians_against_divergences():
    a, b = cp.gaussian([0.5], [[2.0]]), cp.gaussian([-1.0], [[0.3]])
    ref = cp.divergences.gaussian_w2([0.5], [[2.0]], [-1.0], [[0.3]])
    assert abs(moments.wasserstein2_1d(a, b) - ref) < 1e-10


def test_w2_discrete_sorted_coupling():
    x = np.array([3.0, -1.0, 0.5, 2.0])
    y = np.array([0.0, 1.0, -2.0, 4.0])
    a = cp.discrete(x[:, None], np.full(4, 0.25))
    b = cp.discrete(y[:, None], np.full(4, 0.25))
    ref = math.sqrt(np.mean((np.sort(x) - np.sort(y)) ** 2))
    assert abs(moments.wasserstein2_1d(a, b) - ref) < 1e-10


def _w2_sq_brentq(mix, m, v):
    """W_2^2(mix, N(m, v)) by SciPy: quantiles by brentq, the u-integral by adaptive quad."""
    w, mm_, sd = mix.weights, mix.means[:, 0], np.sqrt(mix.covs[:, 0, 0])
    cdf = lambda x: float(w @ stats.norm.cdf((x - mm_) / sd))
    q = lambda u: optimize.brentq(lambda x: cdf(x) - u, -40, 40, xtol=1e-14)
    pts = list(np.cumsum(w[np.argsort(mm_)])[:-1])
    return integrate.quad(lambda u: (q(u) - m - math.sqrt(v) * special.ndtri(u)) ** 2, 0, 1,
                          points=pts, limit=400, epsabs=1e-13)[0]


def test_w2_rademacher_normal_closed_form_and_mixtures_by_brentq():
    assert abs(moments.wasserstein2_1d(RAD, STD) ** 2 - (2 - 2 * math.sqrt(2 / math.pi))) < 1e-10
    overlap = cp.GaussianMixture([0.4, 0.6], [[-0.5], [0.7]], [[[1.0]], [[0.6]]])
    w = moments.wasserstein2_1d(overlap, cp.gaussian([0.3], [[2.0]]))
    assert abs(w**2 - _w2_sq_brentq(overlap, 0.3, 2.0)) < 1e-9
    # separated narrow components: the documented, coarser accuracy
    assert abs(moments.wasserstein2_1d(BIM, STD) ** 2 - _w2_sq_brentq(BIM, 0.0, 1.0)) < 1e-4


# ----------------------------------------------------------------------- Delta_n (eq. 10)
@pytest.mark.parametrize("grid", [np.linspace(0, 4, 9), info.geometric_grid(6.0, 12, 1.3),
                                  np.array([0.0, 0.05, 2.0, 30.0])])
def test_rademacher_delta_n_mean_kernel_equals_lemma2(grid):
    assert abs(moments.rademacher_delta_n(grid) / info.delta_n(RAD, grid) - 1) < 1e-9


def test_rademacher_delta_n_moment2_against_info_chain():
    grid = info.geometric_grid(4.0, 10, 1.2)
    ref = info.delta_n(RAD, grid, kernel="moment2", method="chain")
    assert abs(moments.rademacher_delta_n(grid, "moment2") / ref - 1) < 1e-9


def _step_reference(y, d, kernel):
    f = math.tanh(y)
    wp = 0.5 * (1 + f)
    sd = 1 / math.sqrt(d)
    v = sd**2 + (1 - f * f if kernel == "moment2" else 0.0)
    lp = lambda x: np.logaddexp(math.log(wp) + stats.norm.logpdf(x, 1, sd),
                                math.log1p(-wp) + stats.norm.logpdf(x, -1, sd))
    lq = lambda x: stats.norm.logpdf(x, f, math.sqrt(v))
    c = math.sqrt(v)
    return integrate.quad(lambda x: math.exp(lp(x)) * (lp(x) - lq(x)), f - 25 * c, f + 25 * c,
                          epsabs=1e-15, epsrel=1e-11, limit=400)[0]


@pytest.mark.parametrize("y, d", [(0.0, 0.5), (0.8, 0.1), (-1.7, 1.3), (3.0, 0.02)])
@pytest.mark.parametrize("kernel", ["mean", "moment2"])
def test_step_kl_against_scipy(y, d, kernel):
    ref = _step_reference(y, d, kernel)
    assert abs(moments.step_kl_rademacher(y, d, kernel) - ref) < 1e-9 * ref + 1e-15


def test_step_kl_symmetric_and_stable_at_saturation():
    for kernel in ("mean", "moment2"):
        a = moments.step_kl_rademacher(1.3, 0.4, kernel)
        assert a == pytest.approx(moments.step_kl_rademacher(-1.3, 0.4, kernel), rel=1e-13)
        far = moments.step_kl_rademacher(40.0, 0.4, kernel)      # tanh = 1 to the last bit
        assert np.isfinite(far) and 0.0 <= far < 1e-30


def test_rademacher_delta_n_rates_from_the_audit_table():
    """Values of SOURCES_AUDIT (C24) at T = 4: the mean kernel at n = 64, Remark 5 at n = 8."""
    assert moments.rademacher_delta_n(np.linspace(0, 4, 65)) == pytest.approx(0.014709284262,
                                                                              abs=5e-12)
    assert moments.rademacher_delta_n(np.linspace(0, 4, 9), "moment2") == pytest.approx(8.53e-3,
                                                                                       abs=5e-6)


# --------------------------------------------------------------------------------- widgets
def test_moment_matching_figure_and_explorer_build():
    import matplotlib.pyplot as plt

    fig = cp.widgets.moment_matching_figure(4, "moment2", n_samples=2000)
    assert "Remark 5" in fig.axes[0].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="kernel"):
        cp.widgets.moment_matching_figure(4, "cubic")


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, match", [
    (lambda: moments.smoothed_kl(RAD, STD, 0.0), "s"),
    (lambda: moments.smoothed_kl(RAD, STD, 0.1, integrand="p log p"), "integrand"),
    (lambda: moments.smoothed_kl("rad", STD, 0.1), "mu"),
    (lambda: moments.smoothed_kl(RAD, cp.targets.rademacher(2), 0.1), "nu"),
    (lambda: moments.raw_moments(RAD, -1), "kmax"),
    (lambda: moments.lemma3_constant(RAD, RAD), "kmax"),
    (lambda: moments.wasserstein2_1d(RAD, 3.0), "nu"),
    (lambda: moments.rademacher_delta_n([0.0, 1.0], kernel="cubic"), "kernel"),
    (lambda: moments.rademacher_delta_n([0.5, 1.0]), "grid"),
    (lambda: moments.rademacher_delta_n([0.0, 1.0], inner=3), "inner"),
    (lambda: moments.step_kl_rademacher(0.0, -0.1), "delta"),
])
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
