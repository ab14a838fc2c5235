"""Riemann-Itô sums along simulated Brownian paths, for the appendix on Itô calculus.

:func:`brownian_sums` draws ``n`` Brownian paths on a uniform grid of ``n_steps`` steps
(counter-based noise: path ``i``, step ``k`` uses stream ``i``, counter step ``k + 1``) and
returns, per path, the sums that the Itô toolbox is about: the endpoint, the quadratic
variation, the left-point (Itô) and right-point sums of ``int B dB``, and the left-point sum of
``int Y dB`` for the exponential martingale ``Y_t = exp(B_t - t / 2)``.
:func:`dds_samples` samples the Itô integral ``int_0^s sqrt(2) e^r dB_r`` at several times
from fine midpoint sums.

For the d-dimensional calculus: :func:`exp_martingale_sums` runs the exponential martingale of
a correlated Brownian motion ``X = v B`` through left-point and midpoint sums, and
:func:`exp_martingale_mse` gives the exact mean square of the left-point remainder;
:func:`sine_sums` and :func:`sine_sum_moments` hold the sums of ``int sin(B) dB`` (adapted,
right-point and midpoint) and their exact expectations; :func:`ou_transition` and
:func:`gaussian_expectation` give ``E f(X_h)`` for a linear SDE in closed form;
:func:`gbm_density`, :func:`gbm_coefficients` and :func:`forward_residual` evaluate the
Kolmogorov forward equation of a correlated geometric Brownian motion; and
:func:`reverse_sde_refinements` runs the reverse SDE of a Gaussian mixture with one Brownian
path at several step sizes.
"""
import numpy as np
from numba import njit, prange

from . import rng
from .sde import _central_div_laplacian
from .targets import GaussianMixture, _gaussian_params, _mixture_score
from ._validate import check_array, check_float, check_int, check_seed

__all__ = ["brownian_sums", "SUMS", "dds_samples", "qv_staircase", "exp_martingale_sums",
           "exp_martingale_mse", "sine_sums", "SINE_SUMS", "sine_sum_moments", "ou_transition",
           "gaussian_expectation", "gbm_density", "gbm_coefficients", "forward_residual",
           "reverse_sde_refinements"]

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


# ---------------------------------------------------------------- Itô's formula in d dimensions
@njit(cache=True, parallel=True)
def _exp_kernel(v, lam, c, T, n_steps, seed, out):
    d, m = v.shape
    h = T / n_steps
    root_h = np.sqrt(h)
    for i in prange(out.shape[0]):
        z = np.empty(m)
        x = np.zeros(d)
        y = 1.0
        left = 0.0
        mid = 0.0
        lx = 0.0
        for k in range(n_steps):
            rng._fill_normals(seed, k + 1, i, z)
            ldx = 0.0                       # lam . Delta X_k, with Delta X_k = v Delta B_k
            for a in range(d):
                dxa = 0.0
                for b in range(m):
                    dxa += v[a, b] * z[b]
                dxa *= root_h
                x[a] += dxa
                ldx += lam[a] * dxa
            lx = 0.0
            for a in range(d):
                lx += lam[a] * x[a]
            y_next = np.exp(lx - 0.5 * c * (k + 1) * h)
            left += y * ldx
            mid += 0.5 * (y + y_next) * ldx
            y = y_next
        out[i, 0] = lx
        out[i, 1] = left
        out[i, 2] = mid


def exp_martingale_sums(v, lam, c, T, n_steps, n, seed):
    """Sums along ``X_t = v B_t`` (``B`` a Brownian motion in R^m, ``v`` of shape (d, m)) for
    ``Y_t = exp(lam . X_t - c t / 2)``: per path, ``lam . X_T``, the left-point sum
    ``sum_k Y_{t_k} lam . Delta X_k`` and the midpoint sum ``sum_k (Y_{t_k} + Y_{t_{k+1}})/2
    lam . Delta X_k``, shape (n, 3), on the grid ``t_k = k T / n_steps``.

    Itô's formula makes ``Y`` solve ``dY = Y lam . dX`` exactly when ``c = lam^T v v^T lam``;
    then ``Y_T - 1`` minus the left-point sum has the mean square :func:`exp_martingale_mse`.
    Path ``i`` uses the draws of stream ``i`` at counter steps ``1, ..., n_steps``.

    Examples
    --------
    >>> s = exp_martingale_sums([[1.0, 0.0], [0.5, 1.0]], [0.3, 0.2], 0.2, 1.0, 8, 3, seed=0)
    >>> s.shape
    (3, 3)
    """
    v = check_array(v, "v", ndim=2)
    d, m = v.shape
    lam = check_array(lam, "lam", shape=(d,))
    c = check_float(c, "c")
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    out = np.empty((n, 3))
    _exp_kernel(v, lam, c, T, n_steps, np.uint64(seed), out)
    return out


def exp_martingale_mse(c, T, n_steps):
    """Exact ``E(Y_T - 1 - sum_k Y_{t_k} Delta M_k)^2`` for ``Y = exp(M_t - c t / 2)`` with
    ``M`` a continuous martingale of quadratic variation ``c t`` (``M = lam . v B``, ``c =
    |v^T lam|^2``) on the grid ``t_k = k T / n_steps``, ``h = T / n_steps``:

        (e^{cT} - 1) (e^{ch} - 1 - ch) / (e^{ch} - 1).

    By Itô's formula the remainder is ``int (Y_t - Y_{t_k}) dM_t``; the isometry and
    ``E(Y_t - Y_{t_k})^2 = e^{c t_k} (e^{c(t - t_k)} - 1)`` give the sum ``sum_k e^{c t_k}
    (e^{ch} - 1 - ch)``.

    Examples
    --------
    >>> round(exp_martingale_mse(1.0, 1.0, 1000) * 1000 / (np.e - 1), 3)      # ~ h (e^T - 1)/2
    0.5
    """
    c = check_float(c, "c", low=0.0, low_open=True)
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    ch = c * T / n_steps
    return float(np.expm1(c * T) * (np.expm1(ch) - ch) / np.expm1(ch))


# ---------------------------------------------------------------- the martingale property
#: column names of :func:`sine_sums`
SINE_SUMS = ("B_s", "M_s", "M_T", "R_s", "R_T", "mid_T", "B_T")


@njit(cache=True, parallel=True)
def _sine_kernel(T, n_steps, seed, out):
    h = T / n_steps
    root_h = np.sqrt(h)
    half = n_steps // 2
    for i in prange(out.shape[0]):
        z = np.empty(1)
        b = 0.0
        left = 0.0
        right = 0.0
        mid = 0.0
        for k in range(n_steps):
            if k == half:
                out[i, 0] = b
                out[i, 1] = left
                out[i, 3] = right
            rng._fill_normals(seed, k + 1, i, z)
            db = root_h * z[0]
            left += np.sin(b) * db
            mid += np.sin(b + 0.5 * db) * db
            b += db
            right += np.sin(b) * db
        out[i, 2] = left
        out[i, 4] = right
        out[i, 5] = mid
        out[i, 6] = b


def sine_sums(T, n_steps, n, seed):
    """Riemann sums of ``int sin(B) dB`` along ``n`` Brownian paths, shape (n, 7), columns
    :data:`SINE_SUMS`, with ``s = T / 2`` (``n_steps`` even) and ``t_k = k T / n_steps``:

    ``B_s``; the left-point (Itô) sums ``M_s``, ``M_T`` of ``sin(B_{t_k}) Delta B_k`` up to ``s``
    and ``T``; the right-point sums ``R_s``, ``R_T`` of ``sin(B_{t_{k+1}}) Delta B_k``; the
    midpoint sum ``mid_T`` of ``sin((B_{t_k} + B_{t_{k+1}})/2) Delta B_k``; and ``B_T``. The paths
    are those of :func:`brownian_sums` with the same seed.

    Examples
    --------
    >>> s = sine_sums(1.0, 8, 4, seed=0)
    >>> bool(np.allclose(s[:, 6], brownian_sums(1.0, 8, 4, seed=0)[:, 0]))
    True
    """
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=2)
    if n_steps % 2:
        raise ValueError(f"n_steps must be even (s = T/2 is a grid point), got {n_steps}")
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    out = np.empty((n, 7))
    _sine_kernel(T, n_steps, np.uint64(seed), out)
    return out


def sine_sum_moments(T, n_steps):
    """Exact expectations of the sums of :func:`sine_sums` on the grid of ``n_steps`` steps.

    Returns a dict:

    * ``"isometry"``: ``E M_T^2 = h sum_{k<n} E sin^2 B_{t_k} = h sum_k (1 - e^{-2 t_k}) / 2``;
    * ``"right_mean"``: ``E R_T = h sum_k e^{-t_{k+1}/2}`` (Stein's identity on each increment);
    * ``"right_increment_cos"``: ``E[(R_T - R_s) cos B_s] = h sum_{t_k >= s} E[cos B_s cos
      B_{t_{k+1}}]`` with ``E cos B_s cos B_t = (e^{-(t+3s)/2} + e^{-(t-s)/2}) / 2``;
    * ``"mid_mean"``: ``E mid_T = (h/2) sum_k e^{-(t_k + h/4)/2}``.

    The left-point sums have ``E M_T = 0`` and ``E[(M_T - M_s) cos B_s] = 0`` exactly.

    Examples
    --------
    >>> m = sine_sum_moments(1.0, 10_000)
    >>> round(m["mid_mean"], 4), round(float(1 - np.exp(-0.5)), 4)          # -> 1 - e^{-T/2}
    (0.3935, 0.3935)
    """
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=2)
    if n_steps % 2:
        raise ValueError(f"n_steps must be even (s = T/2 is a grid point), got {n_steps}")
    h = T / n_steps
    tk = h * np.arange(n_steps)
    s = T / 2
    t_next = tk[n_steps // 2:] + h
    return {
        "isometry": float(h * np.sum(-0.5 * np.expm1(-2.0 * tk))),
        "right_mean": float(h * np.sum(np.exp(-0.5 * (tk + h)))),
        "right_increment_cos": float(h * np.sum(0.5 * (np.exp(-0.5 * (t_next + 3 * s))
                                                        + np.exp(-0.5 * (t_next - s))))),
        "mid_mean": float(0.5 * h * np.sum(np.exp(-0.5 * (tk + 0.25 * h)))),
    }


# ---------------------------------------------------------------- the generator
def ou_transition(M, G, x, h):
    """Mean and covariance of ``X_h`` for ``dX = -M X dt + G dB``, ``X_0 = x``:
    ``e^{-Mh} x`` and ``int_0^h e^{-Mu} G G^T e^{-M^T u} du`` (Van Loan's block exponential).

    Examples
    --------
    >>> m, C = ou_transition([[1.0]], [[np.sqrt(2.0)]], [1.0], 0.5)
    >>> bool(abs(m[0] - np.exp(-0.5)) < 1e-14 and abs(C[0, 0] + np.expm1(-1.0)) < 1e-14)
    True
    """
    from scipy.linalg import expm

    M = check_array(M, "M", ndim=2)
    d = M.shape[0]
    if M.shape != (d, d):
        raise ValueError(f"M must be square, got shape {M.shape}")
    G = check_array(G, "G", ndim=2)
    if G.shape[0] != d:
        raise ValueError(f"G must have {d} rows, got shape {G.shape}")
    x = check_array(x, "x", shape=(d,))
    h = check_float(h, "h", low=0.0, low_open=True)
    blk = np.zeros((2 * d, 2 * d))
    blk[:d, :d] = M
    blk[:d, d:] = G @ G.T
    blk[d:, d:] = -M.T
    E = expm(h * blk)
    F = E[d:, d:].T                                    # e^{-M h}
    C = F @ E[:d, d:]
    return F @ x, 0.5 * (C + C.T)


def gaussian_expectation(f, mean, cov, n_nodes=12):
    """``E f(Z)`` for ``Z ~ N(mean, cov)`` by the tensor Gauss-Hermite rule with ``n_nodes``
    nodes per axis (exact for polynomials of degree below ``2 n_nodes``). ``f`` maps an
    (N, d) array of points to N values.

    Examples
    --------
    >>> round(gaussian_expectation(lambda z: z[:, 0] ** 4, [0.0], [[2.0]]), 12)     # 3 sigma^4
    12.0
    """
    mean = check_array(mean, "mean", ndim=1)
    d = mean.size
    cov = check_array(cov, "cov", shape=(d, d))
    n_nodes = check_int(n_nodes, "n_nodes", low=1)
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("cov must be positive definite") from None
    z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    w = w / np.sqrt(2.0 * np.pi)
    grids = np.meshgrid(*([z] * d), indexing="ij")
    Z = np.stack([g.ravel() for g in grids], axis=1)
    W = np.prod(np.stack(np.meshgrid(*([w] * d), indexing="ij"), 0).reshape(d, -1), axis=0)
    vals = np.asarray(f(mean + Z @ L.T), dtype=float)
    if vals.shape != (Z.shape[0],):
        raise ValueError("f must map an (N, d) array to N values")
    return float(W @ vals)


# ---------------------------------------------------------------- the Kolmogorov forward equation
def _gbm_args(rate, vol, corr):
    rate = check_array(rate, "rate", ndim=1)
    d = rate.size
    vol = check_array(vol, "vol", shape=(d,))
    corr = check_array(corr, "corr", shape=(d, d))
    if np.any(vol <= 0):
        raise ValueError("vol must be positive")
    if not np.allclose(corr, corr.T) or np.any(np.abs(np.diag(corr) - 1) > 1e-12) \
            or np.linalg.eigvalsh(corr)[0] <= 0:
        raise ValueError("corr must be a positive definite correlation matrix")
    return rate, vol, corr


def gbm_coefficients(x, rate, vol, corr):
    """Drift ``b_i(x) = rate_i x_i`` and diffusion matrix ``A_ij(x) = vol_i vol_j corr_ij x_i x_j``
    of the correlated geometric Brownian motion ``dX^i = rate_i X^i dt + vol_i X^i dW^i``,
    ``dW^i dW^j = corr_ij dt``; shapes (n, d) and (n, d, d).

    Examples
    --------
    >>> b, a = gbm_coefficients([[1.0, 2.0]], [0.1, 0.2], [1.0, 1.0], [[1, 0.5], [0.5, 1]])
    >>> float(a[0, 0, 1])
    1.0
    """
    rate, vol, corr = _gbm_args(rate, vol, corr)
    x = check_array(x, "x", shape=(None, rate.size))
    vx = vol * x
    return rate * x, corr[None] * vx[:, :, None] * vx[:, None, :]


def gbm_density(t, x, x0, rate, vol, corr):
    """Density at the points ``x`` (shape (n, d)) of ``X_t`` for the geometric Brownian motion
    of :func:`gbm_coefficients` started at ``x0``: ``log X_t`` is Gaussian with mean
    ``log x0 + (rate - vol^2/2) t`` and covariance ``t diag(vol) corr diag(vol)`` (Itô's formula for
    ``log``), so ``p_t(x) = phi(log x) / prod_i x_i`` on the positive orthant, 0 elsewhere.

    Examples
    --------
    >>> from scipy import stats
    >>> p = gbm_density(0.5, [[1.2]], [1.0], [0.1], [0.3], [[1.0]])
    >>> ref = stats.lognorm(0.3 * np.sqrt(0.5), scale=np.exp((0.1 - 0.045) * 0.5)).pdf(1.2)
    >>> bool(abs(p[0] - ref) < 1e-12)
    True
    """
    rate, vol, corr = _gbm_args(rate, vol, corr)
    d = rate.size
    t = check_float(t, "t", low=0.0, low_open=True)
    x = check_array(x, "x", shape=(None, d))
    x0 = check_array(x0, "x0", shape=(d,))
    if np.any(x0 <= 0):
        raise ValueError("x0 must be positive")
    C = t * corr * np.outer(vol, vol)
    m = np.log(x0) + (rate - 0.5 * vol * vol) * t
    P = np.linalg.inv(C)
    out = np.zeros(x.shape[0])
    pos = np.all(x > 0, axis=1)
    u = np.log(x[pos]) - m
    quad = np.einsum("ni,ij,nj->n", u, P, u)
    logdet = np.linalg.slogdet(C)[1]
    out[pos] = np.exp(-0.5 * (quad + logdet + d * np.log(2 * np.pi)) - np.log(x[pos]).sum(1))
    return out


def forward_residual(density, drift, diffusion, t, x, h, form="ito"):
    """Residual of the Kolmogorov forward (Fokker-Planck) equation at the points ``x``,

        d_t p + sum_i d_i (b_i p) - (1/2) sum_ij D_ij,

    by central differences of step ``h`` in time and in every coordinate (error O(h^2)).
    ``density(t, x)``, ``drift(x)`` and ``diffusion(x)`` return shapes (n,), (n, d), (n, d, d).
    ``form`` places the diffusion matrix ``A``: ``"ito"`` (the equation of the SDE), ``D_ij =
    d_i d_j (A_ij p)``; ``"outside"``, ``A_ij d_i d_j p``; ``"fick"``, ``d_i (A_ij d_j p)``. The
    last two are the plausible misplacements, kept for the negative controls; they agree with
    ``"ito"`` only when ``A`` does not depend on ``x``.

    Examples
    --------
    >>> dens = lambda t, y: np.exp(-y[:, 0] ** 2 / (4 * t)) / np.sqrt(4 * np.pi * t)  # heat kernel
    >>> r = forward_residual(dens, lambda y: 0 * y, lambda y: 2 * np.ones((len(y), 1, 1)),
    ...                      1.0, [[0.3]], 1e-3)
    >>> bool(abs(r[0]) < 1e-6)
    True
    """
    t = check_float(t, "t")
    h = check_float(h, "h", low=0.0, low_open=True)
    x = check_array(x, "x", ndim=2)
    if form not in ("ito", "outside", "fick"):
        raise ValueError(f"form must be 'ito', 'outside' or 'fick', got {form!r}")
    n, d = x.shape
    E = h * np.eye(d)

    def F(y):                                  # A_ij p at the points y, shape (n, d, d)
        return diffusion(y) * density(t, y)[:, None, None]

    out = (density(t + h, x) - density(t - h, x)) / (2 * h)
    out += _central_div_laplacian(None, lambda y: drift(y) * density(t, y)[:, None], x, h,
                                  laplacian=False)[0]

    def second(g, i, j):                       # d_i d_j g by the central stencil
        if i == j:
            return (g(x + E[i]) - 2 * g(x) + g(x - E[i])) / h**2
        return (g(x + E[i] + E[j]) - g(x + E[i] - E[j]) - g(x - E[i] + E[j])
                + g(x - E[i] - E[j])) / (4 * h * h)

    D = np.zeros(n)
    p = lambda y: density(t, y)                # noqa: E731
    a = diffusion(x)
    for i in range(d):
        for j in range(d):
            if form == "ito":
                D += second(lambda y: F(y)[:, i, j], i, j)
            else:
                D += a[:, i, j] * second(p, i, j)
                if form == "fick":
                    da = (diffusion(x + E[i])[:, i, j] - diffusion(x - E[i])[:, i, j]) / (2 * h)
                    D += da * (p(x + E[j]) - p(x - E[j])) / (2 * h)
    return out - 0.5 * D


# ---------------------------------------------------------------- well-posedness
@njit(cache=True, parallel=True)
def _refine_kernel(y0, log_w, centers, prec, logdet, hf, strides, seed, out):
    n, d = y0.shape
    n_fine = centers.shape[0]
    K = centers.shape[1]
    sh = np.sqrt(2.0 * hf)
    for i in prange(n):
        dW = np.empty((n_fine, d))            # sqrt(2) times the fine Brownian increments
        z = np.empty(d)
        for j in range(n_fine):
            rng._fill_normals(seed, j + 1, i, z)
            for a in range(d):
                dW[j, a] = sh * z[a]
        y = np.empty(d)
        noise = np.empty(d)
        score = np.empty(d)
        lk = np.empty(K)
        pdiff = np.empty((K, d))
        for lev in range(strides.size):
            r = strides[lev]
            hc = r * hf
            for a in range(d):
                y[a] = y0[i, a]
            for k in range(n_fine // r):
                j0 = k * r
                _mixture_score(y, log_w, centers[j0], prec[j0], logdet[j0], lk, pdiff, score)
                for a in range(d):
                    noise[a] = 0.0
                for j in range(j0, j0 + r):
                    for a in range(d):
                        noise[a] += dW[j, a]
                for a in range(d):
                    y[a] = y[a] + hc * (y[a] + 2.0 * score[a]) + noise[a]
            for a in range(d):
                out[i, lev, a] = y[a]


def reverse_sde_refinements(mixture, y0, T, t_end, n_steps, seed):
    """Euler-Maruyama for the reverse SDE ``dY = (Y + 2 grad log q_{T-t}(Y)) dt + sqrt(2) dB``
    of the data law ``mixture`` on ``[0, t_end]``, from the points ``y0``, at several step
    counts ``n_steps`` driven by one Brownian path per particle: shape (len(n_steps), n, d).

    The path is drawn on the finest grid (``max(n_steps)`` steps; particle ``i``, step ``j``
    uses counter step ``j + 1`` of stream ``i``) and summed over blocks for the coarser ones,
    so every entry of ``n_steps`` must divide the largest. The score of ``q_{T - t_k}`` is the
    mixture's exact one.

    Examples
    --------
    >>> from companion import targets
    >>> q = targets.bimodal()
    >>> reverse_sde_refinements(q, np.zeros((3, 1)), 1.0, 0.5, [2, 4], seed=0).shape
    (2, 3, 1)
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    d = mixture.dim
    y0 = check_array(y0, "y0", shape=(None, d))
    T = check_float(T, "T", low=0.0, low_open=True)
    t_end = check_float(t_end, "t_end", low=0.0, high=T, low_open=True, high_open=True)
    steps = np.array([check_int(m, "n_steps", low=1) for m in np.atleast_1d(n_steps)])
    if steps.size < 1:
        raise ValueError("n_steps must hold at least one step count")
    n_fine = int(steps.max())
    if np.any(n_fine % steps):
        raise ValueError("every entry of n_steps must divide the largest")
    seed = check_seed(seed)
    hf = t_end / n_fine
    K = mixture.weights.size
    centers = np.empty((n_fine, K, d))
    prec = np.empty((n_fine, K, d, d))
    logdet = np.empty((n_fine, K))
    for j in range(n_fine):
        q = mixture.at(T - j * hf)
        centers[j] = q.means
        params = _gaussian_params(q.covs)
        if params is None:
            raise ValueError("mixture must have a density at every time of the grid")
        prec[j], logdet[j] = params
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    out = np.empty((y0.shape[0], steps.size, d))      # particle first: one thread per row
    _refine_kernel(y0, log_w, centers, prec, logdet, hf, (n_fine // steps).astype(np.int64),
                   np.uint64(seed), out)
    return out.transpose(1, 0, 2).copy()
