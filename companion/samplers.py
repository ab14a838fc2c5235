"""Reverse-time samplers for the OU forward process.

The reverse process Y_t = X_{T-t} solves dY = (Y + 2 grad log q_{T-t}(Y)) dt + sqrt(2) dB,
and the probability-flow ODE dY/dt = Y + grad log q_{T-t}(Y) has the same marginals. On a
reverse-time grid 0 = t_0 < ... < t_N = T - delta (see :mod:`companion.schedules`) with steps
h_k = t_{k+1} - t_k and scores s_k = grad log q_{T - t_k}, the samplers are

* ``"em"``   Euler-Maruyama:  y + h (y + 2 s_k(y)) + sqrt(2h) z
* ``"ei"``   exponential integrator (score frozen on the step, the rest solved exactly):
             e^h y + 2 (e^h - 1) s_k(y) + sqrt(e^{2h} - 1) z
* ``"heun"`` Heun's second-order method on the probability-flow ODE (no noise)
* ``"pc"``   predictor-corrector: the ``"ei"`` step, then one Langevin step
             y + eps s_{k+1}(y) + sqrt(2 eps) z' with eps = ``corrector_step`` * sigma^2_{T - t_{k+1}}

With the exact score of a :class:`~companion.targets.GaussianMixture` target (the default),
every step runs inside one fused parallel Numba kernel: the score of the K-component mixture
for each particle, the update and the fresh noise, drawn from the counter-based generator
(particle i, step k uses counter step k + 1; the corrector uses step N + 1 + k), so the output
does not depend on the number of threads. ``score_error`` adds a constant vector of that norm
to the score, an error of exactly that L2 size under every law. Any callable
``score(tau, y)`` may be given instead (a slower NumPy path with the same noise).

For Gaussian data every step is affine in y plus Gaussian noise, so the law of the output is
Gaussian and :func:`gaussian_output_law` computes it exactly.
"""
import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed
from .rng import _float_bits_as_int, _int_bits_as_float
from .targets import GaussianMixture, _gaussian_params

__all__ = ["sample", "gaussian_output_law", "METHODS"]

METHODS = ("em", "ei", "heun", "pc")
_CODES = {m: i for i, m in enumerate(METHODS)}
_GROUP_FROM_D = 8       # from this dimension on, the register-blocked quadratic forms
_BLOCK = 32             # particles per block (a multiple of 4) from _GROUP_FROM_D on
_LANES = 16             # particles per block below _GROUP_FROM_D, one per SIMD lane

_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00
_TWO52_BIAS = 4503599627370496.0 + 1023.0


@njit(cache=True, inline="always", fastmath=True)
def _exp_nonpos_vec(x):
    """e^x for x <= 0, straight-line code so that a loop over components vectorises.

    Cody-Waite reduction x = n ln 2 + r with |r| <= ln(2)/2, a degree-13 Taylor polynomial for
    e^r, and 2^n built from its bits: cheaper than the C library's exp, which otherwise
    dominates the responsibilities in low dimension; 2^n is read off the bits of 2^52 + 1023 + n.
    Under fast-math the two-part reduction
    may be merged, which bounds the relative error by about 1e-13 (for the weights of a
    mixture, far below any tolerance). Arguments below -708 are clamped there: such a weight,
    e^-708 ~ 3e-308 relative, is immaterial.
    """
    x = max(x, -708.0)
    n = np.floor(x * _INV_LN2 + 0.5)
    r = (x - n * _LN2_HI) - n * _LN2_LO
    p = ((((((((((((1.6059043836821613e-10 * r + 2.08767569878681e-09) * r + 2.505210838544172e-08) * r + 2.755731922398589e-07) * r + 2.7557319223985893e-06) * r
                   + 2.48015873015873e-05) * r + 0.0001984126984126984) * r + 0.001388888888888889) * r + 0.008333333333333333) * r + 0.041666666666666664) * r
             + 0.16666666666666666) * r + 0.5) * r + 1.0) * r + 1.0
    # 2^n from the bits of the double 2^52 + 1023 + n, whose low bits are the integer n + 1023
    # (no float-to-int64 conversion, which AVX2 lacks: the loop stays vectorised)
    return p * _int_bits_as_float(_float_bits_as_int(n + _TWO52_BIAS) << 52)


@njit(cache=True, inline="always", fastmath=True)
def _lane_scores_upto_2d(X, t, c0, centers, prec, bias, PD, lk, top, tot, out):
    """d = 1 or 2: the small matrix algebra written out, one fused loop over the particles
    per component, so that everything but the stored products stays in registers."""
    d, G = X.shape
    K = centers.shape[1]
    for j in range(G):
        top[j] = -np.inf
    for k in range(K):
        c = c0[t, k]
        m0 = centers[t, k, 0]
        p00 = prec[t, k, 0, 0]
        if d == 2:
            m1 = centers[t, k, 1]
            p01, p10, p11 = prec[t, k, 0, 1], prec[t, k, 1, 0], prec[t, k, 1, 1]
            for j in range(G):
                dx = X[0, j] - m0
                dy = X[1, j] - m1
                px = p00 * dx + p01 * dy
                py = p10 * dx + p11 * dy
                v = c - 0.5 * (px * dx + py * dy)
                PD[k, 0, j] = px
                PD[k, 1, j] = py
                lk[k, j] = v
                top[j] = max(top[j], v)
        else:
            for j in range(G):
                dx = X[0, j] - m0
                px = p00 * dx
                v = c - 0.5 * (px * dx)
                PD[k, 0, j] = px
                lk[k, j] = v
                top[j] = max(top[j], v)
    for j in range(G):
        tot[j] = 0.0
        out[0, j] = 0.0
    if d == 2:
        for j in range(G):
            out[1, j] = 0.0
        for k in range(K):
            for j in range(G):
                e = _exp_nonpos_vec(lk[k, j] - top[j])
                tot[j] += e
                out[0, j] += e * PD[k, 0, j]
                out[1, j] += e * PD[k, 1, j]
    else:
        for k in range(K):
            for j in range(G):
                e = _exp_nonpos_vec(lk[k, j] - top[j])
                tot[j] += e
                out[0, j] += e * PD[k, 0, j]
    for a in range(d):
        ba = bias[a]
        for j in range(G):
            out[a, j] = ba - out[a, j] / tot[j]


@njit(cache=True, inline="always", fastmath=True)
def _lane_scores(X, t, c0, centers, prec, bias, diff, PD, lk, top, tot, out):
    """Scores of the G particles X[:, j] (one per column) under the mixture of grid point t,
    plus bias, into out[:, j]. Low-dimensional path.

    Every inner loop runs over the particles of the block, so it vectorises across them and
    each lane does the same arithmetic in the same order: a particle's result does not
    depend on its companions, and the reductions over components are per lane (no
    horizontal sums, no long chain of dependent operations for a single particle).
    """
    d, G = X.shape
    K = centers.shape[1]
    if d <= 2:
        _lane_scores_upto_2d(X, t, c0, centers, prec, bias, PD, lk, top, tot, out)
        return
    for k in range(K):
        for a in range(d):
            m = centers[t, k, a]
            for j in range(G):
                diff[a, j] = X[a, j] - m
        for j in range(G):
            lk[k, j] = 0.0
        for a in range(d):
            for j in range(G):
                PD[k, a, j] = 0.0
            for b in range(d):
                p = prec[t, k, a, b]
                for j in range(G):
                    PD[k, a, j] += p * diff[b, j]
            for j in range(G):
                lk[k, j] += PD[k, a, j] * diff[a, j]
        c = c0[t, k]
        for j in range(G):
            lk[k, j] = c - 0.5 * lk[k, j]
    for j in range(G):
        top[j] = lk[0, j]
    for k in range(1, K):
        for j in range(G):
            top[j] = max(top[j], lk[k, j])
    for j in range(G):
        tot[j] = 0.0
    for k in range(K):
        for j in range(G):
            e = _exp_nonpos_vec(lk[k, j] - top[j])
            lk[k, j] = e
            tot[j] += e
    for a in range(d):
        for j in range(G):
            out[a, j] = 0.0
        for k in range(K):
            for j in range(G):
                out[a, j] += lk[k, j] * PD[k, a, j]
        ba = bias[a]
        for j in range(G):
            out[a, j] = ba - out[a, j] / tot[j]


@njit(cache=True, inline="always", fastmath=True)
def _block_scores(Y, t, c0, centers, prec, bias, D, PD, lk, out):
    """Scores of the particles Y[0 .. G-1] (G a multiple of 4) under the mixture of grid point
    t, plus bias, into out.

    High-dimensional path. The quadratic forms PD[k, j] = P_k (y_j - m_k) run as a
    register-blocked product: two rows of P_k against four particles at once, eight
    accumulators that each sum over b in the same vectorised order, so that every entry of
    P_k, once loaded, serves four particles and every difference serves two rows. Each
    particle's sums run in the same order whichever slot it occupies, so the result does not
    depend on its companions. The loop over components is outermost: P_k stays in the
    first-level cache while it serves the whole block.
    """
    G, d = Y.shape
    K = centers.shape[1]
    for k in range(K):
        for j in range(G):
            for b in range(d):
                D[j, b] = Y[j, b] - centers[t, k, b]
        P = prec[t, k]
        Q = PD[k]
        for j0 in range(0, G, 4):
            for a0 in range(0, d - 1, 2):
                s00, s01, s02, s03 = 0.0, 0.0, 0.0, 0.0
                s10, s11, s12, s13 = 0.0, 0.0, 0.0, 0.0
                for b in range(d):
                    x0, x1, x2, x3 = D[j0, b], D[j0 + 1, b], D[j0 + 2, b], D[j0 + 3, b]
                    p = P[a0, b]
                    s00 += p * x0
                    s01 += p * x1
                    s02 += p * x2
                    s03 += p * x3
                    p = P[a0 + 1, b]
                    s10 += p * x0
                    s11 += p * x1
                    s12 += p * x2
                    s13 += p * x3
                Q[j0, a0], Q[j0 + 1, a0], Q[j0 + 2, a0], Q[j0 + 3, a0] = s00, s01, s02, s03
                Q[j0, a0 + 1], Q[j0 + 1, a0 + 1] = s10, s11
                Q[j0 + 2, a0 + 1], Q[j0 + 3, a0 + 1] = s12, s13
            if d % 2 == 1:
                a = d - 1
                s00, s01, s02, s03 = 0.0, 0.0, 0.0, 0.0
                for b in range(d):
                    p = P[a, b]
                    s00 += p * D[j0, b]
                    s01 += p * D[j0 + 1, b]
                    s02 += p * D[j0 + 2, b]
                    s03 += p * D[j0 + 3, b]
                Q[j0, a], Q[j0 + 1, a], Q[j0 + 2, a], Q[j0 + 3, a] = s00, s01, s02, s03
        for j in range(G):
            q = 0.0
            for a in range(d):
                q += Q[j, a] * D[j, a]
            lk[j, k] = c0[t, k] - 0.5 * q
    for j in range(G):
        top = -np.inf
        for k in range(K):
            top = max(top, lk[j, k])
        tot = 0.0
        for k in range(K):
            e = _exp_nonpos_vec(lk[j, k] - top)
            lk[j, k] = e
            tot += e
        inv = 1.0 / tot
        for a in range(d):
            out[j, a] = bias[a]
        for k in range(K):
            r = lk[j, k] * inv
            for a in range(d):
                out[j, a] -= r * PD[k, j, a]


@njit(cache=True, fastmath=True)
def _lane_scores_call(X, t, c0, centers, prec, bias, diff, PD, lk, top, tot, out):
    """:func:`_lane_scores` behind a call boundary, for the second score of a Heun or
    predictor-corrector step: inlining it at every call site would double the kernel's
    compile time for a few per cent of speed."""
    _lane_scores(X, t, c0, centers, prec, bias, diff, PD, lk, top, tot, out)


@njit(cache=True)
def _fill_normals_lanes_call(seed, step, i0, U, Z):
    """:func:`companion.rng._fill_normals_lanes` behind a call boundary (the corrector's
    noise), for the same reason."""
    rng._fill_normals_lanes(seed, step, i0, U, Z)


@njit(cache=True, parallel=True, fastmath=True)
def _reverse_kernel_low(y0, method, h, ca, cs, cz, eps, c0, centers, prec, bias, seed,
                        keep_path, path, out):
    """d < _GROUP_FROM_D: particles advance in fixed blocks of _LANES, stored one per column
    (Y[a, j]), so that every loop over the block runs across SIMD lanes; sixteen independent
    particles also hide the latency of one particle's chain of dependent operations. A last
    block with fewer particles fills its spare lanes with copies of its last particle (on
    their own noise streams), computed and thrown away. Step k:
    y <- ca_k y + cs_k s_k(y) + cz_k z (EM, EI, PC predictor)."""
    n, d = y0.shape
    N = h.shape[0]
    K = c0.shape[1]
    G = _LANES
    n_blocks = (n + G - 1) // G
    for c in prange(n_blocks):
        Y = np.empty((d, G))
        S1 = np.empty((d, G))
        S2 = np.empty((d, G))
        TT = np.empty((d, G))
        Z = np.empty((d, G))
        U = np.empty((4 * ((d + 3) // 4), G))
        diff = np.empty((d, G))
        PD = np.empty((K, d, G))
        lk = np.empty((K, G))
        top = np.empty(G)
        tot = np.empty(G)
        i0 = G * c
        m = min(G, n - i0)
        for j in range(G):
            src = i0 + min(j, m - 1)
            for a in range(d):
                Y[a, j] = y0[src, a]
        if keep_path:
            for j in range(m):
                for a in range(d):
                    path[i0 + j, 0, a] = Y[a, j]
        for k in range(N):
            _lane_scores(Y, k, c0, centers, prec, bias, diff, PD, lk, top, tot, S1)
            if method == 2:                                   # Heun on the PF-ODE
                hk = h[k]
                for a in range(d):
                    for j in range(G):
                        TT[a, j] = Y[a, j] + hk * (Y[a, j] + S1[a, j])
                _lane_scores_call(TT, k + 1, c0, centers, prec, bias, diff, PD, lk, top, tot, S2)
                for a in range(d):
                    for j in range(G):
                        Y[a, j] = Y[a, j] + 0.5 * hk * ((Y[a, j] + S1[a, j]) + (TT[a, j] + S2[a, j]))
            else:                                             # EM, EI, PC predictor
                rng._fill_normals_lanes(seed, k + 1, i0, U, Z)
                cak, csk, czk = ca[k], cs[k], cz[k]
                for a in range(d):
                    for j in range(G):
                        Y[a, j] = cak * Y[a, j] + csk * S1[a, j] + czk * Z[a, j]
                if method == 3:                               # Langevin corrector
                    _lane_scores_call(Y, k + 1, c0, centers, prec, bias, diff, PD, lk, top, tot, S2)
                    e = eps[k]
                    sd = np.sqrt(2.0 * e)
                    _fill_normals_lanes_call(seed, N + 1 + k, i0, U, Z)
                    for a in range(d):
                        for j in range(G):
                            Y[a, j] = Y[a, j] + e * S2[a, j] + sd * Z[a, j]
            if keep_path:
                for j in range(m):
                    for a in range(d):
                        path[i0 + j, k + 1, a] = Y[a, j]
        for j in range(m):
            for a in range(d):
                out[i0 + j, a] = Y[a, j]


@njit(cache=True, fastmath=True)
def _block_scores_call(Y, t, c0, centers, prec, bias, D, PD, lk, out):
    """:func:`_block_scores` behind a call boundary (second score of a Heun or
    predictor-corrector step), to keep the compile time down."""
    _block_scores(Y, t, c0, centers, prec, bias, D, PD, lk, out)


@njit(cache=True)
def _fill_normals_call(seed, step, stream, out):
    """:func:`companion.rng._fill_normals` behind a call boundary (the corrector's noise)."""
    rng._fill_normals(seed, step, stream, out)


@njit(cache=True, parallel=True, fastmath=True)
def _reverse_kernel_block(y0, method, h, ca, cs, cz, eps, c0, centers, prec, bias, seed,
                          keep_path, path, out):
    """d >= _GROUP_FROM_D: particles advance in fixed blocks of _BLOCK (block c holds
    particles _BLOCK c ..), every step's scores for the whole block at once. A last block with
    fewer particles is padded with copies of its last particle, computed and thrown away. The
    blocking depends on n only, never on the threads."""
    n, d = y0.shape
    N = h.shape[0]
    K = c0.shape[1]
    G = _BLOCK
    n_blocks = (n + G - 1) // G
    for c in prange(n_blocks):
        Y = np.empty((G, d))
        S1 = np.empty((G, d))
        S2 = np.empty((G, d))
        TT = np.empty((G, d))
        z = np.empty(d)
        D = np.empty((G, d))
        PD = np.empty((K, G, d))
        lk = np.empty((G, K))
        i0 = G * c
        m = min(G, n - i0)
        for j in range(G):
            src = i0 + min(j, m - 1)
            for a in range(d):
                Y[j, a] = y0[src, a]
        if keep_path:
            for j in range(m):
                path[i0 + j, 0] = Y[j]
        for k in range(N):
            _block_scores(Y, k, c0, centers, prec, bias, D, PD, lk, S1)
            if method == 2:                                   # Heun on the PF-ODE
                hk = h[k]
                for j in range(G):
                    for a in range(d):
                        TT[j, a] = Y[j, a] + hk * (Y[j, a] + S1[j, a])
                _block_scores_call(TT, k + 1, c0, centers, prec, bias, D, PD, lk, S2)
                for j in range(G):
                    for a in range(d):
                        Y[j, a] = Y[j, a] + 0.5 * hk * ((Y[j, a] + S1[j, a]) + (TT[j, a] + S2[j, a]))
            else:                                             # EM, EI, PC predictor
                for j in range(m):
                    rng._fill_normals(seed, k + 1, i0 + j, z)
                    for a in range(d):
                        Y[j, a] = ca[k] * Y[j, a] + cs[k] * S1[j, a] + cz[k] * z[a]
                for j in range(m, G):
                    for a in range(d):
                        Y[j, a] = Y[m - 1, a]
                if method == 3:                               # Langevin corrector
                    _block_scores_call(Y, k + 1, c0, centers, prec, bias, D, PD, lk, S2)
                    e = eps[k]
                    sd = np.sqrt(2.0 * e)
                    for j in range(m):
                        _fill_normals_call(seed, N + 1 + k, i0 + j, z)
                        for a in range(d):
                            Y[j, a] = Y[j, a] + e * S2[j, a] + sd * z[a]
                    for j in range(m, G):
                        for a in range(d):
                            Y[j, a] = Y[m - 1, a]
            if keep_path:
                for j in range(m):
                    path[i0 + j, k + 1] = Y[j]
        for j in range(m):
            out[i0 + j] = Y[j]


def _check_grid(grid, T):
    g = check_array(grid, "grid", ndim=1)
    if g.size < 2 or g[0] != 0.0 or np.any(np.diff(g) <= 0):
        raise ValueError("grid must start at 0 and increase strictly (at least two points)")
    if g[-1] > T:
        raise ValueError(f"grid must end at or before T={T}, got {g[-1]}")
    return g


def _start(target, start, n, T, seed):
    d = target.dim
    if isinstance(start, str):
        if start == "gaussian":
            return rng.normals(n, d, seed, step=0)
        if start == "exact":
            return target.at(T).sample(n, seed)
        raise ValueError("start must be 'gaussian', 'exact' or an array of shape (n, d)")
    y0 = check_array(start, "start", shape=(n, d))
    return y0


def sample(target, T, grid, n, seed, method="ei", start="gaussian", score=None,
           score_error=0.0, corrector_step=0.1, return_path=False):
    """Run a reverse-time sampler and return the particles at the end of the grid.

    Parameters
    ----------
    target : GaussianMixture
        The data law q; its exact scores are used unless ``score`` is given.
    T : float
        Horizon of the forward process.
    grid : array_like
        Reverse times 0 = t_0 < ... < t_N <= T (the sampler outputs an approximate draw of
        q_{T - t_N}); see :mod:`companion.schedules`.
    n : int
        Number of particles.
    seed : int
    method : {"em", "ei", "heun", "pc"}
    start : "gaussian", "exact" or array (n, d)
        N(0, I), the exact q_T, or given points.
    score : callable, optional
        ``score(tau, y) -> (n, d)``, the score at forward time tau; replaces the exact score.
    score_error : float
        Norm of the constant vector (along the first axis) added to the exact score.
    corrector_step : float
        Langevin step of the ``"pc"`` corrector, relative to sigma^2 at that time.
    return_path : bool
        Return every grid point, shape (n, N + 1, d), instead of the end points.

    Examples
    --------
    >>> import companion as cp
    >>> mu = cp.targets.bimodal()
    >>> y = sample(mu, 3.0, cp.schedules.uniform(3.0, 20, delta=0.05), 1000, seed=1)
    >>> y.shape
    (1000, 1)
    """
    if not isinstance(target, GaussianMixture):
        raise ValueError("target must be a GaussianMixture")
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_grid(grid, T)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    if method not in _CODES:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    score_error = check_float(score_error, "score_error", low=0.0)
    corrector_step = check_float(corrector_step, "corrector_step", low=0.0, low_open=True)
    if score is not None and not callable(score):
        raise ValueError("score must be a callable score(tau, y)")
    d = target.dim
    taus = T - g
    if taus[-1] <= 0 and (method in ("heun", "pc") or score is None):
        if not target.has_density:
            raise ValueError("the grid must stop before T (delta > 0): the target has no "
                             "density, so its score at tau = 0 does not exist")
    y0 = _start(target, start, n, T, seed)
    h = np.diff(g)
    eps = corrector_step * (-np.expm1(-2.0 * taus[1:]))
    bias = np.zeros(d)
    bias[0] = score_error
    if score is not None:
        return _sample_callable(score, y0, taus, h, eps, bias, method, seed, return_path)
    K = target.n_components
    N1 = g.size
    centers = np.empty((N1, K, d))
    prec = np.empty((N1, K, d, d))
    logdet = np.empty((N1, K))
    for j, tau in enumerate(taus):
        q = target.at(tau) if tau > 0 else target
        params = _gaussian_params(q.covs)
        if params is None:
            # only reachable at tau = 0 for the last point of em/ei, where it is not used
            params = (np.zeros((K, d, d)), np.zeros(K))
        centers[j] = q.means
        prec[j], logdet[j] = params
    with np.errstate(divide="ignore"):
        c0 = np.log(target.weights)[None, :] - 0.5 * logdet
    if method == "em":
        ca, cs, cz = 1.0 + h, 2.0 * h, np.sqrt(2.0 * h)
    else:
        ca, cs, cz = np.exp(h), 2.0 * np.expm1(h), np.sqrt(np.expm1(2.0 * h))
    out = np.empty((n, d))
    path = np.empty((n, N1, d)) if return_path else np.empty((1, 1, 1))
    args = (np.ascontiguousarray(y0), _CODES[method], h, ca, cs, cz, eps, c0)
    tail = (bias, np.uint64(seed), return_path, path, out)
    if d >= _GROUP_FROM_D:
        _reverse_kernel_block(*args, centers, prec, *tail)
    else:
        _reverse_kernel_low(*args, centers, prec, *tail)
    return path if return_path else out


def _sample_callable(score, y0, taus, h, eps, bias, method, seed, return_path):
    """The same samplers with a user score, in NumPy, on the same noise as the kernel."""
    n, d = y0.shape
    N = h.size
    y = y0.copy()
    path = [y.copy()] if return_path else None

    def s(j, x):
        v = np.asarray(score(float(taus[j]), x), dtype=float)
        if v.shape != x.shape or not np.all(np.isfinite(v)):
            raise ValueError(f"score must return finite values of shape {x.shape}")
        return v + bias

    for k in range(N):
        hk = h[k]
        sk = s(k, y)
        if method == "em":
            y = y + hk * (y + 2.0 * sk) + np.sqrt(2.0 * hk) * rng.normals(n, d, seed, step=k + 1)
        elif method == "heun":
            tmp = y + hk * (y + sk)
            y = y + 0.5 * hk * ((y + sk) + (tmp + s(k + 1, tmp)))
        else:
            eh = np.exp(hk)
            y = (eh * y + 2.0 * (eh - 1.0) * sk
                 + np.sqrt(np.expm1(2.0 * hk)) * rng.normals(n, d, seed, step=k + 1))
            if method == "pc":
                y = (y + eps[k] * s(k + 1, y)
                     + np.sqrt(2.0 * eps[k]) * rng.normals(n, d, seed, step=N + 1 + k))
        if return_path:
            path.append(y.copy())
    return np.stack(path, axis=1) if return_path else y


def gaussian_output_law(target, T, grid, method="ei", start="gaussian", score_error=0.0,
                        corrector_step=0.1):
    """Exact mean and covariance of a sampler's output when the data law is Gaussian.

    With q = N(m, C), the score at forward time tau is affine,
    s(y) = -P_tau (y - alpha_tau m) + b with P_tau = (alpha_tau^2 C + sigma_tau^2 I)^{-1} and b
    the score error, so each step maps y to A y + c plus independent N(0, Q) noise, and the
    law of the output is N(mu, Sigma) with mu <- A mu + c, Sigma <- A Sigma A^T + Q.

    Returns
    -------
    mean : ndarray, shape (d,)
    cov : ndarray, shape (d, d)

    Examples
    --------
    >>> import numpy as np, companion as cp
    >>> q = cp.gaussian([1.0], [[0.5]])
    >>> m, c = gaussian_output_law(q, 4.0, cp.schedules.uniform(4.0, 400), start="exact")
    >>> bool(abs(m[0] - 1.0) < 0.05 and abs(c[0, 0] - 0.5) < 0.05)
    True
    """
    if not isinstance(target, GaussianMixture) or target.n_components != 1:
        raise ValueError("target must be a Gaussian (a GaussianMixture with one component)")
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_grid(grid, T)
    if method not in _CODES:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    score_error = check_float(score_error, "score_error", low=0.0)
    corrector_step = check_float(corrector_step, "corrector_step", low=0.0, low_open=True)
    d = target.dim
    m, C = target.means[0], target.covs[0]
    I = np.eye(d)
    bias = np.zeros(d)
    bias[0] = score_error
    taus = T - g
    if taus[-1] <= 0 and method in ("heun", "pc") and np.linalg.eigvalsh(C).min() <= 0:
        raise ValueError("the grid must stop before T (delta > 0) for a singular covariance")

    def affine_score(j):
        tau = taus[j]
        a, s2 = np.exp(-tau), -np.expm1(-2.0 * tau)
        P = np.linalg.inv(a * a * C + s2 * I)
        return P, P @ (a * m) + bias                      # s(y) = -P y + r

    if not isinstance(start, str):
        raise ValueError("start must be 'gaussian' or 'exact' for the exact output law")
    if start == "gaussian":
        mu, S = np.zeros(d), I.copy()
    elif start == "exact":
        mu, S = np.exp(-T) * m, np.exp(-2 * T) * C + (-np.expm1(-2 * T)) * I
    else:
        raise ValueError("start must be 'gaussian' or 'exact'")
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        P, r = affine_score(k)
        if method == "em":
            A, c, Q = (1 + h) * I - 2 * h * P, 2 * h * r, 2 * h * I
        elif method in ("ei", "pc"):
            eh = np.exp(h)
            A, c, Q = eh * I - 2 * (eh - 1) * P, 2 * (eh - 1) * r, np.expm1(2 * h) * I
        else:
            P1, r1 = affine_score(k + 1)
            F0, F1 = I - P, I - P1
            A = I + 0.5 * h * (F0 + F1 @ (I + h * F0))
            c = 0.5 * h * (r + F1 @ (h * r) + r1)
            Q = np.zeros((d, d))
        mu, S = A @ mu + c, A @ S @ A.T + Q
        if method == "pc":
            P1, r1 = affine_score(k + 1)
            e = corrector_step * (-np.expm1(-2.0 * taus[k + 1]))
            A2 = I - e * P1
            mu, S = A2 @ mu + e * r1, A2 @ S @ A2.T + 2 * e * I
    return mu, 0.5 * (S + S.T)
