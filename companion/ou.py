"""The Ornstein-Uhlenbeck forward process dX = -X dt + sqrt(2) dB.

The closed-form marginal is ``mixture.at(t)``; this module adds what the chapter on the
forward process checks it against: Euler-Maruyama paths, samples of the stochastic
convolution sqrt(2) int_0^t e^{r-t} dB_r, and the Fokker-Planck residual of q_t.
"""
import numpy as np
from numba import njit, prange

from . import rng, sde as _sde
from ._validate import check_array, check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["marginal", "sample", "euler_maruyama", "exact_path", "ito_integral", "ito_sum_variance",
           "fokker_planck_residual"]

_OU = _sde.OU()


def marginal(mixture, t):
    """q_t, the law of X_t when X_0 ~ mixture (same as ``mixture.at(t)``)."""
    return _OU.marginal(mixture, t)


def sample(mixture, t, n, seed):
    """n exact draws of X_t = e^{-t} X_0 + sqrt(1 - e^{-2t}) G, X_0 ~ mixture."""
    return marginal(mixture, t).sample(n, seed)


def euler_maruyama(x0, t, n_steps, seed, return_path=False):
    """Euler-Maruyama paths of the OU SDE from x0 (shape (n, d)) up to time t.

    Examples
    --------
    >>> import numpy as np
    >>> euler_maruyama(np.ones((3, 1)), 0.5, 50, seed=2).shape
    (3, 1)
    """
    return _sde.euler_maruyama(_OU, x0, t, n_steps, seed, return_path=return_path)


def exact_path(x0, times, seed):
    """The OU process at the increasing times ``times`` (> 0), by its exact transitions.

    X_{t_{k+1}} = e^{-(t_{k+1} - t_k)} X_{t_k} + sqrt(1 - e^{-2 (t_{k+1} - t_k)}) z_k with t_0 = 0 and
    z_k = ``rng.normals(n, d, seed, step=k + 1)``: no discretisation error, so the joint law of
    the returned values is that of the process.

    Returns
    -------
    ndarray, shape (n, len(times), d)

    Examples
    --------
    >>> import numpy as np
    >>> exact_path(np.zeros((4, 2)), [0.5, 1.0], seed=0).shape
    (4, 2, 2)
    """
    x = check_array(x0, "x0", ndim=2)
    t = check_array(times, "times", ndim=1)
    if t.size < 1 or t[0] <= 0 or np.any(np.diff(t) <= 0):
        raise ValueError("times must be positive and strictly increasing")
    seed = check_seed(seed)
    n, d = x.shape
    out = np.empty((n, t.size, d))
    prev = 0.0
    for k, tk in enumerate(t):
        dt = tk - prev
        x = np.exp(-dt) * x + np.sqrt(-np.expm1(-2.0 * dt)) * rng.normals(n, d, seed, step=k + 1)
        out[:, k] = x
        prev = tk
    return out


@njit(cache=True, parallel=True)
def _ito_kernel(t, n_steps, seed, out):
    h = t / n_steps
    sh = np.sqrt(2.0 * h)
    for i in prange(out.shape[0]):
        acc = 0.0
        zi = np.empty(1)
        for k in range(n_steps):
            rng._fill_normals(seed, k + 1, i, zi)
            acc += np.exp((k + 0.5) * h - t) * sh * zi[0]
        out[i] = acc


def ito_integral(t, n_steps, n, seed):
    """n samples of the sum sqrt(2) sum_k e^{c_k - t} (B_{r_{k+1}} - B_{r_k}) approximating
    sqrt(2) int_0^t e^{r - t} dB_r, with r_k = k h, h = t / n_steps, c_k = r_k + h / 2.

    The integrand is deterministic, so any point of each step may be used; the midpoint makes
    the exact variance of the sum, ``2 h sum_k e^{2 (c_k - t)}`` (see :func:`ito_sum_variance`),
    differ from ``1 - e^{-2t}`` by O(h^2) only.

    Examples
    --------
    >>> ito_integral(1.0, 100, 8, seed=0).shape
    (8,)
    """
    t = check_float(t, "t", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    n = check_int(n, "n", low=1)
    seed = check_seed(seed)
    out = np.empty(n)
    _ito_kernel(t, n_steps, np.uint64(seed), out)
    return out


def ito_sum_variance(t, n_steps):
    """Exact variance of the discrete sum returned by :func:`ito_integral`."""
    t = check_float(t, "t", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    h = t / n_steps
    c = h * (np.arange(n_steps) + 0.5)
    return float(2.0 * h * np.sum(np.exp(2.0 * (c - t))))


def fokker_planck_residual(mixture, t, x, h, drift_coeff=1.0, diffusion_coeff=1.0):
    """Residual of d/dt q_t = drift_coeff div(x q_t) + diffusion_coeff Laplacian q_t.

    Every derivative is a second-order central difference of the closed-form density of
    q_t = ``mixture.at(t)`` with step ``h`` (in time and in each coordinate), so for the
    correct coefficients (1 and 1) the residual is O(h^2); any other coefficients leave a
    residual that does not vanish as h -> 0.

    Parameters
    ----------
    mixture : GaussianMixture
    t : float, > h
    x : array_like, shape (n, d)
    h : float, > 0

    Returns
    -------
    residual : ndarray, shape (n,)
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    h = check_float(h, "h", low=0.0, low_open=True)
    t = check_float(t, "t", low=h, low_open=True)
    x = check_array(x, "x", ndim=2)
    if x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (n, {mixture.dim}), got {x.shape}")
    drift_coeff = check_float(drift_coeff, "drift_coeff")
    diffusion_coeff = check_float(diffusion_coeff, "diffusion_coeff")
    q = mixture.at(t)
    dq_dt = (mixture.at(t + h).pdf(x) - mixture.at(t - h).pdf(x)) / (2.0 * h)
    div, lap = _sde._central_div_laplacian(q.pdf, lambda y: y * q.pdf(y)[:, None], x, h)
    return dq_dt - drift_coeff * div - diffusion_coeff * lap
