"""The terms of the BBDD23 error decomposition, computed exactly or by quadrature.

Notation: OU forward process, q_u = Law(X_u), sigma_u^2 = 1 - e^{-2u}, Sigma_u(x) = Cov(X_0 | X_u = x),
reverse process Y_t = X_{T-t}, S_t = grad log q_{T-t}(Y_t), H_t = Hess log q_{T-t}(Y_t).

* :func:`posterior_moments` - E tr Sigma_u, E tr Sigma_u^2, E||grad log q_u||^2 and
  E||Hess log q_u||_F^2 under q_u: closed form for a Gaussian in any dimension, Gauss-Hermite
  quadrature per component for 1-D mixtures.
* :func:`pair_moments` - the two-time moments E_{s,t} = E||S_t - S_s||^2, E[S_t . S_s],
  E||S_s||^2, E||H_t||_F^2: closed form for Gaussians, 2-D tensor Gauss-Hermite per component
  (a Numba kernel) for 1-D mixtures.
* :func:`error3` - the discretisation term sum_k int_{t_k}^{t_{k+1}} E_{t_k,t} dt (Gauss-Legendre
  in t on every step); :func:`error3_fisher` - the same from the Fisher information curve alone
  (one-time moments, Gauss-Legendre on every step: an independent route); :func:`path_kl_gaussian` - the Girsanov path KL of the exponential
  integrator with a score error, for Gaussian data, computed directly from the joint law.
* :func:`ei_gaussian_law` and :func:`sampler_kl_gaussian` - the exact output law and terminal KL
  of the exponential integrator for data N(mean, c I), coordinate by coordinate (a scalar
  recursion, so any d costs the same), with multiplicative and additive score errors.
* :func:`steps_needed` - the fewest BBDD23 steps that bring the terminal KL below a target.
* :func:`error3_mc` - a Monte Carlo estimate of Error 3, with its standard error, for mixtures in
  any dimension (non-product targets).
"""
from collections import namedtuple
from functools import lru_cache

import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed
from .schedules import bbdd23
from .targets import GaussianMixture

__all__ = ["PosteriorMoments", "PairMoments", "gh_rule", "derivative", "posterior_moments",
           "pair_moments", "error3", "fisher_information", "error3_fisher", "path_kl_gaussian", "ei_gaussian_law",
           "sampler_kl_gaussian", "steps_needed", "error3_mc"]

PosteriorMoments = namedtuple("PosteriorMoments", "tr_cov tr_cov_sq score_energy hessian_energy")
PairMoments = namedtuple("PairMoments", "E cross score_s score_t hess_t")


# ----------------------------------------------------------------------------- helpers
def gh_rule(order):
    """Nodes and weights of the Gauss-Hermite rule for E f(Z), Z ~ N(0, 1).

    Examples
    --------
    >>> z, w = gh_rule(20)
    >>> round(float(w @ z**4), 12)
    3.0
    """
    z, w = _gh_cached(check_int(order, "order", low=1, high=300))
    return z.copy(), w.copy()


@lru_cache(maxsize=16)
def _gh_cached(order):
    z, w = np.polynomial.hermite_e.hermegauss(order)
    return z, w / np.sqrt(2.0 * np.pi)


def derivative(f, t, rel_step=1e-3):
    """Fourth-order central difference of a scalar function f at t > 0, step ``rel_step * t``.

    The truncation error is (h^4/30) |f^(5)| and the rounding error about 1.5 u |f| / h with u
    the accuracy of f; a relative step 1e-3 balances them for f accurate to 1e-14.

    Examples
    --------
    >>> round(derivative(np.exp, 1.0) / np.e, 10)
    1.0
    """
    if not callable(f):
        raise ValueError("f must be a callable of one float")
    t = check_float(t, "t", low=0.0, low_open=True)
    rel_step = check_float(rel_step, "rel_step", low=0.0, high=0.25, low_open=True)
    h = rel_step * t
    return float((-f(t + 2 * h) + 8 * f(t + h) - 8 * f(t - h) + f(t - 2 * h)) / (12 * h))


def _check_target(target, name="target"):
    if not isinstance(target, GaussianMixture):
        raise ValueError(f"{name} must be a GaussianMixture")
    if target.n_components > 1 and target.dim != 1:
        raise ValueError(f"{name} must be a Gaussian (any d) or a 1-D mixture")
    if target.dim == 1 and np.any(target.covs[:, 0, 0] < 0):
        raise ValueError(f"{name} has a negative variance")


def _noise(u):
    return np.exp(-u), -np.expm1(-2.0 * u)


# ------------------------------------------------------------------- one-time moments
def posterior_moments(target, u, n_points=4001, method="grid", order=200):
    """E tr Sigma_u, E tr Sigma_u^2, E||grad log q_u||^2 and E||Hess log q_u||_F^2 under q_u.

    Parameters
    ----------
    target : GaussianMixture
        A Gaussian in any dimension (closed form) or a 1-D mixture.
    u : float
        Forward time, > 0.
    n_points : int
        For a 1-D mixture, the trapezoid rule on ``n_points`` equally spaced points covering
        every component of q_u to 14 standard deviations (``method="grid"``). The integrands are
        analytic and decay like a Gaussian, so the rule converges geometrically once the spacing
        resolves the narrow bump of Sigma_u(x) where the posterior switches between
        components (width about sigma_u^2 / (separation of the means)); 4001 points give 1e-12
        for the book's mixtures (against 16001 points).
    method : {"grid", "gh"}
        "gh" uses instead a Gauss-Hermite rule of ``order`` nodes on each component of q_u; it
        is as accurate for moderate u but converges slowly for small u, where that bump sits in
        the tails of both components (at u = 0.05, 200 nodes leave 1e-6 relative error).
    order : int

    Returns
    -------
    PosteriorMoments

    Examples
    --------
    >>> import companion as cp
    >>> m = posterior_moments(cp.gaussian([0.0], [[0.25]]), 1.0)
    >>> v = 0.25 * np.exp(-2.0) + 1 - np.exp(-2.0)
    >>> bool(np.isclose(m.hessian_energy, 1 / v**2))
    True
    """
    _check_target(target)
    u = check_float(u, "u", low=0.0, low_open=True)
    n_points = check_int(n_points, "n_points", low=101, high=200_001)
    order = check_int(order, "order", low=2, high=300)
    if method not in ("grid", "gh"):
        raise ValueError("method must be 'grid' or 'gh'")
    a, s2 = _noise(u)
    d = target.dim
    if target.n_components == 1:
        C = target.covs[0]
        S = a * a * C + s2 * np.eye(d)
        P = np.linalg.inv(S)
        Sig = C - a * a * C @ P @ C
        return PosteriorMoments(float(np.trace(Sig)), float(np.sum(Sig * Sig)),
                                float(np.trace(P)), float(np.sum(P * P)))
    q = target.at(u)
    mq, sq = q.means[:, 0], np.sqrt(q.covs[:, 0, 0])
    if method == "gh":
        z, w = gh_rule(order)
        x = (mq[:, None] + sq[:, None] * z[None, :]).reshape(-1, 1)
        wt = (target.weights[:, None] * w[None, :]).ravel()
    else:
        x = np.linspace((mq - 14 * sq).min(), (mq + 14 * sq).max(), n_points)[:, None]
        wt = q.pdf(x) * (x[1, 0] - x[0, 0])
    _, cov = target.posterior(x, a, np.sqrt(s2))
    sc = q.score(x)[:, 0]
    he = q.hessian(x)[:, 0, 0]
    c = cov[:, 0, 0]
    return PosteriorMoments(float(wt @ c), float(wt @ c**2), float(wt @ sc**2), float(wt @ he**2))


# ------------------------------------------------------------------- two-time moments
@njit(cache=True, inline="always")
def _score_hess_1d(x, logc, mu, iv, lk):
    """Score and second derivative of log sum_k w_k N(mu_k, 1/iv_k) at x.

    ``logc[k] = log w_k + (1/2) log iv_k``; ``lk`` is a work array of length K.
    """
    K = logc.shape[0]
    top = -np.inf
    for k in range(K):
        e = x - mu[k]
        v = logc[k] - 0.5 * e * e * iv[k]
        lk[k] = v
        if v > top:
            top = v
    tot = 0.0
    for k in range(K):
        lk[k] = np.exp(lk[k] - top)
        tot += lk[k]
    s1 = 0.0
    s2 = 0.0
    curv = 0.0
    for k in range(K):
        r = lk[k] / tot
        g = (x - mu[k]) * iv[k]
        s1 += r * g
        s2 += r * g * g
        curv += r * iv[k]
    return -s1, s2 - s1 * s1 - curv


@njit(cache=True, parallel=True)
def _pair_kernel(w, m, c, a_arr, b_arr, z, wz, out):
    # For each pair of forward times a < b: moments over the joint law of (X_a, X_b), by a
    # tensor Gauss-Hermite rule on each data component j: X_a = e^{-a} m_j + sqrt(va_j) z1 and,
    # the forward process being Markov, X_b = e^{-(b-a)} X_a + sqrt(1 - e^{-2(b-a)}) z2.
    P = a_arr.shape[0]
    K = w.shape[0]
    n = z.shape[0]
    for p in prange(P):
        a = a_arr[p]
        b = b_arr[p]
        ea, eb = np.exp(-a), np.exp(-b)
        s2a, s2b = -np.expm1(-2.0 * a), -np.expm1(-2.0 * b)
        rho = np.exp(-(b - a))
        tail = np.sqrt(-np.expm1(-2.0 * (b - a)))
        mua = np.empty(K)
        mub = np.empty(K)
        iva = np.empty(K)
        ivb = np.empty(K)
        lca = np.empty(K)
        lcb = np.empty(K)
        lk = np.empty(K)
        for k in range(K):
            mua[k] = ea * m[k]
            mub[k] = eb * m[k]
            iva[k] = 1.0 / (ea * ea * c[k] + s2a)
            ivb[k] = 1.0 / (eb * eb * c[k] + s2b)
            lca[k] = np.log(w[k]) + 0.5 * np.log(iva[k])
            lcb[k] = np.log(w[k]) + 0.5 * np.log(ivb[k])
        E = 0.0
        cross = 0.0
        ss = 0.0
        st = 0.0
        ht = 0.0
        for j in range(K):
            sda = 1.0 / np.sqrt(iva[j])
            for i1 in range(n):
                xa = mua[j] + sda * z[i1]
                sa, ha = _score_hess_1d(xa, lca, mua, iva, lk)
                base = rho * xa
                e1 = 0.0
                c1 = 0.0
                q1 = 0.0
                for i2 in range(n):
                    sb, hb = _score_hess_1d(base + tail * z[i2], lcb, mub, ivb, lk)
                    e1 += wz[i2] * (sa - sb) * (sa - sb)
                    c1 += wz[i2] * sb
                    q1 += wz[i2] * sb * sb
                q = w[j] * wz[i1]
                E += q * e1
                cross += q * sa * c1
                ss += q * q1
                st += q * sa * sa
                ht += q * ha * ha
        out[p, 0] = E
        out[p, 1] = cross
        out[p, 2] = ss
        out[p, 3] = st
        out[p, 4] = ht


def _pair_gaussian(target, a, b):
    d = target.dim
    C = target.covs[0]
    lam = np.linalg.eigvalsh(C)
    ea, eb = np.exp(-a), np.exp(-b)
    va = ea[:, None] ** 2 * lam[None, :] + (-np.expm1(-2 * a))[:, None]
    vb = eb[:, None] ** 2 * lam[None, :] + (-np.expm1(-2 * b))[:, None]
    rho = np.exp(-(b - a))
    tra, trb = np.sum(1 / va, 1), np.sum(1 / vb, 1)
    # Cov(X_a, X_b) = e^{-(b-a)} Cov X_a, so E[S_t . S_s] = e^{-(b-a)} tr P_b
    cross = rho * trb
    return np.stack([tra + trb - 2 * cross, cross, trb, tra, np.sum(1 / va**2, 1)], axis=1)


def _pairs(target, a, b, order, method):
    if target.n_components == 1 and method == "auto":
        return _pair_gaussian(target, a, b)
    if target.dim != 1:
        raise ValueError("quadrature needs a 1-D target")
    z, wz = gh_rule(order)
    out = np.empty((a.size, 5))
    _pair_kernel(target.weights.copy(), target.means[:, 0].copy(), target.covs[:, 0, 0].copy(),
                 a, b, z, wz, out)
    return out


def pair_moments(target, T, s, t, order=300, method="auto"):
    """Two-time moments of the exact reverse process at reverse times s <= t.

    With a = T - t and b = T - s (forward times, a <= b) the pair (Y_s, Y_t) = (X_b, X_a).

    Parameters
    ----------
    target : GaussianMixture
        A Gaussian in any dimension (closed form) or a 1-D mixture (tensor Gauss-Hermite rule
        of ``order`` x ``order`` nodes on each component of (X_a, X_b)). The responsibilities
        make the integrand analytic but with nearby complex singularities when a is small, so
        the rule converges slowly there: for the book's two-component mixture at
        (a, b) = (0.1, 0.6), 120 nodes leave 1e-8, 200 nodes 3e-10, 300 nodes 3e-12.
    T, s, t : float or arrays of the same shape
        0 <= s <= t < T.
    method : {"auto", "quadrature"}
        "quadrature" forces the quadrature also for a 1-D Gaussian (a cross-check).

    Returns
    -------
    PairMoments
        E = E||S_t - S_s||^2, cross = E[S_t . S_s], score_s = E||S_s||^2, score_t = E||S_t||^2,
        hess_t = E||H_t||_F^2; floats, or arrays shaped like s and t.

    Examples
    --------
    >>> import companion as cp
    >>> pm = pair_moments(cp.gaussian([0.0], [[3.0]]), 2.0, 0.4, 1.1)
    >>> bool(np.isclose(pm.cross, np.exp(-0.7) * pm.score_s))
    True
    """
    _check_target(target)
    T = check_float(T, "T", low=0.0, low_open=True)
    order = check_int(order, "order", low=2, high=300)
    if method not in ("auto", "quadrature"):
        raise ValueError("method must be 'auto' or 'quadrature'")
    s_arr = check_array(s, "s")
    t_arr = check_array(t, "t")
    try:
        s_arr, t_arr = np.broadcast_arrays(s_arr, t_arr)
    except ValueError:
        raise ValueError("s and t must have broadcastable shapes") from None
    if np.any(s_arr < 0) or np.any(t_arr < s_arr) or np.any(t_arr >= T):
        raise ValueError("need 0 <= s <= t < T")
    shape = s_arr.shape
    a = np.ascontiguousarray((T - t_arr).ravel(), dtype=float)
    b = np.ascontiguousarray((T - s_arr).ravel(), dtype=float)
    out = _pairs(target, a, b, order, method)
    cols = [out[:, j].reshape(shape) for j in range(5)]
    if shape == ():
        cols = [float(c) for c in cols]
    return PairMoments(*cols)


# ------------------------------------------------------------------------- Error 3
def _gl_nodes(grid, nodes):
    x, w = np.polynomial.legendre.leggauss(nodes)
    h = np.diff(grid)
    tk = np.repeat(grid[:-1], nodes)
    t = (grid[:-1][:, None] + 0.5 * h[:, None] * (x[None, :] + 1)).ravel()
    wt = (0.5 * h[:, None] * w[None, :]).ravel()
    return tk, t, wt


def _check_grid(grid, T):
    g = check_array(grid, "grid", ndim=1)
    if g.size < 2 or g[0] != 0.0 or np.any(np.diff(g) <= 0) or g[-1] >= T:
        raise ValueError("grid must start at 0, increase strictly and end before T")
    return g


def error3(target, T, grid, nodes=6, order=60, per_step=False):
    """Error 3 = sum_k int_{t_k}^{t_{k+1}} E||S_t - S_{t_k}||^2 dt on a reverse-time grid.

    The time integral uses ``nodes`` Gauss-Legendre points per step (the integrand is smooth in
    t and vanishes at t_k); the expectations come from :func:`pair_moments`.

    Examples
    --------
    >>> import companion as cp
    >>> g = cp.schedules.bbdd23(4.0, 1e-3, 0.1)
    >>> e3 = error3(cp.gaussian([0.0], [[0.25]]), 4.0, g)
    >>> bool(0 < e3 < 0.1**2 * (g.size - 1) + 0.1 * 4.0)
    True
    """
    _check_target(target)
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_grid(grid, T)
    nodes = check_int(nodes, "nodes", low=1, high=50)
    tk, t, wt = _gl_nodes(g, nodes)
    E = pair_moments(target, T, tk, t, order=order).E
    terms = (wt * E).reshape(-1, nodes).sum(1)
    return terms if per_step else float(terms.sum())


def fisher_information(target, u, n_points=4001):
    """``J(u) = E||grad log q_u||^2`` under q_u, for an array of forward times ``u > 0``.

    A Gaussian N(m, C) in any dimension: ``J(u) = tr Sigma_u^{-1}``, ``Sigma_u = e^{-2u} C +
    sigma_u^2 I``. A 1-D mixture: ``int q_u'(x)^2 / q_u(x) dx`` by the trapezoid rule on
    ``n_points`` points covering every component to 14 standard deviations (analytic, Gaussian
    tails: geometric convergence, 1e-12 at 4001 points for the book's mixtures), all times at
    once.

    Examples
    --------
    >>> import companion as cp
    >>> J = fisher_information(cp.gaussian([0.0], [[0.25]]), [0.5, 2.0])
    >>> v = 0.25 * np.exp(-2 * np.array([0.5, 2.0])) - np.expm1(-2 * np.array([0.5, 2.0]))
    >>> bool(np.allclose(J, 1 / v, rtol=1e-14))
    True
    """
    _check_target(target)
    u = check_array(u, "u")
    if np.any(u <= 0):
        raise ValueError("u must be > 0")
    n_points = check_int(n_points, "n_points", low=101, high=200_001)
    shape, u = u.shape, u.ravel()
    e2, s2 = np.exp(-2.0 * u), -np.expm1(-2.0 * u)
    if target.n_components == 1:
        lam = np.linalg.eigvalsh(target.covs[0])
        out = np.sum(1.0 / (e2[:, None] * lam[None, :] + s2[:, None]), axis=1)
        return out.reshape(shape)
    w, m, c = target.weights, target.means[:, 0], target.covs[:, 0, 0]
    out = np.empty(u.size)
    unit = np.linspace(0.0, 1.0, n_points)
    for lo_i in range(0, u.size, 64):                    # 64 times at a time: 64 x n_points
        sl = slice(lo_i, lo_i + 64)
        mu = np.exp(-u[sl])[:, None] * m[None, :]          # (times, K)
        v = e2[sl, None] * c[None, :] + s2[sl, None]
        sd = np.sqrt(v)
        lo, hi = (mu - 14 * sd).min(1), (mu + 14 * sd).max(1)
        x = lo[:, None] + (hi - lo)[:, None] * unit[None, :]          # (times, points)
        z = (x[:, :, None] - mu[:, None, :]) / sd[:, None, :]         # (times, points, K)
        phi = w * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi * v[:, None, :])
        q = phi.sum(2)
        dq = -(phi * z / sd[:, None, :]).sum(2)
        # q underflows to 0 far out in the tails, where dq does too: the integrand is 0 there
        f = np.divide(dq * dq, q, out=np.zeros_like(q), where=q > 0)
        dx = (hi - lo) / (n_points - 1)
        out[sl] = dx * (f.sum(1) - 0.5 * (f[:, 0] + f[:, -1]))
    return out.reshape(shape)


def error3_fisher(target, T, grid, n_points=4001, nodes=24):
    """Error 3 from the Fisher information ``J(u) = E||grad log q_u||^2`` alone.

    Along the exact reverse process ``E[S_t . S_s] = e^{-(t-s)} J(T-s)`` for ``s <= t``
    (lemma bbdd-score-sde), so ``E_{s,t} = J(T-t) - (2 e^{-(t-s)} - 1) J(T-s)``, and the time
    integral over each step is explicit in its second term:

        Error3 = int_delta^T J(u) du - sum_k J(T - t_k) (2 (1 - e^{-h_k}) - h_k),

    with ``delta = T - t_N`` and ``h_k = t_{k+1} - t_k``. This route shares nothing with
    :func:`error3` but the data law: one-time moments (:func:`fisher_information`) instead of
    two-time moments, and ``nodes``-point Gauss-Legendre on each step of ``int J`` (a smooth
    function of one time) instead of Gauss-Legendre on each step of ``E_{t_k, t}``.

    Examples
    --------
    >>> import companion as cp
    >>> g = cp.schedules.bbdd23(4.0, 1e-3, 0.1)
    >>> mu = cp.gaussian([0.0], [[0.25]])
    >>> bool(abs(error3_fisher(mu, 4.0, g) / error3(mu, 4.0, g) - 1) < 1e-9)
    True
    """
    _check_target(target)
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_grid(grid, T)
    n_points = check_int(n_points, "n_points", low=101, high=200_001)
    nodes = check_int(nodes, "nodes", low=2, high=100)
    h = np.diff(g)
    x, wx = np.polynomial.legendre.leggauss(nodes)
    # u = T - t over step k: from T - t_{k+1} to T - t_k
    us = (T - g[1:])[:, None] + 0.5 * h[:, None] * (x[None, :] + 1.0)
    whole = float(np.sum(0.5 * h[:, None] * wx[None, :] * fisher_information(target, us, n_points)))
    jk = fisher_information(target, T - g[:-1], n_points)
    return whole - float(np.sum(jk * (-2.0 * np.expm1(-h) - h)))


def path_kl_gaussian(c, d, T, grid, eta=0.0, bias=0.0, nodes=6):
    """Girsanov path KL sum_k int E||S_t - s_k(Y_{t_k})||^2 dt for data N(m, c I_d).

    The score used on step k is s_k(y) = (1 + eta) grad log q_{T-t_k}(y) + b with |b| = bias.
    For t in step k, with a = T - t < b = T - t_k and v_u = c e^{-2u} + sigma_u^2, the pair
    (X_a, X_b) has Cov = e^{-(b-a)} v_a per coordinate, so
    E||S_t - s_k||^2 = d [1/v_a + (1+eta)^2/v_b - 2 (1+eta) e^{-(b-a)}/v_b] + bias^2.
    The mean of the data drops out.

    Examples
    --------
    >>> import companion as cp
    >>> g = cp.schedules.uniform(2.0, 50, delta=0.01)
    >>> e3 = error3(cp.gaussian([0.0], [[0.5]]), 2.0, g)
    >>> bool(np.isclose(path_kl_gaussian(0.5, 1, 2.0, g), e3, rtol=1e-12))
    True
    """
    c = check_float(c, "c", low=0.0)
    d = check_int(d, "d", low=1)
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_grid(grid, T)
    eta = check_float(eta, "eta", low=-1.0)
    bias = check_float(bias, "bias", low=0.0)
    tk, t, wt = _gl_nodes(g, check_int(nodes, "nodes", low=1, high=50))
    a, b = T - t, T - tk
    va = c * np.exp(-2 * a) - np.expm1(-2 * a)
    vb = c * np.exp(-2 * b) - np.expm1(-2 * b)
    f = d * (1 / va + (1 + eta) ** 2 / vb - 2 * (1 + eta) * np.exp(-(b - a)) / vb) + bias**2
    return float(wt @ f)


# ----------------------------------------------------- exact output law (Gaussian data)
@njit(cache=True)
def _ei_law(c, mean, taus, h, eta, bias, M, V):
    # per coordinate j: y <- A y + r + noise, A = e^h - 2(e^h - 1)(1+eta)/v, r = 2(e^h - 1)
    # ((1+eta) mu/v + b_j), noise variance e^{2h} - 1
    for k in range(h.shape[0]):
        tau = taus[k]
        v = c * np.exp(-2 * tau) - np.expm1(-2 * tau)
        eh = np.exp(h[k])
        g = 2.0 * (eh - 1.0)
        A = eh - g * (1.0 + eta) / v
        q = np.expm1(2.0 * h[k])
        for j in range(M.shape[0]):
            mu = np.exp(-tau) * mean[j]
            M[j] = A * M[j] + g * ((1.0 + eta) * mu / v + bias[j])
            V[j] = A * A * V[j] + q


def _law_args(c, mean, T, grid, bias):
    c = check_float(c, "c", low=0.0)
    m = check_array(mean, "mean", ndim=1)
    if m.size == 0:
        raise ValueError("mean must have at least one entry (its length is d)")
    T = check_float(T, "T", low=0.0, low_open=True)
    g = check_array(grid, "grid", ndim=1)
    if g.size < 2 or g[0] != 0.0 or np.any(np.diff(g) <= 0) or g[-1] > T:
        raise ValueError("grid must start at 0, increase strictly and end at or before T")
    b = np.zeros(m.size) if np.ndim(bias) == 0 and float(bias) == 0.0 else \
        check_array(bias, "bias", shape=(m.size,))
    return c, m, T, g, b


def ei_gaussian_law(c, mean, T, grid, start="gaussian", eta=0.0, bias=0.0):
    """Exact output law of the exponential integrator for data N(mean, c I_d).

    The score on step k is (1 + eta) grad log q_{T-t_k} + bias (bias a vector of length d), so
    every step is affine in y plus Gaussian noise and the coordinates stay independent.

    Returns
    -------
    M, V : ndarray, shape (d,)
        Mean and variance of every coordinate of the output.

    Examples
    --------
    >>> import companion as cp
    >>> g = cp.schedules.uniform(3.0, 30, delta=0.05)
    >>> M, V = ei_gaussian_law(0.5, [1.0], 3.0, g)
    >>> m, C = cp.samplers.gaussian_output_law(cp.gaussian([1.0], [[0.5]]), 3.0, g)
    >>> bool(np.isclose(M[0], m[0], rtol=1e-12) and np.isclose(V[0], C[0, 0], rtol=1e-12))
    True
    """
    c, m, T, g, b = _law_args(c, mean, T, grid, bias)
    eta = check_float(eta, "eta", low=-1.0)
    d = m.size
    if start == "gaussian":
        M, V = np.zeros(d), np.ones(d)
    elif start == "exact":
        M = np.exp(-T) * m
        V = np.full(d, c * np.exp(-2 * T) - np.expm1(-2 * T))
    else:
        raise ValueError("start must be 'gaussian' or 'exact'")
    _ei_law(c, m, T - g, np.diff(g), eta, b, M, V)
    return M, V


def sampler_kl_gaussian(c, mean, T, grid, start="gaussian", eta=0.0, bias=0.0):
    """KL(q_{T - t_N} || p_{t_N}) of the exponential integrator for data N(mean, c I_d), exact.

    Examples
    --------
    >>> import companion as cp
    >>> kl = sampler_kl_gaussian(0.25, np.zeros(4), 4.0, cp.schedules.bbdd23(4.0, 1e-3, 0.1))
    >>> bool(0 < kl < 1e-2)
    True
    """
    M, V = ei_gaussian_law(c, mean, T, grid, start=start, eta=eta, bias=bias)
    m = check_array(mean, "mean", ndim=1)
    delta = T - float(grid[-1])
    vq = c * np.exp(-2 * delta) - np.expm1(-2 * delta)
    mq = np.exp(-delta) * m
    if vq <= 0:
        raise ValueError("the grid must stop before T (the data law has no density)")
    return float(0.5 * np.sum(vq / V + (M - mq) ** 2 / V - 1 + np.log(V / vq)))


def steps_needed(c, d, T, delta, target_kl, start="exact", tol=1e-6):
    """Fewest BBDD23 steps whose terminal KL for data N(0, c I_d) is at most ``target_kl``.

    Bisection on kappa (the KL decreases with kappa); returns (N, kappa) for the largest kappa
    found, to relative precision ``tol``, whose grid meets the target.

    Examples
    --------
    >>> N1, _ = steps_needed(0.25, 1, 4.0, 1e-3, 1e-3)
    >>> N4, _ = steps_needed(0.25, 4, 4.0, 1e-3, 1e-3)
    >>> bool(N1 < N4 < 4 * N1)
    True
    """
    c = check_float(c, "c", low=0.0)
    d = check_int(d, "d", low=1)
    T = check_float(T, "T", low=1.0)
    delta = check_float(delta, "delta", low=0.0, high=1.0, low_open=True, high_open=True)
    target_kl = check_float(target_kl, "target_kl", low=0.0, low_open=True)
    tol = check_float(tol, "tol", low=0.0, high=0.1, low_open=True)
    zero = np.zeros(1)

    def kl(kappa):   # a product target: the KL is d times the one-coordinate KL
        return d * sampler_kl_gaussian(c, zero, T, bbdd23(T, delta, kappa), start=start)

    lo, hi = 1e-5, 1.0
    if kl(lo) > target_kl:
        raise ValueError("target_kl is below what kappa = 1e-5 reaches")
    if kl(hi) <= target_kl:
        lo = hi
    while hi - lo > tol * lo:
        mid = np.sqrt(lo * hi)
        if kl(mid) <= target_kl:
            lo = mid
        else:
            hi = mid
    return bbdd23(T, delta, lo).size - 1, lo


# ------------------------------------------------------------ Monte Carlo, any dimension
@njit(cache=True, inline="always")
def _score_eig(x, u, logw, means, lam, U, r, p, lk, out):
    """Score of the OU-noised mixture q_u at x; component k has covariance U_k diag(lam_k) U_k^T."""
    K, d = means.shape
    a = np.exp(-u)
    s2 = -np.expm1(-2.0 * u)
    top = -np.inf
    for k in range(K):
        quad = 0.0
        logdet = 0.0
        for i in range(d):
            acc = 0.0
            for j in range(d):
                acc += U[k, j, i] * (x[j] - a * means[k, j])
            v = a * a * lam[k, i] + s2
            r[k, i] = acc
            p[k, i] = acc / v
            quad += acc * acc / v
            logdet += np.log(v)
        lk[k] = logw[k] - 0.5 * (quad + logdet)
        top = max(top, lk[k])
    tot = 0.0
    for k in range(K):
        lk[k] = np.exp(lk[k] - top)
        tot += lk[k]
    for j in range(d):
        out[j] = 0.0
    for k in range(K):
        wk = lk[k] / tot
        for j in range(d):
            acc = 0.0
            for i in range(d):
                acc += U[k, j, i] * p[k, i]
            out[j] -= wk * acc
    return 0.0


@njit(cache=True, parallel=True)
def _error3_mc_kernel(x0, g1, g2, a_arr, b_arr, logw, means, lam, U, out):
    n, d = x0.shape
    K = means.shape[0]
    for i in prange(n):
        a = a_arr[i]
        b = b_arr[i]
        xa = np.empty(d)
        xb = np.empty(d)
        ea = np.exp(-a)
        sa = np.sqrt(-np.expm1(-2.0 * a))
        rho = np.exp(-(b - a))
        tail = np.sqrt(-np.expm1(-2.0 * (b - a)))
        for j in range(d):
            xa[j] = ea * x0[i, j] + sa * g1[i, j]
            xb[j] = rho * xa[j] + tail * g2[i, j]
        r = np.empty((K, d))
        p = np.empty((K, d))
        lk = np.empty(K)
        sA = np.empty(d)
        sB = np.empty(d)
        _score_eig(xa, a, logw, means, lam, U, r, p, lk, sA)
        _score_eig(xb, b, logw, means, lam, U, r, p, lk, sB)
        acc = 0.0
        for j in range(d):
            e = sA[j] - sB[j]
            acc += e * e
        out[i] = acc


def error3_mc(target, T, grid, n, seed):
    """Monte Carlo estimate of Error 3 and its standard error, for a mixture in any dimension.

    The reverse time t is drawn stratified on [0, t_N] (sample i in the i-th of n equal slices),
    k is the step containing t, and (X_{T-t}, X_{T-t_k}) is drawn from the forward process; the
    estimator is t_N ||grad log q_{T-t}(X_{T-t}) - grad log q_{T-t_k}(X_{T-t_k})||^2. The
    standard error is the i.i.d. one, which stratification can only make conservative.

    Returns
    -------
    estimate, stderr : float, float

    Examples
    --------
    >>> import companion as cp
    >>> g = cp.schedules.bbdd23(3.0, 1e-2, 0.2)
    >>> mu = cp.gaussian([0.0], [[0.5]])
    >>> est, se = error3_mc(mu, 3.0, g, 20_000, seed=1)
    >>> bool(abs(est - error3(mu, 3.0, g)) < 5 * se)
    True
    """
    if not isinstance(target, GaussianMixture) or not target.has_density:
        raise ValueError("target must be a GaussianMixture with positive-definite covariances")
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_grid(grid, T)
    n = check_int(n, "n", low=2)
    seed = check_seed(seed)
    d = target.dim
    tN = g[-1]
    u = rng.uniforms(n, seed, step=1)
    t = tN * (np.arange(n) + u) / n
    k = np.clip(np.searchsorted(g, t, side="right") - 1, 0, g.size - 2)
    a = np.ascontiguousarray(T - t)
    b = np.ascontiguousarray(T - g[k])
    lam = np.empty((target.n_components, d))
    U = np.empty((target.n_components, d, d))
    for j, C in enumerate(target.covs):
        lam[j], U[j] = np.linalg.eigh(C)
    x0 = target.sample(n, seed)
    out = np.empty(n)
    _error3_mc_kernel(x0, rng.normals(n, d, seed, step=2), rng.normals(n, d, seed, step=3), a, b,
                      np.log(target.weights), np.ascontiguousarray(target.means), lam, U, out)
    vals = tN * out
    return float(vals.mean()), float(vals.std(ddof=1) / np.sqrt(n))
