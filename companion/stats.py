"""Statistics helpers shared by every chapter: means, variances and covariances with their
standard errors, binned regression, log-log slopes with the standard error of the slope, and
the Edgeworth offset that tells when a Kolmogorov-Smirnov test of a standardised statistic is
fair.

A chapter never re-derives a standard error: it calls one of these, and ``verify`` turns the
error into a tolerance (a stated multiple, usually 5). Each helper's error formula is tested for
coverage in ``tests/test_stats.py``: over repeated simulations, the nominal fraction of
intervals contains the truth.
"""
import numpy as np
from numba import njit

from ._validate import check_array

__all__ = ["mean_stderr", "variance_stderr", "binned_means", "covariance_with_stderr",
           "loglog_slope_stderr", "edgeworth_ks_offset"]


def mean_stderr(x, axis=0):
    """Sample mean of ``x`` along ``axis`` and its standard error ``sd / sqrt(n)``.

    Examples
    --------
    >>> m, se = mean_stderr([1.0, 2.0, 3.0, 4.0])
    >>> float(m), round(float(se), 4)
    (2.5, 0.6455)
    """
    v = check_array(x, "x")
    if v.ndim == 0:
        raise ValueError("x must have at least one axis")
    n = v.shape[axis]
    if n < 2:
        raise ValueError("x must hold at least 2 values along axis")
    return v.mean(axis=axis), v.std(axis=axis, ddof=1) / np.sqrt(n)


def variance_stderr(x):
    """Unbiased sample variance of the 1-D sample ``x`` and its standard error.

    The error is the delta-method one, ``sqrt((m4 - s^4 (n - 3)/(n - 1)) / n)`` with ``m4`` the
    fourth central moment: it needs no Gaussian assumption (for Gaussian data it is close to
    ``s^2 sqrt(2 / (n - 1))``).

    Examples
    --------
    >>> import numpy as np
    >>> from companion import rng
    >>> v, se = variance_stderr(rng.normals(40_000, 1, seed=0)[:, 0])
    >>> bool(abs(v - 1.0) < 5 * se), round(float(se), 4)
    (True, 0.007)
    """
    v = check_array(x, "x", ndim=1)
    n = v.size
    if n < 4:
        raise ValueError("x must hold at least 4 values")
    c = v - v.mean()
    s2 = float(np.sum(c * c) / (n - 1))
    m4 = float(np.mean(c**4))
    var_s2 = max(m4 - s2 * s2 * (n - 3) / (n - 1), 0.0) / n
    return s2, float(np.sqrt(var_s2))


@njit(cache=True)
def _binned_kernel(key, values, edges, sums, sumsq, counts):
    n, k = values.shape
    nb = edges.shape[0] - 1
    for i in range(n):
        u = key[i]
        if u < edges[0] or u >= edges[nb] or u != u:
            continue
        lo, hi = 0, nb
        while hi - lo > 1:                 # edges[lo] <= u < edges[hi]
            mid = (lo + hi) // 2
            if u >= edges[mid]:
                lo = mid
            else:
                hi = mid
        counts[lo] += 1
        for c in range(k):
            sums[lo, c] += values[i, c]
            sumsq[lo, c] += values[i, c] * values[i, c]


def binned_means(key, values, edges):
    """Regression by bins: the mean of ``values`` over the points whose ``key`` falls in each bin.

    Parameters
    ----------
    key : array_like, shape (n,)
    values : array_like, shape (n,) or (n, k)
    edges : array_like, shape (B + 1,), increasing
        Bin ``b`` is ``[edges[b], edges[b+1])``; points outside ``[edges[0], edges[-1])`` are
        ignored.

    Returns
    -------
    mean, stderr : ndarray, shape (B,) or (B, k)
        Bin means and their standard errors (NaN for bins with fewer than two points).
    counts : ndarray of int, shape (B,)

    Examples
    --------
    >>> m, se, c = binned_means([0.1, 0.2, 0.7, 0.9], [1.0, 3.0, 5.0, 5.0], [0.0, 0.5, 1.0])
    >>> m, c
    (array([2., 5.]), array([2, 2]))
    """
    k_ = check_array(key, "key", ndim=1)
    v = check_array(values, "values")
    single = v.ndim == 1
    v2 = v[:, None] if single else v
    if v2.ndim != 2 or v2.shape[0] != k_.shape[0]:
        raise ValueError(f"values must have shape ({k_.shape[0]},) or ({k_.shape[0]}, k)")
    e = check_array(edges, "edges", ndim=1)
    if e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be strictly increasing with at least 2 entries")
    B = e.size - 1
    sums = np.zeros((B, v2.shape[1]))
    sumsq = np.zeros((B, v2.shape[1]))
    counts = np.zeros(B, dtype=np.int64)
    _binned_kernel(k_, np.ascontiguousarray(v2), e, sums, sumsq, counts)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = counts[:, None].astype(float)
        mean = sums / c
        var = (sumsq - c * mean**2) / (c - 1)
        se = np.sqrt(np.clip(var, 0.0, None) / c)
    se[counts < 2] = np.nan
    mean[counts < 1] = np.nan
    if single:
        mean, se = mean[:, 0], se[:, 0]
    return mean, se, counts


def covariance_with_stderr(z):
    """Sample covariance of the rows of ``z`` (shape (R, p)) and the standard error of each entry.

    The standard error of entry (a, b) is ``sd((z_a - mean_a)(z_b - mean_b)) / sqrt(R)``, the
    delta-method error of the covariance estimate (it needs no Gaussian assumption).

    Examples
    --------
    >>> import numpy as np
    >>> from companion import rng
    >>> c, se = covariance_with_stderr(rng.normals(20_000, 2, seed=0))
    >>> bool(np.all(np.abs(c - np.eye(2)) < 5 * se))
    True
    """
    z = check_array(z, "z", ndim=2)
    R = z.shape[0]
    if R < 3:
        raise ValueError("z must have at least 3 rows")
    c = z - z.mean(axis=0)
    prod = c[:, :, None] * c[:, None, :]
    cov = prod.sum(axis=0) / (R - 1)
    se = prod.std(axis=0, ddof=1) / np.sqrt(R)
    return cov, se


def loglog_slope_stderr(x, runs):
    """Standard error of the log-log slope fitted to the means of independent replicates.

    ``verify.slope`` fits ``log mean_i = c + p log x_i`` by least squares. With ``r``
    independent positive replicates per point (``runs``, shape ``(len(x), r)``), the delta
    method gives ``Var(log mean_i) ~ v / r`` with ``v`` the squared coefficient of variation of
    the replicates; ``v`` is pooled over the points (for an excess loss that scales like
    ``C / x`` the relative spread does not depend on ``x``), and the slope, a fixed linear
    combination ``sum_i w_i log mean_i``, has variance ``sum_i w_i^2 v / r``.

    Parameters
    ----------
    x : array_like, shape (m,), positive, m >= 3
    runs : array_like, shape (m, r), positive, r >= 2

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0])
    >>> runs = np.outer(1 / x, [0.9, 1.1])              # relative sd 0.1414 at every point
    >>> round(loglog_slope_stderr(x, runs), 4)          # (0.1414 / sqrt 2) / (sqrt 2 log 2)
    0.102
    """
    x = check_array(x, "x", ndim=1)
    y = check_array(runs, "runs", ndim=2)
    m, r = y.shape
    if x.size != m or m < 3 or r < 2:
        raise ValueError(f"runs must have shape ({x.size}, r) with r >= 2, and x at least 3 "
                         f"entries; got x {x.shape}, runs {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and runs must be positive")
    lx = np.log(x)
    w = (lx - lx.mean()) / np.sum((lx - lx.mean()) ** 2)
    cv2 = np.mean(np.var(y, axis=1, ddof=1) / np.mean(y, axis=1) ** 2)
    return float(np.sqrt(cv2 / r * np.sum(w * w)))


def edgeworth_ks_offset(u):
    """First-order distance between the law of a standardised statistic and N(0, 1).

    For a statistic ``u`` standardised by its *limit* variance, with mean ``mu`` and skewness
    ``gamma`` of order ``n^{-1/2}``, the Edgeworth expansion gives
    ``P(u <= x) - Phi(x) = -phi(x) (mu + gamma (x^2 - 1) / 6) + O(1/n)``; this returns the
    supremum over x of the first-order term, with ``mu`` and ``gamma`` estimated from the
    sample ``u``. It is the offset that a Kolmogorov-Smirnov test of ``u`` against
    ``Phi`` sees even when the limit theorem is right: the test is fair only when the
    offset is well below its critical value.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import rng
    >>> u = rng.normals(100_000, 1, seed=0)[:, 0] + 0.1       # shifted by 0.1: 0.1 phi(0)
    >>> round(edgeworth_ks_offset(u), 2)
    0.04
    """
    v = check_array(u, "u", ndim=1)
    if v.size < 3:
        raise ValueError("u must hold at least 3 values")
    mu = v.mean()
    c = v - mu
    gamma = np.mean(c**3) / np.mean(c**2) ** 1.5
    xs = np.linspace(-8.0, 8.0, 3201)
    phi = np.exp(-0.5 * xs**2) / np.sqrt(2.0 * np.pi)
    return float(np.max(np.abs(phi * (mu + gamma * (xs**2 - 1.0) / 6.0))))
