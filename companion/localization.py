"""Stochastic localization: the tilted laws, SL paths, and the change of time to the OU process.

A hidden sample x* ~ mu is observed through U_s = s x* + B_s. The conditional law of x* given
U_s = u is the tilt

    mu_{s,u}(dx) proportional to exp(<u, x> - s ||x||^2 / 2) mu(dx),

the posterior of X given the Gaussian channel s X + sqrt(s) G = u. For a Gaussian-mixture mu
it is again a Gaussian mixture (:func:`tilt`). Its mean a_s(u) and covariance A_s(u) are the
drift and the "localization speed" of the process. Seen from the filtration of U alone,
U solves dU = a_s(U) ds + dB^bar with the innovation Brownian motion B^bar.

With t(s) = (1/2) log(1 + 1/s) (``companion.time.ou_time``) and its inverse s(t) = 1/(e^{2t} - 1)
(``companion.time.snr``), the process (U_s) has the law of (sqrt(s(s+1)) X_{t(s)}) for the OU
process X started at mu: :func:`sl_to_ou` and :func:`ou_to_sl` move points between the two
pictures, :func:`paths` simulates SL paths and :func:`ou_paths` rescaled OU paths.
"""
import functools
from collections import namedtuple

import numpy as np
from numba import njit, prange

from . import rng
from . import time as clock
from ._validate import check_array, check_float, check_int, check_points, check_seed
from .sde import OU
from .targets import GaussianMixture, _log_resp

__all__ = ["scale", "sl_to_ou", "ou_to_sl", "tilt", "likelihood_ratio", "log_likelihood_ratio",
           "expectation", "paths", "SLPaths", "path_log_likelihood_ratio", "ou_paths", "sl_fdd", "ou_fdd", "reverse_drift",
           "METHODS"]

#: simulation methods of :func:`paths`
METHODS = ("exact", "sde", "reverse")


def _check_target(target):
    if not isinstance(target, GaussianMixture):
        raise ValueError("target must be a GaussianMixture")
    return target


def _s_value(s, positive=False):
    return check_float(s, "s", low=0.0, low_open=positive)


# ----------------------------------------------------------------------- the change of time
def scale(s):
    """The factor s e^{t(s)} = sqrt(s (s + 1)) that turns X_{t(s)} into U_s.

    Examples
    --------
    >>> round(scale(3.0) ** 2, 12)
    12.0
    """
    a = check_array(s, "s")
    if np.any(a < 0):
        raise ValueError("s must be >= 0")
    out = np.sqrt(a * (a + 1.0))
    return float(out) if out.ndim == 0 else out


def sl_to_ou(s, u):
    """OU time and OU position of an SL point: ``(t(s), u / sqrt(s (s+1)))``, for s > 0.

    Examples
    --------
    >>> t, x = sl_to_ou(1.0, [2.0])
    >>> bool(abs(t - 0.5 * np.log(2.0)) < 1e-15), round(float(x[0]) ** 2, 12)
    (True, 2.0)
    """
    s = _s_value(s, positive=True)
    u = check_array(u, "u")
    return clock.ou_time(s), u / scale(s)


def ou_to_sl(t, x):
    """SL time and SL position of an OU point: ``(s(t), sqrt(s (s+1)) x)``, s(t) = 1/(e^{2t}-1).

    Examples
    --------
    >>> s, u = ou_to_sl(*sl_to_ou(0.7, [1.5, -2.0]))
    >>> round(s, 12), np.round(u, 12).tolist()
    (0.7, [1.5, -2.0])
    """
    t = check_float(t, "t", low=0.0, low_open=True)
    x = check_array(x, "x")
    s = clock.snr(t)
    return s, scale(s) * x


# ------------------------------------------------------------------------------ the tilt
def _channel_params(target, s_values):
    """Posterior parameters of the channel (a, sigma) = (s, sqrt s) for each s > 0.

    Returns arrays indexed (step, component, ...): centres s m_k, precisions and
    log-determinants of S_k = s^2 C_k + s I, gains s C_k S_k^{-1} and posterior covariances
    C_k - s gain_k C_k. Entries for s = 0 are placeholders (the prior is used there).
    """
    K, d = target.means.shape
    m = len(s_values)
    centers = np.zeros((m, K, d))
    prec = np.tile(np.eye(d), (m, K, 1, 1))
    logdet = np.zeros((m, K))
    gain = np.zeros((m, K, d, d))
    pcov = np.tile(target.covs, (m, 1, 1, 1))
    C = target.covs
    for j, s in enumerate(s_values):
        if s == 0.0:
            continue
        S = s * s * C + s * np.eye(d)
        P = np.linalg.inv(S)
        P = 0.5 * (P + np.swapaxes(P, 1, 2))
        centers[j] = s * target.means
        prec[j] = P
        logdet[j] = np.linalg.slogdet(S)[1]
        gain[j] = s * np.einsum("kab,kbc->kac", C, P)
        pc = C - s * np.einsum("kab,kbc->kac", gain[j], C)
        pcov[j] = 0.5 * (pc + np.swapaxes(pc, 1, 2))
    return centers, prec, logdet, gain, pcov


def tilt(target, u, s):
    """The tilted law mu_{s,u}(dx) proportional to exp(<u, x> - s||x||^2/2) mu(dx).

    It is the posterior of X ~ target given ``s X + sqrt(s) G = u`` (G ~ N(0, I)); for a
    Gaussian mixture it is the mixture of the componentwise posteriors, reweighted by how well
    each component explains ``u``.

    Parameters
    ----------
    target : GaussianMixture
    u : array_like, shape (d,)
    s : float, >= 0 (s = 0 returns the target itself)

    Returns
    -------
    GaussianMixture

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> nu = tilt(rademacher(1), [0.5], 2.0)          # weights proportional to e^{+-0.5}
    >>> bool(abs(nu.weights[1] / nu.weights[0] - np.exp(1.0)) < 1e-12)
    True
    """
    _check_target(target)
    s = _s_value(s)
    u = check_array(u, "u", shape=(target.dim,))
    if s == 0.0:
        return target
    centers, prec, logdet, gain, pcov = _channel_params(target, [s])
    diff = u - centers[0]                                        # (K, d)
    quad = np.einsum("ka,kab,kb->k", diff, prec[0], diff)
    with np.errstate(divide="ignore"):
        logr = np.log(target.weights) - 0.5 * (quad + logdet[0])
    logr -= logr.max()
    r = np.exp(logr)
    means = target.means + np.einsum("kab,kb->ka", gain[0], diff)
    return GaussianMixture(r / r.sum(), means, pcov[0])


def log_likelihood_ratio(target, u, s, x):
    """log L_s(x) = log (d mu_{s,u} / d mu)(x) = <u, x> - s||x||^2/2 - log Z_s(u).

    ``Z_s(u) = int exp(<u, x> - s||x||^2/2) mu(dx)`` is computed as p_{U_s}(u) / N(u; 0, s I),
    with p_{U_s} the density of the channel output ``s X + sqrt(s) G``.

    Parameters
    ----------
    target : GaussianMixture
    u : array_like, shape (d,) or (n, d)
    s : float, > 0
    x : array_like, shape (d,)
        The point at which the density ratio is evaluated (for a discrete target, an atom).

    Returns
    -------
    float or ndarray of shape (n,)

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> v = log_likelihood_ratio(rademacher(1), [0.3], 2.0, [1.0])   # 0.3 - log cosh 0.3
    >>> bool(abs(v - (0.3 - np.log(np.cosh(0.3)))) < 1e-12)
    True
    """
    _check_target(target)
    s = _s_value(s, positive=True)
    pts, single = check_points(u, target.dim, "u")
    x = check_array(x, "x", shape=(target.dim,))
    d = target.dim
    log_gauss = -0.5 * (np.sum(pts * pts, axis=1) / s + d * np.log(2.0 * np.pi * s))
    log_z = target.channel(s, np.sqrt(s)).logpdf(pts) - log_gauss
    out = pts @ x - 0.5 * s * float(x @ x) - log_z
    return float(out[0]) if single else out


def likelihood_ratio(target, u, s, x):
    """L_s(x) = (d mu_{s,u} / d mu)(x): exp of :func:`log_likelihood_ratio`.

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> v = likelihood_ratio(rademacher(1), [0.0], 1.0, [1.0])     # no information: L = 1
    >>> round(v, 12)
    1.0
    """
    v = log_likelihood_ratio(target, u, s, x)
    return float(np.exp(v)) if np.ndim(v) == 0 else np.exp(v)


@functools.lru_cache(maxsize=16)
def _hermite_rule(n_nodes, d):
    """Tensor Gauss-Hermite rule for E g(Z), Z ~ N(0, I_d): nodes (M, d) and weights (M,).

    Cached: computing a 200-node rule costs far more than using it.
    """
    xi, om = np.polynomial.hermite.hermgauss(n_nodes)
    grids = np.meshgrid(*[xi] * d, indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1) * np.sqrt(2.0)
    wts = np.prod(np.stack(np.meshgrid(*[om] * d, indexing="ij")).reshape(d, -1), axis=0)
    wts = wts / np.pi ** (d / 2)
    nodes.setflags(write=False)
    wts.setflags(write=False)
    return nodes, wts


def expectation(target, s, f, n_nodes=None):
    """E f(U_s) for U_s = s x* + B_s, by a Gauss-Hermite rule on each mixture component.

    ``f`` maps an array of points of shape (N, d) to an array whose first axis has length N.
    The rule is a tensor product (``n_nodes ** d`` nodes per component, by default 200 in
    d = 1, 60 in d = 2 and 16 above), exact for polynomials of degree < 2 n_nodes in u; for
    the smooth functions of the book (posterior moments, log-likelihood ratios) 200 nodes give
    about 1e-12 in d = 1.

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> v = expectation(rademacher(1), 2.0, lambda u: u[:, 0] ** 2)   # s^2 + s
    >>> round(float(v), 10)
    6.0
    """
    _check_target(target)
    s = _s_value(s)
    if n_nodes is None:
        n_nodes = {1: 200, 2: 60}.get(target.dim, 16)
    n_nodes = check_int(n_nodes, "n_nodes", low=1, high=300)
    if not callable(f):
        raise ValueError("f must be a callable")
    d = target.dim
    if n_nodes ** d > 2_000_000:
        raise ValueError(f"n_nodes ** d = {n_nodes ** d} nodes is too many; lower n_nodes")
    if s == 0.0:
        return np.asarray(f(np.zeros((1, d))))[0]
    nodes, wts = _hermite_rule(n_nodes, d)
    nu = target.channel(s, np.sqrt(s))
    total = 0.0
    for k in range(nu.n_components):
        if nu.weights[k] == 0.0:
            continue
        L = np.linalg.cholesky(nu.covs[k])
        vals = np.asarray(f(nu.means[k] + nodes @ L.T), dtype=float)
        if vals.shape[:1] != (nodes.shape[0],):
            raise ValueError("f must return an array whose first axis matches its input's")
        total = total + nu.weights[k] * np.tensordot(wts, vals, axes=(0, 0))
    return total


# ------------------------------------------------------------------------------ the paths
SLPaths = namedtuple("SLPaths", "s U a A log_z xstar")
SLPaths.__doc__ = """SL paths on a grid: U (n, m, d), a = a_s(U_s) (n, m, d), A = A_s(U_s)
(n, m, d, d) or None, log_z = log Z_s(U_s) (n, m) (the normaliser of the tilt, 0 at s = 0), and
the hidden samples x* (n, d) when the paths were built from them (method "exact"), else None."""


@njit(cache=True, inline="always")
def _post_at(u, s_is_zero, log_w, centers, prec, logdet, means, gain, pcov, mean0, cov0,
             want_cov, lk, pdiff, mk, a_out, A_out):
    # returns log p_{U_s}(u) (0 at s = 0); fills a_out, and A_out when want_cov
    K, d = means.shape
    if s_is_zero:
        for p in range(d):
            a_out[p] = mean0[p]
            if want_cov:
                for q in range(d):
                    A_out[p, q] = cov0[p, q]
        return 0.0
    logp = _log_resp(u, log_w, centers, prec, logdet, lk, pdiff)
    for p in range(d):
        a_out[p] = 0.0
    for k in range(K):
        r = np.exp(lk[k])
        for p in range(d):
            acc = means[k, p]
            for q in range(d):
                acc += gain[k, p, q] * (u[q] - centers[k, q])
            mk[k, p] = acc
            a_out[p] += r * acc
    if want_cov:
        for p in range(d):
            for q in range(d):
                A_out[p, q] = 0.0
        for k in range(K):
            r = np.exp(lk[k])
            for p in range(d):
                dp = mk[k, p] - a_out[p]
                for q in range(d):
                    A_out[p, q] += r * (pcov[k, p, q] + dp * (mk[k, q] - a_out[q]))
    return logp


@njit(cache=True, inline="always")
def _log_z(logp, u, s):
    # log Z_s(u) = log p_{U_s}(u) - log N(u; 0, s I)
    if s == 0.0:
        return 0.0
    d = u.shape[0]
    acc = 0.0
    for p in range(d):
        acc += u[p] * u[p]
    return logp + 0.5 * (acc / s + d * np.log(2.0 * np.pi * s))


@njit(cache=True, parallel=True)
def _paths_kernel(xstar, grid, method, log_w, centers, prec, logdet, means, gain, pcov, mean0,
                  cov0, want_cov, seed, U, a, A, log_z):
    # method 0: U = s x* + B (exact); 1: Euler for dU = a_s(U) ds + dB; 2: Euler for the
    # reversed OU process X in SL time, reported as U = sqrt(s(s+1)) X.
    # Noise: the increment grid[k] -> grid[k+1] uses counter step k + 1 of stream i, the start
    # (when grid[0] > 0) uses step m; x* itself comes from the target's sampler (step 0).
    n, m, d = U.shape
    K = means.shape[0]
    for i in prange(n):
        lk = np.empty(K)
        pdiff = np.empty((K, d))
        mk = np.empty((K, d))
        cov_scratch = np.empty((d, d))     # this path's own target when A is not wanted
        z = np.empty(d)
        u = np.empty(d)
        x = np.empty(d)
        s0 = grid[0]
        if s0 > 0.0:
            rng._fill_normals(seed, m, i, z)
            for p in range(d):
                u[p] = s0 * xstar[i, p] + np.sqrt(s0) * z[p]
        else:
            for p in range(d):
                u[p] = 0.0
        phi = np.sqrt(s0 * (s0 + 1.0))
        for p in range(d):
            U[i, 0, p] = u[p]
            if method == 2:
                x[p] = u[p] / phi
        lp = _post_at(u, s0 == 0.0, log_w, centers[0], prec[0], logdet[0], means, gain[0],
                      pcov[0], mean0, cov0, want_cov, lk, pdiff, mk, a[i, 0],
                      A[i, 0] if want_cov else cov_scratch)
        log_z[i, 0] = _log_z(lp, u, s0)
        for k in range(m - 1):
            s = grid[k]
            h = grid[k + 1] - s
            sq = np.sqrt(h)
            rng._fill_normals(seed, k + 1, i, z)
            if method == 0:
                for p in range(d):
                    u[p] += xstar[i, p] * h + sq * z[p]
            elif method == 1:
                for p in range(d):
                    u[p] += a[i, k, p] * h + sq * z[p]
            else:
                phi = np.sqrt(s * (s + 1.0))
                c = (2.0 * s + 1.0) / (2.0 * s * (s + 1.0))
                for p in range(d):
                    x[p] += (-c * x[p] + a[i, k, p] / phi) * h + sq / phi * z[p]
                phi1 = np.sqrt(grid[k + 1] * (grid[k + 1] + 1.0))
                for p in range(d):
                    u[p] = phi1 * x[p]
            for p in range(d):
                U[i, k + 1, p] = u[p]
            lp = _post_at(u, False, log_w, centers[k + 1], prec[k + 1], logdet[k + 1], means,
                          gain[k + 1], pcov[k + 1], mean0, cov0, want_cov, lk, pdiff, mk,
                          a[i, k + 1], A[i, k + 1] if want_cov else cov_scratch)
            log_z[i, k + 1] = _log_z(lp, u, grid[k + 1])


def _check_grid(s, name="s", start_positive=False):
    g = check_array(s, name, ndim=1)
    if g.size < 2:
        raise ValueError(f"{name} must hold at least 2 times")
    if np.any(g < 0) or np.any(np.diff(g) <= 0):
        raise ValueError(f"{name} must be non-negative and strictly increasing")
    if start_positive and g[0] == 0.0:
        raise ValueError(f"{name} must start at a positive time for this method")
    return g


def paths(target, s, n, seed, method="exact", return_cov=True):
    """SL paths (U_s, a_s(U_s), A_s(U_s)) on the grid ``s``.

    Parameters
    ----------
    target : GaussianMixture
        The law mu of x*.
    s : array_like, shape (m,)
        Increasing times, m >= 2. When ``s[0] > 0`` the paths start from the exact law of
        U_{s[0]}.
    n : int
        Number of paths.
    seed : int
    method : {"exact", "sde", "reverse"}
        "exact": U_s = s x* + B_s with x* ~ target (the paths know x*); "sde": Euler-Maruyama
        for dU = a_s(U) ds + dB, which never sees x*; "reverse": Euler-Maruyama for the
        reversed OU process written in SL time,
        dX = [-(2s+1) X / (2s(s+1)) + a_s(sqrt(s(s+1)) X) / sqrt(s(s+1))] ds + dB / sqrt(s(s+1)),
        reported as U = sqrt(s(s+1)) X (needs ``s[0] > 0``).
    return_cov : bool
        Also return A_s(U_s).

    Returns
    -------
    SLPaths
        Fields ``s``, ``U`` (n, m, d), ``a`` (n, m, d), ``A`` (n, m, d, d) or None, ``xstar``.

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> p = paths(rademacher(1), np.linspace(0.0, 4.0, 41), n=3, seed=0)
    >>> p.U.shape, p.A.shape
    ((3, 41, 1), (3, 41, 1, 1))
    >>> bool(np.allclose(p.a[:, :, 0], np.tanh(p.U[:, :, 0])))
    True
    """
    _check_target(target)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    grid = _check_grid(s, start_positive=(method == "reverse"))
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    if not isinstance(return_cov, (bool, np.bool_)):
        raise ValueError("return_cov must be True or False")
    d = target.dim
    m = grid.size
    xstar = target.sample(n, seed)
    centers, prec, logdet, gain, pcov = _channel_params(target, grid)
    with np.errstate(divide="ignore"):
        log_w = np.log(target.weights)
    U = np.empty((n, m, d))
    a = np.empty((n, m, d))
    A = np.empty((n, m, d, d)) if return_cov else np.empty((0, 0, d, d))
    log_z = np.empty((n, m))
    _paths_kernel(xstar, grid, METHODS.index(method), log_w, centers, prec, logdet,
                  np.ascontiguousarray(target.means), gain, pcov, target.mean(), target.cov(),
                  bool(return_cov), np.uint64(seed), U, a, A, log_z)
    return SLPaths(grid, U, a, A if return_cov else None, log_z,
                   xstar if method == "exact" else None)


def path_log_likelihood_ratio(p, x):
    """log L_s(x) = <U_s, x> - s||x||^2/2 - log Z_s(U_s) along SL paths, shape (n, m).

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> p = paths(rademacher(1), [0.0, 0.5, 1.0], n=2, seed=0)
    >>> v = path_log_likelihood_ratio(p, [1.0])       # U - log cosh U for Rademacher
    >>> bool(np.allclose(v, p.U[:, :, 0] - np.log(np.cosh(p.U[:, :, 0]))))
    True
    """
    if not isinstance(p, SLPaths):
        raise ValueError("p must be the SLPaths returned by paths()")
    x = check_array(x, "x", shape=(p.U.shape[2],))
    return p.U @ x - 0.5 * p.s * float(x @ x) - p.log_z


def ou_paths(target, s, n, seed):
    """Rescaled OU paths sqrt(s (s+1)) X_{t(s)} on the SL grid ``s``, X_0 ~ target.

    The OU process is simulated with its exact Gaussian transitions, forward in OU time
    t(s) = (1/2) log(1 + 1/s), that is backwards along ``s``; at s = 0 (t infinite) the
    rescaled value is 0.

    Returns
    -------
    ndarray, shape (n, m, d)

    Examples
    --------
    >>> from companion.targets import rademacher
    >>> v = ou_paths(rademacher(1), [0.0, 1.0, 2.0], n=4, seed=0)
    >>> v.shape, bool(np.all(v[:, 0] == 0.0))
    ((4, 3, 1), True)
    """
    _check_target(target)
    grid = _check_grid(s)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    x = target.sample(n, seed)
    out = np.zeros((n, grid.size, target.dim))
    t_prev = 0.0
    for j in range(grid.size - 1, -1, -1):
        if grid[j] == 0.0:
            break
        t = clock.ou_time(grid[j])
        dt = t - t_prev
        z = rng.normals(n, target.dim, seed, step=grid.size - j)
        x = np.exp(-dt) * x + np.sqrt(-np.expm1(-2.0 * dt)) * z
        out[:, j] = scale(grid[j]) * x
        t_prev = t
    return out


# ------------------------------------------------------------ finite-dimensional laws
def _fdd_check(target, s):
    _check_target(target)
    g = check_array(s, "s", ndim=1)
    if g.size < 1 or np.any(g <= 0):
        raise ValueError("s must be a non-empty array of positive times")
    return g


def sl_fdd(target, s):
    """Law of (U_{s_1}, ..., U_{s_m}) as a mixture on R^{m d}.

    Given the component N(m_k, C_k) of x*, the vector is Gaussian with blocks
    E U_{s_i} = s_i m_k and Cov(U_{s_i}, U_{s_j}) = s_i s_j C_k + min(s_i, s_j) I.

    Examples
    --------
    >>> from companion.targets import gaussian
    >>> nu = sl_fdd(gaussian([0.0], [[2.0]]), [1.0, 3.0])
    >>> nu.covs[0].tolist()
    [[3.0, 7.0], [7.0, 21.0]]
    """
    g = _fdd_check(target, s)
    d = target.dim
    I = np.eye(d)
    K = target.n_components
    means = np.concatenate([si * target.means for si in g], axis=1)
    covs = np.empty((K, g.size * d, g.size * d))
    for i, si in enumerate(g):
        for j, sj in enumerate(g):
            covs[:, i * d:(i + 1) * d, j * d:(j + 1) * d] = si * sj * target.covs + min(si, sj) * I
    return GaussianMixture(target.weights, means, covs)


def ou_fdd(target, s):
    """Law of (sqrt(s_i(s_i+1)) X_{t(s_i)})_{i <= m} for the OU process X started at target.

    Built from the OU transition: for OU times a <= b, Cov(X_a, X_b) = e^{-(b-a)} Var(X_a),
    with Var(X_a) = e^{-2a} C_k + (1 - e^{-2a}) I given the component k of X_0.

    Examples
    --------
    >>> from companion.targets import gaussian
    >>> nu = ou_fdd(gaussian([0.0], [[2.0]]), [1.0, 3.0])
    >>> np.round(nu.covs[0], 12).tolist()
    [[3.0, 7.0], [7.0, 21.0]]
    """
    g = _fdd_check(target, s)
    ou = OU()
    d = target.dim
    I = np.eye(d)
    K = target.n_components
    t = np.array([clock.ou_time(si) for si in g])
    phi = scale(g)
    mc = ou.mean_coeff(t)
    means = np.concatenate([phi[i] * mc[i] * target.means for i in range(g.size)], axis=1)
    covs = np.empty((K, g.size * d, g.size * d))
    for i in range(g.size):
        for j in range(g.size):
            a, b = min(t[i], t[j]), max(t[i], t[j])
            var_a = float(ou.mean_coeff(a)) ** 2 * target.covs + float(ou.marginal_var(a)) * I
            block = float(ou.mean_coeff(b - a)) * var_a
            covs[:, i * d:(i + 1) * d, j * d:(j + 1) * d] = phi[i] * phi[j] * block
    covs = 0.5 * (covs + np.swapaxes(covs, 1, 2))
    return GaussianMixture(target.weights, means, covs)


# ------------------------------------------------------------- the reversed OU in SL time
def reverse_drift(target, s, x, form="tweedie"):
    """Drift of the reversed OU process written in SL time s (OU time t(s)), at x.

    ``form="score"``: x / (2 s (s+1)) + grad log q_{t(s)}(x) / (s (s+1)), the reverse SDE
    dX = (X + 2 grad log q_t(X)) (-dt) + sqrt(2) dW after the change of time dt/ds = -1/(2s(s+1));
    ``form="tweedie"``: -(2s+1) x / (2 s (s+1)) + E[X_0 | X_{t(s)} = x] / sqrt(s (s+1)).
    Both are the same function (Tweedie's formula); the noise coefficient is 1/sqrt(s(s+1)).

    Examples
    --------
    >>> from companion.targets import bimodal
    >>> mu = bimodal()
    >>> v1 = reverse_drift(mu, 0.8, [0.3], form="score")
    >>> v2 = reverse_drift(mu, 0.8, [0.3], form="tweedie")
    >>> bool(abs(v1[0] - v2[0]) < 1e-12)
    True
    """
    _check_target(target)
    s = _s_value(s, positive=True)
    pts, single = check_points(x, target.dim)
    t = clock.ou_time(s)
    if form == "score":
        out = pts / (2.0 * s * (s + 1.0)) + target.at(t).score(pts) / (s * (s + 1.0))
    elif form == "tweedie":
        m = target.posterior_mean(pts, clock.alpha(t), clock.sigma(t))
        out = -(2.0 * s + 1.0) * pts / (2.0 * s * (s + 1.0)) + m / scale(s)
    else:
        raise ValueError(f"form must be 'score' or 'tweedie', got {form!r}")
    return out[0] if single else out
