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
from .targets import GaussianMixture, _gaussian_params, _mixture_score

__all__ = ["LinearSDE", "ConstantLinear", "OU", "VP", "VE", "VELinear", "SubVP", "CVP",
           "euler_maruyama", "moment_odes", "em_moments", "reverse_fokker_planck_residual",
           "ou_general_law", "ddpm_chain_law", "ei_coefficients", "langevin_fp_residual",
           "langevin_em"]


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


class CVP(_BetaSchedule):
    """Contractive VP (CVP): f = -beta/2 (the drift +beta x/2 pushes away from 0), g = sqrt(beta);
    m(t) = exp(int beta / 2), v(t) = exp(int beta) - 1.

    Examples
    --------
    >>> p = CVP(beta_min=0.1, beta_max=2.0, T=1.0)
    >>> bool(abs(p.marginal_var(1.0) - np.expm1(1.05)) < 1e-12)
    True
    """

    name = "CVP"

    def f(self, t):
        return -0.5 * self.beta(t)

    def g(self, t):
        return np.sqrt(self.beta(t))

    def mean_coeff(self, t):
        return np.exp(0.5 * self.int_beta(t))

    def marginal_var(self, t):
        return np.expm1(self.int_beta(t))


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
    ``b(t, y) = f(T - t) y + score_coeff g(T - t)^2 grad log p_{T-t}(y)`` and diffusion
    coefficient ``lam g(T - t)``, where ``lam`` is 1 for ``noise=True``, 0 for ``noise=False``,
    or the given number ``noise >= 0``. The function returns, at the points x and the time t,

        d/dt p_{T-t} + div(b p_{T-t}) - (1/2) lam^2 g(T - t)^2 Laplacian p_{T-t},

    every derivative a second-order central difference of step h. The reversals of the family
    ``score_coeff = (1 + lam^2) / 2`` make it vanish (lam = 1: the time-reversal formula; lam = 0:
    the probability-flow ODE), so the residual is then O(h^2); other coefficients leave a
    residual of order one.

    Examples
    --------
    >>> import numpy as np, companion as cp
    >>> x = np.array([[-1.0], [0.3], [1.2]])
    >>> r = reverse_fokker_planck_residual(OU(), cp.targets.bimodal(), 2.0, 1.0, x, 1e-3,
    ...                                   score_coeff=1.5, noise=np.sqrt(2.0))
    >>> bool(np.abs(r).max() < 1e-5)
    True
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
    if isinstance(noise, (bool, np.bool_)):
        lam = 1.0 if noise else 0.0
    else:
        lam = check_float(noise, "noise", low=0.0)
    tau = T - t
    p = sde.marginal(mixture, tau)
    f, g2 = float(sde.f(tau)), float(sde.g(tau)) ** 2
    # d/dt p_{T-t} = -(d/dtau) p_tau
    dp_dt = -(sde.marginal(mixture, tau + h).pdf(x) - sde.marginal(mixture, tau - h).pdf(x)) / (2 * h)

    def flux(y):
        return (f * y + score_coeff * g2 * p.score(y)) * p.pdf(y)[:, None]

    div, lap = _central_div_laplacian(p.pdf, flux, x, h, laplacian=lam > 0)
    return dp_dt + div - (0.5 * lam * lam * g2 * lap if lam > 0 else 0.0)


def ou_general_law(x, t, theta, mu, sigma):
    """Law of X_t given X_0 = x for dX = theta (mu - X) dt + sigma dB (theta > 0).

    Returns the mean mu + (x - mu) e^{-theta t} and the variance per coordinate
    sigma^2 (1 - e^{-2 theta t}) / (2 theta); as t -> infinity, N(mu, sigma^2 / (2 theta)).

    Examples
    --------
    >>> m, v = ou_general_law(1.0, 50.0, theta=2.0, mu=0.5, sigma=1.0)
    >>> round(float(m), 12), round(float(v), 12)
    (0.5, 0.25)
    """
    x = check_array(x, "x")
    t = check_float(t, "t", low=0.0)
    theta = check_float(theta, "theta", low=0.0, low_open=True)
    mu = check_float(mu, "mu")
    sigma = check_float(sigma, "sigma", low=0.0)
    mean = mu + (x - mu) * np.exp(-theta * t)
    var = sigma ** 2 * -np.expm1(-2.0 * theta * t) / (2.0 * theta)
    return mean, float(var)


def ddpm_chain_law(sde, n_steps):
    """Law of the DDPM chain x_i = sqrt(1 - b_i) x_{i-1} + sqrt(b_i) z_i, b_i = beta(i T/N) T/N.

    Given x_0 the output x_N is N(M x_0, V I) with M = prod sqrt(1 - b_i) and
    V = 1 - prod (1 - b_i) (the products in log space). As N grows, (M, V) tends to the VP
    marginal (``mean_coeff(T)``, ``marginal_var(T)``) with an error of order 1/N.

    Examples
    --------
    >>> M, V = ddpm_chain_law(VP(0.1, 20.0, 1.0), 1000)
    >>> bool(abs(M**2 + V - 1.0) < 1e-12)
    True
    """
    if not isinstance(sde, VP):
        raise ValueError("sde must be a VP process")
    n_steps = check_int(n_steps, "n_steps", low=1)
    dt = sde.T / n_steps
    b = sde.beta(dt * np.arange(1, n_steps + 1)) * dt
    if np.any(b >= 1.0):
        raise ValueError("n_steps too small: some b_i = beta(t_i) T / N is >= 1")
    log_prod = float(np.sum(np.log1p(-b)))
    return float(np.exp(0.5 * log_prod)), float(-np.expm1(log_prod))


def ei_coefficients(sde, T, t0, t1):
    """Exponential-integrator coefficients of one reverse step [t0, t1] with the score frozen.

    The reverse dynamics dY = (f(T - t) Y + g(T - t)^2 s) dt + g(T - t) dB with s fixed are linear;
    with Psi(a, b) = exp(int_a^b f(T - w) dw) = m(T - b) / m(T - a) (m = ``mean_coeff``),

        Y_{t1} = Psi(t0, t1) Y_{t0} + W s + N(0, V I),
        W = int_{t0}^{t1} Psi(u, t1) g(T - u)^2 du,   V = int_{t0}^{t1} Psi(u, t1)^2 g(T - u)^2 du.

    Returns (Psi(t0, t1), W, V), the integrals by adaptive quadrature (relative error ~1e-12).

    Examples
    --------
    >>> P, W, V = ei_coefficients(OU(), 2.0, 0.0, 0.5)        # OU: e^h, 2 (e^h - 1), e^{2h} - 1
    >>> bool(np.allclose([P, W, V], [np.exp(0.5), 2 * np.expm1(0.5), np.expm1(1.0)], rtol=1e-11))
    True
    """
    from scipy.integrate import quad

    if not isinstance(sde, LinearSDE):
        raise ValueError("sde must be a LinearSDE")
    T = check_float(T, "T", low=0.0, low_open=True)
    t0 = check_float(t0, "t0", low=0.0)
    t1 = check_float(t1, "t1", low=t0, high=T, low_open=True)

    def psi(u):
        return float(sde.mean_coeff(T - t1) / sde.mean_coeff(T - u))

    def g2(u):
        return float(sde.g(T - u)) ** 2

    kw = dict(epsabs=1e-15, epsrel=1e-13, limit=200)
    W = quad(lambda u: psi(u) * g2(u), t0, t1, **kw)[0]
    V = quad(lambda u: psi(u) ** 2 * g2(u), t0, t1, **kw)[0]
    return psi(t0), float(W), float(V)


def langevin_fp_residual(mixture, sigma, x, h, exponent=2.0):
    """Stationary Fokker-Planck residual of overdamped Langevin dynamics for a candidate law.

    The dynamics are dX = -grad U dt + sigma dB with U = -(sigma^2 / 2) log p, p = ``mixture``,
    so that -grad U = (sigma^2 / 2) grad log p. For the candidate density
    rho = exp(-exponent U / sigma^2) (unnormalised) the function returns, at the points x,

        div(grad U rho) + (sigma^2 / 2) Laplacian rho,

    by central differences of step h. The invariant law exp(-2U / sigma^2) (``exponent=2``, which
    is p itself) makes it O(h^2); any other exponent leaves a residual of order one.
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    h = check_float(h, "h", low=0.0, low_open=True)
    exponent = check_float(exponent, "exponent", low=0.0, low_open=True)
    x = check_array(x, "x", ndim=2)
    if x.shape[1] != mixture.dim:
        raise ValueError(f"x must have shape (n, {mixture.dim}), got {x.shape}")
    s2 = sigma * sigma

    def rho(y):                                   # exp(-exponent U / sigma^2), U from log p
        return np.exp(0.5 * exponent * mixture.logpdf(y))

    def flux(y):                                  # grad U rho, grad U from the score
        return -0.5 * s2 * mixture.score(y) * rho(y)[:, None]

    div, lap = _central_div_laplacian(rho, flux, x, h)
    return div + 0.5 * s2 * lap


@njit(cache=True, parallel=True)
def _langevin_kernel(x0, log_w, centers, prec, logdet, drift_scale, noise_scale, n_steps, seed, out):
    n, d = x0.shape
    K = centers.shape[0]
    for i in prange(n):
        x = x0[i].copy()
        z = np.empty(d)
        score = np.empty(d)
        lk = np.empty(K)
        pdiff = np.empty((K, d))
        for k in range(n_steps):
            _mixture_score(x, log_w, centers, prec, logdet, lk, pdiff, score)
            rng._fill_normals(seed, k + 1, i, z)
            for a in range(d):
                out[i, a] = x[a] + drift_scale * score[a] + noise_scale * z[a]
            for a in range(d):
                x[a] = out[i, a]
        out[i] = x


def langevin_em(mixture, x0, sigma, h, n_steps, seed):
    """Euler-Maruyama for dX = (sigma^2 / 2) grad log p(X) dt + sigma dB, p = ``mixture``.

    Step k: x <- x + h (sigma^2 / 2) s(x) + sigma sqrt(h) z, with the mixture's exact score s and
    z the counter-based draws of particle i at counter step k + 1 (``rng.normals(n, d, seed,
    step=k + 1)[i]``), in a parallel Numba kernel.

    Examples
    --------
    >>> from companion import targets
    >>> langevin_em(targets.bimodal(), np.zeros((5, 1)), 1.0, 0.01, 3, seed=0).shape
    (5, 1)
    """
    if not isinstance(mixture, GaussianMixture):
        raise ValueError("mixture must be a GaussianMixture")
    x = check_array(x0, "x0", ndim=2)
    if x.shape[1] != mixture.dim:
        raise ValueError(f"x0 must have shape (n, {mixture.dim}), got {x.shape}")
    sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
    h = check_float(h, "h", low=0.0, low_open=True)
    n_steps = check_int(n_steps, "n_steps", low=1)
    seed = check_seed(seed)
    params = _gaussian_params(mixture.covs)
    if params is None:
        raise ValueError("mixture must have a density (positive definite covariances)")
    with np.errstate(divide="ignore"):
        log_w = np.log(mixture.weights)
    out = np.empty_like(x)
    _langevin_kernel(np.ascontiguousarray(x), log_w, mixture.means, params[0], params[1],
                     0.5 * sigma * sigma * h, sigma * np.sqrt(h), n_steps, np.uint64(seed), out)
    return out
