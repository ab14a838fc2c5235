"""Negative controls for chapter 9 (moment matching): each check of the chapter, given a
perturbed statement (a missing power, a wrong factorial, the wrong fit range, the naive
integrand), must fail; the true one passes."""
import math

import numpy as np
import pytest
from scipy import integrate, stats

import companion as cp
from companion import info, moments, verify

RAD = cp.targets.rademacher()
STD = cp.gaussian([0.0], [[1.0]])
WIDE = cp.gaussian([0.0], [[2.0]])
T = 4.0


# ---------------------------------------------------------------------------- mm.remark5
def _one_step(paths, dlt):
    z1, inc = paths[:, 1, 0], paths[:, 2, 0] - paths[:, 1, 0]
    resid = np.column_stack([inc - dlt * np.tanh(z1), inc**2 - dlt**2 - dlt])
    m, se, _ = cp.stats.binned_means(z1, resid, np.linspace(-3.0, 3.0, 13))
    return m, se


def test_remark5_mean_only_kernel_misses_the_second_moment():
    grid = np.array([0.0, 1.0, 1.5])
    m, se = _one_step(info.sampler(RAD, grid, 100_000, seed=11, kernel="moment2"), 0.5)
    verify.close("mm.remark5", m, 0.0, stderr=se)
    m, se = _one_step(info.sampler(RAD, grid, 100_000, seed=11, kernel="mean"), 0.5)
    verify.close("mm.remark5", m[:, 0], 0.0, stderr=se[:, 0])       # the mean still matches
    with pytest.raises(AssertionError):
        verify.close("mm.remark5", m[:, 1], 0.0, stderr=se[:, 1])


def test_remark5_logdet_trace_and_shifted_versions_fail():
    """The closed form with delta tr Sigma (Lemma 2's term) or with Sigma at the step's end
    misses the exact Delta_n by far more than the chapter's 1e-9."""
    grid = np.linspace(0.0, T, 33)
    exact = moments.rademacher_delta_n(grid, "moment2")
    dt = np.diff(grid)
    mi = info.mutual_information(RAD, T)
    verify.close("mm.remark5_logdet", exact, 0.5 * sum(
        info._mixture_info(RAD, float(t), float(d))[2] for t, d in zip(grid[:-1], dt)) - mi,
        rtol=1e-9)
    trace = 0.5 * np.sum(dt * info.mmse(RAD, grid[:-1])) - mi
    shifted = 0.5 * sum(info._mixture_info(RAD, float(t), float(d))[2]
                        for t, d in zip(grid[1:], dt)) - mi
    for wrong in (trace, shifted):
        with pytest.raises(AssertionError):
            verify.close("mm.remark5_logdet", exact, wrong, rtol=1e-9)


def test_remark5_third_moment_is_not_matched():
    """The posterior's third central moment is -2 f (1 - f^2), not the Gaussian kernel's 0."""
    y, dlt = 0.6, 0.3
    f = math.tanh(y)
    dens = lambda x: (0.5 * (1 + f) * stats.norm.pdf(x, 1, 1 / math.sqrt(dlt))
                      + 0.5 * (1 - f) * stats.norm.pdf(x, -1, 1 / math.sqrt(dlt)))
    third = integrate.quad(lambda x: (x - f) ** 3 * dens(x), -40, 40, epsabs=1e-13)[0]
    verify.close("mm.remark5", third, -2 * f * (1 - f * f), atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("mm.remark5", third, 0.0, atol=1e-9)


# ----------------------------------------------------------------------- mm.gaussian_exact
def _var_zn(c, grid, noise):
    v = 0.0
    for tp, dk in zip(grid[:-1], np.diff(grid)):
        sig = c / (1 + c * tp)
        v = (1 + dk * sig) ** 2 * v + noise(dk, sig)
    return v


def test_gaussian_exact_needs_delta_squared_sigma():
    grid = np.linspace(0.0, T, 9)
    right = _var_zn(2.0, grid, lambda d, s: d * d * s + d)
    wrong = _var_zn(2.0, grid, lambda d, s: d * s + d)              # one power of delta short
    verify.close("mm.gaussian_exact", right, 2.0 * T**2 + T, rtol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("mm.gaussian_exact", wrong, 2.0 * T**2 + T, rtol=1e-12)
    with pytest.raises(AssertionError):     # the mean kernel is not exact for Gaussian data
        verify.close("mm.gaussian_exact", info.gaussian_path_kl(WIDE, grid), 0.0, atol=1e-9)


# --------------------------------------------------------------------------- mm.theorem3
@pytest.fixture(scope="module")
def rates():
    ns = np.array([16, 32, 64, 128, 256])
    d1 = [moments.rademacher_delta_n(np.linspace(0, T, n + 1), "mean", inner=40) for n in ns]
    d2 = [moments.rademacher_delta_n(np.linspace(0, T, n + 1), "moment2", inner=40) for n in ns]
    return ns, np.array(d1), np.array(d2)


def test_theorem3_rates_are_m_not_swapped(rates):
    ns, d1, d2 = rates
    verify.slope("mm.theorem3", ns[-3:], d1[-3:], expected=-1, tol=0.05)
    verify.slope("mm.theorem3", ns[-3:], d2[-3:], expected=-2, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("mm.theorem3", ns[-3:], d1[-3:], expected=-2, tol=0.05)
    with pytest.raises(AssertionError):    # Theorem 1's rate for the second-order kernel
        verify.slope("mm.theorem3", ns[-3:], d2[-3:], expected=-1, tol=0.05)


def test_theorem3_m2_slope_is_asymptotic(rates):
    """Fitted over all of n = 16..256 the m = 2 slope is still far from -2."""
    ns, _, d2 = rates
    with pytest.raises(AssertionError):
        verify.slope("mm.theorem3", ns, d2, expected=-2, tol=0.05)
    p = np.log2(d2[:-1] / d2[1:])
    verify.close("mm.theorem3", 2 * p[-1] - p[-2], 2.0, atol=0.01)
    with pytest.raises(AssertionError):     # without extrapolation
        verify.close("mm.theorem3", p[-2], 2.0, atol=0.01)


def test_theorem3_chain_rule_is_not_lemma2_with_the_wrong_sign():
    grid = np.linspace(0, T, 9)
    dn = moments.rademacher_delta_n(grid)
    M = info.mmse(RAD, grid[:-1])
    right = float(np.sum(0.5 * np.diff(grid) * M) - info.mutual_information(RAD, T))
    wrong = float(np.sum(0.5 * np.diff(grid) * M) + info.mutual_information(RAD, T))
    verify.close("mm.theorem3", dn, right, rtol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("mm.theorem3", dn, wrong, rtol=1e-9)


# ----------------------------------------------------------------------------- mm.lemma3
def test_lemma3_slope_needs_small_s():
    small, large = np.geomspace(1e-3, 1e-2, 7), np.geomspace(0.025, 0.4, 7)
    verify.slope("mm.lemma3", small, moments.smoothed_kl(RAD, STD, small), expected=4, tol=0.05)
    with pytest.raises(AssertionError):      # pre-asymptotic: about 3.64
        verify.slope("mm.lemma3", large, moments.smoothed_kl(RAD, STD, large), expected=4,
                     tol=0.05)


def test_lemma3_exponent_is_m_plus_one_not_m():
    s = np.geomspace(1e-3, 1e-2, 7)
    with pytest.raises(AssertionError):
        verify.slope("mm.lemma3", s, moments.smoothed_kl(RAD, STD, s), expected=3, tol=0.05)


def test_lemma3_naive_integrand_fails_at_tiny_s():
    s = np.geomspace(1e-5, 1e-4, 5)
    verify.slope("mm.lemma3", s, moments.smoothed_kl(RAD, STD, s), expected=4, tol=0.05)
    with pytest.raises(AssertionError):
        verify.slope("mm.lemma3", s, moments.smoothed_kl(RAD, STD, s, integrand="naive"),
                     expected=4, tol=0.05)


# -------------------------------------------------------------------- mm.lemma3_constant
def _extrapolated_ratio(mu, nu, C, m, integrand="stable"):
    s = np.array([4e-3, 2e-3, 1e-3])
    r = moments.smoothed_kl(mu, nu, s, integrand=integrand) / (C * s ** (m + 1))
    return (8 * r[2] - 6 * r[1] + r[0]) / 3


@pytest.mark.parametrize("nu", [STD, WIDE])
def test_lemma3_constant_factorial_is_m_plus_one(nu):
    m, C = moments.lemma3_constant(RAD, nu)
    verify.close("mm.lemma3_constant", _extrapolated_ratio(RAD, nu, C, m), 1.0, atol=1e-5)
    wrong = C * math.factorial(m + 1) / math.factorial(m)             # (m+1)! -> m!
    with pytest.raises(AssertionError):
        verify.close("mm.lemma3_constant", _extrapolated_ratio(RAD, nu, wrong, m), 1.0,
                     atol=1e-5)
    with pytest.raises(AssertionError):                                 # without the 1/2
        verify.close("mm.lemma3_constant", _extrapolated_ratio(RAD, nu, 2 * C, m), 1.0,
                     atol=1e-5)


def test_lemma3_constant_unextrapolated_ratio_is_off():
    m, C = moments.lemma3_constant(RAD, STD)
    r = moments.smoothed_kl(RAD, STD, 4e-3) / (C * 4e-3**4)
    with pytest.raises(AssertionError):
        verify.close("mm.lemma3_constant", r, 1.0, atol=1e-5)


# -------------------------------------------------------------------- mm.convexity_bound
def test_convexity_bound_factor_half_is_sharp():
    s = np.array([0.1, 1.0, 10.0])
    a, b = cp.discrete([[1.5]], [1.0]), cp.discrete([[-0.5]], [1.0])
    w2sq = moments.wasserstein2_1d(a, b) ** 2
    kl = moments.smoothed_kl(a, b, s)
    verify.close("mm.convexity_bound", kl, 0.5 * s * w2sq, rtol=1e-10)
    verify.leq("mm.convexity_bound", kl, 0.5 * s * w2sq, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.leq("mm.convexity_bound", kl, 0.25 * s * w2sq)
    with pytest.raises(AssertionError):       # W_2 in place of W_2^2 (distance 2 > 1)
        verify.leq("mm.convexity_bound", kl, 0.5 * s * math.sqrt(w2sq))


def test_convexity_bound_w2_is_not_the_independent_coupling():
    w2sq = moments.wasserstein2_1d(RAD, STD) ** 2
    verify.close("mm.convexity_bound", w2sq, 2 - 2 * math.sqrt(2 / math.pi), atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("mm.convexity_bound", w2sq, 2.0, atol=1e-10)


def test_sharp_rate_of_the_remark5_kernel_rejects_wrong_constants():
    """n^2 Delta_n -> (T^2/12) int E kappa_3^2: the constant 1/6, or E Sigma^3 in place of
    E kappa_3^2, miss the twice-extrapolated rate by far more than 1e-3."""
    dens = lambda y, t: stats.norm.pdf(y, t, np.sqrt(t))
    expect = lambda f, t: integrate.quad(lambda y: f(np.tanh(y)) * dens(y, t), -30, 30,
                                         points=[0.0, t], epsabs=1e-13, limit=400)[0]
    k3 = lambda th: 4 * th**2 * (1 - th**2) ** 2
    s3 = lambda th: (1 - th**2) ** 3
    area = lambda f: integrate.quad(lambda t: expect(f, t), 0.0, T, epsabs=1e-11, limit=200)[0]
    ns = np.array([32, 64, 128])
    a = ns**2 * np.array([moments.rademacher_delta_n(np.linspace(0, T, n + 1), "moment2") for n in ns])
    r = 2 * a[1:] - a[:-1]
    rate = (4 * r[1] - r[0]) / 3
    verify.close("mm.sharp_rate", rate, T**2 / 12 * area(k3), rtol=1e-3)
    for wrong in (T**2 / 6 * area(k3), T**2 / 12 * area(s3)):
        with pytest.raises(AssertionError):
            verify.close("mm.sharp_rate", rate, wrong, rtol=1e-3)
