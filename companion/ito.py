"""Riemann-Itô sums along simulated Brownian paths, for the appendix on Itô calculus.

:func:`brownian_sums` draws ``n`` Brownian paths on a uniform grid of ``n_steps`` steps
(counter-based noise: path ``i``, step ``k`` uses stream ``i``, counter step ``k + 1``) and
returns, per path, the sums that the Itô toolbox is about: the endpoint, the quadratic
variation, the left-point (Itô) and right-point sums of ``int B dB``, and the left-point sum of
``int Y dB`` for the exponential martingale ``Y_t = exp(B_t - t / 2)``.
:func:`dds_samples` samples the Itô integral ``int_0^s sqrt(2) e^r dB_r`` at several times
from fine midpoint sums.
"""
import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed

__all__ = ["brownian_sums", "SUMS", "dds_samples", "qv_staircase"]

#: column names of :func:`brownian_sums`
SUMS = ("B_T", "qv", "ito", "right", "exp_ito")


@njit(cache=True, parallel=True)
def _sums_kernel(T, n_steps, seed, out):
    h = T / n_steps
    sh = np.sqrt(h)
    for i in prange(out.shape[0]):
        z = np.empty(1)
        b = 0.0
        qv = 0.0
        left = 0.0
        right = 0.0
        ex = 0.0
        for k in range(n_steps):
            rng._fill_normals(seed, k + 1, i, z)
            db = sh * z[0]
            y = np.exp(b - 0.5 * k * h)
            qv += db * db
            left += b * db
            ex += y * db
            b += db
            right += b * db
        out[i, 0] = b
        out[i, 1] = qv
        out[i, 2] = left
        out[i, 3] = right
        out[i, 4] = ex


def brownian_sums(T, n_steps, n, seed):
    """Per-path sums over a uniform grid ``t_k = k T / n_steps``, shape (n, 5), columns
    :data:`SUMS`: ``B_T``, ``sum (Delta B_k)^2``, ``sum B_{t_k} Delta B_k``,
    ``sum B_{t_{k+1}} Delta B_k`` and ``sum exp(B_{t_k} - t_k / 2) Delta B_k``.

    Examples
    --------
    >>> s = brownian_sums(1.0, 8, 3, seed=0)
    >>> bool(abs(s[0, 3] - s[0, 2] - s[0, 1]) < 1e-12)     # right - left = quadratic variation
    True
    """
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    out = np.empty((n, 5))
    _sums_kernel(T, n_steps, np.uint64(seed), out)
    return out


@njit(cache=True, parallel=True)
def _dds_kernel(h, idx, seed, out):
    n_steps = idx[-1]
    sh = np.sqrt(2.0 * h)
    for i in prange(out.shape[0]):
        z = np.empty(1)
        acc = 0.0
        j = 0
        for k in range(n_steps):
            rng._fill_normals(seed, k + 1, i, z)
            acc += np.exp((k + 0.5) * h) * sh * z[0]
            if k + 1 == idx[j]:
                out[i, j] = acc
                j += 1


def dds_samples(s_values, n_steps, n, seed):
    """``n`` samples of ``M_s = sqrt(2) sum_k e^{c_k} Delta B_k`` (midpoints ``c_k``), the
    discretised ``int_0^s sqrt(2) e^r dB_r``, at each ``s`` of ``s_values`` (shape (n, m)).

    The grid has step ``h = max(s_values) / n_steps`` and every ``s`` must be a multiple of it.
    The exact variance of the sum is ``2 h sum_k e^{2 c_k}``, within a relative ``h^2 / 3`` of
    ``e^{2s} - 1``.

    Examples
    --------
    >>> dds_samples([0.5, 1.0], 100, 4, seed=0).shape
    (4, 2)
    """
    s = check_array(s_values, "s_values", ndim=1)
    if s.size < 1 or s[0] <= 0 or np.any(np.diff(s) <= 0):
        raise ValueError("s_values must be positive and strictly increasing")
    n_steps = check_int(n_steps, "n_steps", low=1)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    h = s[-1] / n_steps
    idx = np.rint(s / h).astype(np.int64)
    if np.any(np.abs(idx * h - s) > 1e-9 * s[-1]) or np.any(idx < 1):
        raise ValueError("every entry of s_values must be a multiple of max(s_values) / n_steps")
    out = np.empty((n, s.size))
    _dds_kernel(h, idx, np.uint64(seed), out)
    return out


def qv_staircase(T, n_steps, seed, path=0):
    """Times and running quadratic variation ``sum_{j < k} (Delta B_j)^2`` of one path.

    Examples
    --------
    >>> t, qv = qv_staircase(1.0, 4, seed=0)
    >>> t.shape, qv.shape
    ((5,), (5,))
    """
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    seed = check_seed(seed)
    path = check_int(path, "path", low=0)
    h = T / n_steps
    z = np.array([rng.normals(path + 1, 1, seed, step=k + 1)[path, 0] for k in range(n_steps)])
    return np.linspace(0.0, T, n_steps + 1), np.concatenate([[0.0], np.cumsum(h * z * z)])
