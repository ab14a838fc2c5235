"""Forward SDEs with linear drift: OU, VP, VE and sub-VP.

Each process solves ``dX_t = -f(t) X_t dt + g(t) dB_t``. Because the drift is linear and the
noise additive, the transition is Gaussian:

    X_t | X_0 = x  ~  N(m(t) x, v(t) I),   m(t) = exp(-int_0^t f),
    v(t) = int_0^t exp(-2 int_r^t f) g(r)^2 dr,

and the marginal of a Gaussian-mixture start is ``mixture.channel(m(t), sqrt(v(t)))``.
``euler_maruyama`` simulates the SDE itself, so that these closed forms can be checked.
"""
import numpy as np
from numba import njit, prange

from . import rng
from ._validate import check_array, check_float, check_int, check_seed
from .targets import GaussianMixture

__all__ = ["LinearSDE", "ConstantLinear", "OU", "VP", "VE", "VELinear", "SubVP", "euler_maruyama", "moment_odes", "em_moments",
           "reverse_fokker_planck_residual"]


class LinearSDE:
    """Base class: subclasses define f, g, mean_coeff and marginal_var (vectorised in t)."""

    name = "linear SDE"

    def f(self, t):
        raise AttributeError  # pragma: no cover - every subclass defines it

    def g(self, t):
        raise AttributeError  # pragma: no cover

    def drift(self, t, x):
        """Drift -f(t) x."""
        return -self.f(t) * np.asarray(x, dtype=float)

    def marginal(self, mixture, t):
        """Law of X_t when X_0 ~ mixture: ``mixture.channel(m(t), sqrt(v(t)))``."""
        if not isinstance(mixture, GaussianMixture):
            raise ValueError("mixture must be a GaussianMixture")
        t = check_float(t, "t", low=0.0)
        return mixture.channel(float(self.mean_coeff(t)), float(np.sqrt(self.marginal_var(t))))

    def _t(self, t):
        a = check_array(t, "t")
        if np.any(a < 0):
            raise ValueError("t must be >= 0")
        return a

    def __repr__(self):
        return self.name


class ConstantLinear(LinearSDE):
    """dX = -f X dt + g dB with constants f (any sign) and g >= 0.

    m(t) = e^{-f t}, v(t) = g^2 (1 - e^{-2 f t}) / (2 f)  (g^2 t when f = 0). With f = -1 it is
    the reverse-time OU dynamics without their score term; with f = 1/v, g = sqrt(2) it is the
    Langevin dynamics of N(0, v).
    """

    def __init__(self, f, g):
        self.f_value = check_float(f, "f")
        self.g_value = check_float(g, "g", low=0.0)
        self.name = f"ConstantLinear(f={self.f_value:g}, g={self.g_value:g})"

    def f(self, t):
        return np.full_like(self._t(t), self.f_value)

    def g(self, t):
        return np.full_like(self._t(t), self.g_value)

    def mean_coeff(self, t):
        return np.exp(-self.f_value * self._t(t))

    def marginal_var(self, t):
        t = self._t(t)
        if self.f_value == 0.0:
            return self.g_value ** 2 * t
        return self.g_value ** 2 * -np.expm1(-2.0 * self.f_value * t) / (2.0 * self.f_value)


class OU(ConstantLinear):
    """dX = -X dt + sqrt(2) dB: m(t) = e^{-t}, v(t) = 1 - e^{-2t}."""

    def __init__(self):
        super().__init__(1.0, np.sqrt(2.0))
        self.name = "OU"

    def marginal_var(self, t):
        return -np.expm1(-2.0 * self._t(t))


class _BetaSchedule(LinearSDE):
    def __init__(self, beta_min=0.1, beta_max=20.0, T=1.0):
        self.beta_min = check_float(beta_min, "beta_min", low=0.0)
        self.beta_max = check_float(beta_max, "beta_max", low=0.0)
        self.T = check_float(T, "T", low=0.0, low_open=True)

    def beta(self, t):
        """Linear schedule beta(t) = beta_min + (t / T)(beta_max - beta_min)."""
        return self.beta_min + self._t(t) / self.T * (self.beta_max - self.beta_min)

    def int_beta(self, t):
        """int_0^t beta."""
        t = self._t(t)
        return self.beta_min * t + 0.5 * t * t / self.T * (self.beta_max - self.beta_min)

    def f(self, t):
        return 0.5 * self.beta(t)

    def mean_coeff(self, t):
        return np.exp(-0.5 * self.int_beta(t))


class VP(_BetaSchedule):
    """Variance preserving: f = beta/2, g = sqrt(beta); v(t) = 1 - exp(-int beta)."""

    name = "VP"

    def g(self, t):
        return np.sqrt(self.beta(t))

    def marginal_var(self, t):
        return -np.expm1(-self.int_beta(t))


class SubVP(_BetaSchedule):
    """sub-VP: f = beta/2, g = sqrt(beta (1 - exp(-2 int beta))); v(t) = (1 - exp(-int beta))^2."""

    name = "sub-VP"

    def g(self, t):
        return np.sqrt(self.beta(t) * -np.expm1(-2.0 * self.int_beta(t)))

    def marginal_var(self, t):
        return np.expm1(-self.int_beta(t)) ** 2


class VE(LinearSDE):
    """Variance exploding: f = 0, sigma(t) = sigma_min (sigma_max / sigma_min)^{t/T},
    g(t)^2 = d sigma^2 / dt; v(t) = sigma(t)^2 - sigma_min^2."""

    name = "VE"

    def __init__(self, sigma_min=0.01, sigma_max=10.0, T=1.0):
        self.sigma_min = check_float(sigma_min, "sigma_min", low=0.0, low_open=True)
        self.sigma_max = check_float(sigma_max, "sigma_max", low=self.sigma_min, low_open=True)
        self.T = check_float(T, "T", low=0.0, low_open=True)

    def sigma(self, t):
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** (self._t(t) / self.T)

    def f(self, t):
        return np.zeros_like(self._t(t))

    def g(self, t):
        return self.sigma(t) * np.sqrt(2.0 * np.log(self.sigma_max / self.sigma_min) / self.T)

    def mean_coeff(self, t):
        return np.ones_like(self._t(t))

    def marginal_var(self, t):
        return self.sigma(t) ** 2 - self.sigma_min ** 2


class VELinear(LinearSDE):
    """Variance exploding with sigma(t) = t, the convention of consistency models:
    f = 0, g(t) = sqrt(2 t), so v(t) = t^2 and X_t = X_0 + t Z."""

    name = "VE (sigma = t)"

    def sigma(self, t):
        return self._t(t)

    def f(self, t):
        return np.zeros_like(self._t(t))

    def g(self, t):
        return np.sqrt(2.0 * self._t(t))

    def mean_coeff(self, t):
        return np.ones_like(self._t(t))

    def marginal_var(self, t):
        return self._t(t) ** 2


@njit(cache=True, parallel=True)
def _em_kernel(x0, fk, gk, hk, seed, keep_path, path, out):
    n, d = x0.shape
    n_steps = fk.shape[0]
    for i in prange(n):
        x = x0[i].copy()
        z = np.empty(d)
        if keep_path:
            path[i, 0] = x
        for k in range(n_steps):
            # step k uses the counter step k + 1: step 0 is kept for initial draws (sample)
            rng._fill_normals(seed, k + 1, i, z)
            sh = np.sqrt(hk[k]) * gk[k]
            for a in range(d):
                x[a] = x[a] - fk[k] * x[a] * hk[k] + sh * z[a]
            if keep_path:
                path[i, k + 1] = x
        out[i] = x


def euler_maruyama(sde, x0, t_end, n_steps, seed, t_start=0.0, return_path=False):
    """Euler-Maruyama for ``dX = -f(t) X dt + g(t) dB`` on a uniform grid.

    Parameters
    ----------
    sde : LinearSDE
    x0 : array_like, shape (n, d)
        Starting points (one row per particle).
    t_end : float
    n_steps : int
    seed : int
        Particle ``i`` at step ``k`` uses counter step ``k + 1`` of stream ``i``.
    t_start : float
    return_path : bool
        Return the whole path, shape (n, n_steps + 1, d), instead of the end points.

    Examples
    --------
    >>> import numpy as np
    >>> x = euler_maruyama(OU(), np.zeros((4, 2)), 1.0, 10, seed=0)
    >>> x.shape
    (4, 2)
    """
    if not isinstance(sde, LinearSDE):
        raise ValueError("sde must be a LinearSDE (OU, VP, VE or SubVP)")
    x0 = check_array(x0, "x0", ndim=2)
    t_start = check_float(t_start, "t_start", low=0.0)
    t_end = check_float(t_end, "t_end", low=t_start, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    seed = check_seed(seed)
    grid = np.linspace(t_start, t_end, n_steps + 1)
    fk = np.ascontiguousarray(sde.f(grid[:-1]), dtype=float)
    gk = np.ascontiguousarray(sde.g(grid[:-1]), dtype=float)
    hk = np.diff(grid)
    n, d = x0.shape
    out = np.empty((n, d))
    path = np.empty((n, n_steps + 1, d)) if return_path else np.empty((1, 1, 1))
    _em_kernel(x0, fk, gk, hk, np.uint64(seed), return_path, path, out)
    return path if return_path else out


def moment_odes(sde, t, rtol=1e-12, atol=1e-14):
    """m(t) and v(t) by integrating m' = -f m, v' = -2 f v + g^2 numerically (SciPy).

    An independent route to the closed forms ``mean_coeff`` and ``marginal_var``.
    """
    from scipy.integrate import solve_ivp

    if not isinstance(sde, LinearSDE):
        raise ValueError("sde must be a LinearSDE")
    t = check_float(t, "t", low=0.0, low_open=True)

    def rhs(r, y):
        f = float(sde.f(r))
        return [-f * y[0], -2.0 * f * y[1] + float(sde.g(r)) ** 2]

    sol = solve_ivp(rhs, (0.0, t), [1.0, 0.0], method="DOP853", rtol=rtol, atol=atol)
    return float(sol.y[0, -1]), float(sol.y[1, -1])


def em_moments(sde, t_end, n_steps):
    """Exact mean coefficient and variance of the Euler-Maruyama chain (not of the SDE).

    The chain x_{k+1} = (1 - f_k h) x_k + g_k sqrt(h) z_k is linear-Gaussian, so its law given
    x_0 is N(M x_0, V I) with M = prod (1 - f_k h) and V from the recursion
    V <- (1 - f_k h)^2 V + g_k^2 h. Comparing (M, V) with the closed form of the SDE gives
    the discretisation bias of a simulation exactly, without sampling.
    """
    if not isinstance(sde, LinearSDE):
        raise ValueError("sde must be a LinearSDE")
    t_end = check_float(t_end, "t_end", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    grid = np.linspace(0.0, t_end, n_steps + 1)
    h = np.diff(grid)
    fk, gk = sde.f(grid[:-1]), sde.g(grid[:-1])
    M, V = 1.0, 0.0
    for k in range(n_steps):
        a = 1.0 - fk[k] * h[k]
        M, V = a * M, a * a * V + gk[k] ** 2 * h[k]
    return float(M), float(V)


def _central_div_laplacian(density, flux, x, h, laplacian=True):
    """Central differences of step h: div(flux)(x) and, optionally, Laplacian(density)(x).

    ``density(y)`` returns shape (n,), ``flux(y)`` shape (n, d); both are evaluated at x +- h e_j.
    Shared by the forward and reversed Fokker-Planck residuals.
    """
    n, d = x.shape
    div = np.zeros(n)
    lap = np.zeros(n)
    p0 = density(x) if laplacian else None
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        div += (flux(x + e)[:, j] - flux(x - e)[:, j]) / (2.0 * h)
        if laplacian:
            lap += (density(x + e) - 2.0 * p0 + density(x - e)) / (h * h)
    return div, lap


def reverse_fokker_planck_residual(sde, mixture, T, t, x, h, score_coeff=1.0, noise=True):
    """Residual of the Fokker-Planck equation of a reversed process, by central differences.

    The forward process ``dX = -f(s) X ds + g(s) dB`` started from ``mixture`` has marginals
    p_s (closed form). Its candidate reversal Y_t, 0 <= t <= T, runs with drift
    ``b(t, y) = f(T - t) y + score_coeff g(T - t)^2 grad log p_{T-t}(y)`` and, when ``noise``,
    diffusion coefficient g(T - t). The function returns, at the points x and the time t,

        d/dt p_{T-t} + div(b p_{T-t}) - (noise) (1/2) g(T - t)^2 Laplacian p_{T-t},

    every derivative a second-order central difference of step h. The time-reversal formula
    (``score_coeff=1``, ``noise=True``) and the probability-flow ODE (``score_coeff=1/2``,
    ``noise=False``) make it vanish, so the residual is then O(h^2); other coefficients leave a
    residual of order one.
    """
    if not isinstance(sde, LinearSDE):
        raise ValueError("sde must be a LinearSDE")
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    T = check_float(T, "T", low=0.0, low_open=True)
    h = check_float(h, "h", low=0.0, low_open=True)
    t = check_float(t, "t", low=h, high=T - h, low_open=True, high_open=True)
    x = check_array(x, "x", ndim=2)
    if x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (n, {mixture.dim}), got {x.shape}")
    score_coeff = check_float(score_coeff, "score_coeff")
    tau = T - t
    p = sde.marginal(mixture, tau)
    f, g2 = float(sde.f(tau)), float(sde.g(tau)) ** 2
    # d/dt p_{T-t} = -(d/dtau) p_tau
    dp_dt = -(sde.marginal(mixture, tau + h).pdf(x) - sde.marginal(mixture, tau - h).pdf(x)) / (2 * h)

    def flux(y):
        return (f * y + score_coeff * g2 * p.score(y)) * p.pdf(y)[:, None]

    div, lap = _central_div_laplacian(p.pdf, flux, x, h, laplacian=noise)
    return dp_dt + div - (0.5 * g2 * lap if noise else 0.0)
