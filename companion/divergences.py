"""Divergences between laws: closed-form Gaussian KL, quadrature KL and TV in one or two
dimensions, and a Monte Carlo KL with its standard error in any dimension."""
import numpy as np

from ._validate import check_array, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["gaussian_kl", "kl_grid", "tv_grid", "kl_mc", "grid_for", "gaussian_w2"]


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


def gaussian_w2(m1, c1, m2, c2):
    """W_2 (not squared) between N(m1, c1) and N(m2, c2):
    ``W_2^2 = |m1 - m2|^2 + tr c1 + tr c2 - 2 tr (c1^{1/2} c2 c1^{1/2})^{1/2}``.

    Symmetric eigen-square roots; for a rank-deficient covariance they lose about 1e-8.

    Examples
    --------
    >>> round(gaussian_w2([0.0], [[1.0]], [1.0], [[4.0]]) ** 2, 12)
    2.0
    """
    m1 = check_array(m1, "m1", ndim=1)
    d = m1.shape[0]
    m2 = check_array(m2, "m2", shape=(d,))
    c1 = check_array(c1, "c1", shape=(d, d))
    c2 = check_array(c2, "c2", shape=(d, d))

    def psd_sqrt(c, name):
        if not np.allclose(c, c.T, atol=1e-12 * max(1.0, np.abs(c).max())):
            raise ValueError(f"{name} must be symmetric")
        lam, vec = np.linalg.eigh(0.5 * (c + c.T))
        if lam.min() < -1e-12 * max(1.0, lam.max()):
            raise ValueError(f"{name} must be positive semi-definite")
        return (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T

    r1 = psd_sqrt(c1, "c1")
    psd_sqrt(c2, "c2")
    cross = psd_sqrt(r1 @ c2 @ r1, "c1^{1/2} c2 c1^{1/2}")
    w2 = float(np.sum((m1 - m2) ** 2) + np.trace(c1) + np.trace(c2) - 2.0 * np.trace(cross))
    return float(np.sqrt(max(w2, 0.0)))
