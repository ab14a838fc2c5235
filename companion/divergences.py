"""Divergences between laws: closed-form Gaussian KL, quadrature KL and TV in one or two
dimensions, and a Monte Carlo KL with its standard error in any dimension."""
import numpy as np

from ._validate import check_array, check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["gaussian_kl", "kl_grid", "tv_grid", "kl_mc", "grid_for"]


def gaussian_kl(m1, c1, m2, c2):
    """KL(N(m1, c1) || N(m2, c2)) in closed form.

    Examples
    --------
    >>> round(gaussian_kl([1.0], [[1.0]], [0.0], [[1.0]]), 12)
    0.5
    """
    m1 = check_array(m1, "m1", ndim=1)
    d = m1.shape[0]
    m2 = check_array(m2, "m2", shape=(d,))
    c1 = check_array(c1, "c1", shape=(d, d))
    c2 = check_array(c2, "c2", shape=(d, d))
    try:
        L2 = np.linalg.cholesky(c2)
        L1 = np.linalg.cholesky(c1)
    except np.linalg.LinAlgError:
        raise ValueError("c1 and c2 must be positive definite") from None
    A = np.linalg.solve(L2, L1)
    u = np.linalg.solve(L2, m2 - m1)
    logdet = 2.0 * (np.sum(np.log(np.diag(L2))) - np.sum(np.log(np.diag(L1))))
    return float(0.5 * (np.sum(A * A) + u @ u - d + logdet))


def grid_for(mixtures, n_points, width=10.0):
    """A tensor grid (for d = 1 or 2) covering every mixture to ``width`` standard deviations.

    Returns the points, shape (n_points**d, d), and the cell volume.
    """
    n_points = check_int(n_points, "n_points", low=3)
    d = mixtures[0].dim
    if d > 2:
        raise ValueError("grid quadrature needs d <= 2; use kl_mc")
    lo = np.full(d, np.inf)
    hi = np.full(d, -np.inf)
    for m in mixtures:
        sd = np.sqrt(np.max(np.diagonal(m.covs, axis1=1, axis2=2), axis=0))
        lo = np.minimum(lo, m.means.min(0) - width * sd.max())
        hi = np.maximum(hi, m.means.max(0) + width * sd.max())
    axes = [np.linspace(lo[j], hi[j], n_points) for j in range(d)]
    mesh = np.meshgrid(*axes, indexing="ij")
    pts = np.stack([a.ravel() for a in mesh], axis=1)
    vol = np.prod([(hi[j] - lo[j]) / (n_points - 1) for j in range(d)])
    return pts, float(vol)


def _check_pair(p, q):
    if not isinstance(p, GaussianMixture) or not isinstance(q, GaussianMixture):
        raise ValueError("p and q must be GaussianMixture objects")
    if p.dim != q.dim:
        raise ValueError(f"p and q must have the same dimension, got {p.dim} and {q.dim}")
    if not (p.has_density and q.has_density):
        raise ValueError("p and q must have densities (positive definite covariances)")


def kl_grid(p, q, n_points=2001, width=10.0):
    """KL(p || q) by the trapezoid rule on a uniform grid (d = 1 or 2).

    For smooth densities that vanish at the ends of the grid the trapezoid rule converges
    faster than any power of the spacing, so a few thousand points per axis give close to
    machine precision.
    """
    _check_pair(p, q)
    pts, vol = grid_for([p, q], n_points, width)
    lp, lq = p.logpdf(pts), q.logpdf(pts)
    return float(np.sum(np.exp(lp) * (lp - lq)) * vol)


def tv_grid(p, q, n_points=2001, width=10.0):
    """Total variation distance (1/2) int |p - q| on a uniform grid (d = 1 or 2)."""
    _check_pair(p, q)
    pts, vol = grid_for([p, q], n_points, width)
    return float(0.5 * np.sum(np.abs(p.pdf(pts) - q.pdf(pts))) * vol)


def kl_mc(p, q, n, seed):
    """Monte Carlo KL(p || q) = E_p[log p - log q] and its standard error, in any dimension.

    Returns
    -------
    estimate, stderr : float, float
    """
    _check_pair(p, q)
    n = check_int(n, "n", low=2)
    x = p.sample(n, check_seed(seed))
    r = p.logpdf(x) - q.logpdf(x)
    return float(r.mean()), float(r.std(ddof=1) / np.sqrt(n))



# ---- exact total variation and Wasserstein distance between Gaussians (chapter 7) ----

__all__ += ["gaussian_tv", "gaussian_w2"]


def _tv_1d(m1, v1, m2, v2):
    """TV between N(m1, v1) and N(m2, v2) on the line, from the crossing points of the densities."""
    from scipy.special import ndtr

    if v1 == v2:
        return float(2.0 * ndtr(abs(m1 - m2) / (2.0 * np.sqrt(v1))) - 1.0)
    if v1 > v2:                        # let N(m1, v1) be the narrower law
        m1, v1, m2, v2 = m2, v2, m1, v1
    # p1 > p2 exactly between the roots of a x^2 + b x + c = 0 (a > 0)
    a = 1.0 / v1 - 1.0 / v2
    b = -2.0 * (m1 / v1 - m2 / v2)
    c = m1 * m1 / v1 - m2 * m2 / v2 + np.log(v1 / v2)
    disc = b * b - 4.0 * a * c         # > 0: two laws with different variances cross twice
    q = -0.5 * (b + np.copysign(np.sqrt(disc), b))
    r = sorted([q / a, c / q])
    s1, s2 = np.sqrt(v1), np.sqrt(v2)
    p1 = ndtr((r[1] - m1) / s1) - ndtr((r[0] - m1) / s1)
    p2 = ndtr((r[1] - m2) / s2) - ndtr((r[0] - m2) / s2)
    return float(p1 - p2)


# Above this non-centrality the chi-square route loses its digits (R2 and nc both ~ 1/a^2 with
# a difference of order 1/a): nearly equal variances take the one-dimensional route instead.
_NC_MAX = 1e4


def _tv_isotropic(m1, v1, m2, v2):
    """TV between N(m1, v1 I) and N(m2, v2 I) in R^d, v1 != v2: the set where the narrower
    density is larger is a ball |x - c|^2 < R2, and TV = P1(ball) - P2(ball).

    Each probability is a (non-central) chi-square distribution function. As v2 / v1 -> 1 the
    ball grows into a half-space: its centre and radius run off like 1 / (1/v1 - 1/v2), and
    the chi-square route cancels away its digits (it returned NaN for relative differences of
    the variances from about 1e-14 to 1e-6). There, :func:`_ball_prob_far` computes the same
    probabilities from the radius' excess over the centre's distance, in closed form.
    """
    from scipy import stats

    if v1 > v2:
        m1, v1, m2, v2 = m2, v2, m1, v1
    d = m1.size
    a = 1.0 / v1 - 1.0 / v2
    centre = (m1 / v1 - m2 / v2) / a
    dm2 = float(np.sum((m1 - m2) ** 2))
    R2 = (d * np.log(v2 / v1) + dm2 / (v2 - v1)) / a     # the ball |x - centre|^2 < R2
    # R2 - |m_i - c|^2 without cancellation: (d log(v2/v1) + dm2/v2) / a and
    # (d log(v2/v1) - dm2/v1) / a, from m1 - c = (m2 - m1)/(a v2), m2 - c = (m2 - m1)/(a v1)
    L = d * np.log(v2 / v1)
    excess = ((L + dm2 / v2) / a, (L - dm2 / v1) / a)
    dist = (np.sqrt(dm2) / (a * v2), np.sqrt(dm2) / (a * v1))

    def prob(i, m, v):
        nc = float(np.sum((m - centre) ** 2)) / v
        if nc == 0.0:
            return stats.chi2.cdf(R2 / v, d)
        if nc <= _NC_MAX:
            return stats.ncx2.cdf(R2 / v, d, nc)
        return _ball_prob_far(d, v, dist[i], excess[i])

    return float(prob(0, m1, v1) - prob(1, m2, v2))


def _ball_prob_far(d, v, D, E):
    """P(|X - c|^2 < D^2 + E) for X ~ N(m, v I) in R^d with |m - c| = D, computed without
    forming D^2 + E (D may be 1e8 and E of order 1).

    Along the direction of c - m, X - m has a N(0, v) coordinate u; across it, d - 1
    coordinates of squared length v r^2 with r ~ chi(d - 1). Given r, the event is
    |u - D| < sqrt(S) with S = D^2 + E - v r^2, and sqrt(S) - D = (E - v r^2) / (sqrt(S) + D)
    keeps its digits; the lower end -sqrt(S) - D lies ~D/sqrt(v) standard deviations away.
    The expectation over r is one-dimensional quadrature (scipy's quad, to 1e-13).
    """
    from scipy import integrate, stats
    from scipy.special import ndtr

    sv = np.sqrt(v)

    def given(r):
        S = D * D + E - v * r * r
        if S <= 0.0:
            return 0.0
        rs = np.sqrt(S)
        return float(ndtr((E - v * r * r) / ((rs + D) * sv)) - ndtr((-rs - D) / sv))

    n = d - 1
    if n == 0:
        return given(0.0)
    # chi(n) lies within 10 of sqrt(n) up to a mass of 2e-22 (Gaussian concentration of |G|)
    lo, hi = max(0.0, np.sqrt(n) - 10.0), np.sqrt(n) + 10.0
    val, _ = integrate.quad(lambda r: given(r) * stats.chi.pdf(r, n), lo, hi,
                            epsabs=1e-13, epsrel=1e-12, limit=200)
    return val


def gaussian_tv(m1, v1, m2, v2):
    """Total variation distance between N(m1, v1 I) and N(m2, v2 I), in closed form.

    ``m1`` and ``m2`` are scalars (the line) or vectors of length d; ``v1`` and ``v2`` are
    positive scalar variances (isotropic covariances). On the line the densities cross at the
    roots of a quadratic (one point when v1 = v2) and TV = |P1(I) - P2(I)| for the interval I
    between them; in R^d with v1 != v2 the set where the narrower density is larger is a ball,
    whose probabilities are (non-central) chi-square distribution functions; with v1 = v2 it
    is a half-space and TV = 2 Phi(|m1 - m2| / (2 sqrt v)) - 1.

    Examples
    --------
    >>> from scipy.stats import norm
    >>> tv = gaussian_tv(0.3, 1.0, 0.0, 1.0)
    >>> bool(abs(tv - (2 * norm.cdf(0.15) - 1)) < 1e-15)
    True
    >>> round(gaussian_tv([0.0] * 3, 1.0, [0.0] * 3, 1.0), 12)
    0.0
    """
    m1 = check_array(m1, "m1")
    m2 = check_array(m2, "m2")
    if m1.ndim > 1:
        raise ValueError(f"m1 must be a scalar or a vector, got shape {m1.shape}")
    if m2.shape != m1.shape:
        raise ValueError(f"m2 must have the shape of m1 {m1.shape}, got {m2.shape}")
    v1 = check_float(v1, "v1", low=0.0, low_open=True)
    v2 = check_float(v2, "v2", low=0.0, low_open=True)
    m1, m2 = np.atleast_1d(m1), np.atleast_1d(m2)
    if m1.size == 1:
        return _tv_1d(float(m1[0]), v1, float(m2[0]), v2)
    if v1 == v2:
        from scipy.special import ndtr
        return float(2.0 * ndtr(np.linalg.norm(m1 - m2) / (2.0 * np.sqrt(v1))) - 1.0)
    return _tv_isotropic(m1, v1, m2, v2)


def _psd_sqrt(c):
    w, U = np.linalg.eigh(0.5 * (c + c.T))
    return (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T


def gaussian_w2(m1, c1, m2, c2):
    """The Wasserstein-2 distance W_2(N(m1, c1), N(m2, c2)) (not squared), in closed form.

    W_2^2 = |m1 - m2|^2 + tr(c1 + c2 - 2 (c1^{1/2} c2 c1^{1/2})^{1/2}); the covariances must
    be symmetric positive semi-definite (a singular one is allowed). Scalars are read as 1-D
    laws, where W_2^2 = (m1 - m2)^2 + (sqrt c1 - sqrt c2)^2.

    Examples
    --------
    >>> round(gaussian_w2([1.0], [[4.0]], [0.0], [[1.0]]) ** 2, 12)
    2.0
    >>> round(gaussian_w2(0.0, 4.0, 0.0, 1.0), 12)
    1.0
    """
    m1 = np.atleast_1d(check_array(m1, "m1"))
    if m1.ndim != 1:
        raise ValueError(f"m1 must be a scalar or a vector, got shape {m1.shape}")
    d = m1.size
    m2 = np.atleast_1d(check_array(m2, "m2"))
    if m2.shape != (d,):
        raise ValueError(f"m2 must have shape ({d},), got {m2.shape}")
    mats = []
    for c, name in ((c1, "c1"), (c2, "c2")):
        c = check_array(c, name)
        c = c.reshape(1, 1) if c.ndim == 0 and d == 1 else c
        if c.shape != (d, d):
            raise ValueError(f"{name} must have shape ({d}, {d}), got {c.shape}")
        if not np.allclose(c, c.T, rtol=1e-12, atol=1e-14 * max(1.0, np.abs(c).max())):
            raise ValueError(f"{name} must be symmetric")
        if np.linalg.eigvalsh(0.5 * (c + c.T)).min() < -1e-12 * max(1.0, np.abs(c).max()):
            raise ValueError(f"{name} must be positive semi-definite")
        mats.append(0.5 * (c + c.T))
    c1, c2 = mats
    r1 = _psd_sqrt(c1)
    cross = np.trace(_psd_sqrt(r1 @ c2 @ r1))
    w2sq = float(np.sum((m1 - m2) ** 2) + np.trace(c1) + np.trace(c2) - 2.0 * cross)
    return float(np.sqrt(max(w2sq, 0.0)))
