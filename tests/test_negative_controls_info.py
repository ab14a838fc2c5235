"""Negative controls for chapters 8 and 9 (Reeves-Pfister): each check of the chapters, given a
perturbed statement (or the source's uncorrected version), must fail; the true one passes."""
import numpy as np
import pytest
from scipy import stats

import companion as cp
from companion import info, verify

RAD = cp.targets.rademacher()
BIM = cp.targets.bimodal()
GAU = cp.gaussian([0.0], [[2.0]])


def mixture_cdf(mix):
    w, m, s = mix.weights, mix.means[:, 0], np.sqrt(mix.covs[:, 0, 0])
    return lambda v: stats.norm.cdf((np.asarray(v)[:, None] - m) / s) @ w


def test_comparison_law_covariance_is_min_not_product():
    grid = info.geometric_grid(4.0, 5, 1.4)
    X, Y = info.comparison_process(BIM, grid, 40_000, seed=1)
    W = Y[:, 1:, 0] - grid[1:] * X
    cov, se = cp.stats.covariance_with_stderr(W)
    t = grid[1:]
    verify.close("rp.comparison_law", cov, np.minimum.outer(t, t), stderr=se)
    with pytest.raises(AssertionError):
        verify.close("rp.comparison_law", cov, np.sqrt(np.outer(t, t)), stderr=se)
    with pytest.raises(AssertionError):   # Y_n / t_n has noise variance 1/t_n, not 1/t_n^2
        verify.ks("rp.comparison_law", Y[:, -1, 0] / t[-1], mixture_cdf(BIM.channel(1.0, 1 / t[-1])))


def test_markov_source_sign_gives_wrong_posterior():
    """C17: with exp{+|v - delta x|^2 / (2 delta)} the log-odds are -2 Y_k, so the source's
    posterior mean is -tanh Y_n: its residual X + tanh Y_n is correlated with the path, while
    X - tanh Y_n is orthogonal to 1, Y_1, ..., Y_n."""
    grid = info.geometric_grid(4.0, 5, 1.4)
    X, Y = info.comparison_process(RAD, grid, 20_000, seed=2)
    path = np.column_stack([np.ones(len(X)), Y[:, 1:, 0]])
    r, se = cp.stats.mean_stderr((X[:, 0] - np.tanh(Y[:, -1, 0]))[:, None] * path)
    verify.close("rp.markov", r, 0.0, stderr=se)
    r_src, se_src = cp.stats.mean_stderr((X[:, 0] + np.tanh(Y[:, -1, 0]))[:, None] * path)
    with pytest.raises(AssertionError):
        verify.close("rp.markov", r_src, 0.0, stderr=se_src)


def test_markov_independent_increments_fail():
    """A comparison process whose noise is redrawn at every time (no Brownian path): the
    residual X - tanh Y_n is no longer orthogonal to the earlier Y_k."""
    grid = info.geometric_grid(4.0, 5, 1.4)
    X, _ = info.comparison_process(RAD, grid, 20_000, seed=2)
    t = grid[1:]
    Y = t[None, :] * X + np.sqrt(t)[None, :] * cp.rng.normals(len(X), t.size, seed=9)
    path = np.column_stack([np.ones(len(X)), Y])
    r, se = cp.stats.mean_stderr((X[:, 0] - np.tanh(Y[:, -1]))[:, None] * path)
    with pytest.raises(AssertionError):
        verify.close("rp.markov", r, 0.0, stderr=se)


def test_markov_reversed_variance_is_delta_next():
    grid = info.geometric_grid(4.0, 5, 1.4)
    X, Y = info.comparison_process(RAD, grid, 60_000, seed=3)
    t, k = grid[1:], 1
    B = np.sqrt(t[k + 1] / t[k]) * Y[:, k + 1, 0] - np.sqrt(t[k] / t[k + 1]) * Y[:, k + 2, 0]
    v, se = cp.stats.variance_stderr(B)
    verify.close("rp.markov", v, np.diff(grid)[k + 1], stderr=se)
    with pytest.raises(AssertionError):    # the step before, delta_k
        verify.close("rp.markov", v, np.diff(grid)[k], stderr=se)


def test_immse_missing_half_fails():
    a, b = 0.5, 3.0
    lhs = info.mutual_information(BIM, b) - info.mutual_information(BIM, a)
    area = info.mmse_area(BIM, np.linspace(a, b, 9))
    verify.close("rp.immse", lhs, 0.5 * area, atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("rp.immse", lhs, area, atol=1e-10)


def test_sandwich_reversed_fails():
    grid = info.geometric_grid(10.0, 8, 1.3)
    M, I = info.mmse(RAD, grid), info.mutual_information(RAD, grid)
    d = np.diff(grid)
    verify.leq("rp.sandwich", np.diff(I), d / 2 * M[:-1])
    with pytest.raises(AssertionError):
        verify.leq("rp.sandwich", np.diff(I), d / 2 * M[1:])


def test_lemma2_with_plus_I_fails():
    """C18: the proof's display, taken literally, gives +I(t_n)."""
    grid = np.linspace(0.0, 3.0, 6)
    d, M = np.diff(grid), info.mmse(GAU, grid[:-1])
    exact = info.gaussian_path_kl(GAU, grid)
    I = info.mutual_information(GAU, 3.0)
    verify.close("rp.lemma2", np.sum(d / 2 * M) - I, exact, atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("rp.lemma2", np.sum(d / 2 * M) + I, exact, atol=1e-10)
    # the intermediate display: E log p_k + (d/2) log(2 pi e delta) is -(I_k - I_{k-1})
    lhs = -0.5 * np.log1p(d[1] * 2.0 / (1 + 2.0 * grid[1]))
    inc = info.mutual_information(GAU, grid[2]) - info.mutual_information(GAU, grid[1])
    with pytest.raises(AssertionError):
        verify.close("rp.lemma2", lhs, inc, atol=1e-12)


def test_lemma2_without_score_error_term_fails():
    grid = np.linspace(0.0, 3.0, 6)
    d, M = np.diff(grid), info.mmse(GAU, grid[:-1])
    base = np.sum(d / 2 * M) - info.mutual_information(GAU, 3.0)
    with pytest.raises(AssertionError):
        verify.close("rp.lemma2", base, info.gaussian_path_kl(GAU, grid, gain=1.3), atol=1e-10)


def test_chain_rule_against_wrong_lemma2():
    grid = np.linspace(0.0, 4.0, 9)
    chain = info.delta_n(RAD, grid, method="chain")
    d, M = np.diff(grid), info.mmse(RAD, grid[:-1])
    verify.close("rp.chain_rule", chain, np.sum(d / 2 * M) - info.mutual_information(RAD, 4.0),
                 atol=1e-10)
    with pytest.raises(AssertionError):     # right end points instead of left ones
        verify.close("rp.chain_rule", chain,
                     np.sum(d / 2 * info.mmse(RAD, grid[1:])) - info.mutual_information(RAD, 4.0),
                     atol=1e-10)


def test_mean_score_wrong_scaling_fails():
    t = 1.7
    y = BIM.channel(t, np.sqrt(t)).sample(500, seed=3)
    post = BIM.posterior_mean(y, a=t, sigma=np.sqrt(t))
    score = BIM.channel(t, np.sqrt(t)).score(y)
    verify.close("rp.mean_score", post, y / t + score, atol=1e-12)
    with pytest.raises(AssertionError):
        verify.close("rp.mean_score", post, y / t + t * score, atol=1e-12)


def test_theorem1_with_delta_min_fails():
    grid = info.geometric_grid(8.0, 10, 1.4)
    dn = info.delta_n(RAD, grid)
    verify.leq("rp.theorem1", dn, 0.5 * np.diff(grid).max() * 1.0)
    with pytest.raises(AssertionError):
        verify.leq("rp.theorem1", dn, 0.5 * np.diff(grid).min() * 1.0)


def test_telescoped_with_delta_min_fails():
    grid = info.geometric_grid(8.0, 10, 1.4)
    M = info.mmse(RAD, grid)
    dn = info.delta_n(RAD, grid)
    verify.leq("rp.telescoped", dn, 0.5 * np.diff(grid).max() * (M[0] - M[-1]))
    with pytest.raises(AssertionError):
        verify.leq("rp.telescoped", dn, 0.5 * np.diff(grid).min() * (M[0] - M[-1]))


def test_theorem2_without_alpha_minus_one_fails_and_c19():
    T, n, alpha = 20.0, 10, 1.3
    grid = info.geometric_grid(T, n, alpha)
    dn = info.delta_n(GAU, grid)
    bound = info.theorem2_bound(GAU, T, n, alpha)
    verify.leq("rp.theorem2", dn, bound)
    with pytest.raises(AssertionError):
        verify.leq("rp.theorem2", dn, bound / (alpha - 1) * (alpha - 1) ** 2)
    # C19: the source's formula is alpha delta_n, not delta_n
    T, n, alpha = 50.0, 12, 1.2
    last = np.diff(info.geometric_grid(T, n, alpha))[-1]
    formula = (alpha - 1) * T + (alpha - 1) * T / (alpha**n - 1)
    verify.close("rp.theorem2", alpha * last, formula, atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("rp.theorem2", last, formula, atol=1e-9)


def test_corollary1_quarter_bound_fails():
    """The truth is about d (log T)^2 / (4n): a bound with 4n in place of 2n fails (C20)."""
    std = cp.gaussian([0.0], [[1.0]])
    n = 100
    Tn = float(n) ** 2
    alpha = (Tn * np.log(Tn)) ** (1.0 / n)
    dn = info.delta_n(std, info.geometric_grid(Tn, n, alpha))
    verify.leq("rp.corollary1", dn, np.log(Tn) ** 2 / (2 * n))
    with pytest.raises(AssertionError):
        verify.leq("rp.corollary1", dn, np.log(Tn) ** 2 / (4 * n))


def test_gaussian_max_reversed_fails():
    s = np.linspace(0.5, 20, 10)
    I = info.mutual_information(BIM, s)
    verify.leq("rp.gaussian_max", I, 0.5 * np.log1p(s * BIM.cov()[0, 0]))
    with pytest.raises(AssertionError):
        verify.leq("rp.gaussian_max", 0.5 * np.log1p(s * BIM.cov()[0, 0]), I)


def test_figure1_full_area_is_not_delta():
    grid = np.linspace(0.0, 4.0, 9)
    area = info.mmse_area(RAD, grid)
    riemann = np.sum(np.diff(grid) * info.mmse(RAD, grid[:-1]))
    dn = info.delta_n(RAD, grid, method="chain")
    verify.close("rp.figure1", (riemann - area) / 2, dn, atol=1e-10)
    with pytest.raises(AssertionError):
        verify.close("rp.figure1", riemann - area, dn, atol=1e-10)


def test_sampler_does_not_reproduce_the_target_variance():
    """C21: the catalogue's first version (Var Z_n = c t_n^2 + t_n) fails."""
    grid = np.linspace(0.0, 4.0, 5)
    z = info.sampler(GAU, grid, 50_000, seed=4)[:, -1, 0]
    v, se = cp.stats.variance_stderr(z)
    verify.close("rp.sampler", v, info.gaussian_path_laws(GAU, grid)[3][-1, -1], stderr=se)
    with pytest.raises(AssertionError):
        verify.close("rp.sampler", v, 2.0 * 16 + 4, stderr=se)


def test_posterior_sampling_mean_sampler_fails():
    grid = info.geometric_grid(4.0, 4, 1.4)
    target = mixture_cdf(BIM.channel(1.0, 1.0 / np.sqrt(grid[-1])))
    y = info.posterior_sampler(BIM, grid, 40_000, seed=5)[:, -1, 0]
    verify.ks("rp.posterior_sampling", y / grid[-1], target)
    z = info.sampler(BIM, grid, 40_000, seed=5)[:, -1, 0]
    with pytest.raises(AssertionError):
        verify.ks("rp.posterior_sampling", z / grid[-1], target)


def test_marginal_dpi_reversed_fails():
    grid = np.linspace(0.0, 4.0, 5)
    mY, KY, mZ, KZ = info.gaussian_path_laws(GAU, grid)
    kl = cp.divergences.gaussian_kl(mY[-1:], KY[-1:, -1:], mZ[-1:], KZ[-1:, -1:])
    dn = info.delta_n(GAU, grid)
    verify.leq("rp.marginal_dpi", kl, dn)
    with pytest.raises(AssertionError):
        verify.leq("rp.marginal_dpi", dn, kl)


def test_entropy_limit_in_bits_fails():
    I = info.mutual_information(RAD, 50.0)
    verify.close("rp.entropy_limit", I, np.log(2.0), atol=1e-9)
    with pytest.raises(AssertionError):
        verify.close("rp.entropy_limit", I, 1.0, atol=1e-9)


def test_sharp_rate_rejects_the_telescoped_limit_and_a_dropped_end_term():
    """n Delta_n -> (T/4)(M(0) - M(T)): the telescoped bound's (T/2)(M(0) - M(T)) and
    (T/4) tr Cov X both miss the extrapolated rate by far more than the chapter's 1e-4."""
    T = 4.0
    nd = [n * info.delta_n(RAD, np.linspace(0.0, T, n + 1), method="chain") for n in (64, 128)]
    rate = 2 * nd[1] - nd[0]
    M0, MT = info.mmse(RAD, 0.0), info.mmse(RAD, T)
    verify.close("rp.sharp_rate", rate, T * (M0 - MT) / 4, rtol=1e-4)
    for wrong in (T * (M0 - MT) / 2, T * M0 / 4):
        with pytest.raises(AssertionError):
            verify.close("rp.sharp_rate", rate, wrong, rtol=1e-4)


def test_figure1_old_caption_fails():
    """The first edition's caption: geometric steps with ratio 1.5 leave less red on [0, 4]."""
    geo = info.delta_n(RAD, info.geometric_grid(4.0, 8, 1.5))
    with pytest.raises(AssertionError):
        verify.leq("rp.figure1", geo, info.delta_n(RAD, np.linspace(0.0, 4.0, 9)))
