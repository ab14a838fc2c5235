"""Path-space likelihood ratios and KL divergences (Girsanov's theorem, discretised and exact).

Two diffusions ``dX = b(X) dt + sigma dB`` (the "Q world") and ``dX = b'(X) dt + sigma dB``
(the "P world") with the same start and the same noise level have mutually absolutely
continuous path laws. This module computes, for drifts of the form
``b(x) = A x + c + k * tanh(x)`` (:class:`Drift`):

* :func:`log_ratio_paths` - Euler-Maruyama paths in either world together with the discrete
  log-likelihood ratio ``log(L_Q / L_P)`` of each path, accumulated in the same Numba kernel
  as the step, from the counter-based noise of :mod:`companion.rng`;
* :func:`linear_path_kl` - the continuous-time ``KL(Q || P)`` between two linear-Gaussian
  SDEs, ``(1 / (2 sigma^2)) int E_Q ||b - b'||^2 dt``, from the moment ODEs;
* :func:`discrete_girsanov_sum` and :func:`euler_chain_kl` - the same KL for the two Euler
  chains, once as the discrete Girsanov sum and once as the log-determinant KL of the two
  Gaussian vectors (they are equal; they differ from the continuous value by O(h));
* :func:`gaussian_chain_law` - the joint Gaussian law of a linear chain whose steps may also
  depend on an earlier state (a frozen score);
* :func:`diffusion_path_kl` and :func:`diffusion_skeleton_kl` - for Gaussian data, the path
  KL between the exact reverse process and the frozen-score sampler (the exponential
  integrator), by quadrature of the Girsanov integrand and as the KL of the Gaussian laws of
  the two processes observed on a refined grid;
* :func:`langevin_kl_gaussian`, :func:`reverse_output_variance` and :func:`density_ei_1d`,
  the exact quantities of the convergence analysis (Langevin warm-up, initialisation error,
  law of the sampler's output for a 1-D mixture).
"""
import numpy as np
from numba import njit, prange
from scipy.integrate import solve_ivp

from . import rng
from ._validate import check_array, check_float, check_int, check_seed
from .divergences import gaussian_kl
from .targets import GaussianMixture

__all__ = ["Drift", "log_ratio_paths", "linear_path_kl", "discrete_girsanov_sum",
           "euler_chain_kl", "gaussian_chain_law", "diffusion_path_kl", "diffusion_skeleton_kl",
           "langevin_kl_gaussian", "langevin_skeleton_kl", "reverse_output_variance", "density_ei_1d"]

_SQRT2 = float(np.sqrt(2.0))


class Drift:
    """A drift ``b(x) = A x + c + k * tanh(x)`` (tanh and product coordinatewise).

    Parameters
    ----------
    A : array_like, shape (d, d)
    c : array_like, shape (d,), optional (zero by default)
    k : array_like, shape (d,), optional (zero by default)

    Examples
    --------
    >>> b = Drift([[-1.0]], c=[0.5])
    >>> b([[2.0]])
    array([[-1.5]])
    """

    def __init__(self, A, c=None, k=None):
        self.A = check_array(A, "A", ndim=2)
        d = self.A.shape[0]
        if self.A.shape != (d, d):
            raise ValueError(f"A must be square, got shape {self.A.shape}")
        self.c = np.zeros(d) if c is None else check_array(c, "c", shape=(d,))
        self.k = np.zeros(d) if k is None else check_array(k, "k", shape=(d,))

    @property
    def dim(self):
        return self.A.shape[0]

    @property
    def is_linear(self):
        return not np.any(self.k)

    def __call__(self, x):
        x = check_array(x, "x", ndim=2)
        return x @ self.A.T + self.c + self.k * np.tanh(x)

    def __repr__(self):
        return f"Drift(d={self.dim}, linear={self.is_linear})"


@njit(cache=True, inline="always")
def _drift(A, c, k, x, out):
    d = x.shape[0]
    for a in range(d):
        acc = c[a] + k[a] * np.tanh(x[a])
        for b in range(d):
            acc += A[a, b] * x[b]
        out[a] = acc


@njit(cache=True, parallel=True)
def _lr_kernel(x0, A1, c1, k1, A2, c2, k2, world, h, sigma, seed, keep_path, path, out_x, out_lr):
    n, d = x0.shape
    N = path.shape[1] - 1 if keep_path else -1
    n_steps = h.shape[0]
    for i in prange(n):
        x = x0[i].copy()
        xn = np.empty(d)
        z = np.empty(d)
        b1 = np.empty(d)
        b2 = np.empty(d)
        lr = 0.0
        if keep_path:
            path[i, 0] = x
        for j in range(n_steps):
            # the same counter layout as sde.euler_maruyama: step j uses counter step j + 1
            rng._fill_normals(seed, j + 1, i, z)
            _drift(A1, c1, k1, x, b1)
            _drift(A2, c2, k2, x, b2)
            sh = sigma * np.sqrt(h[j])
            r1 = 0.0
            r2 = 0.0
            for a in range(d):
                drift = b1[a] if world == 0 else b2[a]
                xn[a] = x[a] + h[j] * drift + sh * z[a]
                dx = xn[a] - x[a]
                e1 = dx - h[j] * b1[a]
                e2 = dx - h[j] * b2[a]
                r1 += e1 * e1
                r2 += e2 * e2
            # log of the ratio of the two Gaussian transition densities, nothing simplified
            lr += (r2 - r1) / (2.0 * sigma * sigma * h[j])
            for a in range(d):
                x[a] = xn[a]
            if keep_path:
                path[i, j + 1] = x
        out_x[i] = x
        out_lr[i] = lr


def _check_drifts(drift_q, drift_p):
    if not isinstance(drift_q, Drift) or not isinstance(drift_p, Drift):
        raise ValueError("drift_q and drift_p must be Drift objects")
    if drift_q.dim != drift_p.dim:
        raise ValueError(f"drift_q and drift_p must have the same dimension, got "
                         f"{drift_q.dim} and {drift_p.dim}")
    return drift_q.dim


def log_ratio_paths(drift_q, drift_p, x0, T, n_steps, seed, world="q", sigma=_SQRT2,
                    return_path=False):
    """Euler-Maruyama paths and their discrete log-likelihood ratio ``log(L_Q / L_P)``.

    Both chains step ``x + h b(x) + sigma sqrt(h) g``; the paths are simulated with the drift
    of ``world`` ("q": ``drift_q``, "p": ``drift_p``), and along each path the kernel adds up
    ``log N(x_{k+1}; x_k + h b(x_k), sigma^2 h I) - log N(x_{k+1}; x_k + h b'(x_k), sigma^2 h I)``.
    Particle ``i`` at step ``k`` uses the normals of stream ``i``, counter step ``k + 1``
    (``rng.normals(n, d, seed, step=k + 1)`` rebuilds them), so the result does not depend on
    the number of threads.

    Parameters
    ----------
    drift_q, drift_p : Drift
    x0 : array_like, shape (n, d)
        Starting points.
    T : float, > 0
    n_steps : int
    seed : int
    world : {"q", "p"}
    sigma : float, > 0
        Noise level (sqrt 2 in the book's convention).
    return_path : bool
        Return the whole paths, shape (n, n_steps + 1, d), instead of the end points.

    Returns
    -------
    x : ndarray, shape (n, d) or (n, n_steps + 1, d)
    log_ratio : ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> q, p = Drift([[-1.0]], c=[0.5]), Drift([[-1.0]])
    >>> x, lr = log_ratio_paths(q, p, np.zeros((4, 1)), 1.0, 10, seed=0, world="p")
    >>> x.shape, lr.shape
    ((4, 1), (4,))
    """
    d = _check_drifts(drift_q, drift_p)
    x0 = check_array(x0, "x0", ndim=2)
    if x0.shape[1] != d:
        raise ValueError(f"x0 must have shape (n, {d}), got {x0.shape}")
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    seed = check_seed(seed)
    if world not in ("q", "p"):
        raise ValueError(f"world must be 'q' or 'p', got {world!r}")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    h = np.full(n_steps, T / n_steps)
    n = x0.shape[0]
    out_x = np.empty((n, d))
    out_lr = np.empty(n)
    path = np.empty((n, n_steps + 1, d)) if return_path else np.empty((1, 1, 1))
    _lr_kernel(x0, drift_q.A, drift_q.c, drift_q.k, drift_p.A, drift_p.c, drift_p.k,
               0 if world == "q" else 1, h, sigma, np.uint64(seed), return_path, path,
               out_x, out_lr)
    return (path if return_path else out_x), out_lr


def _linear_pair(drift_q, drift_p, m0, S0):
    d = _check_drifts(drift_q, drift_p)
    if not (drift_q.is_linear and drift_p.is_linear):
        raise ValueError("drift_q and drift_p must be linear (k = 0) for an exact KL")
    m0 = check_array(m0, "m0", shape=(d,))
    S0 = check_array(S0, "S0", shape=(d, d))
    if np.any(np.linalg.eigvalsh(0.5 * (S0 + S0.T)) < -1e-12):
        raise ValueError("S0 must be positive semi-definite")
    return d, m0, S0


def _integrand(DA, Db, m, S, sigma):
    """(1 / (2 sigma^2)) E||DA X + Db||^2 for X ~ N(m, S)."""
    M = DA.T @ DA
    return (np.trace(M @ (S + np.outer(m, m))) + 2.0 * Db @ (DA @ m) + Db @ Db) / (2.0 * sigma**2)


def linear_path_kl(drift_q, drift_p, m0, S0, T, sigma=_SQRT2, rtol=1e-12):
    """``KL(Q || P)`` between the path laws of two linear SDEs on [0, T], same start N(m0, S0).

    With ``DA = A - A'`` and ``Db = c - c'``, Girsanov's theorem gives
    ``KL = (1 / (2 sigma^2)) int_0^T [tr(DA^T DA (S_t + m_t m_t^T)) + 2 Db^T DA m_t + ||Db||^2] dt``,
    with ``m' = A m + c`` and ``S' = A S + S A^T + sigma^2 I`` the moments under Q; the ODEs and
    the integral are solved together (relative tolerance ``rtol``).

    Examples
    --------
    >>> q, p = Drift([[0.0]], c=[1.0]), Drift([[0.0]])
    >>> round(linear_path_kl(q, p, [0.0], [[1.0]], 2.0), 10)       # ||Db||^2 T / 4
    0.5
    """
    d, m0, S0 = _linear_pair(drift_q, drift_p, m0, S0)
    T = check_float(T, "T", low=0.0, low_open=True)
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    rtol = check_float(rtol, "rtol", low=0.0, low_open=True)
    A, c = drift_q.A, drift_q.c
    DA, Db = A - drift_p.A, c - drift_p.c
    I = np.eye(d)

    def rhs(t, y):
        m, S = y[:d], y[d:d + d * d].reshape(d, d)
        dS = A @ S + S @ A.T + sigma**2 * I
        return np.concatenate([A @ m + c, dS.ravel(), [_integrand(DA, Db, m, S, sigma)]])

    y0 = np.concatenate([m0, S0.ravel(), [0.0]])
    sol = solve_ivp(rhs, (0.0, T), y0, method="DOP853", rtol=rtol, atol=1e-14)
    return float(sol.y[-1, -1])


def discrete_girsanov_sum(drift_q, drift_p, m0, S0, T, n_steps, sigma=_SQRT2):
    """``(h / (2 sigma^2)) sum_k E_Q ||b(x_k) - b'(x_k)||^2`` along the Euler chain of Q.

    The moments of the chain follow ``m <- m + h (A m + c)``,
    ``S <- (I + h A) S (I + h A)^T + sigma^2 h I``.

    Examples
    --------
    >>> q, p = Drift([[0.0]], c=[1.0]), Drift([[0.0]])
    >>> round(discrete_girsanov_sum(q, p, [0.0], [[1.0]], 2.0, 10), 10)
    0.5
    """
    d, m0, S0 = _linear_pair(drift_q, drift_p, m0, S0)
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    h = T / n_steps
    F = np.eye(d) + h * drift_q.A
    DA, Db = drift_q.A - drift_p.A, drift_q.c - drift_p.c
    m, S, total = m0.copy(), S0.copy(), 0.0
    for _ in range(n_steps):
        total += h * _integrand(DA, Db, m, S, sigma)
        m, S = F @ m + h * drift_q.c, F @ S @ F.T + sigma**2 * h * np.eye(d)
    return float(total)


def _psd_root(M):
    lam, vec = np.linalg.eigh(0.5 * (M + M.T))
    return (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T


def gaussian_chain_law(m0, S0, steps):
    """Joint Gaussian law of ``(x_0, ..., x_J)`` for a linear chain with an optional memory.

    Step ``j`` is ``x_{j+1} = F_j x_j + G_j x_{r_j} + f_j + N(0, Q_j)`` with ``r_j <= j``
    (``G_j`` may be None); the noises are independent of each other and of ``x_0 ~ N(m0, S0)``.

    Parameters
    ----------
    m0 : array_like, shape (d,)
    S0 : array_like, shape (d, d)
    steps : sequence of tuples ``(F, G, r, f, Q)``

    Returns
    -------
    mean : ndarray, shape ((J + 1) d,)
    cov : ndarray, shape ((J + 1) d, (J + 1) d)

    Examples
    --------
    >>> m, C = gaussian_chain_law([0.0], [[1.0]], [([[1.0]], None, 0, [0.0], [[1.0]])] * 2)
    >>> C
    array([[1., 1., 1.],
           [1., 2., 2.],
           [1., 2., 3.]])
    """
    m0 = check_array(m0, "m0", ndim=1)
    d = m0.size
    S0 = check_array(S0, "S0", shape=(d, d))
    J = len(steps)
    if J < 1:
        raise ValueError("steps must hold at least one step")
    width = d * (J + 1)
    L = np.zeros((J + 1, d, width))
    mu = np.zeros((J + 1, d))
    L[0, :, :d] = _psd_root(S0)
    mu[0] = m0
    for j, step in enumerate(steps):
        if len(step) != 5:
            raise ValueError(f"steps[{j}] must be a tuple (F, G, r, f, Q)")
        F, G, r, f, Q = step
        F = check_array(F, f"steps[{j}].F", shape=(d, d))
        f = check_array(f, f"steps[{j}].f", shape=(d,))
        Q = check_array(Q, f"steps[{j}].Q", shape=(d, d))
        L[j + 1] = F @ L[j]
        mu[j + 1] = F @ mu[j] + f
        if G is not None:
            G = check_array(G, f"steps[{j}].G", shape=(d, d))
            r = check_int(r, f"steps[{j}].r", low=0, high=j)
            L[j + 1] += G @ L[r]
            mu[j + 1] += G @ mu[r]
        L[j + 1, :, d * (j + 1):d * (j + 2)] = _psd_root(Q)
    Lf = L.reshape(width, width)
    return mu.ravel(), Lf @ Lf.T


def euler_chain_kl(drift_q, drift_p, m0, S0, T, n_steps, sigma=_SQRT2):
    """KL between the Gaussian laws of the two Euler chains ``(x_0, ..., x_N)``, by Cholesky
    factors and log-determinants (``divergences.gaussian_kl``); needs ``S0`` positive definite.

    Examples
    --------
    >>> q, p = Drift([[0.0]], c=[1.0]), Drift([[0.0]])
    >>> round(euler_chain_kl(q, p, [0.0], [[1.0]], 2.0, 10), 8)
    0.5
    """
    d, m0, S0 = _linear_pair(drift_q, drift_p, m0, S0)
    T = check_float(T, "T", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    if np.linalg.eigvalsh(S0).min() <= 0:
        raise ValueError("S0 must be positive definite for the chain KL")
    h = T / n_steps
    Q = sigma**2 * h * np.eye(d)
    laws = []
    for b in (drift_q, drift_p):
        steps = [(np.eye(d) + h * b.A, None, 0, h * b.c, Q)] * n_steps
        laws.append(gaussian_chain_law(m0, S0, steps))
    return gaussian_kl(laws[0][0], laws[0][1], laws[1][0], laws[1][1])


# ------------------------------------------------------------------ diffusion model, Gaussian data
def _gaussian_target(target):
    if not isinstance(target, GaussianMixture) or target.n_components != 1:
        raise ValueError("target must be a Gaussian (a GaussianMixture with one component)")
    return target.means[0], target.covs[0]


def _check_reverse_grid(grid, T, need_density):
    g = check_array(grid, "grid", ndim=1)
    if g.size < 2 or g[0] != 0.0 or np.any(np.diff(g) <= 0):
        raise ValueError("grid must start at 0 and increase strictly (at least two points)")
    if g[-1] > T:
        raise ValueError(f"grid must end at or before T={T}, got {g[-1]}")
    if need_density and g[-1] >= T:
        raise ValueError("grid must stop before T (delta > 0) for a singular data covariance")
    return g


def diffusion_path_kl(target, T, grid, score_error=0.0, n_quad=20, per_step=False):
    """Girsanov path KL between the exact reverse process and the frozen-score sampler.

    For data ``N(mu, C)`` and the score ``s_k(y) = grad log q_{T - t_k}(y) + e`` (``e`` a
    constant vector of norm ``score_error``), returns
    ``sum_k int_{t_k}^{t_{k+1}} E ||grad log q_{T-t}(Y_t) - s_k(Y_{t_k})||^2 dt``, where
    ``Y`` is the exact reverse process started at ``q_T``. With ``a = T - t < b = T - t_k`` and
    ``Sigma_u = e^{-2u} C + (1 - e^{-2u}) I``, ``Cov(X_b, X_a) = e^{-(b - a)} Sigma_a``, so the
    integrand is ``tr Sigma_a^{-1} + tr Sigma_b^{-1} - 2 e^{-(b - a)} tr Sigma_b^{-1} + ||e||^2``;
    each step is integrated by ``n_quad``-point Gauss-Legendre quadrature.

    Examples
    --------
    >>> import companion as cp
    >>> q = cp.gaussian([0.0], [[1.0]])       # q_t = N(0, 1): the integrand is 2 (1 - e^{-(t - t_k)})
    >>> round(float(diffusion_path_kl(q, 2.0, [0.0, 1.0, 2.0]) / (4 * np.exp(-1.0))), 12)
    1.0
    """
    mu, C = _gaussian_target(target)
    T = check_float(T, "T", low=0.0, low_open=True)
    lam = np.linalg.eigvalsh(C)
    g = _check_reverse_grid(grid, T, need_density=lam.min() <= 0)
    score_error = check_float(score_error, "score_error", low=0.0)
    n_quad = check_int(n_quad, "n_quad", low=2)
    nodes, weights = np.polynomial.legendre.leggauss(n_quad)

    def trinv(u):
        u = np.asarray(u)[..., None]
        return np.sum(1.0 / (np.exp(-2.0 * u) * lam + -np.expm1(-2.0 * u)), axis=-1)

    out = np.empty(g.size - 1)
    for k in range(g.size - 1):
        t = 0.5 * (g[k + 1] - g[k]) * nodes + 0.5 * (g[k + 1] + g[k])
        a, b = T - t, T - g[k]
        f = trinv(a) + trinv(b) * (1.0 - 2.0 * np.exp(-(b - a))) + score_error**2
        out[k] = 0.5 * (g[k + 1] - g[k]) * np.sum(weights * f)
    return out if per_step else float(out.sum())


def _reverse_steps(mu, C, T, fine):
    """(F, G, r, f, Q) of the exact reverse process observed on the reverse times ``fine``."""
    d = mu.size
    I = np.eye(d)

    def law(u):
        return np.exp(-u) * mu, np.exp(-2 * u) * C - np.expm1(-2 * u) * I

    steps = []
    for j in range(fine.size - 1):
        b, a = T - fine[j], T - fine[j + 1]          # forward times, a < b
        ma, Sa = law(a)
        mb, Sb = law(b)
        K = np.exp(-(b - a)) * Sa @ np.linalg.inv(Sb)  # X_a given X_b: regression coefficient
        Q = Sa - np.exp(-(b - a)) * K @ Sa
        steps.append((K, None, 0, ma - K @ mb, 0.5 * (Q + Q.T)))
    return steps


def diffusion_skeleton_kl(target, T, grid, substeps, score_error=0.0, start="exact"):
    """KL between the exact reverse process and the frozen-score sampler seen on a finer grid.

    Each step of ``grid`` is cut into ``substeps`` equal parts. On a part of length ``eta``
    inside step k, the sampler moves exactly along ``dY = (Y + 2 s_k(Y_{t_k})) dt + sqrt 2 dB``
    (``Y <- e^eta Y + 2 (e^eta - 1) s_k(Y_{t_k}) + N(0, (e^{2 eta} - 1) I)``), the exact reverse
    process by its Gaussian transition; both laws on the fine grid are Gaussian
    (:func:`gaussian_chain_law`) and their KL is computed by log-determinants. By the data
    processing inequality it increases with ``substeps`` to the path KL. ``start``: "exact"
    (the sampler starts at q_T) or "gaussian" (at N(0, I)); the exact process starts at q_T.

    Returns
    -------
    float
    """
    mu, C = _gaussian_target(target)
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_reverse_grid(grid, T, need_density=np.linalg.eigvalsh(C).min() <= 0)
    substeps = check_int(substeps, "substeps", low=1)
    score_error = check_float(score_error, "score_error", low=0.0)
    if start not in ("exact", "gaussian"):
        raise ValueError(f"start must be 'exact' or 'gaussian', got {start!r}")
    d = mu.size
    I = np.eye(d)
    e = np.zeros(d)
    e[0] = score_error
    fine = np.concatenate([np.linspace(g[k], g[k + 1], substeps + 1)[:-1]
                           for k in range(g.size - 1)] + [g[-1:]])
    mT, ST = np.exp(-T) * mu, np.exp(-2 * T) * C - np.expm1(-2 * T) * I
    true = gaussian_chain_law(mT, ST, _reverse_steps(mu, C, T, fine))
    steps = []
    for k in range(g.size - 1):
        b = T - g[k]
        P = np.linalg.inv(np.exp(-2 * b) * C - np.expm1(-2 * b) * I)
        r = k * substeps
        for j in range(substeps):
            eta = fine[r + j + 1] - fine[r + j]
            a1, a2 = np.exp(eta), np.expm1(eta)
            G = -2.0 * a2 * P
            if j == 0:
                F, G_, f = a1 * I + G, None, 2.0 * a2 * (P @ (np.exp(-b) * mu) + e)
            else:
                F, G_, f = a1 * I, G, 2.0 * a2 * (P @ (np.exp(-b) * mu) + e)
            steps.append((F, G_, r, f, np.expm1(2 * eta) * I))
    m0, S0 = (mT, ST) if start == "exact" else (np.zeros(d), I)
    alg = gaussian_chain_law(m0, S0, steps)
    return gaussian_kl(true[0], true[1], alg[0], alg[1])


def langevin_kl_gaussian(alpha, d, T, h):
    """``KL(LD || ULA)`` on [0, T] for the target N(0, I / alpha), LD started at stationarity.

    With ``E||x_t - x_s||^2 = 2 d (1 - e^{-alpha (t - s)}) / alpha`` along stationary Langevin
    dynamics and drift gap ``alpha (x_t - x_{kh})``, the Girsanov formula gives
    ``(alpha d / 2) (T / h) (h - (1 - e^{-alpha h}) / alpha)``, about ``alpha^2 d h T / 4``.

    Examples
    --------
    >>> round(langevin_kl_gaussian(1.0, 1, 1.0, 1e-4) / 2.5e-5, 3)
    1.0
    """
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    d = check_int(d, "d", low=1)
    T = check_float(T, "T", low=0.0, low_open=True)
    h = check_float(h, "h", low=0.0, low_open=True, high=T)
    return float(0.5 * alpha * d * (T / h) * (h + np.expm1(-alpha * h) / alpha))


def langevin_skeleton_kl(alpha, T, h, substeps):
    """KL between stationary Langevin dynamics and ULA for N(0, 1 / alpha) in 1-D, both observed
    on the grid of step ``h / substeps``.

    Langevin moves by its exact transition ``x <- e^{-alpha eta} x + N(0, (1 - e^{-2 alpha eta}) / alpha)``;
    ULA, inside a step started at ``x_{kh}``, by ``x <- x - alpha eta x_{kh} + N(0, 2 eta)``. Both
    start at N(0, 1 / alpha); the KL of the two Gaussian vectors increases with ``substeps`` to
    :func:`langevin_kl_gaussian`.

    Examples
    --------
    >>> langevin_skeleton_kl(1.0, 1.0, 0.5, 4) < langevin_kl_gaussian(1.0, 1, 1.0, 0.5)
    True
    """
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    T = check_float(T, "T", low=0.0, low_open=True)
    h = check_float(h, "h", low=0.0, low_open=True, high=T)
    substeps = check_int(substeps, "substeps", low=1)
    n_steps = int(round(T / h))
    if abs(n_steps * h - T) > 1e-9 * T:
        raise ValueError(f"T / h must be an integer, got T={T}, h={h}")
    eta = h / substeps
    one = np.eye(1)
    decay = np.exp(-alpha * eta)
    ld = [(decay * one, None, 0, [0.0], -np.expm1(-2 * alpha * eta) / alpha * one)]
    ld = ld * (n_steps * substeps)
    ula = []
    for k in range(n_steps):
        r = k * substeps
        for j in range(substeps):
            if j == 0:
                ula.append(((1 - alpha * eta) * one, None, r, [0.0], 2 * eta * one))
            else:
                ula.append((one, -alpha * eta * one, r, [0.0], 2 * eta * one))
    a = gaussian_chain_law([0.0], one / alpha, ld)
    b = gaussian_chain_law([0.0], one / alpha, ula)
    return gaussian_kl(a[0], a[1], b[0], b[1])


def reverse_output_variance(c, T, start_var=1.0):
    """Variance at reverse time T of the exact reverse SDE for data N(0, c) in 1-D, started
    from N(0, start_var): ``w' = 2 (1 - 2 / v_{T-t}) w + 2`` with ``v_u = c e^{-2u} + 1 - e^{-2u}``
    (``start_var = v_T`` returns ``c``).

    Examples
    --------
    >>> import numpy as np
    >>> vT = 0.5 * np.exp(-2.0) + 1 - np.exp(-2.0)
    >>> round(reverse_output_variance(0.5, 1.0, start_var=vT), 9)
    0.5
    """
    c = check_float(c, "c", low=0.0, low_open=True)
    T = check_float(T, "T", low=0.0, low_open=True)
    start_var = check_float(start_var, "start_var", low=0.0, low_open=True)

    def rhs(t, w):
        u = T - t
        v = c * np.exp(-2 * u) - np.expm1(-2 * u)
        return 2.0 * (1.0 - 2.0 / v) * w + 2.0

    sol = solve_ivp(rhs, (0.0, T), [start_var], method="DOP853", rtol=1e-12, atol=1e-14)
    return float(sol.y[0, -1])


@njit(cache=True, parallel=True)
def _ei_density_step(x, p, mean, sd, dx, out):
    n = x.shape[0]
    c = dx / (np.sqrt(2.0 * np.pi) * sd)
    for i in prange(n):
        acc = 0.0
        for j in range(n):
            u = (x[i] - mean[j]) / sd
            acc += p[j] * np.exp(-0.5 * u * u)
        out[i] = acc * c


def density_ei_1d(target, T, grid, x, score_error=0.0):
    """Density, on the uniform grid ``x``, of the exponential-integrator sampler's output.

    The sampler starts from N(0, 1) and steps ``y <- e^h y + 2 (e^h - 1) s_k(y) + N(0, e^{2h} - 1)``
    with the exact score of the 1-D mixture ``target`` plus ``score_error``; each step applies
    the Gaussian transition kernel to the density by the trapezoid rule on ``x`` (a Numba
    kernel), so the grid must be fine compared with ``sqrt(e^{2h} - 1)`` and wide enough.

    Returns
    -------
    ndarray, shape (len(x),)

    Examples
    --------
    >>> import numpy as np, companion as cp
    >>> x = np.linspace(-8, 8, 801)
    >>> p = density_ei_1d(cp.gaussian([0.0], [[1.0]]), 2.0, [0.0, 0.5, 1.0, 1.5, 2.0], x)
    >>> round(float(p.sum() * (x[1] - x[0])), 6)            # the mass is kept
    1.0
    """
    if not isinstance(target, GaussianMixture) or target.dim != 1:
        raise ValueError("target must be a 1-D GaussianMixture")
    T = check_float(T, "T", low=0.0, low_open=True)
    g = _check_reverse_grid(grid, T, need_density=not target.has_density)
    x = check_array(x, "x", ndim=1)
    if x.size < 3 or np.any(np.abs(np.diff(x, 2)) > 1e-9 * (x[-1] - x[0])) or x[1] <= x[0]:
        raise ValueError("x must be an increasing uniform grid with at least 3 points")
    score_error = check_float(score_error, "score_error", low=0.0)
    dx = x[1] - x[0]
    w = np.full(x.size, dx)
    w[0] = w[-1] = 0.5 * dx
    p = np.exp(-0.5 * x**2) / np.sqrt(2.0 * np.pi)
    out = np.empty_like(p)
    for k in range(g.size - 1):
        h = g[k + 1] - g[k]
        s = target.at(T - g[k]).score(x[:, None])[:, 0] + score_error
        mean = np.exp(h) * x + 2.0 * np.expm1(h) * s
        _ei_density_step(x, p * w / dx, mean, np.sqrt(np.expm1(2.0 * h)), dx, out)
        p = out.copy()
    return p
