"""Information-theoretic quantities of the Reeves-Pfister analysis, and its samplers.

Two channels appear. The *SNR channel* ``Y = sqrt(s) X + N`` defines the MMSE function
``M(s) = E||X - E[X | Y]||^2`` and the mutual information ``I(s) = I(X; Y)`` (nats). The
*comparison process* ``Y_k = t_k X + W_k`` (``W`` a Brownian motion sampled on the grid
``0 = t_0 < t_1 < ... < t_n``) is the same channel in other units: ``Y_k / sqrt(t_k)`` is the
SNR channel at ``s = t_k``.

Accuracy. For a Gaussian target (one component, any d) every quantity is in closed form. For a
1-D Gaussian mixture (discrete laws included, e.g. Rademacher) the expectations over ``Y`` are
computed component by component by composite 16-point Gauss-Legendre quadrature in the
standardised variable of the component, on [-11, 11], with break points at the other
components' means and midpoints and panels narrower than the width of the posterior's
transitions; the result is accurate to about 1e-12. Nothing is computed as one minus a number
close to one:

* ``M(s) = sum_k w_k E_k[Var(X | Y)]`` with the posterior variance written as
  ``sum_j r_j v_j + sum_{i<j} r_i r_j (m_i - m_j)^2`` (no subtraction);
* ``I(s) = H(w) + (1/2) sum_k w_k log(1 + s c_k) - sum_k w_k E_k log(1 + sum_{j != k}
  w_j p_j(Y) / (w_k p_k(Y)))``, where ``E_k`` is over the k-th component of ``Y``: every term is
  non-negative and the last tends to zero at high SNR. For Rademacher this is
  ``log 2 - E log(1 + e^{-2U})``, ``U = s + sqrt(s) Z``.

The divergence ``Delta_n`` of the sampler on a grid is available two ways that share no code:
Lemma 2 (``method="immse"``: ``sum_k (delta_k/2) M(t_{k-1}) - I(t_n)``) and the chain rule of
relative entropy (``method="chain"``: ``sum_k E D(P_k(.|Y_{k-1}) || Q_k(.|Y_{k-1}))`` with the
inner divergence by Gauss-Hermite quadrature of the non-negative integrand
``u log u - u + 1``, ``u = dP/dQ``). The chain rule also serves the second-order kernel of
Remark 5 (``kernel="moment2"``), which has its own closed form (``method="logdet"``:
``(1/2) sum_k E log det(I + delta_k Sigma(Y_{k-1})) - I(t_n)``, because the Gaussian kernel with
the moments of ``P_k`` is at divergence ``h(Q_k) - h(P_k)`` from it).

Samplers (Numba kernels, counter-based noise: particle ``i`` at step ``k`` uses Philox stream
``i``, step ``k``, so results do not depend on the number of threads): the comparison process
(eqs. 2-3), the sampler of eq. 1 (``kernel="mean"``) or of Remark 5 (``kernel="moment2"``), and
the posterior-sampling chain of eq. 7, which has exactly the law of the comparison process.
"""
import math

import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed
from .targets import GaussianMixture, _log_resp

__all__ = ["mmse", "mutual_information", "delta_n", "comparison_process", "sampler",
           "posterior_sampler", "gaussian_path_laws", "gaussian_path_kl",
           "sampler_marginal_density", "posterior_moments", "check_grid", "theorem1_bound",
           "theorem2_bound", "telescoped_bound", "geometric_grid", "mmse_area", "mmse_derivative",
           "optimal_grid"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)
_GH_N = 200
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(_GH_N)
_GH_W = _GH_W / np.sqrt(2.0 * np.pi)
_ZMAX = 11.0
_LOG_2PI = math.log(2.0 * math.pi)


# ------------------------------------------------------------------------------ validation
def _check_target(target):
    if not isinstance(target, GaussianMixture):
        raise ValueError("target must be a GaussianMixture")
    return target


def _is_gaussian(target):
    return target.n_components == 1


def _check_1d_or_gaussian(target, what):
    if not (_is_gaussian(target) or target.dim == 1):
        raise ValueError(f"target must be a Gaussian (any d) or a 1-D mixture for {what}; "
                         f"got a {target.n_components}-component mixture in d = {target.dim}")


def _check_s(s):
    arr = check_array(s, "s")
    if np.any(arr < 0):
        raise ValueError("s must be >= 0")
    return arr


def check_grid(grid):
    """Validate a time grid ``0 = t_0 < t_1 < ... < t_n`` and return it as a float array.

    Examples
    --------
    >>> check_grid([0.0, 1.0, 3.0])
    array([0., 1., 3.])
    """
    g = check_array(grid, "grid", ndim=1)
    if g.size < 2:
        raise ValueError("grid must hold t_0 = 0 and at least one more time")
    if g[0] != 0.0:
        raise ValueError(f"grid must start at t_0 = 0, got {g[0]!r}")
    if np.any(np.diff(g) <= 0):
        raise ValueError("grid must be strictly increasing")
    return g


def geometric_grid(T, n, alpha):
    """The grid of eq. 8: ``t_k = (alpha^k - 1)/(alpha^n - 1) T``, steps ``delta_{k+1} = alpha delta_k``.

    ``alpha = 1`` gives uniform steps ``T / n``.

    Examples
    --------
    >>> geometric_grid(7.0, 3, 2.0)
    array([0., 1., 3., 7.])
    """
    T = check_float(T, "T", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    k = np.arange(n + 1, dtype=float)
    if alpha == 1.0:
        g = T * k / n
    else:
        la = math.log(alpha)
        if la < 0:
            # expm1 keeps the grid accurate when alpha is close to 1
            g = T * np.expm1(k * la) / math.expm1(n * la)
        else:
            # alpha > 1: divide through by alpha^n so that nothing overflows for large n log
            # alpha
            e = np.exp((k - n) * la)
            g = T * (e - e[0]) / -np.expm1(-n * la)
    # the ends are 0 and T by definition, not by arithmetic: exp and expm1 may differ in the
    # last bit from one processor (or code path) to another, and a grid that starts at
    # -4e-17 is not a grid (check_grid refuses it)
    g[0] = 0.0
    g[-1] = T
    return g


# ------------------------------------------------------------------- 1-D mixture kernels
@njit(cache=True)
def _comp_params(w, m, c, s):
    """Components of sqrt(s) X + N: means mu, variances v, posterior gains and variances."""
    K = w.shape[0]
    mu = np.empty(K)
    v = np.empty(K)
    gain = np.empty(K)
    pv = np.empty(K)
    rs = math.sqrt(s)
    for j in range(K):
        mu[j] = rs * m[j]
        v[j] = s * c[j] + 1.0
        gain[j] = rs * c[j] / v[j]
        pv[j] = c[j] / v[j]
    return mu, v, gain, pv


@njit(cache=True)
def _log_joint(y, logw, mu, v, out):
    """out[j] = log(w_j p_j(y)) for the components of the SNR channel."""
    for j in range(mu.shape[0]):
        d = y - mu[j]
        out[j] = logw[j] - 0.5 * (_LOG_2PI + math.log(v[j]) + d * d / v[j])


@njit(cache=True)
def _posterior_at(y, logw, m, mu, v, gain, pv, lj, r, pm):
    """Responsibilities r, component posterior means pm; returns (mean, variance) of X | Y = y."""
    K = mu.shape[0]
    _log_joint(y, logw, mu, v, lj)
    top = -np.inf
    for j in range(K):
        if lj[j] > top:
            top = lj[j]
    acc = 0.0
    for j in range(K):
        acc += math.exp(lj[j] - top)
    lse = top + math.log(acc)
    mean = 0.0
    within = 0.0
    for j in range(K):
        r[j] = math.exp(lj[j] - lse)
        pm[j] = m[j] + gain[j] * (y - mu[j])
        mean += r[j] * pm[j]
        within += r[j] * pv[j]
    between = 0.0
    for i in range(K):
        for j in range(i + 1, K):
            dm = pm[i] - pm[j]
            between += r[i] * r[j] * dm * dm
    return mean, within + between


@njit(cache=True)
def _info_kernel(z, wz, w, m, c, s, delta, out):
    """out[0] = M(s), out[1] = sum_k w_k E_k log(1 + sum_{j!=k} w_j p_j / (w_k p_k)),
    out[2] = E log(1 + delta Var(X | sqrt(s) X + N)), out[3] = E Var(X | sqrt(s) X + N)^2.

    z, wz: per component k, nodes and weights (rows k) of E over the standard normal.
    """
    K = w.shape[0]
    logw = np.empty(K)
    for j in range(K):
        logw[j] = math.log(w[j]) if w[j] > 0 else -np.inf
    mu, v, gain, pv = _comp_params(w, m, c, s)
    lj = np.empty(K)
    r = np.empty(K)
    pm = np.empty(K)
    M = 0.0
    G = 0.0
    L = 0.0
    V2 = 0.0
    for k in range(K):
        if w[k] == 0.0:
            continue
        sd = math.sqrt(v[k])
        accM = 0.0
        accG = 0.0
        accL = 0.0
        accV2 = 0.0
        for q in range(z.shape[1]):
            if wz[k, q] == 0.0:
                continue
            y = mu[k] + sd * z[k, q]
            _, var = _posterior_at(y, logw, m, mu, v, gain, pv, lj, r, pm)
            accM += wz[k, q] * var
            accL += wz[k, q] * math.log1p(delta * var)
            accV2 += wz[k, q] * var * var
            # log(1 + sum_{j != k} exp(l_j - l_k)), as a stable log-sum-exp with the 0 of j = k
            top = 0.0
            for j in range(K):
                if j != k and lj[j] - lj[k] > top:
                    top = lj[j] - lj[k]
            acc = math.exp(-top)
            for j in range(K):
                if j != k:
                    acc += math.exp(lj[j] - lj[k] - top)
            accG += wz[k, q] * (top + math.log(acc))
        M += w[k] * accM
        G += w[k] * accG
        L += w[k] * accL
        V2 += w[k] * accV2
    out[0] = M
    out[1] = G
    out[2] = L
    out[3] = V2


def _nodes(target, s):
    """Composite Gauss-Legendre nodes for E over each component of sqrt(s) X + N.

    Returns z, wz of shape (K, Q) (rows padded with zero weights): E_k g = sum_q wz g(mu_k + sd_k z).
    """
    w = target.weights
    m = target.means[:, 0]
    c = target.covs[:, 0, 0]
    K = w.size
    mu = np.sqrt(s) * m
    v = s * c + 1.0
    sd = np.sqrt(v)
    # the steepest log-ratio between two components sets the width of the posterior's transitions
    G = 0.0
    for i in range(K):
        for j in range(i + 1, K):
            lin = abs(mu[i] / v[i] - mu[j] / v[j])
            quad = abs(1.0 / v[i] - 1.0 / v[j]) * (np.max(np.abs(mu)) + _ZMAX * sd.max())
            G = max(G, lin + quad)
    rows_z, rows_w = [], []
    for k in range(K):
        width = 2.0 if G == 0.0 else min(2.0, 4.0 / (G * sd[k]))
        bp = [-_ZMAX, _ZMAX]
        for j in range(K):
            if j != k:
                for y in (mu[j], 0.5 * (mu[j] + mu[k])):
                    zz = (y - mu[k]) / sd[k]
                    if -_ZMAX < zz < _ZMAX:
                        bp.append(zz)
        bp = np.unique(bp)
        zs, ws = [], []
        for a, b in zip(bp[:-1], bp[1:]):
            p = max(1, int(np.ceil((b - a) / width)))
            edges = np.linspace(a, b, p + 1)
            half = 0.5 * np.diff(edges)
            mid = 0.5 * (edges[:-1] + edges[1:])
            zs.append((mid[:, None] + half[:, None] * _GL_X).ravel())
            ws.append((half[:, None] * _GL_W).ravel())
        zk = np.concatenate(zs)
        wk = np.concatenate(ws) * np.exp(-0.5 * zk * zk) / np.sqrt(2.0 * np.pi)
        rows_z.append(zk)
        rows_w.append(wk)
    Q = max(len(r) for r in rows_z)
    z = np.zeros((K, Q))
    wz = np.zeros((K, Q))
    for k in range(K):
        z[k, :rows_z[k].size] = rows_z[k]
        wz[k, :rows_w[k].size] = rows_w[k]
    return z, wz


def _mixture_info(target, s, delta=0.0):
    """(M(s), I(s), E log(1 + delta V), E V^2), V = Var(X | sqrt(s) X + N), for a 1-D mixture
    by quadrature."""
    if s == 0.0:
        var = float(target.cov()[0, 0])
        return var, 0.0, float(np.log1p(delta * var)), var * var
    w = target.weights
    c = target.covs[:, 0, 0]
    z, wz = _nodes(target, s)
    out = np.empty(4)
    _info_kernel(z, wz, w, target.means[:, 0], c, float(s), float(delta), out)
    pos = w > 0
    H = -float(np.sum(w[pos] * np.log(w[pos])))
    I = H + 0.5 * float(np.sum(w * np.log1p(s * c))) - out[1]
    return float(out[0]), float(max(I, 0.0)), float(out[2]), float(out[3])


def _gaussian_eigs(target):
    return np.clip(np.linalg.eigvalsh(target.covs[0]), 0.0, None)


def _vectorise(fun, target, s):
    arr = _check_s(s)
    vals = np.array([fun(target, float(x)) for x in arr.ravel()]).reshape(arr.shape)
    return float(vals) if vals.ndim == 0 else vals


def _mmse_one(target, s):
    if _is_gaussian(target):
        lam = _gaussian_eigs(target)
        return float(np.sum(lam / (1.0 + s * lam)))
    return _mixture_info(target, s)[0]


def _dmmse_one(target, s):
    if _is_gaussian(target):
        sig = _gaussian_eigs(target)
        sig = sig / (1.0 + s * sig)
        return -float(np.sum(sig * sig))
    return -_mixture_info(target, s)[3]


def _mi_one(target, s):
    if _is_gaussian(target):
        return float(0.5 * np.sum(np.log1p(s * _gaussian_eigs(target))))
    return _mixture_info(target, s)[1]


def mmse(target, s):
    """The MMSE function ``M(s) = E||X - E[X | sqrt(s) X + N]||^2``.

    Parameters
    ----------
    target : GaussianMixture
        A Gaussian in any dimension (closed form ``tr C (I + s C)^{-1}``) or a 1-D mixture,
        discrete laws included (quadrature, accurate to about 1e-12).
    s : float or array_like
        Signal-to-noise ratio(s), >= 0.

    Returns
    -------
    float or ndarray (the shape of ``s``)

    Examples
    --------
    >>> from companion import targets
    >>> round(mmse(targets.gaussian([0.0], [[2.0]]), 1.5), 12)
    0.5
    >>> round(mmse(targets.rademacher(), 0.0), 12)
    1.0
    """
    _check_target(target)
    _check_1d_or_gaussian(target, "mmse")
    return _vectorise(_mmse_one, target, s)


def mmse_derivative(target, s):
    """``M'(s) = -E tr(Cov(X | sqrt(s) X + N)^2)``: the MMSE falls at the rate of the expected
    squared posterior covariance (the derivative of I-MMSE; chapter 5 proves it along the
    localization process).

    Closed form ``-tr (C (I + s C)^{-1})^2`` for a Gaussian; quadrature for a 1-D mixture.

    Examples
    --------
    >>> from companion import targets
    >>> round(mmse_derivative(targets.gaussian([0.0], [[2.0]]), 1.5), 12)      # -(2/4)^2
    -0.25
    """
    _check_target(target)
    _check_1d_or_gaussian(target, "mmse_derivative")
    return _vectorise(_dmmse_one, target, s)


def optimal_grid(target, T, n, nodes=1001):
    """The grid with steps proportional to ``1 / sqrt(-M')``, which minimises the leading term
    ``(1/(4 n)) int_0^1 phi'(u)^2 (-M'(phi(u))) du`` of ``Delta_n`` (exact means) over grids
    ``t_k = phi(k / n)``.

    ``t_k`` solves ``int_0^{t_k} sqrt(-M') = (k / n) int_0^T sqrt(-M')``; the integral is a
    trapezoid rule on ``nodes`` uniform points, enough for a grid (it is a design, not an
    identity: any grid gives an exact Delta_n).

    Examples
    --------
    >>> from companion import targets
    >>> g = optimal_grid(targets.gaussian([0.0], [[1.0]]), 3.0, 3)
    >>> bool(np.allclose(g, [0.0, 0.5874, 1.5198, 3.0], atol=1e-3))   # (1 + t) geometric: 4^(k/3) - 1
    True
    """
    _check_target(target)
    _check_1d_or_gaussian(target, "optimal_grid")
    T = check_float(T, "T", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    nodes = check_int(nodes, "nodes", low=3)
    u = np.linspace(0.0, T, nodes)
    w = np.sqrt(np.maximum(-np.asarray(mmse_derivative(target, u)), 0.0))
    if not np.all(np.isfinite(w)) or w.max() <= 0.0:
        raise ValueError("target has a constant MMSE on [0, T] (a point mass): no optimal grid")
    w = w + 1e-12 * w.max()                 # keep the cumulative integral strictly increasing
    W = np.concatenate([[0.0], np.cumsum(0.5 * (w[1:] + w[:-1]) * np.diff(u))])
    g = np.interp(np.arange(n + 1) / n * W[-1], W, u)
    g[0], g[-1] = 0.0, T
    return g


def mutual_information(target, s):
    """``I(s) = I(X; sqrt(s) X + N)`` in nats.

    Closed form ``(1/2) log det(I + s C)`` for a Gaussian target; for a 1-D mixture the
    cancellation-free quadrature described in the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import targets
    >>> bool(np.isclose(mutual_information(targets.gaussian([0.0], [[3.0]]), 1.0), np.log(2.0)))
    True
    >>> bool(abs(mutual_information(targets.rademacher(), 60.0) - np.log(2.0)) < 1e-10)
    True
    """
    _check_target(target)
    _check_1d_or_gaussian(target, "mutual_information")
    return _vectorise(_mi_one, target, s)


# -------------------------------------------------------------------- Delta_n: chain rule
@njit(cache=True)
def _phi(L):
    """u log u - u + 1 at u = e^L, without cancellation for small L."""
    if abs(L) < 0.05:
        term = L * L
        acc = 0.0
        fact = 2.0
        for k in range(2, 14):
            acc += term * (k - 1) / fact
            term *= L
            fact *= k + 1
        return acc
    return L * math.exp(L) - math.expm1(L)


@njit(cache=True, parallel=True)
def _chain_step_kernel(z, wz, w, m, c, t, delta, moment2, ghx, ghw, out):
    """out[k, q] = D(P(.|y) || Q(.|y)) at the node y of component k, for one step.

    In units where the step's increment is divided by delta: P is the posterior of X given
    Y_{k-1} convolved with N(0, 1/delta), Q is N(f, 1/delta) or N(f, Sigma + 1/delta).
    """
    K = w.shape[0]
    logw = np.empty(K)
    for j in range(K):
        logw[j] = math.log(w[j]) if w[j] > 0 else -np.inf
    mu, v, gain, pv = _comp_params(w, m, c, t)
    Q = z.shape[1]
    inv = 1.0 / delta
    for idx in prange(K * Q):
        k = idx // Q
        q = idx % Q
        if wz[k, q] == 0.0:
            out[k, q] = 0.0
            continue
        lj = np.empty(K)
        r = np.empty(K)
        pm = np.empty(K)
        y = mu[k] + math.sqrt(v[k]) * z[k, q]
        f, var = _posterior_at(y, logw, m, mu, v, gain, pv, lj, r, pm)
        vq = inv + var if moment2 else inv
        sq = math.sqrt(vq)
        # log dP/dQ at x = f + sq * h: log sum_j r_j N(x; pm_j, pv_j + 1/delta) / N(x; f, vq),
        # each term written relative to its own log r_j so that nearly equal laws give L ~ 0
        b = np.empty(K)
        lr = np.empty(K)
        cst = np.empty(K)
        lin = np.empty(K)
        quad = np.empty(K)
        for j in range(K):
            lr[j] = math.log(r[j]) if r[j] > 0.0 else -np.inf
            vj = pv[j] + inv
            e = f - pm[j]
            # vq / vj - 1 written without subtracting nearly equal numbers
            rat = (var - pv[j]) / vj if moment2 else -pv[j] / vj
            cst[j] = 0.5 * math.log1p(rat) - 0.5 * e * e / vj
            lin[j] = -e * sq / vj
            quad[j] = -0.5 * rat
        acc = 0.0
        for g in range(ghx.shape[0]):
            h = ghx[g]
            top = -np.inf
            for j in range(K):
                b[j] = cst[j] + lin[j] * h + quad[j] * h * h
                if lr[j] + b[j] > top:
                    top = lr[j] + b[j]
            if top < 1.0 and top > -1.0:
                s1 = 0.0
                for j in range(K):
                    if r[j] > 0.0:
                        s1 += r[j] * math.expm1(b[j])
                L = math.log1p(s1) if s1 > -1.0 else -np.inf
            else:
                s2 = 0.0
                for j in range(K):
                    if r[j] > 0.0:
                        s2 += math.exp(lr[j] + b[j] - top)
                L = top + math.log(s2)
            if L == -np.inf:
                acc += ghw[g]
            else:
                acc += ghw[g] * _phi(L)
        out[k, q] = acc


def _chain_step(target, t, delta, moment2):
    w = target.weights
    m = target.means[:, 0]
    c = target.covs[:, 0, 0]
    if t == 0.0:
        z = np.zeros((w.size, 1))
        wz = np.zeros((w.size, 1))
        wz[0, 0] = 1.0                      # Y_0 = 0: one evaluation at y = 0
        out = np.empty((w.size, 1))
        _chain_step_kernel(z, wz, w, m, c, 0.0, delta, moment2, _GH_X, _GH_W, out)
        return float(out[0, 0])
    z, wz = _nodes(target, t)
    out = np.empty_like(z)
    _chain_step_kernel(z, wz, w, m, c, t, delta, moment2, _GH_X, _GH_W, out)
    return float(np.sum(w * np.sum(wz * out, axis=1)))


def _x_minus_log1p(x):
    """x - log(1 + x) for x >= 0 without cancellation."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-2
    out = np.empty_like(x)
    xs = x[small]
    out[small] = xs * xs * (0.5 - xs * (1 / 3 - xs * (0.25 - xs * (0.2 - xs * (1 / 6 - xs / 7)))))
    out[~small] = x[~small] - np.log1p(x[~small])
    return out


def delta_n(target, grid, kernel="mean", method=None):
    """The exact path divergence ``Delta_n = D(Law(Y_1..Y_n) || Law(Z_1..Z_n))``.

    ``Z`` is the sampler of eq. 1 with the exact conditional means (``kernel="mean"``) or the
    Remark 5 sampler, which also matches the conditional covariance (``kernel="moment2"``).

    Parameters
    ----------
    target : GaussianMixture
        Gaussian (any d, closed form) or a 1-D mixture.
    grid : array_like
        ``0 = t_0 < t_1 < ... < t_n``.
    kernel : {"mean", "moment2"}
    method : {"immse", "logdet", "chain"}, optional
        ``"immse"``: Lemma 2, ``sum_k (delta_k/2) M(t_{k-1}) - I(t_n)`` (mean kernel only).
        ``"logdet"``: ``(1/2) sum_k E log det(I + delta_k Sigma(Y_{k-1})) - I(t_n)``, with
        ``Sigma(y)`` the posterior covariance of X given ``Y(t_{k-1}) = y`` (``"moment2"`` only).
        ``"chain"``: the chain rule ``sum_k E D(P_k || Q_k)``, which never uses I-MMSE.
        Default: ``"immse"`` for the mean kernel, ``"chain"`` for ``"moment2"``.

    Returns
    -------
    float

    Examples
    --------
    >>> from companion import targets
    >>> mu = targets.rademacher()
    >>> g = [0.0, 0.5, 1.0, 2.0]
    >>> a, b = delta_n(mu, g), delta_n(mu, g, method="chain")
    >>> bool(abs(a - b) < 1e-10)
    True
    """
    _check_target(target)
    _check_1d_or_gaussian(target, "delta_n")
    g = check_grid(grid)
    if kernel not in ("mean", "moment2"):
        raise ValueError(f"kernel must be 'mean' or 'moment2', got {kernel!r}")
    if method is None:
        method = "immse" if kernel == "mean" else "chain"
    if method not in ("immse", "logdet", "chain"):
        raise ValueError(f"method must be 'immse', 'logdet' or 'chain', got {method!r}")
    if method == "immse" and kernel != "mean":
        raise ValueError("method='immse' (Lemma 2) holds for kernel='mean' only")
    if method == "logdet" and kernel != "moment2":
        raise ValueError("method='logdet' holds for kernel='moment2' only")
    d = np.diff(g)
    if method == "immse":
        M = mmse(target, g[:-1])
        return float(np.sum(0.5 * d * M) - mutual_information(target, g[-1]))
    if method == "logdet":
        if _is_gaussian(target):
            lam = _gaussian_eigs(target)
            sig = lam[None, :] / (1.0 + g[:-1, None] * lam[None, :])
            logdet = float(np.sum(np.log1p(d[:, None] * sig)))
        else:
            logdet = sum(_mixture_info(target, float(t), float(dk))[2]
                         for t, dk in zip(g[:-1], d))
        return float(0.5 * logdet - mutual_information(target, g[-1]))
    if _is_gaussian(target):
        if kernel == "moment2":
            return 0.0
        lam = _gaussian_eigs(target)
        sig = lam[None, :] / (1.0 + g[:-1, None] * lam[None, :])    # posterior covariance
        return float(0.5 * np.sum(_x_minus_log1p(d[:, None] * sig)))
    moment2 = kernel == "moment2"
    return float(sum(_chain_step(target, float(t), float(dk), moment2)
                     for t, dk in zip(g[:-1], d)))


def mmse_area(target, grid, nodes=20):
    """``int_{t_0}^{t_n} M(s) ds`` by ``nodes``-point Gauss-Legendre on every step of ``grid``.

    M is analytic on each step, so 20 nodes on steps of length O(1) reach the accuracy of M
    itself; this is the area side of the I-MMSE relation and of Figure 1.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import targets
    >>> mu = targets.gaussian([0.0], [[1.0]])
    >>> bool(np.isclose(mmse_area(mu, [0.0, 1.0, 3.0]), np.log(4.0)))
    True
    """
    _check_target(target)
    g = check_grid(grid) if np.asarray(grid)[0] == 0.0 else check_array(grid, "grid", ndim=1)
    if g.size < 2 or np.any(np.diff(g) <= 0):
        raise ValueError("grid must be strictly increasing with at least two points")
    nodes = check_int(nodes, "nodes", low=2)
    x, w = np.polynomial.legendre.leggauss(nodes)
    a, b = g[:-1, None], g[1:, None]
    pts = 0.5 * (a + b) + 0.5 * (b - a) * x
    M = np.asarray(mmse(target, pts.ravel())).reshape(pts.shape)
    return float(np.sum(0.5 * (b - a) * w * M))


# ------------------------------------------------------------------------- bounds (Thm 1-2)
def theorem1_bound(target, grid):
    """Theorem 1 with exact conditional means: ``(delta_max / 2) tr Cov X``."""
    _check_target(target)
    g = check_grid(grid)
    return float(0.5 * np.max(np.diff(g)) * np.trace(target.cov()))


def telescoped_bound(target, grid):
    """The two intermediate bounds of the proof of Theorem 1 (exact f):
    ``sum_k (delta_k/2)(M(t_{k-1}) - M(t_k))`` and ``(delta_max/2)(M(0) - M(t_n))``."""
    _check_target(target)
    g = check_grid(grid)
    M = np.atleast_1d(mmse(target, g))
    d = np.diff(g)
    return float(np.sum(0.5 * d * (M[:-1] - M[1:]))), float(0.5 * d.max() * (M[0] - M[-1]))


def theorem2_bound(target, T, n, alpha):
    """Theorem 2: ``(alpha - 1)(T (M(0) - M(T)) / (2 (alpha^n - 1)) + I(T) - T M(T) / 2)``.

    At ``alpha = 1`` the limit ``T (M(0) - M(T)) / (2 n)`` is returned.
    """
    _check_target(target)
    T = check_float(T, "T", low=0.0, low_open=True)
    n = check_int(n, "n", low=1)
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    M0, MT = mmse(target, 0.0), mmse(target, T)
    if alpha == 1.0:
        return float(T * (M0 - MT) / (2 * n))
    return float((alpha - 1.0) * (T * (M0 - MT) / (2.0 * (alpha**n - 1.0))
                                  + mutual_information(target, T) - T * MT / 2.0))


# ------------------------------------------------------------------ Gaussian path laws
def gaussian_path_laws(target, grid, gain=1.0, kernel="mean"):
    """Exact laws of ``(Y_1..Y_n)`` and ``(Z_1..Z_n)`` for a 1-D Gaussian target.

    The sampler uses ``f_k(z) = gain * E[X | Y_{k-1} = z]`` (``gain = 1``: exact conditional
    mean) and, with ``kernel="moment2"``, the extra noise variance ``delta_k^2 Sigma_k`` of
    Remark 5. Both processes are Gaussian; their means and covariance matrices are built from
    ``Y_k = t_k X + W_k`` and from the linear recursion ``Z_k = a_k Z_{k-1} + b_k + noise``.

    Returns
    -------
    mY, KY, mZ, KZ : ndarrays of shapes (n,), (n, n), (n,), (n, n)

    Examples
    --------
    >>> from companion import targets
    >>> mY, KY, mZ, KZ = gaussian_path_laws(targets.gaussian([0.0], [[2.0]]), [0.0, 1.0, 2.0],
    ...                                     kernel="moment2")
    >>> bool(abs(KY - KZ).max() < 1e-12)
    True
    """
    _check_target(target)
    if not (_is_gaussian(target) and target.dim == 1):
        raise ValueError("target must be a 1-D Gaussian (use gaussian_path_kl in d > 1)")
    g = check_grid(grid)
    gain = check_float(gain, "gain")
    if kernel not in ("mean", "moment2"):
        raise ValueError(f"kernel must be 'mean' or 'moment2', got {kernel!r}")
    return _path_laws_1d(float(target.means[0, 0]), float(target.covs[0, 0, 0]), g, gain, kernel)


def _path_laws_1d(m, c, g, gain, kernel):
    t = g[1:]
    n = t.size
    mY = t * m
    KY = c * np.outer(t, t) + np.minimum.outer(t, t)
    mZ = np.empty(n)
    var = np.empty(n)
    a = np.empty(n)
    zm, zv = 0.0, 0.0
    for k in range(n):
        tp, dk = g[k], g[k + 1] - g[k]
        slope = c / (1.0 + c * tp)                  # E[X | Y = y] = m + slope (y - tp m)
        a[k] = 1.0 + dk * gain * slope
        b = dk * gain * (m - slope * tp * m)
        noise = dk + (dk * dk * slope if kernel == "moment2" else 0.0)  # Sigma_k = slope
        zm = a[k] * zm + b
        zv = a[k] ** 2 * zv + noise
        mZ[k], var[k] = zm, zv
    KZ = np.empty((n, n))
    for j in range(n):
        KZ[j, j] = var[j]
        prod = 1.0
        for k in range(j + 1, n):
            prod *= a[k]
            KZ[j, k] = KZ[k, j] = prod * var[j]
    return mY, KY, mZ, KZ


def gaussian_path_kl(target, grid, gain=1.0, kernel="mean"):
    """Exact ``D(Law(Y_1..Y_n) || Law(Z_1..Z_n))`` for a Gaussian target in any d, by the
    log-determinant formula for the two Gaussian path laws (summed over the eigen-coordinates
    of Cov X, which are independent under both processes). Shares no code with
    :func:`delta_n`.

    Examples
    --------
    >>> from companion import targets
    >>> mu = targets.gaussian([0.0], [[2.0]])
    >>> g = [0.0, 1.0, 2.0, 3.0]
    >>> bool(abs(gaussian_path_kl(mu, g) - delta_n(mu, g)) < 1e-12)
    True
    """
    _check_target(target)
    if not _is_gaussian(target):
        raise ValueError("target must be a Gaussian (one component)")
    g = check_grid(grid)
    gain = check_float(gain, "gain")
    if kernel not in ("mean", "moment2"):
        raise ValueError(f"kernel must be 'mean' or 'moment2', got {kernel!r}")
    lam, U = np.linalg.eigh(target.covs[0])
    mrot = U.T @ target.means[0]
    total = 0.0
    for ci, mi in zip(np.clip(lam, 0.0, None), mrot):
        mY, KY, mZ, KZ = _path_laws_1d(float(mi), float(ci), g, gain, kernel)
        LY = np.linalg.cholesky(KY)
        LZ = np.linalg.cholesky(KZ)
        A = np.linalg.solve(LZ, LY)
        u = np.linalg.solve(LZ, mZ - mY)
        total += 0.5 * (np.sum(A * A) + u @ u - mY.size
                        + 2.0 * (np.sum(np.log(np.diag(LZ))) - np.sum(np.log(np.diag(LY)))))
    return float(total)


# ------------------------------------------------------------------------------ samplers
def _step_tables(target, g):
    """Per-step posterior tables for Y_{k-1} = t X + sqrt(t) N at t = t_{k-1}, k = 1..n."""
    K, d = target.n_components, target.dim
    n = g.size - 1
    centers = np.zeros((n, K, d))
    prec = np.zeros((n, K, d, d))
    logdet = np.zeros((n, K))
    gainm = np.zeros((n, K, d, d))
    pchol = np.zeros((n, K, d, d))
    pcov = np.zeros((n, K, d, d))
    eye = np.eye(d)
    for k in range(n):
        t = g[k]
        for j in range(K):
            C = target.covs[j]
            if t == 0.0:
                P = C.copy()
            else:
                S = t * t * C + t * eye
                Si = np.linalg.inv(S)
                Si = 0.5 * (Si + Si.T)
                centers[k, j] = t * target.means[j]
                prec[k, j] = Si
                logdet[k, j] = np.linalg.slogdet(S)[1]
                gainm[k, j] = t * C @ Si
                P = C - t * gainm[k, j] @ C
                P = 0.5 * (P + P.T)
            pcov[k, j] = P
            lam, vec = np.linalg.eigh(P)
            pchol[k, j] = (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T
    return centers, prec, logdet, gainm, pcov, pchol


@njit(cache=True)
def _chol_inplace(A, L):
    d = A.shape[0]
    for i in range(d):
        for j in range(i + 1):
            acc = A[i, j]
            for k in range(j):
                acc -= L[i, k] * L[j, k]
            if i == j:
                L[i, i] = math.sqrt(acc) if acc > 0.0 else 0.0
            else:
                L[i, j] = acc / L[j, j] if L[j, j] > 0.0 else 0.0
        for j in range(i + 1, d):
            L[i, j] = 0.0


@njit(cache=True, parallel=True)
def _sampler_kernel(g, log_w, means, centers, prec, logdet, gainm, pcov, pchol, mode, seed,
                    paths):
    """mode 0: eq. 1 (mean); 1: Remark 5 (mean and covariance); 2: eq. 7 (posterior draw)."""
    npart, n1, d = paths.shape
    n = n1 - 1
    K = means.shape[0]
    for i in prange(npart):
        y = np.zeros(d)
        lk = np.empty(K)
        pdiff = np.empty((K, d))
        pm = np.empty((K, d))
        f = np.empty(d)
        z = np.empty(2 * d)
        Sig = np.empty((d, d))
        L = np.empty((d, d))
        xk = np.empty(d)
        for a in range(d):
            paths[i, 0, a] = 0.0
        for k in range(n):
            dk = g[k + 1] - g[k]
            # responsibilities of the components given Y_{k-1} = y (the mixture's own kernel)
            _log_resp(y, log_w, centers[k], prec[k], logdet[k], lk, pdiff)
            for j in range(K):
                lk[j] = math.exp(lk[j])
                for a in range(d):
                    acc = means[j, a]
                    for b in range(d):
                        acc += gainm[k, j, a, b] * (y[b] - centers[k, j, b])
                    pm[j, a] = acc
            rng._fill_normals(seed, k + 1, i, z)
            sq = math.sqrt(dk)
            if mode == 2:
                u = rng._uniform(seed, k + 1, i)
                jj = 0
                cum = lk[0]
                while jj < K - 1 and u > cum:
                    jj += 1
                    cum += lk[jj]
                for a in range(d):
                    acc = pm[jj, a]
                    for b in range(d):
                        acc += pchol[k, jj, a, b] * z[b]
                    xk[a] = acc
                for a in range(d):
                    y[a] += dk * xk[a] + sq * z[d + a]
            else:
                for a in range(d):
                    acc = 0.0
                    for j in range(K):
                        acc += lk[j] * pm[j, a]
                    f[a] = acc
                if mode == 0:
                    for a in range(d):
                        y[a] += dk * f[a] + sq * z[d + a]
                else:
                    for a in range(d):
                        for b in range(d):
                            acc = 0.0
                            for j in range(K):
                                acc += lk[j] * (pcov[k, j, a, b]
                                                + (pm[j, a] - f[a]) * (pm[j, b] - f[b]))
                            Sig[a, b] = dk * dk * acc + (dk if a == b else 0.0)
                    _chol_inplace(Sig, L)
                    for a in range(d):
                        acc = 0.0
                        for b in range(a + 1):
                            acc += L[a, b] * z[d + b]
                        y[a] += dk * f[a] + acc
            for a in range(d):
                paths[i, k + 1, a] = y[a]


def _run_sampler(target, grid, n, seed, mode):
    _check_target(target)
    g = check_grid(grid)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    tables = _step_tables(target, g)
    with np.errstate(divide="ignore"):
        log_w = np.log(target.weights)
    paths = np.empty((n, g.size, target.dim))
    _sampler_kernel(g, log_w, target.means, *tables, mode, np.uint64(seed), paths)
    return paths


def sampler(target, grid, n, seed, kernel="mean"):
    """Paths of the sampler started at ``Z_0 = 0`` with exact conditional moments.

    ``kernel="mean"``: eq. 1, ``Z_k = Z_{k-1} + delta_k f_k(Z_{k-1}) + sqrt(delta_k) N_k``
    with ``f_k(y) = E[X | Y_{k-1} = y]``. ``kernel="moment2"``: Remark 5, the noise has
    covariance ``delta_k^2 Sigma_k(Z_{k-1}) + delta_k I`` with ``Sigma_k`` the conditional
    covariance.

    Returns
    -------
    ndarray, shape (n, len(grid), d): ``paths[:, k]`` is ``Z_k``.

    Examples
    --------
    >>> from companion import targets
    >>> z = sampler(targets.rademacher(), [0.0, 1.0, 2.0], 4, seed=0)
    >>> z.shape, float(z[0, 0, 0])
    ((4, 3, 1), 0.0)
    """
    if kernel not in ("mean", "moment2"):
        raise ValueError(f"kernel must be 'mean' or 'moment2', got {kernel!r}")
    return _run_sampler(target, grid, n, seed, 0 if kernel == "mean" else 1)


def posterior_sampler(target, grid, n, seed):
    """Paths of eq. 7: ``Y_k = Y_{k-1} + delta_k X_k + sqrt(delta_k) N_k`` with ``X_k`` drawn
    from the exact posterior of ``X`` given ``Y_{k-1}``. Same law as the comparison process.

    Examples
    --------
    >>> from companion import targets
    >>> posterior_sampler(targets.rademacher(), [0.0, 1.0], 3, seed=1).shape
    (3, 2, 1)
    """
    return _run_sampler(target, grid, n, seed, 2)


def comparison_process(target, grid, n, seed):
    """Draws of the comparison process ``Y_k = t_k X + W_k`` (eqs. 2-3).

    Returns
    -------
    X : ndarray, shape (n, d)
    Y : ndarray, shape (n, len(grid), d), with ``Y[:, 0] = 0``.

    Examples
    --------
    >>> from companion import targets
    >>> X, Y = comparison_process(targets.rademacher(), [0.0, 0.5, 2.0], 5, seed=2)
    >>> X.shape, Y.shape
    ((5, 1), (5, 3, 1))
    """
    _check_target(target)
    g = check_grid(grid)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    X = target.sample(n, seed)
    d = target.dim
    Y = np.zeros((n, g.size, d))
    W = np.zeros((n, d))
    for k in range(1, g.size):
        dk = g[k] - g[k - 1]
        W = W + np.sqrt(dk) * rng.normals(n, d, seed, step=k)
        Y[:, k] = g[k] * X + W
    return X, Y


def posterior_moments(target, t, y):
    """Mean and covariance of X given ``Y = t X + sqrt(t) N = y`` (the sampler's f_k, Sigma_k).

    Examples
    --------
    >>> from companion import targets
    >>> m, c = posterior_moments(targets.rademacher(), 2.0, [[0.3]])
    >>> bool(abs(m[0, 0] - 0.29131261245) < 1e-10)
    True
    """
    _check_target(target)
    t = check_float(t, "t", low=0.0, low_open=True)
    return target.posterior(y, a=t, sigma=np.sqrt(t))


# ---------------------------------------------------------- 1-D law of Z_n on a grid
@njit(cache=True, parallel=True)
def _propagate_kernel(x, h, p, shift, var, out):
    """out(x_i) = sum_j h p_j N(x_i; x_j + shift_j, var_j) (trapezoid rule, p ~ 0 at the ends)."""
    n = x.shape[0]
    for i in prange(n):
        acc = 0.0
        for j in range(n):
            if p[j] == 0.0:
                continue
            dlt = x[i] - x[j] - shift[j]
            acc += p[j] * math.exp(-0.5 * dlt * dlt / var[j]) / math.sqrt(2.0 * math.pi * var[j])
        out[i] = h * acc


def sampler_marginal_density(target, grid, x, kernel="mean"):
    """Density of the sampler's ``Z_n`` (1-D target) on the uniform grid ``x``.

    ``Z_1`` is Gaussian exactly; each further step is the transition density integrated by
    the trapezoid rule over ``x``, which must extend well beyond the law's support (the
    density must vanish at both ends) with a spacing well below ``sqrt(min_k delta_k)``.

    Examples
    --------
    >>> import numpy as np
    >>> from companion import targets
    >>> x = np.linspace(-12, 12, 2401)
    >>> p = sampler_marginal_density(targets.rademacher(), [0.0, 1.0, 2.0], x)
    >>> bool(abs(p.sum() * (x[1] - x[0]) - 1.0) < 1e-9)
    True
    """
    _check_target(target)
    if target.dim != 1:
        raise ValueError("sampler_marginal_density needs a 1-D target")
    g = check_grid(grid)
    xs = check_array(x, "x", ndim=1)
    if xs.size < 10 or np.any(np.diff(xs) <= 0):
        raise ValueError("x must be an increasing grid of at least 10 points")
    h = float(xs[1] - xs[0])
    if not np.allclose(np.diff(xs), h, rtol=1e-9, atol=0.0):
        raise ValueError("x must be uniformly spaced")
    if kernel not in ("mean", "moment2"):
        raise ValueError(f"kernel must be 'mean' or 'moment2', got {kernel!r}")
    d1 = g[1]
    f1 = float(target.mean()[0])
    v1 = d1 + (d1 * d1 * float(target.cov()[0, 0]) if kernel == "moment2" else 0.0)
    p = np.exp(-0.5 * (xs - d1 * f1) ** 2 / v1) / np.sqrt(2 * np.pi * v1)
    for k in range(2, g.size):
        t, dk = g[k - 1], g[k] - g[k - 1]
        f, S = target.posterior(xs[:, None], a=t, sigma=np.sqrt(t))
        var = np.full(xs.size, dk)
        if kernel == "moment2":
            var = var + dk * dk * S[:, 0, 0]
        out = np.empty_like(p)
        _propagate_kernel(xs, h, p, dk * f[:, 0], var, out)
        p = out
    return p
